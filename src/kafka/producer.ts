/**
 * A Kafka producer: records are appended into one open batch per partition (batch-builder.ts);
 * a batch is sealed when it reaches `batchSize` or has waited `lingerMs`, then sent to its
 * partition's leader in a Produce request that carries the sealed batches of every partition that
 * leader has (one batch per partition per request, as Kafka's producer sends), with up to
 * `maxInFlight` requests outstanding per broker.
 *
 * Partitioning is the Java client's: a keyed record goes to murmur2(key) & 0x7fffffff mod the
 * partition count; an unkeyed record sticks to one partition until that partition's batch is sealed,
 * then the next partition in turn (the sticky partitioner, KIP-480).
 *
 * Delivery is reported per batch (onBatch), never per record: a record costs nothing beyond its
 * append. A retriable error (leader moved, connection lost, timeout) sends the same batch again after
 * fresh metadata, ahead of its partition's newer batches (which wait meanwhile), until
 * `deliveryTimeoutMs` has passed since the batch was sealed; any other error fails the batch. Not idempotent: a retry after a lost answer may write a batch twice, as a Java producer
 * with enable.idempotence=false does.
 *
 * Memory: `send` returns false once the bytes buffered (open, sealed and in flight) exceed
 * `bufferMemory`; the caller waits for `room()` (Kafka's producer blocks in send instead).
 */
import { partitionForKey } from '../protocol/murmur2.js';
import { produceApi } from '../protocol/messages.js';
import type { Codec } from '../native/codec.js';
import { BatchBuilder, type Header } from './batch-builder.js';
import type { KafkaClient } from './client.js';
import type { BrokerConnection } from './connection.js';
import { ConnectionError, KafkaResponseError, RequestTimeoutError } from './errors.js';

export interface ProducerOptions {
  /** -1 (all), 0 or 1. Default -1, as Kafka's producer. */
  acks?: -1 | 0 | 1;
  /** Default 5 ms (Kafka 4's default). */
  lingerMs?: number;
  /** Bytes per batch before it is sealed. Default 1 MiB (librdkafka's default; Java's is 16 KiB). */
  batchSize?: number;
  compression?: Codec;
  /** Produce requests outstanding per broker. Default 5. */
  maxInFlight?: number;
  /** Upper bound on a Produce request's batches. Default 1 MiB, Kafka's max.request.size. */
  maxRequestSize?: number;
  /** The broker's wait for acks=all (Produce timeoutMs). Default 30 s. */
  requestTimeoutMs?: number;
  /** A batch fails when not acknowledged within this after it is sealed. Default 120 s. */
  deliveryTimeoutMs?: number;
  /** Default 32 MiB. */
  bufferMemory?: number;
  /** Keep every record's `created` stamp and report them in BatchResult.created (perf tools). */
  keepCreated?: boolean;
  onBatch?: (result: BatchResult) => void;
}

export interface BatchResult {
  topic: string;
  partition: number;
  count: number;
  /** -1 with acks=0 or on failure. */
  baseOffset: number;
  error: Error | undefined;
  /** Sum and minimum of the records' `created` stamps (performance.now() at send), for latency. */
  createdSum: number;
  createdMin: number;
  /** Each record's `created` stamp, in append order, with `keepCreated`. */
  created: Float64Array | undefined;
  /** performance.now() when the answer came (or the request was written, acks=0). */
  doneAt: number;
}

interface Sealed {
  topic: string;
  /** The builder's buffer, given to a later batch once this one completes (undefined: not reused). */
  spare: Buffer | undefined;
  partition: number;
  batch: Buffer;
  count: number;
  createdSum: number;
  createdMin: number;
  created: Float64Array | undefined;
  deadline: number;
}

interface PartitionState {
  open: BatchBuilder | undefined;
  leader: number;
  /** Lingered out while its leader had maxInFlight requests out: sealed when one of them completes. */
  held: boolean;
}

interface TopicState {
  partitions: PartitionState[];
  /** Sticky partition for records without key or partition. */
  sticky: number;
}

interface NodeState {
  conn: BrokerConnection | undefined;
  connecting: boolean;
  ready: Sealed[];
  inFlight: number;
}

const RETRY_BACKOFF_MS = 100;

