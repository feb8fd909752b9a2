/**
 * Faults against a three-broker cluster under a recorded queue workload (reference/cluster.md §3,
 * §6.4, §6.7, §6.8): idempotent acks=all kafkajs producers send unique values, a consumer group
 * reads them, a fresh consumer drains the topic at the end, and the history checker must find no
 * lost, unseen, duplicated or inconsistent record. Faults are real signals to real processes:
 * kill -9 of a leader (three times), SIGSTOP of a leader and of the controller past the session
 * TTL, a paused follower (ISR shrink and expand, NOT_ENOUGH_REPLICAS with min.insync.replicas 3),
 * and an etcd restart under load.
 *
 * Every wait is bounded by the broker's documented timeouts: broker.session.timeout.ms (the TTL,
 * 3 s here), replica.lag.time.max.ms (3 s), plus slack for a machine shared by several clusters.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { KafkaClient } from '../../src/kafka/client.js';
import { until } from '../integration/harness.js';
import { startCluster, type TestCluster } from './cluster-harness.js';
import { History, summarize, type OpResult } from './history.js';

const TTL_MS = 3000;
const LAG_MS = 3000;

const kafkaFor = (c: TestCluster, clientId: string, requestTimeout = 8000) =>
  new Kafka({ brokers: c.bootstrap.split(','), clientId, logLevel: logLevel.NOTHING, requestTimeout, retry: { retries: 15, initialRetryTime: 100, maxRetryTime: 1000 } });

/** The Kafka error type anywhere in a kafkajs error's cause chain (retries wrap the last error). */
function errorType(e: unknown): string | undefined {
  for (let x = e as { type?: string; cause?: unknown } | undefined, depth = 0; x && depth < 5; x = x.cause as typeof x, depth++) {
    if (typeof x.type === 'string') return x.type;
  }
  return undefined;
}

/**
 * kafkajs outcomes as history results. After retries an error says nothing about the earlier
 * attempts, so it is indeterminate; only a single attempt refused before the append
 * (NOT_ENOUGH_REPLICAS, checked before writing) is a definite failure.
 */
const classify = (singleAttempt: boolean) => (e: unknown): OpResult => (singleAttempt && errorType(e) === 'NOT_ENOUGH_REPLICAS' ? 'fail' : 'info');

