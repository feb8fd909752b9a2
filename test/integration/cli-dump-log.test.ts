/**
 * `brook dump-log` (kafka-dump-log.sh) on segments a real broker wrote from kcat's batches: the
 * built CLI (bin/brook.js, so `npm run build:ts` first, as `npm test` does) against the live data
 * directory and against copies, compared with fixtures written in Kafka's DumpLogSegments format
 * (test/fixtures/cli/; timestamps, CRCs, and the positions and sizes that depend on the system's
 * compression libraries are placeholders there, and positions and sizes are checked to chain).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brook, fixtures, requireBuilt } from './cli-harness.js';
import { expectOk, hasKcat, requireInstalled, run, startTestBroker, type TestBroker } from './harness.js';

requireInstalled(hasKcat, 'kcat');

const SEGMENT = '00000000000000000000';
const PAD = 'x'.repeat(100);

let tb: TestBroker;
let scratch: string;
let segmentDir: string;

function dumpLog(...args: string[]) {
  return brook(['dump-log', ...args], { timeoutMs: 30_000 });
}

/** One kcat invocation, one batch: everything is queued before the 200 ms linger ends. */
async function kcat(topic: string, lines: string[], ...extra: string[]) {
  expectOk(await run('kcat', ['-P', '-b', tb.bootstrap, '-t', topic, '-X', 'linger.ms=200', ...extra], { input: lines.join('\n') + '\n' }), 'kcat -P');
}

/** The run-dependent fields of Kafka's text as the fixtures' placeholders. */
function normalise(text: string): string {
  return text
    .replace(/^Dumping .*$/gm, 'Dumping <file>')
    .replace(/(CreateTime|LogAppendTime): \d+/g, '$1: <ts>')
    .replace(/ crc: \d+/g, ' crc: <crc>')
    .replace(/ position: \d+/g, ' position: <pos>')
    .replace(/ size: \d+/g, ' size: <size>');
}

