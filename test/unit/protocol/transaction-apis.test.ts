/**
 * The transaction APIs' codecs (keys 24-28, 65, 66): registration, and for every distinct layout a
 * request and a response encoded to bytes written by hand from Kafka's message definitions, and
 * those bytes decoded back (with the defaults of fields the version lacks).
 *
 * Strings used below: "t" = 74, "tx" = 7478, "g" = 67, "m" = 6d, "m1" = 6d31,
 * "Ongoing" = 4f6e676f696e67, "Bogus" = 426f677573. Non-flexible strings and arrays carry an
 * INT16 / INT32 length; flexible ones a UVARINT of length + 1 (so 00 is null, 01 empty).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { apiSchema } from '../../../src/protocol/messages.js';
import type { AnyApi } from '../../../src/protocol/schema.js';
import { addOffsetsToTxnApi } from '../../../src/protocol/schemas/add-offsets-to-txn.js';
import { addPartitionsToTxnApi } from '../../../src/protocol/schemas/add-partitions-to-txn.js';
import type {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
} from '../../../src/protocol/schemas/add-partitions-to-txn.js';
import { describeTransactionsApi } from '../../../src/protocol/schemas/describe-transactions.js';
import type { DescribeTransactionsResponse } from '../../../src/protocol/schemas/describe-transactions.js';
import { endTxnApi } from '../../../src/protocol/schemas/end-txn.js';
import { listTransactionsApi } from '../../../src/protocol/schemas/list-transactions.js';
import { txnOffsetCommitApi } from '../../../src/protocol/schemas/txn-offset-commit.js';
import type { TxnOffsetCommitRequest } from '../../../src/protocol/schemas/txn-offset-commit.js';
import { writeTxnMarkersApi } from '../../../src/protocol/schemas/write-txn-markers.js';
import type { WriteTxnMarkersRequest, WriteTxnMarkersResponse } from '../../../src/protocol/schemas/write-txn-markers.js';
import { decode, encode, hex } from './codec.js';

/** Encodes `value` at `version`, checks the bytes, and checks they decode to `decoded` (default: `value`). */
function expectBytes(
  schema: AnyApi['request'] | AnyApi['response'],
  version: number,
  value: unknown,
  bytes: Buffer,
  decoded: unknown = value,
): void {
  expect(encode(schema, version, value).toString('hex')).toBe(bytes.toString('hex'));
  expect(decode(schema, version, bytes)).toEqual(decoded);
}

describe('registration', () => {
  it.each([
    [24, 'AddPartitionsToTxn', addPartitionsToTxnApi, 0, 3, 3],
    [25, 'AddOffsetsToTxn', addOffsetsToTxnApi, 0, 4, 3],
    [26, 'EndTxn', endTxnApi, 0, 4, 3],
    [27, 'WriteTxnMarkers', writeTxnMarkersApi, 0, 1, 1],
    [28, 'TxnOffsetCommit', txnOffsetCommitApi, 0, 4, 3],
    [65, 'DescribeTransactions', describeTransactionsApi, 0, 0, 0],
    [66, 'ListTransactions', listTransactionsApi, 0, 1, 0],
  ] as const)('key %i is %s', (key, name, api, minVersion, maxVersion, flexibleFrom) => {
    expect(apiSchema(key)).toBe(api);
    expect(api).toMatchObject({ name, minVersion, maxVersion, flexibleFrom });
  });
});

