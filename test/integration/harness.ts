/**
 * Integration-test plumbing: a real broker on a free port with a temporary data dir, and the real
 * clients that talk to it (kafkajs and @platformatic/kafka in-process; kcat, kafka-python and
 * confluent-kafka as child processes from Debian packages).
 *
 * Debian's Python packages import only under /usr/bin/python3 (the python3 first on PATH may be a
 * separate build that cannot see them), so Python clients always run under that path.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin, type KafkaConfig, type Producer, type ProducerConfig } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { startBroker, type RunningBroker, type StartOptions } from '../../src/index.js';

export const SYSTEM_PYTHON = '/usr/bin/python3';

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

export const hasKcat = works('kcat', ['-V']);
export const hasKafkaPython = works(SYSTEM_PYTHON, ['-c', 'import kafka']);
export const hasConfluentKafka = works(SYSTEM_PYTHON, ['-c', 'import confluent_kafka']);

/**
 * For the clients and tools `npm install` installs in a development checkout
 * (scripts/system-deps.mjs: kcat, python3-kafka, python3-confluent-kafka, librdkafka, the codec
 * CLIs and Python modules): a missing one fails the test file that needs it, loudly, at load. A
 * skip would let a run pass without testing what the file is for.
 */
export function requireInstalled(available: boolean, what: string): void {
  if (!available) {
    throw new Error(`${what} is not installed here, and this test file needs it. npm install in a development checkout installs it (scripts/system-deps.mjs); run npm install again.`);
  }
}

/**
 * Only for what npm install does NOT provide (e.g. util-linux's prlimit): says once, visibly, why
 * tests are skipped. Everything npm install provides goes through requireInstalled instead.
 */
export function skipReason(available: boolean, what: string): boolean {
  if (!available) console.warn(`SKIPPED: ${what} is not installed here, and npm install does not install it`);
  return !available;
}

export interface TestBroker {
  broker: RunningBroker;
  bootstrap: string;
  dataDir: string;
  /** Closes gracefully and starts again on the same data dir (and port when possible). */
  restart(opts?: StartOptions): Promise<void>;
  close(): Promise<void>;
}

export async function startTestBroker(opts: StartOptions = {}): Promise<TestBroker> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'brook-it-'));
  const start = (port = 0, extra: StartOptions = {}) =>
    // The gateway on a free port too, also after a restart on the old Kafka port.
    startBroker({ log: process.env.BROOK_TEST_LOG ? undefined : false, ...opts, ...extra, port, host: '127.0.0.1', dataDir, ws: { port: 0, ...opts.ws, ...extra.ws } });
  const tb: TestBroker = {
    broker: await start(),
    get bootstrap() {
      return `127.0.0.1:${this.broker.port}`;
    },
    dataDir,
    async restart(extra = {}) {
      const port = this.broker.port;
      await this.broker.close();
      this.broker = await start(port, extra);
    },
    async close() {
      await this.broker.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return tb;
}

/** Broker settings of the consumer-group tests: no initial rebalance delay, short sessions allowed. */
export const GROUP_TEST_PROPERTIES = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 500, 'offsets.topic.num.partitions': 4 };

/** A kafkajs client of the broker at `bootstrap`, with kafkajs's own logging off. */
export function kafkajs(bootstrap: string, config: Omit<KafkaConfig, 'brokers'> = {}): Kafka {
  return new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, ...config });
}

/** Runs fn with a kafkajs admin connected for the duration of the call. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Runs fn with a kafkajs producer connected for the duration of the call. */
export async function withProducer<T>(kafka: Kafka, fn: (producer: Producer) => Promise<T>, config?: ProducerConfig): Promise<T> {
  const producer = kafka.producer(config);
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.disconnect();
  }
}

/** Topic configs as kafkajs `configEntries`. */
export function configEntries(configs: Record<string, string>): { name: string; value: string }[] {
  return Object.entries(configs).map(([name, value]) => ({ name, value }));
}

export interface KafkajsBroker {
  tb: TestBroker;
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  /** Disconnects the producer and the admin, then closes the broker. */
  close(): Promise<void>;
}

/** A test broker with a kafkajs admin and producer connected to it: the set-up of most client tests. */
export async function startWithKafkajs(opts: StartOptions = {}, config: Omit<KafkaConfig, 'brokers'> = {}, producerConfig?: ProducerConfig): Promise<KafkajsBroker> {
  const tb = await startTestBroker(opts);
  const kafka = kafkajs(tb.bootstrap, config);
  const admin = kafka.admin();
  const producer = kafka.producer(producerConfig);
  const close = async () => {
    await producer.disconnect();
    await admin.disconnect();
    await tb.close();
  };
  try {
    await admin.connect();
    await producer.connect();
  } catch (e) {
    await close();
    throw e;
  }
  return { tb, kafka, admin, producer, close };
}

/**
 * startWithKafkajs for the whole test file: starts in beforeAll and, in afterAll, kills any live
 * client processes (stopLiveProcesses) and closes. Read the fields inside tests and hooks only.
 */
