import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type CursorTopic, CursorError, decodeCursor, encodeCursor, MAX_CURSOR_CHARS } from '../../../src/ws/cursor.js';
import { mulberry32 } from '../../prng.js';

const ID_A = 'a1b2c3d4-0000-4000-8000-000000000001';
const ID_B = 'ffffffff-ffff-4fff-bfff-ffffffffffff';


describe('encodeCursor / decodeCursor', () => {
  it('writes the documented bytes', () => {
    const cursor = encodeCursor([{ topicId: ID_A, next: new Map([[2, 300], [0, 5]]) }]);
    expect(Buffer.from(cursor, 'base64url')).toEqual(
      Buffer.concat([
        Buffer.from([1]),
        Buffer.from(ID_A.replace(/-/g, ''), 'hex'),
        Buffer.from([2, 0, 5, 2, 0xac, 0x02]), // 2 partitions; 0 → 5; 2 → 300 (ascending)
      ]),
    );
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('round-trips several topics, partitions up to 2^31-1 and offsets up to 2^53-1', () => {
    const topics: CursorTopic[] = [
      { topicId: ID_A, next: new Map([[0, 0], [1, 127], [2, 128], [2 ** 31 - 1, 2 ** 53 - 1]]) },
      { topicId: ID_B, next: new Map() },
      { topicId: randomUUID(), next: new Map([[7, 1_733_400_000_000]]) },
    ];
    expect(decodeCursor(encodeCursor(topics))).toEqual(topics);
    expect(decodeCursor(encodeCursor([]))).toEqual([]);
  });

  it('accepts topic ids without dashes and returns them canonical', () => {
    const [t] = decodeCursor(encodeCursor([{ topicId: ID_A.replace(/-/g, '').toUpperCase(), next: new Map([[0, 1]]) }]));
    expect(t!.topicId).toBe(ID_A);
  });

  it('stays within MAX_CURSOR_CHARS and says so when it cannot', () => {
    const many = (n: number, offset: number): CursorTopic[] => [
      { topicId: ID_A, next: new Map(Array.from({ length: n }, (_, p) => [p, offset] as [number, number])) },
    ];
    // ~190 partitions with offsets near 10^12 fit (docs: cursor.ts header).
    expect(encodeCursor(many(190, 1e12)).length).toBeLessThanOrEqual(MAX_CURSOR_CHARS);
    expect(() => encodeCursor(many(300, 1e12))).toThrow(CursorError);
    expect(() => encodeCursor(many(300, 1e12))).toThrow(/2048/);
    // Fill exactly: find the largest partition count that fits, check both sides of the bound.
    let n = 1;
    while (encodeCursorFits(many(n + 1, 1))) n++;
    expect(encodeCursor(many(n, 1)).length).toBeLessThanOrEqual(MAX_CURSOR_CHARS);
    expect(() => encodeCursor(many(n + 1, 1))).toThrow(CursorError);
  });

  it('refuses positions it cannot represent', () => {
    expect(() => encodeCursor([{ topicId: 'orders', next: new Map() }])).toThrow(CursorError);
    expect(() => encodeCursor([{ topicId: ID_A, next: new Map([[0, 2 ** 53]]) }])).toThrow(/offset/);
    expect(() => encodeCursor([{ topicId: ID_A, next: new Map([[0, -1]]) }])).toThrow(CursorError);
    expect(() => encodeCursor([{ topicId: ID_A, next: new Map([[2 ** 31, 0]]) }])).toThrow(/partition/);
  });
});

function encodeCursorFits(topics: CursorTopic[]): boolean {
  try {
    encodeCursor(topics);
    return true;
  } catch {
    return false;
  }
}

describe('decodeCursor on malformed input', () => {
  const b64 = (bytes: number[] | Buffer): string => Buffer.from(bytes).toString('base64url');
  const id = [...Buffer.from(ID_A.replace(/-/g, ''), 'hex')];

  it('explains each refusal', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['A'.repeat(MAX_CURSOR_CHARS + 4), /over 2048/],
      ['AQ==', /base64url/], // padding is not ours
      ['AQ+/', /base64url/],
      ['A', /base64url/],
      ['AR', /canonical/], // same byte as AQ, leftover bits set
      [b64([2]), /version 2/],
      [b64([1, ...id.slice(0, 10)]), /truncated topic/],
      [b64([1, ...id, 1, 0]), /truncated offset/],
      [b64([1, ...id, 1, 0, 5, 0]), /truncated topic/], // a trailing byte starts a topic that is not there
      [b64([1, ...id, 1, 0, 0x80, 0x00]), /redundant/],
      [b64([1, ...id, 2, 1, 0, 1, 0]), /out of order/],
      [b64([1, ...id, 2, 0, 0, 0, 0]), /repeated/],
      [b64([1, ...id, 1, 0, 5, ...id, 1, 0, 5]), /twice/],
      [b64([1, ...id, 1, 0x80, 0x80, 0x80, 0x80, 0x08, 0]), /partition beyond/], // 2^31
      [b64([1, ...id, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]), /offset beyond/], // 2^53
      [b64([1, ...id, 0x7f]), /partition count beyond/],
    ];
    for (const [input, message] of cases) {
      expect(() => decodeCursor(input), input).toThrow(CursorError);
      expect(() => decodeCursor(input), input).toThrow(message);
    }
  });

  it('never throws anything but CursorError on 10,000 mutations and random strings', () => {
    const valid = Buffer.from(
      encodeCursor([
        { topicId: ID_A, next: new Map([[0, 5], [3, 2 ** 40]]) },
        { topicId: ID_B, next: new Map([[1, 1]]) },
      ]),
      'base64url',
    );
    const random = mulberry32(7);
    const int = (n: number): number => Math.floor(random() * n);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=é ';
    const started = Date.now();
    for (let i = 0; i < 10_000; i++) {
      let input: string;
      if (i % 2 === 0) {
        const bytes = Buffer.from(valid);
        bytes[int(bytes.length)] = int(256);
        input = b64(bytes.subarray(0, bytes.length - int(3)));
      } else {
        input = Array.from({ length: int(60) }, () => alphabet[int(alphabet.length)]).join('');
      }
      try {
        decodeCursor(input);
      } catch (err) {
        if (!(err instanceof CursorError)) throw new Error(`${input} threw ${String(err)}`);
      }
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
