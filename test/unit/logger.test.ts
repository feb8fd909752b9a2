/**
 * The broker's logger (src/util/logger.ts): level filtering, the text and JSON line formats, child
 * bindings, the adapter for plain functions, the log.level / log.format settings, and the per-peer
 * limiter that keeps a misbehaving client from flooding the log.
 */
import { describe, expect, it } from 'vitest';
import { buildBrokerConfig, ConfigError } from '../../src/config.js';
import { createLogger, functionLogger, PeerLogLimiter, silentLogger, type LogFormat, type LogLevel } from '../../src/util/logger.js';

function capture(format: LogFormat, level?: LogLevel) {
  const chunks: string[] = [];
  const log = createLogger({ format, level, sink: { write: (s: string) => chunks.push(s) } });
  return { log, chunks, json: () => chunks.map((c) => JSON.parse(c) as Record<string, unknown>) };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('createLogger', () => {
  it('writes info and above by default, debug only at log.level=debug', () => {
    const c = capture('json');
    for (const level of ['error', 'warn', 'info', 'debug'] as const) c.log[level](`at ${level}`);
    expect(c.json().map((r) => r.msg)).toEqual(['at error', 'at warn', 'at info']);
    expect(c.log.enabled('debug')).toBe(false);
    const d = capture('json', 'debug');
    d.log.debug('details');
    expect(d.json()).toMatchObject([{ level: 'debug', msg: 'details' }]);
  });

  it('writes only errors at log.level=error, and errors and warnings at warn', () => {
    const e = capture('text', 'error');
    const w = capture('text', 'warn');
    for (const c of [e, w]) for (const level of ['error', 'warn', 'info', 'debug'] as const) c.log[level](`at ${level}`);
    expect(e.chunks.map((l) => l.replace(/^\S+ /, ''))).toEqual(['ERROR brook: at error\n']);
    expect(w.chunks.map((l) => l.replace(/^\S+ /, ''))).toEqual(['ERROR brook: at error\n', 'WARN brook: at warn\n']);
  });

  it('writes one JSON object per line: level by name, ISO time, message, fields', () => {
    const c = capture('json');
    c.log.warn('closing connection from 10.0.0.7:5100: bad frame', { peer: '10.0.0.7', bytes: 12 });
    expect(c.chunks).toHaveLength(1);
    expect(c.chunks[0]!.endsWith('\n')).toBe(true);
    expect(c.chunks[0]!.slice(0, -1)).not.toContain('\n');
    const [r] = c.json();
    expect(r).toMatchObject({ level: 'warn', msg: 'closing connection from 10.0.0.7:5100: bad frame', peer: '10.0.0.7', bytes: 12, pid: process.pid });
    expect(r!.time).toMatch(ISO);
  });

  it('writes one human line per record in text: time, level, name, message, then fields as key=value', () => {
    const c = capture('text');
    c.log.info('created topic t with 3 partition(s)');
    c.log.warn('refused', { peer: '10.0.0.7', reason: 'two words', n: 3 });
    expect(c.chunks[0]).toMatch(/^\S+ INFO brook: created topic t with 3 partition\(s\)\n$/);
    expect(c.chunks[0]!.split(' ')[0]).toMatch(ISO);
    expect(c.chunks[1]).toMatch(/^\S+ WARN brook: refused peer=10\.0\.0\.7 reason="two words" n=3\n$/);
  });

  it('adds the bindings of a child to each of its records, not to the parent’s', () => {
    const c = capture('json');
    const ws = c.log.child({ component: 'ws' });
    ws.info('serving');
    c.log.info('plain');
    expect(c.json()).toMatchObject([
      { msg: 'serving', component: 'ws' },
      { msg: 'plain' },
    ]);
    expect(c.json()[1]).not.toHaveProperty('component');
  });

  it('keeps two loggers apart: each writes only to its own sink, at its own level', () => {
    const a = capture('json', 'debug');
    const b = capture('text', 'warn');
    a.log.debug('to a');
    b.log.warn('to b');
    a.log.info('to a again');
    expect(a.json().map((r) => r.msg)).toEqual(['to a', 'to a again']);
    expect(b.chunks).toHaveLength(1);
    expect(b.chunks[0]).toContain('WARN brook: to b');
  });
});

describe('functionLogger', () => {
  it('calls the function with the message and fields, without time or level, from its level up', () => {
    const got: string[] = [];
    const log = functionLogger((m) => got.push(m), 'warn');
    log.info('not this');
    log.warn('this', { peer: '1.2.3.4' });
    log.error('and this');
    expect(got).toEqual(['this peer=1.2.3.4', 'and this']);
  });

  it('silentLogger writes nothing and says so', () => {
    expect(silentLogger.enabled('error')).toBe(false);
    expect(() => silentLogger.child({ a: 1 }).error('x')).not.toThrow();
  });
});

describe('log.level and log.format settings', () => {
  it('default to info and text, and take every allowed value', () => {
    expect(buildBrokerConfig().log).toEqual({ level: 'info', format: 'text' });
    expect(buildBrokerConfig({ overrides: { 'log.level': 'debug', 'log.format': 'json' } }).log).toEqual({ level: 'debug', format: 'json' });
  });

  it.each([
    ['log.level', 'verbose'],
    ['log.level', 'INFO'],
    ['log.format', 'pretty'],
  ])('refuses %s=%s with a ConfigError naming the key', (key, value) => {
    let thrown: unknown;
    try {
      buildBrokerConfig({ overrides: { [key]: value } });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe(`invalid value "${value}" for ${key}: expected one of ${key === 'log.level' ? 'error, warn, info, debug' : 'text, json'}`);
  });
});

describe('PeerLogLimiter', () => {
  function limited(burst: number, intervalMs: number, maxPeers?: number) {
    const c = capture('json', 'debug');
    let now = 1_000_000;
    const limiter = new PeerLogLimiter(c.log, { burst, intervalMs, maxPeers }, () => now);
    return { ...c, limiter, advance: (ms: number) => (now += ms) };
  }

  it('writes a peer’s first `burst` records of a window, counts the rest, and says how many when the window ends', () => {
    const l = limited(3, 10_000);
    for (let i = 0; i < 100; i++) l.limiter.write('warn', '10.0.0.7', `bad frame ${i}`);
    expect(l.json().map((r) => r.msg)).toEqual(['bad frame 0', 'bad frame 1', 'bad frame 2']);
    expect(l.json()[0]).toMatchObject({ level: 'warn', peer: '10.0.0.7' });
    l.advance(10_000);
    // The next record opens a new window: the old one's count comes first.
    l.limiter.write('warn', '10.0.0.7', 'bad frame 100');
    expect(l.json().slice(3)).toMatchObject([
      { level: 'warn', msg: 'suppressed 97 similar messages from 10.0.0.7 in the last 10s', peer: '10.0.0.7', suppressed: 97 },
      { msg: 'bad frame 100' },
    ]);
    l.limiter.close();
    expect(l.chunks).toHaveLength(5); // a window that suppressed nothing ends without a line
  });

  it('limits each peer on its own', () => {
    const l = limited(2, 1000);
    for (let i = 0; i < 5; i++) {
      l.limiter.write('warn', 'a', `a${i}`);
      l.limiter.write('warn', 'b', `b${i}`);
    }
    l.limiter.close();
    expect(l.json().map((r) => r.msg)).toEqual(['a0', 'b0', 'a1', 'b1', 'suppressed 3 similar messages from a in the last 1s', 'suppressed 3 similar messages from b in the last 1s']);
  });

  it('gives the summary the most severe level it suppressed', () => {
    const l = limited(1, 1000);
    l.limiter.write('info', 'p', 'first');
    l.limiter.write('info', 'p', 'second');
    l.limiter.write('error', 'p', 'third');
    l.limiter.write('warn', 'p', 'fourth');
    l.limiter.close();
    expect(l.json().at(-1)).toMatchObject({ level: 'error', suppressed: 3 });
  });

  it('ends windows on its timer, so a count comes out after the flood stops', async () => {
    const c = capture('json');
    const limiter = new PeerLogLimiter(c.log, { burst: 1, intervalMs: 30 });
    for (let i = 0; i < 5; i++) limiter.write('warn', 'p', `x${i}`);
    const deadline = Date.now() + 5000;
    while (c.chunks.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(c.json()[1]).toMatchObject({ suppressed: 4, peer: 'p' });
    limiter.close();
  });

  it('tracks at most maxPeers addresses; the rest share one entry', () => {
    const l = limited(1, 1000, 2);
    for (const p of ['a', 'b', 'c', 'd', 'e']) l.limiter.write('warn', p, `from ${p}`);
    l.limiter.close();
    expect(l.json().map((r) => r.msg)).toEqual(['from a', 'from b', 'from c', 'suppressed 2 similar messages from other peers in the last 1s']);
  });

  it('counts nothing below the logger’s level', () => {
    const c = capture('json', 'warn');
    const limiter = new PeerLogLimiter(c.log, { burst: 1, intervalMs: 1000 });
    for (let i = 0; i < 5; i++) limiter.write('info', 'p', 'quiet');
    limiter.close();
    expect(c.chunks).toEqual([]);
  });
});
