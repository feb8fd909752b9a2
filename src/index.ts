/**
 * Brook's public API: start a broker in-process (tests, embedding) exactly as `brook start` does.
 *
 *   const b = await startBroker({ port: 0, dataDir });   // port 0: any free port
 *   // clients connect to `localhost:${b.port}`
 *   await b.close();                                       // graceful: flush, clean-shutdown markers
 */
import { Broker } from './broker/broker.js';
import { Dispatcher } from './broker/dispatcher.js';
import { consoleRoutes } from './console/routes.js';
import { buildBrokerConfig, defaultAdvertised, readPropertiesFile, type BrokerConfig } from './config.js';
import { metricsRoute } from './metrics/route.js';
import { KafkaServer } from './network/server.js';
import { ApiKey } from './protocol/api-keys.js';
import { preadWrite, readSlice, sendfile, shutdownSocket } from './storage/partition-log.js';
import type { Authenticate } from './ws/auth.js';
import type { ClusterStore } from './cluster/store.js';
import { readMetaProperties } from './broker/topics.js';
import { Gateway, type GatewayStats, type HttpRoutes } from './ws/gateway.js';
import { loadUws } from './ws/uws.js';
import { createLogger, functionLogger, PeerLogLimiter, silentLogger, type Logger } from './util/logger.js';

export { ConfigError } from './config.js';
export type { BrokerConfig } from './config.js';
export type { Authenticate, Principal } from './ws/auth.js';
export type { GatewayStats } from './ws/gateway.js';
export type { LogFields, Logger, LogFormat, LogLevel } from './util/logger.js';

export interface StartOptions {
  /** Port to listen on; 0 picks a free one. Overrides `listeners`. */
  port?: number;
  /** Interface to bind. Overrides the host of `listeners`. */
  host?: string;
  /** Data directory. Overrides `log.dirs`. */
  dataDir?: string;
  /** A server.properties file. */
  configFile?: string;
  /** Settings by Kafka name, e.g. `{ 'num.partitions': 3 }`; these win over the file. */
  properties?: Record<string, string | number | boolean>;
  /**
   * Where log records go. Default: stderr, in log.format at log.level. A Logger takes them as
   * they are (its own level applies); a function gets each record at log.level or above as one
   * string (message, then fields as key=value); false: silence.
   */
  log?: Logger | ((msg: string) => void) | false;
  /**
   * Send fetched record bytes from the page cache with sendfile (default). false copies them
   * through a Buffer instead: the fallback for sockets without a file descriptor, kept testable.
   */
  sendfile?: boolean;
  /**
   * With sendfile: record slices up to this many bytes are sent by pread + write on a libuv worker
   * instead (measured cheaper and faster on loopback at 64 KiB and 1 MiB: bench/throughput.bench.ts,
   * the storage fetch bench); larger ones by sendfile. 0 sends every slice with sendfile. Default 1 MiB.
   */
  copySendMaxBytes?: number;
  /** The WebSocket / SSE gateway (docs/websocket.md). */
  ws?: {
    /** Port of the gateway; 0 picks a free one. Overrides the port of `ws.listeners`; default 0 when `port` is 0. */
    port?: number;
    /** Maps a bearer token to its principal (with ws.auth=token), instead of or before ws.auth.tokens.file. */
    authenticate?: Authenticate;
  };
}

export interface RunningBroker {
  readonly port: number;
  readonly host: string;
  readonly config: BrokerConfig;
  readonly broker: Broker;
  /** This broker's logger (for an embedding program's own lines, in the same format). */
  readonly log: Logger;
  /** Port of the WebSocket / SSE gateway, or undefined when it is not running. */
  readonly wsPort: number | undefined;
  /** The gateway's counters (connections, frames, dropped: always 0), or undefined without it. */
  wsStats(): GatewayStats | undefined;
  /** Stops accepting, answers in-flight requests, flushes, writes clean-shutdown markers. */
  close(): Promise<void>;
}

/** The broker's own logger, from log.level and log.format, unless the caller gave one. */
function brokerLogger(given: StartOptions['log'], config: BrokerConfig): Logger {
  if (given === false) return silentLogger;
  if (typeof given === 'function') return functionLogger(given, config.log.level);
  return given ?? createLogger({ level: config.log.level, format: config.log.format });
}

