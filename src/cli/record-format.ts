/**
 * Turns fetched record batches into the bytes `brook consume` prints, without an object per record:
 * the native decoder's flat arrays (decodeBatchesFlat) are read directly and record bytes are copied
 * into one output buffer that is written when full.
 *
 * Two layouts:
 * - Kafka's console consumer (DefaultMessageFormatter): optional `CreateTime:<ts>`, `Partition:<p>`,
 *   `Offset:<o>`, headers (`k:v,k2:v2` or `NO_HEADERS`), key, then value, joined by key.separator
 *   (default a tab), each record ended by line.separator (default \n); nulls print as null.literal
 *   ("null"). The default (value only) is a straight copy of the value and the separator.
 * - kcat's `--format` tokens: %t topic, %p partition, %o offset, %k key, %s value, %T timestamp (ms),
 *   %h headers (`k=v,k2=v2`), %K key length, %S value length (-1 for null), %% a percent sign; the
 *   escapes \n \t \r \\ \0 in the format itself. A null key or value prints as nothing, a null
 *   header value as NULL, as kcat does.
 */
import { decodeBatchesFlat, FLAT } from '../native/records.js';

export interface ConsoleFormat {
  kind: 'console';
  printKey: boolean;
  printValue: boolean;
  printTimestamp: boolean;
  printPartition: boolean;
  printOffset: boolean;
  printHeaders: boolean;
  keySeparator: Buffer;
  lineSeparator: Buffer;
  headersSeparator: string;
  headersKeySeparator: string;
  nullLiteral: Buffer;
}

type Token = { lit: Buffer } | { field: 't' | 'p' | 'o' | 'k' | 's' | 'T' | 'h' | 'K' | 'S' };

export interface KcatFormat {
  kind: 'kcat';
  tokens: Token[];
}

export type RecordFormat = ConsoleFormat | KcatFormat;

export function consoleFormat(props: Map<string, string>): ConsoleFormat {
  const bool = (k: string, d: boolean) => {
    const v = props.get(k);
    if (v === undefined) return d;
    if (v !== 'true' && v !== 'false') throw new Error(`--property ${k} must be true or false, got "${v}"`);
    return v === 'true';
  };
  const unescape = (s: string) => s.replace(/\\([ntr\\0])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\', '0': '\0' })[c]!);
  return {
    kind: 'console',
    printKey: bool('print.key', false),
    printValue: bool('print.value', true),
    printTimestamp: bool('print.timestamp', false),
    printPartition: bool('print.partition', false),
    printOffset: bool('print.offset', false),
    printHeaders: bool('print.headers', false),
    keySeparator: Buffer.from(unescape(props.get('key.separator') ?? '\t')),
    lineSeparator: Buffer.from(unescape(props.get('line.separator') ?? '\n')),
    headersSeparator: unescape(props.get('headers.separator') ?? ','),
    headersKeySeparator: unescape(props.get('headers.key.separator') ?? ':'),
    nullLiteral: Buffer.from(props.get('null.literal') ?? 'null'),
  };
}

/** Parses kcat's format string; unknown `%x` is an error naming it. */
export function kcatFormat(format: string): KcatFormat {
  const tokens: Token[] = [];
  let lit = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '\\' && i + 1 < format.length) {
      const e = format[++i]!;
      lit += ({ n: '\n', t: '\t', r: '\r', '\\': '\\', '0': '\0' } as Record<string, string>)[e] ?? `\\${e}`;
    } else if (c === '%') {
      const f = format[++i];
      if (f === '%') lit += '%';
      else if (f !== undefined && 'tpokTshKS'.includes(f)) {
        if (lit) tokens.push({ lit: Buffer.from(lit) });
        lit = '';
        tokens.push({ field: f as 't' });
      } else throw new Error(`--format: unknown token %${f ?? ''} (known: %t %p %o %k %s %T %h %K %S %%)`);
    } else lit += c;
  }
  if (lit) tokens.push({ lit: Buffer.from(lit) });
  return { kind: 'kcat', tokens };
}

const OUT_SIZE = 1024 * 1024;

/**
 * Collects formatted records and hands full buffers to `sink`. A sink that answers true has written
 * the chunk out already (stdout to a file, /dev/null, or a pipe: synchronous on Linux), so the buffer
 * is filled again; otherwise the sink keeps the chunk and a new buffer is taken. Reusing matters: a
 * fresh buffer costs a page fault per 4 KiB the first time it is written.
 */
export class RecordPrinter {
  private buf = Buffer.allocUnsafe(OUT_SIZE);
  private pos = 0;
  /** Records printed so far. */
  count = 0;
  /** Offset of the last record printed. */
  lastOffset = -1;

  constructor(
    private readonly format: RecordFormat,
    private readonly sink: (chunk: Buffer) => boolean,
  ) {}

