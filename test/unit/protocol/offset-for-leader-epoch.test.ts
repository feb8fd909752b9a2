/**
 * OffsetForLeaderEpoch (key 23) codec: every version round-trips with the fields it carries (and
 * the defaults for those it lacks), and v0 / v4 encode to frames computed by hand from Kafka's
 * message definitions.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { apiSchema } from '../../../src/protocol/messages.js';
import {
  offsetForLeaderEpochApi,
  REPLICA_ID_BEFORE_V3,
} from '../../../src/protocol/schemas/offset-for-leader-epoch.js';
import type {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
} from '../../../src/protocol/schemas/offset-for-leader-epoch.js';
import { decode, encode, hex } from './codec.js';

const VERSIONS = [0, 1, 2, 3, 4];

/** A request with every field set to a value unlike its default. */
const fullRequest: OffsetForLeaderEpochRequest = {
  replicaId: 3,
  topics: [
    {
      topic: 'orders',
      partitions: [
        { partition: 0, currentLeaderEpoch: 9, leaderEpoch: 4 },
        { partition: 7, currentLeaderEpoch: 9, leaderEpoch: 8 },
      ],
    },
    { topic: 'audit', partitions: [] },
  ],
};

/** What a version can carry of fullRequest: absent fields read as their defaults. */
function requestAt(version: number): OffsetForLeaderEpochRequest {
  return {
    replicaId: version >= 3 ? fullRequest.replicaId : REPLICA_ID_BEFORE_V3,
    topics: fullRequest.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({ ...p, currentLeaderEpoch: version >= 2 ? p.currentLeaderEpoch : -1 })),
    })),
  };
}

const fullResponse: OffsetForLeaderEpochResponse = {
  throttleTimeMs: 25,
  topics: [
    {
      topic: 'orders',
      partitions: [
        { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 4, endOffset: 1234n },
        { errorCode: ErrorCode.FENCED_LEADER_EPOCH, partition: 7, leaderEpoch: -1, endOffset: -1n },
        { errorCode: ErrorCode.NONE, partition: 8, leaderEpoch: 2, endOffset: 2n ** 40n },
      ],
    },
  ],
};

function responseAt(version: number): OffsetForLeaderEpochResponse {
  return {
    throttleTimeMs: version >= 2 ? fullResponse.throttleTimeMs : 0,
    topics: fullResponse.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({ ...p, leaderEpoch: version >= 1 ? p.leaderEpoch : -1 })),
    })),
  };
}

describe('OffsetForLeaderEpoch schema', () => {
  it('is registered under key 23 for v0-4, flexible from v4', () => {
    expect(apiSchema(23)).toBe(offsetForLeaderEpochApi);
    expect(offsetForLeaderEpochApi).toMatchObject({ minVersion: 0, maxVersion: 4, flexibleFrom: 4 });
  });

  it.each(VERSIONS)('v%i request round-trips with the fields the version carries', (version) => {
    const bytes = encode(offsetForLeaderEpochApi.request, version, fullRequest);
    expect(decode(offsetForLeaderEpochApi.request, version, bytes)).toEqual(requestAt(version));
    expect(encode(offsetForLeaderEpochApi.request, version, requestAt(version)).equals(bytes)).toBe(true);
  });

  it.each(VERSIONS)('v%i response round-trips with the fields the version carries', (version) => {
    const bytes = encode(offsetForLeaderEpochApi.response, version, fullResponse);
    expect(decode(offsetForLeaderEpochApi.response, version, bytes)).toEqual(responseAt(version));
    expect(encode(offsetForLeaderEpochApi.response, version, responseAt(version)).equals(bytes)).toBe(true);
  });

  it('grows by exactly the fields each version adds', () => {
    const req = VERSIONS.map((v) => encode(offsetForLeaderEpochApi.request, v, fullRequest).length);
    // v1 = v0; v2 adds a 4-byte current_leader_epoch to each of the 2 partitions; v3 adds replica_id.
    expect([req[1]! - req[0]!, req[2]! - req[1]!, req[3]! - req[2]!]).toEqual([0, 8, 4]);
    const res = VERSIONS.map((v) => encode(offsetForLeaderEpochApi.response, v, fullResponse).length);
    // v1 adds leader_epoch to each of the 3 partitions; v2 adds throttle_time_ms; v3 = v2.
    expect([res[1]! - res[0]!, res[2]! - res[1]!, res[3]! - res[2]!]).toEqual([12, 4, 0]);
  });
});

