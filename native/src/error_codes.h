// Every code a brook::Error may carry: the one list. Each line names a code and says when it is
// thrown. Included as an X-macro (define BROOK_ERROR_CODE(name, meaning) first) by error.h, and read
// line by line by test/native/error-codes.test.ts, which checks that the codes thrown in native/src,
// this list and NativeErrorCode in src/native/errors.ts are the same set. Add a code here first.
#ifndef BROOK_ERROR_CODE
#error "define BROOK_ERROR_CODE(name, meaning) before including error_codes.h"
#endif
BROOK_ERROR_CODE(CORRUPT_MESSAGE, "batch fails size or CRC checks")
BROOK_ERROR_CODE(INVALID_RECORD, "batch is well-formed bytes but violates a rule (magic, offsets, counts)")
BROOK_ERROR_CODE(INVALID_TIMESTAMP, "a record timestamp outside the log's message.timestamp.before/after.max.ms")
BROOK_ERROR_CODE(MESSAGE_TOO_LARGE, "batch larger than max.message.bytes")
BROOK_ERROR_CODE(OFFSET_OUT_OF_RANGE, "read or truncate outside [logStartOffset, logEndOffset]")
BROOK_ERROR_CODE(OFFSET_MISMATCH, "follower append not continuing the log end offset (a gap or an overlap)")
BROOK_ERROR_CODE(INVALID_ARGUMENT, "caller passed something impossible (negative size, bad config value)")
BROOK_ERROR_CODE(UNSUPPORTED_CODEC, "compression codec id not known")
BROOK_ERROR_CODE(CODEC_ERROR, "compressed bytes that do not decode")
BROOK_ERROR_CODE(NO_SPACE, "ENOSPC / EDQUOT / EFBIG while writing; the log is left consistent")
BROOK_ERROR_CODE(IO, "any other system call failure")
BROOK_ERROR_CODE(CLOSED, "use after close, or of a file slice whose file was released")
BROOK_ERROR_CODE(CANCELLED, "a compaction pass stopped by cancelCompaction (close or delete of its log)")
BROOK_ERROR_CODE(INVARIANT, "a storage invariant does not hold (BROOK_CHECK, check.h): a bug, the data is not touched")
BROOK_ERROR_CODE(TEST_CRASH, "test hook only: a compaction swap stopped at CleanOptions.crash_at (faults.ts)")
