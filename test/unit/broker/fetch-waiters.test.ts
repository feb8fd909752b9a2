/**
 * Long polls: FetchWaiters (src/broker/fetch-waiters.ts, where a Fetch below min_bytes parks on its
 * partitions) and every way the fetch handler's wait ends: enough bytes at once, no wait asked, no
 * partition to wait on, an error, an append that satisfies it, one that does not (parks again),
 * max_wait_ms, the broker stopping, the topic deleted, the connection closing. A real Broker on a
 * temporary directory, no sockets: the handler is called directly, with a context whose
 * connection-close listeners the test fires.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/broker/broker.js';
import { FetchWaiters } from '../../../src/broker/fetch-waiters.js';
import type { RequestContext } from '../../../src/broker/handler.js';
import { fetchHandler } from '../../../src/broker/handlers/fetch.js';
import { buildBrokerConfig } from '../../../src/config.js';
import { buildBatch } from '../../../src/native/records.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { silentLogger } from '../../../src/util/logger.js';

describe('FetchWaiters', () => {
  const a = { name: 'a' };
  const b = { name: 'b' };
  const c = { name: 'c' };

  it('wakes what is parked on a key when that key is notified, and nothing else', () => {
    const w = new FetchWaiters<object>();
    const woken: string[] = [];
    w.park([a, b], () => woken.push('ab'));
    w.park([c], () => woken.push('c'));
    expect(w.parkedKeys).toBe(3);
    w.notify(b);
    expect(woken).toEqual(['ab']);
    w.notify(b); // the key's waiters were taken: a second append wakes nobody new
    expect(woken).toEqual(['ab']);
    expect(w.parkedKeys).toBe(2); // a and c
  });

  it('unparking removes a waiter from every key it parked on, leaving no empty entries; twice is harmless', () => {
    const w = new FetchWaiters<object>();
    const woken: string[] = [];
    const unpark = w.park([a, b], () => woken.push('x'));
    const keep = w.park([b], () => woken.push('y'));
    unpark();
    unpark();
    expect(w.parkedKeys).toBe(1);
    w.notify(a);
    w.notify(b);
    expect(woken).toEqual(['y']);
    keep();
    expect(w.parkedKeys).toBe(0);
  });

  it('a woken waiter stays parked on its other keys until it unparks (the fetch handler unparks when it answers)', () => {
    const w = new FetchWaiters<object>();
    let wakes = 0;
    const unpark = w.park([a, b], () => wakes++);
    w.notify(a);
    w.notify(b);
    expect(wakes).toBe(2);
    unpark();
    expect(w.parkedKeys).toBe(0);
  });

  it('a waiter that parks again while being woken waits for the next notify', () => {
    const w = new FetchWaiters<object>();
    let wakes = 0;
    const wake = () => {
      wakes++;
      if (wakes < 3) w.park([a], wake);
    };
    w.park([a], wake);
    w.notify(a);
    expect(wakes).toBe(1);
    expect(w.parkedKeys).toBe(1);
    w.notify(a);
    w.notify(a);
    w.notify(a);
    expect(wakes).toBe(3);
    expect(w.parkedKeys).toBe(0);
  });

  it('notifyAll (shutdown) wakes every waiter and leaves nothing parked', () => {
    const w = new FetchWaiters<object>();
    const woken = new Set<string>();
    w.park([a], () => woken.add('1'));
    w.park([b, c], () => woken.add('2'));
    w.park([c], () => woken.add('3'));
    w.notifyAll();
    expect([...woken].sort()).toEqual(['1', '2', '3']);
    expect(w.parkedKeys).toBe(0);
    w.notify(c);
    expect(woken.size).toBe(3);
  });
});

describe('a long-polling Fetch ends', () => {
  let dir: string;
  let broker: Broker;
  let ctx: RequestContext;
  /** What the fetch asked to hear of its connection closing; firing them is the connection closing. */
  const closeListeners = new Set<() => void>();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brook-waiters-'));
    broker = new Broker(buildBrokerConfig({ overrides: { 'log.dirs': dir, 'log.cleaner.enable': false, 'offsets.topic.num.partitions': 1 } }), silentLogger);
    broker.topics.create('t', 2);
    closeListeners.clear();
    ctx = {
      broker,
      header: { apiKey: 1, apiVersion: 11, correlationId: 1, clientId: 'unit' },
      version: 11,
      apis: [],
      onConnectionClose(listener: () => void) {
        closeListeners.add(listener);
        return () => closeListeners.delete(listener);
      },
    } as unknown as RequestContext;
  });
  afterEach(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const log = (p = 0) => broker.topics.get('t')!.partitions[p]!;
  const append = (p: number, values: string[]) => {
    log(p).append(buildBatch({ records: values.map((value) => ({ value })) }));
    broker.appended(log(p));
  };

  interface Answer {
    errorCode: number;
    records: { length: number };
    partitionIndex: number;
  }
  type FetchOptions = { minBytes: number; maxWaitMs: number; topic?: string; partitions?: number[]; offset?: bigint };
  const request = (o: FetchOptions) => ({
    replicaId: -1,
    maxWaitMs: o.maxWaitMs,
    minBytes: o.minBytes,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: o.topic ?? 't', topicId: '', partitions: (o.partitions ?? [0]).map((partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset: o.offset ?? 0n, logStartOffset: -1n, partitionMaxBytes: 1 << 20 })) }],
    forgottenTopicsData: [],
    rackId: '',
  });
  function fetch(o: FetchOptions): Promise<{ answers: Answer[]; ms: number }> | { answers: Answer[]; ms: number } {
    const started = Date.now();
    const shape = (res: unknown) => ({ answers: (res as { responses: { partitions: Answer[] }[] }).responses[0]!.partitions, ms: Date.now() - started });
    const r = fetchHandler.handle(request(o) as never, ctx);
    return r instanceof Promise ? r.then(shape) : shape(r);
  }
  const isPending = async (p: Promise<unknown>) => {
    let settled = false;
    void p.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 30));
    return !settled;
  };

  it('at once, without parking, when min_bytes is already there', () => {
    append(0, ['hello']);
    const r = fetch({ minBytes: 1, maxWaitMs: 10_000 });
    expect(r).not.toBeInstanceOf(Promise);
    expect((r as { answers: Answer[] }).answers[0]!.records.length).toBeGreaterThan(0);
    expect(broker.waiters.parkedKeys).toBe(0);
  });

  it('at once when max_wait_ms is 0 (or less), empty', () => {
    for (const maxWaitMs of [0, -1]) {
      const r = fetch({ minBytes: 1, maxWaitMs });
      expect(r).not.toBeInstanceOf(Promise);
      expect((r as { answers: Answer[] }).answers[0]).toMatchObject({ errorCode: 0, records: { length: 0 } });
    }
    expect(broker.waiters.parkedKeys).toBe(0);
  });

  it('at once when there is no partition to wait on (unknown topic)', () => {
    const r = fetch({ minBytes: 1, maxWaitMs: 10_000, topic: 'nope' });
    expect(r).not.toBeInstanceOf(Promise);
    expect((r as { answers: Answer[] }).answers[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('at once when a partition answers with an error, even if another could wait', () => {
    const r = fetch({ minBytes: 1, maxWaitMs: 10_000, partitions: [0, 7] });
    expect(r).not.toBeInstanceOf(Promise);
    expect((r as { answers: Answer[] }).answers.map((x) => x.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const out = fetch({ minBytes: 1, maxWaitMs: 10_000, offset: 5n });
    expect((out as { answers: Answer[] }).answers[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(broker.waiters.parkedKeys).toBe(0);
  });

  it('when an append to any partition it asked for brings min_bytes, long before max_wait_ms', async () => {
    const pending = fetch({ minBytes: 1, maxWaitMs: 10_000, partitions: [0, 1] }) as Promise<{ answers: Answer[]; ms: number }>;
    expect(pending).toBeInstanceOf(Promise);
    expect(broker.waiters.parkedKeys).toBe(2);
    expect(await isPending(pending)).toBe(true);
    append(1, ['wake up']);
    const { answers, ms } = await pending;
    expect(answers.map((x) => [x.partitionIndex, x.records.length > 0])).toEqual([
      [0, false],
      [1, true],
    ]);
    expect(ms).toBeLessThan(5_000);
    expect(broker.waiters.parkedKeys).toBe(0);
  });

  it('not on an append below min_bytes: it parks again, and answers with what there is at max_wait_ms', async () => {
    const pending = fetch({ minBytes: 1_000_000, maxWaitMs: 300 }) as Promise<{ answers: Answer[]; ms: number }>;
    append(0, ['small']);
    expect(await isPending(pending)).toBe(true);
    expect(broker.waiters.parkedKeys).toBe(1);
    const { answers, ms } = await pending;
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(answers[0]!.records.length).toBeGreaterThan(0); // the small batch, answered at the deadline
    expect(broker.waiters.parkedKeys).toBe(0);
  });

  it('at max_wait_ms with nothing, empty, and unparked', async () => {
    const { answers, ms } = await (fetch({ minBytes: 1, maxWaitMs: 200 }) as Promise<{ answers: Answer[]; ms: number }>);
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(answers[0]).toMatchObject({ errorCode: 0, records: { length: 0 } });
    expect(broker.waiters.parkedKeys).toBe(0);
  });

  it('at once when the broker stops serving (shutdown), with what it has', async () => {
    const pending = fetch({ minBytes: 1, maxWaitMs: 10_000 }) as Promise<{ answers: Answer[]; ms: number }>;
    expect(await isPending(pending)).toBe(true);
    broker.stopServing();
    const { answers, ms } = await pending;
    expect(ms).toBeLessThan(5_000);
    expect(answers[0]).toMatchObject({ errorCode: 0, records: { length: 0 } });
    expect(broker.waiters.parkedKeys).toBe(0);
  });

  it('when its connection closes: it answers nothing, unparks, and leaves no timer behind', async () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    const pending = fetchHandler.handle(request({ minBytes: 1, maxWaitMs: 3_600_000, partitions: [0, 1] }) as never, ctx) as Promise<unknown>;
    expect(pending).toBeInstanceOf(Promise);
    expect(broker.waiters.parkedKeys).toBe(2);
    expect(closeListeners.size).toBe(1);
    const parked = timeouts();
    expect(parked).toBe(before + 1); // its max_wait_ms timer
    for (const l of [...closeListeners]) l();
    expect(await pending).toBeNull();
    expect(broker.waiters.parkedKeys).toBe(0);
    expect(closeListeners.size).toBe(0);
    expect(timeouts()).toBe(before);
  });

  it('stops listening for the connection closing once it has answered', async () => {
    const pending = fetch({ minBytes: 1, maxWaitMs: 10_000 }) as Promise<unknown>;
    expect(closeListeners.size).toBe(1);
    append(0, ['answer']);
    await pending;
    expect(closeListeners.size).toBe(0);
  });

  it('at once when its topic is deleted, with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const pending = fetch({ minBytes: 1, maxWaitMs: 10_000 }) as Promise<{ answers: Answer[]; ms: number }>;
    expect(await isPending(pending)).toBe(true);
    await broker.deleteTopic(broker.topics.get('t')!);
    const { answers, ms } = await pending;
    expect(ms).toBeLessThan(5_000);
    expect(answers[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(broker.waiters.parkedKeys).toBe(0);
  });
});
