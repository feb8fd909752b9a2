import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAtomic } from '../../../src/util/fs.js';

describe('writeAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brook-fs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a file with the contents', () => {
    writeAtomic(join(dir, 'a.json'), '{"x":1}\n');
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"x":1}\n');
  });

  it('replaces a longer file whole and leaves no temporary file behind', () => {
    const path = join(dir, 'topics.json');
    writeFileSync(path, 'x'.repeat(10_000));
    writeAtomic(path, 'short');
    expect(readFileSync(path, 'utf8')).toBe('short');
    expect(readdirSync(dir)).toEqual(['topics.json']);
  });

  it('writes multi-byte text as UTF-8', () => {
    writeAtomic(join(dir, 'u'), 'é€😀'.repeat(1000));
    expect(readFileSync(join(dir, 'u'), 'utf8')).toBe('é€😀'.repeat(1000));
  });

  it('leaves the old contents when the temporary file cannot be written', () => {
    const path = join(dir, 'broker-configs.json');
    writeFileSync(path, 'old');
    mkdirSync(`${path}.tmp`); // opening the temporary file for writing now fails (EISDIR)
    expect(() => writeAtomic(path, 'new')).toThrow(/EISDIR/);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });

  it('fails without creating anything when the directory does not exist', () => {
    expect(() => writeAtomic(join(dir, 'missing', 'f'), 'x')).toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
