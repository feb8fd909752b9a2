/**
 * `brook cluster <up|status>`: a local replicated cluster in one command, and what a cluster looks
 * like from its Metadata (docs/cluster.md).
 *
 *   up      A single-member etcd (data in <data-dir>/etcd) and N brokers, all CHILD processes of this
 *           command, which stays in the foreground: Ctrl-C or SIGTERM stops the brokers (SIGTERM,
 *           then waits) and then etcd, exit 0. A broker that exits on its own stops everything, exit
 *           1. Broker i is `brook start --node-id i --port <port+i-1> --ws-port 0 --data-dir
 *           <data-dir>/broker-i --etcd <endpoint>`; it is ready when it logs "listening on" (which
 *           startBroker writes after the broker registered in etcd). Running `up` again on the same
 *           data dir reopens the same etcd data and logs: the same cluster.
 *   status  Metadata for every topic: cluster id, controller, live brokers, one line per partition
 *           in kafka-topics --describe's words, then the under-replicated (ISR smaller than the
 *           replicas) and offline (no leader) partition counts. Any Kafka-protocol broker answers it.
 *
 * The children stay in this command's process group on purpose: a terminal's Ctrl-C then reaches
 * them too, and a killed group leaves no broker behind. Their exits after a stop signal reached us
 * are therefore expected, whichever of us saw the signal first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, helpText, intFlag, keyValues, parseFlags, UsageError, type FlagTable } from './args.js';
import { runCommand, type Command } from './command.js';
import { CLIENT_FLAGS, clientFrom, HELP_FLAG, JSON_FLAG, out, printJson } from './common.js';
import type { ClusterMetadata } from '../kafka/client.js';
import { errorName } from '../protocol/error-codes.js';
import { ETCD_BINARY, freeLoopbackPort, startEtcd, type EtcdProcess } from '../cluster/etcd-process.js';
import { LOG_LEVELS, type LogLevel } from '../util/logger.js';

const SUMMARY = 'Run a local replicated cluster (cluster up) or show its brokers and partitions (cluster status).';

const HELP = `Usage: brook cluster <up|status> [options]

${SUMMARY}

Commands:
  up        Start etcd and N brokers as child processes; stays in the foreground until Ctrl-C.
  status    Controller, live brokers, leader/replicas/ISR of every partition, and what is unhealthy.

Run 'brook cluster <command> --help' for its options. docs/cluster.md explains the cluster.
`;

export const command: Command = {
  name: 'cluster',
  summary: SUMMARY,
  async run(argv) {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      await out(HELP);
      return 0;
    }
    if (name === 'up') return runCommand(upCommand, rest);
    if (name === 'status') return runCommand(statusCommand, rest);
    throw new UsageError(`unknown cluster command "${name}" (up, status)`);
  },
};

// ---------------------------------------------------------------------------------------------
// cluster up

const UP_FLAGS: FlagTable = {
  brokers: { kind: 'string', arg: 'n', help: 'number of brokers, node ids 1..n (default 3)' },
  'data-dir': { kind: 'string', arg: 'dir', help: 'etcd data in <dir>/etcd, broker i\'s logs in <dir>/broker-i (default ./cluster);\nthe same dir again is the same cluster' },
  port: { kind: 'string', arg: 'n', help: 'Kafka port of broker 1; broker i listens on port+i-1 (default 9092;\n0 picks a free port for each)' },
  'etcd-port': { kind: 'string', arg: 'n', help: 'etcd client port (default 2379; when busy a free one is used and printed)' },
  set: { kind: 'list', arg: 'key=value', help: 'a broker setting for every broker (as brook start --set); repeatable' },
  'log-level': { kind: 'string', arg: 'level', help: 'forward brokers\' log lines of this level and above: error, warn, info, debug\n(default: warn and error only)' },
  ...HELP_FLAG,
};

const UP_USAGE = 'brook cluster up [--brokers 3] [--data-dir ./cluster] [--port 9092] [--etcd-port 2379] [--set key=value ...] [--log-level <level>]';
const UP_DESCRIPTION = `Starts a single-member etcd and N brokers on 127.0.0.1 as child processes of this command, prints
one line per broker and the bootstrap servers once every broker is listening, then stays in the
foreground. Ctrl-C or SIGTERM stops the brokers, then etcd (exit 0). A broker that exits on its own
(kill -9 one to watch a failover) is reported and the others go on; with none left, exit 1.
Brokers' log lines are forwarded to stderr prefixed [broker i].
Needs etcd (Debian: apt-get install etcd-server).`;

/**
 * Settings `up` decides per broker (or must parse): a --set of these would make the brokers collide
 * or hide the line that says a broker is ready.
 */