describe('AddPartitionsToTxn (24) bytes', () => {
  const request: AddPartitionsToTxnRequest = {
    transactionalId: 'tx',
    producerId: 5n,
    producerEpoch: 1,
    topics: [{ name: 't', partitions: [0, 2] }],
  };
  const response: AddPartitionsToTxnResponse = {
    throttleTimeMs: 0,
    results: [
      {
        name: 't',
        resultsByPartition: [
          { partitionIndex: 0, partitionErrorCode: ErrorCode.NONE },
          { partitionIndex: 2, partitionErrorCode: ErrorCode.CONCURRENT_TRANSACTIONS },
        ],
      },
    ],
  };

  it('v0 request (v1, v2 the same)', () => {
    const bytes = hex(
      '0002 7478' + // transactional_id: INT16 length 2, "tx"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '00000001' + // topics: INT32 count 1
        '0001 74' + //   name "t"
        '00000002 00000000 00000002', //   partitions: INT32 count 2, [0, 2]
    );
    for (const v of [0, 1, 2]) expectBytes(addPartitionsToTxnApi.request, v, request, bytes);
  });

  it('v3 request (flexible)', () => {
    const bytes = hex(
      '03 7478' + // transactional_id: compact string "tx"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '02' + // topics: compact array, 1 entry
        '02 74' + //   name "t"
        '03 00000000 00000002' + //   partitions: compact array of 2, [0, 2]
        '00' + //   topic's tagged fields
        '00', // request's tagged fields
    );
    expectBytes(addPartitionsToTxnApi.request, 3, request, bytes);
  });

  it('v0 response', () => {
    const bytes = hex(
      '00000000' + // throttle_time_ms 0
        '00000001' + // results: INT32 count 1
        '0001 74' + //   name "t"
        '00000002' + //   results_by_partition: count 2
        '00000000 0000' + //     partition 0, NONE
        '00000002 0033', //     partition 2, 51 CONCURRENT_TRANSACTIONS
    );
    expectBytes(addPartitionsToTxnApi.response, 0, response, bytes);
  });

  it('v3 response (flexible)', () => {
    const bytes = hex(
      '00000000' + // throttle_time_ms 0
        '02' + // results: compact array, 1 entry
        '02 74' + //   name "t"
        '03' + //   results_by_partition: 2 entries
        '00000000 0000 00' + //     partition 0, NONE, tagged fields
        '00000002 0033 00' + //     partition 2, CONCURRENT_TRANSACTIONS, tagged fields
        '00' + //   topic's tagged fields
        '00', // response's tagged fields
    );
    expectBytes(addPartitionsToTxnApi.response, 3, response, bytes);
  });
});

