/**
 * What `brook consume` prints (src/cli/record-format.ts) for batches built here: Kafka's
 * DefaultMessageFormatter layout with each print.* property and separator, kcat's `-f` tokens and
 * escapes, and the printer's handling of compressed batches that start before the fetch offset, the
 * record limit, control batches, LogAppendTime, and values larger than its 1 MiB output buffer.
 */
import { describe, expect, it } from 'vitest';
import { BatchBuilder } from '../../../src/kafka/batch-builder.js';
import { consoleFormat, kcatFormat, RecordPrinter, type RecordFormat } from '../../../src/cli/record-format.js';
import { Codec } from '../../../src/native/codec.js';
import { buildBatch } from '../../../src/native/records.js';

const T0 = 1_700_000_000_000;

/** The four records of the console fixtures (test/fixtures/cli/console-*.txt). */
function fixtureBatch(codec: Codec = Codec.None): Buffer {
  const b = new BatchBuilder(1 << 20);
  b.append(T0, Buffer.from('k1'), Buffer.from('v1'), [{ key: 'h1', value: Buffer.from('x') }, { key: 'h2', value: Buffer.from('y') }], 0);
  b.append(T0 + 1, null, Buffer.from('nokey'), null, 0);
  b.append(T0 + 2, Buffer.from('k3'), null, [{ key: 'h3', value: null }], 0);
  b.append(T0 + 3, Buffer.from('ключ'), Buffer.from('значение'), [], 0);
  return b.finish(codec);
}

function print(format: RecordFormat, records: Buffer, fromOffset = 0, limit?: number, topic = 'fmt', partition = 0): { text: string; printed: number; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const p = new RecordPrinter(format, (c) => chunks.push(Buffer.from(c)) > 0);
  const printed = p.print(topic, partition, records, fromOffset, limit);
  p.flush();
  expect(p.count).toBe(printed);
  return { text: Buffer.concat(chunks).toString(), printed, chunks };
}

const props = (o: Record<string, string>) => new Map(Object.entries(o));

describe('console format (DefaultMessageFormatter)', () => {
  it('prints the value alone by default, null.literal for a null value', () => {
    expect(print(consoleFormat(props({})), fixtureBatch()).text).toBe('v1\nnokey\nnull\nзначение\n');
  });

  it('prints timestamp, partition, offset, headers, key, value in Kafka\'s order with tabs', () => {
    const f = consoleFormat(props({ 'print.timestamp': 'true', 'print.partition': 'true', 'print.offset': 'true', 'print.headers': 'true', 'print.key': 'true' }));
    expect(print(f, fixtureBatch(), 0, undefined, 'fmt', 3).text).toBe(
      [
        `CreateTime:${T0}\tPartition:3\tOffset:0\th1:x,h2:y\tk1\tv1`,
        `CreateTime:${T0 + 1}\tPartition:3\tOffset:1\tNO_HEADERS\tnull\tnokey`,
        `CreateTime:${T0 + 2}\tPartition:3\tOffset:2\th3:null\tk3\tnull`,
        `CreateTime:${T0 + 3}\tPartition:3\tOffset:3\tNO_HEADERS\tключ\tзначение`,
        '',
      ].join('\n'),
    );
  });

  it('takes key.separator, line.separator, headers.separator, headers.key.separator, null.literal (with \\t \\n escapes)', () => {
    const f = consoleFormat(props({ 'print.key': 'true', 'print.headers': 'true', 'key.separator': ' | ', 'line.separator': '\\n--\\n', 'headers.separator': ';', 'headers.key.separator': '=', 'null.literal': '<nil>' }));
    expect(print(f, fixtureBatch()).text).toBe('h1=x;h2=y | k1 | v1\n--\nNO_HEADERS | <nil> | nokey\n--\nh3=<nil> | k3 | <nil>\n--\nNO_HEADERS | ключ | значение\n--\n');
    expect(consoleFormat(props({ 'key.separator': '\\t' })).keySeparator.toString()).toBe('\t');
  });

  it('ends the line after the last printed field when print.value=false', () => {
    const f = consoleFormat(props({ 'print.value': 'false', 'print.key': 'true', 'print.offset': 'true' }));
    expect(print(f, fixtureBatch()).text).toBe('Offset:0\tk1\nOffset:1\tnull\nOffset:2\tk3\nOffset:3\tключ\n');
  });

  it('refuses a print.* value other than true or false', () => {
    expect(() => consoleFormat(props({ 'print.key': 'yes' }))).toThrow(/print\.key must be true or false, got "yes"/);
  });

  it('prints LogAppendTime with the batch time for a broker-stamped batch', () => {
    const batch = buildBatch({ records: [{ value: 'a', timestamp: 1 }, { value: 'b', timestamp: 2 }], timestampType: 'LogAppendTime', logAppendTime: T0 + 42 });
    expect(print(consoleFormat(props({ 'print.timestamp': 'true' })), batch).text).toBe(`LogAppendTime:${T0 + 42}\ta\nLogAppendTime:${T0 + 42}\tb\n`);
  });
});

