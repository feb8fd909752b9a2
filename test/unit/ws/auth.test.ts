import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config.js';
import {
  AuthError,
  type AuthOptions,
  bearerProtocol,
  isLoopback,
  parseSubprotocols,
  type Principal,
  type UpgradeCredentials,
  WsAuth,
} from '../../../src/ws/auth.js';

let dir: string;
let tokensFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'brook-ws-auth-'));
  tokensFile = writeTokens(
    'tokens.json',
    JSON.stringify(
      {
        tokens: [
          { token: 'alice-secret', principal: 'alice', read: ['logs.'], write: [], expiresAt: null },
          { token: 'ingest-secret', principal: 'ingest', read: [], write: ['*'] },
          { token: 'old-secret', principal: 'old', read: ['*'], expiresAt: 1_000 },
          { token: 'späť/+=', principal: 'unicode', read: ['metrics.*'], write: ['metrics.in'] },
        ],
      },
      null,
      2,
    ),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeTokens(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A clock the test moves by hand. */
function clock(start = 10_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function auth(opts: Partial<AuthOptions> = {}): WsAuth {
  return new WsAuth({ mode: 'token', tokensFile, allowedOrigins: [], now: () => 10_000, ...opts });
}

function creds(c: Partial<UpgradeCredentials> = {}): UpgradeCredentials {
  return { protocols: ['brook.v1.bin'], origin: undefined, ticket: undefined, remoteAddress: '10.1.2.3', ...c };
}

async function refusal(p: Promise<unknown>): Promise<AuthError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AuthError);
  return e as AuthError;
}

describe('subprotocols', () => {
  it('parses the header into trimmed entries', () => {
    expect(parseSubprotocols(' brook.v1.json ,bearer.YWJj,, brook.v1.bin')).toEqual([
      'brook.v1.json',
      'bearer.YWJj',
      'brook.v1.bin',
    ]);
    expect(parseSubprotocols('')).toEqual([]);
  });

  it('chooses the first brook.* protocol offered', () => {
    expect(WsAuth.chooseProtocol(['brook.v1.json', 'brook.v1.bin'])).toBe('brook.v1.json');
    expect(WsAuth.chooseProtocol(['x', 'brook.v1.bin', 'brook.v1.json'])).toBe('brook.v1.bin');
    expect(WsAuth.chooseProtocol(['brook.v2.bin', 'chat'])).toBeUndefined();
  });

  it('never chooses a bearer entry, even alone or first', () => {
    expect(WsAuth.chooseProtocol([bearerProtocol('alice-secret')])).toBeUndefined();
    expect(WsAuth.chooseProtocol([bearerProtocol('alice-secret'), 'brook.v1.json'])).toBe('brook.v1.json');
    expect(WsAuth.chooseProtocol(['bearer.brook.v1.bin'])).toBeUndefined();
  });

  it('encodes a bearer token as base64url without padding', () => {
    expect(bearerProtocol('späť/+=')).toMatch(/^bearer\.[A-Za-z0-9_-]+$/);
  });
});

describe('bearer tokens', () => {
  it('resolves a token from the file to its principal', async () => {
    const p = await auth().authenticate(creds({ protocols: ['brook.v1.bin', bearerProtocol('alice-secret')] }));
    expect(p).toEqual({ name: 'alice', read: ['logs.'], write: [] });
  });

  it('decodes non-ASCII tokens', async () => {
    const p = await auth().authenticate(creds({ protocols: [bearerProtocol('späť/+='), 'brook.v1.bin'] }));
    expect(p.name).toBe('unicode');
  });

  it('refuses an unknown token with 4401', async () => {
    const e = await refusal(auth().authenticate(creds({ protocols: [bearerProtocol('alice-secreT')] })));
    expect(e.closeCode).toBe(4401);
    expect(e.message).not.toContain('alice');
  });

  it('refuses an expired token with 4401 "expired"', async () => {
    const e = await refusal(auth().authenticate(creds({ protocols: [bearerProtocol('old-secret')] })));
    expect([e.closeCode, e.message]).toEqual([4401, 'expired']);
  });

  it('accepts a token until the instant it expires', async () => {
    const c = clock(999);
    const a = auth({ now: c.now });
    expect((await a.authenticateToken('old-secret')).name).toBe('old');
    c.advance(1);
    expect((await refusal(a.authenticateToken('old-secret'))).message).toBe('expired');
  });

  it('refuses a bearer entry that is not base64url, and two bearer entries', async () => {
    expect((await refusal(auth().authenticate(creds({ protocols: ['bearer.a+b'] })))).closeCode).toBe(4401);
    expect((await refusal(auth().authenticate(creds({ protocols: ['bearer.'] })))).closeCode).toBe(4401);
    const two = [bearerProtocol('alice-secret'), bearerProtocol('ingest-secret')];
    expect((await refusal(auth().authenticate(creds({ protocols: two })))).closeCode).toBe(4401);
  });

  it('skips the Origin check: a bearer token is not ambient authority', async () => {
    const p = await auth({ allowedOrigins: ['https://app.example.com'] }).authenticate(
      creds({ protocols: [bearerProtocol('alice-secret')], origin: 'https://evil.example' }),
    );
    expect(p.name).toBe('alice');
  });

  it('refuses a token offered when no tokens are configured, even in mode none', async () => {
    const a = new WsAuth({ mode: 'none', allowedOrigins: [] });
    const offered = creds({ protocols: [bearerProtocol('x')], remoteAddress: '127.0.0.1' });
    const e = await refusal(a.authenticate(offered));
    expect(e.closeCode).toBe(4401);
  });

  it('verifies bearer tokens in mode none when a tokens file is set', async () => {
    const a = auth({ mode: 'none' });
    expect((await a.authenticate(creds({ protocols: [bearerProtocol('alice-secret')] }))).name).toBe('alice');
    const wrong = creds({ protocols: [bearerProtocol('nope')] });
    expect((await refusal(a.authenticate(wrong))).closeCode).toBe(4401);
  });
});

describe('the authenticate hook', () => {
  const hook = (token: string): Principal | undefined =>
    token === 'hooked' ? { name: 'bob', read: ['a'], write: ['b'], expiresAt: 20_000 } : undefined;

  it('is asked when the file does not know the token', async () => {
    const a = auth({ authenticate: hook });
    expect((await a.authenticateToken('hooked')).name).toBe('bob');
    expect((await a.authenticateToken('alice-secret')).name).toBe('alice');
    expect((await refusal(a.authenticateToken('other'))).closeCode).toBe(4401);
  });

  it('works alone, async, and its expiresAt is enforced', async () => {
    const c = clock();
    const authenticate = (t: string): Promise<Principal | undefined> => Promise.resolve(hook(t));
    const a = new WsAuth({ mode: 'token', authenticate, allowedOrigins: [], now: c.now });
    const p = await a.authenticate(creds({ protocols: [bearerProtocol('hooked')] }));
    expect(p.expiresAt).toBe(20_000);
    c.advance(10_000);
    expect((await refusal(a.authenticateToken('hooked'))).message).toBe('expired');
  });

  it('rejects with a plain Error (an internal error) on a malformed principal', async () => {
    const a = new WsAuth({
      mode: 'token',
      authenticate: () => ({ name: 'x', read: 'all' }) as unknown as Principal,
      allowedOrigins: [],
    });
    const e = await a.authenticateToken('t').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(AuthError);
  });
});

describe('tickets', () => {
  const origin = 'https://app.example.com';

  it('a ticket authenticates once, as the principal it was issued for', async () => {
    const a = auth({ allowedOrigins: [origin] });
    const alice = await a.authenticateToken('alice-secret');
    const { ticket, expiresAt } = a.issueTicket(alice);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(expiresAt).toBe(10_000 + 30_000);
    expect(await a.authenticate(creds({ ticket, origin }))).toBe(alice);
    expect((await refusal(a.authenticate(creds({ ticket, origin })))).closeCode).toBe(4401);
    expect(a.ticketCount).toBe(0);
  });

  it('expires after ticketTtlMs', async () => {
    const c = clock();
    const a = auth({ allowedOrigins: [origin], ticketTtlMs: 5_000, now: c.now });
    const alice = await a.authenticateToken('alice-secret');
    const early = a.issueTicket(alice);
    const late = a.issueTicket(alice);
    c.advance(4_999);
    expect((await a.authenticate(creds({ ticket: early.ticket, origin }))).name).toBe('alice');
    c.advance(1);
    expect((await refusal(a.authenticate(creds({ ticket: late.ticket, origin })))).closeCode).toBe(4401);
  });

  it('never outlives the principal it was issued for', () => {
    const a = auth({ now: () => 500 });
    expect(a.issueTicket({ name: 'old', read: [], write: [], expiresAt: 1_000 }).expiresAt).toBe(1_000);
    expect(() => a.issueTicket({ name: 'old', read: [], write: [], expiresAt: 500 })).toThrow(AuthError);
  });

  it('sweeps expired tickets and keeps the table bounded', async () => {
    const c = clock();
    const a = auth({ allowedOrigins: [origin], maxTickets: 3, now: c.now });
    const p = await a.authenticateToken('ingest-secret');
    const first = a.issueTicket(p);
    for (let i = 0; i < 5; i++) a.issueTicket(p);
    expect(a.ticketCount).toBe(3);
    expect((await refusal(a.authenticate(creds({ ticket: first.ticket, origin })))).closeCode).toBe(4401);
    c.advance(30_000);
    a.issueTicket(p);
    expect(a.ticketCount).toBe(1);
  });

  it('refuses an unknown ticket with 4401', async () => {
    const a = auth({ allowedOrigins: [origin] });
    const e = await refusal(a.authenticate(creds({ ticket: 'made-up', origin })));
    expect(e.closeCode).toBe(4401);
    expect(e.message).not.toContain('made-up');
  });

  it('refuses a ticket from an origin not allowed with 4403, without using it up', async () => {
    const a = auth({ allowedOrigins: [origin] });
    const { ticket } = a.issueTicket(await a.authenticateToken('alice-secret'));
    const e = await refusal(a.authenticate(creds({ ticket, origin: 'https://evil.example' })));
    expect(e.closeCode).toBe(4403);
    expect((await a.authenticate(creds({ ticket, origin }))).name).toBe('alice');
  });

  it('refuses tickets from a browser when no origins are allowed in token mode, even on loopback', async () => {
    const a = auth();
    const { ticket } = a.issueTicket(await a.authenticateToken('alice-secret'));
    const e = await refusal(a.authenticate(creds({ ticket, origin, remoteAddress: '127.0.0.1' })));
    expect(e.closeCode).toBe(4403);
  });

  it('in mode none, follows the loopback rule and serves SSE requests (no subprotocols)', async () => {
    const a = auth({ mode: 'none' });
    const { ticket } = a.issueTicket(await a.authenticateToken('alice-secret'));
    const sse = creds({ protocols: [], ticket, origin: 'http://localhost:5173' });
    expect((await refusal(a.authenticate(sse))).closeCode).toBe(4403);
    expect((await a.authenticate({ ...sse, remoteAddress: '::1' })).name).toBe('alice');
  });

  it('comes after a bearer entry: the bearer decides', async () => {
    const a = auth({ allowedOrigins: [origin] });
    const { ticket } = a.issueTicket(await a.authenticateToken('alice-secret'));
    const p = await a.authenticate(creds({ protocols: [bearerProtocol('ingest-secret')], ticket, origin }));
    expect(p.name).toBe('ingest');
    expect(a.ticketCount).toBe(1);
    const bad = await refusal(a.authenticate(creds({ protocols: [bearerProtocol('nope')], ticket, origin })));
    expect(bad.closeCode).toBe(4401);
  });

  it('keeps no ticket or token text in the authenticator', async () => {
    const a = auth();
    const { ticket } = a.issueTicket(await a.authenticateToken('alice-secret'));
    const dump = inspect(a, { depth: 10 }) + JSON.stringify(a) + String(a);
    expect(dump).not.toContain(ticket);
    expect(dump).not.toContain('alice-secret');
  });
});

describe('no credentials', () => {
  it('is 4401 in token mode', async () => {
    expect((await refusal(auth().authenticate(creds()))).closeCode).toBe(4401);
    expect((await refusal(auth().authenticate(creds({ remoteAddress: '127.0.0.1' })))).closeCode).toBe(4401);
  });

  it('is the anonymous principal with every topic in mode none', async () => {
    const a = new WsAuth({ mode: 'none', allowedOrigins: [] });
    const p = await a.authenticate(creds({ remoteAddress: '127.0.0.1', origin: 'http://localhost:3000' }));
    expect(p.name).toBe('anonymous');
    expect(a.canRead(p, 'anything')).toBe(true);
    expect(a.canWrite(p, 'anything')).toBe(true);
  });
});

describe('the Origin allow-list (ticket and anonymous)', () => {
  const none = (allowedOrigins: string[]): WsAuth => new WsAuth({ mode: 'none', allowedOrigins });

  it('with an empty list allows only loopback pages, and only from a loopback peer', async () => {
    for (const remoteAddress of ['127.0.0.1', '::1', '0000:0000:0000:0000:0000:ffff:7f00:0001']) {
      for (const origin of ['http://localhost:5173', 'http://127.0.0.1:9093', 'http://[::1]:3000', 'http://app.localhost']) {
        const p = await none([]).authenticate(creds({ origin, remoteAddress }));
        expect(p.name).toBe('anonymous');
      }
      // Any other site the local user visits (DNS rebinding too: its Origin still names that site).
      const e = await refusal(none([]).authenticate(creds({ origin: 'https://anywhere.example', remoteAddress })));
      expect(e.closeCode).toBe(4403);
    }
    const e = await refusal(none([]).authenticate(creds({ origin: 'http://localhost:5173' })));
    expect(e.closeCode).toBe(4403);
  });

  it('allows a listed origin from anywhere, compared as a URL origin', async () => {
    const a = none(['https://app.example.com', 'http://localhost:8080']);
    const spellings = ['https://app.example.com', 'HTTPS://App.Example.com', 'https://app.example.com:443'];
    for (const origin of spellings) {
      expect((await a.authenticate(creds({ origin }))).name).toBe('anonymous');
    }
    expect((await a.authenticate(creds({ origin: 'http://localhost:8080' }))).name).toBe('anonymous');
  });

  it('refuses an origin not listed with 4403, even from loopback once a list is set', async () => {
    const a = none(['https://app.example.com']);
    const others = ['https://app.example.com.evil.example', 'http://app.example.com', 'null', 'https://app.example.com:8443'];
    for (const origin of others) {
      const e = await refusal(a.authenticate(creds({ origin, remoteAddress: '127.0.0.1' })));
      expect(e.closeCode).toBe(4403);
    }
  });

  it('allows any origin with "*"', async () => {
    expect((await none(['*']).authenticate(creds({ origin: 'https://x.example' }))).name).toBe('anonymous');
  });

  it('allows a request without Origin (not a browser)', async () => {
    expect((await none(['https://app.example.com']).authenticate(creds())).name).toBe('anonymous');
    expect((await none([]).authenticate(creds())).name).toBe('anonymous');
  });

  it('keeps the close reason within 123 bytes for a huge Origin', async () => {
    const origin = 'https://' + 'a'.repeat(5_000) + '.example';
    const e = await refusal(none([]).authenticate(creds({ origin })));
    expect(Buffer.byteLength(e.message)).toBeLessThanOrEqual(123);
  });

  it('refuses an allow-list entry that is not an origin', () => {
    for (const bad of ['app.example.com', 'https://app.example.com/path', 'ftp://x.example']) {
      expect(() => none([bad])).toThrow(/ws\.allowed\.origins/);
    }
  });
});

describe('isLoopback', () => {
  it('knows loopback addresses in every form', () => {
    const loopback = ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '0000:0000:0000:0000:0000:0000:0000:0001'];
    for (const a of loopback) expect(isLoopback(a)).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '::', '0.0.0.0', 'localhost', '']) {
      expect(isLoopback(a)).toBe(false);
    }
  });
});

