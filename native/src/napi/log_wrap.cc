// N-API surface of the storage core: the native `Log` class over storage::Log, the FileRef handles
// its read() hands out with each file slice, plus `sendfile`, `preadWrite`, `readSlice` and the
// benchmark helper `benchPlainWrite`. src/storage/partition-log.ts is the
// typed facade; it validates every argument, so this layer trusts types and ranges
// (better-sqlite3's split) and only converts values and errors.
//
// Offsets, positions and timestamps cross as JS numbers (doubles): exact up to 2^53, which a
// partition cannot reach (2^53 records at 10M records/s is 28 years), and a double crosses N-API
// several times faster than a BigInt.
//
// Threads: every method of Log runs on the JS thread and returns when its work is done, except
// flush(), which writes pending index entries on the JS thread and does the fsyncs on a libuv
// worker, and compact(), which plans on the JS thread, reads/maps/writes/fsyncs on a libuv worker
// and swaps the result in on the JS thread (storage/cleaner.h); sendfile/preadWrite run entirely
// on a libuv worker.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <optional>

#include "napi/errors.h"
#include "napi/promise_worker.h"
#include "napi/wraps.h"
#include "storage/file.h"
#include "storage/log.h"

namespace brook::napi {
namespace {

using storage::Log;
using storage::LogConfig;

int64_t ToInt64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2e18) return INT64_MAX;  // Infinity: "never"
  if (d <= -9.2e18) return INT64_MIN;
  return int64_t(d);
}

int64_t IntField(const Napi::Object& o, const char* name, int64_t def) {
  Napi::Value v = o.Get(name);
  return v.IsNumber() ? ToInt64(v.As<Napi::Number>().DoubleValue()) : def;
}

LogConfig ConfigFrom(const Napi::Object& o) {
  LogConfig c;
  c.segment_bytes = IntField(o, "segmentBytes", c.segment_bytes);
  c.segment_ms = IntField(o, "segmentMs", c.segment_ms);
  c.segment_jitter_ms = IntField(o, "segmentJitterMs", c.segment_jitter_ms);
  c.index_interval_bytes = IntField(o, "indexIntervalBytes", c.index_interval_bytes);
  c.segment_index_bytes = IntField(o, "segmentIndexBytes", c.segment_index_bytes);
  c.max_message_bytes = IntField(o, "maxMessageBytes", c.max_message_bytes);
  Napi::Value ts = o.Get("messageTimestampType");
  c.log_append_time = ts.IsString() && ts.As<Napi::String>().Utf8Value() == "LogAppendTime";
  c.flush_messages = IntField(o, "flushMessages", c.flush_messages);
  c.retention_ms = IntField(o, "retentionMs", c.retention_ms);
  c.retention_bytes = IntField(o, "retentionBytes", c.retention_bytes);
  c.file_delete_delay_ms = IntField(o, "fileDeleteDelayMs", c.file_delete_delay_ms);
  Napi::Value policy = o.Get("cleanupPolicy");
  if (policy.IsString()) {
    const std::string p = policy.As<Napi::String>().Utf8Value();
    c.cleanup_compact = p.find("compact") != std::string::npos;
    c.cleanup_delete = p.find("delete") != std::string::npos;
  }
  c.delete_retention_ms = IntField(o, "deleteRetentionMs", c.delete_retention_ms);
  c.min_compaction_lag_ms = IntField(o, "minCompactionLagMs", c.min_compaction_lag_ms);
  c.max_compaction_lag_ms = IntField(o, "maxCompactionLagMs", c.max_compaction_lag_ms);
  Napi::Value ratio = o.Get("minCleanableDirtyRatio");
  if (ratio.IsNumber()) c.min_cleanable_dirty_ratio = ratio.As<Napi::Number>().DoubleValue();
  c.timestamp_before_max_ms = IntField(o, "messageTimestampBeforeMaxMs", c.timestamp_before_max_ms);
  c.timestamp_after_max_ms = IntField(o, "messageTimestampAfterMaxMs", c.timestamp_after_max_ms);
  return c;
}

