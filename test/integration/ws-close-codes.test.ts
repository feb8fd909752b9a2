/**
 * Every close code of docs/websocket.md ("Close codes") as a real `ws` client sees it, against a
 * real broker, and after each one the broker still serves: a new socket gets its hello, a kafkajs
 * produce is acknowledged, and uWS dropped nothing. 4429 (policy close) is in ws-gateway.test.ts;
 * 1011 (a handler that throws) in ws-guard.test.ts. Ends with a fuzz of malformed control messages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearerProtocol } from '../../src/ws/auth.js';
import { decodeCursor } from '../../src/ws/cursor.js';
import { kafkajs, startTestBroker, withAdmin, withProducer, type TestBroker } from './harness.js';
import { WsProbe, type Json } from './ws-harness.js';

/** docs/websocket.md, "Close codes": the only codes a client may ever see. */
const DOCUMENTED_CODES = new Set([1000, 1001, 1003, 1006, 1007, 1011, 4400, 4401, 4403, 4409, 4429, 4503]);

const probes: WsProbe[] = [];
async function open(port: number, opts: Parameters<typeof WsProbe.open>[1] = {}): Promise<WsProbe> {
  const p = await WsProbe.open(port, opts);
  probes.push(p);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The broker serves WS (a fresh socket gets hello) and Kafka (a produce is acknowledged), and uWS dropped nothing. */
async function expectServing(tb: TestBroker): Promise<void> {
  const p = await WsProbe.open(tb.broker.wsPort!);
  await p.waitJson((m) => m.op === 'hello', 5000);
  await p.close();
  const [meta] = await withProducer(kafkajs(tb.bootstrap), (pr) => pr.send({ topic: 'alive', messages: [{ value: 'still here' }] }));
  expect(meta?.errorCode).toBe(0);
  expect(tb.broker.wsStats()?.dropped).toBe(0);
}

afterEach(async () => {
  await Promise.all(probes.splice(0).map((p) => (p.closeInfo ? p.closed : p.close())));
});

describe('close codes on a default broker', () => {
  let tb: TestBroker;
  beforeAll(async () => {
    tb = await startTestBroker({ properties: { 'ws.checkpoint.ms': 100 } });
  });
  afterAll(async () => {
    await tb?.close();
  });
  afterEach(async () => {
    await expectServing(tb);
    expect(tb.broker.wsStats()?.handlerErrors).toBe(0);
  });
  const port = () => tb.broker.wsPort!;

  it('1000: the client closes normally', async () => {
    const p = await open(port());
    await p.waitJson((m) => m.op === 'hello');
    expect((await p.close(1000)).code).toBe(1000);
  });

  it('1003: a binary frame from the client', async () => {
    const p = await open(port());
    await p.waitJson((m) => m.op === 'hello');
    p.ws.send(Buffer.from('{"op":"pub","id":1,"topic":"t","value":"v"}'), { binary: true });
    expect((await p.closed).code).toBe(1003);
  });

  it('1007: a control message whose JSON strings are not valid Unicode (a lone surrogate escape)', async () => {
    const p = await open(port());
    await p.waitJson((m) => m.op === 'hello');
    // Valid UTF-8 and valid JSON, but the key would reach the log as U+FFFD, silently altered.
    p.send('{"op":"pub","id":1,"topic":"t","key":"k\\ud800","value":"v"}');
    expect((await p.closed).code).toBe(1007);
  });

  it('1006: a text frame of invalid UTF-8 (uWebSockets.js checks it and drops the connection, no close frame)', async () => {
    const p = await open(port());
    await p.waitJson((m) => m.op === 'hello');
    // `{"op":"` then a lone continuation byte and an overlong encoding of '/'.
    p.ws.send(Buffer.concat([Buffer.from('{"op":"'), Buffer.from([0x80, 0xc0, 0xaf]), Buffer.from('"}')]), { binary: false });
    expect((await p.closed).code).toBe(1006);
  });

  it('4400: a text frame that is not JSON, and JSON without op', async () => {
    const a = await open(port());
    await a.waitJson((m) => m.op === 'hello');
    a.send('this is not json');
    expect((await a.closed).code).toBe(4400);
    const b = await open(port());
    await b.waitJson((m) => m.op === 'hello');
    b.send({ id: 1, topic: 'x' });
    expect((await b.closed).code).toBe(4400);
  });

  it('a JSON message with a bad field gets BAD_REQUEST and the socket stays open', async () => {
    const p = await open(port());
    await p.waitJson((m) => m.op === 'hello');
    expect(await p.request({ op: 'sub', topic: 7, mode: 'assign' })).toMatchObject({ op: 'error', code: 'BAD_REQUEST' });
    expect(await p.request({ op: 'nonsense' })).toMatchObject({ op: 'error', code: 'BAD_REQUEST' });
    expect(await p.request({ op: 'pub', topic: 'bad-field-ok', value: 'v' })).toMatchObject({ op: 'ok', partition: 0, offset: 0 });
    expect(p.closeInfo).toBeUndefined();
  });

  it('1006: a client frame over 64 KiB ends the connection without a close frame', async () => {
    const p = await open(port());
    await p.waitJson((m) => m.op === 'hello');
    p.send(JSON.stringify({ op: 'pub', id: 1, topic: 'big', value: 'x'.repeat(64 * 1024) }));
    expect((await p.closed).code).toBe(1006);
  });

  it('4409: a newer socket takes over the session; the old one gets closing, then 4409', async () => {
    const first = await open(port());
    const session = (await first.waitJson((m) => m.op === 'hello')).session as string;
    await first.request({ op: 'pub', topic: 'taken-over', value: 'v' });
    const sub = await first.sub({ topic: 'taken-over', mode: 'assign', from: 'earliest' });
    await first.waitRecords(1, sub);
    const second = await open(port());
    await second.waitJson((m) => m.op === 'hello');
    second.send({ op: 'hello', id: 1, session });
    expect((await first.closed).code).toBe(4409);
    const closing = first.json.find((m) => m.op === 'closing');
    expect(closing).toMatchObject({ code: 4409 });
    // The new socket resumes where the old one stopped.
    const cursor = (closing!.cursors as Record<string, string>)[String(sub)]!;
    const resumed = await second.sub({ topic: 'taken-over', mode: 'assign', from: { cursor } });
    await second.request({ op: 'pub', topic: 'taken-over', value: 'w' });
    expect((await second.waitRecords(1, resumed)).map((r) => [r.offset, r.value])).toEqual([[1, 'w']]);
    expect(await second.waitJson((m) => m.id === 1)).toMatchObject({ op: 'ok', session });
    expect(second.closeInfo).toBeUndefined();
  });

  it('4403: an anonymous page from another site; a loopback page is accepted', async () => {
    const evil = await open(port(), { headers: { Origin: 'https://evil.example' } });
    expect((await evil.closed).code).toBe(4403);
    expect(evil.json.find((m) => m.op === 'hello')).toBeUndefined();
    const local = await open(port(), { headers: { Origin: 'http://localhost:3000' } });
    await local.waitJson((m) => m.op === 'hello');
    expect(local.closeInfo).toBeUndefined();
  });

  it('fuzz: 2,000 malformed control messages end in replies or documented codes, never a broker failure', async () => {
    // A deterministic generator (xorshift32, seed non-zero), so a failure can be replayed; BROOK_FUZZ_SEED tries others.
    let seed = Number(process.env.BROOK_FUZZ_SEED ?? 0x9e3779b9) >>> 0 || 1;
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x1_0000_0000;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const anyValue = (depth = 0): unknown => {
      switch (Math.floor(rand() * (depth > 3 ? 6 : 9))) {
        case 0:
          return pick([0, -1, 1, 2 ** 31, 2 ** 53, 2 ** 64, 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER + 2]);
        case 1:
          return pick(['', 'x', 'logs.a', 'earliest', 'latest', 'committed', '\u0000', '\ud800', 'é'.repeat(100), '../..']);
        case 2:
          return pick([null, true, false]);
        case 3:
          return pick(['live', 'assign', 'group', 'wait', 'close', 'conflate', 'skip']);
        case 4:
          return Math.floor(rand() * 10);
        case 5:
          return pick([{}, [], { cursor: 'AAAA' }, { offsets: { '0': -5 } }, { timestamp: -1 }, { records: 1e9, bytes: -1 }]);
        default: {
          const o: Record<string, unknown> = {};
          for (let i = Math.floor(rand() * 4); i > 0; i--) o[pick(['topic', 'topics', 'from', 'key', 'value', 'headers', 'partitions', 'offsets', 'cursor', '0', '__proto__'])] = anyValue(depth + 1);
          return rand() < 0.3 ? Object.values(o) : o;
        }
      }
    };
    const ops = ['hello', 'sub', 'unsub', 'credit', 'ack', 'pub', 'auth', 'records', 'closing', 'constructor', '__proto__', ''];
    const fields = ['id', 'topic', 'topics', 'partitions', 'mode', 'from', 'group', 'filter', 'credit', 'policy', 'encoding', 'sub', 'records', 'bytes', 'partition', 'offset', 'key', 'value', 'headers', 'acks', 'token', 'session'];
    const valid: Json[] = [
      { op: 'pub', id: 1, topic: 'fuzz', key: 'k', value: 'v', headers: { h: 'x' } },
      { op: 'sub', id: 2, topic: 'fuzz', mode: 'assign', from: 'earliest', credit: { records: 5, bytes: 4096 } },
      { op: 'credit', id: 3, sub: 1, records: 10, bytes: 1000 },
      { op: 'ack', id: 4, sub: 1, partition: 0, offset: 1 },
      { op: 'unsub', id: 5, sub: 1 },
    ];
    const message = (): string | Buffer => {
      const r = rand();
      if (r < 0.04) return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))); // random bytes as text
      if (r < 0.08) return Array.from({ length: Math.floor(rand() * 40) }, () => String.fromCharCode(32 + Math.floor(rand() * 95))).join(''); // printable garbage
      if (r < 0.16) {
        const text = JSON.stringify(pick(valid));
        return text.slice(0, Math.floor(rand() * text.length)); // truncated
      }
      if (r < 0.2) {
        // Deep nesting, within the 64 KiB frame limit.
        const depth = 1000 + Math.floor(rand() * 9000);
        return `{"op":"sub","id":9,"topic":"fuzz","mode":"assign","filter":{"headers":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`.slice(0, 60_000);
      }
      if (r < 0.26) return `{"op":"pub","id":7,"topic":"fuzz","value":"v","partition":${pick(['1e400', '-0', '99999999999999999999999', '1.5', '-2147483649'])}}`;
      if (r < 0.32) return pick(['{"__proto__":{"op":"pub"},"id":1}', '{"op":"sub","__proto__":{"mode":"live"},"topic":"fuzz","id":2}', '{"op":"pub","topic":"fuzz","value":"v","headers":{"__proto__":"x","constructor":"y"},"id":3}', '{"op":"constructor","id":4}', '{"op":"toString","id":5}', '{"op":"hasOwnProperty","id":6}']);
      if (r < 0.4) return JSON.stringify(anyValue());
      // A message with a real op (mostly) and random fields: the validator's ground.
      const m: Record<string, unknown> = rand() < 0.9 ? { op: pick(ops) } : {};
      for (let i = Math.floor(rand() * 6); i > 0; i--) m[pick(fields)] = anyValue();
      if (rand() < 0.5) m.id = Math.floor(rand() * 1000);
      return JSON.stringify(m);
    };

    const rssBefore = process.memoryUsage().rss;
    const handlerErrorsBefore = tb.broker.wsStats()!.handlerErrors;
    // Both subprotocols: control messages are JSON text in each, and replies must not differ.
    const protocolOf = (k: number) => [k % 2 === 0 ? 'brook.v1.bin' : 'brook.v1.json'];
    const sockets = await Promise.all(Array.from({ length: 6 }, (_, k) => open(port(), { protocols: protocolOf(k) })));
    const all = [...sockets];
    for (let i = 0; i < 2000; i++) {
      const k = i % sockets.length;
      if (sockets[k]!.closeInfo || sockets[k]!.ws.readyState !== sockets[k]!.ws.OPEN) {
        sockets[k] = await open(port(), { protocols: protocolOf(k) });
        all.push(sockets[k]!);
      }
      const msg = message();
      sockets[k]!.ws.send(msg, { binary: false });
      if (i % 25 === 24) await sleep(5);
    }
    await sleep(500);
    for (const s of all) {
      if (s.closeInfo) expect(DOCUMENTED_CODES, `closed with ${s.closeInfo.code} ${s.closeInfo.reason}`).toContain(s.closeInfo.code);
    }
    // A socket still open still answers.
    for (const s of sockets.filter((x) => !x.closeInfo)) {
      expect(await s.request({ op: 'pub', topic: 'fuzz', value: 'after' })).toMatchObject({ op: 'ok' });
    }
    const closedCodes = all.flatMap((s) => (s.closeInfo ? [s.closeInfo.code] : []));
    // The generator does produce closing messages; if none closed, the fuzz tested nothing.
    expect(closedCodes.length).toBeGreaterThan(10);
    const errorCodes = new Set(all.flatMap((s) => s.json.filter((m) => m.op === 'error').map((m) => m.code)));
    expect(errorCodes).toContain('BAD_REQUEST');
    // A dispatch that failed unexpectedly answers UNKNOWN_SERVER_ERROR without counting a handler
    // error (session.ts): malformed input must never get that far.
    expect(errorCodes).not.toContain('UNKNOWN_SERVER_ERROR');
    expect(tb.broker.wsStats()!.handlerErrors - handlerErrorsBefore).toBe(0);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('1001: shutdown', () => {
  let tb: TestBroker | undefined;
  afterAll(async () => {
    await tb?.close();
  });

  it('sends closing with each subscription cursor, then 1001; the cursor resumes on the restarted broker with nothing lost or repeated', async () => {
    tb = await startTestBroker({ properties: { 'ws.checkpoint.ms': 100 } });
    let kafka: Kafka = kafkajs(tb.bootstrap);
    const topic = 'shutdown';
    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic, numPartitions: 2 }] }));
    await withProducer(kafka, (p) => p.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `a${i}`, partition: i % 2 })) }));
    const p = await open(tb.broker.wsPort!);
    const sub = await p.sub({ topic, mode: 'assign', from: 'earliest', credit: { records: 7, bytes: 1 << 20 } });
    await p.waitRecords(7, sub);
    await sleep(200);
    const seen = p.records(sub).map((r) => `${r.partition}:${r.offset}`);

    await tb.restart({ ws: { port: 0 } });
    expect((await p.closed).code).toBe(1001);
    const closing = p.json.find((m) => m.op === 'closing');
    expect(closing).toMatchObject({ op: 'closing', code: 1001 });
    const cursor = (closing!.cursors as Record<string, string>)[String(sub)];
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);

    kafka = kafkajs(tb.bootstrap);
    await withProducer(kafka, (pr) => pr.send({ topic, messages: Array.from({ length: 6 }, (_, i) => ({ value: `b${i}`, partition: i % 2 })) }));
    const q = await open(tb.broker.wsPort!);
    const sub2 = await q.sub({ topic, mode: 'assign', from: { cursor } });
    const rest = await q.waitRecords(26 - seen.length, sub2);
    await sleep(200);
    const all = [...seen, ...q.records(sub2).map((r) => `${r.partition}:${r.offset}`)];
    expect(new Set(all).size).toBe(all.length); // nothing repeated
    expect(all.length).toBe(26); // nothing lost
    expect(rest.length).toBe(26 - seen.length);
    await expectServing(tb);
  });
});

