#include "napi/wraps.h"
namespace brook::napi {
void InitCodec(Napi::Env, Napi::Object) {}
}
