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
 *
 * Reading. By default Node reads each time into a new 64 KiB Buffer, and a frame longer than one
 * read is then copied piece by piece into a frame Buffer: for produce traffic every byte is copied
 * twice in this process and lands twice in memory the kernel has to fault in (measured: a fifth of
 * the broker's CPU on 1 KiB produce, bench/throughput.bench.ts). Instead, where Node offers it,
 * reads go into buffers this class chooses (the `onread` mechanism of net.Socket, which
 * net.Server does not expose for accepted sockets, so it is switched on through the socket's own
 * symbols before the first read; when they are missing, the 'data' path above is used):
 *   - while a large frame is incomplete, the read goes straight into the rest of that frame (one
 *     copy, kernel to frame, however large the frame: a 1 MB produce takes a few reads);
 *   - otherwise into one reused per-connection buffer, from which size prefixes and small frames
 *     are copied out (frames must outlive the next read: handlers may keep views of them).
 * Frames of the api keys in `recyclableApiKeys` (Produce: its handler is done with the bytes when
 * it returns) are assembled in one reused buffer per connection instead of fresh memory, so the
 * hot path touches the same warm pages over and over instead of faulting in new ones.
 */
import type { Socket } from 'node:net';
import { CloseConnection, releaseSlices, type FileSlice, type OutChunk, type RequestInfo, type RequestOrigin, type RequestSink } from '../protocol/request-sink.js';
import type { LogLevel, Logger, PeerLogLimiter } from '../util/logger.js';

export interface ConnectionOptions {
  /** Frames above this size close the connection (socket.request.max.bytes). */
  maxRequestBytes: number;
  /** Requests read but not yet answered before reading pauses (backpressure). */
  maxInFlight: number;
  /** Sends a file slice to the socket's fd without copying; absent: copy through readSlice. */
  sendFile?: (socketFd: number, slice: FileSlice) => Promise<number>;
  /**
   * Sends a file slice to the socket's fd by pread into a reused buffer and write, off the JS
   * thread; used instead of sendFile for slices up to `copySendMaxBytes`. On loopback this VM
   * measured it faster than sendfile at 64 KiB and 1 MiB (splicing page references costs more per
   * byte than one copy into warm memory, and the receiver copies either way).
   */
  copySend?: (socketFd: number, slice: FileSlice) => Promise<number>;
  copySendMaxBytes?: number;
  /** The copying fallback: the slice's bytes as a Buffer. */
  readSlice: (slice: FileSlice) => Buffer;
  /** Wakes a sendFile/copySend in flight on this socket descriptor so it fails now (closing). */
  shutdownSocket?: (socketFd: number) => void;
  /**
   * Read into buffers of our choosing (see "Reading" above); default true. False keeps Node's
   * 'data' events, the fallback where the mechanism is unavailable (tests cover both).
   */
  directReads?: boolean;
  /**
   * Api keys whose requests the sink no longer references once onRequest has returned (its
   * synchronous part; a returned Promise must not need the frame). Their frames are built in a
   * buffer the connection reuses for the next such frame.
   */
  recyclableApiKeys?: ReadonlySet<number>;
  log: Logger;
  /**
   * Limits the lines written about closed connections per remote address (a client sending garbage
   * on connection after connection); without it every close with a reason is written.
   */
  peerLog?: PeerLogLimiter;
}

interface Slot {
  info: RequestInfo;
  done: boolean;
  response: OutChunk[] | null;
}

const HEADER_PREFIX = 8; // api_key + api_version + correlation_id: the minimum any request carries

/** The reused read buffer of a connection with direct reads. */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * A frame with at least this much still to arrive is read into directly; below it the next read
 * goes to the read buffer (it likely holds the frame's end and the next frames: one read, a small copy).
 */
const DIRECT_READ_MIN = 16 * 1024;

/** Recyclable frames up to this size reuse the connection's buffer; larger ones get their own. */
const RECYCLE_MAX_BYTES = 16 * 1024 * 1024;

/** Node's private hooks behind the `onread` option of net.Socket, found once by their descriptions. */
interface ReadHooks {
  buffer: symbol;
  callback: symbol;
  next: symbol;
}
let readHooks: ReadHooks | null | undefined;

function findReadHooks(socket: Socket): ReadHooks | null {
  if (readHooks !== undefined) return readHooks;
  const syms = Object.getOwnPropertySymbols(socket);
  const find = (d: string) => syms.find((s) => s.description === d);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const next = find('kBufferGen');
  readHooks = buffer && callback && next ? { buffer, callback, next } : null;
  return readHooks;
}

export class Connection implements RequestOrigin {
  readonly remote: string;
  private readonly slots: Slot[] = [];
  /** A size prefix split across reads. */
  private readonly sizeBuf = Buffer.allocUnsafe(4);
  private sizeFilled = 0;
  /** A frame split across reads, and how much of it has arrived. */
  private frame: Buffer | null = null;
  private frameFilled = 0;
  /** Direct reads: the reused read buffer, and the view of `frame` handed out for the current read. */
  private readBuffer: Buffer | null = null;
  private frameTail: Buffer | null = null;
  /** Memory for recyclable frames: one frame at a time, free again once the sink has returned. */
  private recycled: Buffer | null = null;
  private pumping = false;
  /** The socket descriptor a sendFile/copySend is writing to right now (see close()). */
  private sendingOn: number | undefined;
  private closed = false;
  private paused = false;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly closeListeners = new Set<() => void>();

  constructor(
    readonly socket: Socket,
    private readonly sink: RequestSink,
    private readonly opts: ConnectionOptions,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    if (opts.directReads === false || !this.readDirectly()) socket.on('data', (chunk: Buffer) => this.onData(chunk, chunk.length, true));
    socket.on('error', () => this.close()); // peers resetting is normal; nothing to log
    socket.on('close', () => this.close());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  onClose(listener: () => void): () => void {
    if (this.closed) {
      listener();
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether reads go into this connection's own buffers (see "Reading" above). */
  get readsDirectly(): boolean {
    return this.readBuffer !== null;
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

  /** Closes the socket; a `reason` is logged at `level` (warn: the peer sent something we refuse). */
  close(reason?: string, level: LogLevel = 'warn'): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) {
      const msg = `closing connection from ${this.remote}: ${reason}`;
      // By address, not address:port: a misbehaving client reconnects from a new port each time.
      const peer = this.socket.remoteAddress ?? this.remote;
      if (this.opts.peerLog) this.opts.peerLog.write(level, peer, msg);
      else this.opts.log[level](msg, { peer });
    }
    for (const slot of this.slots) releaseSlices(slot.response);
    this.slots.length = 0;
    // A send in flight writes to its own duplicate of the descriptor (the number may be reused
    // once destroy() closes it); shut the socket down so that send stops now. Only while Node's
    // handle still holds that descriptor open: after a peer reset the handle is gone and the
    // number may already belong to another connection (the duplicate then fails on its own).
    if (this.sendingOn !== undefined && this.socketFd() === this.sendingOn) this.opts.shutdownSocket?.(this.sendingOn);
    this.socket.destroy();
    this.notifyIdle();
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const l of listeners) l();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // ------------------------------------------------------------------ reading

  /**
   * Switches the socket to reads into our buffers. Must run before the first read completes: the
   * server's connection callback, where Node has asked libuv to read but nothing has arrived yet.
   */
  private readDirectly(): boolean {
    const hooks = findReadHooks(this.socket);
    const s = this.socket as unknown as Record<symbol, unknown> & { _handle?: { useUserBuffer?: (b: Buffer) => void } };
    const handle = s._handle;
    if (!hooks || typeof handle?.useUserBuffer !== 'function' || s[hooks.buffer] !== null) return false;
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    this.readBuffer = buffer;
    s[hooks.buffer] = buffer;
    s[hooks.callback] = (n: number, into: Buffer) => {
      this.onRead(n, into);
    };
    s[hooks.next] = () => this.nextReadTarget();
    handle.useUserBuffer(buffer);
    return true;
  }

  /** Where the next read lands: the rest of a large incomplete frame, else the read buffer. */
  private nextReadTarget(): Buffer {
    const frame = this.frame;
    if (frame && !this.closed && frame.length - this.frameFilled >= DIRECT_READ_MIN) {
      this.frameTail = frame.subarray(this.frameFilled);
      return this.frameTail;
    }
    this.frameTail = null;
    return this.readBuffer!;
  }

  private onRead(n: number, into: Buffer): void {
    if (this.closed) return;
    if (into === this.frameTail) {
      this.frameTail = null;
      this.frameFilled += n;
      if (this.frameFilled < this.frame!.length) return;
      const frame = this.frame!;
      this.frame = null;
      this.dispatch(frame);
      return;
    }
    this.onData(into, n, false);
  }

  /**
   * Cuts frames from chunk[0, end). `owned`: the chunk is ours to keep (Node's per-read Buffer),
   * so whole frames inside it are handed out as views; otherwise (the reused read buffer) they
   * are copied out.
   */
  private onData(chunk: Buffer, end: number, owned: boolean): void {
    let pos = 0;
    while (pos < end && !this.closed) {
      if (this.frame) {
        const n = Math.min(this.frame.length - this.frameFilled, end - pos);
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
      if (this.sizeFilled > 0 || end - pos < 4) {
        const n = Math.min(4 - this.sizeFilled, end - pos);
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
      if (end - pos >= size) {
        // The whole frame is in this read: a view if the chunk is ours to keep, else a copy.
        let frame: Buffer;
        if (owned) frame = chunk.subarray(pos, pos + size);
        else chunk.copy((frame = this.frameBuffer(size, chunk.readInt16BE(pos))), 0, pos, pos + size);
        this.dispatch(frame);
        pos += size;
      } else {
        this.frame = this.frameBuffer(size, end - pos >= 2 ? chunk.readInt16BE(pos) : -1);
        this.frameFilled = 0;
      }
    }
  }

  /** Memory for a frame of `size` bytes with this api key (-1: not known yet). */
  private frameBuffer(size: number, apiKey: number): Buffer {
    if (size > RECYCLE_MAX_BYTES || !this.opts.recyclableApiKeys?.has(apiKey)) return Buffer.allocUnsafe(size);
    if (!this.recycled || this.recycled.length < size) {
      this.recycled = Buffer.allocUnsafeSlow(Math.min(RECYCLE_MAX_BYTES, 2 ** Math.ceil(Math.log2(size))));
    }
    return this.recycled.subarray(0, size);
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
    if (this.closed) return releaseSlices(response);
    slot.done = true;
    slot.response = response;
    if (slot === this.slots[0]) void this.pump();
  }

  private fail(info: RequestInfo, e: unknown): void {
    const what = `api_key ${info.apiKey} v${info.apiVersion} correlation_id ${info.correlationId}`;
    if (e instanceof CloseConnection) this.close(`${e.message} (${what})`);
    else this.close(`handler failed on ${what}: ${(e as Error)?.stack ?? e}`, 'error');
  }

  // ------------------------------------------------------------------ writing

  /** Writes every finished response at the head of the queue, in order. One pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.slots.length > 0 && this.slots[0].done) {
        const slot = this.slots.shift()!;
        if (slot.response) {
          try {
            await this.write(slot.response);
          } finally {
            releaseSlices(slot.response); // sent, or never will be: the files may close
          }
        }
        if (this.paused && !this.draining && this.slots.length < this.opts.maxInFlight / 2) {
          this.paused = false;
          this.socket.resume();
        }
      }
    } catch (e) {
      this.close(`write failed: ${(e as Error).message}`, 'info');
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
      const { copySend, copySendMaxBytes = 0 } = this.opts;
      const send = copySend && slice.length <= copySendMaxBytes ? copySend : this.opts.sendFile;
      this.sendingOn = fd;
      let sent: number;
      try {
        sent = await send(fd, slice);
      } finally {
        this.sendingOn = undefined;
      }
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
