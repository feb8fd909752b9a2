import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse } from '../../src/protocol/frames.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildBatch } from '../../src/native/records.js';
import { apiVersionsApi } from '../../src/protocol/schemas/api-versions.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { metadataApi } from '../../src/protocol/schemas/metadata.js';
import { startTestBroker, type TestBroker } from './harness.js';
import { RawClient } from './raw-client.js';

let tb: TestBroker;
beforeAll(async () => {
  tb = await startTestBroker({ properties: { 'socket.request.max.bytes': 1_000_000 } });
});
afterAll(async () => tb.close());

async function stillServes(): Promise<void> {
  const c = await RawClient.connect(tb.broker.port);
  const res = await c.request(apiVersionsApi, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
  expect(res.errorCode).toBe(0);
  c.close();
}

describe('connections', () => {
  it('answers pipelined requests in order, as kafka-python sends them (ApiVersions v0 + Metadata v0 in one write)', async () => {
    const c = await RawClient.connect(tb.broker.port);
    const both = Buffer.concat([c.encode(apiVersionsApi, 0, {}, 7), c.encode(metadataApi, 0, { topics: [] }, 8)]);
    const first = c.nextFrame();
    const second = c.nextFrame();
    c.write(both);
    const a = decodeResponse(apiVersionsApi, 0, await first);
    const m = decodeResponse(metadataApi, 0, await second);
    expect(a.correlationId).toBe(7);
    expect(m.correlationId).toBe(8);
    expect(m.body.brokers).toHaveLength(1);
    c.close();
  });

  it('accepts a request split into single bytes', async () => {
    const c = await RawClient.connect(tb.broker.port);
    const frame = c.encode(apiVersionsApi, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }, 5);
    const reply = c.nextFrame();
    for (const byte of frame) {
      c.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    expect(decodeResponse(apiVersionsApi, 3, await reply).correlationId).toBe(5);
    c.close();
  });

  it('answers ApiVersions above its maximum with a v0 body and UNSUPPORTED_VERSION (KIP-511)', async () => {
    const c = await RawClient.connect(tb.broker.port);
    const frame = c.encode(apiVersionsApi, 4, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }, 9);
    frame.writeInt16BE(99, 6); // api_version 99: the body must not even be parsed
    const reply = c.nextFrame();
    c.write(frame);
    const res = decodeResponse(apiVersionsApi, 0, await reply);
    expect(res.correlationId).toBe(9);
    expect(res.body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(res.body.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
    c.close();
  });

  it('advertises only versions it serves, with the minimums librdkafka needs', async () => {
    const c = await RawClient.connect(tb.broker.port);
    const res = await c.request(apiVersionsApi, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    const byKey = new Map(res.apiKeys.map((k) => [k.apiKey, k]));
    expect(byKey.get(0)).toMatchObject({ minVersion: 0, maxVersion: 11 }); // Produce: min 0 (reference §5 #1)
    expect(byKey.get(1)).toMatchObject({ minVersion: 4, maxVersion: 17 });
    expect(byKey.get(22)).toMatchObject({ minVersion: 0 }); // InitProducerId: v0 gates idempotence
    expect(byKey.get(23)).toMatchObject({ minVersion: 0, maxVersion: 4 }); // OffsetForLeaderEpoch: served v0-4
    expect(byKey.get(43)).toMatchObject({ minVersion: 0, maxVersion: 2 }); // ElectLeaders: served v0-2
    c.close();
  });

  it('closes only the offending connection on an unknown api key', async () => {
    const bystander = await RawClient.connect(tb.broker.port);
    const c = await RawClient.connect(tb.broker.port);
    const frame = c.encode(apiVersionsApi, 0, {});
    frame.writeInt16BE(999, 4);
    c.write(frame);
    expect(await c.closesWithin(2000)).toBe(true);
    const res = await bystander.request(apiVersionsApi, 0, {});
    expect(res.errorCode).toBe(0);
    bystander.close();
  });

  it('closes the connection on an unsupported version of a known api', async () => {
    const c = await RawClient.connect(tb.broker.port);
    const frame = c.encode(metadataApi, 1, { topics: null });
    frame.writeInt16BE(13, 6);
    c.write(frame);
    expect(await c.closesWithin(2000)).toBe(true);
    await stillServes();
  });

  it('closes the connection on a frame larger than socket.request.max.bytes', async () => {
    const c = await RawClient.connect(tb.broker.port);
    const header = Buffer.alloc(4);
    header.writeInt32BE(2_000_000, 0);
    c.write(header);
    expect(await c.closesWithin(2000)).toBe(true);
    await stillServes();
  });

  it('closes the connection on a negative or tiny frame size', async () => {
    for (const size of [-1, 0, 3]) {
      const c = await RawClient.connect(tb.broker.port);
      const b = Buffer.alloc(4);
      b.writeInt32BE(size, 0);
      c.write(b);
      expect(await c.closesWithin(2000)).toBe(true);
    }
    await stillServes();
  });

  it('closes the connection on a truncated body and keeps serving others', async () => {
    const c = await RawClient.connect(tb.broker.port);
    const frame = c.encode(metadataApi, 9, { topics: [{ name: 'abc' }] });
    // Keep the header, cut the body short, and fix the size prefix to match: a lying body.
    const cut = frame.subarray(0, frame.length - 6);
    cut.writeInt32BE(cut.length - 4, 0);
    c.write(cut);
    expect(await c.closesWithin(2000)).toBe(true);
    await stillServes();
  });

  it('survives garbage bytes and a client that vanishes mid-frame', async () => {
    const c = await RawClient.connect(tb.broker.port);
    c.write(Buffer.from([0, 0, 0, 40, 1, 2, 3]));
    c.close();
    const g = await RawClient.connect(tb.broker.port);
    g.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(await g.closesWithin(2000)).toBe(true);
    await stillServes();
  });

  it('appends every pipelined produce exactly once, whatever the read boundaries', async () => {
    tb.broker.broker.topics.create('pipelined', 1);
    let expected = 0;
    const connection = async (id: number) => {
      const c = await RawClient.connect(tb.broker.port);
      const frames: Buffer[] = [];
      for (let i = 0; i < 300; i++) {
        // Mostly small frames (cut from the shared read buffer), some large (read straight into
        // their own memory across several reads).
        const size = i % 10 === 0 ? 60_000 + ((i * 7919) % 90_000) : 10 + ((i * 104729) % 3000);
        const count = 1 + (i % 4);
        expected += count;
        const records = Array.from({ length: count }, (_, k) => ({ key: `${id}-${i}-${k}`, value: Buffer.alloc(size, i & 0xff) }));
        frames.push(c.encode(produceApi, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'pipelined', partitionData: [{ index: 0, records: buildBatch({ records }) }] }] }, i + 1));
      }
      const replies = frames.map(() => c.nextFrame(30_000));
      const all = Buffer.concat(frames);
      for (let pos = 0, step = 1; pos < all.length; pos += step, step = (step * 31 + 7) % 70_000 || 1) {
        c.write(all.subarray(pos, pos + step));
        if (step % 3 === 0) await new Promise((r) => setImmediate(r));
      }
      for (let i = 0; i < replies.length; i++) {
        const res = decodeResponse(produceApi, 7, await replies[i]);
        expect(res.correlationId).toBe(i + 1);
        expect(res.body.responses[0].partitionResponses[0].errorCode).toBe(0);
      }
      c.close();
    };
    await Promise.all([connection(0), connection(1)]);
    expect(tb.broker.broker.topics.get('pipelined')!.partitions[0].logEndOffset).toBe(expected);
  });
});
