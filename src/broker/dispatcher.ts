/**
 * Routes each request frame to its handler: parses the header, gates the version, decodes the body,
 * runs the handler, encodes the response. Protocol violations (unknown API or version, a body that
 * does not parse) close the connection, as Kafka does; the one exception is ApiVersions above our
 * maximum, which gets the KIP-511 answer (a v0 body with UNSUPPORTED_VERSION) so clients can retry.
 */
import { ApiKey } from '../protocol/api-keys.js';
import { decodeRequestBody, decodeRequestHeader, encodeApiVersionsFallback, encodeResponse } from '../protocol/frames.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import { CloseConnection, type OutChunk, type RequestInfo, type RequestOrigin, type RequestSink } from '../protocol/request-sink.js';
import type { AnyField } from '../protocol/schema.js';
import type { Broker } from './broker.js';
import type { ApiRange, Handler, RequestContext } from './handler.js';
import { HANDLERS } from './handlers/index.js';
import type { ApiStats } from './stats.js';

/** Adds a response's non-zero `errorCode` fields to `api`'s error counts. */
type ErrorWalk = (value: unknown, api: ApiStats) => void;

/**
 * The error walk of one response version, from its schema: it visits only the `errorCode` fields
 * the version has and the structs and arrays of structs holding one (no key enumeration, no field
 * the codec would not write); undefined when the version has none.
 */
function compileErrorWalk(fields: readonly AnyField[], version: number): ErrorWalk | undefined {
  const steps: ErrorWalk[] = [];
  for (const f of fields) {
    if (version < f.since || version > f.until) continue;
    const name = f.name;
    const t = f.type;
    if (t.kind === 'scalar') {
      if (name === 'errorCode') {
        steps.push((o, api) => {
          const code = (o as Record<string, unknown>)[name];
          if (typeof code === 'number' && code !== 0) api.addError(code);
        });
      }
      continue;
    }
    const inner = compileErrorWalk(t.kind === 'struct' ? t.fields : typeof t.items === 'string' ? [] : t.items, version);
    if (!inner) continue;
    if (t.kind === 'struct') {
      steps.push((o, api) => {
        const v = (o as Record<string, unknown>)[name];
        if (v) inner(v, api);
      });
    } else {
      steps.push((o, api) => {
        const a = (o as Record<string, unknown>)[name];
        if (Array.isArray(a)) for (const e of a) if (e) inner(e, api);
      });
    }
  }
  if (steps.length === 0) return undefined;
  return (o, api) => {
    for (const step of steps) step(o, api);
  };
}

export class Dispatcher implements RequestSink {
  private readonly byKey: (Handler | undefined)[] = [];
  /** By api key, then version: the compiled error walk (null: the version has no errorCode field). */
  private readonly errorWalks: (ErrorWalk | null)[][] = [];
  readonly apis: readonly ApiRange[];

  constructor(
    private readonly broker: Broker,
    handlers: readonly Handler[] = HANDLERS,
  ) {
    for (const h of handlers) this.byKey[h.api.apiKey] = h;
    this.apis = handlers.map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion })).sort((a, b) => a.apiKey - b.apiKey);
  }

  onRequest(frame: Buffer, info: RequestInfo, origin: RequestOrigin): OutChunk[] | null | Promise<OutChunk[] | null> {
    // The connection calls this as soon as the frame is cut: latency runs from here to the encoded answer.
    const started = this.broker.stats.enabled ? performance.now() : -1;
    const handler = this.byKey[info.apiKey];
    if (!handler) throw new CloseConnection(`unsupported api key ${info.apiKey}`);
    if (info.apiVersion > handler.maxVersion && info.apiKey === ApiKey.ApiVersions) {
      return [encodeApiVersionsFallback(info.correlationId, handler.minVersion, handler.maxVersion)];
    }
    if (info.apiVersion < handler.minVersion || info.apiVersion > handler.maxVersion) {
      throw new CloseConnection(`unsupported version ${info.apiVersion} of ${handler.api.name} (serving ${handler.minVersion}-${handler.maxVersion})`);
    }
    let ctx: RequestContext;
    let body: unknown;
    try {
      const { header, bodyOffset } = decodeRequestHeader(frame);
      ctx = { broker: this.broker, header, version: info.apiVersion, apis: this.apis, clientAddress: origin.remoteAddress, onConnectionClose: (l) => origin.onClose(l) };
      body = decodeRequestBody(handler.api, info.apiVersion, frame, bodyOffset);
    } catch (e) {
      if (e instanceof ProtocolError) throw new CloseConnection(`malformed ${handler.api.name} v${info.apiVersion} request: ${e.message}`);
      throw e;
    }
    const result = handler.handle(body, ctx);
    // The only external chunks handlers put in responses are storage file slices (Fetch records).
    const encode = (res: unknown) => {
      const out = res === null ? null : (encodeResponse(handler.api, info.apiVersion, info.correlationId, res) as OutChunk[]);
      if (started >= 0) this.count(handler, info, res, performance.now() - started);
      return out;
    };
    return result instanceof Promise ? result.then(encode) : encode(result);
  }

  /**
   * One answered request into the broker's stats: count and latency per API key and version, and its
   * error codes. Produce and Fetch count their partition errors in their handlers (which know when
   * there is one); other responses are small control-plane answers, walked here for errorCode fields.
   */
  private count(handler: Handler, info: RequestInfo, res: unknown, latencyMs: number): void {
    const api = this.broker.stats.request(info.apiKey, info.apiVersion, latencyMs);
    if (res === null || info.apiKey === ApiKey.Produce || info.apiKey === ApiKey.Fetch) return;
    const byVersion = (this.errorWalks[info.apiKey] ??= []);
    let walk = byVersion[info.apiVersion];
    if (walk === undefined) walk = byVersion[info.apiVersion] = compileErrorWalk(handler.api.response.fields, info.apiVersion) ?? null;
    walk?.(res, api);
  }
}
