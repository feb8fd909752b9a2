// Codec and record exports (compress/codec.h, record/records.h). Mostly synchronous, on the calling
// thread: codecs run on single batches (at most max.message.bytes, 1 MiB by default), which take
// well under a millisecond for every codec but gzip (~8 ms per MiB at level 6). For those, the
// *Async variants copy the input (so the caller may reuse or transfer it at once) and run on the
// libuv thread pool, resolving a Promise on the JS thread. TypeScript validates
// arguments (src/native/codec.ts, src/native/records.ts); this layer still checks types and
// bounds so a wrong call is an exception, never a crash.
//
// Buffers returned are new and owned by JS (see kCopyThreshold for how they are made).
// Input buffers are only read, and only during the call (the async variants copy them first).
//
//   compress(codec, buf, level|undefined, snappyRaw: boolean): Buffer
//   decompress(codec, buf, maxSize): Buffer
//   decodeBatches(buf, maxSize, verifyCrc, allowTruncated)
//       -> { batches: Float64Array, records: Float64Array, headers: Float64Array,
//            buffers: Buffer[], bytesRead: number }
//       batches: kBatchFields numbers per batch, records: kRecordFields per record,
//       headers: kHeaderFields per header, in the orders listed below. int64 fields are converted to
//       double (exact up to 2^53). Positions are into `buf` when a batch's source is -1, else into
//       buffers[source] (the decompressed records section).
//   buildBatch(data: Uint8Array, lengths: Int32Array, timestamps: Float64Array, params: Float64Array): Buffer
//       lengths, per record: keyLen, valueLen, headerCount, then per header keyLen, valueLen (-1 =
//       null); data: the same fields' bytes concatenated in that order. params: kBuildParams below.
//   recompressBatch(batch, codec, level|undefined, snappyRaw, maxSize): Buffer
//   compressAsync, decompressAsync, recompressBatchAsync: same arguments, Promise<Buffer>
#include <array>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>

#include "compress/codec.h"
#include "napi/args.h"
#include "napi/errors.h"
#include "napi/promise_worker.h"
#include "napi/wraps.h"
#include "record/records.h"

namespace brook::napi {
namespace {

using compress::ByteBuffer;

// Field orders of the flat arrays; src/native/records.ts mirrors them.
// batches: position, baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes,
//          lastOffsetDelta, baseTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence,
//          recordsCount, source, firstRecord
constexpr size_t kBatchFields = 16;
// records: offset, timestamp, keyPos, keyLen, valuePos, valueLen, firstHeader, headerCount
constexpr size_t kRecordFields = 8;
// headers: keyPos, keyLen, valuePos, valueLen
constexpr size_t kHeaderFields = 4;
// buildBatch params: codec, level (NaN = default), snappyRaw (0/1), baseOffset, partitionLeaderEpoch,
// producerId, producerEpoch, baseSequence, flags (1 transactional, 2 control, 4 LogAppendTime),
// logAppendTime
constexpr size_t kBuildParams = 10;

// Outputs up to this size are copied into a new Buffer and our allocation is freed at once; larger
// ones are handed over without a copy. Copying looks wasteful but measured 1.4-2.2x faster for
// 1 MiB outputs (bench/compress.bench.ts): a handed-over allocation is only freed when the GC
// collects its Buffer, so each call mallocs fresh pages and pays their first-touch faults, while a
// freed allocation is reused warm by the next call. Above 16 MiB the transient second copy costs
// more memory than it saves time.
constexpr size_t kCopyThreshold = 16 << 20;

double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) throw ArgError(info.Env(), std::string("expected a number for ") + what);
  return info[i].As<Napi::Number>().DoubleValue();
}
compress::Codec CodecArg(const Napi::CallbackInfo& info, size_t i) {
  const double v = NumberArg(info, i, "codec");
  if (v != std::floor(v)) throw MakeError(info.Env(), "UNSUPPORTED_CODEC", "codec must be an integer");
  return compress::CodecFromId(v < -1 || v > 8 ? -1 : int(v));
}
int LevelFrom(Napi::Env env, double v) {
  if (std::isnan(v)) return compress::kDefaultLevel;
  if (v != std::floor(v) || v < -1e6 || v > 1e6) throw ArgError(env, "level must be an integer");
  return int(v);
}
// info[i] (level|undefined) and info[i + 1] (snappyRaw).
compress::CompressOptions CompressOptionsArg(const Napi::CallbackInfo& info, size_t i) {
  compress::CompressOptions opts;
  opts.level =
      info[i].IsNumber() ? LevelFrom(info.Env(), info[i].As<Napi::Number>().DoubleValue()) : compress::kDefaultLevel;
  opts.snappy_framing = info[i + 1].ToBoolean() ? compress::SnappyFraming::kRaw : compress::SnappyFraming::kXerial;
  return opts;
}
size_t SizeArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const double v = NumberArg(info, i, what);
  if (!(v >= 0)) throw ArgError(info.Env(), std::string(what) + " must be >= 0");
  return v >= double(compress::kMaxSize) ? compress::kMaxSize : size_t(v);
}

