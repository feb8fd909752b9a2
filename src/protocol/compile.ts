/**
 * Compiles a message schema, for one version, into encode/decode closures.
 *
 * Everything version-dependent is decided here, once per (message, version): which fields exist,
 * which are nullable, compact or classic lengths, which are tagged, each field's default. The
 * result is a tree of small closures; the hot path (Produce request, Fetch response) then runs
 * closure calls only, no schema lookups. No code generation (`eval` / `new Function`).
 *
 * Body layout of a struct in version v (https://kafka.apache.org/protocol#protocol_messages):
 *
 *     regular fields of v, in schema order
 *     TAG_BUFFER                   only in flexible versions: tagged fields of v, by tag
 *
 * Decoding:
 * - produces plain objects with every field of the schema: fields not in this version (and tagged
 *   fields not on the wire) get their default, so one version's objects all share a shape;
 * - skips unknown tagged fields, and any trailing bytes inside a known one (a newer sender);
 * - is lenient where Kafka is strict but nothing is lost: a null on the wire for a non-nullable
 *   string, bytes or array reads as '', empty bytes or [].
 *
 * Encoding takes plain objects; a field that is undefined (or null where null is not allowed in
 * this version) is written as its default. Fields the version lacks are ignored.
 */
import { ProtocolError } from './protocol-error.js';
import type { Reader } from './reader.js';
import type { AnyField, ArrayItemType, FieldType, MessageSchema, ScalarType } from './schema.js';
import { isFlexible } from './schema.js';
import { ZERO_UUID } from './uuid.js';
import { Writer } from './writer.js';

export interface MessageCodec<D = unknown, E = unknown> {
  readonly version: number;
  readonly flexible: boolean;
  /** Decodes one message body from `r`, advancing it. Throws ProtocolError on malformed input. */
  decode(r: Reader): D;
  /** Appends the encoded body of `value` to `w`. */
  encode(w: Writer, value: E): void;
}

/** The codec for `schema` at `version`, compiled on first use and cached on the schema. */
export function codecFor<D, E>(schema: MessageSchema<D, E>, version: number): MessageCodec<D, E> {
  const cached = schema.codecs[version];
  if (cached !== undefined) return cached as MessageCodec<D, E>;
  if (!Number.isInteger(version) || version < schema.minVersion || version > schema.maxVersion) {
    throw new RangeError(
      `${schema.name} v${version} is outside the schema's versions ${schema.minVersion}-${schema.maxVersion}`,
    );
  }
  const flexible = isFlexible(schema, version);
  const struct = compileStruct(schema.fields, version, flexible, schema.name);
  const codec: MessageCodec<D, E> = {
    version,
    flexible,
    decode: struct.read as (r: Reader) => D,
    encode: struct.write as (w: Writer, value: E) => void,
  };
  schema.codecs[version] = codec;
  return codec;
}

type Read = (r: Reader) => unknown;
type Write = (w: Writer, v: unknown) => void;
type Obj = Record<string, unknown>;

interface StructCodec {
  read: (r: Reader) => Obj;
  write: (w: Writer, v: unknown) => void;
}

interface TaggedField {
  tag: number;
  name: string;
  read: Read;
  write: Write;
  makeDefault: () => unknown;
  /** Whether `v` differs from the default, i.e. must be written. */
  present: (v: unknown) => boolean;
}

function inVersion(f: AnyField, version: number): boolean {
  return version >= f.since && version <= f.until;
}

