/**
 * One TCP connection to one Kafka broker, speaking through our codec (src/protocol/).
 *
 * Requests are pipelined: each gets the next correlation id and waits for the response with that id
 * (Kafka answers in request order on a connection; the map is keyed anyway). On open the connection
 * asks ApiVersions and keeps, per API, the version to use: the highest one both the broker and our
 * codec know, at most the client's cap for APIs whose later versions change shape (VERSION_CAPS).
 * That is what lets the commands talk to Apache Kafka and Redpanda as well as to Brook.
 *
 * Framing: response = INT32 size, then `size` bytes. A frame that arrived whole inside one socket
 * chunk is handed over as a view of it (no copy); one split across chunks is copied once into a buffer
 * of its exact size. Large fetch responses therefore cost one copy, never repeated concatenation.
 */
import { connect, type Socket } from 'node:net';
import { ApiKey } from '../protocol/api-keys.js';
import { decodeResponse, encodeRequestChunks } from '../protocol/frames.js';
import { apiSchema, apiVersionsApi } from '../protocol/messages.js';
import type { ApiSchema, ReqInput, Res } from '../protocol/schema.js';
import { ConnectionError, KafkaResponseError, RequestTimeoutError } from './errors.js';

/**
 * Highest version the client uses per API where a later version changes what the caller must send
 * or read (the codec decodes them all, but our callers are written for these shapes):
 * Fetch 13+ and Metadata-by-id name topics by id only; OffsetFetch 8+ and FindCoordinator 4+ batch
 * several groups; ListOffsets 8+ and Produce 10+ add nothing we use.
 */
const VERSION_CAPS: Partial<Record<number, number>> = {
  [ApiKey.Produce]: 9,
  [ApiKey.Fetch]: 12,
  [ApiKey.ListOffsets]: 7,
  [ApiKey.OffsetFetch]: 7,
  [ApiKey.FindCoordinator]: 3,
};

export interface ConnectionOptions {
  clientId: string;
  /** Connecting (TCP + ApiVersions) must finish within this. */
  connectTimeoutMs: number;
  /** Each request's answer must come within this (plus the request's own wait, e.g. a long poll). */
  requestTimeoutMs: number;
}