describe('OffsetForLeaderEpoch bytes, computed by hand', () => {
  it('v0 request', () => {
    const value = { topics: [{ topic: 't', partitions: [{ partition: 1, leaderEpoch: 5 }] }] };
    const expected = hex(
      '00000001' + // topics: INT32 count 1
        '0001 74' + //   topic: INT16 length 1, "t"
        '00000001' + //   partitions: INT32 count 1
        '00000001' + //     partition 1
        '00000005', //     leader_epoch 5
    );
    expect(encode(offsetForLeaderEpochApi.request, 0, value)).toEqual(expected);
    expect(decode(offsetForLeaderEpochApi.request, 0, expected)).toEqual({
      replicaId: REPLICA_ID_BEFORE_V3,
      topics: [{ topic: 't', partitions: [{ partition: 1, currentLeaderEpoch: -1, leaderEpoch: 5 }] }],
    });
  });

  it('v4 request (flexible)', () => {
    const value = {
      replicaId: 2,
      topics: [{ topic: 't', partitions: [{ partition: 1, currentLeaderEpoch: 7, leaderEpoch: 5 }] }],
    };
    const expected = hex(
      '00000002' + // replica_id 2 (a follower)
        '02' + // topics: compact array, UVARINT count+1 = 2
        '02 74' + //   topic: compact string, UVARINT length+1 = 2, "t"
        '02' + //   partitions: compact array, 1 entry
        '00000001' + //     partition 1
        '00000007' + //     current_leader_epoch 7
        '00000005' + //     leader_epoch 5
        '00' + //     partition's tagged fields: none
        '00' + //   topic's tagged fields: none
        '00', // request's tagged fields: none
    );
    expect(encode(offsetForLeaderEpochApi.request, 4, value)).toEqual(expected);
    expect(decode(offsetForLeaderEpochApi.request, 4, expected)).toEqual(value);
  });

  it('v0 response', () => {
    const value = { topics: [{ topic: 't', partitions: [{ errorCode: 0, partition: 1, endOffset: 100n }] }] };
    const expected = hex(
      '00000001' + // topics: INT32 count 1
        '0001 74' + //   topic: INT16 length 1, "t"
        '00000001' + //   partitions: INT32 count 1
        '0000' + //     error_code NONE (error_code comes before partition in this API)
        '00000001' + //     partition 1
        '0000000000000064', //     end_offset 100
    );
    expect(encode(offsetForLeaderEpochApi.response, 0, value)).toEqual(expected);
    expect(decode(offsetForLeaderEpochApi.response, 0, expected)).toEqual({
      throttleTimeMs: 0,
      topics: [{ topic: 't', partitions: [{ errorCode: 0, partition: 1, leaderEpoch: -1, endOffset: 100n }] }],
    });
  });

  it('v4 response (flexible): a fenced partition', () => {
    const value = {
      throttleTimeMs: 0,
      topics: [
        {
          topic: 't',
          partitions: [{ errorCode: ErrorCode.FENCED_LEADER_EPOCH, partition: 1, leaderEpoch: -1, endOffset: -1n }],
        },
      ],
    };
    const expected = hex(
      '00000000' + // throttle_time_ms 0
        '02' + // topics: compact array, 1 entry
        '02 74' + //   topic: compact string "t"
        '02' + //   partitions: compact array, 1 entry
        '004a' + //     error_code 74 FENCED_LEADER_EPOCH
        '00000001' + //     partition 1
        'ffffffff' + //     leader_epoch -1 (undefined)
        'ffffffffffffffff' + //     end_offset -1 (undefined)
        '00' + //     partition's tagged fields
        '00' + //   topic's tagged fields
        '00', // response's tagged fields
    );
    expect(encode(offsetForLeaderEpochApi.response, 4, value)).toEqual(expected);
    expect(decode(offsetForLeaderEpochApi.response, 4, expected)).toEqual(value);
  });
});