Napi::Object StatsObject(Napi::Env env, const storage::CleanStats& s, double duration_ms) {
  auto o = Napi::Object::New(env);
  if (!s.skipped.empty()) o.Set("skipped", s.skipped);
  o.Set("dirtyRatio", s.dirty_ratio);
  o.Set("cleanBytes", double(s.clean_bytes));
  o.Set("dirtyBytes", double(s.dirty_bytes));
  o.Set("firstDirty", double(s.first_dirty));
  o.Set("cleanedUpTo", double(s.cleaned_up_to));
  o.Set("segmentsMapped", s.segments_mapped);
  o.Set("mapKeys", double(s.map_keys));
  o.Set("mapMemory", double(s.map_memory));
  o.Set("bytesRead", double(s.bytes_read));
  o.Set("bytesBefore", double(s.bytes_before));
  o.Set("bytesAfter", double(s.bytes_after));
  o.Set("recordsRead", double(s.records_read));
  o.Set("recordsDropped", double(s.records_dropped));
  o.Set("tombstonesDropped", double(s.tombstones_dropped));
  o.Set("abortedRecordsDropped", double(s.aborted_records_dropped));
  o.Set("batchesRebuilt", double(s.batches_rebuilt));
  o.Set("batchesDropped", double(s.batches_dropped));
  o.Set("emptyBatchesKept", double(s.empty_batches_kept));
  o.Set("segmentsRewritten", s.segments_rewritten);
  o.Set("segmentsRemoved", s.segments_removed);
  o.Set("durationMs", duration_ms);
  return o;
}

double SteadyNowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
int64_t Int(const Napi::CallbackInfo& info, size_t i) { return ToInt64(Num(info, i)); }

// FileRef: a fetch slice's hold on its segment file. It shares ownership of the storage::File, so
// the descriptor stays open, and its number cannot be reused for another file, for as long as the
// slice is in flight, whatever retention, truncation, compaction or topic deletion does to the
// segment meanwhile (file.h). JS calls release() once the slice is sent or its connection died;
// the GC finalizer (the destructor) is the backstop for slices dropped on other paths. Only read()
// creates them (the class is not exported).
class FileRefWrap : public Napi::ObjectWrap<FileRefWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FileRef",
                       {
                           InstanceMethod<&FileRefWrap::Release>("release"),
                           InstanceAccessor<&FileRefWrap::Released>("released"),
                       });
  }

  static Napi::Object New(Napi::Env env, const std::shared_ptr<storage::File>& file) {
    auto self = Data(env)->file_ref.New({});
    Unwrap(self)->file_ = file;
    return self;
  }

  // The file held by `v`: nullptr when v is not a FileRef; CLOSED when it was released.
  static std::shared_ptr<storage::File> From(Napi::Env env, Napi::Value v) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(env)->file_ref.Value())) return nullptr;
    auto file = Unwrap(v.As<Napi::Object>())->file_;
    if (!file) throw brook::Error("CLOSED", "the slice's file was released");
    return file;
  }

  FileRefWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FileRefWrap>(info) {}

 private:
  Napi::Value Release(const Napi::CallbackInfo& info) {
    file_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Released(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !file_); }

  std::shared_ptr<storage::File> file_;
};