interface Pending {
  api: ApiSchema;
  version: number;
  resolve: (body: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class BrokerConnection {
  /** Per API key, the version this connection uses (absent: the broker does not serve it). */
  private readonly versions = new Map<number, number>();
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  /** Unconsumed socket chunks, and the bytes they hold. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    private readonly opts: ConnectionOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(new ConnectionError(`connection to ${host}:${port} failed: ${e.message}`)));
    socket.on('close', () => this.fail(new ConnectionError(`connection to ${host}:${port} closed by the broker`)));
  }

  /** Connects and negotiates versions; rejects with ConnectionError or RequestTimeoutError. */
  static async open(host: string, port: number, opts: ConnectionOptions): Promise<BrokerConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new RequestTimeoutError(`cannot connect to ${host}:${port} within ${opts.connectTimeoutMs} ms`));
      }, opts.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new ConnectionError(`cannot connect to ${host}:${port}: ${e.message}`));
      });
    });
    const conn = new BrokerConnection(socket, host, port, opts);
    try {
      await conn.negotiate();
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** The version this connection uses for `api`, or undefined when the broker does not serve it. */
  version(apiKey: number): number | undefined {
    return this.versions.get(apiKey);
  }

  /**
   * Sends `body` as `api` at the negotiated version (or `opts.version`) and resolves with the decoded
   * response. `expectResponse: false` (Produce with acks=0) resolves once written. `extraWaitMs` adds to
   * the timeout for requests the broker may hold (Fetch max wait, JoinGroup rebalance timeout).
   */
  request<A extends ApiSchema>(api: A, body: ReqInput<A>, opts: { version?: number; expectResponse?: boolean; extraWaitMs?: number } = {}): Promise<Res<A>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const version = opts.version ?? this.versions.get(api.apiKey);
    if (version === undefined) return Promise.reject(new Error(`the broker at ${this.host}:${this.port} does not support ${api.name}`));
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff || 1;
    const frame = encodeRequestChunks(api, version, { correlationId, clientId: this.opts.clientId }, body);
    if (opts.expectResponse === false) {
      return new Promise((resolve, reject) => {
        this.write(frame, (e) => (e ? reject(new ConnectionError(`write to ${this.host}:${this.port} failed: ${e.message}`)) : resolve(undefined as Res<A>)));
      });
    }
    return new Promise<Res<A>>((resolve, reject) => {
      const timeoutMs = this.opts.requestTimeoutMs + (opts.extraWaitMs ?? 0);
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        const e = new RequestTimeoutError(`no answer to ${api.name} from ${this.host}:${this.port} within ${timeoutMs} ms`);
        reject(e);
        // The stream is out of step once an answer is abandoned: close, as Kafka clients do.
        this.fail(new ConnectionError(`connection to ${this.host}:${this.port} closed after a request timed out`));
      }, timeoutMs);
      this.pending.set(correlationId, { api, version, resolve: resolve as (b: unknown) => void, reject, timer });
      this.write(frame);
    });
  }

  /**
   * One frame's pieces in one gathered write (cork/uncork: libuv's writev). Large record buffers are
   * written by reference, so their owner must not change them before the answer comes (or, without
   * one, before `done`): the producer reuses a batch's memory only after that.
   */
  private write(chunks: Buffer[], done?: (e?: Error | null) => void): void {
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!, done);
      return;
    }
    this.socket.cork();
    for (let i = 0; i < chunks.length; i++) this.socket.write(chunks[i]!, i === chunks.length - 1 ? done : undefined);
    this.socket.uncork();
  }

  close(): void {
    this.fail(new ConnectionError(`connection to ${this.host}:${this.port} closed`));
  }

  private async negotiate(): Promise<void> {
    // v0: every broker still serves it (Kafka 4 included), and nothing of later versions is needed.
    const res = await this.request(apiVersionsApi, {}, { version: 0 });
    if (res.errorCode !== 0) throw new KafkaResponseError(res.errorCode, `ApiVersions from ${this.host}:${this.port}`);
    for (const { apiKey, minVersion, maxVersion } of res.apiKeys) {
      const schema = apiSchema(apiKey);
      if (!schema) continue;
      const ours = Math.min(schema.maxVersion, VERSION_CAPS[apiKey] ?? schema.maxVersion);
      const v = Math.min(ours, maxVersion);
      if (v >= minVersion && v >= schema.minVersion) this.versions.set(apiKey, v);
    }
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const size = this.peekSize();
      if (size < 0) {
        this.fail(new ConnectionError(`malformed response from ${this.host}:${this.port} (frame size ${size})`));
        return;
      }
      if (this.buffered < 4 + size) return;
      this.deliver(this.take(4 + size).subarray(4));
      if (this.closedError) return;
    }
  }

  private peekSize(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    return this.take(4, true).readInt32BE(0);
  }

  /** The next `n` bytes: a view when the first chunk holds them, else one copy. `peek` leaves them queued. */
  private take(n: number, peek = false): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (peek) return first;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i]!;
      const part = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, part);
      filled += part;
      if (!peek) {
        if (part === c.length) i++;
        else this.chunks[i] = c.subarray(part);
      } else i++;
    }
    if (!peek) {
      this.chunks.splice(0, i);
      this.buffered -= n;
    }
    return out;
  }

  private deliver(frame: Buffer): void {
    const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1;
    const p = this.pending.get(correlationId);
    if (!p) {
      this.fail(new ConnectionError(`unexpected response (correlation id ${correlationId}) from ${this.host}:${this.port}`));
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    let body: unknown;
    try {
      body = decodeResponse(p.api, p.version, frame).body;
    } catch (e) {
      p.reject(new ConnectionError(`undecodable ${p.api.name} v${p.version} response from ${this.host}:${this.port}: ${(e as Error).message}`));
      this.fail(new ConnectionError(`connection to ${this.host}:${this.port} closed after an undecodable response`));
      return;
    }
    p.resolve(body);
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
    this.chunks = [];
    this.buffered = 0;
  }
}
