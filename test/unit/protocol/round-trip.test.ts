/**
 * Every API, every version, request and response: encode a generated value, decode it, compare the
 * fields that version carries, and re-encode the decoded object to the same bytes. Also proves
 * that every strict prefix of an encoding fails with ProtocolError (never a RangeError), and that
 * random corruption never escapes as anything but ProtocolError.
 */
import { describe, expect, it } from 'vitest';
import { codecFor } from '../../../src/protocol/compile.js';
import { API_SCHEMAS } from '../../../src/protocol/messages.js';
import { ProtocolError } from '../../../src/protocol/protocol-error.js';
import { Reader } from '../../../src/protocol/reader.js';
import type { MessageSchema } from '../../../src/protocol/schema.js';
import { concatChunks, Writer } from '../../../src/protocol/writer.js';
import { generateStruct, project, rng } from './generate.js';
import type { Value } from './generate.js';

function encode(schema: MessageSchema, version: number, value: unknown): Buffer {
  const w = new Writer(8);
  codecFor(schema, version).encode(w, value);
  return concatChunks(w.finish());
}

function decode(schema: MessageSchema, version: number, bytes: Buffer): { value: Value; consumed: number } {
  const r = new Reader(bytes);
  const value = codecFor(schema, version).decode(r) as Value;
  return { value, consumed: r.offset };
}

const cases = API_SCHEMAS.flatMap((api) =>
  [api.request, api.response].flatMap((schema) => {
    const versions: number[] = [];
    for (let v = api.minVersion; v <= api.maxVersion; v++) versions.push(v);
    return versions.map((version) => ({ schema, version, label: `${schema.name} v${version}` }));
  }),
);

describe('round trip of every API and version', () => {
  it.each(cases)('$label: generated values survive encode/decode', ({ schema, version }) => {
    for (let seed = 1; seed <= 12; seed++) {
      const value = generateStruct(schema.fields, version, rng(seed * 7919 + version));
      const bytes = encode(schema, version, value);
      const { value: decoded, consumed } = decode(schema, version, bytes);
      expect(consumed).toBe(bytes.length);
      expect(project(schema.fields, version, decoded)).toEqual(project(schema.fields, version, value));
      expect(encode(schema, version, decoded).equals(bytes)).toBe(true);
    }
  });

  it.each(cases)('$label: an empty input encodes all defaults and decodes back to them', ({ schema, version }) => {
    const bytes = encode(schema, version, {});
    const { value, consumed } = decode(schema, version, bytes);
    expect(consumed).toBe(bytes.length);
    expect(encode(schema, version, value).equals(bytes)).toBe(true);
    for (const f of schema.fields) expect(value).toHaveProperty(f.name);
  });

  it.each(cases)('$label: every strict prefix fails with ProtocolError', ({ schema, version }) => {
    const value = generateStruct(schema.fields, version, rng(4242 + version));
    const bytes = encode(schema, version, value);
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decode(schema, version, bytes.subarray(0, n)), `prefix of ${n} bytes`).toThrow(ProtocolError);
    }
  });

  it.each(cases)('$label: corrupted bytes decode or throw ProtocolError, nothing else', ({ schema, version }) => {
    const next = rng(99 + version);
    const value = generateStruct(schema.fields, version, rng(7 + version));
    const bytes = encode(schema, version, value);
    if (bytes.length === 0) return;
    for (let i = 0; i < 50; i++) {
      const corrupt = Buffer.from(bytes);
      for (let j = 0; j < 3; j++) corrupt[next() % corrupt.length] = next() & 0xff;
      try {
        decode(schema, version, corrupt);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }
  });
});
