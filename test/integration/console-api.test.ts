/**
 * The web console's JSON API (docs/console.md) against a real broker, with real Kafka clients on
 * the other side: what kafkajs and kcat do shows up in the API, and what the API does (create,
 * delete, offset reset) is what kafkajs then sees. Bad input is 400, unknown topics and groups 404,
 * an offset reset 409 while the group has members; changes without a token are refused unless
 * same-origin (CSRF); with ws.auth=token every call needs a bearer token and its prefixes apply.
 */
import { readFileSync } from 'node:fs';
import type { Consumer, Kafka } from 'kafkajs';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type BrookClient } from '../../src/client/index.js';
import type { Principal } from '../../src/ws/auth.js';
import { expectOk, GROUP_TEST_PROPERTIES, hasKcat, kafkajs, requireInstalled, run, startTestBroker, until, withAdmin, withProducer, type TestBroker } from './harness.js';

requireInstalled(hasKcat, 'kcat');

const ALLOWED_ORIGIN = 'https://console.example.com';

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: string; code?: string };
  headers: Headers;
}

let tb: TestBroker;
let kafka: Kafka;
const consumers: Consumer[] = [];
const clients: BrookClient[] = [];

beforeAll(async () => {
  tb = await startTestBroker({ properties: GROUP_TEST_PROPERTIES });
  kafka = kafkajs(tb.bootstrap, { clientId: 'console-api-it' });
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
  for (const c of clients.splice(0)) c.close();
  expect(tb.broker.wsStats()?.handlerErrors).toBe(0);
});

afterAll(async () => {
  await tb?.close();
});

function base(b: TestBroker = tb): string {
  return `http://127.0.0.1:${b.broker.wsPort}`;
}

