/**
 * The web console (docs/console.md) in a real browser: Debian's Chromium (/usr/bin/chromium, never
 * a downloaded browser) driven by playwright-core, against a real broker fed by real clients.
 * - Every page renders the broker's real data, in light and dark schemes, with no console errors.
 * - A topic is created and deleted through the UI (keyboard and confirmation dialog), and kafkajs
 *   sees each change.
 * - The topic page's live tail shows records produced by kcat within 1 s, holds them while paused,
 *   and its produce form writes a record kcat then reads.
 * - The group page follows a kafkajs group's commits (lag table and chart), and its offset reset
 *   is refused while the group runs and works once it stopped.
 * - With ws.auth=token the page asks for a token and then works with it, live tail included.
 * - Behind a reverse proxy that serves it under a path prefix, the console works unchanged (its
 *   URLs are relative): pages, the API, a change and the live tail's WebSocket.
 * Screenshots are kept in test/browser/artifacts/ (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectOk, GROUP_TEST_PROPERTIES, hasKcat, kafkajs, requireInstalled, run, startTestBroker, until, type TestBroker } from '../integration/harness.js';
import { ARTIFACTS, closeAll, collectProblems, hasChromium, launchChromium } from './chromium.js';

requireInstalled(hasKcat, 'kcat');

/**
 * A reverse proxy serving `target` under `prefix` (as nginx's `location /prefix/ { proxy_pass
 * http://broker/; }` does): HTTP requests and WebSocket upgrades, the prefix stripped, every
 * header (Host, Origin) passed unchanged.
 */