class LogWrap : public Napi::ObjectWrap<LogWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Log",
                       {
                           InstanceMethod<&LogWrap::Append>("append"),
                           InstanceMethod<&LogWrap::AppendAsFollower>("appendAsFollower"),
                           InstanceMethod<&LogWrap::Read>("read"),
                           InstanceMethod<&LogWrap::ReadBuffer>("readBuffer"),
                           InstanceMethod<&LogWrap::OffsetForTimestamp>("offsetForTimestamp"),
                           InstanceMethod<&LogWrap::MaxTimestamp>("maxTimestamp"),
                           InstanceMethod<&LogWrap::BatchHeaders>("batchHeaders"),
                           InstanceMethod<&LogWrap::Flush>("flush"),
                           InstanceMethod<&LogWrap::TruncateTo>("truncateTo"),
                           InstanceMethod<&LogWrap::DeleteRecordsBefore>("deleteRecordsBefore"),
                           InstanceMethod<&LogWrap::ApplyRetention>("applyRetention"),
                           InstanceMethod<&LogWrap::UpdateConfig>("updateConfig"),
                           InstanceMethod<&LogWrap::Compact>("compact"),
                           InstanceMethod<&LogWrap::CancelCompaction>("cancelCompaction"),
                           InstanceMethod<&LogWrap::Cleanable>("cleanable"),
                           InstanceMethod<&LogWrap::Stats>("stats"),
                           InstanceMethod<&LogWrap::LogEndOffset>("logEndOffset"),
                           InstanceMethod<&LogWrap::LogStartOffset>("logStartOffset"),
                           InstanceMethod<&LogWrap::Close>("close"),
                           InstanceMethod<&LogWrap::Delete>("delete"),
                       });
  }

  // new Log(dir, config, now, results: Float64Array(4)): opens or recovers the log on the JS thread
  // (recovery may read whole segments). `results` receives each append's numbers, so an append
  // allocates no JS object in C++.
  LogWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LogWrap>(info) {
    Napi::Env env = info.Env();
    const std::string dir = info[0].As<Napi::String>().Utf8Value();
    const LogConfig cfg = ConfigFrom(info[1].As<Napi::Object>());
    const int64_t now = Int(info, 2);
    auto results = info[3].As<Napi::Float64Array>();
    results_ = results.Data();
    results_ref_ = Napi::Persistent(results);
    log_ = Guard(env, [&] { return Log::Open(dir, cfg, now); });
  }

 private:
  // append(buffer, leaderEpoch, now, internal) -> flushDue: boolean; results = [base, last,
  // appendTime, logAppendTime]. REWRITES buffer in place (offsets, leader epoch; CRC with
  // LogAppendTime): the broker owns the request buffer. `internal` lets the broker's own control
  // batches and sequence-less transactional batches through (Log::Append). On return the batches
  // are written (page cache) and visible.
  Napi::Value Append(const Napi::CallbackInfo& info) {
    auto buf = info[0].As<Napi::Uint8Array>();
    const int32_t epoch = int32_t(Int(info, 1));
    const int64_t now = Int(info, 2);
    const bool internal = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
    auto r = Guard(info.Env(), [&] { return log_->Append(buf.Data(), buf.ByteLength(), epoch, now, internal); });
    return AppendResults(info.Env(), r);
  }

  // An append's numbers into results_ (the constructor's array); flush_due as the return value.
  Napi::Value AppendResults(Napi::Env env, const storage::AppendResult& r) {
    results_[0] = double(r.base_offset);
    results_[1] = double(r.last_offset);
    results_[2] = double(r.append_time);
    results_[3] = double(r.log_append_time);
    return Napi::Boolean::New(env, r.flush_due);
  }

  // appendAsFollower(buffer, now) -> flushDue: boolean; results as append's (logAppendTime -1).
  // Writes the leader's batches with their own offsets and epochs; the buffer is only read, and
  // not kept. On return the batches are written (page cache) and visible.
  Napi::Value AppendAsFollower(const Napi::CallbackInfo& info) {
    auto buf = info[0].As<Napi::Uint8Array>();
    const int64_t now = Int(info, 1);
    auto r = Guard(info.Env(), [&] { return log_->AppendAsFollower(buf.Data(), buf.ByteLength(), now); });
    return AppendResults(info.Env(), r);
  }

  // read(offset, maxBytes, upTo) -> { ranges: Float64Array [fd, position, length]*, files: FileRef[] }:
  // file slices, no copy; files[i] holds slice i's file open until it is released (or collected).
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto slices = Guard(env, [&] { return log_->Read(Int(info, 0), Int(info, 1), Int(info, 2)); });
    auto ranges = Napi::Float64Array::New(env, slices.size() * 3);
    auto files = Napi::Array::New(env, slices.size());
    for (size_t i = 0; i < slices.size(); i++) {
      ranges[i * 3] = slices[i].file->fd();
      ranges[i * 3 + 1] = double(slices[i].position);
      ranges[i * 3 + 2] = double(slices[i].length);
      files[uint32_t(i)] = FileRefWrap::New(env, slices[i].file);
    }
    auto out = Napi::Object::New(env);
    out.Set("ranges", ranges);
    out.Set("files", files);
    return out;
  }

  // readBuffer(offset, maxBytes, upTo) -> Buffer: the same bytes as read(), copied with pread into
  // a new Buffer that JS owns.
  Napi::Value ReadBuffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Guard(env, [&]() -> Napi::Value {
      auto slices = log_->Read(Int(info, 0), Int(info, 1), Int(info, 2));
      size_t n = 0;
      for (auto& s : slices) n += size_t(s.length);
      auto out = Napi::Buffer<uint8_t>::New(env, n);
      Log::CopySlices(slices, out.Data());
      return out;
    });
  }

  static Napi::Value Pair(Napi::Env env, const std::optional<storage::TimestampOffset>& r) {
    if (!r) return env.Null();
    auto a = Napi::Array::New(env, 2);
    a[uint32_t(0)] = double(r->offset);
    a[uint32_t(1)] = double(r->timestamp);
    return a;
  }
  // offsetForTimestamp(ts) -> [offset, timestamp] | null (reads headers, and the records of one
  // uncompressed batch).
  Napi::Value OffsetForTimestamp(const Napi::CallbackInfo& info) {
    return Pair(info.Env(), Guard(info.Env(), [&] { return log_->OffsetForTimestamp(Int(info, 0)); }));
  }
  Napi::Value MaxTimestamp(const Napi::CallbackInfo& info) {
    return Pair(info.Env(), Guard(info.Env(), [&] { return log_->MaxTimestamp(); }));
  }

  // batchHeaders(fromOffset, maxBatches) -> array of header objects.
  Napi::Value BatchHeaders(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto headers = Guard(env, [&] { return log_->BatchHeaders(Int(info, 0), size_t(Int(info, 1))); });
    auto arr = Napi::Array::New(env, headers.size());
    for (size_t i = 0; i < headers.size(); i++) {
      const auto& h = headers[i];
      auto o = Napi::Object::New(env);
      o.Set("baseOffset", double(h.base_offset));
      o.Set("lastOffset", double(h.last_offset));
      o.Set("producerId", double(h.producer_id));
      o.Set("producerEpoch", h.producer_epoch);
      o.Set("baseSequence", h.base_sequence);
      o.Set("recordsCount", h.records_count);
      o.Set("baseTimestamp", double(h.base_timestamp));
      o.Set("maxTimestamp", double(h.max_timestamp));
      o.Set("leaderEpoch", h.leader_epoch);
      o.Set("attributes", h.attributes);
      o.Set("isTransactional", bool(h.attributes & record::kTransactionalBit));
      o.Set("isControl", bool(h.attributes & record::kControlBit));
      o.Set("logAppendTime", bool(h.attributes & record::kTimestampTypeBit));
      o.Set("sizeInBytes", h.size);
      arr[uint32_t(i)] = o;
    }
    return arr;
  }

  class FlushWorker : public PromiseWorker {
   public:
    FlushWorker(Napi::Env env, LogWrap* wrap, storage::FlushPlan plan)
        : PromiseWorker(env, "brook.flush"), wrap_(wrap), plan_(std::move(plan)) {
      self_ = Napi::Persistent(wrap->Value());  // keep the Log alive until the flush settles
    }
    void Run() override { Log::RunFlush(plan_); }
    Napi::Value Settle(Napi::Env env) override {
      wrap_->log_->CompleteFlush(plan_);
      return env.Undefined();
    }

   private:
    LogWrap* wrap_;
    storage::FlushPlan plan_;
    Napi::ObjectReference self_;
  };

  // flush() -> Promise<void>. Writes pending index entries now (JS thread), then fdatasyncs the
  // segments that may hold unflushed bytes and their indexes, fsyncs the directory if needed and
  // writes the recovery point, on a libuv worker. When the promise resolves, everything appended
  // before the call is durable and recoveryPoint covers it.
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      return Start(new FlushWorker(env, this, log_->PrepareFlush()));
    } catch (const brook::Error& e) {
      return Rejected(env, e);
    }
  }

  class CleanWorker : public PromiseWorker {
   public:
    CleanWorker(Napi::Env env, LogWrap* wrap, std::unique_ptr<storage::CleanPlan> plan)
        : PromiseWorker(env, "brook.compact"), wrap_(wrap), plan_(std::move(plan)), started_(SteadyNowMs()) {
      self_ = Napi::Persistent(wrap->Value());  // keep the Log alive until the pass settles
    }
    void Run() override { storage::RunClean(*plan_); }
    Napi::Value Settle(Napi::Env env) override {
      Done();
      auto stats = wrap_->log_->CompleteClean(*plan_);
      return StatsObject(env, stats, SteadyNowMs() - started_);
    }
    void Failed() override {
      Done();
      wrap_->log_->AbortClean(*plan_);
    }

   private:
    void Done() {
      if (wrap_->cancel_ == plan_->cancel) wrap_->cancel_.reset();
    }
    LogWrap* wrap_;
    std::unique_ptr<storage::CleanPlan> plan_;
    double started_;
    Napi::ObjectReference self_;
  };

  // compact(now, upTo, force, mapBytes, crashAt, aborted) -> Promise<stats>, where aborted is a
  // Float64Array of [producerId, firstOffset, lastOffset] triples (cleaner.h, "Transactions"; the
  // facade checked them: integers below 2^53). Plans on the JS thread (cheap:
  // in-memory sizes); when a pass is due, maps and rewrites closed segments on a libuv worker, then
  // swaps the result in on the JS thread. When the promise resolves the cleaned segments are
  // visible and durable and the cleaner checkpoint is written; `skipped` says why nothing ran (or
  // "discarded": the log was truncated, closed or deleted meanwhile). The facade runs one at a time.
  Napi::Value Compact(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      storage::CleanOptions o;
      o.now_ms = Int(info, 0);
      o.up_to = Int(info, 1);
      o.force = info[2].As<Napi::Boolean>().Value();
      o.map_bytes = size_t(Int(info, 3));
      o.crash_at = int(Int(info, 4));
      if (info[5].IsTypedArray()) {
        const auto aborted = info[5].As<Napi::Float64Array>();
        for (size_t i = 0; i + 2 < aborted.ElementLength(); i += 3) {
          o.aborted.push_back(
              storage::AbortedTxn{ToInt64(aborted[i]), ToInt64(aborted[i + 1]), ToInt64(aborted[i + 2])});
        }
      }
      storage::CleanStats stats;
      auto plan = log_->PrepareClean(o, &stats);
      if (!plan) {
        auto d = Napi::Promise::Deferred::New(env);
        d.Resolve(StatsObject(env, stats, 0));
        return d.Promise();
      }
      cancel_ = plan->cancel;
      return Start(new CleanWorker(env, this, std::move(plan)));
    } catch (const brook::Error& e) {
      return Rejected(env, e);
    }
  }
  // cancelCompaction(): the pass in flight stops at its next batch and rejects with CANCELLED.
  Napi::Value CancelCompaction(const Napi::CallbackInfo& info) {
    if (cancel_) cancel_->store(true);
    return info.Env().Undefined();
  }
  // cleanable(now, upTo) -> { firstDirty, firstUncleanable, cleanBytes, dirtyBytes, dirtyRatio,
  // tombstonesDue, compactionOverdue, eligible }: the cleaner's view, from memory (plus the first
  // batch header of dirty segments when max.compaction.lag.ms is set).
  Napi::Value Cleanable(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto c = Guard(env, [&] { return log_->Cleanable(Int(info, 0), Int(info, 1)); });
    auto o = Napi::Object::New(env);
    o.Set("firstDirty", double(c.first_dirty));
    o.Set("firstUncleanable", double(c.first_uncleanable));
    o.Set("cleanBytes", double(c.clean_bytes));
    o.Set("dirtyBytes", double(c.dirty_bytes));
    o.Set("dirtyRatio", c.dirty_ratio);
    o.Set("tombstonesDue", c.tombstones_due);
    o.Set("compactionOverdue", c.compaction_overdue);
    o.Set("eligible", c.eligible);
    return o;
  }

  Napi::Value TruncateTo(const Napi::CallbackInfo& info) {
    Guard(info.Env(), [&] { log_->TruncateTo(Int(info, 0), Int(info, 1)); });
    return info.Env().Undefined();
  }
  Napi::Value DeleteRecordsBefore(const Napi::CallbackInfo& info) {
    Guard(info.Env(), [&] { log_->DeleteRecordsBefore(Int(info, 0), Int(info, 1)); });
    return info.Env().Undefined();
  }
  Napi::Value ApplyRetention(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(),
                             Guard(info.Env(), [&] { return log_->ApplyRetention(Int(info, 0), Int(info, 1)); }));
  }
  Napi::Value UpdateConfig(const Napi::CallbackInfo& info) {
    Guard(info.Env(), [&] { log_->UpdateConfig(ConfigFrom(info[0].As<Napi::Object>())); });
    return info.Env().Undefined();
  }
  Napi::Value LogEndOffset(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(log_->log_end_offset()));
  }
  Napi::Value LogStartOffset(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(log_->log_start_offset()));
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto o = Napi::Object::New(env);
    o.Set("logStartOffset", double(log_->log_start_offset()));
    o.Set("logEndOffset", double(log_->log_end_offset()));
    o.Set("recoveryPoint", double(log_->recovery_point()));
    o.Set("size", double(log_->size_bytes()));
    o.Set("segmentCount", double(log_->segment_count()));
    o.Set("unflushedMessages", double(log_->unflushed_messages()));
    o.Set("pendingDeletes", double(log_->pending_deletes()));
    o.Set("cleanOffset", double(log_->clean_offset()));
    return o;
  }
  // close(): flushes (fsync on the JS thread: the facade awaits an async flush first so little is
  // left), writes the clean-shutdown marker, closes every descriptor.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Guard(info.Env(), [&] { log_->Close(); });
    return info.Env().Undefined();
  }
  Napi::Value Delete(const Napi::CallbackInfo& info) {
    Guard(info.Env(), [&] { log_->Delete(); });
    return info.Env().Undefined();
  }

  std::unique_ptr<Log> log_;
  std::shared_ptr<std::atomic<bool>> cancel_;  // of the compaction pass in flight
  double* results_ = nullptr;
  Napi::Reference<Napi::Float64Array> results_ref_;
};

