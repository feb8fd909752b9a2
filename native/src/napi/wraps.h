// The N-API surface of the addon. Only files under native/src/napi/ include napi.h; each InitX
// attaches one group of exports to the module object.
#pragma once
#include <napi.h>

namespace brook::napi {
void InitCrc(Napi::Env env, Napi::Object exports);    // crc_wrap.cc
void InitCodec(Napi::Env env, Napi::Object exports);  // codec_wrap.cc
void InitLog(Napi::Env env, Napi::Object exports);    // log_wrap.cc

// Per addon instance (worker threads load their own copy): the JS constructors C++ needs. Created
// by addon.cc before any Init runs; filled by InitErrors (setErrorClass) and InitLog (FileRef).
struct AddonData {
  Napi::FunctionReference error_class;  // BrookNativeError (src/native/errors.ts)
  Napi::FunctionReference file_ref;     // FileRef (log_wrap.cc)
};
inline AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// exports[name] = fn, as a JS function called `name`.
inline void ExportFunction(Napi::Env env, Napi::Object exports, const char* name,
                           Napi::Value (*fn)(const Napi::CallbackInfo&)) {
  exports.Set(name, Napi::Function::New(env, fn, name));
}
}  // namespace brook::napi