// Converts a double that must be an integer in [lo, hi] (casting NaN or out-of-range values is UB).
int64_t IntFrom(Napi::Env env, double v, double lo, double hi, const char* what) {
  if (!(v >= lo && v <= hi) || v != std::floor(v)) throw ArgError(env, std::string(what) + " is out of range");
  return int64_t(v);
}
constexpr double kInt64Lo = -9223372036854775808.0, kInt64Hi = 9223372036854774784.0;  // largest double < 2^63

Napi::Buffer<uint8_t> ToJs(Napi::Env env, ByteBuffer&& b) {
  const size_t n = b.size();
  if (n <= kCopyThreshold) return Napi::Buffer<uint8_t>::Copy(env, b.data(), n);
  uint8_t* p = b.Release();
  return Napi::Buffer<uint8_t>::New(env, p, n, [](Napi::Env, uint8_t* d) { std::free(d); });
}

// One row of N doubles per element of xs, as row(x) lists them: the flat arrays of decodeBatches.
template <size_t N, typename T, typename Row>
Napi::Float64Array Rows(Napi::Env env, const std::vector<T>& xs, Row row) {
  auto out = Napi::Float64Array::New(env, xs.size() * N);
  double* p = out.Data();
  for (const auto& x : xs) {
    const std::array<double, N> v = row(x);
    std::copy(v.begin(), v.end(), p);
    p += N;
  }
  return out;
}

Napi::Value DecodeBatches(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto buf = BytesArg(info, 0);
    record::DecodeOptions opts;
    opts.max_decompressed_size = SizeArg(info, 1, "maxDecompressedSize");
    opts.verify_crc = info[2].ToBoolean();
    opts.allow_truncated = info[3].ToBoolean();
    record::DecodedBatches d = record::DecodeBatches(buf.Data(), buf.ByteLength(), opts);

    auto batches = Rows<kBatchFields>(env, d.batches, [](const record::DecodedBatch& x) {
      return std::array<double, kBatchFields>{
          double(x.position),       double(x.base_offset),   double(x.batch_length), double(x.partition_leader_epoch),
          double(x.magic),          double(x.crc),           double(x.attributes),   double(x.last_offset_delta),
          double(x.base_timestamp), double(x.max_timestamp), double(x.producer_id),  double(x.producer_epoch),
          double(x.base_sequence),  double(x.records_count), double(x.source),       double(x.first_record)};
    });
    auto records = Rows<kRecordFields>(env, d.records, [](const record::DecodedRecord& x) {
      return std::array<double, kRecordFields>{double(x.offset),       double(x.timestamp),   double(x.key_pos),
                                               double(x.key_len),      double(x.value_pos),   double(x.value_len),
                                               double(x.first_header), double(x.header_count)};
    });
    auto headers = Rows<kHeaderFields>(env, d.headers, [](const record::DecodedHeader& x) {
      return std::array<double, kHeaderFields>{double(x.key_pos), double(x.key_len), double(x.value_pos),
                                               double(x.value_len)};
    });
    auto buffers = Napi::Array::New(env, d.buffers.size());
    for (size_t i = 0; i < d.buffers.size(); i++) buffers.Set(uint32_t(i), ToJs(env, std::move(d.buffers[i])));

    auto out = Napi::Object::New(env);
    out.Set("batches", batches);
    out.Set("records", records);
    out.Set("headers", headers);
    out.Set("buffers", buffers);
    out.Set("bytesRead", Napi::Number::New(env, double(d.bytes_read)));
    return out;
  });
}

