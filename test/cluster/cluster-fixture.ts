/**
 * Vitest glue for the cluster harness (cluster-harness.ts stays free of vitest: benchmarks load it):
 * one cluster per test file, kafkajs clients of it, and the brokers' logs printed when a test fails.
 *
 *   let c: TestCluster;
 *   useCluster({ brokers: 3 }, (started) => (c = started));
 *   it('...', async () => { logBrokersOnFailure(c); const admin = kafkajsOf(c).admin(); ... });
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, onTestFailed } from 'vitest';
import { startCluster, type ClusterOptions, type TestCluster } from './cluster-harness.js';

/** Starts the cluster before the file's tests (handing it to `started`) and stops it after them. */
export function useCluster(opts: ClusterOptions, started: (c: TestCluster) => void, startTimeoutMs = 90_000): void {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(opts);
    started(cluster);
  }, startTimeoutMs);
  afterAll(async () => {
    await cluster?.close();
  });
}

/**
 * A kafkajs client of every broker, or of broker `only` (a client must not ask a paused broker for
 * metadata). Retries outlast a failover (30 tries, up to 1 s apart).
 */
export function kafkajsOf(c: TestCluster, clientId = 'cluster-test', only?: number): Kafka {
  return new Kafka({
    brokers: only === undefined ? c.bootstrap.split(',') : [`127.0.0.1:${c.nodes.get(only)!.port}`],
    clientId,
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

/** On a failure of the current test, the last lines of each broker's log go to the test output. */
export function logBrokersOnFailure(c: TestCluster, lines = 40): void {
  onTestFailed(() => {
    for (const id of c.nodes.keys()) console.log(`--- broker ${id}\n${c.stderr(id).split('\n').slice(-lines).join('\n')}`);
  });
}