export function useBrokerWithKafkajs(opts: StartOptions = {}, config: Omit<KafkaConfig, 'brokers'> = {}, producerConfig?: ProducerConfig): Omit<KafkajsBroker, 'close'> {
  let b: KafkajsBroker | undefined;
  beforeAll(async () => {
    b = await startWithKafkajs(opts, config, producerConfig);
  });
  afterAll(async () => {
    stopLiveProcesses();
    await b?.close();
  });
  const get = (): KafkajsBroker => {
    if (!b) throw new Error('useBrokerWithKafkajs: the broker is started in beforeAll; read it inside tests');
    return b;
  };
  return {
    get tb() {
      return get().tb;
    },
    get kafka() {
      return get().kafka;
    },
    get admin() {
      return get().admin;
    },
    get producer() {
      return get().producer;
    },
  };
}

/** Polls cond every 50 ms until it holds; throws `timed out waiting for <what>` after timeoutMs. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with optional stdin, bounded in time (a hung client fails the test, never the run). */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, cwd: opts.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a Python snippet under Debian's interpreter; argv[1..] are `args`. */
export function python(script: string, args: string[] = [], timeoutMs = 60_000): Promise<ProcessResult> {
  return run(SYSTEM_PYTHON, ['-c', script, ...args], { timeoutMs });
}

/** Throws with the process's output when it failed: test failures then show why. */
export function expectOk(r: ProcessResult, what: string): ProcessResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/** A port nobody listens on right now (for brokers in child processes, which must be told one). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface BrokerProcess {
  port: number;
  bootstrap: string;
  pid: number;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Runs `brook start` in a child process (from the TypeScript sources through tsx, so no build is
 * needed), for tests that kill the broker with SIGKILL or SIGTERM. Resolves once it listens. Its
 * WebSocket gateway gets a free port (`--ws-port 0`) unless `defaultWsPort` (then ws.listeners' 9093).
 */
export async function spawnBroker(dataDir: string, port?: number, extraArgs: string[] = [], opts: { fileSizeLimit?: number; openFilesLimit?: number; env?: NodeJS.ProcessEnv; defaultWsPort?: boolean } = {}): Promise<BrokerProcess> {
  const p = port ?? (await freePort());
  const entry = `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
  const node = [process.execPath, '--import', 'tsx', '-e', entry, '--', 'start', '--port', String(p), ...(opts.defaultWsPort ? [] : ['--ws-port', '0']), '--data-dir', dataDir, ...extraArgs];
  // A file size limit (RLIMIT_FSIZE) stands in for a full disk: writes past it fail with EFBIG.
  // SIGXFSZ must be ignored, or the kernel kills the process instead; only a shell can set that
  // before exec. sh and prlimit exec in turn, so the child's pid is the broker's. Only the soft
  // limit is set, so a test can lift it later (`prlimit --pid <pid> --fsize=unlimited`): space returns.
  // An open-files limit (RLIMIT_NOFILE) makes opening partitions fail with EMFILE.
  const limits = [opts.fileSizeLimit === undefined ? '' : `--fsize=${opts.fileSizeLimit}:unlimited`, opts.openFilesLimit === undefined ? '' : `--nofile=${opts.openFilesLimit}`].filter(Boolean);
  const [cmd, ...args] = limits.length === 0 ? node : ['sh', '-c', `trap '' XFSZ; exec prlimit ${limits.join(' ')} -- "$@"`, 'sh', ...node];
  const child = spawn(cmd, args, { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start in time:\n${err}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before listening:\n${err}`));
    });
  });
  return {
    port: p,
    bootstrap: `127.0.0.1:${p}`,
    pid: child.pid!,
    exited,
    stderr: () => err,
    kill: (signal) => child.kill(signal),
  };
}

export interface LiveProcess {
  /** Every stdout line parsed as JSON so far (lines that are not JSON are kept as { raw }). */
  readonly events: Record<string, unknown>[];
  stderr(): string;
  /** Resolves once some event satisfies `pred` (checking those already seen first). */
  waitFor(what: string, pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();

/** Kills every spawnLive process still running (call in afterAll: a failed test may leave some). */
export function stopLiveProcesses(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Starts a long-running client process that reports what happens as JSON lines on stdout (for
 * group members a test watches and kills). Killed with SIGKILL at the latest by `timeoutMs`.
 */
export function spawnLive(cmd: string, args: string[], timeoutMs = 60_000): LiveProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const events: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let partial = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        events.push({ raw: line });
      }
    }
    for (const l of listeners) l();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // A test that fails or times out must not leave its clients running after the test process.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', reap);
      live.delete(child);
      for (const l of listeners) l();
      resolve({ code, signal });
    }),
  );
  return {
    events,
    stderr: () => err,
    waitFor(what, pred, waitMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            cleanup();
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`process exited before ${what}\nstderr:\n${err}\nevents:\n${events.map((e) => JSON.stringify(e)).join('\n')}`));
          }
        };
        const t = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}\nstderr:\n${err}\nevents:\n${events.map((e) => JSON.stringify(e)).join('\n')}`));
        }, waitMs);
        const cleanup = () => {
          clearTimeout(t);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    kill: (signal) => child.kill(signal),
    exited,
  };
}
