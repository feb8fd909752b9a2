/**
 * Control messages of `/ws/v1` (docs/websocket.md, "Control messages"): JSON text frames from the
 * client, parsed and validated into typed messages before the gateway acts on them.
 *
 * Two kinds of failure, because they end differently:
 * - ProtocolViolation: not JSON, not an object, or no string `op`. The client is not speaking the
 *   protocol; the gateway closes with 4400.
 * - BadRequest: a well-formed message with an unknown op or an invalid field. The gateway answers
 *   `{"op":"error","id":…,"code":"BAD_REQUEST","message":…}` and the socket stays open.
 * Unknown fields are ignored, so clients can send newer fields to older brokers.
 *
 * Defaults the protocol documents are filled in here so the gateway has one place for them:
 * `from` (`latest` for live, `committed` for group, `earliest` for assign), `policy` (`skip` for
 * live, `wait` otherwise) and `encoding` (`utf8`). Credit defaults are broker settings, so an
 * absent `credit` stays absent; an absent `isolation` stays absent too and means read_committed
 * (Subscription).
 */
import type { RecordHeader } from '../native/records.js';
import { type CursorTopic, CursorError, decodeCursor } from './cursor.js';
import type { ValueEncoding } from './frames.js';
import type { Isolation } from './reader.js';

export type RequestId = string | number;
export type SubMode = 'live' | 'assign' | 'group';
export type SlowConsumerPolicy = 'wait' | 'close' | 'conflate' | 'skip';
export type Acks = 0 | 1 | -1;

/** Where a subscription starts reading. */
export type StartPosition =
  | { kind: 'earliest' | 'latest' | 'committed' }
  | { kind: 'offsets'; offsets: Map<number, number> }
  | { kind: 'timestamp'; timestamp: number }
  /** `decoded` is the cursor's content, already validated. */
  | { kind: 'cursor'; cursor: string; decoded: CursorTopic[] };

/** Every present condition must hold. Header values compare as UTF-8 text. */
export interface RecordFilter {
  key?: string;
  keyPrefix?: string;
  headers?: Record<string, string>;
}

export interface Credit {
  records: number;
  bytes: number;
}

export interface HelloMsg {
  op: 'hello';
  id?: RequestId;
  session: string;
}

export interface SubMsg {
  op: 'sub';
  id?: RequestId;
  /** From `topic` or `topics`: at least one, no repeats, in the client's order (frames index it). */
  topics: string[];
  /** Absent: every partition. Never present in group mode. */
  partitions?: number[];
  mode: SubMode;
  from: StartPosition;
  /** Required in group mode; optional in assign mode (commits and `committed`); never in live mode. */
  group?: string;
  filter?: RecordFilter;
  credit?: Credit;
  policy: SlowConsumerPolicy;
  encoding: ValueEncoding;
  /** read_committed (absent: the default): transactions' records once committed, never aborted ones; read_uncommitted: all data records. */
  isolation?: Isolation;
}

export interface UnsubMsg {
  op: 'unsub';
  id?: RequestId;
  sub: number;
}

export interface CreditMsg {
  op: 'credit';
  id?: RequestId;
  sub: number;
  records: number;
  bytes: number;
}

export interface AckMsg {
  op: 'ack';
  id?: RequestId;
  sub: number;
  topic?: string;
  partition: number;
  /** The next offset to read (Kafka's commit convention). */
  offset: number;
}

export interface PubMsg {
  op: 'pub';
  id?: RequestId;
  topic: string;
  key: Buffer | null;
  /** null: a tombstone. */
  value: Buffer | null;
  headers: RecordHeader[];
  partition?: number;
  acks?: Acks;
  encoding: ValueEncoding;
}

export interface AuthMsg {
  op: 'auth';
  id?: RequestId;
  token: string;
}

export type ControlMessage = HelloMsg | SubMsg | UnsubMsg | CreditMsg | AckMsg | PubMsg | AuthMsg;

/** Not the protocol at all (not JSON, not an object, no string `op`): close 4400. */
export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}

/**
 * JSON whose strings are not valid Unicode (a lone surrogate written as a \u escape): it would
 * reach UTF-8 (topic names, keys, values, headers) as U+FFFD, silently altered, so the gateway
 * closes with 1007 instead. (Invalid UTF-8 bytes never get here: uWebSockets.js checks text
 * frames itself and drops such a connection, which the client sees as 1006.)
 */