// The file a send or readSlice reads: only a FileRef, never a descriptor number (a number may
// have been closed and reused for another file). A send's worker holds the File, so the descriptor
// stays open until the send ends even if JS releases the slice meanwhile.
std::shared_ptr<storage::File> SourceArg(const Napi::CallbackInfo& info, size_t i) {
  auto file = FileRefWrap::From(info.Env(), info[i]);
  if (!file) throw brook::Error("INVALID_ARGUMENT", "a slice's file must be the FileRef read() gave it");
  return file;
}

// sendfile(socketFd, file, position, length, timeoutMs) / preadWrite(...) -> Promise<bytes>, where
// file the slice's FileRef. The whole slice is sent on a libuv worker (partial
// writes and EAGAIN handled there); the caller must not write to the socket from JS until the
// promise settles. The worker writes to its own duplicate of socketFd (storage::SendSocket), taken
// here on the JS thread, so closing socketFd meanwhile cannot redirect the bytes to another
// connection; shutdownSocket(socketFd) before that close makes the send fail at once.
class SendWorker : public PromiseWorker {
 public:
  SendWorker(Napi::Env env, bool zero_copy, int sock, std::shared_ptr<storage::File> src, uint64_t pos, uint64_t len,
             int timeout_ms)
      : PromiseWorker(env, zero_copy ? "brook.sendfile" : "brook.preadWrite"),
        zero_copy_(zero_copy),
        sock_(sock),
        src_(std::move(src)),
        pos_(pos),
        len_(len),
        timeout_ms_(timeout_ms) {}
  void Run() override {
    sent_ = zero_copy_ ? storage::SendFile(sock_.fd(), src_->fd(), pos_, len_, timeout_ms_)
                       : storage::PReadWrite(sock_.fd(), src_->fd(), pos_, len_, timeout_ms_);
    sock_.Close();  // the socket's last reference may be this one: let the peer see the close now
  }
  Napi::Value Settle(Napi::Env env) override { return Napi::Number::New(env, double(sent_)); }