function compileStruct(fields: readonly AnyField[], version: number, flexible: boolean, where: string): StructCodec {
  const readNames: string[] = [];
  const reads: Read[] = [];
  const writers: Array<(w: Writer, o: Obj) => void> = [];
  const absent: Array<{ name: string; makeDefault: () => unknown }> = [];
  const tagged: TaggedField[] = [];

  for (const f of fields) {
    const path = `${where}.${f.name}`;
    if (!inVersion(f, version)) {
      // Not in this version: nullable "somewhere" means its absence reads as null.
      absent.push({ name: f.name, makeDefault: defaultFactory(f, f.nullableSince !== Infinity, version) });
      continue;
    }
    const nullable = version >= f.nullableSince;
    const { read, write } = compileType(f.type, version, flexible, nullable, path);
    const makeDefault = defaultFactory(f, nullable, version);
    if (f.tag !== undefined) {
      if (!flexible) throw new Error(`${path}: tagged field in non-flexible v${version}`);
      tagged.push({ tag: f.tag, name: f.name, read, write, makeDefault, present: presence(makeDefault) });
      continue;
    }
    const name = f.name;
    readNames.push(name);
    reads.push(read);
    const dflt = makeDefault();
    if (dflt !== null && typeof dflt === 'object' && !Buffer.isBuffer(dflt)) {
      // Arrays and structs: a fresh default per write is not needed (encode never mutates).
      Object.freeze(dflt);
    }
    writers.push(fieldWriter(f.type, name, dflt, nullable, write));
  }
  tagged.sort((a, b) => a.tag - b.tag);

  // Every decoded object of this (struct, version) starts as a copy of one template holding all
  // its keys in a fixed order, with the defaults that are immutable (numbers, strings, null)
  // already in place: the copy gets its final shape at once, and only fields on the wire plus
  // array/struct defaults (fresh per object) are assigned after.
  const template: Obj = {};
  for (const name of readNames) template[name] = undefined;
  const freshDefaults: Array<{ name: string; makeDefault: () => unknown }> = [];
  for (const { name, makeDefault } of [...absent, ...tagged]) {
    const sample = makeDefault();
    template[name] = sample;
    if (sample !== null && typeof sample === 'object') freshDefaults.push({ name, makeDefault });
  }

  const nReads = reads.length;
  const nWriters = writers.length;
  const nFresh = freshDefaults.length;
  const byTag = new Map(tagged.map((t) => [t.tag, t]));

  const read = (r: Reader): Obj => {
    const o: Obj = { ...template };
    for (let i = 0; i < nReads; i++) o[readNames[i]!] = reads[i]!(r);
    for (let i = 0; i < nFresh; i++) o[freshDefaults[i]!.name] = freshDefaults[i]!.makeDefault();
    if (flexible) readTaggedFields(r, o, byTag);
    return o;
  };

  const write = (w: Writer, v: unknown): void => {
    const o = (v ?? EMPTY_OBJECT) as Obj;
    for (let i = 0; i < nWriters; i++) writers[i]!(w, o);
    if (flexible) {
      if (tagged.length === 0) w.emptyTaggedFields();
      else writeTaggedFields(w, o, tagged);
    }
  };

  return { read, write };
}

const EMPTY_OBJECT: Obj = Object.freeze({});

/**
 * The writer of one field of a struct: looks the value up, substitutes the default, writes it.
 * The common fixed-width scalars get closures that call the Writer directly (one call per field
 * instead of two: this is most of the per-partition cost of a Fetch response).
 */
function fieldWriter(type: FieldType, name: string, dflt: unknown, nullable: boolean, write: Write): (w: Writer, o: Obj) => void {
  if (type.kind === 'scalar') {
    switch (type.scalar) {
      case 'int8': {
        const d = dflt as number;
        return (w, o) => w.int8((o[name] as number | undefined) ?? d);
      }
      case 'int16': {
        const d = dflt as number;
        return (w, o) => w.int16((o[name] as number | undefined) ?? d);
      }
      case 'int32': {
        const d = dflt as number;
        return (w, o) => w.int32((o[name] as number | undefined) ?? d);
      }
      case 'int64': {
        const d = dflt as bigint;
        return (w, o) => w.int64((o[name] as bigint | number | undefined) ?? d);
      }
      case 'bool': {
        const d = dflt as boolean;
        return (w, o) => w.bool((o[name] as boolean | undefined) ?? d);
      }
      default:
        break;
    }
  }
  return nullable
    ? (w, o) => {
        const v = o[name];
        write(w, v === undefined ? dflt : v);
      }
    : (w, o) => write(w, o[name] ?? dflt);
}

/**
 * Reads a TAG_BUFFER into `o`. Each entry is `tag uvarint, size uvarint, size bytes`; a known tag is
 * decoded inside a reader window of exactly `size` bytes (a field that would run past its size is a
 * ProtocolError), unknown tags and unread trailing bytes are skipped.
 */
