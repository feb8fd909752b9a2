/**
 * The broker's logger: levels (error, warn, info, debug), human text or JSON lines, on pino.
 *
 * One logger per broker instance (startBroker builds it from log.level and log.format), handed to
 * every part that logs; nothing here is module state, so two brokers in one process never write
 * to each other's sink. `child({ component })` adds bindings to every record of the child.
 *
 * Formats, one record per line:
 *   text  2026-12-05T12:00:00.000Z WARN brook: closing connection from 10.0.0.7:5100: ... peer=10.0.0.7
 *         (time, level, message, then bindings and fields as key=value; a stack trace in the
 *         message keeps its own lines)
 *   json  {"level":"warn","time":"2026-12-05T12:00:00.000Z","pid":1,"hostname":"h","msg":"...","peer":"10.0.0.7"}
 *         (pino's own JSON line; level as its name, time as ISO 8601 UTC)
 *
 * Both formats go through pino (level filtering, bindings, JSON encoding); text is rendered from
 * pino's line, which costs a JSON.parse per record: nothing next to what a record costs to write,
 * and records are few (the noisy ones are rate-limited, PeerLogLimiter below).
 *
 * Writes are synchronous (pino's sonic-boom destination on fd 2 with sync: true): a record is in
 * the kernel when the call returns, so nothing is lost when the process exits or is killed, and
 * lines keep their order with other synchronous writes to stderr (the CLI's). Asynchronous
 * destinations buffer in memory and lose their tail on a crash, for a saving that only matters at
 * thousands of lines per second, which the rate limits keep us far from.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Structured data attached to a record: JSON fields, or key=value in text. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** Whether records of `level` are written (to skip building costly messages). */
  enabled(level: LogLevel): boolean;
  /** A logger adding `bindings` to every record; same sink, same level. */
  child(bindings: LogFields): Logger;
  /** Writes out anything buffered (the default sink buffers nothing; kept for other sinks). */
  flush(): void;
}

/** Where lines go: anything with a synchronous write of one string (a sonic-boom, a test's array). */
export interface LogSink {
  write(line: string): unknown;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Default: stderr (fd 2), synchronously. */
  sink?: LogSink;
  /** The name shown in text lines (`... INFO brook: ...`). */
  name?: string;
}

/** A logger writing lines to a sink (stderr by default). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const sink = opts.sink ?? pino.destination({ dest: 2, sync: true });
  const name = opts.name ?? 'brook';
  const format = opts.format ?? 'text';
  const dest: DestinationStream = format === 'json' ? { write: (line: string) => void sink.write(line) } : { write: (line: string) => void sink.write(textLine(name, line)) };
  return wrap(base(opts.level ?? 'info', dest), sink);
}

/**
 * A logger calling `fn` with each record as one string: the message, then fields as key=value; no
 * time or level (the shape of the plain `(msg) => void` loggers startBroker used to take).
 */
export function functionLogger(fn: (msg: string) => void, level: LogLevel = 'info'): Logger {
  return wrap(
    base(level, {
      write: (line: string) => {
        const r = JSON.parse(line) as Record<string, unknown>;
        fn(r.msg + renderFields(r));
      },
    }),
    undefined,
  );
}

/** A logger that writes nothing. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  enabled: () => false,
  child: () => silentLogger,
  flush() {},
};

function base(level: LogLevel, dest: DestinationStream): PinoLogger {
  if (!LOG_LEVELS.includes(level)) throw new Error(`unknown log level ${JSON.stringify(level)}`);
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

function wrap(p: PinoLogger, sink: LogSink | undefined): Logger {
  const at =
    (level: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (fields) p[level](fields, msg);
      else p[level](msg);
    };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    enabled: (level) => p.isLevelEnabled(level),
    child: (bindings) => wrap(p.child(bindings), sink),
    flush() {
      const s = sink as { flushSync?: () => void } | undefined;
      try {
        s?.flushSync?.();
      } catch {
        // A sync sonic-boom has nothing buffered; an async one not yet open throws: nothing to write.
      }
    },
  };
}

/** Fields pino puts on every JSON line; text shows time and level in front and omits the rest. */
const HEADER_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

function textLine(name: string, json: string): string {
  const r = JSON.parse(json) as Record<string, unknown>;
  return `${r.time} ${String(r.level).toUpperCase()} ${name}: ${r.msg}${renderFields(r)}\n`;
}

