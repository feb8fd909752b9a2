/**
 * Request/reply over a child process's IPC channel: the bench's server and client each run in
 * their own process (so each one's CPU time and RSS are its own) and are driven from the bench.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** A child process running one of bench/ws/*-server.ts or client.ts, answering commands. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly proc: ChildProcess;
  private exited = false;

  /** Forks `file` (a .ts module) under tsx with `--expose-gc`, so RSS can be read after a collection. */
  constructor(file: string, args: string[] = [], nodeFlags: string[] = []) {
    this.proc = fork(file, args, { execArgv: ['--import', import.meta.resolve('tsx'), '--expose-gc', ...nodeFlags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`${file}: ${m.error}`));
      else p.resolve(m.result);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`${file} exited (${code ?? signal}) with a command pending`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  call<T>(cmd: string, args: unknown = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error('child exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, args } satisfies Request);
    });
  }

  /** Asks the child to finish (`exit` command), then kills it if it has not gone within 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.call('exit').catch(() => {});
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

/** The child's side: runs `handlers[cmd](args)` per request and replies; `exit` ends the process. */
export function serve(handlers: Record<string, (args: never) => unknown>, onExit: () => Promise<void> = async () => {}): void {
  process.on('message', (m: Request) => {
    void (async () => {
      try {
        if (m.cmd === 'exit') {
          await onExit();
          process.exit(0);
        }
        const h = handlers[m.cmd];
        if (!h) throw new Error(`unknown command ${m.cmd}`);
        const result = await h(m.args as never);
        process.send!({ id: m.id, result } satisfies Reply);
      } catch (e) {
        process.send!({ id: m.id, error: (e as Error).stack ?? String(e) } satisfies Reply);
      }
    })();
  });
  // The bench going away must not leave servers behind.
  process.on('disconnect', () => void onExit().finally(() => process.exit(0)));
}

/** CPU time (user + system, all threads) and RSS of this process, for the bench to difference. */
export function usage(): { cpuMs: number; rss: number; at: number } {
  const c = process.cpuUsage();
  return { cpuMs: (c.user + c.system) / 1000, rss: process.memoryUsage.rss(), at: performance.now() };
}
