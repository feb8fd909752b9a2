/**
 * A full disk through the broker: produce gets KAFKA_STORAGE_ERROR (retriable) for the partition,
 * the broker keeps serving, the log keeps exactly the acknowledged records, and produce works
 * again once space returns. RLIMIT_FSIZE on the broker process stands in for the full disk.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBatch, decodeBatches } from '../../src/native/records.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { createTopicsApi } from '../../src/protocol/schemas/create-topics.js';
import { fetchApi } from '../../src/protocol/schemas/fetch.js';
import { produceApi } from '../../src/protocol/schemas/produce.js';
import { skipReason, spawnBroker } from './harness.js';
import { RawClient } from './raw-client.js';

const hasPrlimit = spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'brook-full-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// prlimit comes with util-linux (Debian's base system), not from npm install: a visible skip.
describe.skipIf(skipReason(hasPrlimit, 'prlimit (util-linux)'))('disk full', () => {
  it('answers KAFKA_STORAGE_ERROR, loses nothing acknowledged, and recovers when space returns', async () => {
    const limit = 4 * 1024 * 1024;
    const b = await spawnBroker(dir, undefined, ['--set', 'offsets.topic.num.partitions=1'], { fileSizeLimit: limit });
    const c = await RawClient.connect(b.port);
    try {
      const created = await c.request(createTopicsApi, 4, { topics: [{ name: 'full', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
      expect(created.topics[0].errorCode).toBe(0);

      let n = 0;
      const produce = async () => {
        const records = Array.from({ length: 10 }, (_, i) => ({ key: `k${n}-${i}`, value: Buffer.alloc(30_000, n & 0xff) }));
        const r = await c.request(produceApi, 7, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'full', partitionData: [{ index: 0, records: buildBatch({ records }) }] }] });
        n++;
        return r.responses[0].partitionResponses[0];
      };
      let acked = 0;
      let refused: number | undefined;
      for (let i = 0; i < 40 && refused === undefined; i++) {
        const p = await produce();
        if (p.errorCode === 0) acked += 10;
        else refused = p.errorCode;
      }
      expect(refused).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
      expect(acked).toBeGreaterThan(0);
      // Still full: still refused, and nothing half-written shows up.
      expect((await produce()).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);

      const readAll = async () => {
        const res = await c.request(fetchApi, 11, { maxWaitMs: 0, minBytes: 0, maxBytes: 100_000_000, topics: [{ topic: 'full', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 100_000_000 }] }] });
        const p = res.responses[0].partitions[0];
        expect(p.errorCode).toBe(0);
        return { hw: Number(p.highWatermark), records: decodeBatches(p.records as Buffer).batches.flatMap((x) => x.records) };
      };
      const before = await readAll();
      expect(before.hw).toBe(acked);
      expect(before.records).toHaveLength(acked);

      // Space returns.
      const raised = spawnSync('prlimit', ['--pid', String(b.pid), '--fsize=unlimited'], { encoding: 'utf8' });
      expect(raised.stderr).toBe('');
      expect(raised.status).toBe(0);
      const after = await produce();
      expect(after.errorCode).toBe(0);
      expect(Number(after.baseOffset)).toBe(acked);
      const all = await readAll();
      expect(all.hw).toBe(acked + 10);
      expect(new Set(all.records.map((r) => r.key?.toString())).size).toBe(acked + 10);
    } finally {
      c.close();
      b.kill('SIGTERM');
      await b.exited;
    }
  }, 60_000);
});