async function createTopic(c: TestCluster, topic: string, partitions: number, minIsr = 2): Promise<void> {
  const admin = kafkaFor(c, 'faults-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: String(minIsr) }] }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Metadata asked only of the given brokers: a paused broker still accepts TCP connections. */
async function metadataFrom(c: TestCluster, ids: number[], topics: string[] = []) {
  const client = new KafkaClient({ bootstrap: ids.map((id) => `127.0.0.1:${c.nodes.get(id)!.port}`), clientId: 'faults-md', timeoutMs: 2000, requestTimeoutMs: 2000 });
  try {
    return await client.metadata(topics);
  } finally {
    client.close();
  }
}

async function partitionFrom(c: TestCluster, ids: number[], topic: string, p: number) {
  const part = (await metadataFrom(c, ids, [topic])).topics.get(topic)?.partitions.find((x) => x.partition === p);
  if (!part) throw new Error(`no metadata for ${topic}-${p}`);
  return part;
}

const others = (c: TestCluster, id: number) => [...c.nodes.keys()].filter((x) => x !== id);

async function awaitFullIsr(c: TestCluster, topic: string, partitions: number, timeoutMs = 30_000): Promise<void> {
  await until(
    `${topic}: every partition back to an ISR of 3`,
    async () => {
      for (let p = 0; p < partitions; p++) if ((await c.partition(topic, p).catch(() => ({ isr: [] as number[] }))).isr.length !== 3) return false;
      return true;
    },
    timeoutMs,
  );
}

/** Producers and a consumer group running against one topic, every outcome in `history`. */
class Workload {
  readonly history = new History();
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly producers: Producer[] = [];
  private consumer: Consumer | undefined;
  /** Date.now() of every acknowledgement, in order: progress and failover times. */
  readonly ackTimes: number[] = [];

  constructor(
    private readonly c: TestCluster,
    readonly topic: string,
    readonly partitions: number,
  ) {}

  async start(producers = 2): Promise<void> {
    const consumer = kafkaFor(this.c, `${this.topic}-reader`).consumer({ groupId: `${this.topic}-readers`, maxWaitTimeInMs: 250, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    this.consumer = consumer;
    const name = 'group';
    // A (re)join may legitimately restart from the committed offset: monotonicity restarts there.
    consumer.on(consumer.events.GROUP_JOIN, () => this.history.assign(name));
    consumer.on(consumer.events.CRASH, () => this.history.assign(name));
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        this.history.poll(name, partition, Number(message.offset), message.value!.toString());
      },
    });
    for (let i = 0; i < producers; i++) {
      const producer = kafkaFor(this.c, `${this.topic}-p${i}`).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      this.producers.push(producer);
      this.loops.push(this.produce(producer, `p${i}`));
    }
  }

  private async produce(producer: Producer, name: string): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      const partition = n % this.partitions;
      const value = `${name}-${n}`;
      const r = await this.history.track(name, partition, value, async () => {
        const [meta] = await producer.send({ topic: this.topic, acks: -1, timeout: 6000, messages: [{ value, partition }] });
        return Number(meta!.baseOffset);
      });
      if (r === 'ok') this.ackTimes.push(Date.now());
      else await new Promise((res) => setTimeout(res, 100));
    }
  }

  /**
   * Kill to recovery: the acknowledgement that ends the longest silence after `faultAt` (the
   * first ack after a fault can be one a dying leader sent, or one for another partition).
   */
  failoverMs(faultAt: number): number {
    let best = -1;
    let end = faultAt;
    for (let i = 1; i < this.ackTimes.length; i++) {
      const gap = this.ackTimes[i]! - this.ackTimes[i - 1]!;
      if (this.ackTimes[i]! > faultAt && gap > best) {
        best = gap;
        end = this.ackTimes[i]!;
      }
    }
    return end - faultAt;
  }

  get acked(): number {
    return this.ackTimes.length;
  }

  /** Waits until `n` more sends are acknowledged. */
  async progress(n: number, timeoutMs: number): Promise<void> {
    const target = this.acked + n;
    await until(`${n} more acknowledgements on ${this.topic}`, () => this.acked >= target, timeoutMs).catch((e: Error) => {
      const errors = this.history.ops.flatMap((o) => (o.kind === 'send' && o.error ? [`${o.process}: ${o.error}`] : [])).slice(-5);
      throw new Error(`${e.message}; last send errors: ${errors.join(' | ') || 'none (sends still pending)'}`);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    await Promise.all(this.producers.map((p) => p.disconnect()));
    await this.consumer?.disconnect();
  }

  /** Reads every partition from the start to its high watermark with a fresh consumer group. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const kafka = kafkaFor(this.c, `${this.topic}-drain`);
    const admin = kafka.admin();
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(this.topic)).map((o) => [o.partition, Number(o.high)]));
    await admin.disconnect();
    const next = new Map<number, number>([...ends.keys()].map((p) => [p, 0]));
    const done = () => [...ends].every(([p, high]) => next.get(p)! >= high);
    const consumer = kafka.consumer({ groupId: `${this.topic}-drain-${Date.now()}`, maxWaitTimeInMs: 250 });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    try {
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          this.history.poll('drain', partition, Number(message.offset), message.value!.toString());
          next.set(partition, Number(message.offset) + 1);
        },
      });
      await until(`the drain of ${this.topic} to ${JSON.stringify([...ends])}`, done, timeoutMs);
    } finally {
      await consumer.disconnect();
    }
  }

  /** Stops, drains and checks: nothing acknowledged lost or unseen, no duplicate, no conflict. */
  async verify(): Promise<ReturnType<History['check']>> {
    await this.stop();
    await this.drain();
    const report = this.history.check({ drain: 'drain' });
    const message = summarize(report);
    if (report.lost.length + report.unseen.length + report.duplicates.length + report.inconsistentOffsets.length + report.g1a.length > 0) {
      const path = `/tmp/brook-faults-${this.topic}-${Date.now()}.jsonl`;
      this.history.save(path);
      console.error(`history saved to ${path}: ${message}`);
    } else {
      console.log(`${this.topic}: ${message}`);
    }
    expect(report.lost, message).toEqual([]);
    expect(report.unseen, message).toEqual([]);
    expect(report.duplicates, message).toEqual([]);
    expect(report.inconsistentOffsets, message).toEqual([]);
    expect(report.g1a, message).toEqual([]);
    expect(report.unexpected, message).toEqual([]);
    expect(report.nonMonotonicPoll, message).toEqual([]);
    expect(report.pollSkip, message).toEqual([]);
    expect(report.counts.sendOk).toBeGreaterThan(0);
    return report;
  }
}

/** Every replica's segments of topic-p, concatenated in base-offset order. */
function logBytes(c: TestCluster, id: number, topic: string, p: number): Buffer {
  const dir = join(c.nodes.get(id)!.dataDir, `${topic}-${p}`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
  return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
}

describe('leader faults', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ brokers: 3, sessionTimeoutMs: TTL_MS, replicaLagTimeMaxMs: LAG_MS });
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('kill -9 of the leader three times in a row, each restarted and back in the ISR', async () => {
    const topic = 'kill-leader';
    await createTopic(c, topic, 2);
    const w = new Workload(c, topic, 2);
    await w.start();
    try {
      await w.progress(30, 20_000);
      for (let round = 0; round < 3; round++) {
        const leader = (await c.partition(topic, 0)).leader;
        const killedAt = Date.now();
        await c.kill(leader, 'SIGKILL');
        const next = await c.awaitLeader(topic, 0, { not: leader, timeoutMs: TTL_MS + 10_000 });
        await w.progress(30, 30_000);
        console.log(`round ${round}: killed ${leader}, new leader ${next}, acknowledgements resumed ${w.failoverMs(killedAt)} ms after the kill`);
        await c.restart(leader);
        await awaitFullIsr(c, topic, 2);
        await w.progress(10, 20_000);
      }
    } finally {
      await w.verify();
    }
  }, 150_000);

  it('a leader paused past its TTL is replaced; resumed, it acknowledges nothing that is not in the log, and the replicas end byte-identical', async () => {
    const topic = 'pause-leader';
    await createTopic(c, topic, 1);
    const w = new Workload(c, topic, 1);
    await w.start();
    // A producer that is not retried and whose metadata still points at the old leader: its
    // request is parked in the paused process and answered after SIGCONT.
    const probe = kafkaFor(c, 'probe', 20_000).producer({ retry: { retries: 0 } });
    await probe.connect();
    let report;
    let leader = -1;
    try {
      await w.progress(30, 20_000);
      leader = (await c.partition(topic, 0)).leader;
      await probe.send({ topic, acks: -1, messages: [{ value: 'probe-warm', partition: 0 }] }).then(
        () => w.history.send({ process: 'probe', partition: 0, value: 'probe-warm', result: 'ok', start: Date.now(), end: Date.now() }),
        () => undefined,
      );
      const pausedAt = Date.now();
      await c.kill(leader, 'SIGSTOP');
      const parked = Array.from({ length: 5 }, (_, i) =>
        w.history.track('probe', 0, `probe-${i}`, async () => Number((await probe.send({ topic, acks: -1, timeout: 15_000, messages: [{ value: `probe-${i}`, partition: 0 }] }))[0]!.baseOffset), classify(true)),
      );
      let next = -1;
      await until(
        'a new leader while the old one is paused',
        async () => {
          next = (await partitionFrom(c, others(c, leader), topic, 0).catch(() => ({ leader: -1 }))).leader;
          return next >= 0 && next !== leader;
        },
        TTL_MS + 10_000,
      );
      console.log(`paused leader ${leader} replaced by ${next} after ${Date.now() - pausedAt} ms`);
      // The new leader takes writes while the old one is still paused. (The workload's producers
      // may not show it yet: kafkajs can keep asking the paused broker for metadata until its
      // request timeout, as it would with Kafka.) A producer bootstrapped from the live brokers:
      const live = new Kafka({ brokers: others(c, leader).map((id) => `127.0.0.1:${c.nodes.get(id)!.port}`), clientId: 'live', logLevel: logLevel.NOTHING, retry: { retries: 10, maxRetryTime: 1000 } }).producer({ idempotent: true, maxInFlightRequests: 1 });
      await live.connect();
      try {
        for (let i = 0; i < 5; i++) {
          const r = await w.history.track('live', 0, `live-${i}`, async () => Number((await live.send({ topic, acks: -1, messages: [{ value: `live-${i}`, partition: 0 }] }))[0]!.baseOffset));
          expect(r).toBe('ok');
        }
      } finally {
        await live.disconnect();
      }
      console.log(`new leader ${next} acknowledged writes ${Date.now() - pausedAt} ms after the pause`);
      await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + 5000 - Date.now())));
      await c.kill(leader, 'SIGCONT');
      // Not one acknowledgement from the deposed leader. (NOT_LEADER_OR_FOLLOWER stays
      // indeterminate: a parked acks=all request was appended before the answer.)
      expect(await Promise.all(parked)).not.toContain('ok');
      const probeOps = w.history.ops.flatMap((o) => (o.kind === 'send' && o.process === 'probe' ? [`${o.value} ${o.result} after ${o.end - o.start} ms${o.error ? `: ${o.error}` : ''}`] : []));
      console.log(`sends parked in the paused leader: ${probeOps.join('; ')}`);
      await awaitFullIsr(c, topic, 1);
      await w.progress(20, 20_000);
    } finally {
      if (leader > 0) await c.kill(leader, 'SIGCONT');
      await probe.disconnect();
      report = await w.verify();
    }
    // A parked send the old leader acknowledged must be in the log (verify() found no lost or
    // unseen value): an acknowledgement from a deposed leader would have shown up there.
    expect(report.counts.sendOk).toBeGreaterThan(0);
    // Once the workload stopped and every replica is in sync, the logs are the same bytes.
    await until(
      'byte-identical replica logs',
      () => {
        const [a, b, d] = [1, 2, 3].map((id) => logBytes(c, id, topic, 0));
        return a!.length > 0 && a!.equals(b!) && a!.equals(d!);
      },
      15_000,
    ).catch((e: Error) => {
      const sizes = [1, 2, 3].map((id) => `${id}:${logBytes(c, id, topic, 0).length}`).join(' ');
      throw new Error(`${e.message} (sizes ${sizes})`);
    });
  }, 120_000);

  it('a controller paused past its TTL is replaced within TTL + slack; a later leader kill is still handled', async () => {
    const topic = 'pause-controller';
    await createTopic(c, topic, 2);
    await c.awaitBrokers(3);
    const controller = (await metadataFrom(c, [...c.nodes.keys()])).controllerId;
    expect(controller).toBeGreaterThan(0);
    const w = new Workload(c, topic, 2);
    await w.start();
    try {
      await w.progress(20, 20_000);
      const pausedAt = Date.now();
      await c.kill(controller, 'SIGSTOP');
      // (resumed below, or in the finally block if a check fails first)
      let replacement = -1;
      await until(
        'another controller',
        async () => {
          replacement = (await metadataFrom(c, others(c, controller)).catch(() => ({ controllerId: -1 }))).controllerId;
          return replacement > 0 && replacement !== controller;
        },
        TTL_MS + 10_000,
      );
      const tookMs = Date.now() - pausedAt;
      console.log(`controller ${controller} paused, ${replacement} took over after ${tookMs} ms`);
      // The issue's goal is TTL + 1 s; the slack is for a machine shared by several clusters.
      expect(tookMs).toBeLessThan(TTL_MS + 1000 + 2000);
      await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + 5000 - Date.now())));
      await c.kill(controller, 'SIGCONT');
      await c.awaitBrokers(3, 20_000);
      await awaitFullIsr(c, topic, 2);
      await w.progress(20, 20_000);

      // The new controller still handles a leader's death.
      const leader = (await c.partition(topic, 0)).leader;
      const killedAt = Date.now();
      await c.kill(leader, 'SIGKILL');
      const next = await c.awaitLeader(topic, 0, { not: leader, timeoutMs: TTL_MS + 10_000 });
      console.log(`after the controller pause: leader ${leader} killed, ${next} leads after ${Date.now() - killedAt} ms`);
      await w.progress(20, 30_000);
      console.log(`acknowledgements resumed ${w.failoverMs(killedAt)} ms after that kill`);
      await c.restart(leader);
      await awaitFullIsr(c, topic, 2);
    } finally {
      await c.kill(controller, 'SIGCONT');
      await w.verify();
    }
  }, 120_000);
});

