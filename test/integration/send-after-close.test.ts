/**
 * Record bytes of one connection must never reach another. Found by fuzz.test.ts (a health check
 * received `00000000...`, the start of a record batch, as its answer): a Fetch answer's file slice
 * is written by a libuv worker (sendfile / preadWrite) to the socket's descriptor NUMBER; when the
 * broker closes that connection meanwhile (here: the next pipelined frame has an unknown api key),
 * the number is freed, the next accepted connection gets it, and the worker goes on writing the
 * rest of the first client's records into the new client's socket.
 *
 * The broker runs in its own process so that descriptor numbers are the broker's alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBatch } from '../../src/native/records.js';
import { apiVersionsApi } from '../../src/protocol/schemas/api-versions.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { kafkajs, spawnBroker, withAdmin, type BrokerProcess } from './harness.js';
import { RawClient } from './raw-client.js';

/** More than loopback socket buffers hold, so the worker is still waiting to write when the broker closes. */
const TOPIC_BYTES = 16 * 1024 * 1024;
const ROUNDS = 24;

let broker: BrokerProcess;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'brook-send-close-'));
  broker = await spawnBroker(dataDir);
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
    for (let round = 0; round < ROUNDS; round++) {
      // The Fetch answer is larger than the socket buffers and this client does not read: the
      // broker's worker waits to write. The frame after it makes the broker close the connection.
      const a = connect(broker.port, '127.0.0.1');
      a.on('error', () => {});
      await new Promise<void>((r) => a.once('connect', () => r()));
      a.pause();
      a.write(Buffer.concat([fetchFrame, unknownApiKey]));
      await new Promise((r) => setTimeout(r, 100));

      // A new client, very likely given the closed connection's descriptor number, asks for
      // ApiVersions; the first client then reads, so the old socket drains and a waiting worker wakes.
      const got = await new Promise<Buffer>((resolve) => {
        const b = connect(broker.port, '127.0.0.1');
        const chunks: Buffer[] = [];
        b.on('error', () => resolve(Buffer.concat(chunks)));
        b.on('data', (d: Buffer) => chunks.push(d));
        b.on('connect', () => {
          b.write(apiVersionsFrame);
          setTimeout(() => {
            a.on('data', () => {});
            a.resume();
          }, 50);
        });
        setTimeout(() => {
          b.destroy();
          resolve(Buffer.concat(chunks));
        }, 400);
      });
      a.destroy();
      const size = got.length >= 4 ? got.readInt32BE(0) : -1;
      const ok = got.length === size + 4 && size >= 4 && got.readInt32BE(4) === 4242;
      if (!ok) wrong.push(`round ${round}: ${got.length} bytes, starting ${got.subarray(0, 32).toString('hex')}`);
    }
    expect(wrong, 'the ApiVersions client received bytes that were not its answer').toEqual([]);
  }, 60_000);
});
