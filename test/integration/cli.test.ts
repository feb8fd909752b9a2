/**
 * The `brook` command: help, readable refusals for bad flags and bad config files (exit code 2,
 * a message naming the problem, no stack trace), and a start from a Kafka KRaft server.properties.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOk, freePort, hasKcat, requireInstalled, run, until } from './harness.js';

requireInstalled(hasKcat, 'kcat');

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

  it('starts from a Kafka KRaft server.properties, serves kcat, and says which settings have no effect', async () => {
    const port = await freePort();
    const file = join(dir, 'kraft.properties');
    writeFileSync(
      file,
      [
        'process.roles=broker,controller',
        'node.id=1',
        'controller.quorum.voters=1@localhost:9093',
        `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:9093`,
        'inter.broker.listener.name=PLAINTEXT',
        `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
        'num.network.threads=3',
        'num.io.threads=8',
        `log.dirs=${join(dir, 'kraft-data')}`,
        'offsets.topic.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'log.retention.hours=168',
      ].join('\n'),
    );
    const entry = `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', entry, '--', 'start', '--config', file, '--ws-port', '0'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await until('listening', () => err.includes('listening on'));
      expect(err).toContain('accepted with no effect on a single Brook node: process.roles, controller.quorum.voters');
      expect(err).not.toContain('9093'); // the controller listener is left out (the gateway took a free port)
      const bootstrap = `127.0.0.1:${port}`;
      expectOk(await run('kcat', ['-P', '-b', bootstrap, '-t', 'from-kraft-config'], { input: 'one\ntwo\n' }), 'kcat -P');
      const out = expectOk(await run('kcat', ['-C', '-b', bootstrap, '-t', 'from-kraft-config', '-o', 'beginning', '-e', '-q']), 'kcat -C');
      expect(out.stdout.trim().split('\n')).toEqual(['one', 'two']);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('refuses a SASL listener with a message naming it', async () => {
    const file = join(dir, 'sasl.properties');
    writeFileSync(file, `listeners=SASL_PLAINTEXT://127.0.0.1:0\nlog.dirs=${join(dir, 'sasl-data')}\n`);
    const r = await brook('start', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('listener SASL_PLAINTEXT uses SASL_PLAINTEXT; Brook serves PLAINTEXT only');
  });

  it('says when the config file cannot be read', async () => {
    const r = await brook('start', '--config', join(dir, 'missing.properties'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read config file .*missing\.properties/);
  });
});
