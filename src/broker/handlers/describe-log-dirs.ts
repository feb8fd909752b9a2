/**
 * DescribeLogDirs (key 35), v0-4.
 *
 * Brook keeps every partition in one log directory (log.dirs), so the answer has one result: its
 * absolute path, and per partition asked for (null: all, __consumer_offsets included) the bytes of
 * its segments, an offset lag of 0 (on one node the high watermark is the log end offset) and
 * is_future_key false (no replica moves between directories). v4 adds the file system's total and
 * usable bytes (statfs; usable is what an unprivileged writer may still use). Topics or partitions
 * that do not exist are left out, as Kafka leaves out what is not in a directory. A directory that
 * cannot be read answers KAFKA_STORAGE_ERROR for it.
 */
import { statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode } from '../../protocol/error-codes.js';
import { describeLogDirsApi } from '../../protocol/schemas/describe-log-dirs.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

interface PartitionEntry {
  partitionIndex: number;
  partitionSize: bigint;
  offsetLag: bigint;
  isFutureKey: boolean;
}

function partitionsOf(broker: Broker, wanted: { topic: string; partitions: number[] }[] | null): { name: string; partitions: PartitionEntry[] }[] {
  const entry = (log: { size: number }, partitionIndex: number): PartitionEntry => ({ partitionIndex, partitionSize: BigInt(log.size), offsetLag: 0n, isFutureKey: false });
  if (wanted === null) {
    return [...broker.topics.all()].map((t) => ({ name: t.name, partitions: t.partitions.map((log, i) => entry(log, i)) }));
  }
  const out: { name: string; partitions: PartitionEntry[] }[] = [];
  for (const w of wanted) {
    const topic = broker.topics.get(w.topic);
    if (!topic) continue;
    const partitions = w.partitions.flatMap((p) => (topic.partitions[p] ? [entry(topic.partitions[p], p)] : []));
    if (partitions.length > 0) out.push({ name: w.topic, partitions });
  }
  return out;
}

export const describeLogDirsHandler = defineHandler({
  api: describeLogDirsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { broker }) {
    const logDir = resolve(broker.config.dataDir);
    let result;
    try {
      const fs = statfsSync(logDir, { bigint: true });
      result = {
        errorCode: ErrorCode.NONE,
        logDir,
        topics: partitionsOf(broker, req.topics),
        totalBytes: fs.blocks * fs.bsize,
        usableBytes: fs.bavail * fs.bsize,
      };
    } catch {
      result = { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir, topics: [], totalBytes: -1n, usableBytes: -1n };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results: [result] };
  },
});