async function call(path: string, init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}, b: TestBroker = tb): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base(b)}/api/v1/${path}`, { method: init.method ?? 'GET', headers, body });
  const text = await res.text();
  let parsed: Answer['body'];
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

async function topicNames(): Promise<string[]> {
  return withAdmin(kafka, (a) => a.listTopics());
}

describe('overview and topics', () => {
  it('shows the broker, its version and counts; byte totals follow kafkajs traffic', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const before = await call('overview');
    expect(before.status).toBe(200);
    expect(before.headers.get('cache-control')).toBe('no-store');
    expect(before.body).toMatchObject({ clusterId: tb.broker.broker.clusterId, version: pkg.version, brokers: [{ nodeId: tb.broker.config.nodeId, port: tb.broker.port }] });
    const totals0 = before.body.totals as { bytesIn: number; bytesOut: number; messagesIn: number };

    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic: 'ov', numPartitions: 3 }], waitForLeaders: true }));
    await withProducer(kafka, (p) => p.send({ topic: 'ov', messages: Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })) }));
    const after = await call('overview');
    const totals1 = after.body.totals as typeof totals0;
    expect(totals1.messagesIn - totals0.messagesIn).toBe(20);
    expect(totals1.bytesIn).toBeGreaterThan(totals0.bytesIn);
    expect(after.body.topics).toBe((before.body.topics as number) + 1);
    expect(after.body.partitions).toBe((before.body.partitions as number) + 3);
  });

  it('creates a topic that Kafka clients then see, with its config override, and lists its partitions as kcat fills them', async () => {
    const created = await call('topics', { method: 'POST', body: { name: 'made-by-console', partitions: 2, configs: { 'retention.ms': 3600000, 'cleanup.policy': 'delete' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'made-by-console', partitions: 2 });
    expect(await topicNames()).toContain('made-by-console');
    const described = await withAdmin(kafka, (a) => a.describeConfigs({ resources: [{ type: 2, name: 'made-by-console', configNames: ['retention.ms'] }], includeSynonyms: false }));
    expect(described.resources[0]!.configEntries[0]!.configValue).toBe('3600000');

    expectOk(await run('kcat', ['-P', '-b', tb.bootstrap, '-t', 'made-by-console', '-p', '1'], { input: 'a\nb\nc\n' }), 'kcat -P');
    const t = await call('topics/made-by-console');
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ name: 'made-by-console', partitions: 2, records: 3 });
    expect(t.body.partitionDetails).toMatchObject([
      { partition: 0, logStartOffset: 0, logEndOffset: 0 },
      { partition: 1, logStartOffset: 0, logEndOffset: 3 },
    ]);
    const configs = t.body.configs as { name: string; value: string; source: string }[];
    expect(configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '3600000', source: 'TOPIC_CONFIG' });
    expect(configs.find((c) => c.name === 'segment.bytes')).toMatchObject({ source: 'DEFAULT_CONFIG' });
    const list = await call('topics');
    expect((list.body.topics as { name: string }[]).map((x) => x.name)).toContain('made-by-console');
  });

  it('deletes a topic so that Kafka clients no longer see it; __consumer_offsets is refused', async () => {
    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }], waitForLeaders: true }));
    const del = await call('topics/doomed', { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await topicNames()).not.toContain('doomed');
    expect((await call('topics/doomed')).status).toBe(404);
    const internal = await call('topics/__consumer_offsets', { method: 'DELETE' });
    expect(internal).toMatchObject({ status: 403, body: { code: 'POLICY_VIOLATION' } });
  });

  it('answers bad input with 400 and a JSON error naming the problem', async () => {
    const cases: [string, Parameters<typeof call>[1], number, string][] = [
      ['not JSON', { method: 'POST', raw: '{"name":', headers: { 'content-type': 'application/json' } }, 400, 'BAD_REQUEST'],
      ['empty body', { method: 'POST', raw: '', headers: { 'content-type': 'application/json' } }, 400, 'BAD_REQUEST'],
      ['an array', { method: 'POST', body: ['x'] }, 400, 'BAD_REQUEST'],
      ['no name', { method: 'POST', body: { partitions: 1 } }, 400, 'BAD_REQUEST'],
      ['an unknown field', { method: 'POST', body: { name: 'x1', replicas: 3 } }, 400, 'BAD_REQUEST'],
      ['fractional partitions', { method: 'POST', body: { name: 'x1', partitions: 1.5 } }, 400, 'BAD_REQUEST'],
      ['0 partitions', { method: 'POST', body: { name: 'x1', partitions: 0 } }, 400, 'INVALID_PARTITIONS'],
      ['an illegal name', { method: 'POST', body: { name: 'no spaces' } }, 400, 'INVALID_TOPIC_EXCEPTION'],
      ['an unknown config', { method: 'POST', body: { name: 'x1', configs: { 'retention.msx': '1' } } }, 400, 'INVALID_CONFIG'],
      ['a bad config value', { method: 'POST', body: { name: 'x1', configs: { 'retention.ms': 'soon' } } }, 400, 'INVALID_CONFIG'],
      ['configs not an object', { method: 'POST', body: { name: 'x1', configs: 'retention.ms=1' } }, 400, 'BAD_REQUEST'],
      ['a body over 64 KiB', { method: 'POST', body: { name: 'x1', configs: { 'retention.ms': 'x'.repeat(70_000) } } }, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [what, init, status, code] of cases) {
      const r = await call('topics', init);
      expect({ what, status: r.status, code: r.body.code }).toEqual({ what, status, code });
      expect(typeof r.body.error).toBe('string');
    }
    expect(await topicNames()).not.toContain('x1');
    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic: 'twice' }], waitForLeaders: true }));
    expect(await call('topics', { method: 'POST', body: { name: 'twice' } })).toMatchObject({ status: 409, body: { code: 'TOPIC_ALREADY_EXISTS' } });
    expect(await call('topics/bad%ZZname')).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
    expect(await call('topics/has%20space')).toMatchObject({ status: 400, body: { code: 'INVALID_TOPIC_EXCEPTION' } });
  });

  it('answers unknown topics, groups and endpoints with 404', async () => {
    expect(await call('topics/nope')).toMatchObject({ status: 404, body: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(await call('topics/nope', { method: 'DELETE' })).toMatchObject({ status: 404, body: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(await call('groups/nope')).toMatchObject({ status: 404, body: { code: 'GROUP_ID_NOT_FOUND' } });
    expect(await call('groups/nope/offsets', { method: 'POST', body: { topic: 'ov', to: 'earliest' } })).toMatchObject({ status: 404, body: { code: 'GROUP_ID_NOT_FOUND' } });
    expect(await call('nothing-here')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await call('topics', { method: 'PUT', body: {} })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });

  it('shows every broker setting with its source', async () => {
    const r = await call('configs/broker');
    expect(r.status).toBe(200);
    const configs = r.body.configs as { name: string; value: string; source: string; readOnly: boolean }[];
    expect(configs.find((c) => c.name === 'group.initial.rebalance.delay.ms')).toMatchObject({ value: '0', source: 'STATIC_BROKER_CONFIG', readOnly: true });
    expect(configs.find((c) => c.name === 'ws.allowed.origins')).toMatchObject({ value: '', source: 'DEFAULT_CONFIG' });
    expect(configs.find((c) => c.name === 'log.retention.ms')).toMatchObject({ readOnly: false });
  });
});

describe('cross-site request forgery (ws.auth=none)', () => {
  it('refuses token-less changes from another origin, a cross-site fetch, DNS rebinding and a form post; allows the console page and non-browser clients', async () => {
    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic: 'csrf-target' }], waitForLeaders: true }));
    const refused: [string, Parameters<typeof call>[1]][] = [
      ['DELETE from another origin', { method: 'DELETE', headers: { origin: 'http://evil.example' } }],
      ['DELETE from a cross-site fetch', { method: 'DELETE', headers: { 'sec-fetch-site': 'cross-site' } }],
      ['DELETE from a same-site subdomain', { method: 'DELETE', headers: { 'sec-fetch-site': 'same-site' } }],
      ['DELETE from a sandboxed frame', { method: 'DELETE', headers: { origin: 'null' } }],
      // Another web app on this machine: a browser calls it same-site (ports do not count for sites).
      ['DELETE from another port of this host', { method: 'DELETE', headers: { origin: `http://127.0.0.1:${tb.broker.port}`, 'sec-fetch-site': 'same-site' } }],
      // DNS rebinding: the hostile name now resolves to this broker, so the browser says same-origin
      // and Host matches; only the Origin still names the hostile site.
      ['DELETE after DNS rebinding', { method: 'DELETE', headers: { origin: `http://rebound.example:${tb.broker.wsPort}`, host: `rebound.example:${tb.broker.wsPort}`, 'sec-fetch-site': 'same-origin' } }],
    ];
    for (const [what, init] of refused) {
      const r = await call('topics/csrf-target', init);
      expect({ what, status: r.status, code: r.body.code }).toEqual({ what, status: 403, code: 'FORBIDDEN' });
    }
    // An HTML form can post text/plain cross-site without a preflight: refused even with a matching Origin.
    const form = await call('topics', { method: 'POST', raw: '{"name":"csrf-form"}', headers: { 'content-type': 'text/plain', origin: base() } });
    expect(form).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const evilCreate = await call('topics', { method: 'POST', body: { name: 'csrf-created' }, headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(evilCreate.status).toBe(403);
    const reset = await call('groups/any/offsets', { method: 'POST', body: { topic: 'csrf-target', to: 'earliest' }, headers: { origin: 'http://evil.example' } });
    expect(reset.status).toBe(403);
    expect(await topicNames()).toEqual(expect.arrayContaining(['csrf-target']));
    expect(await topicNames()).not.toContain('csrf-created');
    expect(await topicNames()).not.toContain('csrf-form');

    // Reads carry no CORS headers: another site's page cannot read the answers.
    const read = await call('topics', { headers: { origin: 'http://evil.example' } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();

    // The console's own page, served from a loopback host (the gateway's rule with no allow-list).
    const sameOrigin = await call('topics', { method: 'POST', body: { name: 'csrf-same' }, headers: { origin: base(), 'sec-fetch-site': 'same-origin' } });
    expect(sameOrigin.status).toBe(201);
    const script = await call('topics/csrf-target', { method: 'DELETE' });
    expect(script.status).toBe(200);
  });
});