  /**
   * Prints the records of `records` (whole batches) with offsets in [fromOffset, ...), at most
   * `limit` of them; returns how many were printed. Control batches (transaction markers) are skipped.
   */
  print(topic: string, partition: number, records: Buffer, fromOffset: number, limit: number = Infinity): number {
    const flat = decodeBatchesFlat(records);
    const { batches: b, records: r, headers: h, buffers } = flat;
    let printed = 0;
    for (let bi = 0; bi < b.length && printed < limit; bi += FLAT.BATCH_FIELDS) {
      if ((b[bi + 6]! & 0x20) !== 0) continue; // control batch
      const source = b[bi + 14]!;
      const src = source < 0 ? records : buffers[source]!;
      const timestampType = (b[bi + 6]! & 0x08) !== 0 ? 'LogAppendTime' : 'CreateTime';
      const first = b[bi + 15]!;
      const count = b[bi + 13]!;
      for (let n = 0; n < count && printed < limit; n++) {
        const i = (first + n) * FLAT.RECORD_FIELDS;
        const offset = r[i]!;
        if (offset < fromOffset) continue;
        if (this.format.kind === 'console') this.console(this.format, src, r, h, i, partition, timestampType);
        else this.kcat(this.format, src, r, h, i, topic, partition);
        this.lastOffset = offset;
        printed++;
      }
    }
    this.count += printed;
    return printed;
  }

  /** Writes out what is buffered. */
  flush(): void {
    if (this.pos === 0) return;
    if (!this.sink(this.buf.subarray(0, this.pos))) this.buf = Buffer.allocUnsafe(OUT_SIZE);
    this.pos = 0;
  }

  private console(f: ConsoleFormat, src: Buffer, r: Float64Array, h: Float64Array, i: number, partition: number, timestampType: string): void {
    if (f.printTimestamp) {
      this.str(`${timestampType}:${r[i + 1]!}`);
      this.sep(f, f.printPartition || f.printOffset || f.printHeaders || f.printKey || f.printValue);
    }
    if (f.printPartition) {
      this.str(`Partition:${partition}`);
      this.sep(f, f.printOffset || f.printHeaders || f.printKey || f.printValue);
    }
    if (f.printOffset) {
      this.str(`Offset:${r[i]!}`);
      this.sep(f, f.printHeaders || f.printKey || f.printValue);
    }
    if (f.printHeaders) {
      const firstHeader = r[i + 6]!;
      const headerCount = r[i + 7]!;
      if (headerCount === 0) this.str('NO_HEADERS');
      for (let k = 0; k < headerCount; k++) {
        const j = (firstHeader + k) * FLAT.HEADER_FIELDS;
        if (k > 0) this.str(f.headersSeparator);
        this.bytes(src, h[j]!, h[j + 1]!);
        this.str(f.headersKeySeparator);
        if (h[j + 3]! < 0) this.bytes(f.nullLiteral, 0, f.nullLiteral.length);
        else this.bytes(src, h[j + 2]!, h[j + 3]!);
      }
      this.sep(f, f.printKey || f.printValue);
    }
    if (f.printKey) {
      if (r[i + 3]! < 0) this.bytes(f.nullLiteral, 0, f.nullLiteral.length);
      else this.bytes(src, r[i + 2]!, r[i + 3]!);
      this.sep(f, f.printValue);
    }
    if (f.printValue) {
      if (r[i + 5]! < 0) this.bytes(f.nullLiteral, 0, f.nullLiteral.length);
      else this.bytes(src, r[i + 4]!, r[i + 5]!);
    }
    this.bytes(f.lineSeparator, 0, f.lineSeparator.length);
  }

  private sep(f: ConsoleFormat, more: boolean): void {
    if (more) this.bytes(f.keySeparator, 0, f.keySeparator.length);
  }

  private kcat(f: KcatFormat, src: Buffer, r: Float64Array, h: Float64Array, i: number, topic: string, partition: number): void {
    for (const t of f.tokens) {
      if ('lit' in t) {
        this.bytes(t.lit, 0, t.lit.length);
        continue;
      }
      switch (t.field) {
        case 't':
          this.str(topic);
          break;
        case 'p':
          this.str(String(partition));
          break;
        case 'o':
          this.str(String(r[i]!));
          break;
        case 'T':
          this.str(String(r[i + 1]!));
          break;
        case 'k':
          if (r[i + 3]! > 0) this.bytes(src, r[i + 2]!, r[i + 3]!);
          break;
        case 's':
          if (r[i + 5]! > 0) this.bytes(src, r[i + 4]!, r[i + 5]!);
          break;
        case 'K':
          this.str(String(r[i + 3]!));
          break;
        case 'S':
          this.str(String(r[i + 5]!));
          break;
        case 'h': {
          const firstHeader = r[i + 6]!;
          for (let k = 0; k < r[i + 7]!; k++) {
            const j = (firstHeader + k) * FLAT.HEADER_FIELDS;
            if (k > 0) this.str(',');
            this.bytes(src, h[j]!, h[j + 1]!);
            this.str('=');
            // kcat prints a null header value as NULL (a null key or value as nothing).
            if (h[j + 3]! < 0) this.str('NULL');
            else this.bytes(src, h[j + 2]!, h[j + 3]!);
          }
          break;
        }
      }
    }
  }

  private str(s: string): void {
    if (this.pos + s.length * 3 > this.buf.length) this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
  }

  private bytes(src: Buffer, at: number, len: number): void {
    if (len <= 0) return;
    if (this.pos + len > this.buf.length) this.room(len);
    if (len > this.buf.length) {
      this.sink(src.subarray(at, at + len)); // fetched bytes are never reused
      return;
    }
    src.copy(this.buf, this.pos, at, at + len);
    this.pos += len;
  }

  /** Flushes so that more bytes fit (or so that a value larger than the buffer goes alone). */
  private room(_n: number): void {
    this.flush();
  }
}
