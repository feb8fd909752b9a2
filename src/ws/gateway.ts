/**
 * The WebSocket and SSE gateway: one uWebSockets.js App on its own port (uWS cannot share a port
 * with Node's net), serving `/ws/v1` (docs/websocket.md), `/sse/v1/topics/:topic`, tickets and
 * the client library's files. It sits beside the Kafka listener and uses the broker the same way
 * Kafka handlers do: the same logs, the same append wake-ups, the same group coordinator.
 *
 * Every uWS option is set explicitly (their defaults changed between uWS versions and are not what
 * a broker wants): maxPayloadLength 64 KiB (clients send control and produce frames only; larger
 * ends the connection as 1006, counted as `oversize` where uWS tells us), idleTimeout with
 * automatic pings, maxBackpressure = ws.max.buffered.bytes with closeOnBackpressureLimit off
 * (the gateway's own flow control keeps every socket under half of it: a `dropped` callback is a
 * bug and is counted), compression off, maxLifetime 0.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Broker } from '../broker/broker.js';
import type { WsConfig } from '../config.js';
import { AuthError, parseSubprotocols, WsAuth, type Authenticate, type Principal } from './auth.js';
import { CloseCode } from './close-codes.js';
import type { WsGroupMember } from './group-member.js';
import { PeerLogLimiter, type Logger } from '../util/logger.js';
import { Guard, type GuardedResponse } from './guard.js';
import { LiveTails } from './live.js';
import { notFound, sendFile } from './static-file.js';
import { frameLimit, Session, type SessionHost, type SocketData } from './session.js';
import { SseStreams } from './sse.js';
import type { HttpRequest, TemplatedApp, UwsModule, WebSocket, us_listen_socket } from './uws.js';

export interface GatewayStats {
  connections: number;
  /** Handlers that threw (answered 500 / closed 1011); the broker stayed up. */
  handlerErrors: number;
  /** Messages uWS dropped for backpressure: must stay 0 (every test asserts it). */
  dropped: number;
  framesSent: number;
  recordsSent: number;
  /** Times a slow subscription's policy fired. */
  slowConsumerActions: number;
  /** Connections refused with 4503 (ws.max.connections). */
  refused: number;
  sseStreams: number;
  /** Subscriptions on open WebSocket sessions, every mode (live, assign, group). */
  subscriptions: number;
  liveSubscribers: number;
}

export interface GatewayOptions {
  authenticate?: Authenticate;
  /**
   * More HTTP routes on the same listener (metrics, the console), registered before the catch-all
   * 404. Every handler must go through `guard.http` (see guard.ts for why).
   */
  routes?: HttpRoutes[];
}

/** Registers routes on the gateway's app; `guard` wraps each handler. */
export type HttpRoutes = (app: TemplatedApp, guard: Guard, gateway: Gateway) => void;

const WS_PATH = '/ws/v1';
/** How long a shutdown waits for sockets to take their closing frame. */
const SHUTDOWN_WAIT_MS = 3000;
/**
 * The compiled client library: beside this module when it runs from dist/, under dist/ when it runs
 * from the TypeScript sources (tsx, vitest).
 */
const CLIENT_DIR = ((here) => [join(here, '../client'), join(here, '../../dist/src/client')].find((d) => existsSync(join(d, 'index.js'))) ?? join(here, '../client'))(dirname(fileURLToPath(import.meta.url)));

export class Gateway implements SessionHost {
  readonly counters = { handlerErrors: 0, dropped: 0, framesSent: 0, recordsSent: 0, slowConsumerActions: 0, refused: 0 };
  readonly live: LiveTails;
  readonly auth: WsAuth;
  private readonly app: TemplatedApp;
  private readonly guard: Guard;
  readonly peerLog: PeerLogLimiter;
  private readonly sessions = new Set<Session>();
  /**
   * Open sessions and parked group members by sessionKey: a session id names a session only
   * within its principal, so knowing another principal's id takes nothing over.
   */
  private readonly byId = new Map<string, Session>();
  private readonly parked = new Map<string, { groupId: string; member: WsGroupMember; timer: NodeJS.Timeout }[]>();
  private readonly sse: SseStreams;
  private listenSocket: us_listen_socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  port = 0;

