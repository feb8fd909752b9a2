/**
 * The one wrapper every uWebSockets.js handler of the gateway goes through. uWS ends the whole
 * process in two cases that must never reach a broker (../shared/reference/websocket.md §2):
 * - an HTTP or upgrade handler that returns without answering and without `res.onAborted`
 *   ("Returning from a request handler without responding or attaching an abort handler is
 *   forbidden!", then abort());
 * - an exception thrown in any callback, which surfaces as an uncaughtException.
 * So: `onAborted` is attached before the handler runs; a handler that throws or rejects answers
 * HTTP 500 (if it had not answered) or closes its WebSocket with 1011, and is counted and logged;
 * writes after the synchronous callback go through `cork()`, which also refuses to touch a
 * response that was aborted (touching it would throw). WebSockets carry the same "closed" flag in
 * their user data (Session.closed), set by the close handler.
 */
import { CloseCode, closeReason } from './close-codes.js';
import { PeerLogLimiter, type Logger } from '../util/logger.js';
import type { HttpRequest, HttpResponse, WebSocket } from './uws.js';

export interface GuardCounters {
  /** Handlers that threw or rejected (each answered 500 or closed 1011). */
  handlerErrors: number;
}

/** An HTTP response that knows whether the client went away and whether it was answered. */
export class GuardedResponse {
  aborted = false;
  answered = false;
  private abortHooks: (() => void)[] = [];

  constructor(readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
      for (const hook of this.abortHooks.splice(0)) hook();
    });
  }

  /** Called once if the client goes away before the response ends. */
  onAbort(hook: () => void): void {
    if (this.aborted) hook();
    else this.abortHooks.push(hook);
  }

  /** Runs `fn` corked (required for writes outside the synchronous callback); false if aborted. */
  cork(fn: () => void): boolean {
    if (this.aborted) return false;
    this.res.cork(fn);
    return true;
  }

  /** Answers once with a complete response; later calls and calls after an abort do nothing. */
  end(status: string, body: string, headers: Record<string, string> = {}): void {
    if (this.answered) return;
    this.answered = true;
    this.cork(() => {
      this.res.writeStatus(status);
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      this.res.end(body);
    });
  }
}

export type HttpHandler = (r: GuardedResponse, req: HttpRequest, context: unknown) => void | Promise<void>;

export class Guard {
  /**
   * Failures are logged with their stack, at most `burst` per handler per interval: a client that
   * finds a way to make a handler throw must not be able to fill the disk with stack traces.
   */
  private readonly failures: PeerLogLimiter;

  constructor(
    private readonly counters: GuardCounters,
    log: Logger,
    limits = { burst: 10, intervalMs: 10_000 },
  ) {
    this.failures = new PeerLogLimiter(log, { ...limits, subject: (where) => `about ws gateway handler ${where}`, keyField: 'handler' });
  }

  private failed(where: string, e: unknown): void {
    this.counters.handlerErrors++;
    this.failures.write('error', where, `ws gateway: ${where} failed: ${(e as Error)?.stack ?? String(e)}`);
  }

  /** Writes the counts of failures not logged; call when the gateway closes. */
  close(): void {
    this.failures.close();
  }

  /**
   * An HTTP (or upgrade) handler. `req` is valid only synchronously: read what you need from it
   * before the first await. The handler must answer (r.end, an upgrade, or a stream it ends later);
   * if it throws or rejects before answering, the client gets 500.
   */
  http(where: string, handler: HttpHandler): (res: HttpResponse, req: HttpRequest, context?: unknown) => void {
    return (res, req, context) => {
      const r = new GuardedResponse(res);
      const fail = (e: unknown) => {
        this.failed(where, e);
        r.end('500 Internal Server Error', 'internal error\n', { 'content-type': 'text/plain' });
      };
      try {
        const p = handler(r, req, context);
        if (p) p.catch(fail);
      } catch (e) {
        fail(e);
      }
    };
  }

  /**
   * A WebSocket callback. An exception closes that socket with 1011 (unless `isClosed` says it is
   * gone already) and never leaves the callback.
   */
  ws<U, A extends unknown[]>(where: string, isClosed: (ws: WebSocket<U>) => boolean, fn: (ws: WebSocket<U>, ...args: A) => void | Promise<void>): (ws: WebSocket<U>, ...args: A) => void {
    const fail = (ws: WebSocket<U>, e: unknown) => {
      this.failed(where, e);
      if (isClosed(ws)) return;
      try {
        ws.cork(() => ws.end(CloseCode.InternalError, closeReason('internal error')));
      } catch {
        // Closed meanwhile: nothing left to tell.
      }
    };
    return (ws, ...args) => {
      try {
        const p = fn(ws, ...args);
        if (p) p.catch((e: unknown) => fail(ws, e));
      } catch (e) {
        fail(ws, e);
      }
    };
  }

  /** A callback of our own (timer, wake-up) that must never throw into the event loop. */
  task<A extends unknown[]>(where: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      try {
        fn(...args);
      } catch (e) {
        this.failed(where, e);
      }
    };
  }
}
