/**
 * Brook for the ws bench, as a child process so its CPU time and RSS are its own: `startBroker` on
 * free ports (Kafka and the WebSocket gateway) with a fresh data directory. Commands
 * (bench/ws/ipc.ts): `start` (settings by Kafka name) -> `{ port, wsPort }`, `usage`, `gc`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { serve, usage } from './ipc.js';

let broker: RunningBroker | undefined;
let dataDir: string | undefined;

serve(
  {
    start: async ({ properties }: { properties: Record<string, string | number | boolean> }) => {
      dataDir = mkdtempSync(join(process.env.BROOK_BENCH_DIR ?? tmpdir(), 'brook-ws-bench-'));
      broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir, log: false, properties: { 'ws.listeners': '127.0.0.1:0', ...properties } });
      // The gateway's port is read by name: RunningBroker gains `wsPort` with the gateway.
      const wsPort = (broker as unknown as { wsPort?: number }).wsPort;
      if (!wsPort) throw new Error('startBroker() returned no wsPort: the WebSocket gateway is not in this build');
      return { port: broker.port, wsPort };
    },
    usage: () => usage(),
    gc: () => {
      globalThis.gc?.();
      return usage();
    },
  },
  async () => {
    await broker?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  },
);