  constructor(
    private readonly uws: UwsModule,
    readonly broker: Broker,
    readonly config: WsConfig,
    readonly logger: Logger,
    opts: GatewayOptions = {},
  ) {
    this.guard = new Guard(this.counters, logger);
    this.peerLog = new PeerLogLimiter(logger);
    this.auth = new WsAuth({ mode: config.auth, tokensFile: config.tokensFile || undefined, authenticate: opts.authenticate, allowedOrigins: config.allowedOrigins });
    this.live = new LiveTails(broker, frameLimit(config), config.lingerMs, (fn) => this.guard.task('live fan-out', fn)());
    this.sse = new SseStreams(this, this.guard);
    this.app = uws.App();
    this.routes(opts.routes ?? []);
  }

  get stats(): GatewayStats {
    let subscriptions = 0;
    for (const s of this.sessions) subscriptions += s.subs.size;
    return { connections: this.sessions.size, ...this.counters, sseStreams: this.sse.size, subscriptions, liveSubscribers: this.live.size };
  }

  private routes(extra: HttpRoutes[]): void {
    const { uws, guard } = this;
    const closed = (ws: WebSocket<SocketData>) => ws.getUserData().session?.closed ?? true;
    this.app.ws<SocketData>(WS_PATH, {
      maxPayloadLength: 64 * 1024,
      idleTimeout: this.config.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      maxBackpressure: this.config.maxBufferedBytes,
      closeOnBackpressureLimit: false,
      // DISABLED (0): the d.mts declares it as a type only.
      compression: (uws as unknown as { DISABLED: number }).DISABLED,
      maxLifetime: 0,
      upgrade: guard.http('upgrade', (r, req, context) => this.upgrade(r, req, context)),
      open: guard.ws('open', closed, (ws) => this.open(ws)),
      message: guard.ws('message', closed, (ws, message: ArrayBuffer, isBinary: boolean) => ws.getUserData().session?.onMessage(message, isBinary)),
      drain: guard.ws('drain', closed, (ws) => ws.getUserData().session?.onDrain()),
      dropped: guard.ws('dropped', () => true, () => {
        this.counters.dropped++;
      }),
      close: guard.ws('close', () => true, (ws, code: number) => this.closed(ws, code)),
    });
    this.app.post(`${WS_PATH}/ticket`, guard.http('ticket', (r, req) => this.ticket(r, req)));
    this.app.get('/sse/v1/topics/:topic', guard.http('sse', (r, req) => this.sse.open(r, req)));
    this.app.get('/client/:file', guard.http('client', (r, req) => this.clientFile(r, req)));
    // Browsers ask every origin for one; an empty answer keeps their consoles free of 404s.
    this.app.get('/favicon.ico', guard.http('favicon', (r) => r.end('204 No Content', '')));
    this.app.get('/healthz', guard.http('healthz', (r) => r.end('200 OK', 'ok\n', { 'content-type': 'text/plain' })));
    for (const register of extra) register(this.app, guard, this);
    this.app.any('/*', guard.http('not found', (r) => r.end('404 Not Found', 'not found\n', { 'content-type': 'text/plain' })));
  }

