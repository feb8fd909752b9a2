/**
 * The WebSocket gateway against a real broker over real sockets: subscription starts, filters,
 * tombstones, produce over WS read back by kcat and kafkajs, resume by cursor after cuts,
 * overflow policies, and the Kafka port beside WS load. Every test ends asserting that uWS
 * dropped nothing (the gateway's flow control must make a drop impossible).
 */
import type { Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/protocol/murmur2.js';
import { hasKcat, kafkajs, requireInstalled, run, startTestBroker, withAdmin, withProducer, type TestBroker } from './harness.js';
import { WsProbe } from './ws-harness.js';

let tb: TestBroker;
let kafka: Kafka;
const probes: WsProbe[] = [];

const wsPort = () => tb.broker.wsPort!;
async function open(opts: Parameters<typeof WsProbe.open>[1] = {}): Promise<WsProbe> {
  const p = await WsProbe.open(wsPort(), opts);
  probes.push(p);
  return p;
}

async function createTopic(topic: string, numPartitions = 1, configs: Record<string, string> = {}): Promise<void> {
  await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic, numPartitions, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }] }));
}

async function produce(topic: string, messages: { key?: string | null; value: string | null; partition?: number; headers?: Record<string, string> }[]): Promise<void> {
  await withProducer(kafka, (p) => p.send({ topic, messages }));
}

beforeAll(async () => {
  tb = await startTestBroker({
    properties: { 'ws.max.buffered.bytes': 65536, 'ws.slow.consumer.ms': 300, 'ws.checkpoint.ms': 100, 'group.initial.rebalance.delay.ms': 0 },
  });
  kafka = kafkajs(tb.bootstrap);
});

