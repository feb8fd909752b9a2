/**
 * ElectLeaders (key 43) codec: every version round-trips with the fields it carries (and the
 * defaults for those it lacks), including the null "every partition" list, and v0 / v2 encode to
 * frames computed by hand from Kafka's message definitions.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { apiSchema } from '../../../src/protocol/messages.js';
import { electLeadersApi, ElectionType } from '../../../src/protocol/schemas/elect-leaders.js';
import type { ElectLeadersRequest, ElectLeadersResponse } from '../../../src/protocol/schemas/elect-leaders.js';
import { decode, encode, hex } from './codec.js';

const VERSIONS = [0, 1, 2];

const fullRequest: ElectLeadersRequest = {
  electionType: ElectionType.UNCLEAN,
  topicPartitions: [
    { topic: 'orders', partitionId: [0, 3, 5] },
    { topic: 'audit', partitionId: [] },
  ],
  timeoutMs: 1500,
};

const fullResponse: ElectLeadersResponse = {
  throttleTimeMs: 10,
  errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  replicaElectionResults: [
    {
      topic: 'orders',
      partitionResult: [
        { partitionId: 0, errorCode: ErrorCode.NONE, errorMessage: null },
        { partitionId: 3, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'leader is already preferred' },
      ],
    },
  ],
};

describe('ElectLeaders schema', () => {
  it('is registered under key 43 for v0-2, flexible from v2', () => {
    expect(apiSchema(43)).toBe(electLeadersApi);
    expect(electLeadersApi).toMatchObject({ minVersion: 0, maxVersion: 2, flexibleFrom: 2 });
  });

  it.each(VERSIONS)('v%i request round-trips; election_type reads PREFERRED before v1', (version) => {
    const expected = { ...fullRequest, electionType: version >= 1 ? fullRequest.electionType : ElectionType.PREFERRED };
    const bytes = encode(electLeadersApi.request, version, fullRequest);
    expect(decode(electLeadersApi.request, version, bytes)).toEqual(expected);
    expect(encode(electLeadersApi.request, version, expected).equals(bytes)).toBe(true);
  });

  it.each(VERSIONS)('v%i request: a null topic_partitions (every partition) stays null, timeout defaults to 60000', (version) => {
    const bytes = encode(electLeadersApi.request, version, { electionType: ElectionType.PREFERRED, topicPartitions: null });
    expect(decode(electLeadersApi.request, version, bytes)).toEqual({
      electionType: ElectionType.PREFERRED,
      topicPartitions: null,
      timeoutMs: 60000,
    });
  });

  it.each(VERSIONS)('v%i response round-trips; the top-level error_code reads NONE before v1', (version) => {
    const expected = { ...fullResponse, errorCode: version >= 1 ? fullResponse.errorCode : ErrorCode.NONE };
    const bytes = encode(electLeadersApi.response, version, fullResponse);
    expect(decode(electLeadersApi.response, version, bytes)).toEqual(expected);
    expect(encode(electLeadersApi.response, version, expected).equals(bytes)).toBe(true);
  });
});

describe('ElectLeaders bytes, computed by hand', () => {
  it('v0 request', () => {
    const value = { topicPartitions: [{ topic: 't', partitionId: [0, 2] }], timeoutMs: 30000 };
    const expected = hex(
      '00000001' + // topic_partitions: INT32 count 1
        '0001 74' + //   topic: INT16 length 1, "t"
        '00000002' + //   partition_id: INT32 count 2
        '00000000' + //     0
        '00000002' + //     2
        '00007530', // timeout_ms 30000
    );
    expect(encode(electLeadersApi.request, 0, value)).toEqual(expected);
    expect(decode(electLeadersApi.request, 0, expected)).toEqual({ electionType: ElectionType.PREFERRED, ...value });
  });

  it('v0 request for every partition: a null array', () => {
    const expected = hex(
      'ffffffff' + // topic_partitions: INT32 count -1 = null
        '0000ea60', // timeout_ms 60000
    );
    expect(encode(electLeadersApi.request, 0, { topicPartitions: null, timeoutMs: 60000 })).toEqual(expected);
  });

  it('v2 request (flexible)', () => {
    const value = { electionType: ElectionType.UNCLEAN, topicPartitions: [{ topic: 't', partitionId: [0, 2] }], timeoutMs: 30000 };
    const expected = hex(
      '01' + // election_type 1 UNCLEAN
        '02' + // topic_partitions: compact array, UVARINT count+1 = 2
        '02 74' + //   topic: compact string, UVARINT length+1 = 2, "t"
        '03' + //   partition_id: compact array, 2 entries
        '00000000' + //     0
        '00000002' + //     2
        '00' + //   topic's tagged fields: none
        '00007530' + // timeout_ms 30000
        '00', // request's tagged fields: none
    );
    expect(encode(electLeadersApi.request, 2, value)).toEqual(expected);
    expect(decode(electLeadersApi.request, 2, expected)).toEqual(value);
  });

  it('v2 request for every partition: a null compact array', () => {
    const expected = hex(
      '00' + // election_type 0 PREFERRED
        '00' + // topic_partitions: UVARINT 0 = null
        '0000ea60' + // timeout_ms 60000
        '00', // tagged fields
    );
    expect(encode(electLeadersApi.request, 2, { topicPartitions: null })).toEqual(expected);
  });

  it('v0 response', () => {
    const value = {
      throttleTimeMs: 0,
      replicaElectionResults: [{ topic: 't', partitionResult: [{ partitionId: 0, errorCode: 0, errorMessage: null }] }],
    };
    const expected = hex(
      '00000000' + // throttle_time_ms 0
        '00000001' + // replica_election_results: INT32 count 1
        '0001 74' + //   topic "t"
        '00000001' + //   partition_result: INT32 count 1
        '00000000' + //     partition_id 0
        '0000' + //     error_code NONE
        'ffff', //     error_message: INT16 length -1 = null
    );
    expect(encode(electLeadersApi.response, 0, value)).toEqual(expected);
    expect(decode(electLeadersApi.response, 0, expected)).toEqual({ ...value, errorCode: 0 });
  });

  it('v2 response (flexible)', () => {
    const value = {
      throttleTimeMs: 0,
      errorCode: 0,
      replicaElectionResults: [
        { topic: 't', partitionResult: [{ partitionId: 2, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'x' }] },
      ],
    };
    const expected = hex(
      '00000000' + // throttle_time_ms 0
        '0000' + // error_code NONE (top level, v1+)
        '02' + // replica_election_results: compact array, 1 entry
        '02 74' + //   topic: compact string "t"
        '02' + //   partition_result: compact array, 1 entry
        '00000002' + //     partition_id 2
        '0054' + //     error_code 84 ELECTION_NOT_NEEDED
        '02 78' + //     error_message: compact nullable string, length+1 = 2, "x"
        '00' + //     partition result's tagged fields
        '00' + //   topic's tagged fields
        '00', // response's tagged fields
    );
    expect(encode(electLeadersApi.response, 2, value)).toEqual(expected);
    expect(decode(electLeadersApi.response, 2, expected)).toEqual(value);
  });
});
