/**
 * The brook/client library against a real broker's gateway: records produced with kafkajs arrive
 * in order through the async iterator, a socket killed mid-stream (terminate: no close frame)
 * reconnects and resumes after exactly what the application consumed, and publish() round-trips.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type BrookClient, type Record } from '../../src/client/index.js';
import { GROUP_TEST_PROPERTIES, startTestBroker, until, useBrokerWithKafkajs } from './harness.js';

const b = useBrokerWithKafkajs({ properties: { ...GROUP_TEST_PROPERTIES, 'ws.checkpoint.ms': 50 } });

/** ws's class, remembering every socket the client opens so a test can kill the current one. */
function trackedWebSocket() {
  const sockets: WebSocket[] = [];
  class Tracked extends WebSocket {
    constructor(url: string, protocols: string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { Tracked, sockets };
}

function url(): string {
  const port = b.tb.broker.wsPort;
  if (port === undefined) throw new Error('the gateway is not running');
  return `ws://127.0.0.1:${port}/ws/v1`;
}

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  await b.admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
}

/** Produces `n` records spread over `partitions`, values `v<i>`, in batches. */
async function produce(topic: string, n: number, partitions: number, start = 0): Promise<void> {
  for (let i = start; i < start + n; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(start + n, i + 500); j++) batch.push({ partition: j % partitions, key: `k${j}`, value: `v${j}` });
    await b.producer.send({ topic, messages: batch });
  }
}

/** Per partition, the values in delivery order. */
function byPartition(records: Record[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of records) out.set(r.partition, [...(out.get(r.partition) ?? []), r.text()!]);
  return out;
}

/** What produce(topic, n, partitions) wrote, per partition in offset order. */
function expectedValues(n: number, partitions: number): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (let j = 0; j < n; j++) out.set(j % partitions, [...(out.get(j % partitions) ?? []), `v${j}`]);
  return out;
}

async function take(it: AsyncIterator<Record>, n: number, into: Record[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const next = await it.next();
    if (next.done) throw new Error(`iterator ended after ${into.length} records`);
    into.push(next.value);
  }
}

