import { describe, expect, it } from 'vitest';
import { codecFor } from '../../../src/protocol/compile.js';
import { decodeRequestBody, decodeRequestHeader, encodeRequest } from '../../../src/protocol/frames.js';
import { Reader } from '../../../src/protocol/reader.js';
import { array, defineApi, int32, int64, string, struct } from '../../../src/protocol/schema.js';
import type { MessageSchema } from '../../../src/protocol/schema.js';
import { apiVersionsApi } from '../../../src/protocol/schemas/api-versions.js';
import { fetchApi } from '../../../src/protocol/schemas/fetch.js';
import { metadataApi } from '../../../src/protocol/schemas/metadata.js';
import { produceApi } from '../../../src/protocol/schemas/produce.js';
import { concatChunks, Writer } from '../../../src/protocol/writer.js';

function encode(schema: MessageSchema, version: number, value: unknown): Buffer {
  const w = new Writer();
  codecFor(schema, version).encode(w, value);
  return concatChunks(w.finish());
}

function decode<D>(schema: MessageSchema<D>, version: number, bytes: Buffer): D {
  return codecFor(schema, version).decode(new Reader(bytes));
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('compiled codecs', () => {
  it('are compiled once per (message, version) and cached', () => {
    expect(codecFor(produceApi.request, 7)).toBe(codecFor(produceApi.request, 7));
    expect(codecFor(produceApi.request, 7)).not.toBe(codecFor(produceApi.request, 8));
  });

  it('refuse versions outside the schema', () => {
    expect(() => codecFor(produceApi.request, 12)).toThrow(RangeError);
    expect(() => codecFor(produceApi.request, -1)).toThrow(RangeError);
  });

  it('refuse a tagged field in a non-flexible version', () => {
    const bad = defineApi({
      apiKey: 999,
      name: 'Bad',
      minVersion: 0,
      maxVersion: 1,
      flexibleFrom: 1,
      request: [int32('x', { tag: 0 })],
      response: [],
    });
    expect(() => codecFor(bad.request, 0)).toThrow(/tagged field in non-flexible/);
    expect(() => codecFor(bad.request, 1)).not.toThrow();
  });
});

describe('defaults', () => {
  it('fill fields a handler omits, using the schema default (Produce v8 partition response)', () => {
    const bytes = encode(produceApi.response, 8, {
      responses: [{ name: 't', partitionResponses: [{ index: 3, baseOffset: 42n }] }],
    });
    const decoded = decode(produceApi.response, 8, bytes);
    expect(decoded.responses[0]!.partitionResponses[0]).toMatchObject({
      index: 3,
      errorCode: 0,
      baseOffset: 42n,
      logAppendTimeMs: -1n,
      logStartOffset: -1n,
      recordErrors: [],
      errorMessage: null,
    });
    expect(decoded.throttleTimeMs).toBe(0);
  });

  it('fill fields a version lacks when decoding, so handlers can read them unconditionally', () => {
    const bytes = encode(fetchApi.request, 4, {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 5n, partitionMaxBytes: 1024 }] }],
    });
    const req = decode(fetchApi.request, 4, bytes);
    expect(req).toMatchObject({ maxBytes: 0x7fffffff, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, rackId: '' });
    expect(req.forgottenTopicsData).toEqual([]);
    expect(req.topics[0]!.partitions[0]).toMatchObject({ currentLeaderEpoch: -1, logStartOffset: -1n, lastFetchedEpoch: -1 });
  });

  it('accept a number for an int64 field', () => {
    const a = encode(produceApi.response, 7, { responses: [{ name: 't', partitionResponses: [{ baseOffset: 42 }] }] });
    const b = encode(produceApi.response, 7, { responses: [{ name: 't', partitionResponses: [{ baseOffset: 42n }] }] });
    expect(a.equals(b)).toBe(true);
  });

  it('ignore fields the version does not have', () => {
    const withExtra = encode(produceApi.request, 3, {
      acks: 1,
      timeoutMs: 5,
      topicData: [],
      transactionalId: null,
      unknownField: 99,
    } as never);
    expect(withExtra).toEqual(hex('ffff 0001 00000005 00000000'));
  });
});

