/**
 * The contract between a transport and whatever answers its requests, in bytes only: a request
 * frame in; the response frame's chunks out, nothing (acks=0 produce), or CloseConnection.
 * network/connection.ts implements the transport side over TCP; broker/dispatcher.ts is the sink.
 * It lives here, below both, so the broker knows no sockets and the network knows no broker.
 */

/**
 * Bytes of a segment file to send as they are (zero copy); storage's read() makes them. `file`
 * owns the open file, and every send reads through it, never by descriptor number: whoever ends the
 * slice's journey calls file.release() (src/storage/partition-log.ts). `fd` is the descriptor the
 * handle holds, for diagnostics only.
 */
export interface FileSlice {
  readonly fd: number;
  readonly position: number;
  readonly length: number;
  readonly file: FileHandle;
}
/** Shared ownership of an open file; release() is idempotent, and GC releases a dropped handle. */
export interface FileHandle {
  release(): void;
  readonly released: boolean;
}
export type OutChunk = Buffer | FileSlice;

/**
 * Lets go of the files of the slices among `chunks` (see FileSlice): once a response is written, or
 * will never be (the connection closed first, or a long poll reads again).
 */
export function releaseSlices(chunks: readonly OutChunk[] | null): void {
  if (!chunks) return;
  for (const c of chunks) if (!Buffer.isBuffer(c)) c.file.release();
}

/** The three fields every request header starts with, whatever its version. */
export interface RequestInfo {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** What a sink may learn of the connection a request came on. */
export interface RequestOrigin {
  /** The client's IP address, when the transport has one. */
  readonly remoteAddress: string | undefined;
  /**
   * Calls `listener` once, when the connection closes: a handler waiting for something (a Fetch
   * long poll) stops waiting, since its answer can no longer be sent. Returns the function that
   * removes the listener; a connection already closed calls it at once.
   */
  onClose(listener: () => void): () => void;
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
  onRequest(frame: Buffer, info: RequestInfo, origin: RequestOrigin): OutChunk[] | null | Promise<OutChunk[] | null>;
}
