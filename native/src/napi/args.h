// Argument checks shared by the wrappers that check their arguments (crc_wrap.cc, codec_wrap.cc).
// A wrong call from JS becomes an INVALID_ARGUMENT BrookNativeError, never a crash. log_wrap.cc
// trusts its facade instead and needs none of this.
#pragma once
#include <napi.h>

#include <string>

#include "napi/errors.h"

namespace brook::napi {

inline Napi::Error ArgError(Napi::Env env, const std::string& what) { return MakeError(env, "INVALID_ARGUMENT", what); }

// info[i] as a typed array of `type`, else ArgError("expected <what>").
template <typename T>
T TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    throw ArgError(info.Env(), std::string("expected ") + what);
  return info[i].As<T>();
}

// info[i] as a Uint8Array (Buffers are Uint8Arrays), else ArgError("expected a Uint8Array").
inline Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t i) {
  return TypedArg<Napi::Uint8Array>(info, i, napi_uint8_array, "a Uint8Array");
}

}  // namespace brook::napi
