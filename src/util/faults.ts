/**
 * The fault-injection seam: every test-only hook of Brook, in one place. Production modules ask
 * this module whether a fault is injected; none reads the environment for a test hook itself.
 * Hooks come from the environment, read once when this module loads (a test sets the variable for
 * the broker process it spawns). Unset, as in production, every hook is off.
 *
 * Hooks:
 *   BROOK_TEST_CLEANER_CRASH_AT=<1-8>  `cleanerCrashAt`. Every compaction pass the log cleaner
 *       (src/broker/log-cleaner.ts) starts stops at that step of the swap (native/src/storage/
 *       cleaner.cc, MaybeCrash: the pass is given it as CompactOptions.crashAt and fails with
 *       TEST_CRASH there), and the cleaner then SIGKILLs the process (crashIfSimulated), leaving
 *       the files exactly as a crash at that step would. Used by test/integration/compaction.test.ts
 *       ("SIGKILL at swap step N: Open completes or rolls back the swap").
 *
 *   BROOK_TEST_UWS_UNLOADABLE=1  `uwsUnloadable`. uWebSockets.js fails to load as it does on a Node
 *       or libc it has no binary for (src/ws/uws.ts), so test/integration/ws-load.test.ts can check
 *       that the broker then serves Kafka alone, or refuses to start when ws.enabled was set.
 *
 * Tests of PartitionLog itself pass CompactOptions.crashAt directly; that option is marked @internal.
 */

export interface Faults {
  /** Swap step (1-8) at which every cleaner pass simulates a crash; 0 = off. */
  readonly cleanerCrashAt: number;
  /** uWebSockets.js fails to load. */
  readonly uwsUnloadable: boolean;
}

/** The hooks set in `env` (exported for tests of this module). */
export function readFaults(env: NodeJS.ProcessEnv): Faults {
  const step = Number(env.BROOK_TEST_CLEANER_CRASH_AT ?? 0);
  return Object.freeze({ cleanerCrashAt: Number.isInteger(step) && step >= 1 && step <= 8 ? step : 0, uwsUnloadable: env.BROOK_TEST_UWS_UNLOADABLE === '1' });
}

/** The hooks of this process. */
export const faults: Faults = readFaults(process.env);

/**
 * Ends the process as a crash would (SIGKILL: no cleanup, no exit handlers) when `e` is the error of
 * a simulated crash (code TEST_CRASH, which only an injected fault produces); otherwise returns.
 */
export function crashIfSimulated(e: unknown): void {
  if ((e as { code?: unknown } | null)?.code === 'TEST_CRASH') process.kill(process.pid, 'SIGKILL');
}
