/**
 * The WebSocket gateway and SSE over transactions written by a real transactional producer
 * (kafkajs 2.2.4; the broker writes the commit and abort markers): subscriptions read committed
 * data only by default, up to the last stable offset, so an open transaction's records arrive once
 * it commits and an aborted one's never; `isolation: "read_uncommitted"` (SSE
 * `?isolation=read_uncommitted`) gets every data record; markers reach neither.
 */
import type { Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kafkajs, startTestBroker, withAdmin, withProducer, type TestBroker } from './harness.js';
import { WsProbe } from './ws-harness.js';
import type { Kafka } from 'kafkajs';

let tb: TestBroker;
let kafka: Kafka;
const probes: WsProbe[] = [];
const producers: Producer[] = [];

async function open(): Promise<WsProbe> {
  const p = await WsProbe.open(tb.broker.wsPort!, { protocols: ['brook.v1.json'] });
  probes.push(p);
  return p;
}

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic, numPartitions }] }));
}

async function txnProducer(transactionalId: string): Promise<Producer> {
  const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  producers.push(p);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const values = (probe: WsProbe, sub: number) => probe.records(sub).map((r) => r.value);

beforeAll(async () => {
  tb = await startTestBroker({ properties: { 'ws.linger.ms': 0, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500 } });
  kafka = kafkajs(tb.bootstrap);
});

afterEach(async () => {
  expect(tb.broker.wsStats()?.dropped).toBe(0);
  expect(tb.broker.wsStats()?.handlerErrors).toBe(0);
  await Promise.all(probes.splice(0).map((p) => p.close()));
  await Promise.all(producers.splice(0).map((p) => p.disconnect()));
});

afterAll(async () => {
  await tb?.close();
});

describe('WebSocket subscriptions over transactions', () => {
  it('deliver committed records only by default and every data record with read_uncommitted', async () => {
    const topic = 'ws-txn';
    await createTopic(topic);
    const p = await txnProducer('ws-txn-1');
    // c1 c2 COMMIT a1 a2 ABORT plain c3 COMMIT: offsets 0 1 (2) 3 4 (5) 6 7 (8).
    let txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'c1' }, { value: 'c2' }] });
    await txn.commit();
    txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'a1' }, { value: 'a2' }] });
    await txn.abort();
    await withProducer(kafka, (q) => q.send({ topic, messages: [{ value: 'plain' }] }));
    txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'c3' }] });
    await txn.commit();

    const probe = await open();
    const committed = await probe.sub({ topic, mode: 'assign', from: 'earliest' });
    const uncommitted = await probe.sub({ topic, mode: 'assign', from: 'earliest', isolation: 'read_uncommitted' });
    await probe.waitRecords(4, committed);
    await probe.waitRecords(6, uncommitted);
    await sleep(500); // anything more (an aborted record, a marker) would arrive in this window
    expect(probe.records(committed).map((r) => [r.offset, r.value])).toEqual([
      [0, 'c1'],
      [1, 'c2'],
      [6, 'plain'],
      [7, 'c3'],
    ]);
    expect(probe.records(uncommitted).map((r) => [r.offset, r.value])).toEqual([
      [0, 'c1'],
      [1, 'c2'],
      [3, 'a1'],
      [4, 'a2'],
      [6, 'plain'],
      [7, 'c3'],
    ]);
    const explicit = await probe.sub({ topic, mode: 'assign', from: 'earliest', isolation: 'read_committed' });
    await probe.waitRecords(4, explicit);
    expect(values(probe, explicit)).toEqual(['c1', 'c2', 'plain', 'c3']);
  });

  it("hold a live subscription at an open transaction and deliver its records on commit, never an aborted one's", async () => {
    const topic = 'ws-txn-live';
    await createTopic(topic);
    const probe = await open();
    const live = await probe.sub({ topic, mode: 'live' });
    const liveAll = await probe.sub({ topic, mode: 'live', isolation: 'read_uncommitted' });
    const p = await txnProducer('ws-txn-live');

    let txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'o1' }, { value: 'o2' }] });
    // A record after the open transaction's start is above the last stable offset too.
    await withProducer(kafka, (q) => q.send({ topic, messages: [{ value: 'behind' }] }));
    await probe.waitRecords(3, liveAll);
    await sleep(500);
    expect(values(probe, live)).toEqual([]);
    await txn.commit();
    await probe.waitRecords(3, live);
    expect(values(probe, live)).toEqual(['o1', 'o2', 'behind']);

    txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'x1' }] });
    await txn.abort();
    await withProducer(kafka, (q) => q.send({ topic, messages: [{ value: 'last' }] }));
    await probe.waitRecords(4, live);
    await probe.waitRecords(5, liveAll);
    await sleep(300);
    expect(values(probe, live)).toEqual(['o1', 'o2', 'behind', 'last']);
    expect(values(probe, liveAll)).toEqual(['o1', 'o2', 'behind', 'x1', 'last']);
  });

  it('starts "latest" at the last stable offset with read_committed', async () => {
    const topic = 'ws-txn-latest';
    await createTopic(topic);
    const p = await txnProducer('ws-txn-latest');
    const txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'pending' }] });
    const probe = await open();
    const ok = await probe.request({ op: 'sub', topic, mode: 'assign', from: 'latest' });
    expect(ok).toMatchObject({ op: 'ok', partitions: [{ topic, partition: 0, offset: 0 }] });
    const okAll = await probe.request({ op: 'sub', topic, mode: 'assign', from: 'latest', isolation: 'read_uncommitted' });
    expect(okAll).toMatchObject({ op: 'ok', partitions: [{ topic, partition: 0, offset: 1 }] });
    await txn.commit();
    await probe.waitRecords(1, ok.sub as number);
    expect(values(probe, ok.sub as number)).toEqual(['pending']);
  });

  it('refuses an unknown isolation with BAD_REQUEST', async () => {
    const probe = await open();
    const reply = await probe.request({ op: 'sub', topic: 'ws-txn', mode: 'live', isolation: 'committed' });
    expect(reply).toMatchObject({ op: 'error', code: 'BAD_REQUEST' });
    expect(String(reply.message)).toMatch(/isolation must be one of read_committed, read_uncommitted/);
  });
});

describe('SSE over transactions', () => {
  /** The data: lines of an SSE stream read for `ms`. */
  async function sse(path: string, ms: number): Promise<string[]> {
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${tb.broker.wsPort!}${path}`, { signal: ac.signal });
    expect(res.status).toBe(200);
    let text = '';
    const reader = res.body!.getReader();
    const stop = setTimeout(() => ac.abort(), ms);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    } catch {
      // aborted: the window is over
    } finally {
      clearTimeout(stop);
    }
    return text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  }

  it('streams committed records by default and every data record with ?isolation=read_uncommitted', async () => {
    const topic = 'sse-txn';
    await createTopic(topic);
    const p = await txnProducer('sse-txn');
    let txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'c1' }] });
    await txn.commit();
    txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'a1' }] });
    await txn.abort();
    txn = await p.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'open' }] });
    expect(await sse(`/sse/v1/topics/${topic}?from=earliest`, 1500)).toEqual(['c1']);
    expect(await sse(`/sse/v1/topics/${topic}?from=earliest&isolation=read_uncommitted`, 1500)).toEqual(['c1', 'a1', 'open']);
    const bad = await fetch(`http://127.0.0.1:${tb.broker.wsPort!}/sse/v1/topics/${topic}?isolation=x`);
    expect(bad.status).toBe(400);
    await txn.commit();
  });
});