describe('1001: shutdown while a client is not reading', () => {
  let tb: TestBroker | undefined;
  afterAll(async () => {
    await tb?.close();
  });

  // Found by this test: the gateway called uWS's app.close() right after the closes, which dropped
  // the sockets with their buffers (closing frame included); it now lets uWS finish each socket.
  it('the closing frame and 1001 still reach it once it reads again', async () => {
    tb = await startTestBroker({ properties: { 'ws.max.buffered.bytes': 65536 } });
    const kafka = kafkajs(tb.bootstrap);
    const topic = 'stalled';
    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic }] }));
    const value = 'x'.repeat(8192);
    await withProducer(kafka, async (p) => {
      for (let i = 0; i < 60; i++) await p.send({ topic, messages: Array.from({ length: 50 }, () => ({ value })) });
    });
    const p = await open(tb.broker.wsPort!);
    await p.waitJson((m) => m.op === 'hello');
    // Stop reading at the TCP level: the kernel buffers fill, then uWS's own buffer.
    const raw = (p.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    const sub = await p.sub({ topic, mode: 'assign', from: 'earliest', credit: { records: 100_000, bytes: 1 << 30 } });
    raw.pause();
    await sleep(1000);
    const closing = tb.close();
    tb = undefined;
    await sleep(200);
    raw.resume();
    const closed = await p.closed;
    await closing;
    const got = p.records(sub);
    // The stall happened (else this test would prove nothing): the kernel's loopback buffers took
    // about 9 MB of the 24 MB here, so most records were never sent.
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(3000);
    const closingFrame = p.json.find((m) => m.op === 'closing');
    expect(closingFrame).toMatchObject({ code: 1001 });
    expect(closed.code).toBe(1001);
    // Its cursor starts exactly after the last record that arrived: nothing lost, nothing repeated.
    const [position] = decodeCursor((closingFrame!.cursors as Record<string, string>)[String(sub)]!);
    expect(position!.next.get(0)).toBe(got.at(-1)!.offset + 1);
    expect(got.map((r) => r.offset)).toEqual(got.map((_, i) => i));
  });
});