describe('cross-site request forgery with ws.allowed.origins set', () => {
  let listed: TestBroker;
  beforeAll(async () => {
    listed = await startTestBroker({ properties: { 'ws.allowed.origins': ALLOWED_ORIGIN } });
  });
  afterAll(async () => {
    await listed?.close();
  });

  it('accepts token-less changes only from the listed origins, as WebSockets', async () => {
    const from = (origin: string, name: string) => call('topics', { method: 'POST', body: { name }, headers: { origin, 'sec-fetch-site': 'same-origin' } }, listed);
    expect((await from(ALLOWED_ORIGIN, 'from-listed')).status).toBe(201);
    // With a list, a loopback page is not implied any more: the console's own origin must be listed too.
    expect(await from(base(listed), 'from-loopback')).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect((await from('https://other.example.com', 'from-other')).status).toBe(403);
    const names = (await call('topics', {}, listed)).body.topics as { name: string }[];
    expect(names.map((t) => t.name)).toEqual(expect.arrayContaining(['from-listed']));
    expect(names.map((t) => t.name)).not.toContain('from-loopback');
  });
});

describe('consumer groups', () => {
  async function produce(topic: string, n: number): Promise<void> {
    await withProducer(kafka, (p) => p.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ partition: i % 2, value: `m${i}` })) }));
  }

  it('shows a kafkajs group: members, committed offsets and lag; refuses a reset while it runs (409) and resets once it stopped', async () => {
    const topic = 'grp-topic';
    const groupId = 'console-group';
    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }));
    await produce(topic, 10);
    const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    await consumer.run({ autoCommitInterval: 100, eachMessage: async () => void seen++ });
    await until('the group to consume and commit everything', async () => {
      const g = await call(`groups/${groupId}`);
      return g.status === 200 && (g.body.offsets as { committed: number | null }[]).reduce((s, o) => s + (o.committed ?? 0), 0) === 10;
    });
    const g = await call(`groups/${groupId}`);
    expect(g.body).toMatchObject({ groupId, state: 'Stable', protocolType: 'consumer', totalLag: 0 });
    const members = g.body.members as { kind: string; clientId: string; assignment: { topic: string; partition: number }[] }[];
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ kind: 'kafka', clientId: 'console-api-it' });
    expect(members[0]!.assignment.map((a) => a.partition).sort()).toEqual([0, 1]);
    expect(g.body.offsets).toMatchObject([
      { topic, partition: 0, committed: 5, logEndOffset: 5, lag: 0 },
      { topic, partition: 1, committed: 5, logEndOffset: 5, lag: 0 },
    ]);
    const listed = await call('groups');
    expect(listed.body.groups).toEqual(expect.arrayContaining([expect.objectContaining({ groupId, state: 'Stable', members: 1, lag: 0 })]));

    const refused = await call(`groups/${groupId}/offsets`, { method: 'POST', body: { topic, to: 'earliest' } });
    expect(refused).toMatchObject({ status: 409, body: { code: 'NON_EMPTY_GROUP' } });
    expect(refused.body.error).toMatch(/active member/);

    await consumer.disconnect();
    consumers.splice(0);
    await until('the group to be empty', async () => (await call(`groups/${groupId}`)).body.state === 'Empty');
    const reset = await call(`groups/${groupId}/offsets`, { method: 'POST', body: { topic, to: 'earliest' } });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ groupId, topic, offsets: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] });
    const after = await call(`groups/${groupId}`);
    expect(after.body).toMatchObject({ state: 'Empty', totalLag: 10 });
    // kafkajs agrees (OffsetFetch), and a consumer started now reads everything again.
    const fetched = await withAdmin(kafka, (a) => a.fetchOffsets({ groupId, topics: [topic] }));
    expect(fetched[0]!.partitions.map((p) => p.offset).sort()).toEqual(['0', '0']);

    const clamped = await call(`groups/${groupId}/offsets`, { method: 'POST', body: { topic, partitions: [1], to: { offset: 1_000_000 } } });
    expect(clamped.body).toMatchObject({ offsets: [{ partition: 1, offset: 5 }] });
    const latest = await call(`groups/${groupId}/offsets`, { method: 'POST', body: { topic, to: 'latest' } });
    expect(latest.body).toMatchObject({ offsets: [{ partition: 0, offset: 5 }, { partition: 1, offset: 5 }] });
    const byTime = await call(`groups/${groupId}/offsets`, { method: 'POST', body: { topic, to: { timestamp: 0 } } });
    expect(byTime.body).toMatchObject({ offsets: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] });

    const bad: [unknown, number, string][] = [
      [{ topic, to: 'yesterday' }, 400, 'BAD_REQUEST'],
      [{ topic, to: { offset: -1 } }, 400, 'BAD_REQUEST'],
      [{ topic, to: { offset: 1, timestamp: 2 } }, 400, 'BAD_REQUEST'],
      [{ topic, partitions: [], to: 'earliest' }, 400, 'BAD_REQUEST'],
      [{ topic, partitions: [7], to: 'earliest' }, 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      [{ topic: 'no-such-topic', to: 'earliest' }, 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      [{ to: 'earliest' }, 400, 'BAD_REQUEST'],
    ];
    for (const [body, status, code] of bad) {
      const r = await call(`groups/${groupId}/offsets`, { method: 'POST', body });
      expect({ body, status: r.status, code: r.body.code }).toEqual({ body, status, code });
    }
  });

  it('shows a WebSocket group member as such, beside its committed offsets', async () => {
    const topic = 'ws-grp-topic';
    const groupId = 'console-ws-group';
    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }));
    await produce(topic, 6);
    const client = connect(`ws://127.0.0.1:${tb.broker.wsPort}/ws/v1`, { WebSocket: WebSocket as never });
    clients.push(client);
    const sub = client.subscribe({ topic, group: groupId });
    sub.on('records', (rs) => {
      for (const r of rs) sub.ack(r);
    });
    await until('the WebSocket member to commit everything', async () => {
      const g = await call(`groups/${encodeURIComponent(groupId)}`);
      return g.status === 200 && (g.body.offsets as { lag: number | null }[]).length === 2 && g.body.totalLag === 0;
    });
    const g = await call(`groups/${groupId}`);
    const members = g.body.members as { kind: string; clientId: string }[];
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ kind: 'websocket', clientId: 'brook-ws:anonymous' });
    expect(await call(`groups/${groupId}/offsets`, { method: 'POST', body: { topic, to: 'earliest' } })).toMatchObject({ status: 409 });
  });

  it('decodes percent-encoded group ids', async () => {
    const groupId = 'odd/group id';
    await withAdmin(kafka, (a) => a.createTopics({ topics: [{ topic: 'odd-topic' }], waitForLeaders: true }));
    await withAdmin(kafka, (a) => a.setOffsets({ groupId, topic: 'odd-topic', partitions: [{ partition: 0, offset: '0' }] }));
    const g = await call(`groups/${encodeURIComponent(groupId)}`);
    expect(g).toMatchObject({ status: 200, body: { groupId, state: 'Empty' } });
  });
});