export async function startBroker(opts: StartOptions = {}): Promise<RunningBroker> {
  const overrides: Record<string, string | number | boolean> = { ...(opts.properties ?? {}) };
  if (opts.dataDir !== undefined) overrides['log.dirs'] = opts.dataDir;
  const properties = opts.configFile ? readPropertiesFile(opts.configFile) : undefined;
  let config = buildBrokerConfig({ properties, overrides });
  if (opts.port !== undefined || opts.host !== undefined) {
    const listener = { ...config.listener, port: opts.port ?? config.listener.port, host: opts.host ?? config.listener.host };
    const explicitAdvertised = properties?.has('advertised.listeners') || overrides['advertised.listeners'] !== undefined;
    config = { ...config, listener, advertised: explicitAdvertised ? config.advertised : defaultAdvertised(listener) };
  }
  const log = brokerLogger(opts.log, config);
  // Lines about connections closed for bad input, limited per client address (util/logger.ts).
  const peerLog = new PeerLogLimiter(log);

  // Cluster mode: etcd first. Its cluster id names the data directory's cluster (a directory of
  // another cluster is refused), and the broker registers once its listener is bound.
  let store: ClusterStore | undefined;
  let clusterId: string | undefined;
  // Loaded only here: etcd's client (gRPC) costs start-up time a single node does not need.
  const cluster = config.cluster.enabled ? { ...(await import('./cluster/store.js')), ...(await import('./cluster/node.js')) } : undefined;
  if (cluster) {
    store = new cluster.ClusterStore({ endpoints: config.cluster.etcdEndpoints, nodeId: config.nodeId, sessionTimeoutMs: config.cluster.sessionTimeoutMs, log });
    try {
      clusterId = await store.open(readMetaProperties(config.dataDir)?.['cluster.id']);
    } catch (e) {
      await store.close().catch(() => undefined);
      throw e;
    }
  }
  let broker: Broker;
  try {
    broker = new Broker(config, log, { clusterId });
  } catch (e) {
    await store?.close().catch(() => undefined);
    throw e;
  }
  const node = cluster && store ? new cluster.ClusterNode(broker, store) : undefined;
  broker.cluster = node;
  const dispatcher = new Dispatcher(broker);
  const server = new KafkaServer(dispatcher, {
    maxRequestBytes: config.socketRequestMaxBytes,
    maxInFlight: 64,
    // Produce keeps no reference to its request once the handler returns (see produce.ts).
    recyclableApiKeys: new Set([ApiKey.Produce]),
    sendFile: opts.sendfile === false ? undefined : sendfile,
    copySend: preadWrite,
    copySendMaxBytes: opts.copySendMaxBytes ?? 1024 * 1024,
    readSlice,
    shutdownSocket,
    log,
    peerLog,
  });
  broker.stats.connectionCount = () => server.connectionCount;
  let port: number;
  try {
    port = await server.listen(config.listener.port, config.listener.host);
  } catch (e) {
    await broker.close();
    throw e;
  }
  let gateway: Gateway | undefined;
  try {
    gateway = await startGateway(broker, config, opts, properties, overrides, log);
  } catch (e) {
    await server.drain(0);
    server.closeAll();
    await broker.close();
    throw e;
  }
  if (config.advertised.port === 0) config = { ...config, advertised: { ...config.advertised, port } };
  broker.setAdvertised(config.advertised);
  if (node) {
    try {
      await node.start();
    } catch (e) {
      await gateway?.close();
      await server.drain(0);
      server.closeAll();
      await broker.close();
      throw e;
    }
  }
  if (config.inertKeys.length > 0) log.warn(`accepted with no effect on a single Brook node: ${config.inertKeys.join(', ')}`);
  log.info(`listening on ${config.listener.host}:${port}, advertised as ${config.advertised.host}:${config.advertised.port}, data in ${config.dataDir}, cluster ${broker.clusterId}`);

  let closing: Promise<void> | undefined;
  return {
    port,
    host: config.listener.host,
    config,
    broker,
    log,
    wsPort: gateway?.port,
    wsStats: () => gateway?.stats,
    close() {
      closing ??= (async () => {
        // A cluster member hands its leaderships over first (Kafka's controlled shutdown).
        await node?.controlledShutdown();
        // WebSocket clients get their cursors (closing frame) and 1001 while the logs are still open.
        await gateway?.close();
        broker.stopServing();
        // Answers JoinGroup/SyncGroup requests waiting on a rebalance, so draining does not wait on them.
        broker.groups.shutdown();
        await server.drain(5000);
        server.closeAll();
        await broker.close();
        peerLog.close();
        log.info('stopped');
        log.flush();
      })();
      return closing;
    },
  };
}

/**
 * Starts the gateway unless ws.enabled=false. When it cannot start (uWebSockets.js does not load
 * on this Node or libc, or its port is taken), a broker whose operator asked for it (ws.enabled or
 * ws.listeners set, or a port given) refuses to start; otherwise it logs one line and serves Kafka.
 */
async function startGateway(
  broker: Broker,
  config: BrokerConfig,
  opts: StartOptions,
  properties: Map<string, string> | undefined,
  overrides: Record<string, string | number | boolean>,
  log: Logger,
): Promise<Gateway | undefined> {
  const ws = config.ws;
  if (!ws.enabled) return undefined;
  const listenersSet = properties?.has('ws.listeners') || overrides['ws.listeners'] !== undefined;
  const required = ws.enabledExplicitly || listenersSet || opts.ws?.port !== undefined;
  const port = opts.ws?.port ?? (opts.port === 0 && !listenersSet ? 0 : ws.listener.port);
  let gateway: Gateway | undefined;
  try {
    const uws = await loadUws();
    // Other HTTP pages served on the gateway's listener.
    const routes: HttpRoutes[] = [];
    routes.push(metricsRoute(broker));
    routes.push(consoleRoutes());
    gateway = new Gateway(uws, broker, ws, log, { authenticate: opts.ws?.authenticate, routes });
    const bound = await gateway.listen(ws.listener.host, port);
    log.info(`ws gateway serving /ws/v1 and /sse/v1 on ${ws.listener.host}:${bound}`);
    return gateway;
  } catch (e) {
    await gateway?.close();
    const why = (e as Error).message;
    if (required) throw new Error(`ws gateway: ${why}`);
    log.warn(`ws gateway not started, serving Kafka only (set ws.enabled=false to silence this): ${why}`);
    return undefined;
  }
}
