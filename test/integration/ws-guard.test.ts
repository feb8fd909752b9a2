/**
 * The Guard (src/ws/guard.ts) around a real uWebSockets.js App in this process. uWS aborts the
 * whole process when a request handler returns without answering and without onAborted, and turns
 * an exception in any callback into an uncaughtException: if the Guard failed at either, this
 * test file's process would die (or the uncaughtException listener below would fire).
 */
import { createConnection } from 'node:net';
import { App, us_listen_socket_close, us_socket_local_port, type TemplatedApp, type us_listen_socket, type WebSocket } from 'uWebSockets.js';
import WsClient from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionLogger } from '../../src/util/logger.js';
import { Guard, type GuardCounters } from '../../src/ws/guard.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface UserData {
  closed: boolean;
}

const counters: GuardCounters = { handlerErrors: 0 };
const logged: string[] = [];
const uncaught: unknown[] = [];
const onUncaught = (e: unknown) => uncaught.push(e);
let app: TemplatedApp;
let listenSocket: us_listen_socket;
let port = 0;
/** The slow handler's progress: whether it got past its await, and whether its late answer went anywhere. */
const slow = { finished: 0, answeredAfterAbort: 0 };

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  const guard = new Guard(counters, functionLogger((msg) => logged.push(msg)));
  app = App();
  app.get(
    '/throw',
    guard.http('throw', () => {
      throw new Error('synchronous failure');
    }),
  );
  app.get(
    '/reject',
    guard.http('reject', async () => {
      await sleep(20);
      throw new Error('asynchronous failure');
    }),
  );
  app.get(
    '/slow',
    guard.http('slow', async (r) => {
      await sleep(300);
      slow.finished++;
      if (r.aborted) slow.answeredAfterAbort++;
      r.end('200 OK', 'late answer');
    }),
  );
  const isClosed = (ws: WebSocket<UserData>) => ws.getUserData().closed;
  app.ws<UserData>('/ws', {
    upgrade: guard.http('upgrade', (r, req, context) => {
      r.answered = true;
      r.res.upgrade<UserData>({ closed: false }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context as never);
    }),
    message: guard.ws('message', isClosed, async (ws, message: ArrayBuffer) => {
      const text = Buffer.from(message).toString();
      if (text === 'throw') throw new Error('message handler failure');
      if (text === 'reject') {
        await sleep(20);
        throw new Error('async message handler failure');
      }
      ws.send(`echo ${text}`);
    }),
    close: guard.ws('close', () => true, (ws) => {
      ws.getUserData().closed = true;
    }),
  });
  await new Promise<void>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) => {
      if (!socket) return reject(new Error('cannot listen'));
      listenSocket = socket;
      port = us_socket_local_port(socket as never);
      resolve();
    }),
  );
});

afterAll(async () => {
  if (listenSocket) us_listen_socket_close(listenSocket);
  app?.close();
  // Late callbacks of the slow handler land after the last test: give them a turn before checking.
  await sleep(50);
  process.off('uncaughtException', onUncaught);
  expect(uncaught).toEqual([]);
});

describe('HTTP handlers', () => {
  it('a handler that throws synchronously answers 500, is counted, and the process lives', async () => {
    const before = counters.handlerErrors;
    const res = await fetch(`http://127.0.0.1:${port}/throw`);
    expect(res.status).toBe(500);
    expect(counters.handlerErrors - before).toBe(1);
    expect(logged.some((l) => l.includes('throw failed') && l.includes('synchronous failure'))).toBe(true);
    expect(uncaught).toEqual([]);
  });

  it('a handler that rejects after an await answers 500', async () => {
    const before = counters.handlerErrors;
    const res = await fetch(`http://127.0.0.1:${port}/reject`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('internal error\n');
    expect(counters.handlerErrors - before).toBe(1);
    expect(uncaught).toEqual([]);
  });

  it('a slow handler answers when its client waits', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/slow`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('late answer');
  });

  it('a slow handler whose client disconnects first does not crash (onAborted was attached)', async () => {
    const finishedBefore = slow.finished;
    const abortedBefore = slow.answeredAfterAbort;
    const errorsBefore = counters.handlerErrors;
    // A raw socket: the request is complete, then the client goes away before the 300 ms answer.
    await new Promise<void>((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 50);
      });
      s.on('error', reject);
    });
    await sleep(450);
    expect(slow.finished - finishedBefore).toBe(1);
    expect(slow.answeredAfterAbort - abortedBefore).toBe(1); // it saw the abort, and its r.end was a no-op
    expect(counters.handlerErrors - errorsBefore).toBe(0);
    expect(uncaught).toEqual([]);
    // Still serving.
    expect((await fetch(`http://127.0.0.1:${port}/slow`)).status).toBe(200);
  });
});

describe('WebSocket handlers', () => {
  async function connect(): Promise<{ ws: WsClient; closed: Promise<number>; messages: string[] }> {
    const ws = new WsClient(`ws://127.0.0.1:${port}/ws`);
    const messages: string[] = [];
    ws.on('message', (d: Buffer) => messages.push(d.toString()));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { ws, closed, messages };
  }

  it('a message handler that throws closes that socket with 1011; others and the process live', async () => {
    const before = counters.handlerErrors;
    const bystander = await connect();
    const victim = await connect();
    victim.ws.send('throw');
    expect(await victim.closed).toBe(1011);
    expect(counters.handlerErrors - before).toBe(1);
    bystander.ws.send('hi');
    await sleep(100);
    expect(bystander.messages).toEqual(['echo hi']);
    bystander.ws.close();
    await bystander.closed;
    expect(uncaught).toEqual([]);
  });

  it('a message handler that rejects after an await closes 1011 too', async () => {
    const before = counters.handlerErrors;
    const c = await connect();
    c.ws.send('reject');
    expect(await c.closed).toBe(1011);
    expect(counters.handlerErrors - before).toBe(1);
    expect(uncaught).toEqual([]);
  });

  it('a handler failing after its client went away is counted, and touches no closed socket', async () => {
    const before = counters.handlerErrors;
    const c = await connect();
    c.ws.send('reject');
    c.ws.terminate(); // gone before the rejection: the Guard must not end() a closed socket
    await sleep(100);
    expect(counters.handlerErrors - before).toBe(1);
    expect(uncaught).toEqual([]);
  });
});
