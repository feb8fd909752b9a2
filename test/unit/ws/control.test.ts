import { describe, expect, it } from 'vitest';
import {
  BadRequest,
  type ControlMessage,
  parseControl,
  ProtocolViolation,
  type PubMsg,
  type SubMsg,
} from '../../../src/ws/control.js';
import { encodeCursor } from '../../../src/ws/cursor.js';
import { mulberry32 } from '../../prng.js';

const parse = (msg: unknown): ControlMessage => parseControl(JSON.stringify(msg));
const sub = (fields: Record<string, unknown>): SubMsg => parse({ op: 'sub', ...fields }) as SubMsg;
const pub = (fields: Record<string, unknown>): PubMsg => parse({ op: 'pub', topic: 't', ...fields }) as PubMsg;

/** The BadRequest `fn` throws, or a failed expectation. */
function badRequest(fn: () => unknown): BadRequest {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadRequest) return err;
    throw err;
  }
  throw new Error('expected a BadRequest');
}


describe('protocol violations (close 4400)', () => {
  it('refuses text that is not a JSON object with a string op', () => {
    for (const text of ['', 'not json', '{', '[]', '[{"op":"sub"}]', 'null', '42', '"sub"', '{}', '{"op":1}', '{"op":null}', '{"id":1}']) {
      expect(() => parseControl(text), text).toThrow(ProtocolViolation);
    }
  });
});

describe('bad requests (error reply, socket stays open)', () => {
  it('names an unknown op and carries the id', () => {
    const err = badRequest(() => parse({ op: 'subscribe', id: 'a1' }));
    expect(err.id).toBe('a1');
    expect(err.message).toContain('"subscribe"');
    expect(badRequest(() => parse({ op: 'toString', id: 3 })).id).toBe(3); // no prototype lookups
  });

  it('refuses an id that is neither a string nor a number', () => {
    for (const id of [null, true, { a: 1 }, [1]]) {
      const err = badRequest(() => parse({ op: 'unsub', id, sub: 1 }));
      expect(err.id).toBeUndefined();
      expect(err.message).toMatch(/id/);
    }
  });
});

describe('hello, auth, unsub, credit', () => {
  it('parses valid messages and leaves out an absent id', () => {
    expect(parse({ op: 'hello', session: 's-1', id: 1 })).toEqual({ op: 'hello', id: 1, session: 's-1' });
    expect(parse({ op: 'auth', token: 'abc' })).toEqual({ op: 'auth', token: 'abc' });
    expect('id' in parse({ op: 'auth', token: 'abc' })).toBe(false);
    expect(parse({ op: 'unsub', sub: 4, extra: 'ignored' })).toEqual({ op: 'unsub', sub: 4 });
    expect(parse({ op: 'credit', sub: 1, records: 500, bytes: 2 ** 31 })).toEqual({ op: 'credit', sub: 1, records: 500, bytes: 2 ** 31 });
  });

  it('validates their fields', () => {
    const bad: unknown[] = [
      { op: 'hello' },
      { op: 'hello', session: '' },
      { op: 'hello', session: 7 },
      { op: 'auth', token: null },
      { op: 'unsub', sub: -1 },
      { op: 'unsub', sub: 1.5 },
      { op: 'unsub', sub: '1' },
      { op: 'credit', sub: 1, records: 0, bytes: 10 },
      { op: 'credit', sub: 1, records: 10, bytes: 2 ** 31 + 1 },
      { op: 'credit', sub: 1, records: 10 },
    ];
    for (const msg of bad) expect(() => parse(msg), JSON.stringify(msg)).toThrow(BadRequest);
  });
});

describe('ack', () => {
  it('parses partition and next offset, topic optional', () => {
    expect(parse({ op: 'ack', sub: 1, partition: 0, offset: 2 ** 53 - 1 })).toEqual({ op: 'ack', sub: 1, partition: 0, offset: 2 ** 53 - 1 });
    expect(parse({ op: 'ack', sub: 1, topic: 'a.b_c-1', partition: 2 ** 31 - 1, offset: 0, id: 'x' })).toEqual({
      op: 'ack',
      id: 'x',
      sub: 1,
      topic: 'a.b_c-1',
      partition: 2 ** 31 - 1,
      offset: 0,
    });
  });

  it('refuses out-of-range partitions and offsets', () => {
    for (const [partition, offset] of [[-1, 0], [2 ** 31, 0], [0, -1], [0, 2 ** 53], [0, 1.5], [0, '5']]) {
      expect(() => parse({ op: 'ack', sub: 1, partition, offset })).toThrow(BadRequest);
    }
  });
});

