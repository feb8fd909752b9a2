/**
 * Log offsets (ListOffsets), asked of each partition's leader: one request per leader. Used by the
 * consumer (where to start), consumer-group resets and the perf tools.
 */
import type { TopicPartition } from '../coordinator/assignors.js';
import { listOffsetsApi } from '../protocol/messages.js';
import type { KafkaClient } from './client.js';
import { KafkaResponseError } from './errors.js';

/** ListOffsets timestamps with a meaning of their own. */
export const LATEST = -1n;
export const EARLIEST = -2n;

/** A log offset, or the error the leader answered for that partition. */
export type LogOffsetResult = { offset: bigint; timestamp: bigint } | { error: KafkaResponseError };

export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Kafka's TopicPartition.toString(), used in its messages: `topic-0`. */
export const tpName = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`;

/**
 * Log offsets at `timestamp` (LATEST, EARLIEST, or a time in ms: the first offset whose record
 * timestamp is at or after it, -1 when there is none) for each partition, asked of its leader.
 * `isolationLevel` 1 (read_committed): LATEST is the last stable offset (ListOffsets v2+).
 * A partition whose topic or partition does not exist, or has no leader, gets an error result.
 */
export async function listOffsets(client: KafkaClient, partitions: readonly TopicPartition[], timestamp: bigint, isolationLevel: 0 | 1 = 0): Promise<Map<string, LogOffsetResult>> {
  const out = new Map<string, LogOffsetResult>();
  if (partitions.length === 0) return out;
  const topics = [...new Set(partitions.map((p) => p.topic))];
  const md = await client.metadata(topics);
  const byLeader = new Map<number, TopicPartition[]>();
  for (const tp of partitions) {
    const t = md.topics.get(tp.topic);
    const p = t?.partitions.find((x) => x.partition === tp.partition);
    if (!t || t.errorCode !== 0 || !p) {
      out.set(tpKey(tp.topic, tp.partition), { error: new KafkaResponseError(t && t.errorCode !== 0 ? t.errorCode : 3, tpName(tp)) });
      continue;
    }
    if (p.leader < 0) {
      out.set(tpKey(tp.topic, tp.partition), { error: new KafkaResponseError(5, tpName(tp)) });
      continue;
    }
    let list = byLeader.get(p.leader);
    if (!list) byLeader.set(p.leader, (list = []));
    list.push(tp);
  }
  await Promise.all(
    [...byLeader].map(async ([leader, tps]) => {
      const conn = await client.broker(leader);
      const byTopic = new Map<string, number[]>();
      for (const tp of tps) {
        let ps = byTopic.get(tp.topic);
        if (!ps) byTopic.set(tp.topic, (ps = []));
        ps.push(tp.partition);
      }
      const res = await conn.request(listOffsetsApi, {
        replicaId: -1,
        isolationLevel,
        topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 })) })),
        timeoutMs: client.timeoutMs,
      });
      const v0 = conn.version(listOffsetsApi.apiKey) === 0;
      for (const t of res.topics) {
        for (const p of t.partitions) {
          const key = tpKey(t.name, p.partitionIndex);
          if (p.errorCode !== 0) out.set(key, { error: new KafkaResponseError(p.errorCode, `ListOffsets for ${t.name}-${p.partitionIndex}`) });
          else out.set(key, { offset: v0 ? (p.oldStyleOffsets[0] ?? -1n) : p.offset, timestamp: p.timestamp });
        }
      }
    }),
  );
  for (const tp of partitions) {
    const key = tpKey(tp.topic, tp.partition);
    if (!out.has(key)) out.set(key, { error: new KafkaResponseError(3, `ListOffsets for ${tpName(tp)}: no answer for the partition`) });
  }
  return out;
}

/**
 * The offsets of `topic`'s `partitions` at `timestamp` (LATEST, EARLIEST or ms) as numbers; throws
 * the first partition's error.
 */
export async function partitionOffsets(client: KafkaClient, topic: string, partitions: number[], timestamp: bigint | number, isolationLevel: 0 | 1 = 0): Promise<Map<number, number>> {
  const res = await listOffsets(client, partitions.map((partition) => ({ topic, partition })), BigInt(timestamp), isolationLevel);
  const out = new Map<number, number>();
  for (const p of partitions) {
    const r = res.get(tpKey(topic, p))!;
    if ('error' in r) throw r.error;
    out.set(p, Number(r.offset));
  }
  return out;
}
