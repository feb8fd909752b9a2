/**
 * The web console on the gateway's HTTP listener (docs/console.md): the page at `/`, its files
 * under `console/`, uPlot under `vendor/`, and the JSON API under `api/v1/` (api.ts). Every URL the
 * page uses is relative, so the console also works behind a reverse proxy that adds a path prefix.
 *
 * Who may call the API, following the gateway's WsAuth rules (src/ws/auth.ts):
 * - `Authorization: Bearer <token>`: that token's principal (its read/write topic prefixes apply),
 *   in either ws.auth mode. A bearer token is not ambient authority (a hostile page cannot make the
 *   browser send it), so such requests skip the Origin checks, as WebSocket bearer entries do.
 * - no token, ws.auth=token: 401.
 * - no token, ws.auth=none: the anonymous principal (everything). Reads are open (another site's
 *   page cannot read the answers: no CORS headers are sent). Changes (POST, DELETE) are refused
 *   with 403 unless they come from the console's own page, against cross-site request forgery:
 *   `Sec-Fetch-Site`, when the browser sends it, must be `same-origin` (another port of localhost is
 *   `same-site`: refused), and `Origin`, when present, must pass the gateway's WebSocket origin rule
 *   (WsAuth: listed in ws.allowed.origins, or with an empty list a loopback page over loopback).
 *   The `Host` header is not trusted for this: under DNS rebinding a hostile page's Origin and Host
 *   agree, and only the Origin still names the hostile site. A request with neither header is not
 *   from a browser (curl, scripts) and is allowed, as for WebSockets. POST bodies must also be
 *   `application/json`, which a cross-site HTML form cannot send.
 *
 * Requests: JSON bodies up to 64 KiB (413 above). Answers: JSON, `{"error", "code"}` on failure
 * (400 bad input, 401/403 auth, 404 unknown topic or group, 409 conflicts, 413, 415).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anonymousPrincipal, AuthError, type Principal } from '../ws/auth.js';
import type { Gateway, HttpRoutes } from '../ws/gateway.js';
import type { Guard, GuardedResponse } from '../ws/guard.js';
import { notFound, sendFile } from '../ws/static-file.js';
import type { HttpRequest, TemplatedApp } from '../ws/uws.js';
import { ApiError, ConsoleApi, type Access } from './api.js';

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The front end (the repository's top-level console/ folder): two levels up from this module in
 * the sources (src/console/), three from dist/src/console/.
 */
const FRONT_END_DIR = ((here) => [join(here, '../../console'), join(here, '../../../console')].find((d) => existsSync(join(d, 'index.html'))))(dirname(fileURLToPath(import.meta.url)));

/** uPlot's browser files, from the installed package (never a CDN). */
function vendorFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const require = createRequire(import.meta.url);
  for (const f of ['uPlot.esm.js', 'uPlot.min.css']) {
    try {
      files.set(f, require.resolve(`uplot/dist/${f}`));
    } catch {
      // Not installed: the page shows its charts as unavailable; everything else works.
    }
  }
  return files;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/**
 * Page headers: nothing from elsewhere (no CDN; WebSockets only to this origin), and no framing by
 * another site, which could otherwise trick a click on "Delete".
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/** What a handler copies from the request before its first await (uWS's req is valid only synchronously). */
interface Asked {
  method: string;
  params: string[];
  authorization: string;
  origin: string;
  secFetchSite: string;
  remoteAddress: string;
  contentType: string;
  body: Promise<Buffer> | undefined;
}

/** The console's routes, for GatewayOptions.routes. */
export function consoleRoutes(): HttpRoutes {
  return (app: TemplatedApp, guard: Guard, gateway: Gateway) => new ConsoleRoutes(app, guard, gateway).register();
}

class ConsoleRoutes {
  private readonly api: ConsoleApi;
  private readonly vendor = vendorFiles();

  constructor(
    private readonly app: TemplatedApp,
    private readonly guard: Guard,
    private readonly gateway: Gateway,
  ) {
    this.api = new ConsoleApi(gateway.broker, () => gateway.stats);
    if (!FRONT_END_DIR) gateway.logger.warn('console: its files (console/index.html) are not installed; the JSON API is served, the page is not');
    if (this.vendor.size < 2) gateway.logger.warn('console: uplot is not installed; the page will show no charts');
  }

  register(): void {
    const { app, guard, api } = this;
    app.get('/', guard.http('console page', (r) => this.frontEnd(r, 'index.html')));
    app.get('/console/:file', guard.http('console file', (r, req) => this.frontEnd(r, req.getParameter(0) ?? '')));
    app.get('/vendor/:file', guard.http('console vendor file', (r, req) => this.vendorFile(r, req.getParameter(0) ?? '')));

    const route = (method: 'get' | 'post' | 'del', pattern: string, name: string, mutating: boolean, fn: (a: Access, asked: Asked) => unknown) => {
      app[method](
        pattern,
        guard.http(name, (r, req) => this.serve(r, req, pattern.split('/:').length - 1, mutating, fn)),
      );
    };
    route('get', '/api/v1/overview', 'console overview', false, () => api.overview());
    route('get', '/api/v1/topics', 'console topics', false, (a) => api.topics(a));
    route('post', '/api/v1/topics', 'console create topic', true, async (a, q) => api.createTopic(a, await json(q)));
    route('get', '/api/v1/topics/:name', 'console topic', false, (a, q) => api.topic(a, param(q, 0)));
    route('del', '/api/v1/topics/:name', 'console delete topic', true, (a, q) => api.deleteTopic(a, param(q, 0)));
    route('get', '/api/v1/groups', 'console groups', false, () => api.groups());
    route('get', '/api/v1/groups/:id', 'console group', false, (_a, q) => api.group(param(q, 0)));
    route('post', '/api/v1/groups/:id/offsets', 'console reset offsets', true, async (a, q) => api.resetOffsets(a, param(q, 0), await json(q)));
    route('get', '/api/v1/configs/broker', 'console broker configs', false, () => api.brokerConfigs());
    app.any('/api/*', guard.http('console api 404', (r) => sendError(r, new ApiError(404, 'NOT_FOUND', 'no such endpoint or method (docs/console.md)'))));
  }

