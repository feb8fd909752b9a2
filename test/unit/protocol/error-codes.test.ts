import { describe, expect, it } from 'vitest';
import { ApiKey, apiKeyName } from '../../../src/protocol/api-keys.js';
import { ErrorCode, errorInfo, errorMessage, errorName, isRetriable } from '../../../src/protocol/error-codes.js';

describe('error codes', () => {
  // The numbers handlers and clients depend on, checked against the protocol guide's table.
  const expected: Array<[keyof typeof ErrorCode, number]> = [
    ['UNKNOWN_SERVER_ERROR', -1],
    ['NONE', 0],
    ['OFFSET_OUT_OF_RANGE', 1],
    ['CORRUPT_MESSAGE', 2],
    ['UNKNOWN_TOPIC_OR_PARTITION', 3],
    ['LEADER_NOT_AVAILABLE', 5],
    ['NOT_LEADER_OR_FOLLOWER', 6],
    ['REQUEST_TIMED_OUT', 7],
    ['MESSAGE_TOO_LARGE', 10],
    ['OFFSET_METADATA_TOO_LARGE', 12],
    ['COORDINATOR_LOAD_IN_PROGRESS', 14],
    ['COORDINATOR_NOT_AVAILABLE', 15],
    ['NOT_COORDINATOR', 16],
    ['INVALID_TOPIC_EXCEPTION', 17],
    ['RECORD_LIST_TOO_LARGE', 18],
    ['NOT_ENOUGH_REPLICAS', 19],
    ['INVALID_REQUIRED_ACKS', 21],
    ['ILLEGAL_GENERATION', 22],
    ['INCONSISTENT_GROUP_PROTOCOL', 23],
    ['INVALID_GROUP_ID', 24],
    ['UNKNOWN_MEMBER_ID', 25],
    ['INVALID_SESSION_TIMEOUT', 26],
    ['REBALANCE_IN_PROGRESS', 27],
    ['INVALID_COMMIT_OFFSET_SIZE', 28],
    ['INVALID_TIMESTAMP', 32],
    ['UNSUPPORTED_VERSION', 35],
    ['TOPIC_ALREADY_EXISTS', 36],
    ['INVALID_PARTITIONS', 37],
    ['INVALID_REPLICATION_FACTOR', 38],
    ['INVALID_CONFIG', 40],
    ['NOT_CONTROLLER', 41],
    ['INVALID_REQUEST', 42],
    ['UNSUPPORTED_FOR_MESSAGE_FORMAT', 43],
    ['POLICY_VIOLATION', 44],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45],
    ['DUPLICATE_SEQUENCE_NUMBER', 46],
    ['INVALID_PRODUCER_EPOCH', 47],
    ['INVALID_PRODUCER_ID_MAPPING', 49],
    ['KAFKA_STORAGE_ERROR', 56],
    ['UNKNOWN_PRODUCER_ID', 59],
    ['NON_EMPTY_GROUP', 68],
    ['GROUP_ID_NOT_FOUND', 69],
    ['TOPIC_DELETION_DISABLED', 73],
    ['UNSUPPORTED_COMPRESSION_TYPE', 76],
    ['MEMBER_ID_REQUIRED', 79],
    ['GROUP_MAX_SIZE_REACHED', 81],
    ['FENCED_INSTANCE_ID', 82],
    ['GROUP_SUBSCRIBED_TO_TOPIC', 86],
    ['INVALID_RECORD', 87],
    ['UNSTABLE_OFFSET_COMMIT', 88],
    ['THROTTLING_QUOTA_EXCEEDED', 89],
    ['PRODUCER_FENCED', 90],
    ['UNKNOWN_TOPIC_ID', 100],
    ['TRANSACTION_ABORTABLE', 120],
  ];
  it.each(expected)('%s is %d', (name, code) => {
    expect(ErrorCode[name]).toBe(code);
    expect(errorName(code)).toBe(name);
  });

  it('has one row per code and per name', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (let code = -1; code <= 128; code++) expect(errorInfo(code), `code ${code}`).toBeDefined();
  });

  it('knows which errors are retriable', () => {
    expect(isRetriable(ErrorCode.NOT_LEADER_OR_FOLLOWER)).toBe(true);
    expect(isRetriable(ErrorCode.NOT_COORDINATOR)).toBe(true);
    expect(isRetriable(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)).toBe(true);
    expect(isRetriable(ErrorCode.TOPIC_ALREADY_EXISTS)).toBe(false);
    expect(isRetriable(ErrorCode.REBALANCE_IN_PROGRESS)).toBe(false);
    expect(isRetriable(12345)).toBe(false);
  });

  it('gives default messages and names unknown codes for logs', () => {
    expect(errorMessage(ErrorCode.NONE)).toBeNull();
    expect(errorMessage(ErrorCode.UNSUPPORTED_VERSION)).toBe('The version of API is not supported.');
    expect(errorName(12345)).toBe('UNKNOWN_ERROR_CODE(12345)');
  });
});

describe('api keys', () => {
  it('numbers and names', () => {
    expect(ApiKey.Produce).toBe(0);
    expect(ApiKey.ApiVersions).toBe(18);
    expect(ApiKey.OffsetDelete).toBe(47);
    expect(apiKeyName(23)).toBe('OffsetForLeaderEpoch');
    expect(apiKeyName(4242)).toBe('Unknown(4242)');
  });
});