Napi::Value BuildBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto data = BytesArg(info, 0);
    auto lengths = TypedArg<Napi::Int32Array>(info, 1, napi_int32_array, "an Int32Array of lengths");
    auto timestamps = TypedArg<Napi::Float64Array>(info, 2, napi_float64_array, "a Float64Array of timestamps");
    auto params = TypedArg<Napi::Float64Array>(info, 3, napi_float64_array, "a Float64Array of batch parameters");
    if (params.ElementLength() != kBuildParams) throw ArgError(env, "wrong number of batch parameters");
    const double* p = params.Data();

    record::BuildOptions o;
    o.codec = compress::CodecFromId(p[0] >= 0 && p[0] <= 8 ? int(p[0]) : -1);
    o.compression.level = LevelFrom(env, p[1]);
    o.compression.snappy_framing = p[2] != 0 ? compress::SnappyFraming::kRaw : compress::SnappyFraming::kXerial;
    o.base_offset = IntFrom(env, p[3], kInt64Lo, kInt64Hi, "baseOffset");
    o.partition_leader_epoch = int32_t(IntFrom(env, p[4], INT32_MIN, INT32_MAX, "partitionLeaderEpoch"));
    o.producer_id = IntFrom(env, p[5], kInt64Lo, kInt64Hi, "producerId");
    o.producer_epoch = int16_t(IntFrom(env, p[6], INT16_MIN, INT16_MAX, "producerEpoch"));
    o.base_sequence = int32_t(IntFrom(env, p[7], INT32_MIN, INT32_MAX, "baseSequence"));
    const int64_t flags = IntFrom(env, p[8], 0, 7, "flags");
    o.transactional = flags & 1;
    o.control = flags & 2;
    o.log_append_time = flags & 4;
    o.log_append_time_ms = IntFrom(env, p[9], kInt64Lo, kInt64Hi, "logAppendTime");

    const int32_t* len = lengths.Data();
    const size_t nlen = lengths.ElementLength();
    const uint8_t* bytes = data.Data();
    const size_t nbytes = data.ByteLength();
    size_t li = 0, pos = 0;
    auto next_len = [&]() -> int32_t {
      if (li == nlen) throw ArgError(env, "lengths array is too short");
      return len[li++];
    };
    auto take = [&](int32_t n) -> const uint8_t* {
      if (n < 0) return nullptr;
      if (size_t(n) > nbytes - pos) throw ArgError(env, "data is shorter than the lengths say");
      const uint8_t* at = bytes + pos;
      pos += size_t(n);
      return at;
    };
    record::BatchBuilder builder;
    std::vector<record::HeaderInput> headers;
    const double* ts = timestamps.Data();
    for (size_t i = 0; i < timestamps.ElementLength(); i++) {
      const int32_t key_len = next_len();
      const int32_t value_len = next_len();
      const int32_t header_count = next_len();
      if (header_count < 0) throw ArgError(env, "negative header count");
      const uint8_t* key = take(key_len);
      const uint8_t* value = take(value_len);
      headers.clear();
      for (int32_t h = 0; h < header_count; h++) {
        record::HeaderInput hd{};
        hd.key_len = next_len();
        hd.value_len = next_len();
        hd.key = take(hd.key_len);
        hd.value = take(hd.value_len);
        headers.push_back(hd);
      }
      builder.Add(IntFrom(env, ts[i], kInt64Lo, kInt64Hi, "timestamp"), key, key_len, value, value_len, headers.data(),
                  headers.size());
    }
    if (li != nlen || pos != nbytes) throw ArgError(env, "lengths or data have entries beyond the records");
    return ToJs(env, builder.Finish(o));
  });
}

