/**
 * Authentication and authorization for the WebSocket and SSE gateway (`/ws/v1`, `/sse/v1`).
 *
 * Pure: no uWebSockets.js here. The gateway copies what it needs from the request (subprotocols,
 * `Origin`, `?ticket=`, the remote address) into `UpgradeCredentials` before any await, calls
 * `authenticate`, and on an `AuthError` upgrades anyway and closes with its `closeCode` (browsers
 * cannot read the status of a refused handshake, only a close code).
 *
 * Credentials, tried in this order (the first one present decides; a credential that is present but
 * wrong is refused, never skipped in favour of the next):
 * 1. A `bearer.<base64url>` entry in `Sec-WebSocket-Protocol`: the base64url (RFC 4648 §5, no padding)
 *    encoding of the token's UTF-8 bytes, because subprotocol tokens cannot carry arbitrary characters
 *    (`bearerProtocol(token)` builds it). Never echoed back: `chooseProtocol` only returns `brook.*`.
 * 2. `?ticket=`: a single-use ticket from `POST /ws/v1/ticket`, which authenticates with
 *    `Authorization: Bearer <token>` (the raw token; `authenticateToken`) and gets `issueTicket`.
 *    For browsers, which cannot set headers on a WebSocket or an EventSource.
 * 3. Nothing: the anonymous principal (read and write everything) when `mode` is `none`; 4401 when
 *    it is `token`.
 *
 * Origin rule. A bearer token is not ambient authority (a hostile page cannot make the browser send
 * it), so it skips the check. Every other way in (ticket, anonymous) is open to cross-site WebSocket
 * hijacking, so its `Origin` must be allowed, else 4403:
 * - no `Origin` header: allowed. Browsers always send one on a WebSocket and on a cross-origin
 *   EventSource, so its absence means a non-browser client or a same-origin page;
 * - `allowedOrigins` contains `*`, or the origin equals an entry (compared as URL origins: scheme,
 *   host and non-default port, case-insensitive): allowed;
 * - `allowedOrigins` empty, `mode` none and the peer on loopback (127.0.0.0/8, ::1, IPv4-mapped
 *   loopback): pages served from a loopback host (localhost, 127.x.x.x, [::1], any port) allowed,
 *   the zero-configuration local development case. Any other site the local user visits is
 *   refused, DNS rebinding included (its Origin still names the other site);
 * - otherwise refused. In particular tickets need `ws.allowed.origins` set.
 *
 * Tokens file (`ws.auth.tokens.file`), JSON:
 * ```json
 * {"tokens": [
 *   {"token": "s3cret", "principal": "alice", "read": ["logs."], "write": [], "expiresAt": null},
 *   {"token": "t0ken", "principal": "ingest", "read": [], "write": ["*"], "expiresAt": 1767225600000}
 * ]}
 * ```
 * `token` and `principal` are non-empty strings; several tokens may name one principal (rotation).
 * `read` and `write` (default `[]`) are topic prefixes: `""` or `"*"` means every topic, a trailing
 * `*` is allowed and ignored (`"logs.*"` = `"logs."`), otherwise Kafka's topic characters only.
 * `expiresAt` is milliseconds since the epoch, or null/absent for never. Unknown keys, duplicate keys
 * and duplicate tokens are refused, each with the file and line (never the token itself). The file is
 * parsed by the small parser below rather than JSON.parse because V8's syntax errors do not always
 * carry a position, and entries need their line numbers for the validation messages.
 *
 * Secrets: tokens are kept only as SHA-256 hashes and compared with `timingSafeEqual` against every
 * entry (no early exit); tickets are 24 random bytes, base64url, stored only by hash, deleted on first
 * use, on expiry or when the table is full; no error message contains a token or a ticket.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../config.js';

/** Who is connected, and the topic prefixes it may read and write (`''` or `'*'` = every topic). */
export interface Principal {
  name: string;
  read: string[];
  write: string[];
  /** Milliseconds since the epoch; the gateway sends `auth_expiring` before it and closes 4401 at it. */
  expiresAt?: number;
}

export type AuthMode = 'none' | 'token';

/** What the gateway copies from an upgrade or SSE request before any await. */
export interface UpgradeCredentials {
  /** `Sec-WebSocket-Protocol` entries (`parseSubprotocols`); `[]` for SSE. */
  protocols: string[];
  origin: string | undefined;
  ticket: string | undefined;
  remoteAddress: string;
}

