/**
 * Bounded network fuzzing: the golden request frames of every client (test/fixtures/protocol),
 * mutated (bit flips, boundary integers over int16/int32/varint fields, truncation, wrong size
 * prefixes, swapped api keys and versions, splices, trailing garbage) and mixed with valid frames,
 * sent over real sockets to a broker in a child process. Throughout, the broker must stay up,
 * answer ApiVersions and Metadata on a fresh connection, and keep its resident memory bounded.
 *
 * The run is seeded: the seed is printed, and BROOK_FUZZ_SEED=<seed> replays the same frames (the
 * interleaving of connections depends on timing, the bytes do not). BROOK_FUZZ_FRAMES changes how
 * many frames are sent (default 30000). A failure prints the frames of the connections that were
 * open at the time, as hex, with the mutation that made each.
 */
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiVersionsApi } from '../../src/protocol/schemas/api-versions.js';
import { metadataApi } from '../../src/protocol/schemas/metadata.js';
import { kafkajs, spawnBroker, withAdmin, type BrokerProcess } from './harness.js';
import { RawClient } from './raw-client.js';
import { loadGoldens, type Golden } from '../fixtures/protocol/goldens.js';
import { mulberry32 } from '../prng.js';

const SEED = process.env.BROOK_FUZZ_SEED !== undefined ? Number(process.env.BROOK_FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const FRAMES = Number(process.env.BROOK_FUZZ_FRAMES ?? 30_000);
/** Fuzz connections open at once. */
const CONCURRENCY = 24;
/** A health check (fresh connection: ApiVersions, Metadata) after every this many frames sent. */
const CHECK_EVERY = 1_500;
/** A connection with nothing to read for this long after its last write is done: we close it. */
const IDLE_MS = 40;
/** socket.request.max.bytes of the broker under test: size prefixes above it must close. */
const MAX_REQUEST_BYTES = 1_048_576;
/**
 * Resident memory may grow this much above its highest value during the warm-up (the first fifth of
 * the frames), and never above the absolute cap. Measured: ~100 MiB after warm-up and at most
 * 10 MiB more afterwards, flat from 30k to 80k frames (the test prints the series).
 */
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;
const RSS_CAP = 384 * 1024 * 1024;
/** The broker's V8 heap is capped so that a leak ends as a crash (detected) rather than swapping. */
const BROKER_HEAP_MB = 384;

// ---------------------------------------------------------------------------------------- PRNG

/** Picks mutations; the same seed gives the same frames. */
function prng(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

// ------------------------------------------------------------------------------------ mutations

const INT16S = [0, 1, -1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7ffe, 0x7fff, -0x8000, -2];
const INT32S = [0, 1, -1, 2, 0x7f, 0xff, 0xffff, 0x10000, 0x7ffffffe, 0x7fffffff, -0x80000000, -2, 100_000_000, MAX_REQUEST_BYTES];
/** Unsigned varints at the edges of each byte length, and the longest a reader must refuse. */
const VARINTS: Buffer[] = [
  [0x00],
  [0x01],
  [0x02],
  [0x7f],
  [0x80, 0x01],
  [0xff, 0x7f],
  [0x80, 0x80, 0x01],
  [0xff, 0xff, 0xff, 0xff, 0x07],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0x1f], // more than 32 bits
  [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // six bytes
  [0x80], // truncated: continuation bit and nothing after
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // a varlong's maximum length
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // past it
].map((b) => Buffer.from(b));

type Mutation = (payload: Buffer, rng: Rng, ctx: MutationContext) => Buffer;
interface MutationContext {
  goldens: Golden[];
  apis: { apiKey: number; minVersion: number; maxVersion: number }[];
}

/** Mutations of the payload (the bytes after the size prefix); the prefix is fixed up afterwards. */
const PAYLOAD_MUTATIONS: Record<string, Mutation> = {
  bitflip(p, rng) {
    const q = Buffer.from(p);
    for (let n = 1 + rng.int(8); n > 0; n--) q[rng.int(q.length)] ^= 1 << rng.int(8);
    return q;
  },
  int16(p, rng) {
    const q = Buffer.from(p);
    if (q.length >= 2) q.writeInt16BE(((rng.pick(INT16S) + 0x8000) & 0xffff) - 0x8000, rng.int(q.length - 1));
    return q;
  },
  int32(p, rng) {
    const q = Buffer.from(p);
    if (q.length >= 4) q.writeInt32BE(rng.pick(INT32S) | 0, rng.int(q.length - 3));
    return q;
  },
  /** The client id's INT16 length (right after the first 8 header bytes). */
  clientIdLength(p, rng) {
    const q = Buffer.from(p);
    if (q.length >= 10) q.writeInt16BE(((rng.pick(INT16S) + 0x8000) & 0xffff) - 0x8000, 8);
    return q;
  },
  /** A varint written over 1-2 bytes at a random place: flexible versions' lengths and tags. */
  varint(p, rng) {
    const at = rng.int(p.length);
    return Buffer.concat([p.subarray(0, at), rng.pick(VARINTS), p.subarray(Math.min(p.length, at + 1 + rng.int(2)))]);
  },
  truncate(p, rng) {
    return p.subarray(0, rng.int(p.length));
  },
  garbage(p, rng) {
    const extra = Buffer.alloc(1 + rng.int(64));
    for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
    return Buffer.concat([p, extra]);
  },
  /** Another API's key on this body, at one of that API's versions (or just outside them). */
  swapKey(p, rng, { apis }) {
    const q = Buffer.from(p);
    if (q.length < 4) return q;
    if (rng.chance(0.9)) {
      const api = rng.pick(apis);
      q.writeInt16BE(api.apiKey, 0);
      q.writeInt16BE(api.minVersion + rng.int(api.maxVersion - api.minVersion + 1) + (rng.chance(0.1) ? api.maxVersion + 1 : 0), 2);
    } else {
      q.writeInt16BE(rng.pick([-1, 0x7fff, 67, 100, 1000, -0x8000]), 0);
    }
    return q;
  },
  swapVersion(p, rng) {
    const q = Buffer.from(p);
    if (q.length < 4) return q;
    q.writeInt16BE(rng.pick([-1, 0, 1, 2, 3, 4, 5, 7, 9, 11, 12, 13, 16, 17, 18, 0x7fff, -0x8000]), 2);
    return q;
  },
  /** The head of this frame and the tail of another client's. */
  splice(p, rng, { goldens }) {
    const other = rng.pick(goldens).frame.subarray(4);
    return Buffer.concat([p.subarray(0, rng.int(p.length + 1)), other.subarray(rng.int(other.length))]);
  },
};
const PAYLOAD_MUTATION_NAMES = Object.keys(PAYLOAD_MUTATIONS);

interface FuzzFrame {
  /** The bytes written, size prefix included. */
  bytes: Buffer;
  /** What made them, for the failure report. */
  how: string;
}

/** A golden frame as it is. */
function validFrame(rng: Rng, ctx: MutationContext): FuzzFrame {
  const g = rng.pick(ctx.goldens);
  return { bytes: g.frame, how: `${g.client}/${g.file} valid` };
}

/**
 * A golden frame with 1-3 payload mutations, and with some chance a size prefix that lies (too
 * small, too large, or a boundary value).
 */
function mutatedFrame(rng: Rng, ctx: MutationContext): FuzzFrame {
  const g = rng.pick(ctx.goldens);
  let payload = g.frame.subarray(4);
  const how = [`${g.client}/${g.file}`];
  {
    for (let n = 1 + rng.int(3); n > 0; n--) {
      const m = rng.pick(PAYLOAD_MUTATION_NAMES);
      payload = PAYLOAD_MUTATIONS[m](payload, rng, ctx);
      how.push(m);
    }
  }
  const bytes = Buffer.alloc(4 + payload.length);
  payload.copy(bytes, 4);
  let size = payload.length;
  if (rng.chance(0.08)) {
    const r = rng.int(4);
    size =
      r === 0 ? rng.pick([-1, 0, 1, 7, 8, 9, -0x80000000, 0x7fffffff, MAX_REQUEST_BYTES, MAX_REQUEST_BYTES + 1])
      : r === 1 ? Math.max(0, payload.length - 1 - rng.int(16))
      : r === 2 ? payload.length + 1 + rng.int(16)
      : payload.length + 1 + rng.int(MAX_REQUEST_BYTES); // a claimed large frame that never arrives
    how.push(`size=${size}`);
  }
  bytes.writeInt32BE(size | 0, 0);
  return { bytes, how: how.join(' ') };
}

/**
 * A connection's worth of frames, written at once or (sometimes) in small pieces. A mutated frame
 * usually makes the broker close the connection, so frames after it are mostly not read: a batch
 * is 0-2 valid frames (pipelining), one mutated frame, and sometimes more frames after it (valid,
 * or mutated: a mutation the broker accepts must leave the stream in step).
 */
interface Batch {
  frames: FuzzFrame[];
  /** Write in pieces of this many bytes, one per event-loop turn; 0: one write. */
  pieces: number;
}

function makeBatch(rng: Rng, ctx: MutationContext): Batch {
  const frames: FuzzFrame[] = [];
  for (let n = rng.int(3); n > 0; n--) frames.push(validFrame(rng, ctx));
  frames.push(mutatedFrame(rng, ctx));
  if (rng.chance(0.3)) for (let n = 1 + rng.int(3); n > 0; n--) frames.push(rng.chance(0.5) ? validFrame(rng, ctx) : mutatedFrame(rng, ctx));
  return { frames, pieces: rng.chance(0.05) ? 1 + rng.int(7) : 0 };
}

function describeBatch(b: Batch): string {
  return b.frames.map((f, i) => `  frame ${i} (${f.how}): ${f.bytes.toString('hex')}`).join('\n') + (b.pieces ? `\n  written in pieces of ${b.pieces} bytes` : '');
}

// ------------------------------------------------------------------------------------ sending

interface Outcome {
  closedByBroker: boolean;
  /** Complete response frames received. */
  responses: number;
}

/** Sends a batch on a new connection; resolves once the broker closed it or went quiet. */
function sendBatch(port: number, b: Batch): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    // Response frames are counted, not kept: a Fetch of the growing topic can answer megabytes.
    const sizeBuf = Buffer.alloc(4);
    let sizeFilled = 0;
    let skip = 0;
    let responses = 0;
    let idle: NodeJS.Timeout | undefined;
    let written = false;
    let settled = false;
    const finish = (closedByBroker: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      clearTimeout(cap);
      s.destroy();
      resolve({ closedByBroker, responses });
    };
    const armIdle = () => {
      clearTimeout(idle);
      if (written) idle = setTimeout(() => finish(false), IDLE_MS);
    };
    // A parked Fetch (max_wait_ms) or a size prefix promising more bytes keeps a connection quiet
    // but open; the cap bounds how long we wait for such a connection in any case.
    const cap = setTimeout(() => finish(false), 2_000);
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      for (let pos = 0; pos < d.length; ) {
        if (skip > 0) {
          const n = Math.min(skip, d.length - pos);
          skip -= n;
          pos += n;
          if (skip === 0) responses++;
          continue;
        }
        sizeBuf[sizeFilled++] = d[pos++];
        if (sizeFilled === 4) {
          sizeFilled = 0;
          skip = sizeBuf.readInt32BE(0);
          if (skip <= 0) responses++;
        }
      }
      armIdle();
    });
    s.on('close', () => finish(true));
    s.on('error', (e: NodeJS.ErrnoException) => {
      // ECONNRESET / EPIPE: the broker closed on us mid-write, which is an answer. Refused is not.
      if (e.code === 'ECONNREFUSED') {
        settled = true;
        clearTimeout(cap);
        reject(new Error(`connection refused: the broker is not listening (${e.message})`));
      } else finish(true);
    });
    // Writes the bundle whole, or in pieces one event-loop turn apart (frames split across reads).
    const writeAll = async () => {
      const all = Buffer.concat(b.frames.map((f) => f.bytes));
      if (b.pieces === 0) s.write(all);
      else {
        for (let i = 0; i < all.length && !s.destroyed; i += b.pieces) {
          s.write(all.subarray(i, i + b.pieces));
          await new Promise((r) => setImmediate(r));
        }
      }
      written = true;
      armIdle();
    };
    s.on('connect', () => void writeAll());
  });
}

