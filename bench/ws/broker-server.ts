/**
 * Brook for the ws bench, as a child process so its CPU time and RSS are its own: `startBroker` on
 * free ports (Kafka and the WebSocket gateway) with a fresh data directory. Commands
 * (bench/ws/ipc.ts): `start` (settings by Kafka name) -> `{ port, wsPort }`, `gateway` (its
 * counters, and when a slow consumer's policy fired since the last call), `usage`, `gc`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { nowMs } from './frames.js';
import { serve, usage } from './ipc.js';

/** The gateway's counters (RunningBroker.wsStats), as far as the bench reads them. */
interface GatewayCounters {
  dropped: number;
  slowConsumerActions: number;
  framesSent: number;
  recordsSent: number;
}

let broker: RunningBroker | undefined;
let dataDir: string | undefined;
/**
 * When the gateway's slow-consumer counter went up (nowMs, polled every 10 ms): a `skip` policy only
 * shows on the wire once the stalled socket drains, so the client cannot time it.
 */
const policyFiredAt: number[] = [];
const counters = (): GatewayCounters | undefined => (broker as unknown as { wsStats?: () => GatewayCounters | undefined }).wsStats?.();

serve(
  {
    start: async ({ properties }: { properties: Record<string, string | number | boolean> }) => {
      dataDir = mkdtempSync(join(process.env.BROOK_BENCH_DIR ?? tmpdir(), 'brook-ws-bench-'));
      broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir, log: false, properties: { 'ws.listeners': '127.0.0.1:0', ...properties } });
      // The gateway's port is read by name: RunningBroker gains `wsPort` with the gateway.
      const wsPort = (broker as unknown as { wsPort?: number }).wsPort;
      if (!wsPort) throw new Error('startBroker() returned no wsPort: the WebSocket gateway is not in this build');
      let fired = counters()?.slowConsumerActions ?? 0;
      setInterval(() => {
        const now = counters()?.slowConsumerActions ?? 0;
        for (; fired < now; fired++) policyFiredAt.push(nowMs());
      }, 10).unref();
      return { port: broker.port, wsPort };
    },
    gateway: () => ({ ...counters(), policyFiredAt: policyFiredAt.splice(0) }),
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