/** The `startBroker({ ws: { authenticate } })` hook: a raw token to its principal, or undefined. */
export type Authenticate = (token: string) => Principal | undefined | Promise<Principal | undefined>;

export interface AuthOptions {
  mode: AuthMode;
  tokensFile?: string;
  authenticate?: Authenticate;
  allowedOrigins: string[];
  /** Default 30,000. */
  ticketTtlMs?: number;
  /** Outstanding tickets kept at most (default 10,000); issuing past it drops the oldest. */
  maxTickets?: number;
  now?: () => number;
}

/** A refused credential; the gateway closes with `closeCode` and the message as reason (< 123 bytes). */
export class AuthError extends Error {
  constructor(
    readonly closeCode: 4401 | 4403,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** The principal of every connection when `mode` is `none` and no credential was offered. */
export const anonymousPrincipal: Principal = Object.freeze({
  name: 'anonymous',
  read: Object.freeze(['*']) as string[],
  write: Object.freeze(['*']) as string[],
});

const servedProtocols = ['brook.v1.bin', 'brook.v1.json'];
const bearerPrefix = 'bearer.';
const base64url = /^[A-Za-z0-9_-]+$/;
const topicPrefix = /^[A-Za-z0-9._-]*\*?$/;
// Close reasons are limited to 123 bytes; an Origin header is the only unbounded text we quote.
const maxQuotedOrigin = 60;

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** `Sec-WebSocket-Protocol` header value to its entries, trimmed, empty ones dropped. */
export function parseSubprotocols(header: string): string[] {
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** The subprotocol entry that carries `token` (what clients put beside `brook.v1.bin`). */
export function bearerProtocol(token: string): string {
  return bearerPrefix + Buffer.from(token, 'utf8').toString('base64url');
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms, in any textual form uWS reports. */
export function isLoopback(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return loopback.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export class WsAuth {
  private readonly mode: AuthMode;
  private readonly hook: Authenticate | undefined;
  private readonly tokens: { hash: Buffer; principal: Principal }[];
  private readonly allowAnyOrigin: boolean;
  private readonly allowedOrigins: Set<string>;
  private readonly ticketTtlMs: number;
  private readonly maxTickets: number;
  private readonly now: () => number;
  /** SHA-256 of the ticket (base64) → its grant, in issue order. */
  private readonly tickets = new Map<string, { principal: Principal; expiresAt: number }>();

  /** Reads and validates the tokens file and the origin list; throws ConfigError naming what is wrong. */
  constructor(opts: AuthOptions) {
    this.mode = opts.mode;
    this.hook = opts.authenticate;
    // '' is the config default for "no file" (ws.auth.tokens.file).
    const tokensFile = opts.tokensFile === '' ? undefined : opts.tokensFile;
    this.tokens = tokensFile === undefined ? [] : loadTokensFile(tokensFile);
    if (opts.mode === 'token' && tokensFile === undefined && opts.authenticate === undefined) {
      throw new ConfigError('ws.auth', 'ws.auth=token needs ws.auth.tokens.file or an authenticate hook');
    }
    this.allowAnyOrigin = opts.allowedOrigins.includes('*');
    this.allowedOrigins = new Set();
    for (const origin of opts.allowedOrigins) {
      if (origin === '*') continue;
      const normal = normalizeOrigin(origin);
      if (normal === undefined || normal !== origin.toLowerCase().replace(/\/$/, '')) {
        throw new ConfigError(
          'ws.allowed.origins',
          `ws.allowed.origins: ${JSON.stringify(origin)} is not an origin ` +
            '(scheme://host[:port], e.g. https://app.example.com)',
        );
      }
      this.allowedOrigins.add(normal);
    }
    this.ticketTtlMs = opts.ticketTtlMs ?? 30_000;
    this.maxTickets = opts.maxTickets ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The brook.* subprotocol to echo (the first offered of brook.v1.bin / brook.v1.json), or undefined
   * (answer HTTP 400). Never a bearer.* entry.
   */
  static chooseProtocol(protocols: string[]): string | undefined {
    return protocols.find((p) => servedProtocols.includes(p));
  }

  /**
   * Resolves the principal for an upgrade or an SSE request, or throws AuthError(4401|4403): a bearer
   * entry, else a ticket, else anonymous in mode none (see the header for the Origin rule). A failing
   * `authenticate` hook rejects with its own error (an internal error, not a refusal).
   */
  async authenticate(c: UpgradeCredentials): Promise<Principal> {
    const bearers = c.protocols.filter((p) => p.startsWith(bearerPrefix));
    if (bearers.length > 1) throw new AuthError(4401, 'more than one bearer token offered');
    if (bearers.length === 1) {
      const encoded = bearers[0].slice(bearerPrefix.length);
      if (!base64url.test(encoded)) throw new AuthError(4401, 'bearer token is not base64url');
      return this.authenticateToken(Buffer.from(encoded, 'base64url').toString('utf8'));
    }
    if (c.ticket !== undefined) {
      this.checkOrigin(c);
      return this.redeemTicket(c.ticket);
    }
    if (this.mode === 'token') {
      throw new AuthError(4401, 'unauthenticated: offer a bearer.<base64url token> subprotocol or ?ticket=');
    }
    this.checkOrigin(c);
    return anonymousPrincipal;
  }

  /**
   * A raw token (from `Authorization: Bearer`, the `auth` op, or a decoded bearer entry) to its
   * principal: the tokens file first, then the hook. Unknown: 4401; past its `expiresAt`: 4401 'expired'.
   */
  async authenticateToken(token: string): Promise<Principal> {
    let principal = this.lookupToken(token);
    if (principal === undefined && this.hook !== undefined) {
      principal = checkHookPrincipal(await this.hook(token));
    }
    if (principal === undefined) {
      if (this.tokens.length === 0 && this.hook === undefined) {
        throw new AuthError(4401, 'a token was offered but no tokens are configured (ws.auth.tokens.file)');
      }
      throw new AuthError(4401, 'unknown token');
    }
    if (principal.expiresAt !== undefined && principal.expiresAt <= this.now()) {
      throw new AuthError(4401, 'expired');
    }
    return principal;
  }

  /**
   * For POST /ws/v1/ticket, after `authenticateToken` on its `Authorization: Bearer` header: a
   * single-use ticket for `principal`, valid ticketTtlMs and never past the principal's own expiry.
   * Only its hash is kept, so nothing here can log it; the caller must not either.
   */
  issueTicket(principal: Principal): { ticket: string; expiresAt: number } {
    const now = this.now();
    if (principal.expiresAt !== undefined && principal.expiresAt <= now) throw new AuthError(4401, 'expired');
    this.sweepTickets(now);
    // Evicting the oldest rather than refusing: either way only a holder of a valid token can fill the
    // table, and the oldest ticket is the one closest to expiring unused.
    for (const key of this.tickets.keys()) {
      if (this.tickets.size < this.maxTickets) break;
      this.tickets.delete(key);
    }
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = Math.min(now + this.ticketTtlMs, principal.expiresAt ?? Infinity);
    this.tickets.set(hashTicket(ticket), { principal, expiresAt });
    return { ticket, expiresAt };
  }

  /** Outstanding tickets (for metrics and tests). */
  get ticketCount(): number {
    return this.tickets.size;
  }

  /** Whether `p` may read `topic`. */
  canRead(p: Principal, topic: string): boolean {
    return p.read.some((prefix) => matchesPrefix(prefix, topic));
  }

  /** Whether `p` may write `topic`. */
  canWrite(p: Principal, topic: string): boolean {
    return p.write.some((prefix) => matchesPrefix(prefix, topic));
  }

  private lookupToken(token: string): Principal | undefined {
    const hash = createHash('sha256').update(token, 'utf8').digest();
    let found: Principal | undefined;
    // Every entry is compared, so the time taken does not say which entry (or how much of it) matched.
    for (const entry of this.tokens) {
      if (timingSafeEqual(hash, entry.hash)) found = entry.principal;
    }
    return found;
  }

  private redeemTicket(ticket: string): Principal {
    const now = this.now();
    const key = hashTicket(ticket);
    const grant = this.tickets.get(key);
    this.tickets.delete(key);
    this.sweepTickets(now);
    if (grant === undefined || grant.expiresAt <= now) {
      throw new AuthError(4401, 'unknown, used or expired ticket');
    }
    return grant.principal;
  }

  /**
   * Drops expired tickets from the front of the table. Tickets are kept in issue order and almost all
   * share one TTL, so the expired ones are at the front; a ticket cut short by its principal's expiry
   * may linger behind a live one, but it is refused on use and evicted by the size bound.
   */
  private sweepTickets(now: number): void {
    for (const [key, grant] of this.tickets) {
      if (grant.expiresAt > now) break;
      this.tickets.delete(key);
    }
  }

  private checkOrigin(c: UpgradeCredentials): void {
    if (c.origin === undefined || this.allowAnyOrigin) return;
    const normal = normalizeOrigin(c.origin);
    if (normal !== undefined && this.allowedOrigins.has(normal)) return;
    if (this.allowedOrigins.size === 0 && this.mode === 'none' && isLoopback(c.remoteAddress) && isLoopbackOrigin(c.origin)) return;
    const quoted = c.origin.length > maxQuotedOrigin ? `${c.origin.slice(0, maxQuotedOrigin)}…` : c.origin;
    throw new AuthError(4403, `origin not allowed: ${JSON.stringify(quoted)} (ws.allowed.origins)`);
  }
}

/** An Origin whose host is localhost or a loopback address. */
function isLoopbackOrigin(origin: string): boolean {
  try {
    const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host.endsWith('.localhost') || isLoopback(host);
  } catch {
    return false;
  }
}

function hashTicket(ticket: string): string {
  return createHash('sha256').update(ticket, 'utf8').digest('base64');
}

function matchesPrefix(prefix: string, topic: string): boolean {
  const bare = prefix.endsWith('*') ? prefix.slice(0, -1) : prefix;
  return topic.startsWith(bare);
}

/** `scheme://host[:port]`, lower-cased, default port dropped; undefined unless an http(s)/ws(s) origin. */
function normalizeOrigin(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return undefined;
  return url.origin;
}

/** Validates what the hook returned: a malformed principal is the embedder's bug, so a plain Error (1011). */
function checkHookPrincipal(p: Principal | undefined): Principal | undefined {
  if (p === undefined || p === null) return undefined;
  const ok =
    typeof p === 'object' &&
    typeof p.name === 'string' &&
    isStringArray(p.read) &&
    isStringArray(p.write) &&
    (p.expiresAt === undefined || p.expiresAt === null || Number.isFinite(p.expiresAt));
  if (!ok) {
    throw new Error('ws authenticate hook returned a malformed Principal ({name, read[], write[], expiresAt?})');
  }
  return p.expiresAt === null ? { ...p, expiresAt: undefined } : p;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

// ---------------------------------------------------------------------------------------------
// Tokens file
// ---------------------------------------------------------------------------------------------

const entryKeys = new Set(['token', 'principal', 'read', 'write', 'expiresAt']);

/** Reads, parses and validates a tokens file (format in the header) into hashed entries. */
export function loadTokensFile(file: string): { hash: Buffer; principal: Principal }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('ws.auth.tokens.file', `ws.auth.tokens.file ${file}: ${(e as Error).message}`);
  }
  const fail: (pos: number, message: string) => never = (pos, message) => {
    throw new ConfigError('ws.auth.tokens.file', `${file}:${lineOf(text, pos)}: ${message}`);
  };
  const parser = new JsonParser(text, fail);
  const root = parser.parseDocument();
  if (!isObject(root.value)) fail(root.pos, 'expected an object {"tokens": [...]}');
  const rootFields = root.value as Record<string, Located>;
  for (const key of Object.keys(rootFields)) {
    if (key !== 'tokens') fail(rootFields[key].pos, `unknown key "${key}" (expected only "tokens")`);
  }
  const list = rootFields.tokens;
  if (list === undefined) fail(root.pos, 'missing "tokens": [...]');
  if (!Array.isArray(list.value)) fail(list.pos, '"tokens" must be an array');

  const entries: { hash: Buffer; principal: Principal; pos: number }[] = [];
  for (const item of list.value as Located[]) {
    if (!isObject(item.value)) fail(item.pos, 'each entry of "tokens" must be an object');
    const f = item.value as Record<string, Located>;
    for (const key of Object.keys(f)) {
      if (!entryKeys.has(key)) fail(f[key].pos, `unknown key "${key}" (expected ${[...entryKeys].join(', ')})`);
    }
    const token = f.token?.value;
    if (typeof token !== 'string' || token === '') {
      fail(f.token?.pos ?? item.pos, '"token" must be a non-empty string');
    }
    const name = f.principal?.value;
    if (typeof name !== 'string' || name === '') {
      fail(f.principal?.pos ?? item.pos, '"principal" must be a non-empty string');
    }
    const read = prefixList(f.read, 'read', fail);
    const write = prefixList(f.write, 'write', fail);
    const expiresAt = f.expiresAt?.value;
    const neverExpires = expiresAt === undefined || expiresAt === null;
    if (!neverExpires && !(typeof expiresAt === 'number' && Number.isInteger(expiresAt))) {
      fail(f.expiresAt.pos, '"expiresAt" must be milliseconds since the epoch (an integer) or null');
    }
    const hash = createHash('sha256')
      .update(token as string, 'utf8')
      .digest();
    const earlier = entries.find((e) => e.hash.equals(hash));
    if (earlier !== undefined) fail(item.pos, `duplicate token (also on line ${lineOf(text, earlier.pos)})`);
    const principal: Principal = { name: name as string, read, write };
    if (typeof expiresAt === 'number') principal.expiresAt = expiresAt;
    Object.freeze(read);
    Object.freeze(write);
    entries.push({ hash, principal: Object.freeze(principal), pos: item.pos });
  }
  return entries.map(({ hash, principal }) => ({ hash, principal }));
}

function prefixList(
  field: Located | undefined,
  name: string,
  fail: (pos: number, message: string) => never,
): string[] {
  if (field === undefined) return [];
  if (!Array.isArray(field.value)) fail(field.pos, `"${name}" must be an array of topic prefixes`);
  return (field.value as Located[]).map((item) => {
    if (typeof item.value !== 'string' || !topicPrefix.test(item.value)) {
      fail(item.pos, `"${name}" entries must be topic prefixes (letters, digits, . _ - and a trailing * at most)`);
    }
    return item.value as string;
  });
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * A JSON value with the offset where it starts. Objects become null-prototype records of Located
 * fields and arrays arrays of Located items, so every error can name its line.
 */
interface Located {
  value: unknown;
  pos: number;
}

/** RFC 8259 JSON, strict (no comments, no trailing commas), refusing duplicate keys. */
class JsonParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly fail: (pos: number, message: string) => never,
  ) {}

  parseDocument(): Located {
    const value = this.value();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(this.pos, 'unexpected text after the JSON value');
    return value;
  }

  private value(): Located {
    this.skipSpace();
    const pos = this.pos;
    const c = this.text[pos];
    if (c === '{') return { value: this.object(), pos };
    if (c === '[') return { value: this.array(), pos };
    if (c === '"') return { value: this.string(), pos };
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, pos)) {
        this.pos += word.length;
        return { value, pos };
      }
    }
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = pos;
    const m = number.exec(this.text);
    if (m === null) {
      return this.fail(pos, c === undefined ? 'unexpected end of file' : `unexpected ${JSON.stringify(c)}`);
    }
    this.pos += m[0].length;
    return { value: Number(m[0]), pos };
  }

  private object(): Record<string, Located> {
    const fields: Record<string, Located> = Object.create(null) as Record<string, Located>;
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return fields;
    }
    for (;;) {
      this.skipSpace();
      const keyPos = this.pos;
      if (this.text[keyPos] !== '"') this.fail(keyPos, 'expected a "key"');
      const key = this.string();
      if (key in fields) this.fail(keyPos, `duplicate key "${key}"`);
      this.expect(':');
      fields[key] = this.value();
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return fields;
      }
      this.expect(',');
    }
  }

  private array(): Located[] {
    const items: Located[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.pos] === ']') {
        this.pos++;
        return items;
      }
      this.expect(',');
    }
  }

  private string(): string {
    const start = this.pos;
    let i = start + 1;
    for (; i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) i++;
      else if (c < 0x20) this.fail(i, 'unescaped control character or line break in a string');
    }
    if (i >= this.text.length) this.fail(start, 'unterminated string');
    this.pos = i + 1;
    try {
      // The bounds are known; JSON.parse decodes (and validates) the escapes.
      return JSON.parse(this.text.slice(start, this.pos)) as string;
    } catch {
      return this.fail(start, 'invalid escape in a string');
    }
  }

  private expect(c: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== c) {
      const got = this.text[this.pos];
      const found = got === undefined ? 'the end of the file' : JSON.stringify(got);
      this.fail(this.pos, `expected "${c}" but found ${found}`);
    }
    this.pos++;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos])) this.pos++;
  }
}
