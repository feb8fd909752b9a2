/**
 * toErrorCode, the one seam from failures to Kafka error codes: each native error code, the
 * broker's own KafkaError, configuration errors, and everything else (UNKNOWN_SERVER_ERROR, logged
 * with its stack). Storage failures are answered as retriable KAFKA_STORAGE_ERROR and logged too.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { KafkaError, toErrorCode } from '../../../src/broker/errors.js';
import { ConfigError } from '../../../src/config.js';
import { Codec, decompress } from '../../../src/native/codec.js';
import { BrookNativeError, type NativeErrorCode } from '../../../src/native/errors.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';

let logged: string[] = [];
/** The error log toErrorCode writes to (each broker passes its own logger). */
const errorLog = { error: (msg: string) => void logged.push(msg) };
beforeEach(() => {
  logged = [];
});

/** What each native code means to a Kafka client; written out here, not read from the table under test. */
const NATIVE: [NativeErrorCode, number, 'logged' | 'quiet'][] = [
  ['CORRUPT_MESSAGE', ErrorCode.CORRUPT_MESSAGE, 'quiet'],
  ['CODEC_ERROR', ErrorCode.CORRUPT_MESSAGE, 'quiet'],
  ['INVALID_RECORD', ErrorCode.INVALID_RECORD, 'quiet'],
  ['INVALID_TIMESTAMP', ErrorCode.INVALID_TIMESTAMP, 'quiet'],
  ['MESSAGE_TOO_LARGE', ErrorCode.MESSAGE_TOO_LARGE, 'quiet'],
  ['OFFSET_OUT_OF_RANGE', ErrorCode.OFFSET_OUT_OF_RANGE, 'quiet'],
  ['OFFSET_MISMATCH', ErrorCode.OFFSET_OUT_OF_RANGE, 'quiet'],
  ['UNSUPPORTED_CODEC', ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'quiet'],
  ['NO_SPACE', ErrorCode.KAFKA_STORAGE_ERROR, 'logged'],
  ['IO', ErrorCode.KAFKA_STORAGE_ERROR, 'logged'],
  ['CLOSED', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'quiet'],
  ['INVALID_ARGUMENT', ErrorCode.INVALID_REQUEST, 'quiet'],
];

describe('toErrorCode', () => {
  it('the Kafka codes used here are the protocol’s numbers', () => {
    expect([ErrorCode.OFFSET_OUT_OF_RANGE, ErrorCode.CORRUPT_MESSAGE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.MESSAGE_TOO_LARGE]).toEqual([1, 2, 3, 10]);
    expect([ErrorCode.INVALID_TIMESTAMP, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_REQUEST, ErrorCode.KAFKA_STORAGE_ERROR]).toEqual([32, 40, 42, 56]);
    expect([ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, ErrorCode.INVALID_RECORD, ErrorCode.UNKNOWN_SERVER_ERROR]).toEqual([76, 87, -1]);
  });

  it.each(NATIVE)('native %s becomes Kafka code %i with the native message', (code, kafka, log) => {
    const e = new BrookNativeError(`${code.toLowerCase()} at /data/t-0/00000000000000000000.log`, code);
    expect(toErrorCode(e, errorLog)).toEqual({ errorCode: kafka, message: e.message });
    if (log === 'logged') expect(logged).toEqual([`storage error: ${e.message}`]);
    else expect(logged).toEqual([]);
  });

  it('maps what the addon really throws (a gzip stream that is not one: CODEC_ERROR, CORRUPT_MESSAGE)', () => {
    let thrown: unknown;
    try {
      decompress(Codec.Gzip, Buffer.from('definitely not gzip'));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(BrookNativeError);
    expect((thrown as BrookNativeError).code).toBe('CODEC_ERROR');
    expect(toErrorCode(thrown, errorLog).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('keeps the code and message of a KafkaError, whatever the code, without logging', () => {
    for (const code of [ErrorCode.NOT_CONTROLLER, ErrorCode.INVALID_PARTITIONS, ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.UNKNOWN_SERVER_ERROR]) {
      const e = new KafkaError(code, `chosen ${code}`);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe('KafkaError');
      expect(e.errorCode).toBe(code);
      expect(toErrorCode(e, errorLog)).toEqual({ errorCode: code, message: `chosen ${code}` });
    }
    expect(logged).toEqual([]);
  });

  it('answers a ConfigError as INVALID_CONFIG with its message, without logging', () => {
    const e = new ConfigError('retention.ms', 'invalid value "abc" for retention.ms: expected an integer');
    expect(toErrorCode(e, errorLog)).toEqual({ errorCode: ErrorCode.INVALID_CONFIG, message: e.message });
    expect(logged).toEqual([]);
  });

  it('answers a native code it does not know as UNKNOWN_SERVER_ERROR, logged, without leaking the message', () => {
    const e = new BrookNativeError('something new at /secret/path', 'SOMETHING_NEW');
    expect(toErrorCode(e, errorLog)).toEqual({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message: 'unexpected server error' });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^UNKNOWN_SERVER_ERROR: BrookNativeError: something new at \/secret\/path\n\s+at /);
  });

  it('answers any other error as UNKNOWN_SERVER_ERROR and logs its stack', () => {
    const e = new TypeError('x is undefined');
    expect(toErrorCode(e, errorLog)).toEqual({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message: 'unexpected server error' });
    expect(logged).toEqual([`UNKNOWN_SERVER_ERROR: ${e.stack}`]);
  });

  it('answers thrown non-errors (a string, undefined, null, an object) as UNKNOWN_SERVER_ERROR, logged as they are', () => {
    expect(toErrorCode('just a string', errorLog)).toEqual({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message: 'unexpected server error' });
    expect(toErrorCode(undefined, errorLog).errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
    expect(toErrorCode(null, errorLog).errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
    expect(toErrorCode({ code: 'IO' }, errorLog).errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR); // shaped like one, but not a native error
    expect(logged).toEqual(['UNKNOWN_SERVER_ERROR: just a string', 'UNKNOWN_SERVER_ERROR: undefined', 'UNKNOWN_SERVER_ERROR: null', 'UNKNOWN_SERVER_ERROR: [object Object]']);
  });
});