  /**
   * The handshake. Everything needed from `req` is copied before the first await (req is valid
   * only synchronously); the upgrade itself happens corked, after authentication, unless the
   * client went away meanwhile.
   */
  private async upgrade(r: GuardedResponse, req: HttpRequest, context: unknown): Promise<void> {
    const key = req.getHeader('sec-websocket-key');
    const protocolHeader = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const origin = req.getHeader('origin') || undefined;
    const ticket = new URLSearchParams(req.getQuery() ?? '').get('ticket') ?? undefined;
    const remoteAddress = Buffer.from(r.res.getRemoteAddressAsText()).toString();
    const protocols = parseSubprotocols(protocolHeader);
    const protocol = WsAuth.chooseProtocol(protocols);
    if (!protocol) {
      r.end('400 Bad Request', 'offer the subprotocol brook.v1.bin or brook.v1.json (Sec-WebSocket-Protocol)\n', { 'content-type': 'text/plain' });
      return;
    }
    let principal: Principal | undefined;
    let refusal: AuthError | undefined;
    try {
      principal = await this.auth.authenticate({ protocols, origin, ticket, remoteAddress });
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      refusal = e;
    }
    if (r.answered || r.aborted) return;
    r.answered = true;
    // Browsers cannot read the status of a refused handshake: upgrade, then close with 4401/4403.
    const data: SocketData & { refusal?: AuthError } = { protocol, principal: principal ?? { name: 'refused', read: [], write: [] }, remoteAddress, origin, refusal };
    r.cork(() => r.res.upgrade(data, key, protocol, extensions, context as never));
  }

  private open(ws: WebSocket<SocketData>): void {
    const data = ws.getUserData() as SocketData & { refusal?: AuthError };
    const session = new Session(ws, this, data);
    data.session = session;
    this.sessions.add(session);
    if (data.refusal) {
      session.closeWith(data.refusal.closeCode, data.refusal.message);
      return;
    }
    if (this.closing) {
      session.closeWith(CloseCode.GoingAway, 'shutting down');
      return;
    }
    if (this.sessions.size > this.config.maxConnections) {
      this.counters.refused++;
      session.closeWith(CloseCode.Overloaded, `over ws.max.connections (${this.config.maxConnections})`);
      return;
    }
    this.byId.set(sessionKey(session), session);
    // The first send after a corked async upgrade can dirty-close the socket (uWebSockets#1928):
    // the hello waits one turn.
    this.defer(() => session.sendControl({ op: 'hello', session: session.id, protocol: data.protocol, maxFrameBytes: frameLimit(this.config) }));
  }

  private closed(ws: WebSocket<SocketData>, code: number): void {
    const session = ws.getUserData().session;
    if (!session) return;
    this.sessions.delete(session);
    if (this.byId.get(sessionKey(session)) === session) this.byId.delete(sessionKey(session));
    session.onClose(code);
  }

  defer(fn: () => void): void {
    setImmediate(this.guard.task('deferred', fn));
  }

  guarded(where: string, fn: () => void): () => void {
    return this.guard.task(where, fn);
  }

  takeOver(s: Session, id: string): void {
    if (id === s.id) return;
    const key = sessionKey(s, id);
    const old = this.byId.get(key);
    if (old && old !== s) old.closeWith(CloseCode.SessionTakenOver, 'session taken over by a newer connection', true);
    if (this.byId.get(sessionKey(s)) === s) this.byId.delete(sessionKey(s));
    s.id = id;
    this.byId.set(key, s);
  }

  reclaimMember(s: Session, groupId: string): WsGroupMember | undefined {
    const key = sessionKey(s);
    const list = this.parked.get(key);
    const i = list?.findIndex((p) => p.groupId === groupId) ?? -1;
    if (!list || i < 0) return undefined;
    const [p] = list.splice(i, 1);
    if (list.length === 0) this.parked.delete(key);
    clearTimeout(p!.timer);
    return p!.member;
  }

  parkMember(s: Session, groupId: string, member: WsGroupMember): void {
    if (this.closing) {
      void Promise.resolve(member.leave()).catch(() => {});
      return;
    }
    const key = sessionKey(s);
    let list = this.parked.get(key);
    if (!list) this.parked.set(key, (list = []));
    const entry = {
      groupId,
      member,
      timer: setTimeout(
        this.guard.task('session grace', () => {
          const l = this.parked.get(key);
          const i = l?.indexOf(entry) ?? -1;
          if (l && i >= 0) l.splice(i, 1);
          if (l?.length === 0) this.parked.delete(key);
          void Promise.resolve(member.leave()).catch(() => {});
        }),
        this.config.sessionGraceMs,
      ),
    };
    entry.timer.unref();
    list.push(entry);
  }

