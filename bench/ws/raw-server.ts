/**
 * The raw-uWS baseline (docs: ../shared/reference/websocket.md §3.2), run as a child process of the
 * ws bench: a bare uWebSockets.js App whose sockets subscribe, on open, to the topic named by the
 * request path (`/raw/<topic>`), and a publisher of 100-byte payloads (bench/ws/frames.ts
 * `benchPayload`) with `app.publish`. Commands (bench/ws/ipc.ts): `listen`, `steady`, `saturate`,
 * `stalls`, `usage`, `gc`.
 */
import { App, us_listen_socket_close, us_socket_local_port, type WebSocket, type us_listen_socket } from 'uWebSockets.js';
import { benchPayload, nowMs } from './frames.js';
import { serve, usage } from './ipc.js';

interface Conn {
  topic: string;
  /** When the client said it stops reading, and when uWS first dropped a message for it. */
  stalledAt?: number;
  firstDropAt?: number;
}

const maxBackpressure = 1024 * 1024;
const app = App();
const open = new Set<WebSocket<Conn>>();
let listenSocket: us_listen_socket | undefined;
let dropped = 0;
const stallDelays: number[] = [];

app.ws<Conn>('/*', {
  maxBackpressure,
  maxPayloadLength: 64 * 1024,
  idleTimeout: 0,
  upgrade(res, req, context) {
    const topic = req.getUrl().replace(/^\/raw\//, '');
    res.upgrade<Conn>({ topic }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol').split(',')[0]!.trim(), req.getHeader('sec-websocket-extensions'), context);
  },
  open(ws) {
    open.add(ws);
    ws.subscribe(ws.getUserData().topic);
  },
  message(ws, message) {
    // The only client message: "stall", sent just before the client stops reading that socket.
    if (Buffer.from(message).toString() === 'stall') ws.getUserData().stalledAt = nowMs();
  },
  dropped(ws) {
    dropped++;
    const c = ws.getUserData();
    if (c.stalledAt !== undefined && c.firstDropAt === undefined) {
      c.firstDropAt = nowMs();
      stallDelays.push(c.firstDropAt - c.stalledAt);
    }
  },
  close(ws) {
    open.delete(ws);
  },
});

/** True while any subscriber holds more than half of maxBackpressure unsent (the §3.2 pause rule). */
function congested(): boolean {
  for (const ws of open) if (ws.getBufferedAmount() > maxBackpressure / 2) return true;
  return false;
}

serve(
  {
    listen: () =>
      new Promise<number>((resolve, reject) =>
        app.listen('127.0.0.1', 0, (s) => {
          if (!s) return reject(new Error('uWS could not listen'));
          listenSocket = s;
          resolve(us_socket_local_port(s));
        }),
      ),
    /**
     * `rate` payloads a second for `seconds`, from a 1 ms timer publishing whatever is due (one per
     * turn at 1,000/s: the worst case for uWS's per-turn coalescing). No backpressure pause, so a
     * stalled subscriber meets uWS's own limit (drops).
     */
    steady: ({ topic, rate, seconds, size }: { topic: string; rate: number; seconds: number; size: number }) =>
      new Promise((resolve) => {
        const t0 = performance.now();
        let sent = 0;
        const total = Math.round(rate * seconds);
        const timer = setInterval(() => {
          const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
          for (; sent < due; sent++) app.publish(topic, benchPayload(size, sent), true);
          if (sent >= total) {
            clearInterval(timer);
            resolve({ published: sent, seconds: (performance.now() - t0) / 1000 });
          }
        }, 1);
      }),
    /**
     * As fast as it goes for `seconds`: `perTurn` publishes per loop turn (setImmediate), none while
     * a subscriber is congested.
     */
    saturate: ({ topic, seconds, size, perTurn }: { topic: string; seconds: number; size: number; perTurn: number }) =>
      new Promise((resolve) => {
        const t0 = performance.now();
        let sent = 0;
        let pausedTurns = 0;
        const turn = () => {
          if (performance.now() - t0 >= seconds * 1000) return resolve({ published: sent, seconds: (performance.now() - t0) / 1000, pausedTurns });
          if (congested()) pausedTurns++;
          else for (let i = 0; i < perTurn; i++) app.publish(topic, benchPayload(size, sent++), true);
          setImmediate(turn);
        };
        turn();
      }),
    stalls: () => ({ delays: stallDelays.splice(0), dropped }),
    usage: () => ({ ...usage(), connections: open.size }),
    gc: () => {
      globalThis.gc?.();
      return usage();
    },
  },
  async () => {
    if (listenSocket) us_listen_socket_close(listenSocket);
    for (const ws of open) ws.close();
  },
);
