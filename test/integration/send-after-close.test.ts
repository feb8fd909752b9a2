/**
 * Record bytes of one connection must never reach another. Found by fuzz.test.ts (a health check
 * received `00000000...`, the start of a record batch, as its answer): a Fetch answer's file slice
 * was written by a libuv worker (sendfile / preadWrite) to the socket's descriptor NUMBER; when the
 * broker closed that connection meanwhile (here: the next pipelined frame has an unknown api key),
 * the number was freed, the next accepted connection got it, and the worker wrote the rest of the
 * first client's records into the new client's socket (fixed in 63fdb94: the worker writes to its
 * own duplicate of the descriptor).
 *
 * The broker runs in its own process so that descriptor numbers are the broker's alone. The
 * victim's send is made to wait in the broker's (small) libuv thread pool behind clients that do
 * not read, so it runs only after the close, deterministically.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBatch } from '../../src/native/records.js';
import { apiVersionsApi } from '../../src/protocol/schemas/api-versions.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { kafkajs, spawnBroker, until, withAdmin, type BrokerProcess } from './harness.js';
import { RawClient } from './raw-client.js';

/** More than loopback socket buffers hold, so a send to a client that does not read waits. */
const TOPIC_BYTES = 16 * 1024 * 1024;
/** The broker's libuv thread pool, kept small so that a few clients that do not read fill it. */
const THREADS = 2;

let broker: BrokerProcess;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'brook-send-close-'));
  const saved = process.env.UV_THREADPOOL_SIZE;
  process.env.UV_THREADPOOL_SIZE = String(THREADS); // inherited by the broker process only
  try {
    broker = await spawnBroker(dataDir);
  } finally {
    if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE;
    else process.env.UV_THREADPOOL_SIZE = saved;
  }
  await withAdmin(kafkajs(broker.bootstrap), (admin) => admin.createTopics({ topics: [{ topic: 'big' }] }));
  const c = await RawClient.connect(broker.port);
  const value = Buffer.alloc(10_000, 'r');
  for (let written = 0; written < TOPIC_BYTES; written += 100 * value.length) {
    const res = await c.request(produceApi, 7, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'big', partitionData: [{ index: 0, records: buildBatch({ records: Array.from({ length: 100 }, () => ({ value })) }) }] }] });
    expect(res.responses[0].partitionResponses[0].errorCode).toBe(0);
  }
  c.close();
}, 60_000);

afterAll(async () => {
  broker?.kill('SIGKILL');
  await broker?.exited;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connected(): Promise<Socket> {
  const s = connect(broker.port, '127.0.0.1');
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  return s;
}

describe('a connection closed while its Fetch answer is being sent', () => {
  it('sends none of that answer to the next connection', async () => {
    const encoder = await RawClient.connect(broker.port);
    const fetchFrame = encoder.encode(fetchApi, 11, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 50_000_000,
      isolationLevel: 0,
      topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 50_000_000 }] }],
    });
    const apiVersionsFrame = encoder.encode(apiVersionsApi, 3, { clientSoftwareName: 'bystander', clientSoftwareVersion: '1' }, 4242);
    encoder.close();
    const unknownApiKey = Buffer.from('0000000a7fff0000000000010000', 'hex'); // size 10, api key 32767

    const wrong: string[] = [];
    for (let round = 0; round < 3; round++) {
      // Clients that fetch 16 MB and do not read: each send waits on a thread of the broker's
      // libuv pool (UV_THREADPOOL_SIZE, below), all of them.
      const blockers: Socket[] = [];
      for (let i = 0; i < THREADS; i++) {
        const s = await connected();
        s.pause();
        s.write(fetchFrame);
        blockers.push(s);
      }
      await sleep(300);
      // The victim's Fetch answer: its header is written, its records' send is queued for the pool.
      // Then a frame with an unknown api key: the broker closes the victim's connection, and the
      // descriptor number the queued send holds is free again.
      const victim = await connected();
      victim.pause();
      victim.write(fetchFrame);
      await sleep(150);
      victim.write(unknownApiKey);
      await sleep(150);
      // New clients, one of which is given that number (the lowest free numbers are handed out),
      // ask for ApiVersions; then the blockers read, their sends end, and the pool runs the
      // victim's queued send.
      const bystanders = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const b = await connected();
          const chunks: Buffer[] = [];
          b.on('data', (d: Buffer) => chunks.push(d));
          b.write(apiVersionsFrame);
          return { b, chunks };
        }),
      );
      await sleep(100);
      const drained = blockers.map(() => 0);
      blockers.forEach((s, i) => s.on('data', (d: Buffer) => (drained[i] += d.length)));
      for (const s of [...blockers, victim]) {
        if (s === victim) s.on('data', () => {});
        s.resume();
      }
      // Every blocker got its whole answer, so the pool's threads are free and the victim's send has
      // been run; a little longer for its bytes to arrive wherever they go.
      await until('the blockers to receive their answers', () => drained.every((n) => n >= TOPIC_BYTES), 30_000);
      await sleep(500);
      for (const s of [...blockers, victim, ...bystanders.map((x) => x.b)]) s.destroy();
      bystanders.forEach(({ chunks }, i) => {
        const got = Buffer.concat(chunks);
        const size = got.length >= 4 ? got.readInt32BE(0) : -1;
        const ok = got.length === size + 4 && size >= 4 && got.readInt32BE(4) === 4242;
        if (!ok) wrong.push(`round ${round}, client ${i}: ${got.length} bytes, starting ${got.subarray(0, 32).toString('hex')}`);
      });
      await sleep(200);
    }
    expect(wrong, 'the ApiVersions client received bytes that were not its answer').toEqual([]);
  }, 60_000);
});
