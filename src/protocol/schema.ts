/**
 * The declarative schema DSL: one schema file per API lists its fields with the versions they
 * exist in, and compile.ts turns each (message, version) into specialised encode/decode closures.
 *
 * A field is built by a function named for its wire type:
 *
 *     int32('partitionIndex')                                   // every version
 *     int64('logStartOffset', { since: 5, default: -1n })       // v5+, -1 when absent
 *     string('transactionalId', { since: 3, nullableSince: 3 }) // v3+, nullable from v3
 *     array('topics', [string('name'), ...], { nullableSince: 1 })
 *     array('replicaNodes', 'int32')                            // array of a primitive
 *     struct('currentLeader', [...], { since: 10, tag: 0 })     // a tagged field, tag 0
 *
 * Options (all optional):
 * - `since` / `until`: first and last version the field exists in (inclusive; default all).
 * - `nullableSince`: from this version on the field may be null (strings, bytes, arrays). The
 *   wire encoding is the same either way; only the meaning of -1 / 0 changes.
 * - `default`: the value encode uses when the input omits the field, and decode reports when the
 *   field is not in the version (or a tagged field is not on the wire). Without one: null if the
 *   field is nullable in that version, else the type's zero (0, 0n, false, '', empty bytes, [],
 *   the zero UUID, a struct of defaults). This is Kafka's rule too, and lets handlers omit fields
 *   that older versions lack.
 * - `tag`: the field is a tagged field with this tag in every version it exists in; those versions
 *   must be flexible. Tagged fields equal to their default are not written.
 *
 * Each API is `defineApi({ apiKey, name, minVersion, maxVersion, flexibleFrom, request, response })`.
 * Kafka gives a request and its response the same version range and flexible versions, so one
 * `flexibleFrom` (first flexible version, null for never) serves both.
 *
 * The builders also carry TypeScript types: `Req<typeof produceApi>` is the decoded request object
 * and `ResInput<typeof produceApi>` what a handler passes to encode (every field optional).
 */
import type { RecordsValue } from './writer.js';

export type ScalarType =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records';

/** Primitive types an array may hold (records cannot be array elements). */
export type ArrayItemType = Exclude<ScalarType, 'records'>;

export type FieldType =
  | { readonly kind: 'scalar'; readonly scalar: ScalarType }
  | { readonly kind: 'array'; readonly items: ArrayItemType | readonly AnyField[] }
  | { readonly kind: 'struct'; readonly fields: readonly AnyField[] };

export interface FieldOptions {
  since?: number;
  until?: number;
  default?: unknown;
  tag?: number;
}

export interface NullableOptions extends FieldOptions {
  nullableSince: number;
}

/**
 * A field definition. `D` is its decoded TypeScript type, `E` what encode accepts; both exist only
 * for type inference (the `__decoded` / `__encoded` members are never set).
 */
export interface Field<N extends string = string, D = unknown, E = unknown> {
  readonly name: N;
  readonly type: FieldType;
  readonly since: number;
  /** Last version, inclusive; Infinity when the field never goes away. */
  readonly until: number;
  /** First nullable version; Infinity when never nullable. */
  readonly nullableSince: number;
  /** Explicit default, or undefined for the type's zero. */
  readonly default: unknown;
  readonly tag: number | undefined;
  readonly __decoded?: D;
  readonly __encoded?: E;
}

export type AnyField = Field<string, unknown, unknown>;

type DecodedOf<F> = F extends Field<string, infer D, unknown> ? D : never;
type EncodedOf<F> = F extends Field<string, unknown, infer E> ? E : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The decoded object for a list of fields: every field present (defaults filled). */
export type Decoded<F extends readonly AnyField[]> = Simplify<{
  -readonly [K in F[number] as K['name']]: DecodedOf<K>;
}>;

/** What encode accepts for a list of fields: every field optional (defaults filled). */
export type Encoded<F extends readonly AnyField[]> = Simplify<{
  -readonly [K in F[number] as K['name']]?: EncodedOf<K>;
}>;

