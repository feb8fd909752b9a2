/**
 * The dispatcher alone, with handlers of our own over real schemas and no broker behind them:
 * routing by api key, the version gate, KIP-511's answer to a too-new ApiVersions, malformed
 * requests closing the connection, and what it hands handlers and makes of their answers.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../src/broker/broker.js';
import { Dispatcher } from '../../../src/broker/dispatcher.js';
import { BrokerStats } from '../../../src/broker/stats.js';
import { defineHandler, type Handler, type RequestContext } from '../../../src/broker/handler.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { decodeResponse, encodeRequest } from '../../../src/protocol/frames.js';
import { CloseConnection, type OutChunk, type RequestInfo } from '../../../src/protocol/request-sink.js';
import { apiVersionsApi } from '../../../src/protocol/schemas/api-versions.js';
import { metadataApi } from '../../../src/protocol/schemas/metadata.js';
import type { ApiSchema, ReqInput } from '../../../src/protocol/schema.js';

/** A stand-in: the dispatcher passes the broker on to handlers, in their context, and counts into its stats. */
const BROKER = { stand: 'in', stats: new BrokerStats() } as unknown as Broker;
/** The connection side: its address, and close listeners the test can fire. */
const closeListeners = new Set<() => void>();
const ORIGIN = {
  remoteAddress: '192.0.2.7',
  onClose(listener: () => void) {
    closeListeners.add(listener);
    return () => closeListeners.delete(listener);
  },
};

interface Seen {
  body: unknown;
  ctx: RequestContext;
}

function handlers(seen: Seen[], metadataAnswer: (body: unknown) => unknown = () => ({ brokers: [], topics: [], clusterId: 'c', controllerId: 1 })): Handler[] {
  return [
    defineHandler({
      api: metadataApi,
      minVersion: 1,
      maxVersion: 9,
      handle(body, ctx) {
        seen.push({ body, ctx });
        return metadataAnswer(body) as never;
      },
    }),
    defineHandler({
      api: apiVersionsApi,
      minVersion: 0,
      maxVersion: 2,
      handle(body, ctx) {
        seen.push({ body, ctx });
        return { errorCode: 0, apiKeys: ctx.apis.map((a) => ({ ...a })), throttleTimeMs: 0 } as never;
      },
    }),
  ] as Handler[];
}

/** A request frame without its size prefix, and the header fields the connection would read. */
function request<A extends ApiSchema>(api: A, version: number, body: ReqInput<A>, correlationId = 77): { frame: Buffer; info: RequestInfo } {
  const frame = encodeRequest(api, version, { correlationId, clientId: 'unit' }, body).subarray(4);
  return { frame, info: { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) } };
}

/** One whole response frame from the chunks, without the size prefix (checked). */
function responseFrame(chunks: OutChunk[] | null): Buffer {
  expect(chunks).not.toBeNull();
  for (const c of chunks!) expect(Buffer.isBuffer(c)).toBe(true);
  const all = Buffer.concat(chunks as Buffer[]);
  expect(all.readInt32BE(0)).toBe(all.length - 4);
  return all.subarray(4);
}

function closeReason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CloseConnection);
    return (e as Error).message;
  }
  throw new Error('expected CloseConnection, but the dispatcher answered');
}