export class InvalidUnicode extends ProtocolViolation {}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A well-formed message with invalid content: answered with a BAD_REQUEST error carrying `id`. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
  constructor(
    readonly id: RequestId | undefined,
    message: string,
  ) {
    super(message);
  }
}

const MAX_PARTITION = 0x7fff_ffff;
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
const MAX_CREDIT = 2 ** 31;
const MAX_SUB_ID = 0xffff_ffff;
const MAX_TOPIC_CHARS = 249;
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
/** Session ids, group ids and tokens: bounded so one message cannot make the broker hold megabytes. */
const MAX_NAME_CHARS = 255;
const MAX_TOKEN_CHARS = 8192;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Json = Record<string, unknown>;

/** Field validation for one message; every failure is a BadRequest carrying the message's id. */
class Fields {
  constructor(
    readonly msg: Json,
    readonly id: RequestId | undefined,
  ) {}

  fail(message: string): never {
    throw new BadRequest(this.id, message);
  }

  has(name: string): boolean {
    return this.msg[name] !== undefined;
  }

  string(name: string, maxChars: number, value: unknown = this.msg[name]): string {
    if (typeof value !== 'string') this.fail(`${name} must be a string`);
    if (value.length === 0) this.fail(`${name} must not be empty`);
    if (value.length > maxChars) this.fail(`${name} is longer than ${maxChars} characters`);
    return value;
  }

  integer(name: string, min: number, max: number, value: unknown = this.msg[name]): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(`${name} must be an integer in ${min}..${max === MAX_OFFSET ? '2^53-1' : max}`);
    }
    return value;
  }

  topic(name: string, value: unknown = this.msg[name]): string {
    const topic = this.string(name, MAX_TOPIC_CHARS, value);
    if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
      this.fail(`${name} ${JSON.stringify(topic)} is not a legal topic name (letters, digits, '.', '_', '-')`);
    }
    return topic;
  }

  partition(name: string, value: unknown = this.msg[name]): number {
    return this.integer(name, 0, MAX_PARTITION, value);
  }

  subId(): number {
    return this.integer('sub', 0, MAX_SUB_ID);
  }

  object(name: string, value: unknown = this.msg[name]): Json {
    if (!isObject(value)) this.fail(`${name} must be an object`);
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.msg[name];
    if (value === undefined) return undefined;
    if (!allowed.includes(value as T)) this.fail(`${name} must be one of ${allowed.join(', ')}`);
    return value as T;
  }

  credit(name: string, value: unknown): number {
    return this.integer(name, 1, MAX_CREDIT, value);
  }

  encoding(): ValueEncoding {
    return this.oneOf('encoding', ['utf8', 'base64'] as const) ?? 'utf8';
  }

  /** A key, value or header value in `encoding`; null stays null. */
  payload(name: string, value: unknown, encoding: ValueEncoding): Buffer | null {
    if (value === null) return null;
    if (typeof value !== 'string') this.fail(`${name} must be a string or null`);
    if (encoding === 'utf8') return Buffer.from(value, 'utf8');
    // Buffer's base64 decoder skips what it does not understand; refuse instead of guessing.
    if (!BASE64.test(value) || value.length % 4 !== 0) this.fail(`${name} is not base64`);
    return Buffer.from(value, 'base64');
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseHello(f: Fields): HelloMsg {
  return { op: 'hello', id: f.id, session: f.string('session', MAX_NAME_CHARS) };
}

function parseTopics(f: Fields): string[] {
  if (f.has('topic') && f.has('topics')) f.fail('give topic or topics, not both');
  if (f.has('topic')) return [f.topic('topic')];
  const list = f.msg.topics;
  if (!Array.isArray(list)) f.fail('sub needs topic (a string) or topics (an array of strings)');
  if (list.length === 0) f.fail('topics must not be empty');
  const topics = list.map((t, i) => f.topic(`topics[${i}]`, t));
  if (new Set(topics).size !== topics.length) f.fail('topics has a repeated topic');
  return topics;
}

function parsePartitions(f: Fields): number[] | undefined {
  const list = f.msg.partitions;
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) f.fail('partitions must be an array of numbers');
  const partitions = list.map((p, i) => f.partition(`partitions[${i}]`, p));
  if (new Set(partitions).size !== partitions.length) f.fail('partitions has a repeated partition');
  return partitions;
}