describe('brook/client', () => {
  it('iterates records in offset order per partition, from earliest', async () => {
    await createTopic('ordered', 3);
    await produce('ordered', 600, 3);
    const client = connect(url(), { WebSocket });
    try {
      const it = client.subscribe({ topic: 'ordered', mode: 'assign', from: 'earliest' })[Symbol.asyncIterator]();
      const got: Record[] = [];
      await take(it, 600, got);
      expect(byPartition(got)).toEqual(expectedValues(600, 3));
      for (let p = 0; p < 3; p++) {
        const offsets = got.filter((r) => r.partition === p).map((r) => r.offset);
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
      expect(got[0]!.topic).toBe('ordered');
      expect(got[0]!.key && new TextDecoder().decode(got[0]!.key)).toBe('k0');
    } finally {
      client.close();
    }
  });

  for (const protocol of ['bin', 'json'] as const) {
    it(`resumes after a killed socket (${protocol}) with nothing the app consumed lost or repeated`, async () => {
      const topic = `resume-${protocol}`;
      await createTopic(topic, 3);
      await produce(topic, 3000, 3);
      const { Tracked, sockets } = trackedWebSocket();
      const client = connect(url(), { WebSocket: Tracked as typeof WebSocket, protocol, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
      const closes: number[] = [];
      client.on('close', (e) => closes.push(e.code));
      try {
        // A small window: the server has sent records the app has not consumed at each kill.
        const sub = client.subscribe({ topic, mode: 'assign', credit: { records: 200, bytes: 1 << 20 } });
        const it = sub[Symbol.asyncIterator]();
        const got: Record[] = [];
        await take(it, 700, got);
        sockets.at(-1)!.terminate();
        await take(it, 800, got);
        // A second kill right after a checkpoint could have been consumed, and more records appended meanwhile.
        await until('a checkpoint', () => sub.cursor !== undefined);
        sockets.at(-1)!.terminate();
        await produce(topic, 600, 3, 3000);
        await take(it, 3600 - got.length, got);
        expect(sockets.length).toBe(3);
        expect(closes).toEqual([1006, 1006]);
        expect(byPartition(got)).toEqual(expectedValues(3600, 3));
        expect(b.tb.broker.wsStats()?.dropped).toBe(0);
      } finally {
        client.close();
      }
    });
  }

  it('resumes a subscription of several topics from its last consumed checkpoint, dropping what the app already had', async () => {
    await createTopic('multi-a', 2);
    await createTopic('multi-b', 1);
    await produce('multi-a', 1000, 2);
    await produce('multi-b', 500, 1);
    const { Tracked, sockets } = trackedWebSocket();
    const client = connect(url(), { WebSocket: Tracked as typeof WebSocket, reconnect: { initialDelayMs: 20 } });
    try {
      const sub = client.subscribe({ topics: ['multi-a', 'multi-b'], mode: 'assign', credit: { records: 100, bytes: 1 << 20 } });
      const it = sub[Symbol.asyncIterator]();
      const got: Record[] = [];
      await take(it, 400, got);
      await until('a checkpoint', () => sub.cursor !== undefined);
      await take(it, 150, got);
      sockets.at(-1)!.terminate();
      await take(it, 950, got);
      expect(sockets.length).toBe(2);
      const seen = (topic: string) => got.filter((r) => r.topic === topic);
      expect(byPartition(seen('multi-a'))).toEqual(expectedValues(1000, 2));
      expect(byPartition(seen('multi-b'))).toEqual(expectedValues(500, 1));
    } finally {
      client.close();
    }
  });

  it('keeps the iterator buffer within the credit window while the app does not read', async () => {
    await createTopic('bounded', 1);
    await produce('bounded', 2000, 1);
    const client = connect(url(), { WebSocket });
    try {
      const before = b.tb.broker.wsStats()!.recordsSent;
      const it = client.subscribe({ topic: 'bounded', mode: 'assign', credit: { records: 100, bytes: 1 << 20 } })[Symbol.asyncIterator]();
      const got: Record[] = [];
      await take(it, 10, got);
      // Credit comes back only for what was consumed: what is sent but unread stays at the window.
      await new Promise((r) => setTimeout(r, 300));
      expect(b.tb.broker.wsStats()!.recordsSent - before).toBe(110);
      await new Promise((r) => setTimeout(r, 200));
      expect(b.tb.broker.wsStats()!.recordsSent - before).toBe(110);
      await take(it, 1990, got);
      expect(got.map((r) => r.offset)).toEqual(got.map((_, i) => i));
    } finally {
      client.close();
    }
  });

  it('publish() round-trips text, binary, headers and tombstones', async () => {
    await createTopic('published', 2);
    const client: BrookClient = connect(url(), { WebSocket });
    try {
      const a = await client.publish('published', 'héllo', { key: 'k', headers: { h: 'x' }, partition: 1 });
      const bin = await client.publish('published', new Uint8Array([0, 1, 255]), { partition: 1 });
      const del = await client.publish('published', null, { key: 'k', partition: 1 });
      expect(a.partition).toBe(1);
      expect([bin.offset, del.offset]).toEqual([a.offset + 1, a.offset + 2]);
      expect(a.timestamp).toBeGreaterThan(Date.now() - 60_000);
      await expect(client.publish('published', 'x', { partition: 7 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });

      const it = client.subscribe({ topic: 'published', mode: 'assign', partitions: [1], from: { offsets: { 1: a.offset } } })[Symbol.asyncIterator]();
      const got: Record[] = [];
      await take(it, 3, got);
      expect(got.map((r) => r.offset)).toEqual([a.offset, a.offset + 1, a.offset + 2]);
      expect(got[0]!.text()).toBe('héllo');
      expect(got[0]!.headers.map((h) => [h.key, new TextDecoder().decode(h.value!)])).toEqual([['h', 'x']]);
      expect([...got[1]!.value!]).toEqual([0, 1, 255]);
      expect(got[2]!.deleted).toBe(true);
      expect(got[2]!.text()).toBeNull();
    } finally {
      client.close();
    }
  });

  it('hands records to a records listener, resuming after what it was given', async () => {
    await createTopic('callbacks', 2);
    await produce('callbacks', 1000, 2);
    const { Tracked, sockets } = trackedWebSocket();
    const client = connect(url(), { WebSocket: Tracked as typeof WebSocket, reconnect: { initialDelayMs: 20 } });
    try {
      const got: Record[] = [];
      const sub = client.subscribe({ topic: 'callbacks', mode: 'assign', credit: { records: 50, bytes: 1 << 20 } });
      let killed = false;
      sub.on('records', (rs) => {
        got.push(...rs);
        if (!killed && got.length >= 300) {
          killed = true;
          sockets.at(-1)!.terminate();
        }
      });
      await until('1000 records', () => got.length >= 1000);
      await new Promise((r) => setTimeout(r, 100));
      expect(sockets.length).toBe(2);
      expect(byPartition(got)).toEqual(expectedValues(1000, 2));
    } finally {
      client.close();
    }
  });

  it('group mode: acks commit for the group, and a killed socket takes its session back and resumes from the commits', async () => {
    await createTopic('grouped', 2);
    await produce('grouped', 400, 2);
    const { Tracked, sockets } = trackedWebSocket();
    const client = connect(url(), { WebSocket: Tracked as typeof WebSocket, reconnect: { initialDelayMs: 20 } });
    try {
      const sub = client.subscribe({ topic: 'grouped', group: 'ws-client-g' });
      const assigned: number[][] = [];
      sub.on('assigned', (ps) => assigned.push(ps.map((p) => p.partition).sort()));
      const it = sub[Symbol.asyncIterator]();
      const got: Record[] = [];
      for (let i = 0; i < 250; i++) {
        await take(it, 1, got);
        sub.ack(got.at(-1)!);
      }
      const committed = async () => {
        const [t] = await b.admin.fetchOffsets({ groupId: 'ws-client-g', topics: ['grouped'] });
        return t!.partitions.reduce((n, p) => n + Number(p.offset), 0);
      };
      // Acks go out within 100 ms, batched per partition.
      await until('the acks committed', async () => (await committed()) === 250, 5000);
      const session = client.session;
      expect(session).toBeDefined();
      let reopened = false;
      client.on('open', () => (reopened = true));
      sockets.at(-1)!.terminate();
      await until('the reconnection', () => reopened);
      await take(it, 150, got);
      expect(client.session).toBe(session);
      expect(sockets.length).toBe(2);
      expect(assigned[0]).toEqual([0, 1]);
      expect(byPartition(got)).toEqual(expectedValues(400, 2));
      for (const r of got.slice(250)) sub.ack(r);
      await until('every ack committed', async () => (await committed()) === 400, 5000);
    } finally {
      client.close();
    }
  });

  it('offers its token as a bearer subprotocol, and stops at 4401 when it is refused', async () => {
    const token = 'sécret/ü+';
    const tb = await startTestBroker({
      properties: { 'ws.auth': 'token' },
      ws: { authenticate: (t) => (t === token ? { name: 'alice', read: ['auth-'], write: ['auth-'] } : undefined) },
    });
    const good = connect(`ws://127.0.0.1:${tb.broker.wsPort}/ws/v1`, { WebSocket, token });
    const { Tracked, sockets } = trackedWebSocket();
    const bad = connect(`ws://127.0.0.1:${tb.broker.wsPort}/ws/v1`, { WebSocket: Tracked as typeof WebSocket, token: 'wrong', reconnect: { initialDelayMs: 10 } });
    const closed = new Promise<{ code: number }>((resolve) => bad.on('close', resolve));
    try {
      expect((await good.publish('auth-t', 'v')).offset).toBe(0);
      await expect(good.publish('other', 'v')).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect((await closed).code).toBe(4401);
      await expect(bad.publish('auth-t', 'v')).rejects.toThrow(/4401/);
      expect(sockets.length).toBe(1);
    } finally {
      good.close();
      bad.close();
      await tb.close();
    }
  });

  it('survives a broker restart on the same ports, resuming after what was consumed', async () => {
    const tb = await startTestBroker();
    const port = tb.broker.wsPort!;
    const client = connect(`ws://127.0.0.1:${port}/ws/v1`, { WebSocket, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const closes: number[] = [];
    client.on('close', (e) => closes.push(e.code));
    const publishAll = (from: number, n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => client.publish('restarted', `v${from + i}`, { partition: 0, acks: 1 })));
    try {
      await publishAll(0, 300);
      const it = client.subscribe({ topic: 'restarted', mode: 'assign', credit: { records: 50, bytes: 1 << 20 } })[Symbol.asyncIterator]();
      const got: Record[] = [];
      await take(it, 120, got);
      await tb.restart({ ws: { port } });
      await take(it, 180, got);
      await publishAll(300, 100);
      await take(it, 100, got);
      expect(closes[0]).toBe(1001);
      expect(got.map((r) => r.offset)).toEqual(got.map((_, i) => i));
      expect(got.map((r) => r.text())).toEqual(got.map((_, i) => `v${i}`));
    } finally {
      client.close();
      await tb.close();
    }
  });

  it('group mode: a second member takes partitions over by rebalance, and together they read everything', async () => {
    await createTopic('rebalanced', 2);
    await produce('rebalanced', 400, 2);
    const ca = connect(url(), { WebSocket });
    const cb = connect(url(), { WebSocket });
    const seen = new Map<string, string[]>(); // value -> members that read it
    const events: string[] = [];
    const consume = async (name: string, client: BrookClient) => {
      const sub = client.subscribe({ topic: 'rebalanced', group: 'ws-client-rebalance', credit: { records: 20, bytes: 1 << 20 } });
      sub.on('assigned', (ps) => events.push(`${name} assigned ${ps.map((p) => p.partition).join(',')}`));
      sub.on('revoked', (ps) => events.push(`${name} revoked ${ps.map((p) => p.partition).join(',')}`));
      for await (const r of sub) {
        seen.set(r.text()!, [...(seen.get(r.text()!) ?? []), name]);
        sub.ack(r);
        await new Promise((resolve) => setTimeout(resolve, 2)); // a slow reader: the rebalance lands mid-stream
      }
    };
    const a = consume('a', ca);
    try {
      await until('a read 60', () => seen.size >= 60);
      const b = consume('b', cb);
      await until('b assigned', () => events.some((e) => e.startsWith('b assigned')));
      await produce('rebalanced', 200, 2, 400);
      await until('every record read', () => seen.size === 600);
      expect(events).toContain('a revoked 0,1');
      expect(events.filter((e) => e.startsWith('a assigned')).at(-1)).toMatch(/^a assigned \d$/);
      expect([...seen.values()].filter((m) => m.includes('b')).length).toBeGreaterThan(0);
      ca.close();
      cb.close();
      await Promise.all([a, b]);
    } finally {
      ca.close();
      cb.close();
    }
  });
});
