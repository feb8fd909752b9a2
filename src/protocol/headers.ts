/**
 * Request and response headers, and which header version goes with which (api key, api version).
 *
 * Request header (after the INT32 frame size):
 *
 * | field          | v0 | v1 | v2 | type                                                      |
 * |----------------|----|----|----|-----------------------------------------------------------|
 * | api_key        | x  | x  | x  | INT16                                                     |
 * | api_version    | x  | x  | x  | INT16                                                     |
 * | correlation_id | x  | x  | x  | INT32                                                     |
 * | client_id      |    | x  | x  | NULLABLE_STRING, INT16 length even in v2 (so any broker   |
 * |                |    |    |    | can read an ApiVersions header of a version it does not   |
 * |                |    |    |    | know yet)                                                 |
 * | TAG_BUFFER     |    |    | x  | (no tagged header fields are defined; skipped)            |
 *
 * Response header: v0 = correlation_id INT32; v1 = correlation_id, TAG_BUFFER.
 *
 * Which version:
 * - request header v2 / response header v1 for flexible versions of an API, v1 / v0 otherwise;
 * - EXCEPT the ApiVersions response, which always uses response header v0 (KIP-511): a client
 *   must be able to parse it before it knows which versions the broker speaks;
 * - and ControlledShutdown (key 7) v0, the one request with header v0 (no client_id). Brook does
 *   not implement ControlledShutdown, but the rule is here so a header is never misread.
 */
import { ApiKey } from './api-keys.js';
import { apiSchema } from './messages.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** null when the client sent a null client id, or with request header v0. */
  clientId: string | null;
}

export type RequestHeaderVersion = 0 | 1 | 2;
export type ResponseHeaderVersion = 0 | 1;

/** First flexible version of ControlledShutdown, which is not in the schema registry. */
const CONTROLLED_SHUTDOWN_FLEXIBLE_FROM = 3;

function isFlexibleVersion(apiKey: number, apiVersion: number): boolean {
  if (apiKey === ApiKey.ControlledShutdown) return apiVersion >= CONTROLLED_SHUTDOWN_FLEXIBLE_FROM;
  const api = apiSchema(apiKey);
  // An API the codec does not know is read as non-flexible: the header fields the broker needs
  // (key, version, correlation id, client id) sit at the same place either way.
  return api !== undefined && api.flexibleFrom !== null && apiVersion >= api.flexibleFrom;
}

/**
 * Header version of a request. Versions above what the schema covers count as flexible if the
 * API is flexible at all (every new version of a flexible API is flexible); this is what lets the
 * dispatcher read the header of an ApiVersions request from the future and answer KIP-511 style.
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): RequestHeaderVersion {
  if (apiKey === ApiKey.ControlledShutdown && apiVersion === 0) return 0;
  return isFlexibleVersion(apiKey, apiVersion) ? 2 : 1;
}

/** Header version of the response to (apiKey, apiVersion); ApiVersions is always v0. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): ResponseHeaderVersion {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexibleVersion(apiKey, apiVersion) ? 1 : 0;
}

/** Reads a request header at `r.offset`, leaving `r` at the first byte of the body. */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const version = requestHeaderVersion(apiKey, apiVersion);
  const clientId = version >= 1 ? r.nullableString() : null;
  if (version >= 2) r.skipTaggedFields();
  return { apiKey, apiVersion, correlationId, clientId };
}

export function writeRequestHeader(w: Writer, h: RequestHeader): void {
  const version = requestHeaderVersion(h.apiKey, h.apiVersion);
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  if (version >= 1) w.nullableString(h.clientId);
  if (version >= 2) w.emptyTaggedFields();
}

/** Reads a response header of the given version; returns the correlation id. */
export function readResponseHeader(r: Reader, version: ResponseHeaderVersion): number {
  const correlationId = r.int32();
  if (version >= 1) r.skipTaggedFields();
  return correlationId;
}

export function writeResponseHeader(w: Writer, correlationId: number, version: ResponseHeaderVersion): void {
  w.int32(correlationId);
  if (version >= 1) w.emptyTaggedFields();
}
