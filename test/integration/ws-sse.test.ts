/**
 * `GET /sse/v1/topics/:topic` (docs/websocket.md "SSE") through Node's fetch against a real broker:
 * one event per record with the cursor as its id, tombstones, envelopes, base64, resume by
 * Last-Event-ID or ?cursor= while production goes on, gap below the log start, filters, the HTTP
 * errors, and the stream's end at shutdown. The event-stream is parsed here, not by a library,
 * so the test checks the bytes browsers would see.
 *
 * Not tested: the `: hb` heartbeat (every 15 s, too slow for this file).
 */
import type { Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor } from '../../src/ws/cursor.js';
import { kafkajs, startTestBroker, until, withAdmin, withProducer, type TestBroker } from './harness.js';

let tb: TestBroker;
let kafka: Kafka;
const streams: SseClient[] = [];

interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** An SSE request read incrementally; events are parsed by the text/event-stream rules. */
class SseClient {
  readonly events: SseEvent[] = [];
  retry: number | undefined;
  comments: string[] = [];
  done = false;
  private pendingLine = '';
  private current: { id?: string; event?: string; data: string[] } = { data: [] };
  readonly finished: Promise<void>;

  private constructor(
    readonly res: Response,
    private readonly abort: AbortController,
  ) {
    this.finished = this.read();
  }

