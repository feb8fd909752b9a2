/**
 * Decoding and building record batches: Brook's native decoder/builder (through the TS facade)
 * against kafkajs's pure-JS RecordBatch encoder and decoder, on an uncompressed batch of 1,000
 * records (16-byte keys, ~120-byte JSON values, one header each). Also shows what the lazy facade
 * buys: the header fields alone (batch.records never touched) versus full record objects.
 * Single thread; buffers reused.
 */
import { createRequire } from 'node:module';
import { buildBatch, decodeBatches, type RecordInput } from '../src/native/records.js';
import { measure, rate, type Figure } from './lib.js';

export const title = 'Record batches, 1,000 records, uncompressed';

const require = createRequire(import.meta.url);

/** The kafkajs internals used as the baseline: not part of its typed API, so typed here as used. */
interface KafkajsCodec {
  RecordBatch(batch: { records: unknown[]; lastOffsetDelta: number }): Promise<unknown>;
  Record(record: { offsetDelta: number; timestampDelta: number; key: unknown; value: unknown; headers: Record<string, unknown> }): unknown;
  Decoder: new (buf: Buffer) => unknown;
  decode(decoder: unknown): Promise<unknown>;
}

export async function run(): Promise<Figure[]> {
  const n = 1000;
  const recs: RecordInput[] = Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`user-${String(i).padStart(11, '0')}`),
    value: Buffer.from(JSON.stringify({ i, path: '/api/v1/orders', status: 200, ms: (i * 7919) % 1000, id: `r-${i * 104729}`, ok: true })),
    headers: [{ key: 'trace', value: Buffer.from(`t-${i}`) }],
    timestamp: 1_700_000_000_000 + i,
  }));
  const batch = buildBatch({ records: recs });

  let kafkajs: KafkajsCodec | undefined;
  try {
    kafkajs = {
      RecordBatch: require('kafkajs/src/protocol/recordBatch/v0/index.js').RecordBatch,
      Record: require('kafkajs/src/protocol/recordBatch/record/v0/index.js'),
      Decoder: require('kafkajs/src/protocol/decoder.js'),
      decode: require('kafkajs/src/protocol/recordBatch/v0/decoder.js'),
    };
  } catch {
    console.warn('kafkajs is not installed: no baseline for this workload');
    return [];
  }
  const k = kafkajs;
  const m = await measure(
    {
      kjsDecode: () => k.decode(new k.Decoder(batch)),
      kjsBuild: () =>
        k.RecordBatch({
          records: recs.map((r, i) => k.Record({ offsetDelta: i, timestampDelta: i, key: r.key, value: r.value, headers: { trace: r.headers![0]!.value } })),
          lastOffsetDelta: n - 1,
        }),
      fullDecode: () => decodeBatches(batch).batches[0]!.records,
      headerOnly: () => decodeBatches(batch).batches[0]!.recordsCount,
      build: () => buildBatch({ records: recs }),
    },
    { time: 500 },
  );
  const perOp = n / 1e6; // M records per batch
  return [
    { name: 'decode to record objects', ours: rate(m.fullDecode!, perOp), baseline: rate(m.kjsDecode!, perOp), unit: 'M records/s', baselineName: 'kafkajs decoder', pages: 'reused' },
    { name: 'decode, records not materialised', ours: rate(m.headerOnly!, perOp), baseline: rate(m.fullDecode!, perOp), unit: 'M records/s', baselineName: 'decode to record objects', pages: 'reused' },
    { name: 'build a batch', ours: rate(m.build!, perOp), baseline: rate(m.kjsBuild!, perOp), unit: 'M records/s', baselineName: 'kafkajs encoder', pages: 'fresh' },
  ];
}
