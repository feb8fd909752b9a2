/**
 * The contract between the dispatcher and the per-API handlers in handlers/. A handler names its
 * API schema and the versions it serves (exactly what ApiVersions advertises: never a version that
 * is not implemented), and turns a decoded request into a response object, or null for no response
 * at all (acks=0 produce). Partition-level failures are data in the response (see errors.ts);
 * a handler that throws closes the connection, so it must not.
 */
import type { AnyApi, Req, ResInput } from '../protocol/schema.js';
import type { RequestHeader } from '../protocol/headers.js';
import type { Broker } from './broker.js';

export interface ApiRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface RequestContext {
  broker: Broker;
  header: RequestHeader;
  /** Version of this request (= header.apiVersion). */
  version: number;
  /** Every API this broker serves, for ApiVersions. */
  apis: readonly ApiRange[];
  /** The client's IP address (group members' client_host), when the transport has one. */
  clientAddress?: string;
  /** See RequestOrigin.onClose: for handlers that wait (Fetch long polls). */
  onConnectionClose?: (listener: () => void) => () => void;
}

export interface Handler<A extends AnyApi = AnyApi> {
  api: A;
  minVersion: number;
  maxVersion: number;
  handle(req: Req<A>, ctx: RequestContext): ResInput<A> | null | Promise<ResInput<A> | null>;
}

/** Identity, for type inference of `req` and the response in handler files. */
export function defineHandler<A extends AnyApi>(h: Handler<A>): Handler<A> {
  if (h.minVersion < h.api.minVersion || h.maxVersion > h.api.maxVersion) {
    throw new Error(`${h.api.name} handler serves v${h.minVersion}-${h.maxVersion}, outside its schema's v${h.api.minVersion}-${h.api.maxVersion}`);
  }
  return h;
}

/**
 * The keys given more than once in a request's list. Kafka refuses every entry of such a key with
 * INVALID_REQUEST (a topic in CreateTopics twice is ambiguous), so handlers check this first.
 */
export function repeatedKeys<T>(items: readonly T[], key: (item: T) => string): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) repeated.add(k);
    seen.add(k);
  }
  return repeated;
}