function parseFrom(f: Fields, mode: SubMode): StartPosition {
  const from = f.msg.from;
  if (from === undefined) return { kind: mode === 'live' ? 'latest' : mode === 'group' ? 'committed' : 'earliest' };
  if (from === 'earliest' || from === 'latest' || from === 'committed') {
    if (from === 'committed' && mode === 'live') f.fail('from "committed" needs mode "group", or "assign" with a group');
    return { kind: from };
  }
  if (!isObject(from)) f.fail('from must be "earliest", "latest", "committed" or an object');
  const forms = ['offsets', 'timestamp', 'cursor'].filter((k) => from[k] !== undefined);
  if (forms.length !== 1) f.fail('from must have exactly one of offsets, timestamp, cursor');
  if (from.offsets !== undefined) {
    const offsets = new Map<number, number>();
    for (const [p, offset] of Object.entries(f.object('from.offsets', from.offsets))) {
      if (!/^(0|[1-9][0-9]*)$/.test(p)) f.fail(`from.offsets key ${JSON.stringify(p)} is not a partition number`);
      const partition = f.partition(`from.offsets key ${p}`, Number(p));
      offsets.set(partition, f.integer(`from.offsets["${p}"]`, 0, MAX_OFFSET, offset));
    }
    if (offsets.size === 0) f.fail('from.offsets must not be empty');
    return { kind: 'offsets', offsets };
  }
  if (from.timestamp !== undefined) {
    return { kind: 'timestamp', timestamp: f.integer('from.timestamp', 0, MAX_OFFSET, from.timestamp) };
  }
  const cursor = from.cursor;
  if (typeof cursor !== 'string') f.fail('from.cursor must be a string');
  try {
    return { kind: 'cursor', cursor, decoded: decodeCursor(cursor) };
  } catch (err) {
    if (err instanceof CursorError) f.fail(`from.cursor: ${err.message}`);
    throw err;
  }
}

function parseFilter(f: Fields): RecordFilter | undefined {
  if (!f.has('filter')) return undefined;
  const raw = f.object('filter');
  const filter: RecordFilter = {};
  if (raw.key !== undefined) {
    if (typeof raw.key !== 'string') f.fail('filter.key must be a string');
    filter.key = raw.key;
  }
  if (raw.keyPrefix !== undefined) {
    if (typeof raw.keyPrefix !== 'string') f.fail('filter.keyPrefix must be a string');
    filter.keyPrefix = raw.keyPrefix;
  }
  if (raw.headers !== undefined) {
    const entries = Object.entries(f.object('filter.headers', raw.headers));
    for (const [name, value] of entries) {
      if (typeof value !== 'string') f.fail(`filter.headers[${JSON.stringify(name)}] must be a string`);
    }
    // fromEntries defines own properties, so a header named "__proto__" stays a header.
    filter.headers = Object.fromEntries(entries) as Record<string, string>;
  }
  return filter;
}

function parseSub(f: Fields): SubMsg {
  const topics = parseTopics(f);
  const mode = f.oneOf('mode', ['live', 'assign', 'group'] as const);
  if (mode === undefined) f.fail('sub needs mode: live, assign or group');
  let group: string | undefined;
  // assign mode may name a group too: it starts from the group's commits and acks commit to it,
  // as a Kafka consumer using assign() with a group.id does (generation -1).
  if (mode === 'group') group = f.string('group', MAX_NAME_CHARS);
  else if (mode === 'assign' && f.has('group')) group = f.string('group', MAX_NAME_CHARS);
  else if (f.has('group')) f.fail('group is only for modes "group" and "assign", not "live"');
  const partitions = parsePartitions(f);
  if (mode === 'group' && partitions !== undefined) f.fail('partitions cannot be chosen in mode "group": the group assigns them');
  const msg: SubMsg = {
    op: 'sub',
    id: f.id,
    topics,
    mode,
    from: parseFrom(f, mode),
    policy: f.oneOf('policy', ['wait', 'close', 'conflate', 'skip'] as const) ?? (mode === 'live' ? 'skip' : 'wait'),
    encoding: f.encoding(),
  };
  const isolation = f.oneOf('isolation', ['read_committed', 'read_uncommitted'] as const);
  if (isolation !== undefined) msg.isolation = isolation;
  if (partitions !== undefined) msg.partitions = partitions;
  if (group !== undefined) msg.group = group;
  const filter = parseFilter(f);
  if (filter !== undefined) msg.filter = filter;
  if (f.has('credit')) {
    const credit = f.object('credit');
    msg.credit = { records: f.credit('credit.records', credit.records), bytes: f.credit('credit.bytes', credit.bytes) };
  }
  return msg;
}