/** Batches chain: each starts where the previous ended, the first at 0, the last ends at `fileSize`. */
function expectChained(text: string, fileSize: number): void {
  const batches = [...text.matchAll(/ position: (\d+) .* size: (\d+) /g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  expect(batches.length).toBeGreaterThan(0);
  let next = 0;
  for (const [position, size] of batches) {
    expect(position).toBe(next);
    next = position + size;
  }
  expect(next).toBe(fileSize);
}

beforeAll(async () => {
  requireBuilt('dump-log');
  scratch = mkdtempSync(join(tmpdir(), 'brook-dump-log-'));
  tb = await startTestBroker({
    // Every batch after the first gets an index entry, and every append is flushed, so the index
    // files are on disk while the broker runs (it writes them at flush, roll and close).
    properties: { 'log.index.interval.bytes': 1, 'log.flush.interval.messages': 1, 'ws.enabled': false },
  });
  await kcat('dl', ['k1:v1', 'k2:v2', 'k3:v3'], '-K:', '-H', 'h1=x', '-H', 'h2=y');
  for (const [codec, letter] of [['gzip', 'g'], ['lz4', 'l'], ['snappy', 's'], ['zstd', 'z']] as const) {
    await kcat('dl', [1, 2, 3, 4].map((i) => `${letter}${i}-${PAD}`), '-z', codec);
  }
  await kcat('dl', ['i1', 'i2'], '-X', 'enable.idempotence=true');
  segmentDir = join(tb.dataDir, 'dl-0');
}, 60_000);

afterAll(async () => {
  await tb?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// Each dump is a Node process start (~0.5 s, more on a busy machine), and some tests run several.
describe('brook dump-log', { timeout: 90_000 }, () => {
  it("prints one line per batch in Kafka's format, on the live segment of a running broker", async () => {
    const log = join(segmentDir, `${SEGMENT}.log`);
    const r = expectOk(await dumpLog(log), 'dump-log');
    expect(r.stdout.split('\n')[0]).toBe(`Dumping ${log}`);
    expect(normalise(r.stdout)).toBe(readFileSync(join(fixtures, 'dump-log-segment.txt'), 'utf8'));
    expectChained(r.stdout, statSync(log).size);
    expect(r.stderr).toBe('');
  });

  it('prints every record with --print-data-log, decompressing each codec, with keys, header keys and sequences', async () => {
    const r = expectOk(await dumpLog('--print-data-log', join(segmentDir, `${SEGMENT}.log`)), 'dump-log --print-data-log');
    expect(normalise(r.stdout)).toBe(readFileSync(join(fixtures, 'dump-log-segment-data.txt'), 'utf8'));
    // --deep-iteration: the same record lines without key and payload.
    const deep = expectOk(await dumpLog('--deep-iteration', join(segmentDir, `${SEGMENT}.log`)), 'dump-log --deep-iteration');
    const expected = readFileSync(join(fixtures, 'dump-log-segment-data.txt'), 'utf8').replace(/( key: \S+)? payload: .*$/gm, '');
    expect(normalise(deep.stdout)).toBe(expected);
  });

  it('gives the same dump of a copied file, and one JSON document per file with --json', async () => {
    const copy = join(scratch, `${SEGMENT}.log`);
    copyFileSync(join(segmentDir, `${SEGMENT}.log`), copy);
    const live = expectOk(await dumpLog('--print-data-log', join(segmentDir, `${SEGMENT}.log`)), 'dump-log live');
    const copied = expectOk(await dumpLog('--print-data-log', copy), 'dump-log copy');
    expect(copied.stdout.split('\n').slice(1)).toEqual(live.stdout.split('\n').slice(1));

    const j = expectOk(await dumpLog('--json', '--print-data-log', copy, copy), 'dump-log --json');
    const docs = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; type: string; batches: Record<string, unknown>[]; trailingBytes: number; validBytes: number });
    expect(docs).toHaveLength(2);
    const doc = docs[0]!;
    expect(doc).toMatchObject({ file: copy, type: 'log', logStartOffset: 0, trailingBytes: 0, validBytes: statSync(copy).size });
    expect(doc.batches.map((b) => b.compressCodec)).toEqual(['none', 'gzip', 'lz4', 'snappy', 'zstd', 'none']);
    expect(doc.batches.every((b) => b.crcValid === true && b.magic === 2)).toBe(true);
    expect(doc.batches[0]!.records).toEqual([0, 1, 2].map((i) => ({ offset: i, timestamp: expect.any(Number), keySize: 2, valueSize: 2, sequence: -1, headerKeys: ['h1', 'h2'], key: `k${i + 1}`, payload: `v${i + 1}` })));
    expect(doc.batches[4]!.records).toHaveLength(4);
    expect((doc.batches[4]!.records as { payload: string }[])[3]!.payload).toBe(`z4-${PAD}`);
    expect(doc.batches[5]).toMatchObject({ baseOffset: 19, lastOffset: 20, producerId: 0, producerEpoch: 0, baseSequence: 0, lastSequence: 1 });
  });

  it('reports a batch whose CRC does not match as isvalid: false and dumps the batches after it', async () => {
    const dir = mkdtempSync(join(scratch, 'crc-'));
    const copy = join(dir, `${SEGMENT}.log`);
    copyFileSync(join(segmentDir, `${SEGMENT}.log`), copy);
    const bytes = readFileSync(copy);
    const shallow = expectOk(await dumpLog(copy), 'dump-log').stdout;
    // The zstd batch (the 5th): flip one byte of its compressed records.
    const [, position, size] = shallow.split('\n')[6]!.match(/ position: (\d+) .* size: (\d+) /)!.map(Number);
    bytes[position! + size! - 3] ^= 0xff;
    writeFileSync(copy, bytes);
    const r = await dumpLog(copy);
    expect(r.code).toBe(0);
    const valid = [...r.stdout.matchAll(/isvalid: (\w+)/g)].map((m) => m[1]);
    expect(valid).toEqual(['true', 'true', 'true', 'true', 'false', 'true']);
    const j = JSON.parse(expectOk(await dumpLog('--json', copy), 'dump-log --json').stdout) as { batches: { crcValid: boolean }[] };
    expect(j.batches.map((b) => b.crcValid)).toEqual([true, true, true, true, false, true]);
  });

  it('stops at a torn last batch and says how many bytes it left', async () => {
    const dir = mkdtempSync(join(scratch, 'torn-'));
    const copy = join(dir, `${SEGMENT}.log`);
    const bytes = readFileSync(join(segmentDir, `${SEGMENT}.log`));
    writeFileSync(copy, bytes.subarray(0, bytes.length - 10));
    const r = expectOk(await dumpLog(copy), 'dump-log of a torn segment');
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('baseOffset:'))).toHaveLength(5);
    const lastSize = Number(expectOk(await dumpLog(join(segmentDir, `${SEGMENT}.log`)), 'dump-log').stdout.trim().split('\n').at(-1)!.match(/ size: (\d+) /)![1]);
    expect(lines.at(-1)).toBe(`Found ${lastSize - 10} invalid bytes at the end of ${SEGMENT}.log`);
  });

  it('reads a consistent prefix of a segment while a producer appends to it', async () => {
    // kcat takes its records from stdin as they come: fed a little every 10 ms for about 4 s, it
    // keeps appending small batches while the dumps below run (each takes a Node start, ~0.5 s).
    const producer = spawn('kcat', ['-P', '-b', tb.bootstrap, '-t', 'live', '-X', 'linger.ms=0'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let producerErr = '';
    producer.stderr.on('data', (d: Buffer) => (producerErr += d.toString()));
    const producing = new Promise<number | null>((resolveExit) => producer.on('close', resolveExit));
    void (async () => {
      for (let i = 0; i < 400; i++) {
        producer.stdin.write(Array.from({ length: 10 }, (_, j) => `live-${i}-${j}-${PAD}`).join('\n') + '\n');
        await new Promise((r) => setTimeout(r, 10));
      }
      producer.stdin.end();
    })();
    const log = join(tb.dataDir, 'live-0', `${SEGMENT}.log`);
    let dumps = 0;
    let done = false;
    const seen = new Set<number>();
    void producing.then(() => (done = true));
    while (!done || dumps < 3) {
      if (!existsSync(log)) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const r = await dumpLog('--deep-iteration', log);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const out = r.stdout.trim().split('\n');
      const batchLines = out.filter((l) => l.startsWith('baseOffset:'));
      expect(batchLines.every((l) => l.endsWith('isvalid: true'))).toBe(true);
      if (!done) seen.add(batchLines.length);
      // Anything after the last batch's records is only Kafka's torn-tail line.
      const last = out.at(-1)!;
      expect(last.startsWith('baseOffset:') || last.startsWith('| offset:') || last.startsWith('Found ') || last === 'Log starting offset: 0').toBe(true);
      dumps++;
    }
    expect(await producing, producerErr).toBe(0);
    // Dumps ran while the segment grew, so they read a file being appended to.
    expect(seen.size, `batch counts seen while producing: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('dumps .index and .timeindex entries and verifies them against the log', async () => {
    const index = join(segmentDir, `${SEGMENT}.index`);
    const timeindex = join(segmentDir, `${SEGMENT}.timeindex`);
    const log = expectOk(await dumpLog(join(segmentDir, `${SEGMENT}.log`)), 'dump-log').stdout;
    // With index.interval.bytes=1 every batch but the first is indexed by its last offset.
    const batches = [...log.matchAll(/lastOffset: (\d+) .* position: (\d+) CreateTime: (\d+)/g)].map((m) => ({ last: m[1], position: m[2], ts: Number(m[3]) }));
    const r = expectOk(await dumpLog(index), 'dump-log .index');
    expect(r.stdout).toBe([`Dumping ${index}`, ...batches.slice(1).map((b) => `offset: ${b.last} position: ${b.position}`)].join('\n') + '\n');
    expect(r.stderr).toBe('');
    const t = expectOk(await dumpLog(timeindex), 'dump-log .timeindex');
    expect(t.stdout.split('\n')[0]).toBe(`Dumping ${timeindex}`);
    expect(t.stdout).toMatch(/^timestamp: \d+ offset: \d+$/m);
    expect(t.stderr).toBe('');

    const v = expectOk(await dumpLog('--verify-index-only', index, timeindex), 'dump-log --verify-index-only');
    expect(v.stdout).toBe(`Dumping ${index}\nDumping ${timeindex}\n`);
    expect(v.stderr).toBe('');
    const s = expectOk(await dumpLog('--index-sanity-check', index, timeindex), 'dump-log --index-sanity-check');
    expect(s.stdout).toBe(`Dumping ${index}\n${index} passed sanity check.\nDumping ${timeindex}\n${timeindex} passed sanity check.\n`);

    // A directory: its segment files by base offset, .log then .index then .timeindex.
    const d = expectOk(await dumpLog(segmentDir), 'dump-log DIR');
    expect(d.stdout.split('\n').filter((l) => l.startsWith('Dumping '))).toEqual([`Dumping ${join(segmentDir, `${SEGMENT}.log`)}`, `Dumping ${index}`, `Dumping ${timeindex}`]);
    // The data directory: every partition directory in it, one level down.
    const all = expectOk(await dumpLog('--verify-index-only', tb.dataDir), 'dump-log DATA_DIR');
    expect(all.stdout).toContain(`Dumping ${index}\nDumping ${timeindex}\n`);
    expect(all.stdout).toContain(`Dumping ${join(tb.dataDir, '__consumer_offsets-0', `${SEGMENT}.index`)}\n`);
    // Kafka's --files, comma-separated, is the same as naming the files.
    const files = expectOk(await dumpLog('--verify-index-only', '--files', `${index},${timeindex}`), 'dump-log --files');
    expect(files.stdout).toBe(`Dumping ${index}\nDumping ${timeindex}\n`);
  });

  it('reports index entries that do not match the log, in Kafka words, and exits 1 under --verify-index-only', async () => {
    const dir = mkdtempSync(join(scratch, 'index-'));
    for (const ext of ['log', 'index', 'timeindex']) copyFileSync(join(segmentDir, `${SEGMENT}.${ext}`), join(dir, `${SEGMENT}.${ext}`));
    const index = join(dir, `${SEGMENT}.index`);
    const timeindex = join(dir, `${SEGMENT}.timeindex`);
    // .index entry 0 is (relative offset int32, position int32): say offset 5 where the batch ends at 6.
    const idx = readFileSync(index);
    const truth = idx.readInt32BE(0);
    idx.writeInt32BE(5, 0);
    writeFileSync(index, idx);
    // .timeindex entry 0 is (timestamp int64, relative offset int32): a timestamp one ms off.
    const tidx = readFileSync(timeindex);
    const ts = tidx.readBigInt64BE(0);
    tidx.writeBigInt64BE(ts + 1n, 0);
    writeFileSync(timeindex, tidx);

    const r = await dumpLog('--verify-index-only', index, timeindex);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`Dumping ${index}\nDumping ${timeindex}\n`);
    expect(r.stderr).toContain(`Mismatches in :${resolve(index)}\n  Index offset: 5, log offset: ${truth}\n`);
    expect(r.stderr).toContain(`Found timestamp mismatch in :${resolve(timeindex)}\n  Index timestamp: ${ts + 1n}, log timestamp: ${ts}\n`);
    // Without the flag the mismatch is reported the same way, and the dump itself succeeded (Kafka's exit status).
    const plain = await dumpLog(index);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('offset: 5 position: ');
    expect(plain.stderr).toContain('  Index offset: 5, log offset: ');
    const j = await dumpLog('--json', '--verify-index-only', index);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ type: 'index', mismatches: [{ indexOffset: 5, logOffset: truth }] });
  });

  it('stops at bytes that cannot be a batch, names the position, and exits 1', async () => {
    const dir = mkdtempSync(join(scratch, 'garbage-'));
    const good = readFileSync(join(segmentDir, `${SEGMENT}.log`));
    const file = join(dir, `${SEGMENT}.log`);
    const junk = Buffer.from('this is not a kafka segment, just text that someone named .log\n'.repeat(4));
    writeFileSync(file, Buffer.concat([good, junk]));
    const r = await dumpLog(file);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('baseOffset:'))).toHaveLength(6);
    expect(r.stdout).toContain(`Found ${junk.length} invalid bytes at the end of ${SEGMENT}.log`);
    expect(r.stderr.trim().split('\n')).toEqual([`brook dump-log: ${file}: corrupt data at position ${good.length} (magic byte ${junk[16]}, not 2: not a record batch); the ${junk.length} bytes from there were not dumped`]);
  });

  it('exits 1 with one line for a missing file, 2 for bad usage, 0 for --help', async () => {
    const missing = join(scratch, `${SEGMENT}.nothere.log`);
    const m = await dumpLog(missing);
    expect(m.code).toBe(1);
    expect(m.stdout).toBe('');
    expect(m.stderr).toBe(`brook dump-log: ${missing}: no such file\n`);

    for (const args of [['--no-such-flag', 'x.log'], [], ['--max-bytes', 'lots', 'x.log']]) {
      const u = await dumpLog(...args);
      expect(u.code, args.join(' ')).toBe(2);
      expect(u.stderr).toMatch(/^brook dump-log: .*\nRun 'brook dump-log --help' for its options\.\n$/);
    }

    const h = await dumpLog('--help');
    expect(h.code).toBe(0);
    for (const flag of ['--print-data-log', '--deep-iteration', '--verify-index-only', '--index-sanity-check', '--max-bytes', '--json', '--files']) expect(h.stdout).toContain(flag);
    const top = await brook(['--help']);
    expect(top.stdout).toMatch(/^ {2}dump-log {5}/m);
  });
});
