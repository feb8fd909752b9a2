/** Encoding and decoding one schema at one version, for the protocol tests that check exact bytes. */
import { expect } from 'vitest';
import { codecFor } from '../../../src/protocol/compile.js';
import { Reader } from '../../../src/protocol/reader.js';
import type { MessageSchema } from '../../../src/protocol/schema.js';
import { concatChunks, Writer } from '../../../src/protocol/writer.js';

export function encode(schema: MessageSchema, version: number, value: unknown): Buffer {
  const w = new Writer();
  codecFor(schema, version).encode(w, value);
  return concatChunks(w.finish());
}

/** Decodes `bytes`, which must be exactly one body. */
export function decode<D>(schema: MessageSchema<D>, version: number, bytes: Buffer): D {
  const r = new Reader(bytes);
  const value = codecFor(schema, version).decode(r);
  expect(r.offset, 'the whole body is consumed').toBe(bytes.length);
  return value;
}

/** Bytes written as hex, spaces and line breaks ignored. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