afterEach(async () => {
  expect(tb.broker.wsStats()?.dropped).toBe(0);
  expect(tb.broker.wsStats()?.handlerErrors).toBe(0);
  await Promise.all(probes.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await tb?.close();
});

describe('the handshake', () => {
  it('echoes the one brook subprotocol offered first and never a bearer token', async () => {
    const bin = await open({ protocols: ['brook.v1.bin'] });
    expect(bin.ws.protocol).toBe('brook.v1.bin');
    const json = await open({ protocols: ['x-other', 'brook.v1.json', 'brook.v1.bin'] });
    expect(json.ws.protocol).toBe('brook.v1.json');
    const hello = await json.waitJson((m) => m.op === 'hello');
    // Frames are at most a quarter of ws.max.buffered.bytes (64 KiB here), below ws.max.frame.bytes.
    expect(hello).toMatchObject({ protocol: 'brook.v1.json', maxFrameBytes: 16384 });
    expect(typeof hello.session).toBe('string');
  });

  it('answers HTTP 400 before the upgrade when no brook subprotocol is offered', async () => {
    await expect(WsProbe.open(wsPort(), { protocols: ['mqtt'] })).rejects.toThrow('HTTP 400');
    await expect(WsProbe.open(wsPort(), { protocols: [] })).rejects.toThrow('HTTP 400');
  });
});

describe('where a subscription starts', () => {
  const topic = 'starts';
  beforeAll(async () => {
    await createTopic(topic, 2);
    await produce(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })),
    );
  });

  it('earliest: every record of every partition, in offset order per partition', async () => {
    const p = await open();
    const sub = await p.sub({ topic, mode: 'assign', from: 'earliest' });
    const got = await p.waitRecords(20, sub);
    for (const part of [0, 1]) {
      const offs = got.filter((r) => r.partition === part).map((r) => r.offset);
      expect(offs).toEqual(Array.from({ length: 10 }, (_, i) => i));
    }
    expect(got.filter((r) => r.partition === 1).map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => `v${2 * i + 1}`));
  });

  it('latest: nothing old, then what is produced after', async () => {
    const p = await open();
    const sub = await p.sub({ topic: 'latest-only', mode: 'live' }).catch(() => undefined);
    expect(sub).toBeUndefined(); // unknown topic
    const s = await p.sub({ topic, mode: 'assign', from: 'latest' });
    await new Promise((r) => setTimeout(r, 200));
    expect(p.records(s)).toEqual([]);
    await produce(topic, [{ value: 'after', partition: 1 }]);
    const got = await p.waitRecords(1, s);
    expect(got[0]).toMatchObject({ partition: 1, offset: 10, value: 'after' });
  });

  it('{offsets}: only the partitions named, from those offsets', async () => {
    const p = await open();
    const s = await p.sub({ topic, mode: 'assign', from: { offsets: { '1': 7 } } });
    const got = await p.waitRecords(4, s);
    expect(got.map((r) => [r.partition, r.offset])).toEqual([
      [1, 7],
      [1, 8],
      [1, 9],
      [1, 10],
    ]);
  });

  it('{timestamp}: the first record at or after it', async () => {
    const t = 'by-time';
    await createTopic(t);
    await withProducer(kafka, (pr) => pr.send({ topic: t, messages: [0, 1, 2].map((i) => ({ value: `t${i}`, timestamp: String(1_000_000 + i * 1000) })) }));
    const p = await open();
    const s = await p.sub({ topic: t, mode: 'assign', from: { timestamp: 1_001_000 } });
    const got = await p.waitRecords(2, s);
    expect(got.map((r) => r.value)).toEqual(['t1', 't2']);
  });

  it('{cursor}: a checkpoint resumes exactly after what it covered, on a new socket', async () => {
    const p = await open();
    const s = await p.sub({ topic, mode: 'assign', from: 'earliest', credit: { records: 6, bytes: 1 << 20 } });
    await p.waitRecords(6, s);
    await new Promise((r) => setTimeout(r, 300)); // a checkpoint (every 100 ms here)
    const cursor = p.lastCursor(s)!;
    expect(cursor.length).toBeLessThanOrEqual(2048);
    const seen = p.records(s).map((r) => `${r.partition}:${r.offset}`);
    await p.close();
    const q = await open();
    const s2 = await q.sub({ topic, mode: 'assign', from: { cursor } });
    const rest = await q.waitRecords(21 - 6, s2);
    const all = [...seen, ...rest.map((r) => `${r.partition}:${r.offset}`)].sort();
    expect(new Set(all).size).toBe(all.length); // nothing twice
    expect(all.length).toBe(21); // nothing lost
  });

  it('refuses a cursor of another topic (deleted and recreated) with UNKNOWN_TOPIC_ID', async () => {
    const t = 'recreated';
    await createTopic(t);
    await produce(t, [{ value: 'a' }]);
    const p = await open();
    const s = await p.sub({ topic: t, mode: 'assign', from: 'earliest' });
    await p.waitRecords(1, s);
    await new Promise((r) => setTimeout(r, 300));
    const cursor = p.lastCursor(s)!;
    await withAdmin(kafka, (a) => a.deleteTopics({ topics: [t] }));
    await createTopic(t);
    const reply = await p.request({ op: 'sub', topic: t, mode: 'assign', from: { cursor } });
    expect(reply).toMatchObject({ op: 'error', code: 'UNKNOWN_TOPIC_ID' });
  });

  it('announces records removed below the log start with a gap frame, never a silent jump', async () => {
    const t = 'trimmed';
    await createTopic(t);
    await produce(t, Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })));
    await withAdmin(kafka, async (a) => {
      await a.fetchTopicMetadata({ topics: [t] });
      await a.deleteTopicRecords({ topic: t, partitions: [{ partition: 0, offset: '6' }] });
    });
    for (const protocol of ['brook.v1.bin', 'brook.v1.json']) {
      const p = await open({ protocols: [protocol] });
      const s = await p.sub({ topic: t, mode: 'assign', from: { offsets: { '0': 2 } } });
      const got = await p.waitRecords(4, s);
      expect(p.gaps(s)).toEqual([{ partition: 0, from: 2, to: 6, reason: 'retention', ...(protocol === 'brook.v1.json' ? { op: 'gap', sub: s, topic: t } : {}) }]);
      expect(got.map((r) => r.offset)).toEqual([6, 7, 8, 9]);
    }
  });
});

