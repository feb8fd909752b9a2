/**
 * A minimal Kafka client over a raw socket, built on our own codec: for tests that need exact
 * control of the bytes (pipelining, malformed frames, retried idempotent batches) that real clients
 * never send on purpose.
 */
import { connect, type Socket } from 'node:net';
import { decodeResponse, encodeRequest } from '../../src/protocol/frames.js';
import type { ApiSchema, ReqInput, Res } from '../../src/protocol/schema.js';

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: ((frame: Buffer) => void)[] = [];
  private nextCorrelation = 1;
  closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const size = this.buf.readInt32BE(0);
        const frame = this.buf.subarray(4, 4 + size);
        this.buf = this.buf.subarray(4 + size);
        this.waiters.shift()?.(frame);
      }
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** The next response frame (without its size prefix). */
  nextFrame(timeoutMs = 10_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no response frame in time')), timeoutMs);
      this.waiters.push((f) => {
        clearTimeout(t);
        resolve(f);
      });
    });
  }

  encode<A extends ApiSchema>(api: A, version: number, body: ReqInput<A>, correlationId = this.nextCorrelation++): Buffer {
    return encodeRequest(api, version, { correlationId, clientId: 'raw-test' }, body);
  }

  async request<A extends ApiSchema>(api: A, version: number, body: ReqInput<A>): Promise<Res<A>> {
    const frame = this.encode(api, version, body);
    const reply = this.nextFrame();
    this.socket.write(frame);
    return decodeResponse(api, version, await reply).body;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves true if the broker closes the connection within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }

  close(): void {
    this.socket.destroy();
  }
}
