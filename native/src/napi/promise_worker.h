// A libuv-pool job that settles a Promise: the one async shape of the addon (flush, compaction,
// sendfile in log_wrap.cc; the *Async codec calls in codec_wrap.cc).
//
// Threads: Run() on a libuv worker, which must not touch JS values (copy inputs in the
// constructor); Settle() and Failed() on the JS thread. A brook::Error thrown by Run() keeps its
// code, errno and path across the thread and rejects the promise as a BrookNativeError; any other
// exception becomes IO (out of memory says so).
#pragma once
#include <napi.h>

#include <new>
#include <optional>

#include "napi/errors.h"

namespace brook::napi {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;                         // worker thread
  virtual Napi::Value Settle(Napi::Env env) = 0;  // JS thread, after Run succeeded
  virtual void Failed() {}                        // JS thread, after Run threw

  void Execute() final {
    try {
      Run();
    } catch (const brook::Error& e) {
      error_.emplace(e);
    } catch (const std::bad_alloc&) {
      error_.emplace("IO", "out of memory");
    } catch (const std::exception& e) {
      error_.emplace("IO", e.what());
    }
    if (error_) SetError(error_->what());
  }
  void OnOK() final {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(Settle(env));
    } catch (const brook::Error& e) {
      deferred_.Reject(MakeError(env, e).Value());
    }
  }
  void OnError(const Napi::Error& e) final {
    try {
      Failed();
    } catch (const std::exception&) {
      // the original error is the one worth reporting
    }
    deferred_.Reject(error_ ? MakeError(Env(), *error_).Value() : e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::optional<brook::Error> error_;
};

// Queues w (an AsyncWorker deletes itself when done) and returns its promise.
inline Napi::Promise Start(PromiseWorker* w) {
  auto p = w->Promise();
  w->Queue();
  return p;
}

// A promise already rejected with e, for a call that fails before it queues any work.
inline Napi::Promise Rejected(Napi::Env env, const brook::Error& e) {
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(MakeError(env, e).Value());
  return d.Promise();
}

}  // namespace brook::napi