describe('AddOffsetsToTxn (25) bytes', () => {
  const request = { transactionalId: 'tx', producerId: 5n, producerEpoch: 1, groupId: 'g' };

  it('v0 request (v1, v2 the same)', () => {
    const bytes = hex(
      '0002 7478' + // transactional_id "tx"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '0001 67', // group_id "g"
    );
    for (const v of [0, 1, 2]) expectBytes(addOffsetsToTxnApi.request, v, request, bytes);
  });

  it('v3 request (flexible; v4 the same)', () => {
    const bytes = hex(
      '03 7478' + // transactional_id: compact "tx"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '02 67' + // group_id: compact "g"
        '00', // tagged fields
    );
    for (const v of [3, 4]) expectBytes(addOffsetsToTxnApi.request, v, request, bytes);
  });

  it('v0 response', () => {
    const value = { throttleTimeMs: 0, errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    expectBytes(addOffsetsToTxnApi.response, 0, value, hex('00000000' + '0033')); // throttle 0, error 51
  });

  it('v3 response (flexible)', () => {
    const value = { throttleTimeMs: 10, errorCode: ErrorCode.NONE };
    expectBytes(addOffsetsToTxnApi.response, 3, value, hex('0000000a' + '0000' + '00')); // throttle 10, NONE, tags
  });
});

describe('EndTxn (26) bytes', () => {
  it('v0 request: commit', () => {
    const value = { transactionalId: 'tx', producerId: 5n, producerEpoch: 1, committed: true };
    const bytes = hex(
      '0002 7478' + // transactional_id "tx"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '01', // committed: true (commit)
    );
    expectBytes(endTxnApi.request, 0, value, bytes);
  });

  it('v3 request (flexible): abort', () => {
    const value = { transactionalId: 'tx', producerId: 5n, producerEpoch: 1, committed: false };
    const bytes = hex(
      '03 7478' + // transactional_id: compact "tx"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '00' + // committed: false (abort)
        '00', // tagged fields
    );
    for (const v of [3, 4]) expectBytes(endTxnApi.request, v, value, bytes);
  });

  it('v0 response', () => {
    const value = { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
    expectBytes(endTxnApi.response, 0, value, hex('00000000' + '002f')); // throttle 0, error 47
  });

  it('v3 response (flexible)', () => {
    const value = { throttleTimeMs: 0, errorCode: ErrorCode.PRODUCER_FENCED };
    expectBytes(endTxnApi.response, 3, value, hex('00000000' + '005a' + '00')); // throttle 0, error 90, tags
  });
});

describe('WriteTxnMarkers (27) bytes', () => {
  const request: WriteTxnMarkersRequest = {
    markers: [
      {
        producerId: 5n,
        producerEpoch: 1,
        transactionResult: true,
        topics: [{ name: 't', partitionIndexes: [0] }],
        coordinatorEpoch: 3,
      },
    ],
  };
  const response: WriteTxnMarkersResponse = {
    markers: [{ producerId: 5n, topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] }],
  };

  it('v0 request', () => {
    const bytes = hex(
      '00000001' + // markers: INT32 count 1
        '0000000000000005' + //   producer_id 5
        '0001' + //   producer_epoch 1
        '01' + //   transaction_result: true (COMMIT)
        '00000001' + //   topics: count 1
        '0001 74' + //     name "t"
        '00000001 00000000' + //     partition_indexes: [0]
        '00000003', //   coordinator_epoch 3 (after topics)
    );
    expectBytes(writeTxnMarkersApi.request, 0, request, bytes);
  });

  it('v1 request (flexible)', () => {
    const bytes = hex(
      '02' + // markers: compact array, 1 entry
        '0000000000000005' + //   producer_id 5
        '0001' + //   producer_epoch 1
        '01' + //   transaction_result: COMMIT
        '02' + //   topics: 1 entry
        '02 74' + //     name "t"
        '02 00000000' + //     partition_indexes: [0]
        '00' + //     topic's tagged fields
        '00000003' + //   coordinator_epoch 3
        '00' + //   marker's tagged fields
        '00', // request's tagged fields
    );
    expectBytes(writeTxnMarkersApi.request, 1, request, bytes);
  });

  it('v0 response', () => {
    const bytes = hex(
      '00000001' + // markers: count 1
        '0000000000000005' + //   producer_id 5
        '00000001' + //   topics: count 1
        '0001 74' + //     name "t"
        '00000001' + //     partitions: count 1
        '00000000 0000', //       partition 0, NONE
    );
    expectBytes(writeTxnMarkersApi.response, 0, response, bytes);
  });

  it('v1 response (flexible)', () => {
    const bytes = hex(
      '02' + // markers: 1 entry
        '0000000000000005' + //   producer_id 5
        '02' + //   topics: 1 entry
        '02 74' + //     name "t"
        '02' + //     partitions: 1 entry
        '00000000 0000 00' + //       partition 0, NONE, tagged fields
        '00' + //     topic's tagged fields
        '00' + //   marker's tagged fields
        '00', // response's tagged fields
    );
    expectBytes(writeTxnMarkersApi.response, 1, response, bytes);
  });
});

describe('TxnOffsetCommit (28) bytes', () => {
  /** Every field set unlike its default. */
  const request: TxnOffsetCommitRequest = {
    transactionalId: 'tx',
    groupId: 'g',
    producerId: 5n,
    producerEpoch: 1,
    generationId: 4,
    memberId: 'm1',
    groupInstanceId: null,
    topics: [
      { name: 't', partitions: [{ partitionIndex: 0, committedOffset: 100n, committedLeaderEpoch: 7, committedMetadata: 'm' }] },
    ],
  };
  /** What a v0-v2 request decodes to: the KIP-447 fields at their defaults. */
  const beforeV3 = { ...request, generationId: -1, memberId: '', groupInstanceId: null };

  it('v0 request (v1 the same): no leader epoch, no group member fields', () => {
    const bytes = hex(
      '0002 7478' + // transactional_id "tx"
        '0001 67' + // group_id "g"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '00000001' + // topics: count 1
        '0001 74' + //   name "t"
        '00000001' + //   partitions: count 1
        '00000000' + //     partition_index 0
        '0000000000000064' + //     committed_offset 100
        '0001 6d', //     committed_metadata "m"
    );
    const decoded = {
      ...beforeV3,
      topics: [{ name: 't', partitions: [{ ...request.topics[0]!.partitions[0]!, committedLeaderEpoch: -1 }] }],
    };
    for (const v of [0, 1]) expectBytes(txnOffsetCommitApi.request, v, request, bytes, decoded);
  });

  it('v2 request: + committed_leader_epoch, null metadata', () => {
    const value = {
      ...beforeV3,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, committedOffset: 100n, committedLeaderEpoch: 7, committedMetadata: null }] },
      ],
    };
    const bytes = hex(
      '0002 7478' + // transactional_id "tx"
        '0001 67' + // group_id "g"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '00000001' + // topics: count 1
        '0001 74' + //   name "t"
        '00000001' + //   partitions: count 1
        '00000000' + //     partition_index 0
        '0000000000000064' + //     committed_offset 100
        '00000007' + //     committed_leader_epoch 7 (v2+)
        'ffff', //     committed_metadata: null (INT16 -1)
    );
    expectBytes(txnOffsetCommitApi.request, 2, value, bytes);
  });

  it('v3 request (flexible; v4 the same): + generation_id, member_id, group_instance_id', () => {
    const bytes = hex(
      '03 7478' + // transactional_id: compact "tx"
        '02 67' + // group_id: compact "g"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '00000004' + // generation_id 4
        '03 6d31' + // member_id "m1"
        '00' + // group_instance_id: null (compact nullable string, 0)
        '02' + // topics: 1 entry
        '02 74' + //   name "t"
        '02' + //   partitions: 1 entry
        '00000000' + //     partition_index 0
        '0000000000000064' + //     committed_offset 100
        '00000007' + //     committed_leader_epoch 7
        '02 6d' + //     committed_metadata "m"
        '00' + //     partition's tagged fields
        '00' + //   topic's tagged fields
        '00', // request's tagged fields
    );
    for (const v of [3, 4]) expectBytes(txnOffsetCommitApi.request, v, request, bytes);
  });

  it('v3 request with a static member: group_instance_id set', () => {
    const value = { ...request, groupInstanceId: 'g', topics: [] };
    const bytes = hex(
      '03 7478' + // transactional_id "tx"
        '02 67' + // group_id "g"
        '0000000000000005' + // producer_id 5
        '0001' + // producer_epoch 1
        '00000004' + // generation_id 4
        '03 6d31' + // member_id "m1"
        '02 67' + // group_instance_id "g"
        '01' + // topics: empty compact array
        '00', // tagged fields
    );
    expectBytes(txnOffsetCommitApi.request, 3, value, bytes);
  });

  it('v0 response', () => {
    const value = { throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] };
    const bytes = hex(
      '00000000' + // throttle_time_ms 0
        '00000001' + // topics: count 1
        '0001 74' + //   name "t"
        '00000001' + //   partitions: count 1
        '00000000 0000', //     partition 0, NONE
    );
    expectBytes(txnOffsetCommitApi.response, 0, value, bytes);
  });

  it('v3 response (flexible): a fenced member', () => {
    const value = {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }] }],
    };
    const bytes = hex(
      '00000000' + // throttle_time_ms 0
        '02' + // topics: 1 entry
        '02 74' + //   name "t"
        '02' + //   partitions: 1 entry
        '00000000 0019 00' + //     partition 0, 25 UNKNOWN_MEMBER_ID, tagged fields
        '00' + //   topic's tagged fields
        '00', // response's tagged fields
    );
    expectBytes(txnOffsetCommitApi.response, 3, value, bytes);
  });
});