interface ScalarDecoded {
  int8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: bigint;
  float64: number;
  bool: boolean;
  string: string;
  bytes: Buffer;
  uuid: string;
}

interface ScalarEncoded {
  int8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: bigint | number;
  float64: number;
  bool: boolean;
  string: string;
  bytes: Uint8Array;
  uuid: string;
}

function field<N extends string, D, E>(name: N, type: FieldType, o: FieldOptions | undefined): Field<N, D, E> {
  const opts: Partial<NullableOptions> = o ?? {};
  const since = opts.since ?? 0;
  const until = opts.until ?? Infinity;
  if (until < since) throw new Error(`field ${name}: until ${until} < since ${since}`);
  return {
    name,
    type,
    since,
    until,
    nullableSince: opts.nullableSince ?? Infinity,
    default: opts.default,
    tag: opts.tag,
  };
}

function scalar<S extends ScalarType>(s: S): FieldType {
  return { kind: 'scalar', scalar: s };
}

export function int8<N extends string>(name: N, o?: FieldOptions): Field<N, number, number> {
  return field(name, scalar('int8'), o);
}

export function int16<N extends string>(name: N, o?: FieldOptions): Field<N, number, number> {
  return field(name, scalar('int16'), o);
}

export function uint16<N extends string>(name: N, o?: FieldOptions): Field<N, number, number> {
  return field(name, scalar('uint16'), o);
}

export function int32<N extends string>(name: N, o?: FieldOptions): Field<N, number, number> {
  return field(name, scalar('int32'), o);
}

export function uint32<N extends string>(name: N, o?: FieldOptions): Field<N, number, number> {
  return field(name, scalar('uint32'), o);
}

/** INT64: decoded as bigint; encode also accepts a (safe) integer number. */
export function int64<N extends string>(name: N, o?: FieldOptions): Field<N, bigint, bigint | number> {
  const opts = o && typeof o.default === 'number' ? { ...o, default: BigInt(o.default) } : o;
  return field(name, scalar('int64'), opts);
}

export function float64<N extends string>(name: N, o?: FieldOptions): Field<N, number, number> {
  return field(name, scalar('float64'), o);
}

export function bool<N extends string>(name: N, o?: FieldOptions): Field<N, boolean, boolean> {
  return field(name, scalar('bool'), o);
}

/** UUID as a canonical lowercase string (see uuid.ts). */
export function uuid<N extends string>(name: N, o?: FieldOptions): Field<N, string, string> {
  return field(name, scalar('uuid'), o);
}

export function string<N extends string>(name: N, o: NullableOptions): Field<N, string | null, string | null>;
export function string<N extends string>(name: N, o?: FieldOptions): Field<N, string, string>;
export function string<N extends string>(name: N, o?: FieldOptions): Field<N, unknown, unknown> {
  return field(name, scalar('string'), o);
}

/** BYTES: decoded as a zero-copy view into the request buffer. */
export function bytes<N extends string>(name: N, o: NullableOptions): Field<N, Buffer | null, Uint8Array | null>;
export function bytes<N extends string>(name: N, o?: FieldOptions): Field<N, Buffer, Uint8Array>;
export function bytes<N extends string>(name: N, o?: FieldOptions): Field<N, unknown, unknown> {
  return field(name, scalar('bytes'), o);
}

/**
 * RECORDS: nullable bytes the codec never parses. Decoded as a zero-copy Buffer view; encoded from
 * a Buffer or from chunks that may include external (sendfile) chunks, see writer.ts.
 */
export function records<N extends string>(
  name: N,
  o?: FieldOptions,
): Field<N, Buffer | null, RecordsValue | null> {
  const opts: NullableOptions = { nullableSince: 0, ...o };
  return field(name, scalar('records'), opts);
}

type ItemDecoded<T> = T extends ArrayItemType
  ? ScalarDecoded[T]
  : T extends readonly AnyField[]
    ? Decoded<T>
    : never;
