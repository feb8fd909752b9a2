// Module init: the only module-level N-API code. Everything else lives in napi/*_wrap.cc.
#include "napi/errors.h"
#include "napi/wraps.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new brook::napi::AddonData());
  brook::napi::InitErrors(env, exports);
  brook::napi::InitCrc(env, exports);
  brook::napi::InitCodec(env, exports);
  brook::napi::InitLog(env, exports);
  return exports;
}

NODE_API_MODULE(brook_native, Init)
