/**
 * Framing and read paths of Connection over real loopback sockets, with a sink that echoes: both
 * read paths (direct reads into our buffers, and Node's 'data' events), frames split anywhere,
 * frames larger than any read, recycled frame memory, and backpressure.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection, type ConnectionOptions } from '../../../src/network/connection.js';
import type { OutChunk, RequestInfo } from '../../../src/protocol/request-sink.js';
import { silentLogger } from '../../../src/util/logger.js';

const RECYCLED_KEY = 0;
const KEPT_KEY = 3;

interface Harness {
  server: Server;
  client: Socket;
  frames: Buffer[];
  conns: Connection[];
  /** Response frames read by the client: correlation id + payload checksum. */
  replies: { correlationId: number; sum: number }[];
  /** With `hold`: answers the oldest held request; `hold = false` answers later ones at once. */
  releaseOne(): void;
  held: number;
  hold: boolean;
}

const open: Harness[] = [];
afterEach(() => {
  for (const h of open.splice(0)) {
    h.client.destroy();
    for (const c of h.conns) c.close();
    h.server.close();
  }
});

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s = (s * 31 + b[i]!) >>> 0;
  return s;
}

/** A request frame: size, api key, version 0, correlation id, then `body`. */
function frame(apiKey: number, correlationId: number, body: Buffer): Buffer {
  const f = Buffer.allocUnsafe(12 + body.length);
  f.writeInt32BE(8 + body.length, 0);
  f.writeInt16BE(apiKey, 4);
  f.writeInt16BE(0, 6);
  f.writeInt32BE(correlationId, 8);
  body.copy(f, 12);
  return f;
}