type ItemEncoded<T> = T extends ArrayItemType
  ? ScalarEncoded[T]
  : T extends readonly AnyField[]
    ? Encoded<T>
    : never;

/** ARRAY of structs (a list of fields) or of a primitive type. */
export function array<N extends string, const T extends ArrayItemType | readonly AnyField[]>(
  name: N,
  items: T,
  o: NullableOptions,
): Field<N, ItemDecoded<T>[] | null, ItemEncoded<T>[] | null>;
export function array<N extends string, const T extends ArrayItemType | readonly AnyField[]>(
  name: N,
  items: T,
  o?: FieldOptions,
): Field<N, ItemDecoded<T>[], ItemEncoded<T>[]>;
export function array<N extends string>(
  name: N,
  items: ArrayItemType | readonly AnyField[],
  o?: FieldOptions,
): Field<N, unknown, unknown> {
  return field(name, { kind: 'array', items }, o);
}

/** A single nested struct (in the APIs we cover, always a tagged field). Not nullable. */
export function struct<N extends string, const F extends readonly AnyField[]>(
  name: N,
  fields: F,
  o?: FieldOptions,
): Field<N, Decoded<F>, Encoded<F>> {
  return field(name, { kind: 'struct', fields }, o);
}

/** One direction (request or response) of an API. */
export interface MessageSchema<D = unknown, E = unknown> {
  readonly apiKey: number;
  /** e.g. 'ProduceRequest' */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly flexibleFrom: number | null;
  readonly fields: readonly AnyField[];
  /** Compiled codecs by version, filled lazily by compile.ts. */
  readonly codecs: unknown[];
  readonly __decoded?: D;
  readonly __encoded?: E;
}

export interface ApiSchema<ReqD = unknown, ReqE = unknown, ResD = unknown, ResE = unknown> {
  readonly apiKey: number;
  /** e.g. 'Produce' */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly flexibleFrom: number | null;
  readonly request: MessageSchema<ReqD, ReqE>;
  readonly response: MessageSchema<ResD, ResE>;
}

/** Any API, whatever its message types (for registries). */
export type AnyApi = ApiSchema;

/** Decoded request of an API. */
export type Req<A> = A extends ApiSchema<infer D, unknown, unknown, unknown> ? D : never;
/** Request as accepted by encode. */
export type ReqInput<A> = A extends ApiSchema<unknown, infer E, unknown, unknown> ? E : never;
/** Decoded response of an API. */
export type Res<A> = A extends ApiSchema<unknown, unknown, infer D, unknown> ? D : never;
/** Response as accepted by encode. */
export type ResInput<A> = A extends ApiSchema<unknown, unknown, unknown, infer E> ? E : never;

export interface ApiDefinition<Rq extends readonly AnyField[], Rs extends readonly AnyField[]> {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  flexibleFrom: number | null;
  request: Rq;
  response: Rs;
}

export function defineApi<const Rq extends readonly AnyField[], const Rs extends readonly AnyField[]>(
  def: ApiDefinition<Rq, Rs>,
): ApiSchema<Decoded<Rq>, Encoded<Rq>, Decoded<Rs>, Encoded<Rs>> {
  const message = (kind: 'Request' | 'Response', fields: readonly AnyField[]): MessageSchema => ({
    apiKey: def.apiKey,
    name: def.name + kind,
    minVersion: def.minVersion,
    maxVersion: def.maxVersion,
    flexibleFrom: def.flexibleFrom,
    fields,
    codecs: [],
  });
  return {
    apiKey: def.apiKey,
    name: def.name,
    minVersion: def.minVersion,
    maxVersion: def.maxVersion,
    flexibleFrom: def.flexibleFrom,
    request: message('Request', def.request),
    response: message('Response', def.response),
  } as ApiSchema<Decoded<Rq>, Encoded<Rq>, Decoded<Rs>, Encoded<Rs>>;
}

export function isFlexible(schema: { readonly flexibleFrom: number | null }, version: number): boolean {
  return schema.flexibleFrom !== null && version >= schema.flexibleFrom;
}