const MANAGED_SETTINGS: Record<string, string> = {
  'node.id': 'node ids are 1..--brokers',
  'broker.id': 'node ids are 1..--brokers',
  'etcd.endpoints': 'cluster up runs its own etcd',
  'log.dirs': 'use --data-dir',
  'log.dir': 'use --data-dir',
  listeners: 'use --port',
  'advertised.listeners': 'use --port',
  'log.level': 'use --log-level',
  'log.format': 'cluster up reads the brokers\' text logs',
};

/** A broker must log "listening on" within this (a first start on a loaded machine takes seconds). */
const READY_TIMEOUT_MS = 60_000;
/** A broker still running this long after SIGTERM is killed (its own drain gives up after 5 s). */
const STOP_TIMEOUT_MS = 20_000;

const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** A text log line of a broker: `<time> <LEVEL> brook: <msg>` (util/logger.ts textLine). */
const LOG_LINE = /^\S+ (ERROR|WARN|INFO|DEBUG) \S+: (.*)$/;

interface BrokerChild {
  nodeId: number;
  /** As the user gave it, for printing. */
  dataDir: string;
  /** bin/brook.js start and its flags: the same for every (re)start. */
  args: string[];
  forwardLevel: LogLevel;
  /** The current process; the fields below describe it (spawnBroker resets them). */
  child: ChildProcess;
  exited: Promise<void>;
  /** `code N` or `signal S` once exited. */
  exitInfo: string | null;
  /** The last few stderr lines, for the start-up failure message. */
  tail: string[];
  port?: number;
  wsPort?: number;
  ready: boolean;
}

const upCommand: Command = {
  name: 'cluster up',
  summary: 'Start etcd and N brokers in the foreground.',
  async run(argv) {
    const flags = parseFlags(argv, UP_FLAGS);
    if (flags.booleans.has('help')) {
      await out(helpText(UP_USAGE, UP_DESCRIPTION, UP_FLAGS));
      return 0;
    }
    const brokers = intFlag(flags, 'brokers', 1, 64) ?? 3;
    const basePort = intFlag(flags, 'port', 0, 65535) ?? 9092;
    if (basePort !== 0 && basePort + brokers - 1 > 65535) throw new UsageError(`--port ${basePort} leaves no room for ${brokers} brokers below 65536`);
    const etcdPort = intFlag(flags, 'etcd-port', 1, 65535) ?? 2379;
    const level = flags.strings.get('log-level');
    if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level expects one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
    const settings = keyValues('set', flags.lists.get('set') ?? []);
    for (const key of settings.keys()) {
      const why = MANAGED_SETTINGS[key];
      if (why !== undefined) throw new UsageError(`--set ${key} is not allowed here: ${why}`);
    }
    const dataDir = flags.strings.get('data-dir') ?? './cluster';
    return up({ brokers, basePort, etcdPort, forwardLevel: (level as LogLevel | undefined) ?? 'warn', settings, dataDir });
  },
};

interface UpOptions {
  brokers: number;
  basePort: number;
  etcdPort: number;
  /** Broker log lines of this level and above go to our stderr. */
  forwardLevel: LogLevel;
  settings: Map<string, string>;
  dataDir: string;
}

