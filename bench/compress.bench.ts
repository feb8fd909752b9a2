/**
 * Codec throughput and ratio on ~1 MiB of realistic log lines (JSON application logs mixed with
 * combined-format HTTP access logs: varied IPs, paths, user agents, status codes, sizes, latencies
 * and random trace ids), each codec at its default level, synchronous on one thread.
 *
 * Baselines measured in the same run: Node's zlib gzip (level 6, same library as our gzip, so the
 * ratio shows the cost of our layer) for compress and gunzip for decompress; and memcpy
 * (Buffer.copy of the same 1 MiB) as the speed of light. MB/s is input MB for compress and
 * output MB for decompress.
 *
 * Pages: every codec call returns a new Buffer (the codec's working buffer is freed at once and
 * reused warm by the next call, but the returned Buffer is new memory that the GC frees later), so
 * ours are marked "fresh"; memcpy is shown both into one reused target and into a new Buffer per
 * copy, which brackets what a fresh output costs.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { Codec, codecName, compress, decompress } from '../src/native/codec.js';
import { measure, rate, sized, type Figure, type Measured } from './lib.js';

export const title = 'Compression, ~1 MiB of log lines, one thread';

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

export function logLines(bytes: number, seed = 42): Buffer {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[r(a.length)]!;
  const paths = ['/api/v1/orders', '/api/v1/orders/{id}', '/api/v1/users/me', '/api/v2/search', '/static/js/app.{h}.js', '/healthz', '/login', '/api/v1/cart/items'];
  const agents = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
    'curl/8.4.0',
    'okhttp/4.12.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
  ];
  const services = ['checkout', 'search', 'auth', 'inventory', 'gateway'];
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const messages = ['request completed', 'cache miss', 'retrying upstream call', 'user authenticated', 'payment authorized', 'slow query'];
  const hex = (n: number) => Array.from({ length: n }, () => r(16).toString(16)).join('');
  const lines: string[] = [];
  let size = 0;
  let ts = 1_700_000_000_000;
  while (size < bytes) {
    ts += r(50);
    const path = pick(paths).replace('{id}', String(r(1e6))).replace('{h}', hex(8));
    const status = pick([200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 404, 500, 503]);
    let line: string;
    if (r(2) === 0) {
      const ip = `${10 + r(200)}.${r(256)}.${r(256)}.${r(256)}`;
      const date = new Date(ts).toUTCString();
      line = `${ip} - - [${date}] "${pick(['GET', 'GET', 'POST', 'PUT', 'DELETE'])} ${path} HTTP/1.1" ${status} ${r(50_000)} "-" "${pick(agents)}" ${r(2000) / 1000}`;
    } else {
      line = JSON.stringify({
        ts: new Date(ts).toISOString(),
        level: pick(levels),
        service: pick(services),
        trace_id: hex(32),
        span_id: hex(16),
        msg: pick(messages),
        http: { method: pick(['GET', 'POST']), path, status, duration_ms: r(3000) },
        user_id: r(5) === 0 ? null : `u_${r(100_000)}`,
      });
    }
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(lines.join('\n') + '\n').subarray(0, bytes);
}

export async function run(): Promise<Figure[]> {
  const input = logLines(sized(1 << 20, 64 << 10));
  const nodeGz = gzipSync(input, { level: 6 });
  const codecs = [Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd] as const;
  const packed = new Map(codecs.map((c) => [c, compress(c, input)]));
  for (const c of codecs) if (!decompress(c, packed.get(c)!).equals(input)) throw new Error(`${codecName(c)} did not round-trip`);
  const target = Buffer.allocUnsafeSlow(input.length);
  const fns: Record<string, () => unknown> = {
    'node gzip': () => gzipSync(input, { level: 6 }),
    'node gunzip': () => gunzipSync(nodeGz),
    'memcpy reused': () => input.copy(target),
    'memcpy fresh': () => input.copy(Buffer.allocUnsafeSlow(input.length)),
  };
  for (const c of codecs) {
    fns[`${codecName(c)} compress`] = () => compress(c, input);
    fns[`${codecName(c)} decompress`] = () => decompress(c, packed.get(c)!);
  }
  // All ten in one Bench, so a noisy neighbour on this shared machine slows ours and the baselines
  // alike rather than whichever happened to run at the wrong moment.
  const measured = await measure(fns, { time: 400 });
  const mb = (name: string) => rate(measured[name] as Measured, input.length / 1e6);
  const figures: Figure[] = [];
  for (const c of codecs) {
    const size = packed.get(c)!.length;
    const extra = { ratio: `${(input.length / size).toFixed(2)}x`, 'size vs Node gzip': `${((size / nodeGz.length) * 100).toFixed(0)}%` };
    figures.push({ name: `${codecName(c)} compress`, ours: mb(`${codecName(c)} compress`), baseline: mb('node gzip'), unit: 'MB/s', baselineName: 'Node zlib gzip -6', pages: 'fresh', extra });
    figures.push({ name: `${codecName(c)} decompress`, ours: mb(`${codecName(c)} decompress`), baseline: mb('node gunzip'), unit: 'MB/s', baselineName: 'Node zlib gunzip', pages: 'fresh', extra });
    console.log(`${codecName(c).padEnd(7)} ratio ${extra.ratio}, size vs Node gzip ${extra['size vs Node gzip']}`);
  }
  figures.push({ name: `memcpy ${input.length === 1 << 20 ? '1 MiB' : `${input.length >> 10} KiB`} into a new Buffer`, ours: mb('memcpy fresh'), baseline: mb('memcpy reused'), unit: 'MB/s', baselineName: 'memcpy into a reused Buffer', pages: 'fresh' });
  console.log(`input ${input.length} bytes of log lines; Node gzip -6 ratio ${(input.length / nodeGz.length).toFixed(2)}x; memcpy (reused target) ${mb('memcpy reused').value.toFixed(0)} MB/s`);
  return figures;
}
