#include "napi/wraps.h"
#include "record/crc32c.h"

namespace brook::napi {
namespace {
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  auto buf = info[0].As<Napi::Uint8Array>();
  uint32_t init = info.Length() > 1 ? info[1].As<Napi::Number>().Uint32Value() : 0;
  return Napi::Number::New(info.Env(), record::Crc32c(buf.Data(), buf.ByteLength(), init));
}
}  // namespace

void InitCrc(Napi::Env env, Napi::Object exports) { exports.Set("crc32c", Napi::Function::New(env, Crc32c)); }
}  // namespace brook::napi