describe('a topic deleted under its subscribers', () => {
  it('ends assign and live subscriptions with UNKNOWN_TOPIC_OR_PARTITION and keeps the socket', async () => {
    const t = 'doomed';
    await createTopic(t);
    await produce(t, [{ value: 'a' }]);
    const p = await open();
    const assigned = await p.sub({ topic: t, mode: 'assign', from: 'earliest' });
    const live = await p.sub({ topic: t, mode: 'live' });
    await p.waitRecords(1, assigned);
    await withAdmin(kafka, (a) => a.deleteTopics({ topics: [t] }));
    await produce('elsewhere', [{ value: 'b' }]).catch(() => {}); // auto-created; wakes nothing of t
    for (const sub of [assigned, live]) {
      const e = await p.waitJson((m) => m.op === 'error' && m.sub === sub);
      expect(e.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    }
    expect((await p.request({ op: 'credit', sub: assigned, records: 1, bytes: 1 })).code).toBe('UNKNOWN_SUBSCRIPTION');
    expect(p.closeInfo).toBeUndefined();
  });
});

describe('filters and tombstones', () => {
  const topic = 'filtered';
  beforeAll(async () => {
    await createTopic(topic);
    await produce(topic, [
      { key: 'user-1', value: 'a', headers: { kind: 'x' } },
      { key: 'user-2', value: 'b', headers: { kind: 'y' } },
      { key: 'admin-1', value: 'c', headers: { kind: 'x' } },
      { key: 'user-1', value: null },
      { key: null, value: 'keyless', headers: { kind: 'x' } },
    ]);
  });

  it('key exact: that key only, its tombstone included, as a delete (null value)', async () => {
    const p = await open();
    const s = await p.sub({ topic, mode: 'assign', from: 'earliest', filter: { key: 'user-1' } });
    const got = await p.waitRecords(2, s);
    await new Promise((r) => setTimeout(r, 200));
    expect(p.records(s).map((r) => [r.offset, r.key, r.value])).toEqual([
      [0, 'user-1', 'a'],
      [3, 'user-1', null],
    ]);
    expect(got).toHaveLength(2);
  });

  it('key prefix and header equality, in JSON with delete: true for a tombstone', async () => {
    const p = await open({ protocols: ['brook.v1.json'] });
    const s1 = await p.sub({ topic, mode: 'assign', from: 'earliest', filter: { keyPrefix: 'user-' } });
    const s2 = await p.sub({ topic, mode: 'assign', from: 'earliest', filter: { headers: { kind: 'x' } } });
    await p.waitRecords(3, s1);
    await p.waitRecords(3, s2);
    await new Promise((r) => setTimeout(r, 200));
    expect(p.records(s1).map((r) => r.offset)).toEqual([0, 1, 3]);
    expect(p.records(s2).map((r) => r.offset)).toEqual([0, 2, 4]);
    const frames = p.json.filter((m) => m.op === 'records' && m.sub === s1) as { records: { offset: number; delete?: boolean; value: unknown }[] }[];
    const tomb = frames.flatMap((f) => f.records).find((r) => r.offset === 3);
    expect(tomb).toMatchObject({ value: null, delete: true });
  });
});

describe('produce over WebSocket', () => {
  it('puts keyed records where the Java client would (murmur2), at the offsets it answers, readable by kcat and kafkajs', async () => {
    requireInstalled(hasKcat, 'kcat');
    const topic = 'ws-pub';
    await createTopic(topic, 4);
    const p = await open();
    const answers: { key: string; partition: number; offset: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const key = `key-${i % 10}`;
      const r = await p.request({ op: 'pub', topic, key, value: `value-${i}`, headers: { n: String(i) } });
      expect(r.op).toBe('ok');
      expect(r.partition).toBe(partitionForKey(Buffer.from(key), 4));
      answers.push({ key, partition: r.partition as number, offset: r.offset as number });
    }
    // kafkajs's default partitioner is Java's: the same key lands on the same partition.
    await withProducer(kafka, (pr) => pr.send({ topic, messages: [{ key: 'key-3', value: 'from-kafkajs' }] }));
    const out = await run('kcat', ['-C', '-b', tb.bootstrap, '-t', topic, '-e', '-q', '-f', '%p %o %k %s %h\n'], { timeoutMs: 20_000 });
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(41);
    for (const a of answers) {
      const line = lines.find((l) => l.startsWith(`${a.partition} ${a.offset} `));
      expect(line).toBeDefined();
      expect(line).toContain(` ${a.key} value-`);
    }
    const kafkajsLine = lines.find((l) => l.includes('from-kafkajs'))!;
    expect(Number(kafkajsLine.split(' ')[0])).toBe(partitionForKey(Buffer.from('key-3'), 4));
    expect(lines.find((l) => l.includes('value-7 '))).toContain('n=7');
  });

  it('answers errors with the Kafka error name and keeps the socket', async () => {
    const p = await open();
    const r = await p.request({ op: 'pub', topic: 'ws-pub-1p', value: 'x', partition: 9 });
    expect(r).toMatchObject({ op: 'error', code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    const big = await p.request({ op: 'pub', topic: 'ws-pub-1p', value: 'x'.repeat(100), acks: 1 });
    expect(big.op).toBe('ok');
    const bad = await p.request({ op: 'pub', topic: 'bad topic!', value: 'x' });
    expect(bad).toMatchObject({ op: 'error', code: 'BAD_REQUEST' });
  });
});

describe('resume after the connection is cut', () => {
  it('loses nothing and repeats only what came after the last checkpoint, across 8 cuts at random points', async () => {
    const topic = 'cuts';
    await createTopic(topic, 3);
    const total = 3000;
    const producing = withProducer(kafka, async (pr) => {
      for (let i = 0; i < total; i += 100) {
        await pr.send({ topic, messages: Array.from({ length: 100 }, (_, j) => ({ value: String(i + j), partition: (i + j) % 3 })) });
        await new Promise((r) => setTimeout(r, 15));
      }
    });
    const seen = new Map<string, number>();
    let cursor: string | undefined;
    let duplicates = 0;
    for (let cut = 0; cut <= 8; cut++) {
      const p = await WsProbe.open(wsPort());
      const s = await p.sub({ topic, mode: 'assign', from: cursor ? { cursor } : 'earliest', credit: { records: 1_000_000, bytes: 1 << 30 } });
      const deadline = Date.now() + (cut < 8 ? 50 + Math.random() * 250 : 20_000);
      let read = 0;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
        const recs = p.records(s);
        for (; read < recs.length; read++) {
          const key = `${recs[read]!.partition}:${recs[read]!.offset}`;
          if (seen.has(key)) duplicates++;
          seen.set(key, Number(recs[read]!.value));
        }
        cursor = p.lastCursor(s) ?? cursor;
        if (cut === 8 && seen.size === total) break;
      }
      p.terminate();
    }
    await producing;
    expect(seen.size).toBe(total);
    expect(new Set(seen.values()).size).toBe(total);
    // Checkpoints come every 100 ms: a cut repeats at most what arrived after the last one.
    expect(duplicates).toBeLessThan(total);
  });
});

describe('slow consumers', () => {
  const topic = 'firehose';
  beforeAll(async () => {
    await createTopic(topic);
  });

  async function stalled(policy: string): Promise<{ p: WsProbe; s: number; produced: number }> {
    const p = await open();
    const s = await p.sub({ topic, mode: 'live', policy, credit: { records: 1_000_000, bytes: 1 << 30 } });
    // Stop reading: the kernel buffers fill, then uWS's, then the gateway holds back.
    (p.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    let produced = 0;
    const value = 'x'.repeat(1000);
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline && (tb.broker.wsStats()?.slowConsumerActions ?? 0) === before) {
      await produce(topic, Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 20}`, value })));
      produced += 200;
    }
    (p.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    return { p, s, produced };
  }
  let before = 0;

  it('close: a closing frame with the cursor, then 4429', async () => {
    before = tb.broker.wsStats()!.slowConsumerActions;
    const { p } = await stalled('close');
    const closed = await p.closed;
    expect(closed.code).toBe(4429);
    const closing = p.json.find((m) => m.op === 'closing');
    expect(closing).toMatchObject({ code: 4429, reason: 'too slow' });
    expect(Object.values(closing!.cursors as Record<string, string>)[0]).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('skip: jumps to the end with a gap frame and goes on', async () => {
    before = tb.broker.wsStats()!.slowConsumerActions;
    const { p, s } = await stalled('skip');
    await new Promise((r) => setTimeout(r, 500));
    await produce(topic, [{ key: 'after', value: 'after the gap' }]);
    await p.waitJson(() => p.records(s).some((r) => r.value === 'after the gap'));
    const gaps = p.gaps(s);
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    expect(gaps[0]!.reason).toBe('skipped');
    // Every record sent is either before the gap or after it: offsets strictly increase.
    const offs = p.records(s).map((r) => r.offset);
    expect(offs).toEqual([...offs].sort((a, b) => a - b));
    expect(offs.some((o) => o >= gaps[0]!.to)).toBe(true);
    expect(offs.some((o) => o >= gaps[0]!.from && o < gaps[0]!.to)).toBe(false);
  });

  it('conflate: a gap, then the latest record of each key', async () => {
    before = tb.broker.wsStats()!.slowConsumerActions;
    const { p, s } = await stalled('conflate');
    const gap = await (async () => {
      const t0 = Date.now();
      while (Date.now() - t0 < 10_000) {
        const g = p.gaps(s).find((x) => x.reason === 'conflated');
        if (g) return g;
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    })();
    expect(gap).toBeDefined();
    await new Promise((r) => setTimeout(r, 500));
    const inGap = p.records(s).filter((r) => r.offset >= gap!.from && r.offset < gap!.to);
    // At most one record per key (20 keys) from the conflated range.
    expect(inGap.length).toBeGreaterThan(0);
    expect(inGap.length).toBeLessThanOrEqual(20);
    expect(new Set(inGap.map((r) => r.key)).size).toBe(inGap.length);
  });
});

describe('isolation', () => {
  it('keeps the Kafka port serving while 50 WebSocket consumers read', async () => {
    const topic = 'busy';
    await createTopic(topic);
    const viewers = await Promise.all(Array.from({ length: 50 }, () => open()));
    const subs = await Promise.all(viewers.map((v) => v.sub({ topic, mode: 'live', credit: { records: 1_000_000, bytes: 1 << 30 } })));
    const value = 'y'.repeat(200);
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) await produce(topic, Array.from({ length: 100 }, () => ({ value })));
    const produceMs = Date.now() - t0;
    await Promise.all(viewers.map((v, i) => v.waitRecords(2000, subs[i], 20_000)));
    // A kafkajs round trip still answers while the fan-out runs.
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets[0]!.high).toBe('2000');
    expect(produceMs).toBeLessThan(15_000);
    expect(tb.broker.wsStats()!.liveSubscribers).toBeGreaterThanOrEqual(50);
  });
});
