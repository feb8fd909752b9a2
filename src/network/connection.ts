/**
 * One client connection: cuts the byte stream into request frames, hands them to the broker in
 * arrival order, and writes responses back strictly in request order, even when handlers finish out
 * of order (a long-polling Fetch pipelined before a Metadata request answers first). Knows sockets
 * and frames, not Kafka semantics.
 *
 * Frame layout (both directions):
 *
 *   size    int32   bytes that follow (request: header + body; response: header + body)
 *   ...     size bytes
 *
 * Every request header starts with the same three fields whatever its version, which is all this
 * layer reads (for numbering and logging); the dispatcher parses the rest:
 *
 *   api_key int16, api_version int16, correlation_id int32, ...
 *
 * Responses are lists of chunks: Buffers go through socket.write; file slices (record bytes that
 * sit in a segment file) go from the page cache to the socket with sendfile once every earlier byte
 * has been handed to the kernel, so they never overtake buffered writes.
 */
import type { Socket } from 'node:net';

/** Bytes of a segment file to send as they are (zero copy). */
export interface FileSlice {
  readonly fd: number;
  readonly position: number;
  readonly length: number;
}
export type OutChunk = Buffer | FileSlice;

export interface RequestInfo {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** Thrown (or rejected) by a handler when the connection must close instead of answering. */
export class CloseConnection extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CloseConnection';
  }
}

export interface RequestSink {
  /**
   * Called synchronously for each complete frame (without its size prefix), in arrival order, so
   * the synchronous part of handlers (appending to a log) happens in request order. Returns the
   * complete response frame (size prefix included), or null to send nothing (acks=0 produce). The
   * frame's bytes belong to the sink.
   */
  onRequest(frame: Buffer, info: RequestInfo, conn: Connection): OutChunk[] | null | Promise<OutChunk[] | null>;
}

export interface ConnectionOptions {
  /** Frames above this size close the connection (socket.request.max.bytes). */
  maxRequestBytes: number;
  /** Requests read but not yet answered before reading pauses (backpressure). */
  maxInFlight: number;
  /** Sends a file slice to the socket's fd without copying; absent: copy through readSlice. */
  sendFile?: (socketFd: number, slice: FileSlice) => Promise<number>;
  /** The copying fallback: the slice's bytes as a Buffer. */
  readSlice: (slice: FileSlice) => Buffer;
  log: (msg: string) => void;
}

interface Slot {
  info: RequestInfo;
  done: boolean;
  response: OutChunk[] | null;
}

const HEADER_PREFIX = 8; // api_key + api_version + correlation_id: the minimum any request carries