function readTaggedFields(r: Reader, o: Obj, byTag: Map<number, TaggedField>): void {
  let count = r.uvarint();
  while (count-- > 0) {
    const tag = r.uvarint();
    const sizeAt = r.offset;
    const size = r.uvarint();
    const start = r.offset;
    if (size > r.end - start) throw new ProtocolError(`tagged field ${tag} of ${size} bytes runs past the end`, sizeAt);
    const end = start + size;
    const field = byTag.get(tag);
    if (field !== undefined) {
      const outerEnd = r.end;
      r.end = end;
      try {
        o[field.name] = field.read(r);
      } finally {
        r.end = outerEnd;
      }
    }
    r.offset = end;
  }
}

/**
 * Writes the TAG_BUFFER of `o`: count, then per present field in tag order `tag, size, value`. The
 * size must precede the value, so each value is encoded into a scratch writer first; tagged fields
 * are rare and small, never on a per-record path.
 */
function writeTaggedFields(w: Writer, o: Obj, tagged: readonly TaggedField[]): void {
  let count = 0;
  for (const t of tagged) if (t.present(o[t.name])) count++;
  w.uvarint(count);
  if (count === 0) return;
  for (const t of tagged) {
    const v = o[t.name];
    if (!t.present(v)) continue;
    const scratch = new Writer(64);
    t.write(scratch, v);
    const bytes = scratch.toBuffer();
    w.uvarint(t.tag);
    w.uvarint(bytes.length);
    w.raw(bytes);
  }
}

function compileType(type: FieldType, version: number, flexible: boolean, nullable: boolean, path: string): { read: Read; write: Write } {
  switch (type.kind) {
    case 'scalar':
      return compileScalar(type.scalar, flexible, nullable);
    case 'array': {
      const item =
        typeof type.items === 'string'
          ? compileScalar(type.items, flexible, false)
          : compileStruct(type.items, version, flexible, path);
      return compileArray(item.read, item.write, flexible, nullable);
    }
    case 'struct': {
      if (nullable) throw new Error(`${path}: nullable structs are not supported`);
      const s = compileStruct(type.fields, version, flexible, path);
      return { read: s.read, write: s.write };
    }
  }
}

function compileArray(readItem: Read, writeItem: Write, flexible: boolean, nullable: boolean): { read: Read; write: Write } {
  const read: Read = flexible
    ? (r) => {
        const n = r.compactArrayLength();
        if (n === null) return nullable ? null : [];
        const a: unknown[] = [];
        for (let i = 0; i < n; i++) a.push(readItem(r));
        return a;
      }
    : (r) => {
        const n = r.arrayLength();
        if (n === null) return nullable ? null : [];
        const a: unknown[] = [];
        for (let i = 0; i < n; i++) a.push(readItem(r));
        return a;
      };
  const write: Write = (w, v) => {
    if (v === null) {
      if (flexible) w.compactArrayLength(null);
      else w.arrayLength(null);
      return;
    }
    const a = v as readonly unknown[];
    const n = a.length;
    if (flexible) w.compactArrayLength(n);
    else w.arrayLength(n);
    for (let i = 0; i < n; i++) writeItem(w, a[i]);
  };
  return { read, write };
}