describe('null versus empty', () => {
  it('Metadata v1+: a null topic list (all topics) differs from [] (no topics)', () => {
    expect(encode(metadataApi.request, 1, { topics: null })).toEqual(hex('ffffffff'));
    expect(encode(metadataApi.request, 1, { topics: [] })).toEqual(hex('00000000'));
    expect(decode(metadataApi.request, 1, hex('ffffffff')).topics).toBeNull();
    expect(decode(metadataApi.request, 1, hex('00000000')).topics).toEqual([]);
    // Flexible (compact) form.
    expect(decode(metadataApi.request, 9, hex('00 01 00 00 00')).topics).toBeNull();
    expect(decode(metadataApi.request, 9, hex('01 01 00 00 00')).topics).toEqual([]);
  });

  it('Metadata v0: topics are not nullable; a null on the wire reads leniently as []', () => {
    expect(decode(metadataApi.request, 0, hex('ffffffff')).topics).toEqual([]);
    expect(encode(metadataApi.request, 0, { topics: null })).toEqual(hex('00000000'));
  });

  it('Fetch v4: aborted transactions keep null apart from []', () => {
    for (const abortedTransactions of [null, [], [{ producerId: 7n, firstOffset: 3n }]]) {
      const bytes = encode(fetchApi.response, 4, {
        responses: [{ topic: 't', partitions: [{ abortedTransactions, records: null }] }],
      });
      const p = decode(fetchApi.response, 4, bytes).responses[0]!.partitions[0]!;
      expect(p.abortedTransactions).toEqual(abortedTransactions);
    }
  });
});

describe('records', () => {
  it('decode as a zero-copy view of the request frame', () => {
    const batch = Buffer.from('a record batch, opaque to the codec');
    const frame = encodeRequest(produceApi, 9, { correlationId: 1, clientId: 'c' }, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 'events', partitionData: [{ index: 0, records: batch }] }],
    });
    const payload = frame.subarray(4);
    const { header, bodyOffset } = decodeRequestHeader(payload);
    const req = decodeRequestBody(produceApi, header.apiVersion, payload, bodyOffset);
    const records = req.topicData[0]!.partitionData[0]!.records!;
    expect(records).toEqual(batch);
    expect(records.buffer).toBe(payload.buffer);
  });
});