async function prefixProxy(target: number, prefix: string): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createHttpServer((req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) {
      res.writeHead(404).end();
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: target, method: req.method, path: req.url.slice(prefix.length), headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    const upstream = netConnect(target, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url!.slice(prefix.length)} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!hasChromium)('the web console in Chromium', () => {
  let tb: TestBroker | undefined;
  let kafka: Kafka;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const consumers: Consumer[] = [];
  /** Console errors, page errors and failed requests of every page opened by the current test. */
  let problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tb = await startTestBroker({ properties: GROUP_TEST_PROPERTIES });
    kafka = kafkajs(tb.bootstrap, { clientId: 'console-browser' });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
    browser = await launchChromium();
  }, 30_000);

  afterEach(async () => {
    await closeAll([...consumers.splice(0).map((c) => () => c.disconnect()), ...contexts.splice(0).map((c) => () => c.close())]);
    expect(tb!.broker.wsStats()?.handlerErrors).toBe(0);
    problems = [];
  });

  afterAll(async () => {
    await closeAll([() => browser?.close(), () => producer?.disconnect(), () => admin?.disconnect(), () => tb?.close()]);
  }, 30_000);

  function origin(): string {
    return `http://127.0.0.1:${tb!.broker.wsPort!}`;
  }

  async function openConsole(route: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 }, colorScheme });
    contexts.push(context);
    const page = await context.newPage();
    collectProblems(page, problems, { warnings: true });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    const res = await page.goto(`${origin()}/#${route}`);
    expect(res?.status()).toBe(200);
    return page;
  }

  async function go(page: Page, route: string): Promise<void> {
    await page.evaluate((r) => {
      location.hash = r;
    }, route);
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  }

  /** The text of every cell in a table body, row by row. */
  function rows(page: Page, selector: string): Promise<string[][]> {
    return page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));
  }

  async function consumeAll(topic: string, groupId: string, expected: number): Promise<Consumer> {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 300 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    await consumer.run({ autoCommitInterval: 100, eachMessage: async () => void seen++ });
    await until(`${groupId} to consume ${expected}`, () => seen >= expected);
    return consumer;
  }

  it('renders every page with the broker’s real data, light and dark, with no console errors', async () => {
    const topic = 'console-pages';
    await admin!.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await producer!.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `v${i}` })) });
    await consumeAll(topic, 'console-pages-group', 30);
    const clusterId = tb!.broker.broker.clusterId;

    for (const scheme of ['light', 'dark'] as const) {
      const page = await openConsole('/', scheme);
      await page.waitForSelector(`#overview-facts >> text=${clusterId}`);
      // The bytes-in chart follows traffic: kafkajs produces while the page polls every second.
      const sending = (async () => {
        for (let i = 0; i < 6; i++) {
          await producer!.send({ topic: 'console-traffic', messages: [{ value: 'x'.repeat(2000) }] });
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
      await page.waitForFunction(() => (JSON.parse(document.getElementById('chart-bytes')?.dataset.last ?? '{}') as { in?: number }).in! > 0, undefined, { timeout: 10_000 });
      await sending;
      expect(await page.textContent('#overview-facts')).toMatch(/Brook \d+\.\d+\.\d+/);
      await shot(page, `overview-${scheme}`);

      await go(page, '/topics');
      await page.waitForSelector(`#topics-list a:text-is("${topic}")`);
      const topicRow = (await rows(page, '#topics-list')).find((r) => r[0] === topic);
      expect(topicRow?.slice(0, 3)).toEqual([topic, '3', '30']);
      await shot(page, `topics-${scheme}`);

      await page.click(`#topics-list a:text-is("${topic}")`);
      await page.waitForSelector('#partitions tbody tr');
      expect((await rows(page, '#partitions')).map((r) => r.slice(0, 4))).toEqual([
        ['0', '0', '10', '10'],
        ['1', '0', '10', '10'],
        ['2', '0', '10', '10'],
      ]);
      await page.waitForSelector('#topic-configs >> text=retention.ms');
      await page.waitForSelector('#tail-status >> text=Live');
      await shot(page, `topic-${scheme}`);

      await go(page, '/groups');
      await page.waitForSelector('#groups-list a:text-is("console-pages-group")');
      expect((await rows(page, '#groups-list')).find((r) => r[0] === 'console-pages-group')?.slice(0, 2)).toEqual(['console-pages-group', 'Stable']);
      await shot(page, `groups-${scheme}`);

      await page.click('#groups-list a:text-is("console-pages-group")');
      await page.waitForSelector('#group-members tbody tr');
      const member = (await rows(page, '#group-members'))[0]!;
      expect(member[1]).toBe('Kafka client');
      expect(member[2]).toBe('console-browser');
      await until('the committed offsets', async () => (await rows(page, '#group-offsets')).map((r) => r.slice(0, 5)).join('|') === [0, 1, 2].map((p) => [topic, String(p), '10', '10', '0'].join(',')).join('|'));
      await page.waitForFunction(() => Number(document.getElementById('chart-lag')?.dataset.points) >= 2);
      await shot(page, `group-${scheme}`);

      await go(page, '/configs');
      await page.waitForSelector('#configs-list >> text=log.retention.ms');
      await page.fill('#config-filter', 'log.segment');
      await until('the filter', async () => (await rows(page, '#configs-list')).every((r) => r[0]!.includes('log.segment')));
      await shot(page, `configs-${scheme}`);
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it('creates and deletes a topic from the keyboard, behind a confirmation; kafkajs sees both', async () => {
    const page = await openConsole('/');
    await page.waitForSelector('#overview-facts dd');
    // The navigation is reachable by Tab and follows Enter; the new page's heading takes the focus.
    await page.keyboard.press('Tab'); // brand
    await page.keyboard.press('Tab'); // Overview
    await page.keyboard.press('Tab'); // Topics
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Topics');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === 'Topics');

    await page.focus('#new-topic-name');
    await page.keyboard.type('made-in-browser');
    await page.keyboard.press('Tab');
    await page.keyboard.type('4');
    await page.keyboard.press('Tab');
    await page.keyboard.type('retention.ms=120000');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter'); // the Create button
    await page.waitForSelector('#topics-list a:text-is("made-in-browser")');
    expect(await page.textContent('main .status')).toMatch(/Created topic made-in-browser with 4 partition/);
    const meta = await admin!.fetchTopicMetadata({ topics: ['made-in-browser'] });
    expect(meta.topics[0]!.partitions).toHaveLength(4);
    await shot(page, 'topic-created');

    // Delete, cancelled with Escape: nothing happens and the focus returns to the button.
    const del = page.locator('button[aria-label="Delete topic made-in-browser"]');
    await del.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog.confirm[open]');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await shot(page, 'topic-delete-dialog');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog.confirm', { state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Delete topic made-in-browser');
    expect(await admin!.listTopics()).toContain('made-in-browser');
    // The list refreshes by itself; a change to it keeps the keyboard user's place.
    await admin!.createTopics({ topics: [{ topic: 'appears-meanwhile' }], waitForLeaders: true });
    await page.waitForSelector('#topics-list a:text-is("appears-meanwhile")');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Delete topic made-in-browser');

    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog.confirm[open]');
    await page.keyboard.press('Tab'); // Cancel -> Delete topic
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Delete topic');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#topics-list a:text-is("made-in-browser")', { state: 'detached' });
    expect(await page.textContent('main .status')).toBe('Deleted topic made-in-browser.');
    expect(await admin!.listTopics()).not.toContain('made-in-browser');

    // A refused creation says why, in the status line.
    await page.fill('#new-topic-name', 'made in browser');
    await page.evaluate(() => (document.getElementById('new-topic-name') as HTMLInputElement).removeAttribute('pattern'));
    await page.click('#create-topic');
    await page.waitForSelector('main .status[data-kind=error]');
    expect(await page.textContent('main .status')).toMatch(/illegal/);
    expect(problems.filter((p) => !p.includes('status of 400'))).toEqual([]);
  }, 30_000);

  it('the live tail shows records produced by kcat within 1 s, holds them while paused, and the produce form writes a record kcat reads', async () => {
    const topic = 'console-tail';
    await admin!.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const page = await openConsole(`/topics/${topic}`);
    await page.waitForSelector('#tail-status >> text=Live: waiting');

    // When each row reaches the page, by the page's clock (the same machine's as this process).
    await page.evaluate(() => {
      const g = globalThis as unknown as { arrivals: number[] };
      g.arrivals = [];
      new MutationObserver((changes) => {
        for (const c of changes) for (let i = 0; i < c.addedNodes.length; i++) g.arrivals.push(Date.now());
      }).observe(document.getElementById('tail-rows')!, { childList: true });
    });
    const produced = Array.from({ length: 5 }, (_, i) => `kcat-${i}`);
    const started = Date.now();
    expectOk(await run('kcat', ['-P', '-b', tb!.bootstrap, '-t', topic, '-p', '0'], { input: produced.join('\n') + '\n' }), 'kcat -P');
    // kcat has exited, so its records are acknowledged: each must be on the page within 1 s of that.
    const acked = Date.now();
    await page.waitForFunction((n) => document.querySelectorAll('#tail-rows tr').length >= n, produced.length, { timeout: 5000 });
    const arrivals = await page.evaluate(() => (globalThis as unknown as { arrivals: number[] }).arrivals);
    expect(arrivals).toHaveLength(produced.length);
    const lastMs = Math.max(...arrivals) - acked;
    console.log(`console live tail: kcat ran ${acked - started} ms; the last of its 5 records was on the page ${lastMs} ms after it exited`);
    expect(lastMs).toBeLessThanOrEqual(1000);
    const tail = await rows(page, '.tail');
    expect(tail.map((r) => r[4])).toEqual([...produced].reverse()); // newest first
    expect(tail.map((r) => r[1])).toEqual(['4', '3', '2', '1', '0']);

    // Paused: records keep arriving but are held, then shown on resume.
    await page.click('#tail-pause');
    expect(await page.getAttribute('#tail-pause', 'aria-pressed')).toBe('true');
    expectOk(await run('kcat', ['-P', '-b', tb!.bootstrap, '-t', topic, '-p', '1'], { input: 'held-1\nheld-2\n' }), 'kcat -P');
    await page.waitForSelector('#tail-status >> text=Paused: 2 new record(s) held.');
    expect(await page.$$eval('#tail-rows tr', (trs) => trs.length)).toBe(5);
    await page.click('#tail-pause');
    await page.waitForFunction(() => document.querySelectorAll('#tail-rows tr').length === 7);
    expect((await rows(page, '.tail')).slice(0, 2).map((r) => r[4])).toEqual(['held-2', 'held-1']);

    // The produce form publishes over the same WebSocket; kcat reads the record back.
    await page.fill('#produce-key', 'k-1');
    await page.fill('#produce-value', 'from the console');
    await page.fill('#produce-partition', '1');
    await page.click('#produce-submit');
    await page.waitForSelector('#produce-status >> text=Written to partition 1 at offset 2.');
    await page.waitForFunction(() => document.querySelector('#tail-rows tr')?.textContent?.includes('from the console'));
    const read = expectOk(await run('kcat', ['-C', '-b', tb!.bootstrap, '-t', topic, '-p', '1', '-o', '2', '-c', '1', '-e', '-f', '%k=%s']), 'kcat -C');
    expect(read.stdout).toBe('k-1=from the console');
    await shot(page, 'live-tail');
    expect(problems).toEqual([]);
  }, 30_000);

  it('the group page follows a kafkajs group’s commits (lag table and chart); a reset is refused while it runs and works once it stopped', async () => {
    const topic = 'console-lag';
    const groupId = 'console-lag-group';
    await admin!.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await producer!.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `a${i}` })) });
    const consumer = await consumeAll(topic, groupId, 10);
    const page = await openConsole(`/groups/${groupId}`);
    const lagColumn = async () => (await rows(page, '#group-offsets')).map((r) => r[4]);
    await until('lag 0 with everything committed', async () => (await lagColumn()).join() === '0,0');

    // Paused, the group falls behind: the table and the chart show the lag.
    consumer.pause([{ topic }]);
    await producer!.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 2, value: `b${i}` })) });
    await until('lag 15 per partition', async () => (await lagColumn()).join() === '15,15');
    await page.waitForFunction(() => {
      const last = JSON.parse(document.getElementById('chart-lag')?.dataset.last ?? '{}') as Record<string, number>;
      return last['console-lag-0'] === 15 && last['console-lag-1'] === 15;
    });
    expect(await page.textContent('#group-facts')).toMatch(/Total lag\s*30/);
    await shot(page, 'group-lagging');

    // Resumed, it catches up and commits: lag back to 0 in both.
    consumer.resume([{ topic }]);
    await until('lag back to 0', async () => (await lagColumn()).join() === '0,0');
    await page.waitForFunction(() => {
      const last = JSON.parse(document.getElementById('chart-lag')?.dataset.last ?? '{}') as Record<string, number>;
      return last['console-lag-0'] === 0 && last['console-lag-1'] === 0;
    });
    expect((await rows(page, '#group-offsets')).map((r) => r.slice(2, 4))).toEqual([
      ['20', '20'],
      ['20', '20'],
    ]);

    // Reset while the group runs: refused (409), with the reason on the page.
    const reset = async () => {
      await page.fill('#reset-topic', topic);
      await page.selectOption('#reset-to', 'earliest');
      await page.click('#reset-submit');
      await page.waitForSelector('dialog.confirm[open]');
      await page.click('dialog.confirm button.danger');
    };
    await reset();
    await page.waitForSelector('#reset-status[data-kind=error]');
    expect(await page.textContent('#reset-status')).toMatch(/Not reset: group console-lag-group has 1 active member/);
    expect((await lagColumn()).join()).toBe('0,0');

    await consumer.disconnect();
    consumers.splice(0);
    await page.waitForSelector('#group-facts >> text=Empty');
    await page.waitForSelector('#group-members >> text=No members');
    await reset();
    await page.waitForSelector('#reset-status[data-kind=info]');
    expect(await page.textContent('#reset-status')).toBe('Reset: console-lag-0 → 0, console-lag-1 → 0.');
    await until('lag 20 per partition after the reset', async () => (await lagColumn()).join() === '20,20');
    const fetched = await admin!.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched[0]!.partitions.map((p) => p.offset)).toEqual(['0', '0']);
    await shot(page, 'group-reset');
    // The refused reset is the only failed request: Chromium logs its 409 as a console error.
    expect(problems.filter((p) => !/status of 409/.test(p))).toEqual([]);
    expect(problems.filter((p) => /status of 409/.test(p))).toHaveLength(1);
  }, 60_000);
  it('works unchanged behind a reverse proxy that adds a path prefix: pages, API, a change and the live tail', async () => {
    const proxy = await prefixProxy(tb!.broker.wsPort!, '/tools/brook');
    try {
      const topic = 'console-prefixed';
      await admin!.createTopics({ topics: [{ topic }], waitForLeaders: true });
      const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      collectProblems(page, problems, { warnings: true });
      const requested: string[] = [];
      page.on('request', (r) => requested.push(new URL(r.url()).pathname));
      page.on('websocket', (ws) => requested.push(new URL(ws.url()).pathname));
      const res = await page.goto(`http://127.0.0.1:${proxy.port}/tools/brook/#/`);
      expect(res?.status()).toBe(200);
      await page.waitForFunction(() => Number(document.getElementById('chart-bytes')?.dataset.points) >= 1);
      await go(page, `/topics/${topic}`);
      await page.waitForSelector('#partitions tbody tr');
      await page.waitForSelector('#tail-status >> text=Live: waiting');
      expectOk(await run('kcat', ['-P', '-b', tb!.bootstrap, '-t', topic], { input: 'through-the-proxy\n' }), 'kcat -P');
      await page.waitForSelector('#tail-rows >> text=through-the-proxy');
      await go(page, '/topics');
      await page.fill('#new-topic-name', 'made-behind-proxy');
      await page.click('#create-topic');
      await page.waitForSelector('#topics-list a:text-is("made-behind-proxy")');
      expect(await admin!.listTopics()).toContain('made-behind-proxy');
      // Every request stayed under the prefix: nothing was asked of the proxy's root.
      expect(requested.filter((p) => !p.startsWith('/tools/brook/'))).toEqual([]);
      expect(requested).toEqual(expect.arrayContaining(['/tools/brook/console/app.js', '/tools/brook/vendor/uPlot.esm.js', '/tools/brook/client/index.js', '/tools/brook/api/v1/overview', '/tools/brook/api/v1/topics', '/tools/brook/ws/v1']));
      await shot(page, 'behind-proxy');
      expect(problems).toEqual([]);
    } finally {
      await closeAll(contexts.splice(0).map((c) => () => c.close()));
      await proxy.close();
    }
  }, 30_000);

  it('with ws.auth=token asks for a token, then serves the pages and the live tail with it', async () => {
    const secured = await startTestBroker({ properties: { 'ws.auth': 'token' }, ws: { authenticate: (t) => (t === 'op-token' ? { name: 'operator', read: ['*'], write: ['*'] } : undefined) } });
    try {
      const topic = 'console-secured';
      expectOk(await run('kcat', ['-P', '-b', secured.bootstrap, '-t', topic], { input: 'first\n' }), 'kcat -P');
      const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      collectProblems(page, problems, { warnings: true });
      await page.goto(`http://127.0.0.1:${secured.broker.wsPort}/#/`);
      await page.waitForSelector('#login[open]');
      expect(await page.textContent('#login-message')).toMatch(/requires a token/);
      await page.fill('#login-token', 'not-the-token');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#login[open] >> text=The token was refused');
      await page.fill('#login-token', 'op-token');
      await page.keyboard.press('Enter');
      await page.waitForSelector(`#overview-facts >> text=${secured.broker.broker.clusterId}`);
      await go(page, `/topics/${topic}`);
      await page.waitForSelector('#tail-status >> text=Live: waiting');
      expectOk(await run('kcat', ['-P', '-b', secured.bootstrap, '-t', topic], { input: 'with-a-token\n' }), 'kcat -P');
      await page.waitForSelector('#tail-rows >> text=with-a-token');
      await shot(page, 'token-mode');
      // Only the refused calls (401) failed; nothing else did.
      expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
      expect(problems.length).toBeGreaterThan(0);
    } finally {
      await closeAll(contexts.splice(0).map((c) => () => c.close()));
      await secured.close();
    }
  }, 30_000);
});