describe('topic ACLs', () => {
  const a = new WsAuth({ mode: 'none', allowedOrigins: [] });
  const p = (read: string[], write: string[] = []): Principal => ({ name: 'p', read, write });

  it('matches by prefix', () => {
    expect(a.canRead(p(['logs.']), 'logs.app')).toBe(true);
    expect(a.canRead(p(['logs.']), 'logs.')).toBe(true);
    expect(a.canRead(p(['logs.']), 'logs')).toBe(false);
    expect(a.canRead(p(['logs.']), 'metrics.logs.app')).toBe(false);
    expect(a.canRead(p(['logs.', 'audit']), 'audit-2026')).toBe(true);
  });

  it('treats "" and "*" as every topic and a trailing * as the prefix before it', () => {
    expect(a.canRead(p(['']), 'x')).toBe(true);
    expect(a.canRead(p(['*']), 'x')).toBe(true);
    expect(a.canRead(p(['logs.*']), 'logs.app')).toBe(true);
    expect(a.canRead(p(['logs.*']), 'logsx')).toBe(false);
  });

  it('keeps read and write apart, and nothing means nothing', () => {
    expect(a.canWrite(p(['*']), 'x')).toBe(false);
    expect(a.canRead(p([], ['*']), 'x')).toBe(false);
    expect(a.canWrite(p([], ['in.']), 'in.x')).toBe(true);
  });

  it('applies the tokens file lists', async () => {
    const t = auth();
    const alice = await t.authenticateToken('alice-secret');
    expect([t.canRead(alice, 'logs.web'), t.canRead(alice, 'secrets'), t.canWrite(alice, 'logs.web')]).toEqual([
      true,
      false,
      false,
    ]);
    const u = await t.authenticateToken('späť/+=');
    expect([t.canRead(u, 'metrics.cpu'), t.canWrite(u, 'metrics.in'), t.canWrite(u, 'metrics.out')]).toEqual([
      true,
      true,
      false,
    ]);
  });
});