/** Resident memory of a process; null once it has exited (a zombie has no VmRSS). */
function rssBytes(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/** ApiVersions v3 and Metadata v12 (all topics) on a fresh connection, each within RawClient's 10 s. */
async function healthCheck(port: number): Promise<void> {
  const c = await RawClient.connect(port);
  const received: Buffer[] = [];
  c.socket.on('data', (d: Buffer) => received.push(Buffer.from(d)));
  try {
    const av = await c.request(apiVersionsApi, 3, { clientSoftwareName: 'fuzz-health', clientSoftwareVersion: '1' });
    expect(av.errorCode).toBe(0);
    expect(av.apiKeys.map((k) => k.apiKey)).toEqual(expect.arrayContaining([0, 1, 3, 18]));
    const md = await c.request(metadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(md.brokers.map((b) => b.port)).toEqual([port]);
  } catch (e) {
    const raw = Buffer.concat(received);
    throw new Error(`${(e as Error).message}\nbytes the health connection received (${raw.length}): ${raw.subarray(0, 512).toString('hex')}`);
  } finally {
    c.close();
  }
}

// -------------------------------------------------------------------------------------- the test

let broker: BrokerProcess;
let dataDir: string;
let apis: MutationContext['apis'];

beforeAll(async () => {
  console.log(`fuzz: seed ${SEED} (replay with BROOK_FUZZ_SEED=${SEED}), ${FRAMES} frames`);
  dataDir = mkdtempSync(join(tmpdir(), 'brook-fuzz-'));
  const heapCap = `--max-old-space-size=${BROKER_HEAP_MB}`;
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = saved ? `${saved} ${heapCap}` : heapCap; // inherited by the broker process only
  try {
    broker = await spawnBroker(dataDir, undefined, [
      '--set',
      'auto.create.topics.enable=false',
      '--set',
      `socket.request.max.bytes=${MAX_REQUEST_BYTES}`,
      // Fetch answers stay small as the topic grows (the first batch is still whole, KIP-74).
      '--set',
      'fetch.max.bytes=65536',
    ]);
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
  // The topic the golden Produce, ListOffsets and Fetch frames name, so valid frames reach storage.
  await withAdmin(kafkajs(broker.bootstrap), (admin) => admin.createTopics({ topics: [{ topic: 'capture-topic', numPartitions: 1 }] }));
  const c = await RawClient.connect(broker.port);
  apis = (await c.request(apiVersionsApi, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' })).apiKeys;
  c.close();
}, 60_000);

afterAll(async () => {
  if (broker) {
    broker.kill('SIGKILL');
    await broker.exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('network fuzzing with mutated golden frames', () => {
  it(`stays up, keeps answering ApiVersions and Metadata, and keeps its memory bounded`, async () => {
    const goldens = loadGoldens();
    expect(goldens.length).toBeGreaterThanOrEqual(20);
    const ctx: MutationContext = { goldens, apis };
    const rng = prng(SEED);
    let died: string | undefined;
    void broker.exited.then(({ code, signal }) => (died = `broker exited (code ${code}, signal ${signal})`));

    const inFlight = new Set<Batch>();
    const recent: Batch[] = []; // the last few batches, for the report when the broker dies
    const report = (why: string) =>
      `${why}\nseed ${SEED} (BROOK_FUZZ_SEED=${SEED})\nbroker stderr (tail):\n${broker.stderr().slice(-4000)}\n` +
      `connections open at the time:\n${[...inFlight].map(describeBatch).join('\n--\n')}\nlast finished connections:\n${recent.slice(-8).map(describeBatch).join('\n--\n')}`;

    let sent = 0;
    let closedByBroker = 0;
    let answered = 0;
    let nextCheck = CHECK_EVERY;
    const rss: { frames: number; bytes: number }[] = [];
    const sampleRss = () => {
      const bytes = rssBytes(broker.pid);
      if (bytes === null) throw new Error(report(died ?? 'the broker process is gone'));
      rss.push({ frames: sent, bytes });
    };
    sampleRss();
    const started = Date.now();

    const check = async () => {
      if (died) throw new Error(report(died));
      try {
        await healthCheck(broker.port);
      } catch (e) {
        throw new Error(report(`health check after ${sent} frames failed: ${(e as Error).message}${died ? ` (${died})` : ''}`));
      }
      sampleRss();
    };

    // CONCURRENCY workers pull batches from one generator (so the bytes depend only on the seed);
    // the health check runs while the other workers keep sending.
    let checking: Promise<void> | undefined;
    const worker = async () => {
      while (sent < FRAMES && !died) {
        const b = makeBatch(rng, ctx);
        sent += b.frames.length;
        if (sent >= nextCheck && !checking) {
          nextCheck += CHECK_EVERY;
          checking = check().finally(() => (checking = undefined));
          checking.catch(() => {}); // awaited below; keep it from being reported as unhandled meanwhile
          await checking;
        }
        inFlight.add(b);
        let outcome: Outcome;
        try {
          outcome = await sendBatch(broker.port, b);
        } catch (e) {
          throw new Error(report(`${(e as Error).message}${died ? ` (${died})` : ''}`));
        } finally {
          inFlight.delete(b);
        }
        recent.push(b);
        if (recent.length > 64) recent.splice(0, 32);
        if (outcome.closedByBroker) closedByBroker++;
        answered += outcome.responses;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await check();

    const seconds = (Date.now() - started) / 1000;
    const mib = (n: number) => (n / 1048576).toFixed(0);
    const warm = rss.filter((r) => r.frames <= FRAMES / 5);
    const baseline = Math.max(...warm.map((r) => r.bytes));
    const peak = Math.max(...rss.map((r) => r.bytes));
    console.log(
      `fuzz: ${sent} frames in ${seconds.toFixed(1)} s, ${closedByBroker} connections closed by the broker, ${answered} responses; ` +
        `RSS MiB by frames sent: ${rss.map((r) => `${r.frames}:${mib(r.bytes)}`).join(' ')}`,
    );
    expect(died).toBeUndefined();
    expect(sent).toBeGreaterThanOrEqual(FRAMES);
    // The broker refused many frames by closing, and answered many others: the mix reached both paths.
    expect(closedByBroker).toBeGreaterThan(FRAMES / 50);
    expect(answered).toBeGreaterThan(FRAMES / 10);
    expect(rss.length).toBeGreaterThanOrEqual(Math.floor(FRAMES / CHECK_EVERY));
    expect(peak, `RSS peak ${mib(peak)} MiB vs ${mib(baseline)} MiB after warm-up`).toBeLessThanOrEqual(baseline + RSS_GROWTH_LIMIT);
    expect(peak).toBeLessThanOrEqual(RSS_CAP);
  }, 120_000);
});