  /** Opens the stream; an error status resolves too (check `res.status`). */
  static async open(path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${tb.broker.wsPort!}${path}`, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const c = new SseClient(res, abort);
    streams.push(c);
    return c;
  }

  private async read(): Promise<void> {
    if (!this.res.body || this.res.status !== 200) {
      this.done = true;
      return;
    }
    const reader = this.res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // aborted by the test
    }
    this.done = true;
  }

  private feed(text: string): void {
    const lines = (this.pendingLine + text).split(/\r\n|\r|\n/);
    this.pendingLine = lines.pop()!;
    for (const line of lines) {
      if (line === '') {
        if (this.current.data.length > 0 || this.current.event !== undefined) this.events.push({ id: this.current.id, event: this.current.event ?? 'message', data: this.current.data.join('\n') });
        this.current = { data: [] };
        continue;
      }
      if (line.startsWith(':')) {
        this.comments.push(line);
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') this.current.data.push(value);
      else if (field === 'id') this.current.id = value;
      else if (field === 'event') this.current.event = value;
      else if (field === 'retry') this.retry = Number(value);
    }
  }

  async waitEvents(n: number, timeoutMs = 10_000): Promise<SseEvent[]> {
    await until(`${n} SSE events (have ${this.events.length})`, () => this.events.length >= n || this.done, timeoutMs);
    if (this.events.length < n) throw new Error(`stream ended after ${this.events.length} of ${n} events`);
    return this.events;
  }

  close(): void {
    this.abort.abort();
  }
}

beforeAll(async () => {
  tb = await startTestBroker();
  kafka = kafkajs(tb.bootstrap, { clientId: 'ws-sse-it' });
});

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  expect(tb.broker.wsStats()?.handlerErrors).toBe(0);
});

afterAll(async () => {
  await tb?.close();
});

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true }));
}

type Message = { key?: string | null; value: string | Buffer | null; partition?: number; headers?: Record<string, string> };
async function produce(topic: string, messages: Message[]): Promise<void> {
  await withProducer(kafka, (p) => p.send({ topic, messages }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('events', () => {
  const topic = 'sse-events';
  const binary = Buffer.from([0, 0xff, 0x80, 10, 13, 0x7f]);
  beforeAll(async () => {
    await createTopic(topic, 2);
    await produce(topic, [
      { key: 'a', value: 'one', partition: 0, headers: { h: 'x' } },
      { key: 'b', value: 'two', partition: 1 },
      { key: 'a', value: null, partition: 0 },
      { key: null, value: 'line 1\nline 2', partition: 1 },
      { key: 'bin', value: binary, partition: 0 },
    ]);
  });

  it('streams every record from earliest: data is the value, id the cursor after it, event delete for a tombstone', async () => {
    const s = await SseClient.open(`/sse/v1/topics/${topic}?from=earliest`);
    expect(s.res.status).toBe(200);
    expect(s.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await s.waitEvents(5);
    await sleep(200);
    expect(s.events).toHaveLength(5);
    expect(s.retry).toBe(2000);
    // Per partition in offset order; which partition comes first is the server's choice.
    const byPart = (part: number) => s.events.filter((e, i) => {
      const cur = decodeCursor(e.id!)[0]!.next.get(part)!;
      const prev = i === 0 ? 0 : decodeCursor(s.events[i - 1]!.id!)[0]!.next.get(part)!;
      return cur > prev;
    });
    const part0 = byPart(0);
    const part1 = byPart(1);
    expect(part0.map((e) => [e.event, e.data.slice(0, 3)])).toEqual([
      ['message', 'one'],
      ['delete', ''],
      ['message', '\u0000\ufffd\ufffd'],
    ]);
    expect(part1.map((e) => [e.event, e.data])).toEqual([
      ['message', 'two'],
      ['message', 'line 1\nline 2'],
    ]);
    // The id is the cursor just after the event: next offset of its partition = its offset + 1.
    const cursors = part0.map((e) => decodeCursor(e.id!));
    expect(cursors.map((c) => c[0]!.next.get(0))).toEqual([1, 2, 3]);
    expect(new Set(s.events.map((e) => decodeCursor(e.id!)[0]!.topicId))).toEqual(new Set([tb.broker.broker.topics.get(topic)!.id]));
  });

  it('envelope=json wraps key, partition, offset, timestamp and headers around the value; encoding=base64 keeps binary values', async () => {
    const s = await SseClient.open(`/sse/v1/topics/${topic}?from=earliest&envelope=json`);
    await s.waitEvents(5);
    const env = s.events.map((e) => JSON.parse(e.data) as Record<string, unknown>);
    const first = env.find((e) => e.partition === 0 && e.offset === 0)!;
    expect(first).toMatchObject({ partition: 0, offset: 0, key: 'a', value: 'one', headers: { h: 'x' } });
    expect(typeof first.timestamp).toBe('number');
    expect(Math.abs((first.timestamp as number) - Date.now())).toBeLessThan(60_000);
    expect(env.find((e) => e.partition === 0 && e.offset === 1)).toMatchObject({ key: 'a', value: null });
    expect(s.events.find((e) => e.event === 'delete')).toBeDefined();
    expect(env.find((e) => e.partition === 1 && e.offset === 1)).toMatchObject({ key: null, value: 'line 1\nline 2' });

    const b = await SseClient.open(`/sse/v1/topics/${topic}?from=earliest&encoding=base64`);
    await b.waitEvents(5);
    const values = b.events.filter((e) => e.event === 'message').map((e) => Buffer.from(e.data, 'base64'));
    expect(values.some((v) => v.equals(binary))).toBe(true);
    expect(values.some((v) => v.toString() === 'line 1\nline 2')).toBe(true);

    const both = await SseClient.open(`/sse/v1/topics/${topic}?from=earliest&encoding=base64&envelope=json`);
    await both.waitEvents(5);
    const bin = both.events.map((e) => JSON.parse(e.data) as { key: string | null; value: string | null }).find((e) => e.key === Buffer.from('bin').toString('base64'))!;
    expect(Buffer.from(bin.value!, 'base64').equals(binary)).toBe(true);
  });
});

describe('live tail and flow control', () => {
  it('from=latest (the default) sends only what is produced after the request', async () => {
    const topic = 'sse-latest';
    await createTopic(topic, 2);
    await produce(topic, [{ value: 'old', partition: 0 }]);
    const s = await SseClient.open(`/sse/v1/topics/${topic}`);
    expect(s.res.status).toBe(200);
    await sleep(200);
    expect(s.events).toEqual([]);
    await produce(topic, [
      { value: 'new-0', partition: 0 },
      { value: 'new-1', partition: 1 },
    ]);
    await s.waitEvents(2);
    await sleep(200);
    expect(s.events.map((e) => e.data).sort()).toEqual(['new-0', 'new-1']);
  });

  it('a backlog many times the socket buffer arrives whole and in order to a reader that starts late', async () => {
    const topic = 'sse-backlog';
    const total = 4000;
    await createTopic(topic);
    const value = (i: number) => `${i}:${'x'.repeat(1000)}`;
    await withProducer(kafka, async (p) => {
      for (let i = 0; i < total; i += 500) await p.send({ topic, messages: Array.from({ length: 500 }, (_, j) => ({ value: value(i + j) })) });
    });
    // Raw reads, started only after the server had time to fill the socket: it must wait for
    // onWritable and go on, not drop or stop.
    const res = await fetch(`http://127.0.0.1:${tb.broker.wsPort!}/sse/v1/topics/${topic}?from=earliest`);
    await sleep(500);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let count = 0;
    while (count < total) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value, { stream: true });
      count = text.split('\n\n').length - 2; // the first block is retry + comment; the last is partial
    }
    await reader.cancel();
    const values = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice('data: '.length));
    expect(values.slice(0, total)).toEqual(Array.from({ length: total }, (_, i) => value(i)));
  });
});

