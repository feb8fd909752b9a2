/**
 * The gateway from a real browser: Debian's Chromium (/usr/bin/chromium, installed by apt, never a
 * downloaded browser) driven by playwright-core (../shared/reference/websocket.md §5).
 *
 * Pages take the gateway's own origin by loading /healthz, then import the client library the
 * gateway serves at /client/index.js: same origin, no other server.
 * - 5 tabs tail one topic in `live` mode over WebSocket while kafkajs produces 1,000 records/s for
 *   3 s through the Kafka port: every tab gets all 3,000 records once, in order, and uWS drops none.
 * - 1 tab reads over SSE (EventSource) while the broker restarts on the same data dir and ports
 *   and production goes on: the browser reconnects by itself, sending Last-Event-ID, and gets
 *   every record exactly once, in order.
 * - 1 tab tails a topic a kafkajs transactional producer writes to: an aborted transaction never
 *   arrives, a committed one does, and an open one only once it commits (read_committed default).
 * Screenshots of the tabs are kept in test/browser/artifacts/ (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as BrookClientLibrary from '../../src/client/index.js';
import { freePort, kafkajs, startTestBroker, until, type TestBroker } from '../integration/harness.js';
import { ARTIFACTS, closeAll, collectProblems, hasChromium, launchChromium } from './chromium.js';

/** What the WebSocket tabs keep on globalThis, read back with page.evaluate. */
interface WsTab {
  brook: typeof BrookClientLibrary;
  location: { host: string };
  document: { body: { textContent: string } };
  client: BrookClientLibrary.BrookClient;
  /** Values (sequence numbers) in arrival order, and when each arrived (Date.now()). */
  values: number[];
  arrivals: number[];
  gaps: BrookClientLibrary.GapEvent[];
  errors: string[];
  closes: number[];
}

interface SseEvent {
  data: string;
  lastEventId: string;
}

/** The slice of the browser's EventSource the SSE tab uses. */
interface EventSourceLike {
  readonly readyState: number;
  onopen: (() => void) | null;
  onerror: (() => void) | null;
  onmessage: ((e: SseEvent) => void) | null;
  addEventListener(type: string, fn: (e: SseEvent) => void): void;
  close(): void;
}

interface SseTab {
  EventSource: new (url: string) => EventSourceLike;
  document: { body: { textContent: string } };
  es: EventSourceLike;
  /** The envelope of every message event in arrival order: offset and value. */
  events: { offset: number; value: number; at: number }[];
  opens: number[];
  errors: number;
  /** Events other than messages (gap, delete): there must be none. */
  others: string[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

describe.skipIf(!hasChromium)('the gateway from Chromium', () => {
  let tb: TestBroker | undefined;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // Checkpoints often, so cursors advance within the test's few seconds. The gateway gets a fixed
    // port rather than 0 because uWS sets SO_REUSEADDR on a listen socket only when given a port:
    // bound through port 0, the connections its shutdown closes sit in TIME_WAIT on that port for
    // 60 s and the restarted gateway cannot bind it again (EADDRINUSE).
    tb = await startTestBroker({ properties: { 'ws.checkpoint.ms': 100 }, ws: { port: await freePort() } });
    // Retries reach past a broker restart (harness restart: graceful close, then start again).
    const kafka = kafkajs(tb.bootstrap, { retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
    const launched = Date.now();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 800, height: 300 } });
    console.log(`chromium ${browser.version()} launched in ${Date.now() - launched} ms`);
  }, 30_000);

  afterAll(async () => {
    await closeAll([() => context?.close(), () => browser?.close(), () => producer?.disconnect(), () => admin?.disconnect(), () => tb?.close()]);
  }, 30_000);

  function origin(): string {
    const port = tb?.broker.wsPort;
    if (port === undefined) throw new Error('the gateway is not running');
    return `http://127.0.0.1:${port}`;
  }

  /** A tab on the gateway's origin, its console errors and page errors collected. */
  async function openTab(problems: string[]): Promise<Page> {
    const page = await context!.newPage();
    collectProblems(page, problems, { warnings: false });
    const res = await page.goto(`${origin()}/healthz`);
    expect(res?.status()).toBe(200);
    return page;
  }

