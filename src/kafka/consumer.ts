/**
 * A Kafka consumer's fetch loop: assigned partitions are fetched from their leaders (one Fetch in
 * flight per leader, carrying all its partitions), and each partition's record bytes are handed to
 * the caller as they came (whole batches; the caller decodes). The next fetch of a leader is sent
 * as soon as its previous answer arrives, before the caller processes that answer, so the broker
 * reads the next slice while we format this one. The next offset of a partition comes from the
 * batch headers (baseOffset + lastOffsetDelta + 1 of the last complete batch), so it is known
 * without decoding records.
 *
 * Errors per partition: OFFSET_OUT_OF_RANGE resets to the log start or end (`autoOffsetReset`, as
 * auto.offset.reset), leadership errors refresh metadata and retry, others stop the consumer with
 * the error. Fetch is v4-12 (topic names).
 *
 * Isolation (isolation.level): read_committed by default, as Kafka's librdkafka and kafkajs
 * consumers: the broker answers up to the last stable offset with the aborted transactions it
 * overlaps, and aborted-transactions.ts drops their batches. Control batches (transaction markers)
 * are dropped at either level; the position still moves past everything dropped, so a group
 * commits past a trailing marker (no lag of 1).
 */
import { peekBatch } from '../protocol/record-batch.js';
import { deliverableBatches, TransactionFilter } from './aborted-transactions.js';
import { fetchApi } from '../protocol/messages.js';
import type { Res } from '../protocol/schema.js';
import type { KafkaClient } from './client.js';
import type { BrokerConnection } from './connection.js';
import { EARLIEST, LATEST, partitionOffsets } from './offsets.js';
import { check, ConnectionError, KafkaResponseError, RequestTimeoutError } from './errors.js';

export interface FetchedRecords {
  topic: string;
  partition: number;
  /** The offset asked for: batches may start below it (a compressed batch); skip records before it. */
  fetchOffset: number;
  /** Whole RecordBatches, possibly several; never a partial batch, a control batch nor an aborted one. May be empty. */
  records: Buffer;
  /** Offset after the last record in `records`. */
  nextOffset: number;
  highWatermark: number;
  /** -1 unless read_committed (the broker's last_stable_offset). */
  lastStableOffset: number;
}

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface ConsumerOptions {
  /** Default 500 ms (fetch.max.wait.ms). */
  maxWaitMs?: number;
  /** Default 1 (fetch.min.bytes). */
  minBytes?: number;
  /** Default 50 MiB (fetch.max.bytes). */
  maxBytes?: number;
  /** Default 1 MiB (max.partition.fetch.bytes). */
  partitionMaxBytes?: number;
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  /** Default read_committed (isolation.level). */
  isolationLevel?: IsolationLevel;
}

interface Assigned {
  topic: string;
  partition: number;
  /** The next offset to fetch (ahead of `consumed` while an answer is being handled). */
  offset: number;
  /** The offset after the last record the handler has taken: what a group commits. */
  consumed: number;
  leader: number;
}

const RETRY_BACKOFF_MS = 100;

export class Consumer {
  private readonly maxWaitMs: number;
  private readonly minBytes: number;
  private readonly maxBytes: number;
  private readonly partitionMaxBytes: number;
  private readonly autoOffsetReset: 'earliest' | 'latest' | 'none';
  readonly isolationLevel: IsolationLevel;
  private assigned = new Map<string, Assigned>();
  /** Leaders with a fetch loop running. */
  private readonly loops = new Set<number>();
  private stopped = false;
  private failure: Error | undefined;
  private doneWaiters: ((e: Error | undefined) => void)[] = [];
  private handler: Handler | undefined;
  /** Bumped on every assign(): answers to fetches sent under an older assignment are dropped. */
  private generation = 0;

  constructor(
    private readonly client: KafkaClient,
    opts: ConsumerOptions = {},
  ) {
    this.maxWaitMs = opts.maxWaitMs ?? 500;
    this.minBytes = opts.minBytes ?? 1;
    this.maxBytes = opts.maxBytes ?? 50 * 1024 * 1024;
    this.partitionMaxBytes = opts.partitionMaxBytes ?? 1024 * 1024;
    this.autoOffsetReset = opts.autoOffsetReset ?? 'latest';
    this.isolationLevel = opts.isolationLevel ?? 'read_committed';
  }