describe('the tokens file', () => {
  function error(text: string): string {
    const path = writeTokens('bad.json', text);
    try {
      new WsAuth({ mode: 'token', tokensFile: path, allowedOrigins: [] });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain(path);
      return (e as Error).message.slice(path.length);
    }
    throw new Error('accepted');
  }

  it('names a file it cannot read', () => {
    const tokensFile = join(dir, 'missing.json');
    expect(() => new WsAuth({ mode: 'token', tokensFile, allowedOrigins: [] })).toThrow(/missing\.json.*ENOENT/);
  });

  it('names the line of a JSON syntax error', () => {
    const missingComma = '{"tokens": [\n  {"token": "a", "principal": "p"},\n  {"token": "b" "principal": "q"}\n]}';
    expect(error(missingComma)).toMatch(/^:3: expected "," but found "\\""/);
    expect(error('{"tokens": [\n  {"token": "a", "principal": "p"},\n]}')).toMatch(/^:3: /);
    expect(error('{"tokens": [\n')).toMatch(/^:2: unexpected end of file/);
    expect(error('{"tokens": []}\n{}')).toMatch(/^:2: unexpected text/);
    expect(error('{"tokens": ["a\nb"]}')).toMatch(/^:1: unescaped control/);
    expect(error('')).toMatch(/^:1: unexpected end of file/);
  });

  it('names the line of an invalid entry without quoting its token', () => {
    const lines = (entries: string[]): string => `{"tokens": [\n${entries.join(',\n')}\n]}`;
    const ok = '{"token": "good", "principal": "p"}';
    const entry = (fields: string): string => `{"token": "secret-x", "principal": "p", ${fields}}`;
    const cases: [string[], RegExp][] = [
      [[ok, '{"token": "secret-x", "principal": ""}'], /^:3: "principal" must be/],
      [[ok, '{"token": "other", "principal": "p"}', '{"token": "", "principal": "p"}'], /^:4: "token" must be/],
      [[ok, '{"principal": "p"}'], /^:3: "token" must be/],
      [[entry('"read": "logs."')], /^:2: "read" must be an array/],
      [[entry('"write": ["a b"]')], /^:2: "write" entries/],
      [[entry('"write": ["*a"]')], /^:2: "write" entries/],
      [[entry('"expiresAt": "2027-01-01"')], /^:2: "expiresAt"/],
      [[entry('"reads": []')], /^:2: unknown key "reads"/],
      [[entry('"principal": "q"')], /^:2: duplicate key/],
      [['"secret-x"'], /^:2: each entry/],
      [[entry('"read": []'), ok, entry('"read": ["x"]')], /^:4: duplicate token \(also on line 2\)/],
    ];
    for (const [entries, expected] of cases) {
      const message = error(lines(entries));
      expect(message).toMatch(expected);
      expect(message).not.toContain('secret-x');
    }
  });

  it('refuses a wrong top level', () => {
    expect(error('[]')).toMatch(/^:1: expected an object/);
    expect(error('{}')).toMatch(/^:1: missing "tokens"/);
    expect(error('{"tokens": {}}')).toMatch(/^:1: "tokens" must be an array/);
    expect(error('{"tokens": [],\n "users": []}')).toMatch(/^:2: unknown key "users"/);
  });

  it('accepts an empty list, escapes and __proto__-named strings', async () => {
    const empty = writeTokens('empty.json', '{"tokens": []}');
    expect(() => new WsAuth({ mode: 'token', tokensFile: empty, allowedOrigins: [] })).not.toThrow();
    const path = writeTokens('esc.json', '{"tokens": [{"token": "a\\"b\\u00e9", "principal": "__proto__"}]}');
    const a = new WsAuth({ mode: 'token', tokensFile: path, allowedOrigins: [] });
    expect((await a.authenticateToken('a"bé')).name).toBe('__proto__');
  });

  it('needs a token source in token mode', () => {
    expect(() => new WsAuth({ mode: 'token', allowedOrigins: [] })).toThrow(ConfigError);
    expect(() => new WsAuth({ mode: 'token', tokensFile: '', allowedOrigins: [] })).toThrow(ConfigError);
    expect(() => new WsAuth({ mode: 'none', tokensFile: '', allowedOrigins: [] })).not.toThrow();
  });
});