describe('DescribeTransactions (65) bytes', () => {
  it('v0 request (flexible)', () => {
    const bytes = hex(
      '02' + // transactional_ids: compact array, 1 entry
        '03 7478' + //   "tx"
        '00', // tagged fields
    );
    expectBytes(describeTransactionsApi.request, 0, { transactionalIds: ['tx'] }, bytes);
  });

  it('v0 response: an open transaction and an unknown id', () => {
    const value: DescribeTransactionsResponse = {
      throttleTimeMs: 0,
      transactionStates: [
        {
          errorCode: ErrorCode.NONE,
          transactionalId: 'tx',
          transactionState: 'Ongoing',
          transactionTimeoutMs: 60000,
          transactionStartTimeMs: 1700000000000n,
          producerId: 5n,
          producerEpoch: 1,
          topics: [{ topic: 't', partitions: [0, 2] }],
        },
        // Kafka fills only error_code and transactional_id for an id it does not know.
        {
          errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
          transactionalId: 'x',
          transactionState: '',
          transactionTimeoutMs: 0,
          transactionStartTimeMs: 0n,
          producerId: 0n,
          producerEpoch: 0,
          topics: [],
        },
      ],
    };
    const bytes = hex(
      '00000000' + // throttle_time_ms 0
        '03' + // transaction_states: 2 entries
        '0000' + //   error_code NONE (first in the entry)
        '03 7478' + //   transactional_id "tx"
        '08 4f6e676f696e67' + //   transaction_state "Ongoing"
        '0000ea60' + //   transaction_timeout_ms 60000
        '0000018bcfe56800' + //   transaction_start_time_ms 1700000000000
        '0000000000000005' + //   producer_id 5
        '0001' + //   producer_epoch 1
        '02' + //   topics: 1 entry
        '02 74' + //     topic "t"
        '03 00000000 00000002' + //     partitions [0, 2]
        '00' + //     topic's tagged fields
        '00' + //   entry's tagged fields
        '0069' + //   error_code 105 TRANSACTIONAL_ID_NOT_FOUND
        '02 78' + //   transactional_id "x"
        '01' + //   transaction_state ""
        '00000000' + //   transaction_timeout_ms 0
        '0000000000000000' + //   transaction_start_time_ms 0
        '0000000000000000' + //   producer_id 0
        '0000' + //   producer_epoch 0
        '01' + //   topics: empty
        '00' + //   entry's tagged fields
        '00', // response's tagged fields
    );
    expectBytes(describeTransactionsApi.response, 0, value, bytes);
  });
});

