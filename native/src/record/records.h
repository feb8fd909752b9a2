// Record-level access to RecordBatch v2 (layout: batch_header.h): decoding batches into records,
// building a batch from records, and recompressing a batch with another codec. Users: the WebSocket
// gateway and CLI (decode/build), broker-side recompression for topic compression.type (recompress).
// The produce and fetch paths never come here; they move batches as bytes (batch.h).
//
// Record layout (inside the records section, after decompression), Kafka's DefaultRecord:
//
//   field            encoding                    notes
//   ---------------  --------------------------  ------------------------------------------------
//   length           varint                      bytes of the record after this field
//   attributes       int8                        unused, 0
//   timestampDelta   varlong                     timestamp - batch baseTimestamp (may be < 0)
//   offsetDelta      varint                      offset - batch baseOffset
//   keyLength        varint                      -1 = null key
//   key              keyLength bytes
//   valueLength      varint                      -1 = null value
//   value            valueLength bytes
//   headerCount      varint
//   headers          headerCount x [keyLength varint (>= 0), key (UTF-8),
//                                   valueLength varint (-1 = null), value]
//
// varint/varlong: the value zig-zag encoded ((n << 1) ^ (n >> 31|63)), then base-128 little-endian,
// high bit = more bytes; at most 5 bytes for a varint and 10 for a varlong.
//
// Why decode here rather than in TypeScript or into JS objects from C++: parsing varints is much
// faster in C++, but creating a JS object per record from C++ costs a dozen N-API calls per record
// (more than parsing it). So the decoder fills flat arrays of numbers (offsets, timestamps, and the
// positions of keys, values and headers) that cross into JS in one call, and the TS facade builds
// objects, lazily, whose keys and values are zero-copy views of the input or the decompressed
// buffer. Measured (bench/records.bench.ts, 1,000 uncompressed records): ~26 M records/s when the
// records are not materialised, ~4.4 M/s to full objects, against ~0.9 M/s for kafkajs's decoder;
// building: ~4.4 M/s against ~0.3 M/s for kafkajs's encoder.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "compress/codec.h"
#include "record/batch_header.h"

namespace brook::record {

struct DecodeOptions {
  // Limit on each batch's decompressed records section (CODEC_ERROR beyond it).
  size_t max_decompressed_size = compress::kDefaultMaxDecompressedSize;
  bool verify_crc = true;
  // A fetch response may end with a partial batch (the broker cuts at maxBytes): with this set,
  // decoding stops before it instead of failing, and bytes_read tells where it stopped.
  bool allow_truncated = false;
};

// Positions are byte offsets into the batch's source: the caller's input for uncompressed batches,
// DecodedBatches::buffers[source] for compressed ones. A length of -1 is null.
struct DecodedHeader {
  size_t key_pos;
  int32_t key_len;
  size_t value_pos;
  int32_t value_len;
};

struct DecodedRecord {
  int64_t offset;     // baseOffset + offsetDelta
  int64_t timestamp;  // baseTimestamp + timestampDelta; with LogAppendTime, the batch maxTimestamp
  size_t key_pos;
  int32_t key_len;
  size_t value_pos;
  int32_t value_len;
  uint32_t first_header;  // index into DecodedBatches::headers
  uint32_t header_count;
};

struct DecodedBatch {
  size_t position;  // of the batch in the input
  int64_t base_offset;
  int32_t batch_length;
  int32_t partition_leader_epoch;
  uint8_t magic;
  uint32_t crc;
  uint16_t attributes;
  int32_t last_offset_delta;
  int64_t base_timestamp;
  int64_t max_timestamp;
  int64_t producer_id;
  int16_t producer_epoch;
  int32_t base_sequence;
  int32_t records_count;
  int32_t source;         // -1: the input; else an index into DecodedBatches::buffers
  uint32_t first_record;  // index into DecodedBatches::records
};

struct DecodedBatches {
  std::vector<DecodedBatch> batches;
  std::vector<DecodedRecord> records;
  std::vector<DecodedHeader> headers;
  std::vector<compress::ByteBuffer> buffers;  // decompressed records sections
  size_t bytes_read = 0;                      // input covered by the decoded batches
};

// Decodes every batch in data[0, len). Errors (brook::Error):
//   batch shorter than 61 bytes or running past the input      CORRUPT_MESSAGE (unless allow_truncated)
//   magic != 2                                                 INVALID_RECORD
//   CRC mismatch (when verify_crc)                             CORRUPT_MESSAGE
//   codec bits 5..7                                            UNSUPPORTED_CODEC
//   records section that does not decompress / over the limit  CODEC_ERROR
//   malformed records: truncated or overlong varints, lengths
//   running past the record, a record whose fields do not fill
//   its length exactly, fewer or more records than
//   recordsCount, bytes after the last record                  CORRUPT_MESSAGE
//   a null header key                                          INVALID_RECORD
// Never reads outside data[0, len); the input is not modified. Calling thread only.
DecodedBatches DecodeBatches(const uint8_t* data, size_t len, const DecodeOptions& options = {});

struct HeaderInput {
  const uint8_t* key;  // UTF-8, never null
  int32_t key_len;
  const uint8_t* value;  // ignored when value_len == -1
  int32_t value_len;     // -1 = null
};

struct BuildOptions {
  Codec codec = Codec::kNone;
  compress::CompressOptions compression;
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
  // LogAppendTime batches carry the append time as maxTimestamp; record timestamps are kept as
  // given (consumers ignore them for such batches).
  bool log_append_time = false;
  int64_t log_append_time_ms = -1;
  // Compaction (storage/cleaner.h) rebuilds batches that lost records and keeps the original
  // lastOffsetDelta, so the batch still spans the same offsets and the producer's last sequence
  // (baseSequence + lastOffsetDelta) is unchanged. -1: the last record's offsetDelta.
  int32_t last_offset_delta = -1;
  // KIP-534: attribute bit 6; baseTimestamp is then the delete horizon (SetBaseTimestamp).
  bool delete_horizon = false;
};

// Builds one batch. Records are encoded as they are added (offsetDelta = 0, 1, 2 ...; the first
// record's timestamp becomes baseTimestamp); Finish computes lastOffsetDelta, maxTimestamp, the
// batch length, compresses, and writes the CRC-32C. For an uncompressed batch the records are
// written in place after the header, so nothing is copied.
class BatchBuilder {
 public:
  BatchBuilder();
  // key/value: len -1 = null (the pointer is then ignored). offsetDelta = number of records so far.
  void Add(int64_t timestamp, const uint8_t* key, int32_t key_len, const uint8_t* value, int32_t value_len,
           const HeaderInput* headers = nullptr, size_t header_count = 0);
  // The same with an explicit offsetDelta, which must be larger than the previous record's: how
  // compaction rebuilds a batch whose retained records keep their absolute offsets (gaps between
  // them are normal). Mixing Add and AddAt is allowed as long as deltas increase.
  void AddAt(int32_t offset_delta, int64_t timestamp, const uint8_t* key, int32_t key_len, const uint8_t* value,
             int32_t value_len, const HeaderInput* headers = nullptr, size_t header_count = 0);
  // Fixes baseTimestamp before the first record instead of taking the first record's timestamp
  // (record timestamps are written as deltas from it, possibly negative). Used for the KIP-534
  // delete horizon. INVALID_ARGUMENT once a record was added.
  void SetBaseTimestamp(int64_t ts);
  int32_t count() const { return count_; }
  // Throws INVALID_ARGUMENT for a batch without records or over 2 GiB, or a last_offset_delta
  // below the last record's offsetDelta.
  compress::ByteBuffer Finish(const BuildOptions& options);

