/**
 * Header versions, KIP-511, and byte vectors checked by hand against the layouts in the protocol
 * guide (https://kafka.apache.org/protocol): each expected frame is spelled out field by field.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeApiVersionsFallback,
  encodeRequest,
  encodeResponse,
} from '../../../src/protocol/frames.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../../src/protocol/headers.js';
import { apiVersionsApi } from '../../../src/protocol/schemas/api-versions.js';
import { fetchApi } from '../../../src/protocol/schemas/fetch.js';
import { metadataApi } from '../../../src/protocol/schemas/metadata.js';
import { produceApi } from '../../../src/protocol/schemas/produce.js';
import { ProtocolError } from '../../../src/protocol/protocol-error.js';
import { concatChunks } from '../../../src/protocol/writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s).toString('hex');

describe('header versions', () => {
  const table: Array<[string, number, number, number, number]> = [
    // name, api key, api version, request header, response header
    ['ApiVersions v0', 18, 0, 1, 0],
    ['ApiVersions v3 (flexible body, v0 response header: KIP-511)', 18, 3, 2, 0],
    ['ApiVersions v9 (from the future)', 18, 9, 2, 0],
    ['Produce v8', 0, 8, 1, 0],
    ['Produce v9', 0, 9, 2, 1],
    ['Fetch v11', 1, 11, 1, 0],
    ['Fetch v12', 1, 12, 2, 1],
    ['Metadata v9', 3, 9, 2, 1],
    ['OffsetDelete v0 (never flexible)', 47, 0, 1, 0],
    ['ControlledShutdown v0 (header v0, no client id)', 7, 0, 0, 0],
    ['ControlledShutdown v1', 7, 1, 1, 0],
    ['ControlledShutdown v3', 7, 3, 2, 1],
    ['an unknown API key', 999, 5, 1, 0],
  ];
  it.each(table)('%s', (_name, key, version, request, response) => {
    expect(requestHeaderVersion(key, version)).toBe(request);
    expect(responseHeaderVersion(key, version)).toBe(response);
  });

  it('reads a request header v0 without a client id', () => {
    const { header, bodyOffset } = decodeRequestHeader(hex('0007 0000 0000002a 00000001'));
    expect(header).toEqual({ apiKey: 7, apiVersion: 0, correlationId: 42, clientId: null });
    expect(bodyOffset).toBe(8);
  });

  it('reads a null client id', () => {
    const { header } = decodeRequestHeader(hex('0003 0001 00000001 ffff'));
    expect(header.clientId).toBeNull();
  });

  it('skips tagged fields in request header v2', () => {
    const { header, bodyOffset } = decodeRequestHeader(hex(`0012 0003 00000007 0001 ${ascii('c')} 01 05 02 aabb 99`));
    expect(header).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 7, clientId: 'c' });
    expect(bodyOffset).toBe(16);
  });

  it('a truncated header is a ProtocolError', () => {
    expect(() => decodeRequestHeader(hex('0012 0003 0000'))).toThrow(ProtocolError);
    expect(() => decodeRequestHeader(hex('0012 0003 00000007 0005 6162'))).toThrow(ProtocolError);
  });
});

describe('KIP-511 ApiVersions fallback', () => {
  it('is a v0 header and v0 body: UNSUPPORTED_VERSION plus the ApiVersions range', () => {
    expect(encodeApiVersionsFallback(0x01020304, 0, 3)).toEqual(
      hex(
        '00000010' + // size 16
          '01020304' + // correlation id (response header v0)
          '0023' + // error_code 35 UNSUPPORTED_VERSION
          '00000001' + // api_keys: INT32 count 1 (classic array even if the request was v3+)
          '0012 0000 0003', // api_key 18, min 0, max 3
      ),
    );
  });

  it('decodes as an ApiVersions v0 response', () => {
    const { correlationId, body } = decodeResponse(apiVersionsApi, 0, encodeApiVersionsFallback(9, 0, 4).subarray(4));
    expect(correlationId).toBe(9);
    expect(body).toMatchObject({ errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }] });
  });
});

describe('hand-checked frames', () => {
  it('ApiVersions v0 request', () => {
    const frame = encodeRequest(apiVersionsApi, 0, { correlationId: 1, clientId: 'kcat' }, {});
    expect(frame).toEqual(
      hex(
        '0000000e' + // size 14
          '0012 0000 00000001' + // api_key 18, api_version 0, correlation_id 1
          `0004 ${ascii('kcat')}`, // client_id (header v1); v0 body is empty
      ),
    );
  });

  it('ApiVersions v3 request: header v2 keeps the INT16 client id, the body is compact', () => {
    const frame = encodeRequest(apiVersionsApi, 3, { correlationId: 1, clientId: 'kcat' }, {
      clientSoftwareName: 'librdkafka',
      clientSoftwareVersion: '2.0.2',
    });
    expect(frame).toEqual(
      hex(
        '00000021' + // size 33
          '0012 0003 00000001' +
          `0004 ${ascii('kcat')}` + // client_id, INT16 length even in header v2
          '00' + // header tag buffer
          `0b ${ascii('librdkafka')}` + // COMPACT_STRING: length 10 + 1
          `06 ${ascii('2.0.2')}` + // COMPACT_STRING: length 5 + 1
          '00', // body tag buffer
      ),
    );
  });

  it('ApiVersions v3 response: flexible body under a v0 header (no header tag buffer)', () => {
    const chunks = encodeResponse(apiVersionsApi, 3, 5, {
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
    });
    expect(concatChunks(chunks)).toEqual(
      hex(
        '00000013' + // size 19 = 4 + 2 + 8 + 4 + 1
          '00000005' + // correlation id; NO tag buffer here
          '0000' + // error_code
          '02 0012 0000 0003 00' + // COMPACT_ARRAY of 1 entry, each entry closes with a tag buffer
          '00000000' + // throttle_time_ms
          '00', // body tag buffer (no supported/finalized features)
      ),
    );
  });

  it('Metadata v1 request for one topic', () => {
    const frame = encodeRequest(metadataApi, 1, { correlationId: 2, clientId: null }, { topics: [{ name: 't' }] });
    expect(frame).toEqual(hex('00000011 0003 0001 00000002 ffff 00000001 0001 74'));
  });

  it('Produce v3 response: throttle_time_ms comes last', () => {
    const chunks = encodeResponse(produceApi, 3, 3, {
      responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 10n }] }],
      throttleTimeMs: 0,
    });
    expect(concatChunks(chunks)).toEqual(
      hex(
        '00000029' + // size 41 = 4 + 4 + 3 + 4 + 4 + 2 + 8 + 8 + 4
          '00000003' + // correlation id
          '00000001' + // responses: 1 topic
          '0001 74' + // name "t"
          '00000001' + // partition_responses: 1
          '00000000' + // index 0
          '0000' + // error_code
          '000000000000000a' + // base_offset 10
          'ffffffffffffffff' + // log_append_time_ms -1 (v2+, default)
          '00000000', // throttle_time_ms, LAST in Produce
      ),
    );
  });

  it('Fetch v12 response: header v1 (tag buffer), throttle first, compact records', () => {
    const chunks = encodeResponse(fetchApi, 12, 4, {
      responses: [
        {
          topic: 't',
          partitions: [
            { partitionIndex: 0, highWatermark: 1n, lastStableOffset: 1n, logStartOffset: 0n, records: hex('abcd') },
          ],
        },
      ],
    });
    expect(concatChunks(chunks)).toEqual(
      hex(
        '0000003c' + // size 60
          '00000004 00' + // correlation id, header tag buffer
          '00000000' + // throttle_time_ms FIRST
          '0000' + // error_code
          '00000000' + // session_id
          '02' + // responses: compact array of 1
          '02 74' + // topic "t", compact string
          '02' + // partitions: compact array of 1
          '00000000 0000' + // partition_index, error_code
          '0000000000000001' + // high_watermark
          '0000000000000001' + // last_stable_offset
          '0000000000000000' + // log_start_offset
          '00' + // aborted_transactions: null (compact 0)
          'ffffffff' + // preferred_read_replica -1
          '03 abcd' + // records: COMPACT_RECORDS length 2 + 1
          '00' + // partition tag buffer
          '00' + // topic tag buffer
          '00', // body tag buffer
      ),
    );
  });

  it('Produce v9 request round-trips through the frame functions', () => {
    const frame = encodeRequest(produceApi, 9, { correlationId: 11, clientId: 'p' }, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 'events', partitionData: [{ index: 2, records: hex('0102') }] }],
    });
    const payload = frame.subarray(4);
    expect(frame.readInt32BE(0)).toBe(payload.length);
    const { header, bodyOffset } = decodeRequestHeader(payload);
    expect(header).toEqual({ apiKey: 0, apiVersion: 9, correlationId: 11, clientId: 'p' });
    expect(decodeRequestBody(produceApi, 9, payload, bodyOffset)).toEqual({
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 'events', partitionData: [{ index: 2, records: hex('0102') }] }],
    });
  });
});
