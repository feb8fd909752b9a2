/**
 * PartitionLog against the operating system: sendfile/preadWrite into real loopback TCP sockets,
 * the Buffer fallback, a process killed with SIGKILL mid-life, and a full disk (RLIMIT_FSIZE in a
 * child process, SIGXFSZ ignored so writes fail with EFBIG instead of killing it).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrookNativeError } from '../../src/native/errors.js';
import { PartitionLog, preadWrite, sendfile, type FileSlice } from '../../src/storage/partition-log.js';
import { batchBases, makeBatch } from './batches.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'brook-plog-io-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

interface Pair {
  server: net.Server;
  sender: net.Socket;
  receiver: net.Socket;
  close(): void;
}

async function loopback(): Promise<Pair> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const receiver = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => receiver.once('connect', () => r()));
  const sender = await accepted;
  return {
    server,
    sender,
    receiver,
    close() {
      sender.destroy();
      receiver.destroy();
      server.close();
    },
  };
}

function fdOf(socket: net.Socket): number {
  return (socket as unknown as { _handle: { fd: number } })._handle.fd;
}

function collect(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= n) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** A log holding `count` batches of about `size` bytes each, in one segment. */
function bigLog(dir: string, count: number, size: number): PartitionLog {
  const log = PartitionLog.open(dir, { maxMessageBytes: size + 1024 });
  for (let i = 0; i < count; i++) log.append(makeBatch({ records: 4, valueSize: size / 4, fill: 0x41 + (i % 26) }));
  return log;
}

describe('sending file slices to a socket', () => {
  it('sendfile sends a slice byte for byte', async () => {
    const log = bigLog(join(root, 't-0'), 8, 8192);
    const pair = await loopback();
    try {
      const { slices, bytes } = log.read(0, 1 << 20);
      const expected = log.readBuffer(0, 1 << 20);
      const received = collect(pair.receiver, bytes);
      let sent = 0;
      for (const s of slices) sent += await sendfile(fdOf(pair.sender), s);
      expect(sent).toBe(bytes);
      expect((await received).equals(expected)).toBe(true);
    } finally {
      pair.close();
      await log.close();
    }
  });

  for (const [name, fn] of [
    ['sendfile', sendfile],
    ['preadWrite', preadWrite],
  ] as const) {
    it(`${name} handles partial writes and EAGAIN for a slice larger than the socket buffer`, async () => {
      const log = bigLog(join(root, `${name}-0`), 24, 1 << 20); // ~24 MiB
      const pair = await loopback();
      try {
        const { slices, bytes } = log.read(0, 64 << 20);
        expect(slices).toHaveLength(1);
        expect(bytes).toBeGreaterThan(24 << 20);
        const expected = log.readBuffer(0, 64 << 20);
        // The reader stalls first, so the sender must meet a full socket buffer and wait.
        pair.receiver.pause();
        const received = collect(pair.receiver, bytes);
        pair.receiver.pause();
        const sending = fn(fdOf(pair.sender), slices[0]!, { timeoutMs: 10_000 });
        await new Promise((r) => setTimeout(r, 200));
        pair.receiver.resume();
        expect(await sending).toBe(bytes);
        expect((await received).equals(expected)).toBe(true);
      } finally {
        pair.close();
        await log.close();
      }
    });
  }

  it('times out with IO/ETIMEDOUT when the reader never reads, instead of hanging', async () => {
    const log = bigLog(join(root, 'stall-0'), 16, 1 << 20);
    const pair = await loopback();
    try {
      pair.receiver.pause();
      const { slices } = log.read(0, 64 << 20);
      const err = (await sendfile(fdOf(pair.sender), slices[0]!, { timeoutMs: 300 }).catch((e) => e)) as BrookNativeError;
      expect(err).toBeInstanceOf(BrookNativeError);
      expect(err.code).toBe('IO');
      expect(err.errno).toBe(110); // ETIMEDOUT
    } finally {
      pair.close();
      await log.close();
    }
  });

  it('the Buffer fallback (readBuffer + socket.write) delivers the same bytes', async () => {
    const log = bigLog(join(root, 'buf-0'), 6, 100_000);
    const pair = await loopback();
    try {
      const buf = log.readBuffer(2, 1 << 30);
      expect(batchBases(buf)).toEqual([0, 4, 8, 12, 16, 20]); // from the batch holding offset 2
      const received = collect(pair.receiver, buf.length);
      pair.sender.write(buf);
      expect((await received).equals(buf)).toBe(true);
    } finally {
      pair.close();
      await log.close();
    }
  });

  it('rejects bad arguments without touching the socket', async () => {
    const bad = { fd: -1, position: 0, length: 1 } as FileSlice;
    const err = (await sendfile(0, bad).catch((e) => e)) as BrookNativeError;
    expect(err.code).toBe('INVALID_ARGUMENT');
  });
});