describe('resume', () => {
  /** Produces `total` records over 2 partitions in small batches while the test reads. */
  async function produceSlowly(topic: string, total: number): Promise<void> {
    await withProducer(kafka, async (p) => {
      for (let i = 0; i < total; i += 10) {
        await p.send({ topic, messages: Array.from({ length: 10 }, (_, j) => ({ partition: (i + j) % 2, value: `v${i + j}` })) });
        await sleep(15);
      }
    });
  }

  for (const how of ['Last-Event-ID', '?cursor='] as const) {
    it(`with ${how} continues exactly after the last event read, while production goes on`, async () => {
      const topic = `sse-resume-${how === '?cursor=' ? 'query' : 'header'}`;
      const total = 300;
      await createTopic(topic, 2);
      const producing = produceSlowly(topic, total);
      const seen: { partition: number; offset: number; value: string }[] = [];
      let resumeFrom: string | undefined;
      for (let round = 0; round < 3; round++) {
        const path = `/sse/v1/topics/${topic}?envelope=json${resumeFrom === undefined ? '&from=earliest' : how === '?cursor=' ? `&cursor=${encodeURIComponent(resumeFrom)}` : ''}`;
        const s = await SseClient.open(path, resumeFrom !== undefined && how === 'Last-Event-ID' ? { 'last-event-id': resumeFrom } : {});
        expect(s.res.status).toBe(200);
        await s.waitEvents(round < 2 ? 40 : total - seen.length);
        // Keep exactly the events parsed so far; the rest are lost with the abort, as in a browser.
        const kept = s.events.slice(0, round < 2 ? 40 + Math.floor(Math.random() * 20) : s.events.length);
        s.close();
        for (const e of kept) seen.push(JSON.parse(e.data) as { partition: number; offset: number; value: string });
        resumeFrom = kept.at(-1)!.id;
        if (round === 2) break;
      }
      await producing;
      await sleep(200);
      expect(seen).toHaveLength(total);
      for (const part of [0, 1]) {
        expect(seen.filter((r) => r.partition === part).map((r) => r.offset)).toEqual(Array.from({ length: total / 2 }, (_, i) => i));
      }
      expect(new Set(seen.map((r) => r.value)).size).toBe(total);
    });
  }
});

describe('gap below the log start', () => {
  it('sends event: gap {partition, from, to, reason: retention} before the first record', async () => {
    const topic = 'sse-gap';
    await createTopic(topic);
    await produce(topic, Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })));
    await withAdmin(kafka, async (a) => {
      await a.fetchTopicMetadata({ topics: [topic] });
      await a.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '6' }] });
    });
    const s = await SseClient.open(`/sse/v1/topics/${topic}?from=0`);
    expect(s.res.status).toBe(200);
    await s.waitEvents(5);
    expect(s.events[0]!.event).toBe('gap');
    expect(JSON.parse(s.events[0]!.data)).toEqual({ partition: 0, from: 0, to: 6, reason: 'retention' });
    expect(s.events.slice(1).map((e) => [e.event, e.data])).toEqual([6, 7, 8, 9].map((i) => ['message', `r${i}`]));
  });
});