function compileScalar(s: ScalarType, flexible: boolean, nullable: boolean): { read: Read; write: Write } {
  switch (s) {
    case 'int8':
      return { read: (r) => r.int8(), write: (w, v) => w.int8(v as number) };
    case 'int16':
      return { read: (r) => r.int16(), write: (w, v) => w.int16(v as number) };
    case 'uint16':
      return { read: (r) => r.uint16(), write: (w, v) => w.uint16(v as number) };
    case 'int32':
      return { read: (r) => r.int32(), write: (w, v) => w.int32(v as number) };
    case 'uint32':
      return { read: (r) => r.uint32(), write: (w, v) => w.uint32(v as number) };
    case 'int64':
      return {
        read: (r) => r.int64(),
        write: (w, v) => w.int64(v as bigint | number),
      };
    case 'float64':
      return { read: (r) => r.float64(), write: (w, v) => w.float64(v as number) };
    case 'bool':
      return { read: (r) => r.bool(), write: (w, v) => w.bool(v as boolean) };
    case 'uuid':
      return { read: (r) => r.uuid(), write: (w, v) => w.uuid(v as string) };
    case 'string':
      if (flexible) {
        return nullable
          ? { read: (r) => r.compactNullableString(), write: (w, v) => w.compactNullableString(v as string | null) }
          : { read: (r) => r.compactString(), write: (w, v) => w.compactString(v as string) };
      }
      return nullable
        ? { read: (r) => r.nullableString(), write: (w, v) => w.nullableString(v as string | null) }
        : { read: (r) => r.string(), write: (w, v) => w.string(v as string) };
    case 'bytes':
      if (flexible) {
        return nullable
          ? { read: (r) => r.compactNullableBytes(), write: (w, v) => w.compactNullableBytes(v as Uint8Array | null) }
          : { read: (r) => r.compactBytes(), write: (w, v) => w.compactBytes(v as Uint8Array) };
      }
      return nullable
        ? { read: (r) => r.nullableBytes(), write: (w, v) => w.nullableBytes(v as Uint8Array | null) }
        : { read: (r) => r.bytes(), write: (w, v) => w.bytes(v as Uint8Array) };
    case 'records':
      return flexible
        ? { read: (r) => r.compactNullableBytes(), write: (w, v) => w.records(v as Buffer | null, true) }
        : { read: (r) => r.nullableBytes(), write: (w, v) => w.records(v as Buffer | null, false) };
  }
}

const EMPTY_BYTES: Buffer = Buffer.alloc(0);

function scalarZero(s: ArrayItemType | 'records'): unknown {
  switch (s) {
    case 'int64':
      return 0n;
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return EMPTY_BYTES;
    case 'uuid':
      return ZERO_UUID;
    case 'records':
      return null;
    default:
      return 0;
  }
}

/**
 * The default of `f` (see schema.ts): explicit default, else null when nullable, else the type's
 * zero. Arrays and structs get a fresh value per call so decoded objects never share them.
 */
function defaultFactory(f: AnyField, nullable: boolean, version: number): () => unknown {
  const explicit = f.default;
  if (explicit !== undefined && !(explicit === null && !nullable)) {
    if (Array.isArray(explicit)) return () => [...(explicit as unknown[])];
    return () => explicit;
  }
  if (nullable) return () => null;
  switch (f.type.kind) {
    case 'scalar': {
      const zero = scalarZero(f.type.scalar);
      return () => zero;
    }
    case 'array':
      return () => [];
    case 'struct': {
      const subs = f.type.fields.map((sub) => ({
        name: sub.name,
        make: defaultFactory(sub, version >= sub.nullableSince, version),
      }));
      return () => {
        const o: Obj = {};
        for (const sub of subs) o[sub.name] = sub.make();
        return o;
      };
    }
  }
}

/**
 * Whether a tagged field's value must be written: Kafka writes a tagged field only when it differs
 * from its default, so an omitted (undefined) or default value costs nothing on the wire, and a
 * decoded message re-encodes to the same bytes.
 */
function presence(makeDefault: () => unknown): (v: unknown) => boolean {
  const dflt = makeDefault();
  return (v) => v !== undefined && differs(v, dflt);
}

function differs(v: unknown, dflt: unknown): boolean {
  if (v === undefined || v === dflt) return false;
  if (v === null || dflt === null) return true;
  if (typeof dflt === 'bigint' && typeof v === 'number') return BigInt(v) !== dflt;
  if (Array.isArray(dflt)) return !Array.isArray(v) || v.length > 0 || dflt.length > 0;
  if (Buffer.isBuffer(dflt)) return (v as Uint8Array).length > 0 || dflt.length > 0;
  if (typeof dflt === 'object') {
    const o = v as Obj;
    for (const [k, d] of Object.entries(dflt as Obj)) if (differs(o[k], d)) return true;
    return false;
  }
  return true;
}
