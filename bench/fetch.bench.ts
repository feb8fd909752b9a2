/**
 * Fetch transport: file slices to a loopback TCP socket with sendfile(2) (zero copy) against
 * pread-then-write through a reused buffer, at 64 KiB and 1 MiB chunks. The data sits in the page
 * cache (just written); a child process drains the socket, so the receiver's CPU is not ours.
 *
 * CPU is the sender process's user+system time (process.cpuUsage, which counts every thread, so the
 * libuv workers doing the sends are included; the kernel's copy work for sendfile and write is
 * system time of the thread that issued it), per GB sent, recorded around every sample. One op sends
 * one chunk; the two interleave in one tinybench Bench, never sending at the same time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionLog, preadWrite, sendfile, type FileSlice } from '../src/storage/partition-log.js';
import { cpuPer, measure, rate, sized, type Figure } from './lib.js';

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

/** One op: the next `chunk` bytes of the segment (wrapping at its end) to the socket, through the read slice's file. */
function sender(fn: typeof sendfile, sockFd: number, segment: FileSlice, fileSize: number, chunk: number): () => Promise<void> {
  let pos = 0;
  return async () => {
    if (pos + chunk > fileSize) pos = 0;
    const slice: FileSlice = { ...segment, position: pos, length: chunk };
    await fn(sockFd, slice, { timeoutMs: 30_000 });
    pos += chunk;
  };
}

export async function run(): Promise<Figure[]> {
  const root = mkdtempSync(join(tmpdir(), 'brook-bench-fetch-'));
  const log = PartitionLog.open(join(root, 'fetch-0'), { maxMessageBytes: 1 << 21, retentionMs: -1 });
  // 256 MiB of 1 MiB batches in the page cache.
  const batches = sized(256, 8);
  const batch = Buffer.alloc(1 << 20, 0x62);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeUInt8(2, 16);
  batch.writeUInt16BE(0, 21);
  batch.writeInt32BE(0, 23);
  batch.writeBigInt64BE(-1n, 43);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(1, 57);
  const { addon } = await import('../src/native/addon.js');
  for (let i = 0; i < batches; i++) {
    batch.writeBigInt64BE(0n, 0);
    batch.writeUInt32BE(addon().crc32c(batch.subarray(21)) >>> 0, 17);
    log.append(batch);
  }
  const { slices } = log.read(0, 1 << 30);
  const segment = slices[0]!;
  const fileSize = log.size;
  const { sock, child, server } = await connectDrainer();
  const sockFd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
  const figures: Figure[] = [];
  try {
    for (const chunk of [64 << 10, 1 << 20]) {
      const m = await measure(
        { sendfile: sender(sendfile, sockFd, segment, fileSize, chunk), preadWrite: sender(preadWrite, sockFd, segment, fileSize, chunk) },
        { time: 1500, sampleMs: 20, cpu: true },
      );
      const gbPerOp = chunk / 1e9;
      const label = chunk >= 1 << 20 ? '1 MiB' : '64 KiB';
      const f = { sf: rate(m.sendfile!, gbPerOp), pw: rate(m.preadWrite!, gbPerOp), sfCpu: cpuPer(m.sendfile!, gbPerOp), pwCpu: cpuPer(m.preadWrite!, gbPerOp) };
      figures.push({ name: `fetch ${label} chunks: sendfile throughput`, ours: f.sf, baseline: f.pw, unit: 'GB/s', baselineName: 'pread+write', pages: 'reused' });
      figures.push({ name: `fetch ${label} chunks: sender CPU`, ours: f.sfCpu, baseline: f.pwCpu, unit: 'CPU s/GB', baselineName: 'pread+write', higherIsBetter: false, pages: 'reused' });
      const faster = f.sf.value >= f.pw.value ? 'sendfile' : 'pread+write';
      const cheaper = f.sfCpu.value <= f.pwCpu.value ? 'sendfile' : 'pread+write';
      console.log(`${label} chunks: ${faster} is faster (${f.sf.value.toFixed(2)} vs ${f.pw.value.toFixed(2)} GB/s); ${cheaper} uses less CPU (${f.sfCpu.value.toFixed(3)} vs ${f.pwCpu.value.toFixed(3)} s/GB)`);
    }
  } finally {
    segment.file.release();
    sock.destroy();
    server.close();
    child.kill();
    await log.close();
    rmSync(root, { recursive: true, force: true });
  }
  return figures;
}
