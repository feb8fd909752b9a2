/**
 * The one seam where failures become Kafka error codes. Storage throws BrookNativeError with string
 * codes (it knows nothing of Kafka numbers); broker logic throws KafkaError with the code it means.
 * Handlers call toErrorCode() for a partition's failure and put the result on that partition, so no
 * exception escapes a handler. Anything unexpected becomes UNKNOWN_SERVER_ERROR and is logged.
 */
import { ConfigError } from '../config.js';
import { BrookNativeError } from '../native/errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Logger } from '../util/logger.js';

/** A failure the broker chose, with the Kafka code it maps to. */
export class KafkaError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'KafkaError';
  }
}

const NATIVE_CODES: Record<string, number> = {
  CORRUPT_MESSAGE: ErrorCode.CORRUPT_MESSAGE,
  CODEC_ERROR: ErrorCode.CORRUPT_MESSAGE,
  INVALID_RECORD: ErrorCode.INVALID_RECORD,
  INVALID_TIMESTAMP: ErrorCode.INVALID_TIMESTAMP,
  MESSAGE_TOO_LARGE: ErrorCode.MESSAGE_TOO_LARGE,
  OFFSET_OUT_OF_RANGE: ErrorCode.OFFSET_OUT_OF_RANGE,
  // A follower append that does not continue the log end offset: the data is not where this
  // replica's log is (Kafka has no wire code for its UnexpectedAppendOffsetException).
  OFFSET_MISMATCH: ErrorCode.OFFSET_OUT_OF_RANGE,
  UNSUPPORTED_CODEC: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  // A full or failing disk: the partition is unavailable here until it recovers. Clients retry.
  NO_SPACE: ErrorCode.KAFKA_STORAGE_ERROR,
  IO: ErrorCode.KAFKA_STORAGE_ERROR,
  // The log was closed under the request: its topic was deleted meanwhile.
  CLOSED: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  INVALID_ARGUMENT: ErrorCode.INVALID_REQUEST,
};

export interface MappedError {
  errorCode: number;
  message: string;
}

/**
 * Maps `e` to a Kafka code. Unexpected failures (and storage errors) are logged at error level on
 * `log`: the logger of the broker that met them, so brokers sharing a process keep their own logs.
 */
export function toErrorCode(e: unknown, log: Pick<Logger, 'error'>): MappedError {
  if (e instanceof KafkaError) return { errorCode: e.errorCode, message: e.message };
  if (e instanceof BrookNativeError) {
    const code = NATIVE_CODES[e.code];
    if (code !== undefined) {
      if (code === ErrorCode.KAFKA_STORAGE_ERROR) log.error(`storage error: ${e.message}`);
      return { errorCode: code, message: e.message };
    }
  }
  if (e instanceof ConfigError) return { errorCode: ErrorCode.INVALID_CONFIG, message: e.message };
  log.error(`UNKNOWN_SERVER_ERROR: ${(e as Error)?.stack ?? String(e)}`);
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message: 'unexpected server error' };
}