describe('sub', () => {
  it('normalises topic/topics and fills the documented defaults per mode', () => {
    expect(sub({ topic: 'orders', mode: 'live' })).toEqual({
      op: 'sub',
      topics: ['orders'],
      mode: 'live',
      from: { kind: 'latest' },
      policy: 'skip',
      encoding: 'utf8',
    });
    const assign = sub({ topics: ['a', 'b'], mode: 'assign', partitions: [0, 2] });
    expect([assign.topics, assign.partitions, assign.from, assign.policy]).toEqual([['a', 'b'], [0, 2], { kind: 'earliest' }, 'wait']);
    const group = sub({ topic: 'a', mode: 'group', group: 'g1' });
    expect([group.group, group.from, group.policy]).toEqual(['g1', { kind: 'committed' }, 'wait']);
  });

  it('parses every form of from', () => {
    expect(sub({ topic: 't', mode: 'assign', from: 'latest' }).from).toEqual({ kind: 'latest' });
    expect(sub({ topic: 't', mode: 'group', group: 'g', from: 'committed' }).from).toEqual({ kind: 'committed' });
    expect(sub({ topic: 't', mode: 'assign', from: { offsets: { '0': 5, '12': 2 ** 53 - 1 } } }).from).toEqual({
      kind: 'offsets',
      offsets: new Map([[0, 5], [12, 2 ** 53 - 1]]),
    });
    expect(sub({ topic: 't', mode: 'live', from: { timestamp: 1733400000000 } }).from).toEqual({ kind: 'timestamp', timestamp: 1733400000000 });
    const topicId = 'a1b2c3d4-0000-4000-8000-000000000001';
    const cursor = encodeCursor([{ topicId, next: new Map([[0, 9]]) }]);
    expect(sub({ topic: 't', mode: 'assign', from: { cursor } }).from).toEqual({
      kind: 'cursor',
      cursor,
      decoded: [{ topicId, next: new Map([[0, 9]]) }],
    });
  });

  it('parses filter, credit, policy and encoding', () => {
    // Raw text: an object literal would treat __proto__ as the prototype, not a header name.
    const s = parseControl(
      '{"op":"sub","topic":"t","mode":"live","filter":{"key":"k","keyPrefix":"p","headers":{"type":"order","__proto__":"x"}},' +
        '"credit":{"records":10,"bytes":1024},"policy":"conflate","encoding":"base64"}',
    ) as SubMsg;
    const headers = s.filter!.headers!;
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([['type', 'order'], ['__proto__', 'x']]);
    expect([s.filter!.key, s.filter!.keyPrefix]).toEqual(['k', 'p']);
    expect([s.credit, s.policy, s.encoding]).toEqual([{ records: 10, bytes: 1024 }, 'conflate', 'base64']);
  });

  it('refuses invalid subscriptions with a message naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ topic: 't' }, /mode/],
      [{ topic: 't', mode: 'push' }, /mode/],
      [{ mode: 'live' }, /topic/],
      [{ topic: 't', topics: ['u'], mode: 'live' }, /not both/],
      [{ topics: [], mode: 'live' }, /empty/],
      [{ topics: ['a', 'a'], mode: 'live' }, /repeated/],
      [{ topics: 'a', mode: 'live' }, /topics/],
      [{ topic: 'bad topic', mode: 'live' }, /legal topic/],
      [{ topic: 'x'.repeat(250), mode: 'live' }, /249/],
      [{ topic: '..', mode: 'live' }, /legal topic/],
      [{ topic: 't', mode: 'group' }, /group/],
      [{ topic: 't', mode: 'live', group: 'g' }, /group/],
      [{ topic: 't', mode: 'group', group: 'g', partitions: [0] }, /partitions/],
      [{ topic: 't', mode: 'assign', partitions: [0, 0] }, /repeated/],
      [{ topic: 't', mode: 'assign', partitions: [-1] }, /partitions\[0\]/],
      [{ topic: 't', mode: 'assign', partitions: 0 }, /partitions/],
      [{ topic: 't', mode: 'live', from: 'committed' }, /committed/],
      [{ topic: 't', mode: 'live', from: 'oldest' }, /from/],
      [{ topic: 't', mode: 'live', from: {} }, /exactly one/],
      [{ topic: 't', mode: 'live', from: { timestamp: 1, cursor: 'AQ' } }, /exactly one/],
      [{ topic: 't', mode: 'live', from: { offsets: { a: 1 } } }, /partition number/],
      [{ topic: 't', mode: 'live', from: { offsets: { '01': 1 } } }, /partition number/],
      [{ topic: 't', mode: 'live', from: { offsets: { '2147483648': 1 } } }, /from.offsets/],
      [{ topic: 't', mode: 'live', from: { offsets: { '0': 2 ** 53 } } }, /from.offsets/],
      [{ topic: 't', mode: 'live', from: { offsets: {} } }, /empty/],
      [{ topic: 't', mode: 'live', from: { timestamp: -5 } }, /timestamp/],
      [{ topic: 't', mode: 'live', from: { cursor: 'AR' } }, /from.cursor/],
      [{ topic: 't', mode: 'live', from: { cursor: 5 } }, /from.cursor/],
      [{ topic: 't', mode: 'live', filter: 'k' }, /filter/],
      [{ topic: 't', mode: 'live', filter: { key: 1 } }, /filter.key/],
      [{ topic: 't', mode: 'live', filter: { headers: { a: 1 } } }, /filter.headers/],
      [{ topic: 't', mode: 'live', credit: { records: 10 } }, /credit.bytes/],
      [{ topic: 't', mode: 'live', credit: { records: 0, bytes: 1 } }, /credit.records/],
      [{ topic: 't', mode: 'live', policy: 'drop' }, /policy/],
      [{ topic: 't', mode: 'live', encoding: 'hex' }, /encoding/],
    ];
    for (const [fields, message] of cases) {
      const err = badRequest(() => sub({ id: 9, ...fields }));
      expect(err.message, JSON.stringify(fields)).toMatch(message);
      expect(err.id).toBe(9);
    }
  });
});