describe('the page and its files', () => {
  it('serves the console page, its modules and uPlot from the broker, with a strict content security policy', async () => {
    const page = await fetch(`${base()}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    const html = await page.text();
    // Relative URLs only, so the console works behind a path prefix.
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(m[1]).not.toMatch(/^\/|^https?:/);
    for (const path of ['console/app.js', 'console/style.css', 'vendor/uPlot.esm.js', 'vendor/uPlot.min.css', 'client/index.js']) {
      const r = await fetch(`${base()}/${path}`);
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
    }
    for (const path of ['console/nope.js', 'console/..%2Fpackage.json', 'vendor/uPlot.cjs.js', 'console/app.js.map']) {
      const r = await fetch(`${base()}/${path}`);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
    }
  });
});

describe('with ws.auth=token', () => {
  let secured: TestBroker;
  const principals: Record<string, Principal> = {
    'admin-token': { name: 'admin', read: ['*'], write: ['*'] },
    'team-a-token': { name: 'team-a', read: ['a.'], write: ['a.'] },
    'reader-token': { name: 'reader', read: ['*'], write: [] },
  };

  beforeAll(async () => {
    secured = await startTestBroker({ properties: { 'ws.auth': 'token' }, ws: { authenticate: (t) => principals[t] } });
    await withAdmin(kafkajs(`127.0.0.1:${secured.broker.port}`), (a) => a.createTopics({ topics: [{ topic: 'a.one' }, { topic: 'b.two' }], waitForLeaders: true }));
  });

  afterAll(async () => {
    await secured?.close();
  });

  const as = (token: string | undefined, path: string, init: Parameters<typeof call>[1] = {}) =>
    call(path, { ...init, headers: { ...init?.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } }, secured);

  it('needs a valid bearer token for every call, reads included', async () => {
    for (const path of ['overview', 'topics', 'topics/a.one', 'groups', 'configs/broker']) {
      expect({ path, status: (await as(undefined, path)).status }).toEqual({ path, status: 401 });
      expect({ path, status: (await as('wrong', path)).status }).toEqual({ path, status: 401 });
      expect({ path, status: (await as('admin-token', path)).status }).toEqual({ path, status: 200 });
    }
    expect((await as(undefined, 'topics', { method: 'POST', body: { name: 'a.nope' }, headers: { origin: base(secured) } })).status).toBe(401);
    expect((await call('topics', { headers: { authorization: 'Basic eDp5' } }, secured)).status).toBe(401);
  });

  it("applies the token's topic prefixes: lists and reads only readable topics, changes only writable ones", async () => {
    const listed = await as('team-a-token', 'topics');
    expect((listed.body.topics as { name: string }[]).map((t) => t.name)).toEqual(['a.one']);
    expect((await as('team-a-token', 'topics/b.two')).status).toBe(404);
    expect(await as('team-a-token', 'topics', { method: 'POST', body: { name: 'b.three' } })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await as('reader-token', 'topics/a.one', { method: 'DELETE' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    // A bearer token is not ambient authority: no Origin check (as for WebSocket bearer entries).
    expect((await as('team-a-token', 'topics', { method: 'POST', body: { name: 'a.two' }, headers: { origin: 'http://elsewhere.example' } })).status).toBe(201);
    expect((await as('admin-token', 'topics/b.two', { method: 'DELETE' })).status).toBe(200);
  });
});
