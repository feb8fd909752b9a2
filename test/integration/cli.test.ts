/**
 * The `brook` command: help, and readable refusals for bad flags and bad config files (exit code 2,
 * a message naming the problem, no stack trace).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './harness.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'brook-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function brook(...args: string[]) {
  const entry = `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
  return run(process.execPath, ['--import', 'tsx', '-e', entry, '--', ...args], { timeoutMs: 20_000, cwd: root });
}

describe('brook CLI', () => {
  it('prints help', async () => {
    const r = await brook('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: brook <command>/);
    expect(r.stdout).toMatch(/--data-dir/);
  });

  it('refuses an unknown flag or command with exit 2 and no stack trace', async () => {
    for (const args of [['start', '--prot', '9092'], ['launch']]) {
      const r = await brook(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/brook/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses a bad port', async () => {
    const r = await brook('start', '--port', '70000');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port expects a port number, got "70000"/);
  });

  it('names the key of a bad server.properties entry', async () => {
    const file = join(dir, 'server.properties');
    writeFileSync(file, '# comment\nlog.dirs=' + join(dir, 'data') + '\nnum.partitions = 3\nlog.segment.bytes=lots\n');
    const r = await brook('start', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid value "lots" for log\.segment\.bytes: expected an integer/);
  });

  it('says when the config file cannot be read', async () => {
    const r = await brook('start', '--config', join(dir, 'missing.properties'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read config file .*missing\.properties/);
  });
});