describe('filters', () => {
  const topic = 'sse-filtered';
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

  for (const [query, expected] of [
    ['filter.key=user-1', [['message', 'a'], ['delete', '']]],
    ['filter.keyPrefix=user-', [['message', 'a'], ['message', 'b'], ['delete', '']]],
    ['filter.header.kind=x', [['message', 'a'], ['message', 'c'], ['message', 'keyless']]],
    ['filter.keyPrefix=user-&filter.header.kind=x', [['message', 'a']]],
  ] as const) {
    it(query, async () => {
      const s = await SseClient.open(`/sse/v1/topics/${topic}?from=earliest&${query}`);
      await s.waitEvents(expected.length);
      await sleep(200);
      expect(s.events.map((e) => [e.event, e.data])).toEqual(expected);
    });
  }

  it('a resume id of a filtered stream skips what the filter dropped after it', async () => {
    const s = await SseClient.open(`/sse/v1/topics/${topic}?from=earliest&filter.key=user-1&envelope=json`);
    await s.waitEvents(1);
    const id = s.events[0]!.id!;
    s.close();
    const r = await SseClient.open(`/sse/v1/topics/${topic}?filter.key=user-1&envelope=json`, { 'last-event-id': id });
    await r.waitEvents(1);
    await sleep(200);
    expect(r.events.map((e) => (JSON.parse(e.data) as { offset: number }).offset)).toEqual([3]);
  });
});

describe('errors', () => {
  it('404 for an unknown topic', async () => {
    const s = await SseClient.open('/sse/v1/topics/no-such-topic?from=earliest');
    expect(s.res.status).toBe(404);
  });

  it('400 for a bad cursor, in the header or the query, and for a bad from', async () => {
    await createTopic('sse-errors');
    expect((await SseClient.open('/sse/v1/topics/sse-errors', { 'last-event-id': 'not a cursor!' })).res.status).toBe(400);
    expect((await SseClient.open('/sse/v1/topics/sse-errors?cursor=AAAA')).res.status).toBe(400);
    expect((await SseClient.open('/sse/v1/topics/sse-errors?from=yesterday')).res.status).toBe(400);
  });

  it('409 for a cursor of a topic deleted and recreated under the same name', async () => {
    const topic = 'sse-recreated';
    await createTopic(topic);
    await produce(topic, [{ value: 'old' }]);
    const s = await SseClient.open(`/sse/v1/topics/${topic}?from=earliest`);
    const [e] = await s.waitEvents(1);
    s.close();
    await withAdmin(kafka, (a) => a.deleteTopics({ topics: [topic] }));
    await until('the topic to be gone', () => !tb.broker.broker.topics.get(topic), 5000);
    await createTopic(topic);
    const r = await SseClient.open(`/sse/v1/topics/${topic}`, { 'last-event-id': e!.id! });
    expect(r.res.status).toBe(409);
    const q = await SseClient.open(`/sse/v1/topics/${topic}?cursor=${encodeURIComponent(e!.id!)}`);
    expect(q.res.status).toBe(409);
  });

  it('431 for request headers over 4 KiB, and the gateway keeps serving', async () => {
    await createTopic('sse-big-headers');
    const s = await SseClient.open('/sse/v1/topics/sse-big-headers', { 'x-padding': 'p'.repeat(5000) });
    expect(s.res.status).toBe(431);
    const ok = await SseClient.open('/sse/v1/topics/sse-big-headers');
    expect(ok.res.status).toBe(200);
  });
});

describe('shutdown', () => {
  it('ends every stream when the broker closes, without hanging', async () => {
    const other = await startTestBroker();
    const port = other.broker.wsPort!;
    await withAdmin(kafkajs(other.bootstrap), (a) => a.createTopics({ topics: [{ topic: 'bye' }], waitForLeaders: true }));
    await withProducer(kafkajs(other.bootstrap), (p) => p.send({ topic: 'bye', messages: [{ value: 'x' }] }));
    const res = await fetch(`http://127.0.0.1:${port}/sse/v1/topics/bye?from=earliest`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    const t0 = Date.now();
    const closing = other.close();
    let done = false;
    const deadline = Date.now() + 5000;
    try {
      while (!done && Date.now() < deadline) done = (await Promise.race([reader.read(), sleep(5000).then(() => ({ done: false, value: undefined }))])).done;
    } catch {
      done = true; // a reset connection ends the stream too
    }
    expect(done).toBe(true);
    await closing;
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