export class Connection {
  readonly remote: string;
  private readonly slots: Slot[] = [];
  /** A size prefix split across reads. */
  private readonly sizeBuf = Buffer.allocUnsafe(4);
  private sizeFilled = 0;
  /** A frame split across reads, and how much of it has arrived. */
  private frame: Buffer | null = null;
  private frameFilled = 0;
  private pumping = false;
  private closed = false;
  private paused = false;
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly socket: Socket,
    private readonly sink: RequestSink,
    private readonly opts: ConnectionOptions,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close()); // peers resetting is normal; nothing to log
    socket.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops reading new requests (graceful shutdown); those already read are still answered. */
  stopReading(): void {
    this.socket.pause();
    this.paused = true;
    this.draining = true;
  }

  /** Resolves once every request read so far has been answered (or the connection closed). */
  whenIdle(): Promise<void> {
    if (this.closed || (this.slots.length === 0 && !this.pumping)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.opts.log(`closing connection from ${this.remote}: ${reason}`);
    this.slots.length = 0;
    this.socket.destroy();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // ------------------------------------------------------------------ reading

  private onData(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.closed) {
      if (this.frame) {
        const n = Math.min(this.frame.length - this.frameFilled, chunk.length - pos);
        chunk.copy(this.frame, this.frameFilled, pos, pos + n);
        this.frameFilled += n;
        pos += n;
        if (this.frameFilled < this.frame.length) return;
        const frame = this.frame;
        this.frame = null;
        this.dispatch(frame);
        continue;
      }
      let size: number;
      if (this.sizeFilled > 0 || chunk.length - pos < 4) {
        const n = Math.min(4 - this.sizeFilled, chunk.length - pos);
        chunk.copy(this.sizeBuf, this.sizeFilled, pos, pos + n);
        this.sizeFilled += n;
        pos += n;
        if (this.sizeFilled < 4) return;
        this.sizeFilled = 0;
        size = this.sizeBuf.readInt32BE(0);
      } else {
        size = chunk.readInt32BE(pos);
        pos += 4;
      }
      if (!this.checkSize(size)) return;
      if (chunk.length - pos >= size) {
        // The whole frame is in this read: hand out a view, no copy.
        this.dispatch(chunk.subarray(pos, pos + size));
        pos += size;
      } else {
        this.frame = Buffer.allocUnsafe(size);
        this.frameFilled = 0;
      }
    }
  }

  private checkSize(size: number): boolean {
    if (size < HEADER_PREFIX || size > this.opts.maxRequestBytes) {
      this.close(`request size ${size} outside [${HEADER_PREFIX}, ${this.opts.maxRequestBytes}] (socket.request.max.bytes)`);
      return false;
    }
    return true;
  }

  private dispatch(frame: Buffer): void {
    const info: RequestInfo = {
      apiKey: frame.readInt16BE(0),
      apiVersion: frame.readInt16BE(2),
      correlationId: frame.readInt32BE(4),
    };
    const slot: Slot = { info, done: false, response: null };
    this.slots.push(slot);
    if (this.slots.length >= this.opts.maxInFlight && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    let result: OutChunk[] | null | Promise<OutChunk[] | null>;
    try {
      result = this.sink.onRequest(frame, info, this);
    } catch (e) {
      this.fail(info, e);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (r) => this.complete(slot, r),
        (e) => this.fail(info, e),
      );
    } else {
      this.complete(slot, result);
    }
  }

  private complete(slot: Slot, response: OutChunk[] | null): void {
    if (this.closed) return;
    slot.done = true;
    slot.response = response;
    if (slot === this.slots[0]) void this.pump();
  }

  private fail(info: RequestInfo, e: unknown): void {
    const what = `api_key ${info.apiKey} v${info.apiVersion} correlation_id ${info.correlationId}`;
    this.close(e instanceof CloseConnection ? `${e.message} (${what})` : `handler failed on ${what}: ${(e as Error)?.stack ?? e}`);
  }

  // ------------------------------------------------------------------ writing

  /** Writes every finished response at the head of the queue, in order. One pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.slots.length > 0 && this.slots[0].done) {
        const slot = this.slots.shift()!;
        if (slot.response) await this.write(slot.response);
        if (this.paused && !this.draining && this.slots.length < this.opts.maxInFlight / 2) {
          this.paused = false;
          this.socket.resume();
        }
      }
    } catch (e) {
      this.close(`write failed: ${(e as Error).message}`);
    } finally {
      this.pumping = false;
      if (this.slots.length === 0) this.notifyIdle();
    }
  }

  private async write(chunks: OutChunk[]): Promise<void> {
    const socket = this.socket;
    socket.cork();
    let i = 0;
    for (; i < chunks.length; i++) {
      const c = chunks[i];
      if (Buffer.isBuffer(c)) {
        socket.write(c);
        continue;
      }
      // A file slice: everything before it must reach the kernel first.
      socket.uncork();
      await this.sendSlice(c);
      if (this.closed) return;
      socket.cork();
    }
    socket.uncork();
    if (socket.writableNeedDrain) await this.drained();
  }

  private async sendSlice(slice: FileSlice): Promise<void> {
    const fd = this.socketFd();
    if (this.opts.sendFile && fd !== undefined) {
      if (this.socket.writableLength > 0) await this.drained();
      if (this.closed) return;
      const sent = await this.opts.sendFile(fd, slice);
      if (sent !== slice.length) throw new Error(`sendfile sent ${sent} of ${slice.length} bytes`);
    } else {
      const ok = this.socket.write(this.opts.readSlice(slice));
      if (!ok) await this.drained();
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.socket.writableLength === 0) return resolve();
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** The OS socket descriptor for sendfile; undefined where Node does not expose one (TLS, pipes). */
  private socketFd(): number | undefined {
    const fd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : undefined;
  }
}
