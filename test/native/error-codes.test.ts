import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATIVE_ERROR_CODES } from '../../src/native/errors.js';

// The error codes exist in three places that must agree: the codes native/src actually throws, the
// C++ list (native/src/error_codes.h, one BROOK_ERROR_CODE line each) and the TypeScript list
// (NATIVE_ERROR_CODES, whose element type is NativeErrorCode).
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(cc|h)$/.test(e.name) && e.name !== 'error_codes.h' ? [path] : [];
  });
}

/** Every code a native source constructs an error with: Error("X", ...), MakeError(env, "X", ...), emplace("X", ...), and FromErrno's two. */
function thrownCodes(): Set<string> {
  const codes = new Set<string>();
  const patterns = [/\bError\(\s*"([A-Z_]+)"/g, /\bMakeError\(\s*env,\s*"([A-Z_]+)"/g, /\bemplace\(\s*"([A-Z_]+)"/g, /\?\s*"([A-Z_]+)"\s*:\s*"([A-Z_]+)"/g];
  for (const file of sources('native/src')) {
    const text = readFileSync(file, 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) for (const code of m.slice(1)) codes.add(code);
    if (/\bArgError\(/.test(text)) codes.add('INVALID_ARGUMENT'); // napi/args.h: ArgError builds INVALID_ARGUMENT
  }
  return codes;
}

function listedCodes(): string[] {
  const text = readFileSync('native/src/error_codes.h', 'utf8');
  return [...text.matchAll(/^BROOK_ERROR_CODE\((\w+),\s*"[^"]+"\)$/gm)].map((m) => m[1]!);
}

describe('native error codes', () => {
  it('finds the codes it compares (the patterns still match the sources)', () => {
    expect(thrownCodes()).toContain('CORRUPT_MESSAGE');
    expect(thrownCodes()).toContain('NO_SPACE');
    expect(listedCodes()).toContain('IO');
  });

  it('lists every code once in error_codes.h, each with its meaning', () => {
    const listed = listedCodes();
    expect(new Set(listed).size).toBe(listed.length);
    const lines = readFileSync('native/src/error_codes.h', 'utf8').split('\n').filter((l) => l.startsWith('BROOK_ERROR_CODE('));
    expect(lines).toHaveLength(listed.length); // no line the pattern above misses
  });

  it('throws exactly the codes error_codes.h lists', () => {
    expect([...thrownCodes()].sort()).toEqual([...listedCodes()].sort());
  });

  it('gives TypeScript the same codes, in the same order', () => {
    expect([...NATIVE_ERROR_CODES]).toEqual(listedCodes());
  });
});