function renderFields(r: Record<string, unknown>): string {
  let out = '';
  for (const [k, v] of Object.entries(r)) {
    if (HEADER_FIELDS.has(k)) continue;
    out += ` ${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`;
  }
  return out;
}

// ----------------------------------------------------------------------------- rate limiting

export interface PeerLogLimits {
  /** Records per peer written in one window; the rest of the window is counted, not written. */
  burst: number;
  /** Length of a window, from the first record of a peer. */
  intervalMs: number;
  /** Peers tracked at once; records of further peers share one entry (`other peers`). */
  maxPeers?: number;
  /** How the summary line names a key; default `from <key>`. */
  subject?: (key: string) => string;
  /** The field that carries the key on each record written; default `peer`. */
  keyField?: string;
}

/** Defaults: 10 lines per peer per 10 s; at most 1 + 1/s lines for a peer that never stops. */
export const DEFAULT_PEER_LOG_LIMITS: PeerLogLimits = { burst: 10, intervalMs: 10_000, maxPeers: 10_000 };

interface PeerWindow {
  start: number;
  written: number;
  suppressed: number;
  level: LogLevel;
}

/**
 * Keeps a peer's records from flooding the log (a client sending garbage on connection after
 * connection): per peer (remote address, not port: each new connection has a new port), the first
 * `burst` records of a window are written, later ones only counted; when the window ends, one line
 * says how many were suppressed:
 *
 *   suppressed 29990 similar messages from 127.0.0.1 in the last 10s
 *
 * Windows end on a timer (unref'd: it never keeps the process up) so the count comes out once the
 * flood stops, and close() writes the counts of open windows, so none is lost at shutdown.
 */
export class PeerLogLimiter {
  private readonly peers = new Map<string, PeerWindow>();
  private timer: NodeJS.Timeout | undefined;
  private readonly maxPeers: number;

  constructor(
    private readonly log: Logger,
    private readonly limits: PeerLogLimits = DEFAULT_PEER_LOG_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limits.burst >= 1 && limits.intervalMs >= 1)) throw new Error(`peer log limits need burst >= 1 and intervalMs >= 1, got ${JSON.stringify(limits)}`);
    this.maxPeers = limits.maxPeers ?? DEFAULT_PEER_LOG_LIMITS.maxPeers!;
  }

  /** Writes the record unless `peer` used up its window; `peer` is added to the fields. */
  write(level: LogLevel, peer: string, msg: string, fields?: LogFields): void {
    if (!this.log.enabled(level)) return;
    const key = this.peers.has(peer) || this.peers.size < this.maxPeers ? peer : 'other peers';
    const now = this.now();
    let w = this.peers.get(key);
    if (w && now - w.start >= this.limits.intervalMs) {
      this.end(key, w);
      w = undefined;
    }
    if (!w) {
      w = { start: now, written: 0, suppressed: 0, level };
      this.peers.set(key, w);
      this.arm();
    }
    if (w.written < this.limits.burst) {
      w.written++;
      this.log[level](msg, { ...fields, [this.limits.keyField ?? 'peer']: peer });
    } else {
      w.suppressed++;
      if (level === 'error' || (level === 'warn' && w.level !== 'error')) w.level = level;
    }
  }

  /** Ends every window now, writing the suppression counts; stops the timer. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const [key, w] of this.peers) this.end(key, w);
  }

  private end(key: string, w: PeerWindow): void {
    this.peers.delete(key);
    if (w.suppressed === 0) return;
    const seconds = Math.max(1, Math.round((this.now() - w.start) / 1000));
    const subject = this.limits.subject?.(key) ?? `from ${key}`;
    this.log[w.level](`suppressed ${w.suppressed} similar messages ${subject} in the last ${seconds}s`, { [this.limits.keyField ?? 'peer']: key, suppressed: w.suppressed });
  }

  private arm(): void {
    if (this.timer) return;
    // Windows are ended by this sweep, at most a second late; ending them lazily on the next
    // record would hold a count back until the peer misbehaves again.
    this.timer = setInterval(() => this.sweep(), Math.min(this.limits.intervalMs, 1000));
    this.timer.unref();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, w] of this.peers) if (now - w.start >= this.limits.intervalMs) this.end(key, w);
    if (this.peers.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