describe('unclean shutdown', () => {
  it('recovers what a SIGKILLed process wrote, and every torn prefix of it', () => {
    const template = makeBatch({ records: 5, valueSize: 333 });
    const dir = join(root, 'killed-0');
    const r = spawnSync(process.execPath, [join(fixtures, 'crash-child.mjs'), dir, '30', template.toString('hex')], {
      encoding: 'utf8',
    });
    expect(r.signal).toBe('SIGKILL');
    expect(JSON.parse(r.stdout).logEndOffset).toBe(150);
    const log = PartitionLog.open(dir);
    expect(log.logEndOffset).toBe(150);
    const all = log.readBuffer(0, 1 << 30);
    log.delete();
    // And the same files torn at random points, as a power cut mid-write would leave them.
    const size = template.length * 30;
    for (let k = 0; k < 25; k++) {
      const cut = Math.floor(((k * 7919) % 1000) / 1000 * size) + (k % 7);
      const copy = join(root, `torn-${k}`);
      spawnSync(process.execPath, [join(fixtures, 'crash-child.mjs'), copy, '30', template.toString('hex')]);
      truncateSync(join(copy, '00000000000000000000.log'), cut);
      const whole = Math.floor(cut / template.length);
      const again = PartitionLog.open(copy);
      expect(again.logEndOffset, `cut at ${cut}`).toBe(whole * 5);
      expect(again.readBuffer(0, 1 << 30).equals(all.subarray(0, whole * template.length))).toBe(true);
      expect(again.append(Buffer.from(template)).baseOffset).toBe(whole * 5);
      again.delete();
    }
  });
});

describe('disk full', () => {
  it('reports NO_SPACE, keeps the log consistent, and appends again once space returns', async () => {
    const template = makeBatch({ records: 2, valueSize: 4000 });
    const dir = join(root, 'full-0');
    const limit = template.length * 10 + 1234; // room for 10 batches and a torn 11th
    const r = spawnSync(
      'sh',
      ['-c', `trap '' XFSZ; exec prlimit --fsize=${limit} "$0" "$@"`, process.execPath, join(fixtures, 'enospc-child.mjs'), dir, template.toString('hex')],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.appended).toBe(10);
    expect(out.error.code).toBe('NO_SPACE');
    expect(out.error.errno).toBe(27); // EFBIG, which the OS returns for RLIMIT_FSIZE like ENOSPC for a full disk
    expect(out.second).toBe('NO_SPACE');
    // The partial 11th write was truncated away: file, in-memory end and reads agree.
    expect(out.fileSize).toBe(template.length * 10);
    expect(out.stats.size).toBe(template.length * 10);
    expect(out.stats.logEndOffset).toBe(20);
    expect(out.readBack).toBe(template.length * 10);
    // Space is back (no limit in this process): the log reopens as it was and takes appends.
    const log = PartitionLog.open(dir);
    expect(log.logEndOffset).toBe(20);
    expect(statSync(join(dir, '00000000000000000000.log')).size).toBe(template.length * 10);
    expect(log.append(Buffer.from(template)).baseOffset).toBe(20);
    expect(batchBases(log.readBuffer(0, 1 << 30))).toHaveLength(11);
    await log.close();
  });
});