 private:
  bool zero_copy_;
  storage::SendSocket sock_;
  std::shared_ptr<storage::File> src_;
  uint64_t pos_, len_;
  int timeout_ms_;
  uint64_t sent_ = 0;
};

Napi::Value Send(const Napi::CallbackInfo& info, bool zero_copy) {
  Napi::Env env = info.Env();
  try {
    return Start(new SendWorker(env, zero_copy, int(Int(info, 0)), SourceArg(info, 1), uint64_t(Int(info, 2)),
                                uint64_t(Int(info, 3)), int(Int(info, 4))));
  } catch (const brook::Error& e) {
    return Rejected(env, e);
  }
}

// benchPlainWrite(path, buffer, count) -> seconds: the append benchmark's baseline, `count`
// sequential write(2)s of the same buffer into a new file, timed in C++. Bench only.
Napi::Value BenchPlainWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  auto buf = info[1].As<Napi::Uint8Array>();
  const int64_t count = Int(info, 2);
  return Guard(env, [&]() -> Napi::Value {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw brook::Error::FromErrno("open", path);
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < count; i++) {
      if (int err = storage::WriteFully(fd, buf.Data(), buf.ByteLength(), -1)) {
        ::close(fd);
        throw brook::Error::FromErrno("write", path, err);
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::close(fd);
    return Napi::Number::New(env, secs);
  });
}