function randomBody(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function start(opts: Partial<ConnectionOptions> & { delayMs?: number; hold?: boolean } = {}): Promise<Harness> {
  const frames: Buffer[] = [];
  const conns: Connection[] = [];
  const held: (() => void)[] = [];
  const control = { hold: opts.hold ?? false };
  const sink = {
    onRequest(f: Buffer, info: RequestInfo): OutChunk[] | Promise<OutChunk[]> {
      // Kept frames are stored as they are (a handler holding views); recycled ones must be copied.
      frames.push(info.apiKey === KEPT_KEY ? f : Buffer.from(f));
      const reply = Buffer.allocUnsafe(12);
      reply.writeInt32BE(8, 0);
      reply.writeInt32BE(info.correlationId, 4);
      reply.writeUInt32BE(checksum(f.subarray(8)), 8);
      if (control.hold) return new Promise((r) => held.push(() => r([reply])));
      if (opts.delayMs) return new Promise((r) => setTimeout(() => r([reply]), opts.delayMs));
      return [reply];
    },
  };
  const server = createServer({ noDelay: true }, (socket) => {
    conns.push(
      new Connection(socket, sink, {
        maxRequestBytes: 64 * 1024 * 1024,
        maxInFlight: 64,
        readSlice: () => Buffer.alloc(0),
        recyclableApiKeys: new Set([RECYCLED_KEY]),
        log: silentLogger,
        ...opts,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  const replies: Harness['replies'] = [];
  let pending = Buffer.alloc(0);
  client.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 12) {
      replies.push({ correlationId: pending.readInt32BE(4), sum: pending.readUInt32BE(8) });
      pending = pending.subarray(12);
    }
  });
  const h: Harness = {
    server,
    client,
    frames,
    conns,
    replies,
    releaseOne: () => held.shift()!(),
    get held() {
      return held.length;
    },
    get hold() {
      return control.hold;
    },
    set hold(v: boolean) {
      control.hold = v;
    },
  };
  open.push(h);
  return h;
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Writes `bytes` in pieces of the given sizes (cycled), yielding between writes. */
async function writeInPieces(s: Socket, bytes: Buffer, sizes: number[]): Promise<void> {
  let pos = 0;
  for (let i = 0; pos < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    s.write(bytes.subarray(pos, pos + n));
    pos += n;
    if (i % 3 === 0) await new Promise((r) => setImmediate(r));
  }
}

for (const directReads of [true, false]) {
  describe(`connection framing (${directReads ? 'direct reads' : "Node's 'data' events"})`, () => {
    it('cuts pipelined small frames from one write, in order', async () => {
      const h = await start({ directReads });
      const bodies = Array.from({ length: 50 }, (_, i) => randomBody(i * 7, i));
      h.client.write(Buffer.concat(bodies.map((b, i) => frame(KEPT_KEY, i, b))));
      await until(() => h.replies.length === 50);
      expect(h.conns[0]!.readsDirectly).toBe(directReads);
      expect(h.replies.map((r) => r.correlationId)).toEqual(bodies.map((_, i) => i));
      expect(h.frames).toHaveLength(bodies.length);
      h.frames.forEach((f, i) => expect(f.subarray(8).equals(bodies[i]!)).toBe(true));
    });

    it('reassembles frames split at every size, including single bytes and split size prefixes', async () => {
      const h = await start({ directReads });
      const bodies = [randomBody(5, 1), randomBody(40_000, 2), randomBody(3, 3), randomBody(70_000, 4), randomBody(0, 5)];
      const all = Buffer.concat(bodies.map((b, i) => frame(i % 2 ? RECYCLED_KEY : KEPT_KEY, i, b)));
      await writeInPieces(h.client, all, [1, 2, 3, 5, 4093, 1, 17_000, 3]);
      await until(() => h.replies.length === bodies.length);
      expect(h.frames).toHaveLength(bodies.length);
      h.frames.forEach((f, i) => expect(f.subarray(8).equals(bodies[i]!)).toBe(true));
    });

    it('receives frames far larger than one read intact, back to back', async () => {
      const h = await start({ directReads });
      const bodies = [3_000_000, 1_000_000, 17, 5_000_000, 65_536].map((n, i) => randomBody(n, 10 + i));
      const all = Buffer.concat(bodies.map((b, i) => frame(RECYCLED_KEY, i, b)));
      await writeInPieces(h.client, all, [1_000_003, 65_536, 7, 300_000]);
      await until(() => h.replies.length === bodies.length);
      h.replies.forEach((r, i) => expect(r.sum).toBe(checksum(bodies[i]!)));
      expect(h.frames).toHaveLength(bodies.length);
      h.frames.forEach((f, i) => expect(f.subarray(8).equals(bodies[i]!)).toBe(true));
    });

    it('recycles memory only for recyclable api keys: frames a sink keeps stay intact', async () => {
      const h = await start({ directReads });
      const bodies = Array.from({ length: 12 }, (_, i) => randomBody(200_000 + i, 100 + i));
      const all = Buffer.concat(bodies.map((b, i) => frame(i % 3 === 0 ? KEPT_KEY : RECYCLED_KEY, i, b)));
      await writeInPieces(h.client, all, [150_000, 70_001, 9]);
      await until(() => h.replies.length === bodies.length);
      // The kept frames are the sink's own references, checked after every later frame arrived.
      expect(h.frames).toHaveLength(bodies.length);
      h.frames.forEach((f, i) => expect(f.subarray(8).equals(bodies[i]!)).toBe(true));
    });

    it('pauses reading at maxInFlight and resumes, answering every request in order', async () => {
      const h = await start({ directReads, maxInFlight: 4, delayMs: 5 });
      const bodies = Array.from({ length: 40 }, (_, i) => randomBody(i % 2 ? 30_000 : 10, 200 + i));
      h.client.write(Buffer.concat(bodies.map((b, i) => frame(i % 2 ? RECYCLED_KEY : KEPT_KEY, i, b))));
      await until(() => h.replies.length === bodies.length);
      expect(h.replies.map((r) => r.correlationId)).toEqual(bodies.map((_, i) => i));
      h.replies.forEach((r, i) => expect(r.sum).toBe(checksum(bodies[i]!)));
    });

    it('stops reading the socket at maxInFlight unanswered requests and reads on only once they drain below half', async () => {
      const h = await start({ directReads, maxInFlight: 4, hold: true });
      const bodies = Array.from({ length: 40 }, (_, i) => randomBody(30_000, 300 + i));
      const wire = Buffer.concat(bodies.map((b, i) => frame(i % 2 ? RECYCLED_KEY : KEPT_KEY, i, b)));
      h.client.write(wire);
      await until(() => h.held >= 4);
      await new Promise((r) => setTimeout(r, 150)); // anything still to be read would arrive now
      const server = h.conns[0]!.socket;
      const readWhilePaused = h.frames.length;
      // Frames already in the read that reached the limit are still cut (at most one 64 KiB read
      // of 30 KB frames past the 4th); nothing is read from the socket after it.
      expect(readWhilePaused).toBeGreaterThanOrEqual(4);
      expect(readWhilePaused).toBeLessThanOrEqual(4 + 3);
      expect(server.bytesRead).toBeLessThan(wire.length / 4);
      expect(h.replies).toHaveLength(0);
      const bytesWhilePaused = server.bytesRead;
      // Answering down to half of maxInFlight (2 unanswered) keeps the socket paused.
      while (h.held > 2) {
        h.releaseOne();
        const answered = readWhilePaused - h.held;
        await until(() => h.replies.length === answered);
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(h.frames.length).toBe(readWhilePaused);
      expect(server.bytesRead).toBe(bytesWhilePaused);
      // One more answer (below half): reading resumes and the next frames arrive.
      h.releaseOne();
      await until(() => h.frames.length > readWhilePaused);
      expect(server.bytesRead).toBeGreaterThan(bytesWhilePaused);
      // The rest answered as they come: every request, in order, intact.
      h.hold = false;
      while (h.held > 0) h.releaseOne();
      await until(() => h.replies.length === bodies.length);
      expect(h.replies.map((r) => r.correlationId)).toEqual(bodies.map((_, i) => i));
      h.replies.forEach((r, i) => expect(r.sum).toBe(checksum(bodies[i]!)));
    });

    it('closes the connection on a size prefix above maxRequestBytes', async () => {
      const h = await start({ directReads, maxRequestBytes: 1000 });
      const closed = new Promise<void>((r) => h.client.once('close', () => r()));
      h.client.write(frame(KEPT_KEY, 1, randomBody(2000, 1)));
      await closed;
      expect(h.conns[0]!.isClosed).toBe(true);
    });
  });
}