  /** POST /ws/v1/ticket with `Authorization: Bearer <token>`: a single-use ticket for `?ticket=`. */
  private async ticket(r: GuardedResponse, req: HttpRequest): Promise<void> {
    const authz = req.getHeader('authorization');
    const m = /^Bearer\s+(.+)$/i.exec(authz);
    if (!m) {
      r.end('401 Unauthorized', '{"error":"send Authorization: Bearer <token>"}', { 'content-type': 'application/json' });
      return;
    }
    try {
      const principal = await this.auth.authenticateToken(m[1]!);
      const t = this.auth.issueTicket(principal);
      r.end('200 OK', JSON.stringify(t), { 'content-type': 'application/json', 'cache-control': 'no-store' });
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      r.end(e.closeCode === 4403 ? '403 Forbidden' : '401 Unauthorized', JSON.stringify({ error: e.message }), { 'content-type': 'application/json' });
    }
  }

  /** The client library (dist/src/client/*.js), loadable in a page with <script type="module">. */
  private async clientFile(r: GuardedResponse, req: HttpRequest): Promise<void> {
    const file = req.getParameter(0) ?? '';
    if (!/^[a-z0-9-]+\.js$/.test(file)) notFound(r);
    else await sendFile(r, join(CLIENT_DIR, file), { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
  }

  /** Binds ws.listeners (port 0: any free port). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`ws gateway: cannot listen on ${host}:${port} (in use, or not an address of this machine)`));
          return;
        }
        this.listenSocket = socket;
        this.port = this.uws.us_socket_local_port(socket as never);
        this.timer = setInterval(
          this.guard.task('ws timers', () => this.tick()),
          Math.min(250, this.config.checkpointMs),
        );
        this.timer.unref();
        resolve(this.port);
      });
    });
  }

  private lastCheckpoint = 0;

  private tick(): void {
    const now = Date.now();
    const checkpoint = now - this.lastCheckpoint >= this.config.checkpointMs;
    if (checkpoint) this.lastCheckpoint = now;
    for (const s of this.sessions) {
      if (s.closed) continue;
      s.checkSlow(now);
      if (checkpoint) s.checkpoint();
    }
    this.sse.tick(now);
  }

  /**
   * Graceful shutdown: stop accepting, send every socket `closing` with its cursors and close it
   * with 1001 once uWS has handed all it buffered for the socket to the kernel, end SSE streams
   * (and their connections), then close the App, which drops whatever is left. A client that does
   * not read within SHUTDOWN_WAIT_MS loses its closing frame; the rest get theirs whole.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.timer);
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    for (const s of [...this.sessions]) s.closeWith(CloseCode.GoingAway, 'broker shutting down', true, { afterDrain: true });
    this.sse.close();
    this.live.close();
    for (const list of this.parked.values()) {
      for (const p of list) {
        clearTimeout(p.timer);
        void Promise.resolve(p.member.leave()).catch(() => {});
      }
    }
    this.parked.clear();
    const deadline = Date.now() + SHUTDOWN_WAIT_MS;
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      // drain is only a hint (uWS): look at the buffers here too.
      for (const s of this.sessions) s.flushControl();
    }
    // Keep-alive HTTP connections (pages, SSE clients between retries) must not stay on a gateway
    // whose broker is gone: app.close() ends them, and any socket still open.
    await new Promise((r) => setTimeout(r, 50));
    this.app.close();
    this.guard.close();
    this.peerLog.close();
  }
}

/** A session's id within its principal (see Gateway.byId). */
function sessionKey(s: Session, id = s.id): string {
  return `${s.principal.name}\u0000${id}`;
}