describe('ListTransactions (66) bytes', () => {
  it('v0 request (flexible): no duration_filter, which reads as -1', () => {
    const value = { stateFilters: ['Ongoing'], producerIdFilters: [5n] };
    const bytes = hex(
      '02 08 4f6e676f696e67' + // state_filters: 1 entry, "Ongoing"
        '02 0000000000000005' + // producer_id_filters: 1 entry, 5
        '00', // tagged fields
    );
    expectBytes(listTransactionsApi.request, 0, value, bytes, { ...value, durationFilter: -1n });
  });

  it('v1 request: + duration_filter', () => {
    const value = { stateFilters: [], producerIdFilters: [], durationFilter: 60000n };
    const bytes = hex(
      '01' + // state_filters: empty (any state)
        '01' + // producer_id_filters: empty (any producer)
        '000000000000ea60' + // duration_filter 60000 ms
        '00', // tagged fields
    );
    expectBytes(listTransactionsApi.request, 1, value, bytes);
  });

  it('v0 response (v1 the same)', () => {
    const value = {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      unknownStateFilters: ['Bogus'],
      transactionStates: [{ transactionalId: 'tx', producerId: 5n, transactionState: 'Ongoing' }],
    };
    const bytes = hex(
      '00000000' + // throttle_time_ms 0
        '0000' + // error_code NONE
        '02 06 426f677573' + // unknown_state_filters: 1 entry, "Bogus"
        '02' + // transaction_states: 1 entry
        '03 7478' + //   transactional_id "tx"
        '0000000000000005' + //   producer_id 5
        '08 4f6e676f696e67' + //   transaction_state "Ongoing"
        '00' + //   entry's tagged fields
        '00', // response's tagged fields
    );
    for (const v of [0, 1]) expectBytes(listTransactionsApi.response, v, value, bytes);
  });
});
