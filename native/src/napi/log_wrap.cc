#include "napi/wraps.h"
namespace brook::napi {
void InitLog(Napi::Env, Napi::Object) {}
}