// readSlice(file, position, length) -> Buffer, file the slice's FileRef: a slice's
// bytes copied with pread on the JS thread (the fallback for sockets without a descriptor, e.g.
// TLS). The Buffer belongs to JS.
Napi::Value ReadSlice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const std::shared_ptr<storage::File> src = SourceArg(info, 0);
    const uint64_t pos = uint64_t(Int(info, 1));
    const size_t len = size_t(Int(info, 2));
    auto out = Napi::Buffer<uint8_t>::New(env, len);
    int err = 0;
    if (storage::PReadFully(src->fd(), out.Data(), len, pos, &err) != len) {
      const std::string& what = src->path();
      if (err != 0) throw brook::Error::FromErrno("read", what, err);
      throw brook::Error("IO", "slice past the end of " + what, EIO);
    }
    return out;
  });
}

}  // namespace

void InitLog(Napi::Env env, Napi::Object exports) {
  exports.Set("Log", LogWrap::Define(env));
  Data(env)->file_ref = Napi::Persistent(FileRefWrap::Define(env));
  ExportFunction(env, exports, "sendfile", [](const Napi::CallbackInfo& info) { return Send(info, true); });
  ExportFunction(env, exports, "preadWrite", [](const Napi::CallbackInfo& info) { return Send(info, false); });
  ExportFunction(env, exports, "readSlice", ReadSlice);
  // shutdownSocket(socketFd): see SendWorker. The caller vouches that socketFd is its open socket.
  ExportFunction(env, exports, "shutdownSocket", [](const Napi::CallbackInfo& info) {
    storage::ShutdownSocket(int(Int(info, 0)));
    return info.Env().Undefined();
  });
  ExportFunction(env, exports, "benchPlainWrite", BenchPlainWrite);
}

}  // namespace brook::napi