describe('4503: over ws.max.connections', () => {
  let tb: TestBroker;
  beforeAll(async () => {
    tb = await startTestBroker({ properties: { 'ws.max.connections': 3 } });
  });
  afterAll(async () => {
    await tb?.close();
  });

  it('the 4th connection is upgraded, then closed 4503; a freed slot is usable again', async () => {
    const port = tb.broker.wsPort!;
    const three = [await open(port), await open(port), await open(port)];
    for (const p of three) await p.waitJson((m) => m.op === 'hello');
    const fourth = await open(port);
    expect((await fourth.closed).code).toBe(4503);
    expect(tb.broker.wsStats()?.refused).toBe(1);
    await three[0]!.close();
    await expectServing(tb);
    expect(tb.broker.wsStats()?.handlerErrors).toBe(0);
  });
});

describe('4401 / 4403 with ws.auth=token', () => {
  let tb: TestBroker;
  let dir: string;
  const token = 'logs-reader-token';
  const bobToken = 'bob-token';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brook-ws-auth-'));
    const file = join(dir, 'tokens.json');
    writeFileSync(
      file,
      JSON.stringify({ tokens: [{ token, principal: 'alice', read: ['logs.'], write: ['logs.'] }, { token: bobToken, principal: 'bob', read: ['*'], write: [] }] }, null, 2),
    );
    tb = await startTestBroker({ properties: { 'ws.auth': 'token', 'ws.auth.tokens.file': file } });
    await withAdmin(kafkajs(tb.bootstrap), (a) => a.createTopics({ topics: [{ topic: 'other' }, { topic: 'logs.app' }] }));
  });
  afterAll(async () => {
    await tb?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    expect(tb.broker.wsStats()?.handlerErrors).toBe(0);
    expect(tb.broker.wsStats()?.dropped).toBe(0);
  });
  const port = () => tb.broker.wsPort!;

  it('4401: no token', async () => {
    const p = await open(port());
    expect((await p.closed).code).toBe(4401);
    expect(p.json.find((m) => m.op === 'hello')).toBeUndefined();
  });

  it('4401: an unknown bearer token', async () => {
    const p = await open(port(), { protocols: ['brook.v1.bin', bearerProtocol('not-a-token')] });
    expect((await p.closed).code).toBe(4401);
  });

  it('a known bearer: the token is never echoed; a forbidden topic is an error reply and the socket stays', async () => {
    const p = await open(port(), { protocols: ['brook.v1.bin', bearerProtocol(token)] });
    expect(p.ws.protocol).toBe('brook.v1.bin');
    await p.waitJson((m) => m.op === 'hello');
    expect(await p.request({ op: 'sub', topic: 'other', mode: 'assign' })).toMatchObject({ op: 'error', code: 'FORBIDDEN' });
    expect(await p.request({ op: 'sub', topic: 'logs.app', mode: 'assign' })).toMatchObject({ op: 'ok' });
    expect(p.closeInfo).toBeUndefined();
  });

  it('a ticket from POST /ws/v1/ticket works once; its second use gets 4401', async () => {
    const refused = await fetch(`http://127.0.0.1:${port()}/ws/v1/ticket`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
    expect(refused.status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${port()}/ws/v1/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const { ticket } = (await res.json()) as { ticket: string };
    expect(ticket).toMatch(/^[A-Za-z0-9_-]+$/);
    const first = await open(port(), { query: `?ticket=${ticket}` });
    await first.waitJson((m) => m.op === 'hello');
    expect(await first.request({ op: 'sub', topic: 'other', mode: 'assign' })).toMatchObject({ op: 'error', code: 'FORBIDDEN' });
    const again = await open(port(), { query: `?ticket=${ticket}` });
    expect((await again.closed).code).toBe(4401);
    expect(first.closeInfo).toBeUndefined();
    await expectServingWithToken();
  });

  it('4403: a ticket used from a page whose Origin is not allowed', async () => {
    const res = await fetch(`http://127.0.0.1:${port()}/ws/v1/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const { ticket } = (await res.json()) as { ticket: string };
    const p = await open(port(), { query: `?ticket=${ticket}`, headers: { Origin: 'https://evil.example' } });
    expect((await p.closed).code).toBe(4403);
  });

  it("a session id names a session only within its principal: bob cannot take over alice's, nor renew with her token", async () => {
    const alice = await open(port(), { protocols: ['brook.v1.bin', bearerProtocol(token)] });
    const { session } = await alice.waitJson((m) => m.op === 'hello');
    const bob = await open(port(), { protocols: ['brook.v1.bin', bearerProtocol(bobToken)] });
    await bob.waitJson((m) => m.op === 'hello');
    expect(await bob.request({ op: 'hello', session })).toMatchObject({ op: 'ok', session });
    expect(await bob.request({ op: 'auth', token })).toMatchObject({ op: 'error', code: 'FORBIDDEN' });
    await new Promise((r) => setTimeout(r, 200));
    expect(alice.closeInfo).toBeUndefined(); // no 4409: bob's "same" session is another one
    const alice2 = await open(port(), { protocols: ['brook.v1.bin', bearerProtocol(token)] });
    await alice2.waitJson((m) => m.op === 'hello');
    expect(await alice2.request({ op: 'hello', session })).toMatchObject({ op: 'ok', session });
    expect((await alice.closed).code).toBe(4409);
  });

  it('auth: a valid token is accepted; an unknown one closes 4401', async () => {
    const p = await open(port(), { protocols: ['brook.v1.bin', bearerProtocol(token)] });
    await p.waitJson((m) => m.op === 'hello');
    expect(await p.request({ op: 'auth', token })).toMatchObject({ op: 'ok', expiresAt: null });
    p.send({ op: 'auth', id: 2, token: 'wrong' });
    expect((await p.closed).code).toBe(4401);
  });

  /** expectServing for this broker: hello needs the bearer here. */
  async function expectServingWithToken(): Promise<void> {
    const p = await WsProbe.open(port(), { protocols: ['brook.v1.bin', bearerProtocol(token)] });
    await p.waitJson((m) => m.op === 'hello', 5000);
    await p.close();
    const [meta] = await withProducer(kafkajs(tb.bootstrap), (pr) => pr.send({ topic: 'alive', messages: [{ value: 'x' }] }));
    expect(meta?.errorCode).toBe(0);
  }
});