  /** Position of each assigned partition: the offset after the last record the handler took. */
  positions(): { topic: string; partition: number; offset: number }[] {
    return [...this.assigned.values()].map(({ topic, partition, consumed }) => ({ topic, partition, offset: consumed }));
  }

  /**
   * Replaces the assignment. Offsets are exact positions (resolve earliest/latest with listOffsets
   * first). Fetching starts (or goes on) when run() has been called.
   */
  async assign(list: { topic: string; partition: number; offset: number }[]): Promise<void> {
    this.generation++;
    const next = new Map<string, Assigned>();
    const topics = [...new Set(list.map((a) => a.topic))];
    const infos = new Map(await Promise.all(topics.map(async (t) => [t, await this.client.topic(t)] as const)));
    for (const a of list) {
      const p = infos.get(a.topic)!.partitions.find((x) => x.partition === a.partition);
      if (!p) throw new KafkaResponseError(3, `${a.topic}-${a.partition}`);
      next.set(`${a.topic}\0${a.partition}`, { ...a, consumed: a.offset, leader: p.leader });
    }
    this.assigned = next;
    if (this.handler) this.startLoops();
  }

  /**
   * Starts fetching; `handler` gets each partition's records in offset order (it may return a
   * promise: the next answer of that leader waits for it). The handler answers the offset after the
   * last record it took when it did not take them all (a record limit), else nothing. Resolves when
   * stop() is called, rejects with the error that stopped the consumer.
   */
  run(handler: Handler): Promise<void> {
    this.handler = handler;
    // Stopped before running (e.g. --max-messages 0): settle at once, as stop() will not be called again.
    if (this.stopped) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.doneWaiters.push((e) => (e ? reject(e) : resolve())));
    this.startLoops();
    return done;
  }

  stop(error?: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = error;
    for (const w of this.doneWaiters.splice(0)) w(error);
  }

  private startLoops(): void {
    for (const a of this.assigned.values()) {
      if (a.leader < 0 || this.loops.has(a.leader)) continue;
      this.loops.add(a.leader);
      void this.loop(a.leader);
    }
  }

  /** The fetch loop of one leader: runs while it leads an assigned partition. */
  private async loop(leader: number): Promise<void> {
    let conn: BrokerConnection | undefined;
    let next: Promise<{ gen: number; res: FetchResponse }> | undefined;
    try {
      while (!this.stopped) {
        const mine = [...this.assigned.values()].filter((a) => a.leader === leader);
        if (mine.length === 0) break;
        if (!conn || conn.closed) conn = await this.client.broker(leader);
        const answer = await (next ?? this.fetch(conn, mine));
        next = undefined;
        if (this.stopped) break;
        if (answer.gen !== this.generation) continue;
        // Advance positions from batch headers, send the next fetch, then hand over this answer.
        const fetched = this.absorb(answer.res, leader);
        const after = [...this.assigned.values()].filter((a) => a.leader === leader);
        if (after.length > 0 && !this.stopped && !conn.closed) {
          next = this.fetch(conn, after);
          // Handled now: the handler below may never return (a reader that went away) while the
          // client is closed under this fetch, and its rejection must not be unhandled.
          next.catch(() => {});
        }
        const gen = this.generation;
        for (const f of fetched) {
          if (this.stopped) break;
          const took = await this.handler!(f);
          const a = this.assigned.get(`${f.topic}\0${f.partition}`);
          if (a && gen === this.generation) a.consumed = typeof took === 'number' ? took : f.nextOffset;
        }
        if (fetched.length === 0 && next === undefined) await sleep(RETRY_BACKOFF_MS);
      }
    } catch (e) {
      next?.catch(() => {});
      this.loops.delete(leader);
      if (e instanceof ConnectionError || e instanceof RequestTimeoutError || (e instanceof KafkaResponseError && e.retriable)) {
        // The leader went away or moved: learn where each partition lives now and start again
        // (relocate may start a new loop for this same leader: it owns the `loops` entry then).
        await sleep(RETRY_BACKOFF_MS);
        if (!this.stopped) await this.relocate().catch((err: Error) => this.stop(err));
        return;
      }
      this.stop(e as Error);
      return;
    }
    next?.catch(() => {});
    this.loops.delete(leader);
  }

  private fetch(conn: BrokerConnection, parts: Assigned[]) {
    const gen = this.generation;
    const byTopic = new Map<string, { partition: number; fetchOffset: bigint; partitionMaxBytes: number }[]>();
    for (const a of parts) {
      let list = byTopic.get(a.topic);
      if (!list) byTopic.set(a.topic, (list = []));
      list.push({ partition: a.partition, fetchOffset: BigInt(a.offset), partitionMaxBytes: this.partitionMaxBytes });
    }
    return conn
      .request(
        fetchApi,
        {
          replicaId: -1,
          maxWaitMs: this.maxWaitMs,
          minBytes: this.minBytes,
          maxBytes: this.maxBytes,
          isolationLevel: this.isolationLevel === 'read_committed' ? 1 : 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
          forgottenTopicsData: [],
          rackId: '',
        },
        { extraWaitMs: this.maxWaitMs },
      )
      .then((res) => ({ gen, res }));
  }

  /** Moves positions past what `res` holds and returns it per partition; handles partition errors. */
  private absorb(res: FetchResponse, leader: number): FetchedRecords[] {
    check(res.errorCode, 'Fetch');
    const out: FetchedRecords[] = [];
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const a = this.assigned.get(`${t.topic}\0${p.partitionIndex}`);
        if (!a || a.leader !== leader) continue;
        if (p.errorCode === 1) {
          // OFFSET_OUT_OF_RANGE: the log start or end moved past our position.
          if (this.autoOffsetReset === 'none') throw new KafkaResponseError(1, `${a.topic}-${a.partition} at offset ${a.offset}`);
          const end = this.isolationLevel === 'read_committed' && p.lastStableOffset >= 0n ? p.lastStableOffset : p.highWatermark;
          const target = this.autoOffsetReset === 'earliest' ? Number(p.logStartOffset) : Number(end);
          if (target >= 0) a.offset = target;
          else this.resetFromListOffsets(a).catch((err: Error) => this.stop(err));
          continue;
        }
        if (p.errorCode !== 0) {
          const e = new KafkaResponseError(p.errorCode, `fetch ${a.topic}-${a.partition}`);
          if (!e.retriable) throw e;
          a.leader = -1; // relocated by the next metadata refresh
          void sleep(RETRY_BACKOFF_MS).then(() => this.relocate().catch((err: Error) => this.stop(err)));
          continue;
        }
        const records = p.records;
        if (!records || records.length === 0) continue;
        // Whole batches only: a fetch may end inside a batch.
        let pos = 0;
        let nextOffset = a.offset;
        for (;;) {
          const h = peekBatch(records, pos);
          if (!h || h.size <= 12 || pos + h.size > records.length) break;
          nextOffset = Number(records.readBigInt64BE(pos)) + h.lastOffsetDelta + 1;
          pos += h.size;
        }
        if (pos === 0) continue;
        const fetchOffset = a.offset;
        a.offset = Math.max(nextOffset, a.offset);
        // Aborted entries as numbers: producer ids and offsets stay below 2^53.
        const aborted = this.isolationLevel === 'read_committed' ? (p.abortedTransactions ?? []).map((t) => ({ producerId: Number(t.producerId), firstOffset: Number(t.firstOffset) })) : undefined;
        const kept = deliverableBatches(records.subarray(0, pos), new TransactionFilter(aborted));
        out.push({ topic: a.topic, partition: a.partition, fetchOffset, records: kept, nextOffset: a.offset, highWatermark: Number(p.highWatermark), lastStableOffset: Number(p.lastStableOffset) });
      }
    }
    return out;
  }

  private async resetFromListOffsets(a: Assigned): Promise<void> {
    const offsets = await partitionOffsets(this.client, a.topic, [a.partition], this.autoOffsetReset === 'earliest' ? EARLIEST : LATEST);
    a.offset = offsets.get(a.partition) ?? a.offset;
  }

  /** Fresh metadata for every assigned partition's leader, then the loops that are missing. */
  private async relocate(): Promise<void> {
    const topics = [...new Set([...this.assigned.values()].map((a) => a.topic))];
    for (const topic of topics) {
      const info = await this.client.topic(topic);
      for (const a of this.assigned.values()) if (a.topic === topic) a.leader = info.partitions.find((x) => x.partition === a.partition)?.leader ?? -1;
    }
    if (!this.stopped) this.startLoops();
  }
}

type FetchResponse = Res<typeof fetchApi>;

/** Receives one partition's records; may answer the offset after the last record it took. */
export type Handler = (f: FetchedRecords) => void | number | undefined | Promise<void | number | undefined>;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