describe('Dispatcher', () => {
  it('lists the APIs it serves sorted by api key, with each handler’s version range', () => {
    const d = new Dispatcher(BROKER, handlers([]));
    expect(d.apis).toEqual([
      { apiKey: 3, minVersion: 1, maxVersion: 9 },
      { apiKey: 18, minVersion: 0, maxVersion: 2 },
    ]);
  });

  it('routes by api key, decodes the body, and hands the handler the broker, header, version, APIs and client address', () => {
    const seen: Seen[] = [];
    const d = new Dispatcher(BROKER, handlers(seen));
    const { frame, info } = request(metadataApi, 4, { topics: [{ name: 'orders' }], allowAutoTopicCreation: false }, 4242);
    const res = decodeResponse(metadataApi, 4, responseFrame(d.onRequest(frame, info, ORIGIN) as OutChunk[]));
    expect(res.correlationId).toBe(4242);
    expect(res.body).toMatchObject({ brokers: [], topics: [], clusterId: 'c', controllerId: 1 });
    expect(seen).toHaveLength(1);
    expect(seen[0].body).toMatchObject({ topics: [{ name: 'orders' }], allowAutoTopicCreation: false });
    const ctx = seen[0].ctx;
    expect(ctx.broker).toBe(BROKER);
    expect(ctx.version).toBe(4);
    expect(ctx.header).toMatchObject({ apiKey: 3, apiVersion: 4, correlationId: 4242, clientId: 'unit' });
    expect(ctx.apis).toBe(d.apis);
    expect(ctx.clientAddress).toBe('192.0.2.7');
    // A waiting handler hears of the connection closing through the context.
    let heard = 0;
    const forget = ctx.onConnectionClose!(() => heard++);
    expect(closeListeners.size).toBe(1);
    for (const l of closeListeners) l();
    expect(heard).toBe(1);
    forget();
    expect(closeListeners.size).toBe(0);
  });

  it('closes the connection on an api key no handler serves, without calling any handler', () => {
    const seen: Seen[] = [];
    const d = new Dispatcher(BROKER, handlers(seen));
    const { frame } = request(metadataApi, 4, { topics: null, allowAutoTopicCreation: false });
    frame.writeInt16BE(19, 0); // CreateTopics: a real API, but not served here
    expect(closeReason(() => d.onRequest(frame, { apiKey: 19, apiVersion: 4, correlationId: 77 }, ORIGIN))).toBe('unsupported api key 19');
    for (const key of [-1, 999, 0x7fff]) {
      expect(closeReason(() => d.onRequest(frame, { apiKey: key, apiVersion: 0, correlationId: 77 }, ORIGIN))).toBe(`unsupported api key ${key}`);
    }
    expect(seen).toHaveLength(0);
  });

  it('closes the connection on a version below or above the handler’s range, naming the range', () => {
    const seen: Seen[] = [];
    const d = new Dispatcher(BROKER, handlers(seen));
    const low = request(metadataApi, 0, { topics: [] });
    expect(closeReason(() => d.onRequest(low.frame, low.info, ORIGIN))).toBe('unsupported version 0 of Metadata (serving 1-9)');
    const high = request(metadataApi, 10, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(closeReason(() => d.onRequest(high.frame, high.info, ORIGIN))).toBe('unsupported version 10 of Metadata (serving 1-9)');
    const negative = request(metadataApi, 1, { topics: null });
    expect(closeReason(() => d.onRequest(negative.frame, { ...negative.info, apiVersion: -1 }, ORIGIN))).toBe('unsupported version -1 of Metadata (serving 1-9)');
    expect(seen).toHaveLength(0);
  });

  it('answers ApiVersions above its maximum with a v0 body: UNSUPPORTED_VERSION and its own range (KIP-511), body unparsed', () => {
    const seen: Seen[] = [];
    const d = new Dispatcher(BROKER, handlers(seen));
    for (const version of [3, 4, 0x7fff]) {
      const { frame } = request(apiVersionsApi, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }, 9000 + version);
      frame.writeInt16BE(version, 2);
      // A body that would not even parse: the fallback must not read it.
      const garbage = Buffer.concat([frame.subarray(0, 8), Buffer.from([0xff, 0xff, 0xff])]);
      for (const f of [frame, garbage]) {
        const res = decodeResponse(apiVersionsApi, 0, responseFrame(d.onRequest(f, { apiKey: 18, apiVersion: version, correlationId: 9000 + version }, ORIGIN) as OutChunk[]));
        expect(res.correlationId).toBe(9000 + version);
        expect(res.body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
        expect(res.body.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 2 }]);
      }
    }
    expect(seen).toHaveLength(0);
  });

  it('answers ApiVersions within its range through the handler', () => {
    const seen: Seen[] = [];
    const d = new Dispatcher(BROKER, handlers(seen));
    const { frame, info } = request(apiVersionsApi, 2, {}, 5);
    const res = decodeResponse(apiVersionsApi, 2, responseFrame(d.onRequest(frame, info, ORIGIN) as OutChunk[]));
    expect(res.body.errorCode).toBe(0);
    expect(res.body.apiKeys.map((k) => k.apiKey)).toEqual([3, 18]);
    expect(seen).toHaveLength(1);
  });

  it('closes the connection on a body that does not parse, naming the API and version, without calling the handler', () => {
    const seen: Seen[] = [];
    const d = new Dispatcher(BROKER, handlers(seen));
    const { frame, info } = request(metadataApi, 4, { topics: [{ name: 'orders' }], allowAutoTopicCreation: true });
    // Cut inside the topic name.
    expect(closeReason(() => d.onRequest(frame.subarray(0, frame.length - 4), info, ORIGIN))).toMatch(/^malformed Metadata v4 request: /);
    // An array length far beyond the frame.
    const huge = Buffer.from(frame);
    huge.writeInt32BE(0x7fffffff, frame.length - 1 - 2 - 'orders'.length - 4);
    expect(closeReason(() => d.onRequest(huge, info, ORIGIN))).toMatch(/^malformed Metadata v4 request: /);
    expect(seen).toHaveLength(0);
  });

  it('closes the connection on a header that does not parse (client id longer than the frame)', () => {
    const d = new Dispatcher(BROKER, handlers([]));
    const { frame, info } = request(metadataApi, 4, { topics: null, allowAutoTopicCreation: false });
    frame.writeInt16BE(0x7fff, 8); // client_id length
    expect(closeReason(() => d.onRequest(frame, info, ORIGIN))).toMatch(/^malformed Metadata v4 request: /);
  });

  it('counts each answered request into broker.stats: api key, version, latency, and the error codes in the answer', () => {
    const stats = new BrokerStats();
    const answer = () => ({ brokers: [], topics: [{ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name: 'gone', isInternal: false, partitions: [] }], clusterId: 'c', controllerId: 1 });
    const d = new Dispatcher({ stats } as unknown as Broker, handlers([], answer));
    for (let i = 0; i < 2; i++) {
      const { frame, info } = request(metadataApi, 4, { topics: [{ name: 'gone' }], allowAutoTopicCreation: false });
      void d.onRequest(frame, info, ORIGIN);
    }
    const metadata = stats.api(3);
    expect(metadata.requests).toBe(2);
    expect(metadata.byVersion[4]).toBe(2);
    expect(metadata.latency.count).toBe(2);
    expect(metadata.errors.get(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)).toBe(2);

    // metrics.enabled=false: nothing counted.
    const off = new BrokerStats();
    off.enabled = false;
    const quiet = new Dispatcher({ stats: off } as unknown as Broker, handlers([], answer));
    const { frame, info } = request(metadataApi, 4, { topics: null, allowAutoTopicCreation: false });
    void quiet.onRequest(frame, info, ORIGIN);
    expect(off.allApis()).toEqual([]);
  });

  it('passes a null answer on as no response (acks=0), and an asynchronous answer as a promise of the frame', async () => {
    const nothing = new Dispatcher(BROKER, handlers([], () => null));
    const r1 = request(metadataApi, 4, { topics: null, allowAutoTopicCreation: false });
    expect(nothing.onRequest(r1.frame, r1.info, ORIGIN)).toBeNull();

    const later = new Dispatcher(BROKER, handlers([], () => Promise.resolve({ brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }], topics: [], clusterId: null, controllerId: 1 })));
    const r2 = request(metadataApi, 4, { topics: null, allowAutoTopicCreation: false }, 31);
    const pending = later.onRequest(r2.frame, r2.info, ORIGIN);
    expect(pending).toBeInstanceOf(Promise);
    const res = decodeResponse(metadataApi, 4, responseFrame(await pending));
    expect(res.correlationId).toBe(31);
    expect(res.body.brokers).toEqual([{ nodeId: 1, host: 'h', port: 9092, rack: null }]);

    const none = new Dispatcher(BROKER, handlers([], () => Promise.resolve(null)));
    expect(await none.onRequest(r2.frame, r2.info, ORIGIN)).toBeNull();
  });

  it('lets a handler’s own failure through as it is (the connection logs it and closes), not as a protocol error', async () => {
    const boom = new Error('handler bug');
    const sync = new Dispatcher(BROKER, handlers([], () => {
      throw boom;
    }));
    const r = request(metadataApi, 4, { topics: null, allowAutoTopicCreation: false });
    expect(() => sync.onRequest(r.frame, r.info, ORIGIN)).toThrow(boom);
    const async = new Dispatcher(BROKER, handlers([], () => Promise.reject(boom)));
    await expect(async.onRequest(r.frame, r.info, ORIGIN)).rejects.toBe(boom);
  });
});
