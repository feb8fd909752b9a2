// Errors cross into JavaScript as instances of the JS class BrookNativeError (src/native/errors.ts):
// JS defines the class and hands its constructor to the addon once at load (setErrorClass); C++
// constructs it, so every native failure arrives with a stable `code`, plus `errno` and `path`
// where the operating system was the cause.
#pragma once
#include <napi.h>

#include "error.h"

namespace brook::napi {

// Registers `setErrorClass(ctor)` on the exports.
void InitErrors(Napi::Env env, Napi::Object exports);

// Builds a BrookNativeError (a plain Error with the same properties before setErrorClass is called).
Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message, int sys_errno = 0,
                      const std::string& path = {});
Napi::Error MakeError(Napi::Env env, const brook::Error& e);

// Runs fn and converts a thrown brook::Error (or std::exception) into a JS exception.
template <typename F>
auto Guard(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const brook::Error& e) {
    throw MakeError(env, e);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw MakeError(env, "IO", "out of memory");
  } catch (const std::exception& e) {
    throw MakeError(env, "IO", e.what());
  }
}

}  // namespace brook::napi