describe('follower and etcd faults', () => {
  // A session TTL well above replica.lag.time.max.ms, so a paused follower leaves the ISR for
  // lagging (the leader's decision), not because its registration expired (the controller's).
  const SESSION_MS = 10_000;
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ brokers: 3, sessionTimeoutMs: SESSION_MS, replicaLagTimeMaxMs: LAG_MS });
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('a paused follower leaves the ISR within replica.lag.time.max.ms + slack; acks=all goes on with min.insync 2, NOT_ENOUGH_REPLICAS with 3; it rejoins on SIGCONT', async () => {
    const topic = 'pause-follower';
    const strict = 'pause-follower-misr3';
    await createTopic(c, topic, 1);
    await createTopic(c, strict, 1, 3);
    const leaders = new Set([(await c.partition(topic, 0)).leader, (await c.partition(strict, 0)).leader]);
    const follower = [...c.nodes.keys()].find((id) => !leaders.has(id))!;
    const w = new Workload(c, topic, 1);
    await w.start(1);
    // Single attempts, so NOT_ENOUGH_REPLICAS is a definite failure the history can hold to G1a.
    const strictHistory = new History();
    const strictProducer = kafkaFor(c, 'strict').producer({ retry: { retries: 0 } });
    await strictProducer.connect();
    const sendStrict = (value: string) =>
      strictHistory.track('strict', 0, value, async () => Number((await strictProducer.send({ topic: strict, acks: -1, timeout: 10_000, messages: [{ value, partition: 0 }] }))[0]!.baseOffset), classify(true));
    let strictErrors: string[] = [];
    try {
      await w.progress(20, 20_000);
      for (let i = 0; i < 5; i++) expect(await sendStrict(`before-${i}`)).toBe('ok');

      const pausedAt = Date.now();
      await c.kill(follower, 'SIGSTOP');
      const live = others(c, follower);
      const outOfIsr = async (t: string) => !(await partitionFrom(c, live, t, 0).catch(() => ({ isr: [follower] }))).isr.includes(follower);
      await until(`broker ${follower} out of the ISR of ${topic}`, () => outOfIsr(topic), LAG_MS + 10_000);
      const shrinkMs = Date.now() - pausedAt;
      console.log(`follower ${follower} paused: ISR of the loaded topic shrank after ${shrinkMs} ms`);
      // The issue's bound is replica.lag.time.max.ms + 1 s; Kafka's own check runs every
      // replica.lag.time.max.ms / 2, so its worst case is 1.5x the lag, plus the etcd round trip.
      expect(shrinkMs).toBeLessThan(LAG_MS * 1.5 + 1000);
      await w.progress(20, 15_000);

      // As in Kafka, a follower whose log end equals the leader's is caught up however long ago it
      // fetched: the idle topic's ISR keeps it until a write leaves it behind. That write is
      // appended (the ISR was 3) and then cannot commit: NOT_ENOUGH_REPLICAS_AFTER_APPEND or a
      // timeout, both indeterminate.
      const stranded = await sendStrict('stranded');
      expect(stranded).toBe('info');
      await until(`broker ${follower} out of the ISR of ${strict}`, () => outOfIsr(strict), LAG_MS + 10_000);
      // A producer that knows only the live brokers: kafkajs would otherwise send its metadata
      // refreshes to the paused follower and time out before reaching the leader.
      const liveProducer = new Kafka({ brokers: live.map((id) => `127.0.0.1:${c.nodes.get(id)!.port}`), clientId: 'strict-live', logLevel: logLevel.NOTHING, retry: { retries: 0 } }).producer({ retry: { retries: 0 } });
      await liveProducer.connect();
      const results: OpResult[] = [];
      try {
        for (let i = 0; i < 10 && results.filter((r) => r === 'fail').length < 5; i++) {
          results.push(await strictHistory.track('strict', 0, `during-${i}`, async () => Number((await liveProducer.send({ topic: strict, acks: -1, timeout: 10_000, messages: [{ value: `during-${i}`, partition: 0 }] }))[0]!.baseOffset), classify(true)));
        }
      } finally {
        await liveProducer.disconnect();
      }
      strictErrors = strictHistory.ops.flatMap((o) => (o.kind === 'send' && o.error ? [`${o.value}: ${o.error}`] : []));
      console.log(`min.insync.replicas=3 while paused: ${strictErrors.join('; ')}`);
      // Nothing acknowledged with two of three replicas; NOT_ENOUGH_REPLICAS (definite) each time
      // the request reached the leader.
      expect(results, strictErrors.join('; ')).not.toContain('ok');
      expect(results.filter((r) => r === 'fail'), strictErrors.join('; ')).toHaveLength(5);

      await c.kill(follower, 'SIGCONT');
      const resumedAt = Date.now();
      await awaitFullIsr(c, topic, 1, 15_000);
      await awaitFullIsr(c, strict, 1, 15_000);
      console.log(`follower ${follower} resumed: ISR back to 3 after ${Date.now() - resumedAt} ms`);
      for (let i = 0; i < 5; i++) expect(await sendStrict(`after-${i}`)).toBe('ok');
      await w.progress(20, 15_000);
    } finally {
      await c.kill(follower, 'SIGCONT');
      await strictProducer.disconnect();
      await w.verify();
    }
    // The min.insync 3 topic: every acknowledged value read back, no refused one visible.
    const drain = new Workload(c, strict, 1);
    Object.assign(drain, { history: strictHistory });
    await drain.drain();
    const r = strictHistory.check({ drain: 'drain' });
    expect(r.lost, summarize(r)).toEqual([]);
    expect(r.unseen, summarize(r)).toEqual([]);
    expect(r.g1a, summarize(r)).toEqual([]);
    expect(r.duplicates, summarize(r)).toEqual([]);
    expect(r.counts).toMatchObject({ sendOk: 10, sendFail: 5 });
  }, 120_000);

  it('etcd restarted under load: produce and consume go on without failures, and a topic can be created afterwards', async () => {
    const topic = 'etcd-restart';
    await createTopic(c, topic, 2);
    const w = new Workload(c, topic, 2);
    await w.start();
    try {
      await w.progress(30, 20_000);
      const before = w.acked;
      await c.etcd.restart();
      await w.progress(30, 20_000);
      console.log(`etcd restarted: ${w.acked - before} acknowledgements since`);
      // Metadata changes go through etcd again (the client's first attempt may still race it).
      await until(
        'a topic created after the etcd restart',
        async () => {
          try {
            await createTopic(c, 'after-etcd', 1);
            return true;
          } catch {
            return false;
          }
        },
        20_000,
      );
      expect((await c.partition('after-etcd', 0)).isr).toHaveLength(3);
    } finally {
      const report = await w.verify();
      // No send failed or went indeterminate: the data path never waits on etcd.
      expect(report.counts.sendInfo + report.counts.sendFail, summarize(report)).toBe(0);
    }
  }, 90_000);
});

describe('network faults', () => {
  // `ip netns add` works on this machine (root), but a broker can only be cut off by its own
  // namespace if it runs inside one: the cluster harness spawns every broker on 127.0.0.1 in the
  // root namespace and has no hook for a command prefix (`ip netns exec <ns>`) or a per-broker
  // listener address. With that hook: veth pair, `ip link set <veth> down`, the same checks as
  // the paused follower above.
  it.todo('a follower cut off in its own network namespace leaves the ISR; acks=all goes on; healed, it rejoins');
});
