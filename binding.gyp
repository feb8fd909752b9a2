{
  # The production build (npm install). native/CMakeLists.txt builds the same sources for
  # development; test/native/build-sources.test.ts fails if the two lists drift apart.
  "targets": [
    {
      "target_name": "brook_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/napi/errors.cc",
        "native/src/napi/crc_wrap.cc",
        "native/src/napi/codec_wrap.cc",
        "native/src/napi/log_wrap.cc",
        "native/src/record/crc32c.cc",
        "native/src/record/batch.cc",
        "native/src/record/records.cc",
        "native/src/compress/codec.cc",
        "native/src/compress/gzip.cc",
        "native/src/compress/snappy.cc",
        "native/src/compress/lz4.cc",
        "native/src/compress/zstd.cc",
        "native/src/storage/file.cc",
        "native/src/storage/offset_index.cc",
        "native/src/storage/time_index.cc",
        "native/src/storage/segment.cc",
        "native/src/storage/log.cc",
        "native/src/storage/cleaner.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/src"
      ],
      "defines": [ "NAPI_VERSION=9", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS" ],
      "cflags!": [ "-fno-exceptions", "-O2" ],
      "cflags_cc!": [ "-fno-exceptions", "-std=gnu++17", "-O2" ],
      "cflags_cc": [ "-std=c++20", "-O3", "-fvisibility=hidden", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers" ],
      "cflags": [ "-O3", "-fvisibility=hidden" ],
      "libraries": [ "<!@(pkg-config --libs zlib libzstd liblz4 snappy)" ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "OTHER_CFLAGS": [ "-O3" ]
      }
    }
  ]
}
