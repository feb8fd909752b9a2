/**
 * A single-member etcd server as a child process: what `brook cluster up` and the cluster tests run
 * (Debian's /usr/bin/etcd, 3.4). Production clusters bring their own etcd; this is for local use.
 *
 * The member listens on loopback only. Ports 0 mean "pick a free one": we bind a throwaway socket to
 * learn a free port and hand it to etcd, which can race with another process taking it in between,
 * so a start whose ports were picked here is retried with new ports when etcd exits early.
 *
 * Readiness is etcd's own GET /health on the client URL ({"health":"true"} once the member has a
 * raft leader, which a single member elects itself within one election timeout), answered by our
 * member (its member list holds our peer URL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Logger } from '../util/logger.js';

export const ETCD_BINARY = '/usr/bin/etcd';

export interface EtcdOptions {
  dataDir: string;
  /** 0 (default): a free loopback port. */
  clientPort?: number;
  /** 0 (default): a free loopback port. */
  peerPort?: number;
  /** Member name (default `brook-etcd`). */
  name?: string;
  log?: Logger;
  /** How long to wait for /health (default 15 s). */
  startTimeoutMs?: number;
  /** Raft timings in ms; short defaults (50/500) make a lone member ready fast. */
  heartbeatMs?: number;
  electionTimeoutMs?: number;
  /** etcd binary (default /usr/bin/etcd). */
  binary?: string;
}

export interface EtcdProcess {
  /** Client URL, e.g. http://127.0.0.1:40123. */
  readonly endpoint: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** Sends a signal and returns at once (SIGKILL to crash, SIGSTOP/SIGCONT to pause). */
  kill(signal: NodeJS.Signals): void;
  /** Stops (if running) and starts again on the same ports and data dir; `endpoint` is unchanged. */
  restart(): Promise<void>;
}

/** Keep this much of etcd's stderr for error messages. */
const STDERR_TAIL_BYTES = 4096;

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

class EtcdChild implements EtcdProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail = '';

  constructor(
    private readonly opts: Required<Omit<EtcdOptions, 'log' | 'clientPort' | 'peerPort'>> & { log?: Logger },
    private readonly clientPort: number,
    private readonly peerPort: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  /** Spawns and waits for /health; throws with the stderr tail if etcd exits or never answers. */
  async start(): Promise<void> {
    mkdirSync(this.opts.dataDir, { recursive: true });
    const peerUrl = `http://127.0.0.1:${this.peerPort}`;
    const args = [
      '--name', this.opts.name,
      '--data-dir', this.opts.dataDir,
      '--listen-client-urls', this.endpoint,
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `${this.opts.name}=${peerUrl}`,
      '--heartbeat-interval', String(this.opts.heartbeatMs),
      '--election-timeout', String(this.opts.electionTimeoutMs),
      '--logger', 'zap',
      '--log-level', 'warn',
    ];
    this.stderrTail = '';
    const child = spawn(this.opts.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    let exitInfo: string | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        if (this.child === child) this.child = null;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error: ${err.message}`;
        if (this.child === child) this.child = null;
        resolve();
      });
    });

    const deadline = Date.now() + this.opts.startTimeoutMs;
    while (Date.now() < deadline) {
      if (exitInfo !== null) {
        throw new Error(`etcd exited during start-up (${exitInfo}); stderr tail:\n${this.stderrTail}`);
      }
      if (await this.healthy()) {
        this.opts.log?.info('etcd ready', { endpoint: this.endpoint, pid: child.pid, dataDir: this.opts.dataDir });
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop();
    throw new Error(`etcd did not answer /health at ${this.endpoint} within ${this.opts.startTimeoutMs} ms; stderr tail:\n${this.stderrTail}`);
  }

  /**
   * Healthy, and the member answering is ours: its member list names our peer URL. Without that
   * check, another process already listening on the client port (a second etcd pointed at a used
   * port, which then exits with "address already in use") would pass for a ready member.
   */
  private async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      if (!res.ok) return false;
      const body = (await res.json()) as { health?: string };
      if (body.health !== 'true') return false;
      const members = await fetch(`${this.endpoint}/v3/cluster/member/list`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
      if (!members.ok) return false;
      const list = (await members.json()) as { members?: { peerURLs?: string[] }[] };
      const peerUrl = `http://127.0.0.1:${this.peerPort}`;
      return (list.members ?? []).some((m) => m.peerURLs?.includes(peerUrl));
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** Starts a single-member etcd and resolves once it is healthy. */
export async function startEtcd(options: EtcdOptions): Promise<EtcdProcess> {
  const opts = {
    dataDir: options.dataDir,
    name: options.name ?? 'brook-etcd',
    log: options.log,
    startTimeoutMs: options.startTimeoutMs ?? 15_000,
    heartbeatMs: options.heartbeatMs ?? 50,
    electionTimeoutMs: options.electionTimeoutMs ?? 500,
    binary: options.binary ?? ETCD_BINARY,
  };
  const pickPorts = !options.clientPort || !options.peerPort;
  const attempts = pickPorts ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const clientPort = options.clientPort || (await freeLoopbackPort());
    const peerPort = options.peerPort || (await freeLoopbackPort());
    const etcd = new EtcdChild(opts, clientPort, peerPort);
    try {
      await etcd.start();
      return etcd;
    } catch (err) {
      lastError = err;
      // Only a lost port race is worth another try; a bad binary or data dir fails the same way again.
      if (!String((err as Error).message).includes('address already in use')) break;
    }
  }
  throw lastError;
}
