/**
 * Whole frames: what the network and broker layers call.
 *
 * Wire frame = INT32 size (bytes that follow), header, body. The connection cuts frames on the
 * size, so the decode functions here take the frame WITHOUT its size prefix; the encode functions
 * return complete wire bytes, size prefix included.
 *
 * Server side:
 *
 *     const { header, bodyOffset } = decodeRequestHeader(frame);     // ProtocolError: close
 *     const api = apiSchema(header.apiKey);                          // undefined: close
 *     // version gate (the broker's advertised range), KIP-511 for ApiVersions, then:
 *     const body = decodeRequestBody(api, header.apiVersion, frame, bodyOffset);
 *     ...
 *     const chunks = encodeResponse(api, header.apiVersion, header.correlationId, response);
 *     // chunks: Buffers for socket.write, external chunks (file slices) for sendfile
 *
 * The client side (encodeRequest, decodeResponse) exists for tests, benchmarks and tools.
 */
import { codecFor } from './compile.js';
import { ErrorCode } from './error-codes.js';
import {
  readRequestHeader,
  readResponseHeader,
  responseHeaderVersion,
  writeRequestHeader,
  writeResponseHeader,
} from './headers.js';
import type { RequestHeader } from './headers.js';
import { Reader } from './reader.js';
import type { ApiSchema, Req, ReqInput, Res, ResInput } from './schema.js';
import { concatChunks, Writer } from './writer.js';
import type { Chunk } from './writer.js';
import { ApiKey } from './api-keys.js';

/** Reads the request header of `frame` (bytes after the size prefix). */
export function decodeRequestHeader(frame: Buffer, offset = 0): { header: RequestHeader; bodyOffset: number } {
  const r = new Reader(frame, offset);
  const header = readRequestHeader(r);
  return { header, bodyOffset: r.offset };
}

/**
 * Decodes the body of a request. Byte fields (records, metadata, assignments) are zero-copy views
 * of `frame`. Trailing bytes after the body are ignored. Throws ProtocolError on malformed input
 * and RangeError when `version` is outside what the schema covers (check first).
 */
export function decodeRequestBody<A extends ApiSchema>(api: A, version: number, frame: Buffer, bodyOffset: number): Req<A> {
  return codecFor(api.request, version).decode(new Reader(frame, bodyOffset)) as Req<A>;
}

/** Initial writer size for responses: most fit, and large ones grow geometrically. */
const RESPONSE_CAPACITY = 512;

/**
 * Encodes a complete response frame: size, response header (v0 or v1 as the API and version
 * require; always v0 for ApiVersions), body. Fields the handler omits get their defaults.
 */
export function encodeResponse<A extends ApiSchema>(
  api: A,
  version: number,
  correlationId: number,
  body: ResInput<A>,
): Chunk[] {
  const codec = codecFor(api.response, version);
  const w = new Writer(RESPONSE_CAPACITY);
  w.int32(0); // frame size, patched by finishFrame()
  writeResponseHeader(w, correlationId, responseHeaderVersion(api.apiKey, version));
  codec.encode(w, body as never);
  return w.finishFrame();
}

/**
 * The KIP-511 answer to an ApiVersions request of a version above the supported maximum:
 * response header v0, then a v0 body no matter which version was asked for, so any client can
 * parse it:
 *
 *     INT32 size = 16 | INT32 correlation_id | INT16 error_code = 35 (UNSUPPORTED_VERSION)
 *     | INT32 api_keys count = 1 | INT16 api_key = 18 | INT16 min_version | INT16 max_version
 *
 * The single entry tells the client which ApiVersions versions to retry with (Java and
 * librdkafka retry; the request body is never parsed).
 */
export function encodeApiVersionsFallback(correlationId: number, minVersion: number, maxVersion: number): Buffer {
  const frame = Buffer.allocUnsafe(20);
  frame.writeInt32BE(16, 0);
  frame.writeInt32BE(correlationId, 4);
  frame.writeInt16BE(ErrorCode.UNSUPPORTED_VERSION, 8);
  frame.writeInt32BE(1, 10);
  frame.writeInt16BE(ApiKey.ApiVersions, 14);
  frame.writeInt16BE(minVersion, 16);
  frame.writeInt16BE(maxVersion, 18);
  return frame;
}

/** Encodes a complete request frame (size, header v0/v1/v2, body) as one Buffer. */
export function encodeRequest<A extends ApiSchema>(
  api: A,
  version: number,
  header: { correlationId: number; clientId: string | null },
  body: ReqInput<A>,
): Buffer {
  return concatChunks(encodeRequestChunks(api, version, header, body));
}

/**
 * The same frame as Buffers in order, without joining them: record data of 16 KiB or more (a
 * producer's batches) stays in its own Buffer, by reference, so a client can write the pieces with
 * one gathered write instead of copying every batch into the frame.
 */
export function encodeRequestChunks<A extends ApiSchema>(
  api: A,
  version: number,
  header: { correlationId: number; clientId: string | null },
  body: ReqInput<A>,
): Buffer[] {
  const codec = codecFor(api.request, version);
  const w = new Writer();
  w.int32(0); // frame size, patched by finishFrame()
  writeRequestHeader(w, { apiKey: api.apiKey, apiVersion: version, ...header });
  codec.encode(w, body as never);
  // Requests carry no external chunks (those are file slices of fetch responses).
  return w.finishFrame() as Buffer[];
}

/** Decodes a response frame (bytes after the size prefix) of `api` at `version`. */
export function decodeResponse<A extends ApiSchema>(
  api: A,
  version: number,
  frame: Buffer,
): { correlationId: number; body: Res<A> } {
  const r = new Reader(frame);
  const correlationId = readResponseHeader(r, responseHeaderVersion(api.apiKey, version));
  const body = codecFor(api.response, version).decode(r) as Res<A>;
  return { correlationId, body };
}