describe("kcat's --format tokens", () => {
  it('prints %t %p %o %T %k %s %K %S %h and %%: a null key or value as nothing (length -1), a null header value as NULL', () => {
    const f = kcatFormat('%t %p %o %T [%k] [%s] %K %S {%h} 100%%\\n');
    expect(print(f, fixtureBatch(), 0, undefined, 'fmt', 0).text).toBe(
      [
        `fmt 0 0 ${T0} [k1] [v1] 2 2 {h1=x,h2=y} 100%`,
        `fmt 0 1 ${T0 + 1} [] [nokey] -1 5 {} 100%`,
        `fmt 0 2 ${T0 + 2} [k3] [] 2 -1 {h3=NULL} 100%`,
        `fmt 0 3 ${T0 + 3} [ключ] [значение] 8 16 {} 100%`,
        '',
      ].join('\n'),
    );
  });

  it('turns \\t \\r \\\\ \\0 into their bytes and keeps an unknown escape as written', () => {
    const f = kcatFormat('%s\\t|\\r|\\\\|\\0|\\q\\n');
    expect(print(f, buildBatch({ records: [{ value: 'v' }] })).text).toBe('v\t|\r|\\|\0|\\q\n');
  });

  it('refuses an unknown token or a lone % at the end, naming it', () => {
    expect(() => kcatFormat('%x')).toThrow(/unknown token %x/);
    expect(() => kcatFormat('abc%')).toThrow(/unknown token %/);
  });
});

describe('RecordPrinter', () => {
  it('skips the records of a compressed batch before the fetch offset, and stops at the limit', () => {
    for (const codec of [Codec.None, Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd]) {
      const batch = buildBatch({ records: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })), baseOffset: 100, codec });
      const f = kcatFormat('%o:%s\\n');
      expect(print(f, batch, 104).text, `codec ${codec}`).toBe('104:r4\n105:r5\n106:r6\n107:r7\n108:r8\n109:r9\n');
      const limited = print(f, batch, 104, 2);
      expect(limited.printed).toBe(2);
      expect(limited.text).toBe('104:r4\n105:r5\n');
    }
  });

  it('skips control batches (transaction markers)', () => {
    const data = buildBatch({ records: [{ value: 'data' }], baseOffset: 0, producerId: 7, producerEpoch: 0, baseSequence: 0, isTransactional: true });
    const marker = buildBatch({ records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], baseOffset: 1, producerId: 7, producerEpoch: 0, isTransactional: true, isControl: true });
    const after = buildBatch({ records: [{ value: 'after' }], baseOffset: 2 });
    const r = print(kcatFormat('%o %s\\n'), Buffer.concat([data, marker, after]));
    expect(r.text).toBe('0 data\n2 after\n');
    expect(r.printed).toBe(2);
  });

  it('prints values larger than its output buffer whole and in order', () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0x62);
    const batch = buildBatch({ records: [{ value: 'small-1' }, { value: big }, { value: 'small-2' }, { value: Buffer.alloc(900 * 1024, 0x63) }, { value: 'small-3' }] });
    const r = print(consoleFormat(props({})), batch);
    expect(r.text).toBe(`small-1\n${big.toString()}\nsmall-2\n${'c'.repeat(900 * 1024)}\nsmall-3\n`);
  });

  it('fills and hands over full buffers for many records, losing none', () => {
    const values = Array.from({ length: 30_000 }, (_, i) => `record-${i}-${'z'.repeat(i % 80)}`);
    const batch = buildBatch({ records: values.map((value) => ({ value })), codec: Codec.Lz4 });
    const r = print(consoleFormat(props({ 'print.offset': 'true' })), batch);
    expect(r.chunks.length).toBeGreaterThan(1);
    expect(r.text).toBe(values.map((v, i) => `Offset:${i}\t${v}\n`).join(''));
  });
});