function parseUnsub(f: Fields): UnsubMsg {
  return { op: 'unsub', id: f.id, sub: f.subId() };
}

function parseCredit(f: Fields): CreditMsg {
  return {
    op: 'credit',
    id: f.id,
    sub: f.subId(),
    records: f.credit('records', f.msg.records),
    bytes: f.credit('bytes', f.msg.bytes),
  };
}

function parseAck(f: Fields): AckMsg {
  const msg: AckMsg = {
    op: 'ack',
    id: f.id,
    sub: f.subId(),
    partition: f.partition('partition'),
    offset: f.integer('offset', 0, MAX_OFFSET),
  };
  if (f.has('topic')) msg.topic = f.topic('topic');
  return msg;
}

function parsePub(f: Fields): PubMsg {
  const topic = f.topic('topic');
  const encoding = f.encoding();
  if (!('value' in f.msg)) f.fail('pub needs value (null for a tombstone)');
  const value = f.payload('value', f.msg.value, encoding);
  const key = f.has('key') ? f.payload('key', f.msg.key, encoding) : null;
  const headers: RecordHeader[] = [];
  if (f.has('headers')) {
    for (const [name, v] of Object.entries(f.object('headers'))) {
      headers.push({ key: name, value: f.payload(`headers[${JSON.stringify(name)}]`, v, encoding) });
    }
  }
  const msg: PubMsg = { op: 'pub', id: f.id, topic, key, value, headers, encoding };
  if (f.has('partition')) msg.partition = f.partition('partition');
  if (f.has('acks')) {
    const acks = f.msg.acks;
    if (acks !== 0 && acks !== 1 && acks !== -1) f.fail('acks must be 0, 1 or -1');
    msg.acks = acks;
  }
  return msg;
}

function parseAuth(f: Fields): AuthMsg {
  return { op: 'auth', id: f.id, token: f.string('token', MAX_TOKEN_CHARS) };
}

const parsers: Record<ControlMessage['op'], (f: Fields) => ControlMessage> = {
  hello: parseHello,
  sub: parseSub,
  unsub: parseUnsub,
  credit: parseCredit,
  ack: parseAck,
  pub: parsePub,
  auth: parseAuth,
};

/**
 * Parses one control message (the text of a text frame). Throws ProtocolViolation when the text is
 * not a JSON object with a string `op`, BadRequest (with the message's `id` when it had a valid
 * one) for an unknown op or an invalid field.
 */
export function parseControl(text: string): ControlMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text, (_key, value: unknown) => {
      if (typeof value === 'string' && LONE_SURROGATE.test(value)) throw new InvalidUnicode('a string in the control message is not valid Unicode (lone surrogate)');
      return value;
    });
  } catch (e) {
    if (e instanceof InvalidUnicode) throw e;
    throw new ProtocolViolation('control message is not JSON');
  }
  if (!isObject(raw)) throw new ProtocolViolation('control message is not a JSON object');
  const op = raw.op;
  if (typeof op !== 'string') throw new ProtocolViolation('control message has no string op');
  const rawId = raw.id;
  let id: RequestId | undefined;
  if (typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId))) id = rawId;
  else if (rawId !== undefined) throw new BadRequest(undefined, 'id must be a string or a number');
  const parse = Object.hasOwn(parsers, op) ? parsers[op as ControlMessage['op']] : undefined;
  if (parse === undefined) throw new BadRequest(id, `unknown op ${JSON.stringify(op)}`);
  const msg = parse(new Fields(raw, id));
  if (id === undefined) delete msg.id;
  return msg;
}