 private:
  compress::ByteBuffer buf_;  // kRecordsPos bytes reserved for the header, then the records
  int32_t count_ = 0;
  int32_t last_delta_ = -1;
  bool base_timestamp_set_ = false;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
};

// A batch header without records (recordsCount 0, 61 bytes, codec none): what compaction leaves
// when every record of an idempotent producer's last batch was removed, so that the producer's
// last sequence and epoch survive (Kafka's MemoryRecords.writeEmptyHeader). Keeps baseOffset,
// lastOffsetDelta, leader epoch, producer id/epoch/baseSequence and the timestamp-type,
// transactional and control bits of `original`; base and max timestamp = its maxTimestamp.
compress::ByteBuffer BuildHeaderOnlyBatch(const uint8_t* original);

// The records section (bytes 61..end) of the one batch at [batch, batch + size): a view of the
// input when the batch is uncompressed, else its decompressed bytes, held in `scratch` (at most
// max_decompressed). A header-only batch (compaction's: recordsCount 0, no section) has nothing to
// inflate whatever its codec bits say. Throws UNSUPPORTED_CODEC / CODEC_ERROR.
struct RecordsSection {
  const uint8_t* data;
  size_t size;
};
RecordsSection PlainRecordsSection(const uint8_t* batch, size_t size, size_t max_decompressed,
                                   compress::ByteBuffer& scratch);

// What CheckRecords asks of every record of a batch, beyond parsing.
struct RecordChecks {
  // Compacted topics (cleanup.policy contains compact) refuse records without a key, as Kafka does
  // ("Compacted topic cannot accept message without key"): INVALID_RECORD.
  bool require_key = false;
  // message.timestamp.before.max.ms / after.max.ms of a CreateTime topic, as bounds around the
  // append time: a record timestamp outside [min_timestamp, max_timestamp] is INVALID_TIMESTAMP.
  // -1 (Kafka's NO_TIMESTAMP) is never checked, as in Kafka.
  int64_t min_timestamp = INT64_MIN;
  int64_t max_timestamp = INT64_MAX;
};

// Parses every record of the one batch at [batch, batch + size) (decompressing it if needed, up to
// max_decompressed) and applies `checks`. Throws INVALID_RECORD / INVALID_TIMESTAMP as above,
// CORRUPT_MESSAGE / CODEC_ERROR on malformed records. Appends call it only when a check is on,
// so a delete-only topic with default timestamp bounds never parses records.
void CheckRecords(const uint8_t* batch, size_t size, const RecordChecks& checks,
                  size_t max_decompressed = compress::kDefaultMaxDecompressedSize);

// Rebuilds one batch (exactly the bytes given) with another codec, keeping every header field but
// the batch length, the CRC and the attribute codec bits. Checks size, magic and CRC first
// (CORRUPT_MESSAGE / INVALID_RECORD as DecodeBatches), and that the records parse, so a broker
// never re-signs garbage with a fresh CRC.
compress::ByteBuffer RecompressBatch(const uint8_t* batch, size_t len, Codec codec,
                                     const compress::CompressOptions& options = {},
                                     size_t max_decompressed_size = compress::kDefaultMaxDecompressedSize);

}  // namespace brook::record