  /**
   * Produces values 0, 1, ... (at most `limit`) to partition 0 of `topic` at `rate` records/s (a batch
   * each time the clock has made records due), one send at a time so the log keeps their order,
   * until `done(produced)`. A failed send (the broker restarting past kafkajs's retries) is sent
   * again: the log may then hold that batch twice, at two runs of offsets, which a reader must
   * still get once each.
   */
  async function produceSteadily(topic: string, rate: number, done: (produced: number) => boolean, limit = Infinity) {
    const started = Date.now();
    let produced = 0;
    let failedSends = 0;
    const acked: number[] = []; // Date.now() when the batch holding each value was acknowledged
    while (!done(produced)) {
      const due = Math.floor(((Date.now() - started) * rate) / 1000);
      if (due <= produced) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      const n = Math.min(due - produced, rate, limit - produced);
      const messages = Array.from({ length: n }, (_, i) => ({ partition: 0, value: String(produced + i) }));
      try {
        await producer!.send({ topic, messages });
      } catch {
        failedSends++;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const at = Date.now();
      for (let i = 0; i < n; i++) acked.push(at);
      produced += n;
    }
    return { produced, failedSends, ms: Date.now() - started, acked };
  }

  it('5 tabs tail one topic live over WebSocket at 1,000 records/s: each gets all 3,000 once, in order', async () => {
    const topic = 'browser-live';
    const tabs = 5;
    const total = 3000;
    await admin!.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const problems: string[] = [];
    const openedAt = Date.now();
    const openLiveTab = async (): Promise<Page> => {
      const page = await openTab(problems);
      await page.addScriptTag({ type: 'module', content: `import * as brook from '/client/index.js'; globalThis.brook = brook;` });
      await page.waitForFunction(() => 'brook' in globalThis);
      // Resolves on the client's `open`, which it emits once every subscription's `ok` is in:
      // from then on the live tail (from latest: the empty topic's offset 0) sees every record.
      await page.evaluate(
        (topic) =>
          new Promise<void>((resolve, reject) => {
            const g = globalThis as unknown as WsTab;
            g.values = [];
            g.arrivals = [];
            g.gaps = [];
            g.errors = [];
            g.closes = [];
            g.client = g.brook.connect(`ws://${g.location.host}/ws/v1`);
            const sub = g.client.subscribe({ topic, mode: 'live' });
            sub.on('records', (records) => {
              const now = Date.now();
              for (const r of records) {
                g.values.push(Number(r.text()));
                g.arrivals.push(now);
              }
              g.document.body.textContent = `live ${topic}: ${g.values.length} records, last ${g.values[g.values.length - 1]}`;
            });
            sub.on('gap', (gap) => g.gaps.push(gap));
            g.client.on('error', (e) => g.errors.push(e.message));
            g.client.on('close', (e) => {
              g.closes.push(e.code);
              reject(new Error(`closed ${e.code} ${e.reason} before the subscription was in`));
            });
            g.client.on('open', () => resolve());
          }),
        topic,
      );
      return page;
    };
    const pages = await Promise.all(Array.from({ length: tabs }, openLiveTab));
    const subscribedMs = Date.now() - openedAt;
    expect(tb!.broker.wsStats()?.connections).toBe(tabs);

    const run = await produceSteadily(topic, 1000, (n) => n >= total, total);
    expect(run.failedSends).toBe(0);
    const counts = () => Promise.all(pages.map((p) => p.evaluate(() => (globalThis as unknown as WsTab).values.length)));
    await until('every tab to receive every record', async () => (await counts()).every((n) => n >= total), 15_000);
    const lastRecordMs = Date.now() - run.acked[total - 1]!;

    const latencies: number[] = [];
    for (const [t, page] of pages.entries()) {
      const tab = await page.evaluate(() => {
        const g = globalThis as unknown as WsTab;
        return { values: g.values, arrivals: g.arrivals, gaps: g.gaps, errors: g.errors, closes: g.closes };
      });
      expect(tab.values, `tab ${t}`).toEqual(Array.from({ length: total }, (_, i) => i));
      expect({ tab: t, gaps: tab.gaps, errors: tab.errors, closes: tab.closes }).toEqual({ tab: t, gaps: [], errors: [], closes: [] });
      for (let i = 0; i < total; i++) latencies.push(tab.arrivals[i]! - run.acked[i]!);
    }
    await pages[0]!.screenshot({ path: join(ARTIFACTS, 'ws-live-tab.png') });
    expect(problems).toEqual([]);
    const stats = tb!.broker.wsStats()!;
    expect(stats.dropped).toBe(0);
    expect(stats.handlerErrors).toBe(0);
    expect(stats.slowConsumerActions).toBe(0);

    latencies.sort((a, b) => a - b);
    console.log(
      `browser ws: ${tabs} tabs subscribed in ${subscribedMs} ms; produced ${total} in ${run.ms} ms; ` +
        `produce-ack to tab receive p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms; ` +
        `last record in every tab ${lastRecordMs} ms after its ack; frames sent ${stats.framesSent}, records sent ${stats.recordsSent}`,
    );
    await Promise.all(pages.map((p) => p.evaluate(() => (globalThis as unknown as WsTab).client.close())));
    await Promise.all(pages.map((p) => p.close()));
  }, 30_000);

  it('an SSE tab survives a broker restart by itself (Last-Event-ID): every record once, in order', async () => {
    const topic = 'browser-sse';
    const rate = 200;
    await admin!.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const problems: string[] = [];
    const page = await openTab(problems);
    // The headers Chromium's network stack really sent: Last-Event-ID is added there, below what
    // Playwright's request events report.
    const sseRequestIds: string[] = [];
    const sentHeaders = new Map<string, Record<string, string>>();
    const cdp = await context!.newCDPSession(page);
    await cdp.send('Network.enable');
    cdp.on('Network.requestWillBeSent', (e) => {
      if (e.request.url.includes('/sse/v1/')) sseRequestIds.push(e.requestId);
    });
    cdp.on('Network.requestWillBeSentExtraInfo', (e) => sentHeaders.set(e.requestId, e.headers as Record<string, string>));
    const lastEventIds = () =>
      sseRequestIds.map((id) => Object.entries(sentHeaders.get(id) ?? {}).find(([name]) => name.toLowerCase() === 'last-event-id')?.[1]);
    await page.evaluate((topic) => {
      const g = globalThis as unknown as SseTab;
      g.events = [];
      g.opens = [];
      g.errors = 0;
      g.others = [];
      g.es = new g.EventSource(`/sse/v1/topics/${topic}?from=earliest&envelope=json`);
      g.es.onopen = () => g.opens.push(Date.now());
      g.es.onerror = () => g.errors++;
      g.es.onmessage = (e) => {
        const m = JSON.parse(e.data) as { offset: number; value: string };
        g.events.push({ offset: m.offset, value: Number(m.value), at: Date.now() });
        g.document.body.textContent = `sse ${topic}: ${g.events.length} events, last offset ${m.offset}, reconnects ${g.opens.length - 1}`;
      };
      for (const type of ['gap', 'delete']) g.es.addEventListener(type, (e) => g.others.push(`${type} ${e.data}`));
    }, topic);
    const received = () => page.evaluate(() => (globalThis as unknown as SseTab).events.length);

    // Production runs throughout: before, across and after the restart, until the tab has seen
    // records arrive over its second connection for a while.
    let restartedAt = 0;
    let stopAfter = Infinity;
    const producing = produceSteadily(topic, rate, () => Date.now() > stopAfter);
    try {
      await until('the first events', async () => (await received()) >= rate / 2, 10_000);
      const wsPort = tb!.broker.wsPort!;
      restartedAt = Date.now();
      await tb!.restart({ ws: { port: wsPort } });
      const restartMs = Date.now() - restartedAt;
      expect(tb!.broker.wsPort).toBe(wsPort);
      await until('the browser to reconnect', async () => (await page.evaluate(() => (globalThis as unknown as SseTab).opens.length)) >= 2, 10_000);
      const reconnectedMs = Date.now() - restartedAt;
      stopAfter = Date.now() + 1000;
      const run = await producing;
      await until('every record', async () => (await received()) >= run.produced, 10_000);
      // A little longer: anything sent twice would arrive now.
      await new Promise((r) => setTimeout(r, 300));

      const tab = await page.evaluate(() => {
        const g = globalThis as unknown as SseTab;
        return { events: g.events, opens: g.opens, errors: g.errors, others: g.others, readyState: g.es.readyState };
      });
      // Each offset once, in order; a batch the producer had to send again is two runs of offsets
      // holding the same values, so every value shows up and the first time in order.
      expect(tab.events.map((e) => e.offset)).toEqual(tab.events.map((_, i) => i));
      const firstSeen = [...new Set(tab.events.map((e) => e.value))];
      expect(firstSeen).toEqual(Array.from({ length: run.produced }, (_, i) => i));
      expect(tab.opens.length).toBe(2);
      expect(tab.readyState).toBe(1); // OPEN
      expect(tab.others).toEqual([]);
      // The browser sent the id of the last event it got; the server resumed right after it.
      const ids = lastEventIds();
      expect(ids.length).toBe(2);
      expect(ids[0]).toBeUndefined();
      expect(ids[1]).toMatch(/^[A-Za-z0-9_-]+$/);
      const before = tab.events.filter((e) => e.at < restartedAt).length;
      const afterReconnect = tab.events.find((e) => e.at >= tab.opens[1]!);
      await page.screenshot({ path: join(ARTIFACTS, 'sse-tab.png') });
      expect(problems.filter((p) => !p.includes('ERR_CONNECTION_REFUSED'))).toEqual([]);
      const stats = tb!.broker.wsStats()!;
      expect(stats.handlerErrors).toBe(0);
      console.log(
        `browser sse: ${run.produced} records at ${rate}/s, ${before} before the restart; restart took ${restartMs} ms; ` +
          `EventSource reopened ${reconnectedMs} ms after the restart began (retry: 2000), first event after it ${afterReconnect ? afterReconnect.at - tab.opens[1]! : NaN} ms later; ` +
          `${run.failedSends} producer sends retried across the restart, ${tab.events.length - run.produced} offsets repeat a value; browser errors ${tab.errors}`,
      );
    } finally {
      stopAfter = 0;
      await producing.catch(() => undefined);
      await page.evaluate(() => (globalThis as unknown as SseTab).es.close()).catch(() => undefined);
      await page.close();
    }
  }, 30_000);
  it('a tab reads only committed transactions by default: aborted records never arrive, an open one arrives at its commit', async () => {
    const topic = 'browser-txn';
    await admin!.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const problems: string[] = [];
    const page = await openTab(problems);
    await page.addScriptTag({ type: 'module', content: `import * as brook from '/client/index.js'; globalThis.brook = brook;` });
    await page.waitForFunction(() => 'brook' in globalThis);
    await page.evaluate(
      (topic) =>
        new Promise<void>((resolve, reject) => {
          const g = globalThis as unknown as WsTab & { texts: string[] };
          g.texts = [];
          g.errors = [];
          g.client = g.brook.connect(`ws://${g.location.host}/ws/v1`);
          const sub = g.client.subscribe({ topic, mode: 'live' });
          sub.on('records', (records) => {
            for (const r of records) g.texts.push(r.text());
          });
          g.client.on('error', (e) => g.errors.push(e.message));
          g.client.on('close', (e) => reject(new Error(`closed ${e.code} ${e.reason}`)));
          g.client.on('open', () => resolve());
        }),
      topic,
    );
    const texts = () => page.evaluate(() => (globalThis as unknown as { texts: string[] }).texts);

    const txProducer = kafkajs(tb!.bootstrap).producer({ transactionalId: 'browser-tx', idempotent: true, maxInFlightRequests: 1 });
    await txProducer.connect();
    try {
      const aborted = await txProducer.transaction();
      await aborted.send({ topic, messages: [{ partition: 0, value: 'aborted-0' }, { partition: 0, value: 'aborted-1' }] });
      await aborted.abort();
      const committed = await txProducer.transaction();
      await committed.send({ topic, messages: [{ partition: 0, value: 'committed-0' }, { partition: 0, value: 'committed-1' }] });
      await committed.commit();
      await until('the committed records in the tab', async () => (await texts()).length >= 2, 10_000);

      const open = await txProducer.transaction();
      await open.send({ topic, messages: [{ partition: 0, value: 'open-0' }] });
      // Held at the last stable offset while the transaction is open.
      await new Promise((r) => setTimeout(r, 500));
      expect(await texts()).toEqual(['committed-0', 'committed-1']);
      await open.commit();
      await until('the transaction committed last to arrive', async () => (await texts()).length >= 3, 10_000);
      expect(await texts()).toEqual(['committed-0', 'committed-1', 'open-0']);
    } finally {
      await txProducer.disconnect();
    }
    expect(await page.evaluate(() => (globalThis as unknown as WsTab).errors)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'ws-transactions.png') });
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