export class Producer {
  private readonly acks: -1 | 0 | 1;
  private readonly lingerMs: number;
  private readonly batchSize: number;
  private readonly compression: Codec;
  private readonly maxInFlight: number;
  private readonly maxRequestSize: number;
  private readonly requestTimeoutMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly bufferMemory: number;
  private readonly onBatch: ((r: BatchResult) => void) | undefined;
  private readonly keepCreated: boolean;
  private readonly topics = new Map<string, TopicState>();
  private readonly nodes = new Map<number, NodeState>();
  /** The pending sealAll: a timer for linger.ms, an immediate for linger.ms=0 (no 1 ms timer floor). */
  private lingerTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private buffered = 0;
  private pendingBatches = 0;
  /** Partitions with batches waiting to be retried (count per `topic\0partition`): held back meanwhile. */
  private readonly retrying = new Map<string, number>();
  /** Buffers of completed batches, for new ones (see BatchBuilder.buffer). */
  private readonly spares: Buffer[] = [];
  /** Partitions with a held batch (see sealAll). */
  private heldCount = 0;
  private idleWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];
  /** Records acknowledged and failed so far. */
  acked = 0;
  failed = 0;
  /** The first delivery error, for the command's message. */
  firstError: Error | undefined;

  constructor(
    private readonly client: KafkaClient,
    opts: ProducerOptions = {},
  ) {
    this.acks = opts.acks ?? -1;
    this.lingerMs = opts.lingerMs ?? 5;
    this.batchSize = opts.batchSize ?? 1024 * 1024;
    this.compression = opts.compression ?? (0 as Codec);
    this.maxInFlight = opts.maxInFlight ?? 5;
    this.maxRequestSize = opts.maxRequestSize ?? 1024 * 1024;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs ?? 120_000;
    this.bufferMemory = opts.bufferMemory ?? 32 * 1024 * 1024;
    this.onBatch = opts.onBatch;
    this.keepCreated = opts.keepCreated ?? false;
  }

  /** Loads `topic`'s partitions and leaders; must be called before sending to it. Throws for an unknown topic. */
  async addTopic(topic: string): Promise<number> {
    const info = await this.client.topic(topic);
    const state = this.topics.get(topic) ?? { partitions: [], sticky: Math.floor(Math.random() * info.partitions.length) };
    for (const p of info.partitions) {
      const existing = state.partitions[p.partition];
      if (existing) existing.leader = p.leader;
      else state.partitions[p.partition] = { open: undefined, leader: p.leader, held: false };
    }
    this.topics.set(topic, state);
    return info.partitions.length;
  }

  /**
   * Appends a record. `created` is the caller's performance.now() (for latency; 0 if unused).
   * Returns false when the buffer is full: wait for room() before sending more.
   */
  send(topic: string, key: Buffer | null, value: Buffer | null, headers: readonly Header[] | null = null, partition?: number, timestamp: number = Date.now(), created = 0): boolean {
    const t = this.topicState(topic);
    let p: number;
    if (partition !== undefined) {
      if (!(partition >= 0 && partition < t.partitions.length)) throw new KafkaResponseError(3, `${topic}-${partition}`);
      p = partition;
    } else if (key !== null) p = partitionForKey(key, t.partitions.length);
    else p = t.sticky;
    const ps = t.partitions[p]!;
    let b = ps.open ?? (ps.open = new BatchBuilder(this.batchSize, this.keepCreated, this.spares.pop()));
    let before = b.size;
    if (!b.append(timestamp, key, value, headers, created)) {
      this.seal(topic, p, ps);
      b = ps.open = new BatchBuilder(this.batchSize, this.keepCreated, this.spares.pop());
      before = 0; // the new batch's header counts too
      b.append(timestamp, key, value, headers, created);
    }
    this.buffered += b.size - before;
    if (b.size >= this.batchSize) this.seal(topic, p, ps);
    else if (this.lingerTimer === undefined) {
      this.lingerTimer = this.lingerMs <= 0 ? setImmediate(() => this.sealAll()) : setTimeout(() => this.sealAll(), this.lingerMs);
    }
    return this.buffered < this.bufferMemory;
  }

  /** Resolves when the buffered bytes are back under half of bufferMemory. */
  room(): Promise<void> {
    if (this.buffered < this.bufferMemory / 2) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Seals every open batch and resolves when every batch has been acknowledged or has failed. */
  flush(): Promise<void> {
    this.sealAll(true);
    if (this.pendingBatches === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private stopLinger(): void {
    const t = this.lingerTimer;
    if (t === undefined) return;
    if (this.lingerMs <= 0) clearImmediate(t as NodeJS.Immediate);
    else clearTimeout(t as NodeJS.Timeout);
    this.lingerTimer = undefined;
  }

  private topicState(topic: string): TopicState {
    const t = this.topics.get(topic);
    if (!t) throw new Error(`producer: topic ${topic} was not added`);
    return t;
  }

  /**
   * Seals the open batches whose linger is over. As in Kafka's accumulator, a batch whose leader
   * already has maxInFlight requests out stays open for appends (held) and is sealed when one of
   * them completes: otherwise a short linger under load seals a tiny batch per turn, each then
   * waiting for its own request. `force` (flush) seals everything.
   */
  private sealAll(force = false): void {
    this.stopLinger();
    for (const [topic, t] of this.topics) {
      for (let p = 0; p < t.partitions.length; p++) {
        const ps = t.partitions[p]!;
        if (ps.open === undefined || ps.open.count === 0) continue;
        if (!force && this.busy(ps.leader)) {
          ps.held = true;
          this.heldCount++;
          continue;
        }
        this.seal(topic, p, ps);
      }
    }
  }

  private busy(leader: number): boolean {
    const node = this.nodes.get(leader);
    return node !== undefined && node.conn !== undefined && !node.conn.closed && node.inFlight >= this.maxInFlight;
  }

  /** A request completed: seal the held batches whose leader can take a request now (also after a leader change). */
  private sealHeld(): void {
    if (this.heldCount === 0) return;
    for (const [topic, t] of this.topics) {
      for (let p = 0; p < t.partitions.length; p++) {
        const ps = t.partitions[p]!;
        if (!ps.held || this.busy(ps.leader)) continue;
        ps.held = false;
        this.heldCount--;
        if (ps.open !== undefined && ps.open.count > 0) this.seal(topic, p, ps);
      }
    }
  }

  private seal(topic: string, partition: number, ps: PartitionState): void {
    const b = ps.open!;
    ps.open = undefined;
    if (ps.held) {
      ps.held = false;
      this.heldCount--;
    }
    const t = this.topics.get(topic)!;
    if (t.sticky === partition) t.sticky = (partition + 1) % t.partitions.length;
    const uncompressed = b.size;
    const batch = b.finish(this.compression);
    // Compressed, the batch is a new buffer and the builder's is free now; uncompressed, it is free
    // once the batch completes: requests write it by reference (connection.ts), and an answer, or the
    // write callback with acks=0, comes only after the bytes are in the kernel; a retry reads it again.
    let spare: Buffer | undefined = b.buffer;
    if (this.compression !== 0) {
      this.recycle(spare);
      spare = undefined;
    }
    this.buffered += batch.length - uncompressed;
    this.pendingBatches++;
    this.enqueue({ topic, spare, partition, batch, count: b.count, createdSum: b.createdSum, createdMin: b.createdMin, created: b.created?.subarray(0, b.count), deadline: Date.now() + this.deliveryTimeoutMs }, ps.leader);
  }

  private enqueue(s: Sealed, leader: number): void {
    const node = this.node(leader);
    node.ready.push(s);
    this.pump(leader, node);
  }

  private node(leader: number): NodeState {
    let node = this.nodes.get(leader);
    if (!node) this.nodes.set(leader, (node = { conn: undefined, connecting: false, ready: [], inFlight: 0 }));
    return node;
  }

  private pump(leader: number, node: NodeState): void {
    if (node.conn === undefined || node.conn.closed) {
      if (node.connecting) return;
      node.connecting = true;
      node.conn = undefined;
      this.client.broker(leader).then(
        (conn) => {
          node.connecting = false;
          node.conn = conn;
          this.pump(leader, node);
        },
        (e: Error) => {
          node.connecting = false;
          this.retryAll(node.ready.splice(0), e);
        },
      );
      return;
    }
    while (node.inFlight < this.maxInFlight && node.ready.length > 0) {
      const batches = this.takeRequest(node);
      this.sendRequest(leader, node, node.conn, batches);
    }
  }

  /** Sealed batches for one request: one per partition, up to maxRequestSize (at least one). */
  private takeRequest(node: NodeState): Sealed[] {
    const taken: Sealed[] = [];
    const seen = new Set<string>();
    let bytes = 0;
    for (let i = 0; i < node.ready.length; ) {
      const s = node.ready[i]!;
      const tp = `${s.topic}\0${s.partition}`;
      if (seen.has(tp) || this.retrying.has(tp) || (taken.length > 0 && bytes + s.batch.length > this.maxRequestSize)) {
        i++;
        continue;
      }
      seen.add(tp);
      bytes += s.batch.length;
      taken.push(s);
      node.ready.splice(i, 1);
    }
    return taken;
  }

  private sendRequest(leader: number, node: NodeState, conn: BrokerConnection, batches: Sealed[]): void {
    const byTopic = new Map<string, { index: number; records: Buffer }[]>();
    for (const s of batches) {
      let list = byTopic.get(s.topic);
      if (!list) byTopic.set(s.topic, (list = []));
      list.push({ index: s.partition, records: s.batch });
    }
    const body = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.requestTimeoutMs,
      topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
    };
    node.inFlight++;
    const done = (): void => {
      node.inFlight--;
      this.sealHeld(); // enqueues and pumps
      this.pump(leader, node);
    };
    if (this.acks === 0) {
      conn.request(produceApi, body, { expectResponse: false }).then(
        () => {
          done();
          for (const s of batches) this.complete(s, -1, undefined);
        },
        (e: Error) => {
          done();
          this.retryAll(batches, e);
        },
      );
      return;
    }
    conn.request(produceApi, body, { extraWaitMs: this.requestTimeoutMs }).then(
      (res) => {
        done();
        const answers = new Map<string, { errorCode: number; baseOffset: bigint; errorMessage: string | null }>();
        for (const t of res.responses) for (const p of t.partitionResponses) answers.set(`${t.name}\0${p.index}`, p);
        const retry: Sealed[] = [];
        for (const s of batches) {
          const a = answers.get(`${s.topic}\0${s.partition}`);
          if (!a) this.complete(s, -1, new Error(`no answer for ${s.topic}-${s.partition} in the Produce response`));
          else if (a.errorCode === 0) this.complete(s, Number(a.baseOffset), undefined);
          else {
            const e = new KafkaResponseError(a.errorCode, `produce to ${s.topic}-${s.partition}`, a.errorMessage);
            if (e.retriable) retry.push(s);
            else this.complete(s, -1, e);
          }
        }
        if (retry.length) this.retryAll(retry, new KafkaResponseError(6, 'produce'));
      },
      (e: Error) => {
        done();
        this.retryAll(batches, e);
      },
    );
  }

  /** Retriable failure: after a backoff and fresh metadata, each batch goes to its partition's leader again. */
  private retryAll(batches: Sealed[], cause: Error): void {
    if (batches.length === 0) return;
    const retriable = cause instanceof ConnectionError || cause instanceof RequestTimeoutError || (cause instanceof KafkaResponseError && cause.retriable);
    const now = Date.now();
    const again: Sealed[] = [];
    for (const s of batches) {
      if (!retriable || now >= s.deadline) this.complete(s, -1, cause);
      else again.push(s);
    }
    if (again.length === 0) return;
    // The partitions of these batches send nothing newer until the retry goes out first (Kafka's
    // producer keeps a partition's order this way with max.in.flight.requests.per.connection=1).
    const keys = again.map((s) => `${s.topic}\0${s.partition}`);
    for (const k of keys) this.retrying.set(k, (this.retrying.get(k) ?? 0) + 1);
    const release = (): void => {
      for (const k of keys) {
        const n = this.retrying.get(k)! - 1;
        if (n === 0) this.retrying.delete(k);
        else this.retrying.set(k, n);
      }
    };
    setTimeout(() => {
      const topics = [...new Set(again.map((s) => s.topic))];
      Promise.all(topics.map((t) => this.addTopic(t))).then(
        () => {
          release();
          // Ahead of the newer batches, in their own order; then each leader sends.
          const leaders = new Set<number>();
          for (let i = again.length - 1; i >= 0; i--) {
            const s = again[i]!;
            const leader = this.topics.get(s.topic)!.partitions[s.partition]!.leader;
            this.node(leader).ready.unshift(s);
            leaders.add(leader);
          }
          for (const leader of leaders) this.pump(leader, this.node(leader));
        },
        (e: Error) => {
          release();
          this.retryAll(again, e instanceof KafkaResponseError ? e : new ConnectionError(e.message));
        },
      );
    }, RETRY_BACKOFF_MS);
  }

  /** Keeps a few batch buffers for the next batches (as many as batches fit in bufferMemory, at most 8). */
  private recycle(buf: Buffer): void {
    if (this.spares.length < Math.min(8, Math.floor(this.bufferMemory / this.batchSize))) this.spares.push(buf);
  }

  private complete(s: Sealed, baseOffset: number, error: Error | undefined): void {
    if (s.spare !== undefined) this.recycle(s.spare);
    s.spare = undefined;
    this.buffered -= s.batch.length;
    this.pendingBatches--;
    if (error) {
      this.failed += s.count;
      this.firstError ??= error;
    } else this.acked += s.count;
    this.onBatch?.({ topic: s.topic, partition: s.partition, count: s.count, baseOffset, error, createdSum: s.createdSum, createdMin: s.createdMin, created: s.created, doneAt: performance.now() });
    if (this.buffered < this.bufferMemory / 2 && this.roomWaiters.length) for (const w of this.roomWaiters.splice(0)) w();
    if (this.pendingBatches === 0 && this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w();
  }

  close(): void {
    this.stopLinger();
  }
}