describe('pub', () => {
  it('decodes utf8 key, value and headers into Buffers', () => {
    expect(pub({ key: 'k', value: 'v', headers: { h: 'x', gone: null }, partition: 3, acks: -1 })).toEqual({
      op: 'pub',
      topic: 't',
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: [
        { key: 'h', value: Buffer.from('x') },
        { key: 'gone', value: null },
      ],
      partition: 3,
      acks: -1,
      encoding: 'utf8',
    });
  });

  it('takes a null value as a tombstone and a missing key as null', () => {
    const m = pub({ value: null });
    expect([m.key, m.value, m.headers]).toEqual([null, null, []]);
  });

  it('decodes base64 when asked and refuses what is not base64', () => {
    const m = pub({ key: 'AP8=', value: 'gA==', headers: { b: 'AQ==' }, encoding: 'base64' });
    expect([m.key, m.value, m.headers[0]!.value]).toEqual([Buffer.from([0, 255]), Buffer.from([128]), Buffer.from([1])]);
    expect(() => pub({ value: 'not base64!', encoding: 'base64' })).toThrow(/value is not base64/);
    expect(() => pub({ value: 'AP8', encoding: 'base64' })).toThrow(BadRequest);
  });

  it('validates its fields', () => {
    const bad: Record<string, unknown>[] = [
      {},
      { value: 5 },
      { value: 'v', key: 5 },
      { value: 'v', headers: { a: 1 } },
      { value: 'v', headers: ['a'] },
      { value: 'v', acks: 2 },
      { value: 'v', acks: '1' },
      { value: 'v', partition: -1 },
      { value: 'v', topic: 'no/slash' },
    ];
    for (const fields of bad) expect(() => pub(fields), JSON.stringify(fields)).toThrow(BadRequest);
  });
});

describe('fuzz', () => {
  it('throws only ProtocolViolation or BadRequest on 10,000 mutated and random messages', () => {
    const seeds = [
      { op: 'sub', id: 1, topics: ['a', 'b'], mode: 'assign', partitions: [0, 1], from: { offsets: { '0': 5 } }, filter: { key: 'k', headers: { h: 'v' } }, credit: { records: 1, bytes: 2 } },
      { op: 'sub', topic: 't', mode: 'group', group: 'g', from: { cursor: encodeCursor([{ topicId: 'a1b2c3d4-0000-4000-8000-000000000001', next: new Map([[0, 1]]) }]) } },
      { op: 'pub', topic: 't', key: 'AQ==', value: null, headers: { a: null }, encoding: 'base64', acks: 1 },
      { op: 'ack', sub: 1, topic: 't', partition: 0, offset: 10 },
      { op: 'credit', sub: 1, records: 1, bytes: 1, id: 'x' },
      { op: 'hello', session: 's' },
    ].map((m) => JSON.stringify(m));
    const random = mulberry32(3);
    const int = (n: number): number => Math.floor(random() * n);
    const pieces = ['{', '}', '[', ']', '"', ':', ',', 'null', '-1', '1e400', '0', '"op"', '"sub"', 'true', '\\', ' ', '"__proto__"', '2147483648', '9007199254740993'];
    const started = Date.now();
    for (let i = 0; i < 10_000; i++) {
      let text = seeds[i % seeds.length]!;
      const edits = 1 + int(3);
      for (let e = 0; e < edits; e++) {
        const at = int(text.length + 1);
        const cut = int(3);
        text = text.slice(0, at) + (random() < 0.7 ? pieces[int(pieces.length)] : '') + text.slice(at + cut);
      }
      try {
        parseControl(text);
      } catch (err) {
        if (!(err instanceof ProtocolViolation || err instanceof BadRequest)) throw new Error(`${text} threw ${String(err)}`);
      }
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
