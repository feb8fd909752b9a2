/**
 * When uWebSockets.js cannot load (no binary for this Node or libc: simulated with the
 * BROOK_TEST_UWS_UNLOADABLE fault hook), the broker serves Kafka without the gateway and says so in
 * one line, unless the operator asked for the gateway (ws.enabled=true): then it refuses to start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkajs, spawnBroker, withAdmin } from './harness.js';

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'brook-wsload-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const env = { BROOK_TEST_UWS_UNLOADABLE: '1' };
// No --ws-port: a port given is the operator asking for the gateway, which makes its failure fatal.
const opts = { env, defaultWsPort: true };

describe('a broker whose uWebSockets.js cannot load', () => {
  it('serves Kafka alone and logs one line saying why', async () => {
    const b = await spawnBroker(dataDir(), undefined, [], opts);
    try {
      const topics = await withAdmin(kafkajs(b.bootstrap), (a) => a.listTopics());
      expect(Array.isArray(topics)).toBe(true);
      const lines = b.stderr().split('\n').filter((l) => l.includes('ws gateway'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/ws gateway not started, serving Kafka only .*uWebSockets\.js cannot load on Node \d+.*simulated/);
    } finally {
      b.kill('SIGTERM');
      await b.exited;
    }
  });

  it('refuses to start when ws.enabled=true was set, with one line and a non-zero exit', async () => {
    await expect(spawnBroker(dataDir(), undefined, ['--set', 'ws.enabled=true'], opts)).rejects.toThrow(/exited with 1 before listening:[\s\S]*ws gateway: uWebSockets\.js cannot load/);
  });

  it('starts without the gateway and without a word when ws.enabled=false', async () => {
    const b = await spawnBroker(dataDir(), undefined, ['--set', 'ws.enabled=false'], opts);
    try {
      expect(b.stderr()).not.toContain('ws gateway');
    } finally {
      b.kill('SIGTERM');
      await b.exited;
    }
  });
});
