/**
 * Test helper: builds non-trivial message values straight from a schema, so every API and version
 * can be round-tripped without hand-writing hundreds of objects.
 *
 * Values are deterministic (seeded) and chosen to catch encoding slips: negative and extreme
 * integers, 64-bit values beyond 2^53, multi-byte UTF-8, empty and non-empty arrays, null where the
 * version allows it. Every field of the schema gets a value, including fields the version lacks,
 * so the round trip also proves those are ignored on encode.
 */
import type { AnyField, FieldType } from '../../../src/protocol/schema.js';

export type Value = Record<string, unknown>;

/** xorshift32: small, deterministic, good enough to vary test values. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const STRINGS = ['', 'a', 'topic-1', 'größe', '日本語', 'x'.repeat(50), 'emoji 🚀'];
const INT32S = [0, 1, -1, 127, 128, 2147483647, -2147483648, 65535, 300];
const INT64S = [0n, -1n, 1n, 9007199254740993n, -9223372036854775808n, 9223372036854775807n, 4294967296n];

export function generateStruct(fields: readonly AnyField[], version: number, next: () => number): Value {
  const o: Value = {};
  for (const f of fields) {
    const nullable = version >= f.nullableSince && version >= f.since && version <= f.until;
    o[f.name] = generateField(f.type, version, nullable, next);
  }
  return o;
}

function pick<T>(values: readonly T[], next: () => number): T {
  return values[next() % values.length]!;
}

function generateField(type: FieldType, version: number, nullable: boolean, next: () => number): unknown {
  if (nullable && next() % 4 === 0) return null;
  switch (type.kind) {
    case 'scalar':
      return generateScalar(type.scalar, next);
    case 'array': {
      const n = next() % 4 === 0 ? 0 : 1 + (next() % 3);
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) {
        items.push(
          typeof type.items === 'string'
            ? generateScalar(type.items, next)
            : generateStruct(type.items, version, next),
        );
      }
      return items;
    }
    case 'struct':
      return generateStruct(type.fields, version, next);
  }
}

function generateScalar(s: string, next: () => number): unknown {
  switch (s) {
    case 'int8':
      return (next() % 256) - 128;
    case 'int16':
      return (next() % 65536) - 32768;
    case 'uint16':
      return next() % 65536;
    case 'int32':
      return pick(INT32S, next);
    case 'uint32':
      return next() >>> 0;
    case 'int64':
      return pick(INT64S, next);
    case 'float64':
      return pick([0, -1.5, Math.PI, 1e300], next);
    case 'bool':
      return next() % 2 === 0;
    case 'string':
      return pick(STRINGS, next);
    case 'bytes':
    case 'records': {
      const n = next() % 5 === 0 ? 0 : 1 + (next() % 40);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    }
    case 'uuid': {
      const b = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) b[i] = next() & 0xff;
      const hex = b.toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    default:
      throw new Error(`no generator for ${s}`);
  }
}

/**
 * Asserts-friendly projection: the part of `value` that version `version` carries, i.e. only the
 * fields that exist in that version, recursively. Decoded objects compared through this must
 * match field for field.
 */
export function project(fields: readonly AnyField[], version: number, value: Value): Value {
  const o: Value = {};
  for (const f of fields) {
    if (version < f.since || version > f.until) continue;
    o[f.name] = projectField(f.type, version, value[f.name]);
  }
  return o;
}

function projectField(type: FieldType, version: number, v: unknown): unknown {
  if (v === null || v === undefined) return v;
  switch (type.kind) {
    case 'scalar':
      return v;
    case 'array':
      if (typeof type.items === 'string') return v;
      {
        const items = type.items;
        return (v as Value[]).map((item) => project(items, version, item));
      }
    case 'struct':
      return project(type.fields, version, v as Value);
  }
}