async function up(opts: UpOptions): Promise<number> {
  // Checked here rather than left to spawn's ENOENT, so the fix is in the message. etcd-server is
  // installed by `npm install` in a development checkout only (scripts/system-deps.mjs says why).
  if (!existsSync(ETCD_BINARY)) throw new CliError('etcd not found: apt-get install etcd-server');
  const root = resolve(opts.dataDir);
  try {
    mkdirSync(root, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create --data-dir ${opts.dataDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  claimDataDir(root, opts.dataDir);

  const children: BrokerChild[] = [];
  let etcd: EtcdProcess | undefined;
  // Set by the first stop signal; from then on every exit is expected.
  let stopSignal: NodeJS.Signals | null = null;
  let wakeStop: () => void = () => {};
  const stopRequested = new Promise<void>((r) => (wakeStop = r));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) return;
    stopSignal = signal;
    process.stderr.write(`brook cluster up: ${signal} received, stopping the brokers, then etcd\n`);
    wakeStop();
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  // Once, whichever path gets here first (a failure inside the try also reaches the catch).
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= stopEverything());
  const stopEverything = async () => {
    for (const b of children) if (b.exitInfo === null) b.child.kill('SIGTERM');
    await Promise.all(
      children.map(async (b) => {
        const timer = setTimeout(() => b.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await b.exited;
        clearTimeout(timer);
      }),
    );
    await etcd?.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    rmSync(join(root, PID_FILE), { force: true });
  };

  try {
    const etcdFree = await portFree(opts.etcdPort);
    const peerPort = await etcdPeerPort(root);
    try {
      etcd = await startEtcd({ dataDir: join(root, 'etcd'), clientPort: etcdFree ? opts.etcdPort : await freeLoopbackPort(), peerPort });
    } catch (e) {
      throw new CliError(`etcd did not start: ${firstLine(e)}`);
    }
    const busy = etcdFree ? '' : `  (port ${opts.etcdPort} is busy)`;
    await out(`etcd      ${etcd.endpoint}  data ${join(opts.dataDir, 'etcd')}  pid ${etcd.pid}${busy}\n`);

    if (stopSignal) {
      await stopAll();
      return 0;
    }
    for (let id = 1; id <= opts.brokers; id++) children.push(newBroker(id, root, opts, etcd.endpoint));
    const failed = await waitReady(children, stopRequested, () => stopSignal !== null);
    if (stopSignal) {
      await stopAll();
      return 0;
    }
    if (failed) {
      await stopAll();
      throw new CliError(failed);
    }

    const lines = children.map((b) => `broker ${b.nodeId}  127.0.0.1:${b.port}  data ${b.dataDir}${b.wsPort ? `  ws 127.0.0.1:${b.wsPort}` : ''}  pid ${b.child.pid}\n`);
    await out(`${lines.join('')}bootstrap: ${children.map((b) => `127.0.0.1:${b.port}`).join(',')}\n`);

    // Foreground until a stop signal. A broker that exits on its own (a crash, or a kill -9 to
    // watch a failover) is reported and the others go on; when none is left, so is this command.
    let alive = [...children];
    while (alive.length > 0) {
      const gone = await Promise.race([stopRequested.then(() => null), ...alive.map((b) => b.exited.then(() => b))]);
      if (!gone || stopSignal) break;
      alive = alive.filter((b) => b !== gone);
      process.stderr.write(`brook cluster up: broker ${gone.nodeId} exited (${gone.exitInfo}); ${alive.length} broker(s) go on\n`);
    }
    await stopAll();
    return alive.length === 0 && !stopSignal ? 1 : 0;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * <data-dir>/etcd-peer-port: etcd's peer port, decimal, one line; written on the first run.
 *
 * etcd stores its member's peer URL in its data dir and only the first start sets it; startEtcd
 * counts a member ready only when the member list holds the peer URL it was started with. So every
 * run of one data dir must give etcd the same peer port (the client port may change: etcd publishes
 * the new one). A port taken meanwhile by something else makes etcd's start fail with that error.
 */
const PEER_PORT_FILE = 'etcd-peer-port';

async function etcdPeerPort(root: string): Promise<number> {
  const file = join(root, PEER_PORT_FILE);
  try {
    const port = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(port) && port > 0 && port <= 65535) return port;
  } catch {
    // First run of this data dir.
  }
  if (existsSync(join(root, 'etcd', 'member'))) {
    throw new CliError(`${file} is missing or unreadable, and etcd's data in ${join(root, 'etcd')} keeps the peer port it was first started with`);
  }
  const port = await freeLoopbackPort();
  writeFileSync(file, `${port}\n`);
  return port;
}

/** <data-dir>/cluster-up.pid: one `cluster up` per data dir (two would run two etcds on one data dir). */
const PID_FILE = 'cluster-up.pid';

function claimDataDir(root: string, shown: string): void {
  const file = join(root, PID_FILE);
  let other: number | undefined;
  try {
    other = Number(readFileSync(file, 'utf8').trim());
  } catch {
    // No file: nobody holds the dir.
  }
  if (other !== undefined && Number.isInteger(other) && other > 0 && other !== process.pid && alive(other)) {
    throw new CliError(`${shown} is in use by another brook cluster up (pid ${other})`);
  }
  writeFileSync(file, `${process.pid}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The path of bin/brook.js, from dist/src/cli/ (built) or src/cli/ (run through tsx). */
function brookBin(): string {
  for (const rel of ['../../../bin/brook.js', '../../bin/brook.js']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new CliError('bin/brook.js not found beside this installation');
}

function newBroker(nodeId: number, root: string, opts: UpOptions, etcdEndpoint: string): BrokerChild {
  const port = opts.basePort === 0 ? 0 : opts.basePort + nodeId - 1;
  const args = [
    brookBin(), 'start',
    '--node-id', String(nodeId),
    '--host', '127.0.0.1',
    '--port', String(port),
    // Free ports: the default 9093 is broker 2's Kafka port.
    '--ws-port', '0',
    '--data-dir', join(root, `broker-${nodeId}`),
    '--etcd', etcdEndpoint,
    // "listening on" is an info line; debug only when asked to forward debug.
    '--log-level', opts.forwardLevel === 'debug' ? 'debug' : 'info',
  ];
  for (const [k, v] of opts.settings) args.push('--set', `${k}=${v}`);
  // The process fields are filled in by spawnBroker.
  const b = { nodeId, dataDir: join(opts.dataDir, `broker-${nodeId}`), args, forwardLevel: opts.forwardLevel } as BrokerChild;
  spawnBroker(b);
  return b;
}

/** Starts (or starts again) the broker process of `b`, resetting what the previous one left. */
function spawnBroker(b: BrokerChild): void {
  const child = spawn(process.execPath, b.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  Object.assign(b, { child, exitInfo: null, tail: [], ready: false, port: undefined, wsPort: undefined });
  b.exited = new Promise((done) => {
    child.once('exit', (code, signal) => {
      b.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      done();
    });
    child.once('error', (err) => {
      b.exitInfo = `spawn error: ${err.message}`;
      done();
    });
  });
  const prefix = `[broker ${b.nodeId}] `;
  // Continuation lines (a stack trace inside a record) follow their record's level.
  let lineLevel: LogLevel = 'error';
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = LOG_LINE.exec(line);
      if (m) {
        lineLevel = m[1]!.toLowerCase() as LogLevel;
        const msg = m[2]!;
        const ws = /^ws gateway serving .* on \S+:(\d+)/.exec(msg);
        if (ws) b.wsPort = Number(ws[1]);
        const listening = /^listening on \S+:(\d+),/.exec(msg);
        if (listening) {
          b.port = Number(listening[1]);
          b.ready = true;
          child.emit('ready');
        }
      } else if (!line.startsWith(' ') && !line.startsWith('\t')) {
        // Not a log record (brook start's own one-line errors): always shown.
        lineLevel = 'error';
      }
      b.tail = [...b.tail.slice(-4), line];
      // A stale session is waitReady's to report (once), not every retry's.
      if (LEVEL_RANK[lineLevel] <= LEVEL_RANK[b.forwardLevel] && line !== '' && !STALE_SESSION.test(line)) process.stderr.write(prefix + line + '\n');
    }
  });
}

/**
 * A broker killed without a clean stop (kill -9, a crash of `cluster up`) leaves its registration
 * in etcd until its lease expires (broker.session.timeout.ms), and a new process with that id is
 * refused meanwhile (cluster/store.ts). On a restart of the same data dir that is expected, so
 * such a broker is started again every RETRY_MS until the old session is gone.
 */
const STALE_SESSION = /is registered by another live broker/;
const RETRY_MS = 1000;

/**
 * Resolves when every broker is listening (null), or with the one-line reason the start failed: a
 * broker exited (its last stderr line says why), or READY_TIMEOUT_MS passed. A stop signal ends the
 * wait early (null; the caller sees the signal).
 */
async function waitReady(children: BrokerChild[], stopRequested: Promise<void>, stopping: () => boolean): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((r) => {
    timer = setTimeout(() => {
      const late = children.filter((b) => !b.ready).map((b) => b.nodeId);
      r(`broker${late.length > 1 ? 's' : ''} ${late.join(', ')} not listening within ${READY_TIMEOUT_MS / 1000} s`);
    }, READY_TIMEOUT_MS);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const once = (b: BrokerChild) =>
    new Promise<'ready' | 'exited'>((r) => {
      if (b.ready) return r('ready');
      b.child.once('ready', () => r('ready'));
      void b.exited.then(() => r('exited'));
    });
  const each = children.map(async (b) => {
    let noted = false;
    while ((await once(b)) === 'exited') {
      const why = [...b.tail].reverse().find((l) => l.trim() !== '') ?? '';
      if (!STALE_SESSION.test(why) || stopping() || Date.now() + RETRY_MS > deadline) {
        return `broker ${b.nodeId} exited during start-up (${b.exitInfo})${why ? `: ${why.replace(/^brook start: /, '')}` : ''}`;
      }
      if (!noted) process.stderr.write(`brook cluster up: broker ${b.nodeId}'s previous session is still live in etcd (not stopped cleanly); retrying until it expires\n`);
      noted = true;
      await new Promise((r) => setTimeout(r, RETRY_MS));
      if (stopping()) return null;
      spawnBroker(b);
    }
    return null;
  });
  // The first failure wins; all ready is the all-null outcome.
  const firstFailure = new Promise<string | null>((r) => {
    for (const p of each) void p.then((why) => why && r(why));
    void Promise.all(each).then(() => r(null));
  });
  try {
    return await Promise.race([firstFailure, timeout, stopRequested.then(() => null)]);
  } finally {
    clearTimeout(timer);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
  });
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

// ---------------------------------------------------------------------------------------------
// cluster status

const STATUS_FLAGS: FlagTable = { ...CLIENT_FLAGS, ...JSON_FLAG, ...HELP_FLAG };

const STATUS_USAGE = 'brook cluster status [--bootstrap-server host:port] [--json]';
const STATUS_DESCRIPTION = `Prints the cluster id, the controller, the live brokers, one line per partition (leader, leader
epoch, replicas, ISR, offline replicas; a partition without a leader shows Leader: none), then the
number of under-replicated partitions (ISR smaller than the replicas) and offline partitions (no
leader). From one Metadata request, so it works against a single node or any Kafka.
Exit codes: 0 printed, 1 no broker answered (one line on stderr), 2 bad usage.`;

/** What `--json` prints: the Metadata answer, sorted, with the two counts. */
export interface ClusterStatus {
  clusterId: string | null;
  /** -1 when the answer names none. */
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  topics: {
    name: string;
    topicId: string;
    isInternal: boolean;
    /** Kafka error name, or null. */
    error: string | null;
    partitions: { partition: number; leader: number; leaderEpoch: number; replicas: number[]; isr: number[]; offline: number[]; error: string | null }[];
  }[];
  underReplicatedPartitions: number;
  offlinePartitions: number;
}

const statusCommand: Command = {
  name: 'cluster status',
  summary: 'Show brokers, controller and partition health.',
  async run(argv) {
    const flags = parseFlags(argv, STATUS_FLAGS);
    if (flags.booleans.has('help')) {
      await out(helpText(STATUS_USAGE, STATUS_DESCRIPTION, STATUS_FLAGS));
      return 0;
    }
    const client = clientFrom(flags);
    try {
      const status = clusterStatus(await client.metadata(null));
      if (flags.booleans.has('json')) await printJson(status);
      else await out(statusText(status));
      return 0;
    } finally {
      client.close();
    }
  },
};

export function clusterStatus(md: ClusterMetadata): ClusterStatus {
  const code = (c: number) => (c === 0 ? null : errorName(c));
  const topics = [...md.topics.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((t) => ({
      name: t.name,
      topicId: t.topicId,
      isInternal: t.isInternal,
      error: code(t.errorCode),
      partitions: t.partitions.map((p) => ({ partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr, offline: p.offline, error: code(p.errorCode) })),
    }));
  const partitions = topics.flatMap((t) => t.partitions);
  return {
    clusterId: md.clusterId,
    controllerId: md.controllerId,
    brokers: [...md.brokers.values()].sort((a, b) => a.nodeId - b.nodeId).map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    topics,
    underReplicatedPartitions: partitions.filter((p) => p.isr.length < p.replicas.length).length,
    offlinePartitions: partitions.filter((p) => p.leader < 0).length,
  };
}

export function statusText(s: ClusterStatus): string {
  const lines = [
    `ClusterId: ${s.clusterId ?? 'none'}  Controller: ${s.controllerId < 0 ? 'none' : s.controllerId}  Brokers: ${s.brokers.length}`,
    ...s.brokers.map((b) => `Broker: ${b.nodeId}  ${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}  Rack: ${b.rack ?? 'none'}`),
  ];
  for (const t of s.topics) {
    if (t.error) lines.push(`Topic: ${t.name}  Error: ${t.error}`);
    for (const p of t.partitions) {
      const leader = p.leader < 0 ? 'none' : String(p.leader);
      lines.push(
        `Topic: ${t.name}  Partition: ${p.partition}  Leader: ${leader}  LeaderEpoch: ${p.leaderEpoch}  Replicas: ${p.replicas.join(',')}  Isr: ${p.isr.join(',')}  Offline: ${p.offline.join(',')}${p.error ? `  Error: ${p.error}` : ''}`,
      );
    }
  }
  lines.push(`UnderReplicatedPartitions: ${s.underReplicatedPartitions}  OfflinePartitions: ${s.offlinePartitions}`);
  return `${lines.join('\n')}\n`;
}
