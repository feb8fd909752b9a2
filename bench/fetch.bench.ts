/**
 * Fetch transport: file slices to a loopback TCP socket with sendfile(2) (zero copy) against
 * pread-then-write through a reused buffer, at 64 KiB and 1 MiB chunks. The data sits in the page
 * cache (just written); a child process drains the socket, so the receiver's CPU is not ours.
 *
 * CPU is the sender process's user+system time (process.cpuUsage, which counts every thread, so the
 * libuv workers doing the sends are included; the kernel's copy work for sendfile and write is
 * system time of the thread that issued it), per GB sent. Alternating runs, best of N each.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionLog, preadWrite, sendfile, type FileSlice } from '../src/storage/partition-log.js';
import type { LegacyFigure as Figure } from './lib.js';

export const title = 'fetch: sendfile vs pread+write to a loopback socket';

const DRAIN = `
const s = require('net').connect(Number(process.argv[1]), '127.0.0.1');
s.on('data', () => {}); s.on('error', () => {}); s.on('close', () => process.exit(0));
`;

async function connectDrainer(): Promise<{ sock: net.Socket; child: ChildProcess; server: net.Server }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const child = spawn(process.execPath, ['-e', DRAIN, String(port)], { stdio: 'ignore' });
  const sock = await accepted;
  return { sock, child, server };
}

async function timeRun(
  fn: typeof sendfile,
  sockFd: number,
  fd: number,
  fileSize: number,
  chunk: number,
  total: number,
): Promise<{ secs: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let sent = 0;
  let pos = 0;
  while (sent < total) {
    if (pos + chunk > fileSize) pos = 0;
    const slice: FileSlice = { fd, position: pos, length: chunk };
    sent += await fn(sockFd, slice, { timeoutMs: 30_000 });
    pos += chunk;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { secs, cpu: (c.user + c.system) / 1e6 };
}

export async function run(): Promise<Figure[]> {
  const root = mkdtempSync(join(tmpdir(), 'brook-bench-fetch-'));
  const log = PartitionLog.open(join(root, 'fetch-0'), { maxMessageBytes: 1 << 21, retentionMs: -1 });
  // 256 MiB of 1 MiB batches in the page cache.
  const batch = Buffer.alloc(1 << 20, 0x62);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeUInt8(2, 16);
  batch.writeUInt16BE(0, 21);
  batch.writeInt32BE(0, 23);
  batch.writeBigInt64BE(-1n, 43);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(1, 57);
  const { addon } = await import('../src/native/addon.js');
  for (let i = 0; i < 256; i++) {
    batch.writeBigInt64BE(0n, 0);
    batch.writeUInt32BE(addon().crc32c(batch.subarray(21)) >>> 0, 17);
    log.append(batch);
  }
  const { slices } = log.read(0, 1 << 30);
  const fd = slices[0]!.fd;
  const fileSize = log.size;
  const { sock, child, server } = await connectDrainer();
  const sockFd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
  const figures: Figure[] = [];
  const total = 1 << 30;
  try {
    for (const chunk of [64 << 10, 1 << 20]) {
      await timeRun(sendfile, sockFd, fd, fileSize, chunk, 64 << 20); // warm-up
      await timeRun(preadWrite, sockFd, fd, fileSize, chunk, 64 << 20);
      const best = { sf: { secs: Infinity, cpu: Infinity }, pw: { secs: Infinity, cpu: Infinity } };
      for (let rep = 0; rep < 3; rep++) {
        const a = await timeRun(sendfile, sockFd, fd, fileSize, chunk, total);
        const b = await timeRun(preadWrite, sockFd, fd, fileSize, chunk, total);
        if (a.secs < best.sf.secs) best.sf = a;
        if (b.secs < best.pw.secs) best.pw = b;
      }
      const gb = total / 1e9;
      const label = chunk >= 1 << 20 ? '1 MiB' : '64 KiB';
      figures.push({
        name: `fetch ${label} chunks: sendfile throughput`,
        value: gb / best.sf.secs,
        baseline: gb / best.pw.secs,
        unit: 'GB/s',
        baselineName: 'pread+write',
        pages: 'reused',
      });
      figures.push({
        name: `fetch ${label} chunks: sender CPU`,
        value: best.sf.cpu / gb,
        baseline: best.pw.cpu / gb,
        unit: 'CPU s/GB',
        baselineName: 'pread+write',
        higherIsBetter: false,
        pages: 'reused',
      });
      const faster = best.sf.secs <= best.pw.secs ? 'sendfile' : 'pread+write';
      const cheaper = best.sf.cpu <= best.pw.cpu ? 'sendfile' : 'pread+write';
      console.log(`${label} chunks: ${faster} is faster (${(gb / best.sf.secs).toFixed(2)} vs ${(gb / best.pw.secs).toFixed(2)} GB/s); ${cheaper} uses less CPU (${(best.sf.cpu / gb).toFixed(3)} vs ${(best.pw.cpu / gb).toFixed(3)} s/GB)`);
    }
  } finally {
    sock.destroy();
    server.close();
    child.kill();
    await log.close();
    rmSync(root, { recursive: true, force: true });
  }
  return figures;
}
