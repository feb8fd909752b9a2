// CRC-32C exports. All synchronous on the calling thread; the input bytes are only read.
//   crc32c(buf: Uint8Array, initial: number): number          dispatched implementation
//   crc32cPortable(buf: Uint8Array, initial: number): number  byte-at-a-time reference
//   crc32cImplementation(): string                            name chosen at load
//   crc32cImplementations(): string[]                         every one this CPU supports
//   crc32cBench(buf, iterations, name): number                seconds for `iterations` passes of
//                                                             one implementation, timed in C++ so
//                                                             small buffers are not dominated by
//                                                             the JS->C++ call
#include <chrono>
#include <cstring>

#include "napi/args.h"
#include "napi/errors.h"
#include "napi/wraps.h"
#include "record/crc32c.h"
#include "record/crc32c_impl.h"

namespace brook::napi {
namespace {

uint32_t InitialArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Uint32Value() : 0;
}

Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  auto buf = BytesArg(info, 0);
  return Napi::Number::New(info.Env(), record::Crc32c(buf.Data(), buf.ByteLength(), InitialArg(info, 1)));
}

Napi::Value Crc32cPortable(const Napi::CallbackInfo& info) {
  auto buf = BytesArg(info, 0);
  return Napi::Number::New(info.Env(), record::Crc32cPortable(buf.Data(), buf.ByteLength(), InitialArg(info, 1)));
}

Napi::Value Crc32cImplementation(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), record::Crc32cImplementation());
}

Napi::Value Crc32cImplementations(const Napi::CallbackInfo& info) {
  size_t n = 0;
  const auto* impls = record::detail::Crc32cImpls(&n);
  auto out = Napi::Array::New(info.Env());
  for (size_t i = 0; i < n; i++)
    if (impls[i].supported) out.Set(out.Length(), impls[i].name);
  return out;
}

Napi::Value Crc32cBench(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buf = BytesArg(info, 0);
  const int64_t iterations = info[1].As<Napi::Number>().Int64Value();
  const std::string name = info[2].As<Napi::String>().Utf8Value();
  size_t n = 0;
  const auto* impls = record::detail::Crc32cImpls(&n);
  const record::detail::Crc32cImpl* impl = nullptr;
  for (size_t i = 0; i < n; i++)
    if (impls[i].supported && name == impls[i].name) impl = &impls[i];
  if (impl == nullptr) throw MakeError(env, "INVALID_ARGUMENT", "no supported CRC-32C implementation named " + name);
  const auto start = std::chrono::steady_clock::now();
  uint32_t crc = 0;
  // Chain the results so the compiler cannot drop or overlap the calls.
  for (int64_t i = 0; i < iterations; i++) crc = impl->fn(buf.Data(), buf.ByteLength(), crc);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  asm volatile("" : : "r"(crc));  // keep the result alive
  return Napi::Number::New(env, seconds);
}

}  // namespace

void InitCrc(Napi::Env env, Napi::Object exports) {
  ExportFunction(env, exports, "crc32c", Crc32c);
  ExportFunction(env, exports, "crc32cPortable", Crc32cPortable);
  ExportFunction(env, exports, "crc32cImplementation", Crc32cImplementation);
  ExportFunction(env, exports, "crc32cImplementations", Crc32cImplementations);
  ExportFunction(env, exports, "crc32cBench", Crc32cBench);
}

}  // namespace brook::napi