  private async serve(r: GuardedResponse, req: HttpRequest, paramCount: number, mutating: boolean, fn: (a: Access, asked: Asked) => unknown): Promise<void> {
    const method = req.getMethod().toUpperCase();
    // uWS answers '' (not undefined) past the last parameter: the pattern's own count bounds it.
    const params: string[] = [];
    for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i) ?? '');
    const asked: Asked = {
      method,
      params,
      authorization: req.getHeader('authorization'),
      origin: req.getHeader('origin'),
      secFetchSite: req.getHeader('sec-fetch-site'),
      remoteAddress: Buffer.from(r.res.getRemoteAddressAsText()).toString(),
      contentType: req.getHeader('content-type'),
      // The body must be claimed before the handler returns (uWS delivers it to onData only then).
      body: method === 'POST' ? readBody(r) : undefined,
    };
    asked.body?.catch(() => {}); // its failure is reported by json(), if it is awaited at all
    try {
      const principal = await this.authorize(asked, mutating);
      const result = await fn({ principal, canRead: (p, t) => this.gateway.auth.canRead(p, t), canWrite: (p, t) => this.gateway.auth.canWrite(p, t) }, asked);
      r.end(method === 'POST' && paramCount === 0 ? STATUS_TEXT[201]! : STATUS_TEXT[200]!, JSON.stringify(result), JSON_HEADERS);
    } catch (e) {
      if (e instanceof AuthError) sendError(r, new ApiError(e.closeCode === 4403 ? 403 : 401, e.closeCode === 4403 ? 'FORBIDDEN' : 'UNAUTHENTICATED', e.message));
      else if (e instanceof ApiError) sendError(r, e);
      else throw e; // the guard answers 500 and logs it
    }
  }

  private async authorize(q: Asked, mutating: boolean): Promise<Principal> {
    if (q.authorization !== '') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(q.authorization);
      if (!m) throw new ApiError(401, 'UNAUTHENTICATED', 'Authorization must be "Bearer <token>"');
      return this.gateway.auth.authenticateToken(m[1]!);
    }
    if (this.gateway.config.auth === 'token') throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Bearer <token> (ws.auth=token)');
    if (mutating) await this.checkSameOrigin(q);
    return anonymousPrincipal;
  }

  /** See the header: cross-site request forgery protection for token-less changes. */
  private async checkSameOrigin(q: Asked): Promise<void> {
    if (q.secFetchSite !== '' && q.secFetchSite !== 'same-origin') {
      throw new ApiError(403, 'FORBIDDEN', `cross-site request refused (Sec-Fetch-Site: ${q.secFetchSite}); send a bearer token or use the console's own page`);
    }
    // The WebSocket rule itself (AuthError 4403 when the Origin is not allowed; no Origin passes).
    await this.gateway.auth.authenticate({ protocols: [], origin: q.origin === '' ? undefined : q.origin, ticket: undefined, remoteAddress: q.remoteAddress });
    if (q.method === 'POST' && !/^application\/json\s*(;|$)/i.test(q.contentType)) {
      throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
    }
  }

  private async frontEnd(r: GuardedResponse, file: string): Promise<void> {
    const ext = /^[a-z0-9-]+\.(html|js|css|svg)$/.exec(file)?.[1];
    if (!FRONT_END_DIR || !ext) {
      notFound(r);
      return;
    }
    await sendFile(r, join(FRONT_END_DIR, file), { 'content-type': TYPES[ext] ?? 'application/octet-stream', ...PAGE_HEADERS });
  }

  private async vendorFile(r: GuardedResponse, file: string): Promise<void> {
    const path = this.vendor.get(file);
    if (!path) {
      notFound(r);
      return;
    }
    await sendFile(r, path, { 'content-type': TYPES[file.endsWith('.css') ? 'css' : 'js']!, ...PAGE_HEADERS });
  }
}

function sendError(r: GuardedResponse, e: ApiError): void {
  r.end(STATUS_TEXT[e.status] ?? `${e.status} Error`, JSON.stringify({ error: e.message, code: e.code }), JSON_HEADERS);
}

/** A URL parameter, percent-decoded (group ids may hold any character); 400 if malformed. */
function param(q: Asked, i: number): string {
  const raw = q.params[i] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ApiError(400, 'BAD_REQUEST', `malformed percent-encoding in the URL: ${JSON.stringify(raw.slice(0, 60))}`);
  }
}

/** The request body as JSON; 400 if it is not JSON. */
async function json(q: Asked): Promise<unknown> {
  const body = await q.body!;
  if (body.length === 0) throw new ApiError(400, 'BAD_REQUEST', 'a JSON body is required');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw new ApiError(400, 'BAD_REQUEST', `the body is not JSON: ${(e as Error).message}`);
  }
}

/**
 * Collects the body. uWS lends each chunk's memory only for the callback, so it is copied; over
 * MAX_BODY_BYTES the promise rejects with 413 and the rest is ignored.
 */
function readBody(r: GuardedResponse): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    r.onAbort(() => reject(new ApiError(400, 'BAD_REQUEST', 'the client went away')));
    r.res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(new ApiError(413, 'PAYLOAD_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}