// Runs one codec job on the libuv pool. The input is copied on the JS thread when the job is
// created, so nothing JS owns is touched off-thread; errors travel back as brook::Error and become
// BrookNativeError rejections with their code (PromiseWorker).
class CodecJob : public PromiseWorker {
 public:
  using Work = std::function<ByteBuffer(const uint8_t*, size_t)>;
  CodecJob(Napi::Env env, const Napi::Uint8Array& input, Work work)
      : PromiseWorker(env, "brook:codec"), work_(std::move(work)) {
    input_.Append(input.Data(), input.ByteLength());
  }

 protected:
  void Run() override { result_ = work_(input_.data(), input_.size()); }
  Napi::Value Settle(Napi::Env env) override { return ToJs(env, std::move(result_)); }

 private:
  Work work_;
  ByteBuffer input_;
  ByteBuffer result_;
};

// compress, decompress and recompressBatch each parse their arguments once, into the input bytes and
// the work on them; the sync export runs the work on the input at once, the *Async export copies
// the input and queues the work (CodecJob).
struct CodecCall {
  Napi::Uint8Array input;
  CodecJob::Work work;
};
using ParseCall = CodecCall (*)(const Napi::CallbackInfo&);

// (codec, buf, level|undefined, snappyRaw)
CodecCall CompressCall(const Napi::CallbackInfo& info) {
  const compress::Codec codec = CodecArg(info, 0);
  auto buf = BytesArg(info, 1);
  const compress::CompressOptions opts = CompressOptionsArg(info, 2);
  return {buf, [codec, opts](const uint8_t* p, size_t n) { return compress::Compress(codec, p, n, opts); }};
}

// (codec, buf, maxSize)
CodecCall DecompressCall(const Napi::CallbackInfo& info) {
  const compress::Codec codec = CodecArg(info, 0);
  auto buf = BytesArg(info, 1);
  const size_t max = SizeArg(info, 2, "maxSize");
  return {buf, [codec, max](const uint8_t* p, size_t n) { return compress::Decompress(codec, p, n, max); }};
}

// (batch, codec, level|undefined, snappyRaw, maxDecompressedSize)
CodecCall RecompressBatchCall(const Napi::CallbackInfo& info) {
  auto batch = BytesArg(info, 0);
  const compress::Codec codec = CodecArg(info, 1);
  const compress::CompressOptions opts = CompressOptionsArg(info, 2);
  const size_t max = SizeArg(info, 4, "maxDecompressedSize");
  return {batch,
          [codec, opts, max](const uint8_t* p, size_t n) { return record::RecompressBatch(p, n, codec, opts, max); }};
}

template <ParseCall Parse>
Napi::Value RunNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    CodecCall call = Parse(info);
    return ToJs(env, call.work(call.input.Data(), call.input.ByteLength()));
  });
}

template <ParseCall Parse>
Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    CodecCall call = Parse(info);
    return Start(new CodecJob(env, call.input, std::move(call.work)));
  });
}

}  // namespace

void InitCodec(Napi::Env env, Napi::Object exports) {
  ExportFunction(env, exports, "compress", RunNow<CompressCall>);
  ExportFunction(env, exports, "decompress", RunNow<DecompressCall>);
  ExportFunction(env, exports, "decodeBatches", DecodeBatches);
  ExportFunction(env, exports, "buildBatch", BuildBatch);
  ExportFunction(env, exports, "recompressBatch", RunNow<RecompressBatchCall>);
  ExportFunction(env, exports, "compressAsync", RunAsync<CompressCall>);
  ExportFunction(env, exports, "decompressAsync", RunAsync<DecompressCall>);
  ExportFunction(env, exports, "recompressBatchAsync", RunAsync<RecompressBatchCall>);
  exports.Set("defaultMaxDecompressedSize", Napi::Number::New(env, double(compress::kDefaultMaxDecompressedSize)));
}

}  // namespace brook::napi
