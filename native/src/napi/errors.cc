#include "napi/errors.h"

#include "napi/wraps.h"

namespace brook::napi {
namespace {

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "setErrorClass expects a constructor");
  Data(env)->error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

}  // namespace

void InitErrors(Napi::Env env, Napi::Object exports) { ExportFunction(env, exports, "setErrorClass", SetErrorClass); }

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message, int sys_errno,
                      const std::string& path) {
  Napi::Object obj;
  AddonData* data = Data(env);
  if (!data->error_class.IsEmpty()) {  // setErrorClass has run (addon.ts does it at load)
    obj = data->error_class.New({Napi::String::New(env, message), Napi::String::New(env, code)});
  } else {
    obj = Napi::Error::New(env, message).Value();
    obj.Set("code", code);
  }
  if (sys_errno != 0) obj.Set("errno", sys_errno);
  if (!path.empty()) obj.Set("path", path);
  return Napi::Error(env, obj);
}

Napi::Error MakeError(Napi::Env env, const brook::Error& e) {
  return MakeError(env, e.code(), e.what(), e.sys_errno(), e.path());
}

}  // namespace brook::napi