describe('tagged fields', () => {
  it('are written only when they differ from their default', () => {
    const plain = encode(produceApi.response, 10, { responses: [{ name: 't', partitionResponses: [{ index: 0 }] }] });
    const defaulted = encode(produceApi.response, 10, {
      responses: [{ name: 't', partitionResponses: [{ index: 0, currentLeader: { leaderId: -1, leaderEpoch: -1 } }] }],
      nodeEndpoints: [],
    });
    expect(defaulted.equals(plain)).toBe(true);
    const withLeader = encode(produceApi.response, 10, {
      responses: [{ name: 't', partitionResponses: [{ index: 0, currentLeader: { leaderId: 2, leaderEpoch: 5 } }] }],
    });
    expect(withLeader.length).toBeGreaterThan(plain.length);
    expect(decode(produceApi.response, 10, withLeader).responses[0]!.partitionResponses[0]!.currentLeader).toEqual({
      leaderId: 2,
      leaderEpoch: 5,
    });
    expect(decode(produceApi.response, 10, plain).responses[0]!.partitionResponses[0]!.currentLeader).toEqual({
      leaderId: -1,
      leaderEpoch: -1,
    });
  });

  it('unknown tags are skipped, at top level and inside nested structs', () => {
    // ApiVersions v3 response: error_code, api_keys (one entry whose own tag buffer carries an
    // unknown tag 42), throttle_time_ms, then a top-level tag buffer with the known tag 1
    // (finalized_features_epoch) and an unknown tag 9.
    const w = new Writer();
    w.int16(0);
    w.compactArrayLength(1);
    w.int16(18);
    w.int16(0);
    w.int16(3);
    w.uvarint(1); // entry tag buffer: one unknown field
    w.uvarint(42); // tag 42
    w.uvarint(2);
    w.raw(hex('dead'));
    w.int32(0); // throttle_time_ms
    w.uvarint(2); // top-level tag buffer: two fields
    w.uvarint(1); // finalized_features_epoch
    w.uvarint(8);
    w.int64(5n);
    w.uvarint(9); // unknown
    w.uvarint(3);
    w.raw(hex('aabbcc'));
    const decoded = decode(apiVersionsApi.response, 3, w.toBuffer());
    expect(decoded).toEqual({
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: 5n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    });
  });

  it('a known tag with extra trailing bytes (a newer sender) is read and the rest skipped', () => {
    const w = new Writer();
    w.int16(0);
    w.compactArrayLength(0);
    w.int32(0);
    w.uvarint(1);
    w.uvarint(3); // zk_migration_ready
    w.uvarint(3); // size 3: the bool plus 2 bytes we do not understand
    w.raw(hex('01ffff'));
    expect(decode(apiVersionsApi.response, 3, w.toBuffer()).zkMigrationReady).toBe(true);
  });

  it('a known tag whose value runs past its declared size is a ProtocolError', () => {
    const w = new Writer();
    w.int16(0);
    w.compactArrayLength(0);
    w.int32(0);
    w.uvarint(1);
    w.uvarint(1); // finalized_features_epoch: int64, but size says 4
    w.uvarint(4);
    w.raw(hex('00000000 00000000'));
    expect(() => decode(apiVersionsApi.response, 3, w.toBuffer())).toThrow(/need 8 bytes/);
  });

  it('decode the optional v3 features when a broker sends them', () => {
    const value = {
      errorCode: 0,
      apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 11 }],
      throttleTimeMs: 0,
      supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 20 }],
      finalizedFeaturesEpoch: 3n,
      finalizedFeatures: [{ name: 'metadata.version', maxVersionLevel: 20, minVersionLevel: 20 }],
      zkMigrationReady: true,
    };
    expect(decode(apiVersionsApi.response, 3, encode(apiVersionsApi.response, 3, value))).toEqual(value);
  });
});

describe('nested struct arrays in a custom schema', () => {
  const api = defineApi({
    apiKey: 1000,
    name: 'Nested',
    minVersion: 0,
    maxVersion: 2,
    flexibleFrom: 2,
    request: [
      array('outer', [
        string('name'),
        array('inner', [int32('id'), int64('value', { since: 1, default: -1n })]),
        struct('extra', [int32('a', { default: 7 })], { since: 2, tag: 0 }),
      ]),
    ],
    response: [],
  });

  it('encodes per version with the right nesting and defaults', () => {
    const value = { outer: [{ name: 'x', inner: [{ id: 1, value: 2n }] }] };
    expect(encode(api.request, 0, value)).toEqual(hex('00000001 0001 78 00000001 00000001'));
    expect(encode(api.request, 1, value)).toEqual(hex('00000001 0001 78 00000001 00000001 0000000000000002'));
    // v2 flexible: compact lengths, and a tag buffer closing every struct.
    expect(encode(api.request, 2, value)).toEqual(hex('02 02 78 02 00000001 0000000000000002 00 00 00'));
    expect(decode(api.request, 0, encode(api.request, 0, value)).outer[0]!.inner[0]!.value).toBe(-1n);
    expect(decode(api.request, 2, encode(api.request, 2, value)).outer[0]!.extra).toEqual({ a: 7 });
  });
});
