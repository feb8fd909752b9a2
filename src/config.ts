/**
 * Broker and topic configuration: Kafka's names, Kafka's defaults, one place.
 *
 * Broker settings come from (lowest to highest precedence) the defaults below, a Java-properties
 * file (`--config server.properties`) and command-line flags. An unknown key or a value that does not
 * parse is refused at start with a message naming the key, rather than silently ignored: a typo in
 * `log.retention.hours` should not quietly keep data for a week.
 *
 * Topic settings (`retention.ms`, `segment.bytes`, ...) default to the broker's `log.*` settings and
 * can be overridden per topic at creation or later with AlterConfigs / IncrementalAlterConfigs.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

// ---------------------------------------------------------------------------------------------
// Value types
// ---------------------------------------------------------------------------------------------

type Kind = 'int' | 'long' | 'boolean' | 'string' | 'list' | 'double';

interface Definition<T> {
  kind: Kind;
  default: T;
  doc: string;
  /** Extra validation beyond parsing; returns an error message or undefined. */
  check?: (v: T) => string | undefined;
  /** Kafka's allowed values, for strings. */
  oneOf?: readonly string[];
}

/** A definition of any value type (Definition<unknown> would not accept their typed checks). */
type AnyDefinition = Definition<number> | Definition<boolean> | Definition<string> | Definition<string[]>;

const INT_MAX = 2 ** 31 - 1;
/** Kafka uses Long.MAX_VALUE for "never"; JS numbers hold it inexactly, which is fine for "never". */
const LONG_MAX = Number.MAX_SAFE_INTEGER;

function parseValue(key: string, def: Definition<unknown>, raw: string): unknown {
  const s = raw.trim();
  const bad = (why: string) => new ConfigError(key, `invalid value ${JSON.stringify(raw)} for ${key}: ${why}`);
  let v: unknown;
  switch (def.kind) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(s)) throw bad('expected an integer');
      const n = Number(s);
      if (def.kind === 'int' && (n > INT_MAX || n < -INT_MAX - 1)) throw bad('out of range for an int');
      // Long.MAX_VALUE and friends mean "never": clamp to the largest exact double.
      v = Math.min(n, LONG_MAX);
      break;
    }
    case 'double': {
      const n = Number(s);
      if (s === '' || !Number.isFinite(n)) throw bad('expected a number');
      v = n;
      break;
    }
    case 'boolean':
      if (s !== 'true' && s !== 'false') throw bad('expected true or false');
      v = s === 'true';
      break;
    case 'list':
      v = s === '' ? [] : s.split(',').map((x) => x.trim());
      break;
    case 'string':
      v = s;
      break;
  }
  if (def.oneOf && !def.oneOf.includes(v as string)) throw bad(`expected one of ${def.oneOf.join(', ')}`);
  const problem = def.check?.(v);
  if (problem) throw bad(problem);
  return v;
}

const atLeast = (min: number) => (v: number) => (v < min ? `must be at least ${min}` : undefined);

// ---------------------------------------------------------------------------------------------
// Topic configs (also the per-partition log settings)
// ---------------------------------------------------------------------------------------------

export const TIMESTAMP_TYPES = ['CreateTime', 'LogAppendTime'] as const;
export const COMPRESSION_TYPES = ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export const CLEANUP_POLICIES = ['delete', 'compact', 'compact,delete', 'delete,compact'] as const;

/**
 * Topic config name -> definition and the broker setting that supplies its default. The order is
 * the order DescribeConfigs lists them.
 */
export const TOPIC_CONFIGS = {
  'cleanup.policy': { kind: 'string', default: 'delete', broker: 'log.cleanup.policy', oneOf: CLEANUP_POLICIES, doc: 'delete old segments, compact by key, or both' },
  'compression.gzip.level': { kind: 'int', default: -1, broker: 'compression.gzip.level', check: (v: number) => (v === -1 || (v >= 1 && v <= 9) ? undefined : 'must be -1 (zlib\'s default, 6) or 1 to 9'), doc: 'gzip level of batches the broker compresses (compression.type=gzip)' },
  'compression.lz4.level': { kind: 'int', default: 9, broker: 'compression.lz4.level', check: (v: number) => (v >= 1 && v <= 17 ? undefined : 'must be between 1 and 17'), doc: 'lz4 level of batches the broker compresses (compression.type=lz4); liblz4 stops at 12, so 13-17 act as 12' },
  'compression.type': { kind: 'string', default: 'producer', broker: 'compression.type', oneOf: COMPRESSION_TYPES, doc: 'codec batches are stored with; producer keeps what the producer sent' },
  'compression.zstd.level': { kind: 'int', default: 3, broker: 'compression.zstd.level', check: (v: number) => (v >= -131072 && v <= 22 ? undefined : 'must be between -131072 and 22'), doc: 'zstd level of batches the broker compresses (compression.type=zstd)' },
  'delete.retention.ms': { kind: 'long', default: 86_400_000, broker: 'log.cleaner.delete.retention.ms', check: atLeast(0), doc: 'how long tombstones survive compaction' },
  'file.delete.delay.ms': { kind: 'long', default: 60_000, broker: 'log.segment.delete.delay.ms', check: atLeast(0), doc: 'delay before a deleted segment is removed from disk' },
  'flush.messages': { kind: 'long', default: LONG_MAX, broker: 'log.flush.interval.messages', check: atLeast(1), doc: 'fsync after this many messages' },
  'flush.ms': { kind: 'long', default: LONG_MAX, broker: 'log.flush.interval.ms', check: atLeast(0), doc: 'fsync at least this often' },
  'index.interval.bytes': { kind: 'int', default: 4096, broker: 'log.index.interval.bytes', check: atLeast(0), doc: 'bytes between offset index entries' },
  'local.retention.bytes': { kind: 'long', default: -2, broker: 'log.local.retention.bytes', check: atLeast(-2), doc: 'tiered storage only (not built): accepted and kept, no effect' },
  'local.retention.ms': { kind: 'long', default: -2, broker: 'log.local.retention.ms', check: atLeast(-2), doc: 'tiered storage only (not built): accepted and kept, no effect' },
  'max.compaction.lag.ms': { kind: 'long', default: LONG_MAX, broker: 'log.cleaner.max.compaction.lag.ms', check: atLeast(1), doc: 'age at which a record must be compacted, whatever the dirty ratio' },
  'max.message.bytes': { kind: 'int', default: 1_048_588, broker: 'message.max.bytes', check: atLeast(0), doc: 'largest record batch accepted' },
  'message.downconversion.enable': { kind: 'boolean', default: true, broker: 'log.message.downconversion.enable', doc: 'accepted and kept; Brook never down-converts (every fetch version it serves reads RecordBatch v2)' },
  'message.timestamp.after.max.ms': { kind: 'long', default: LONG_MAX, broker: 'log.message.timestamp.after.max.ms', check: atLeast(0), doc: 'CreateTime records more than this ahead of the broker clock are refused (INVALID_TIMESTAMP)' },
  'message.timestamp.before.max.ms': { kind: 'long', default: LONG_MAX, broker: 'log.message.timestamp.before.max.ms', check: atLeast(0), doc: 'CreateTime records more than this behind the broker clock are refused (INVALID_TIMESTAMP)' },
  'message.timestamp.difference.max.ms': { kind: 'long', default: LONG_MAX, broker: 'log.message.timestamp.difference.max.ms', check: atLeast(0), doc: 'deprecated: both before.max.ms and after.max.ms where those are unset' },
  'message.timestamp.type': { kind: 'string', default: 'CreateTime', broker: 'log.message.timestamp.type', oneOf: TIMESTAMP_TYPES, doc: 'CreateTime keeps the producer timestamp, LogAppendTime stamps batches on append' },
  'min.cleanable.dirty.ratio': { kind: 'double', default: 0.5, broker: 'log.cleaner.min.cleanable.ratio', check: (v: number) => (v < 0 || v > 1 ? 'must be between 0 and 1' : undefined), doc: 'dirty fraction that makes a log eligible for compaction' },
  'min.compaction.lag.ms': { kind: 'long', default: 0, broker: 'log.cleaner.min.compaction.lag.ms', check: atLeast(0), doc: 'minimum age before a record may be compacted' },
  'min.insync.replicas': { kind: 'int', default: 1, broker: 'min.insync.replicas', check: atLeast(1), doc: 'replicas that must acknowledge acks=all' },
  preallocate: { kind: 'boolean', default: false, broker: 'log.preallocate', doc: 'accepted and kept; Brook writes segments without preallocating them' },
  'remote.storage.enable': { kind: 'boolean', default: false, broker: 'remote.log.storage.system.enable', check: (v: boolean) => (v ? 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.' : undefined), doc: 'tiered storage (not built): only false is accepted' },
  'retention.bytes': { kind: 'long', default: -1, broker: 'log.retention.bytes', doc: 'size above which old segments are deleted; -1 for no limit' },
  'retention.ms': { kind: 'long', default: 604_800_000, broker: 'log.retention.ms', check: (v: number) => (v < -1 ? 'must be -1 or more' : undefined), doc: 'age after which segments are deleted; -1 for no limit' },
  'segment.bytes': { kind: 'int', default: 1_073_741_824, broker: 'log.segment.bytes', check: atLeast(14), doc: 'segment file size at which the log rolls' },
  'segment.index.bytes': { kind: 'int', default: 10_485_760, broker: 'log.index.size.max.bytes', check: atLeast(4), doc: 'maximum size of an offset index' },
  'segment.jitter.ms': { kind: 'long', default: 0, broker: 'log.roll.jitter.ms', check: atLeast(0), doc: 'random time up to this much subtracted from segment.ms for each new segment, so logs do not all roll at once' },
  'segment.ms': { kind: 'long', default: 604_800_000, broker: 'log.roll.ms', check: atLeast(1), doc: 'age at which the active segment rolls' },
  'unclean.leader.election.enable': { kind: 'boolean', default: false, broker: 'unclean.leader.election.enable', doc: 'accepted and kept; one node has no other replica to elect' },
} as const satisfies Record<string, AnyDefinition & { broker: string }>;

export type TopicConfigName = keyof typeof TOPIC_CONFIGS;
export type TopicConfigValue = string | number;
/** A topic's explicit overrides, as stored and as set by AlterConfigs. */
export type TopicOverrides = Partial<Record<TopicConfigName, TopicConfigValue>>;

export function isTopicConfigName(name: string): name is TopicConfigName {
  return Object.hasOwn(TOPIC_CONFIGS, name);
}

/** Parses one topic config value as a client sent it (strings on the wire). Throws ConfigError. */
export function parseTopicConfig(name: string, raw: string | null): TopicConfigValue {
  if (!isTopicConfigName(name)) throw new ConfigError(name, `unknown topic config ${name}`);
  if (raw === null) throw new ConfigError(name, `${name} needs a value`);
  return parseValue(name, TOPIC_CONFIGS[name] as Definition<unknown>, raw) as TopicConfigValue;
}

// ---------------------------------------------------------------------------------------------
// Broker configs
// ---------------------------------------------------------------------------------------------

/** Every broker setting by Kafka name: type, default, documentation (DescribeConfigs lists these). */
export const BROKER_DEFS = {
  'node.id': { kind: 'int', default: 1, check: atLeast(0), doc: 'this broker\'s id (broker.id is an alias)' },
  listeners: { kind: 'list', default: ['PLAINTEXT://127.0.0.1:9092'], doc: 'NAME://host:port to listen on' },
  'advertised.listeners': { kind: 'list', default: [] as string[], doc: 'NAME://host:port clients are told to use; defaults to listeners' },
  'log.dirs': { kind: 'string', default: './data', doc: 'data directory (one directory; log.dir is an alias)' },
  'auto.create.topics.enable': { kind: 'boolean', default: true, doc: 'create unknown topics on Metadata and Produce' },
  'delete.topic.enable': { kind: 'boolean', default: true, doc: 'allow DeleteTopics' },
  'num.partitions': { kind: 'int', default: 1, check: atLeast(1), doc: 'partitions of auto-created topics' },
  'default.replication.factor': { kind: 'int', default: 1, check: atLeast(1), doc: 'replication factor of auto-created topics' },
  'socket.request.max.bytes': { kind: 'int', default: 104_857_600, check: atLeast(1), doc: 'largest request frame; larger closes the connection' },
  'fetch.max.bytes': { kind: 'int', default: 57_671_680, check: atLeast(0), doc: 'most record bytes in one fetch response, whatever the request asks (a first batch may exceed it, KIP-74)' },
  'log.retention.check.interval.ms': { kind: 'long', default: 300_000, check: atLeast(1), doc: 'how often retention runs' },
  'log.cleaner.enable': { kind: 'boolean', default: true, doc: 'run the log cleaner, which compacts topics with cleanup.policy=compact' },
  'log.cleaner.backoff.ms': { kind: 'long', default: 15_000, check: atLeast(0), doc: 'how long the cleaner sleeps when no log needs cleaning' },
  'log.cleaner.dedupe.buffer.size': { kind: 'long', default: 134_217_728, check: atLeast(1024), doc: 'memory for the key map of one compaction pass' },
  'log.flush.scheduler.interval.ms': { kind: 'long', default: LONG_MAX, check: atLeast(1), doc: 'how often flush.ms is checked (Brook uses per-log timers)' },
  'offsets.topic.num.partitions': { kind: 'int', default: 50, check: atLeast(1), doc: 'partitions of __consumer_offsets' },
  'offsets.retention.check.interval.ms': { kind: 'long', default: 600_000, check: atLeast(1), doc: 'how often committed offsets are checked for expiry' },
  'offsets.retention.minutes': { kind: 'int', default: 10_080, check: atLeast(1), doc: 'how long offsets of empty groups are kept' },
  'group.initial.rebalance.delay.ms': { kind: 'int', default: 3000, check: atLeast(0), doc: 'delay of the first rebalance of an empty group' },
  'group.min.session.timeout.ms': { kind: 'int', default: 6000, check: atLeast(0), doc: 'smallest session timeout a member may ask for' },
  'group.max.session.timeout.ms': { kind: 'int', default: 1_800_000, check: atLeast(0), doc: 'largest session timeout a member may ask for' },
  'group.max.size': { kind: 'int', default: INT_MAX, check: atLeast(1), doc: 'members per group' },
  // The transaction coordinator (src/coordinator/transactions/): Kafka's names and defaults.
  'transaction.max.timeout.ms': { kind: 'int', default: 900_000, check: atLeast(1), doc: 'largest transaction.timeout.ms a producer may ask for (InitProducerId); above it: INVALID_TRANSACTION_TIMEOUT' },
  'transactional.id.expiration.ms': { kind: 'int', default: 604_800_000, check: atLeast(1), doc: 'a transactional id with no transaction open and no update for this long is forgotten (tombstoned in __transaction_state)' },
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': { kind: 'int', default: 10_000, check: atLeast(1), doc: 'how often transactions open longer than their timeout are fenced and aborted' },
  'transaction.remove.expired.transaction.cleanup.interval.ms': { kind: 'int', default: 3_600_000, check: atLeast(1), doc: 'how often transactional ids past transactional.id.expiration.ms are removed' },
  'transaction.state.log.num.partitions': { kind: 'int', default: 50, check: atLeast(1), doc: 'partitions of __transaction_state' },
  'transaction.state.log.segment.bytes': { kind: 'int', default: 104_857_600, check: atLeast(1024), doc: 'segment.bytes of __transaction_state' },
  'etcd.endpoints': { kind: 'list', default: [] as string[], doc: 'etcd client URLs (http://host:port,...): run as one broker of a replicated cluster whose metadata etcd holds (docs/cluster.md); empty: a single node' },
  'broker.session.timeout.ms': { kind: 'long', default: 9000, check: atLeast(2000), doc: 'cluster: TTL of this broker\'s etcd lease; a broker silent this long is dead to the controller and fences itself (whole seconds, at least 2)' },
  'broker.rack': { kind: 'string', default: '', doc: 'cluster: this broker\'s rack, for rack-aware replica placement' },
  'replica.fetch.wait.max.ms': { kind: 'int', default: 500, check: atLeast(0), doc: 'cluster: longest wait of a follower\'s fetch at the leader' },
  'replica.fetch.min.bytes': { kind: 'int', default: 1, check: atLeast(1), doc: 'cluster: bytes a follower\'s fetch waits for' },
  'replica.fetch.backoff.ms': { kind: 'int', default: 1000, check: atLeast(0), doc: 'cluster: pause of a follower after a failed fetch' },
  'replica.high.watermark.checkpoint.interval.ms': { kind: 'long', default: 5000, check: atLeast(1), doc: 'cluster: how often high watermarks are written to replication-offset-checkpoint' },
  'auto.leader.rebalance.enable': { kind: 'boolean', default: true, doc: 'cluster: the controller moves leadership back to each partition\'s preferred replica (the first assigned) when a broker\'s imbalance passes leader.imbalance.per.broker.percentage' },
  'leader.imbalance.check.interval.seconds': { kind: 'long', default: 300, check: atLeast(1), doc: 'cluster: how often the controller checks the leader imbalance (auto.leader.rebalance.enable)' },
  'leader.imbalance.per.broker.percentage': { kind: 'int', default: 10, check: atLeast(0), doc: 'cluster: per broker, the share (%) of the partitions it is preferred for but does not lead above which the controller rebalances them' },
  // The WebSocket / SSE gateway (src/ws/, docs/websocket.md): Brook's own settings, not Kafka's.
  'ws.enabled': { kind: 'boolean', default: true, doc: 'serve WebSocket and SSE consumers (gateway on ws.listeners); set explicitly, a gateway that cannot start stops the broker' },
  'ws.listeners': { kind: 'string', default: '127.0.0.1:9093', check: (v: string) => (/^(\[[^\]]*\]|[^:]*):\d+$/.test(v) && Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535 ? undefined : 'expected host:port'), doc: 'host:port of the WebSocket / SSE gateway (uWebSockets.js cannot share the Kafka port)' },
  'ws.max.buffered.bytes': { kind: 'int', default: 1_048_576, check: atLeast(65_536), doc: 'per socket: uWebSockets.js maxBackpressure; the gateway stops reading for a socket at half of it' },
  'ws.max.frame.bytes': { kind: 'int', default: 262_144, check: atLeast(1024), doc: 'largest data frame the gateway sends (a single larger record still goes, alone)' },
  'ws.max.connections': { kind: 'int', default: 10_000, check: atLeast(1), doc: 'WebSocket connections beyond this are closed with 4503' },
  'ws.checkpoint.ms': { kind: 'int', default: 1000, check: atLeast(10), doc: 'how often an advancing subscription gets a checkpoint frame with its cursor' },
  'ws.linger.ms': { kind: 'int', default: 5, check: atLeast(0), doc: 'how long a live tail gathers appends before one fan-out: fewer, fuller frames per subscriber (0: at the next loop turn)' },
  'ws.slow.consumer.ms': { kind: 'int', default: 2000, check: atLeast(10), doc: 'how long a subscription may be held back by its socket before its overflow policy fires' },
  'ws.idle.timeout.seconds': { kind: 'int', default: 60, check: (v: number) => (v === 0 || (v >= 8 && v <= 960) ? undefined : 'must be 0 or between 8 and 960'), doc: 'uWebSockets.js idleTimeout; pings are sent automatically before it' },
  'ws.session.grace.ms': { kind: 'int', default: 45_000, check: atLeast(0), doc: 'a group-mode socket that disconnects keeps its partitions this long for a reconnect with its session' },
  'ws.auth': { kind: 'string', default: 'none', oneOf: ['none', 'token'], doc: 'none, or token: bearer tokens (ws.auth.tokens.file or the startBroker authenticate hook) and single-use tickets' },
  'ws.auth.tokens.file': { kind: 'string', default: '', doc: 'JSON file of tokens and the topic prefixes each may read and write (src/ws/auth.ts)' },
  'ws.allowed.origins': { kind: 'list', default: [] as string[], doc: 'Origin values allowed to connect without a bearer token (tickets, ws.auth=none); empty with ws.auth=none: pages from loopback hosts (localhost, 127.x) connecting over loopback' },
  'metrics.enabled': { kind: 'boolean', default: true, doc: 'count traffic and serve GET /metrics (Prometheus text) on the ws gateway listener (docs/metrics.md); false: 404 and no counting' },
  // Brook's own log lines (src/util/logger.ts): Brook's settings; Kafka configures log4j instead.
  'log.level': { kind: 'string', default: 'info', oneOf: ['error', 'warn', 'info', 'debug'], doc: 'least severe log records written: error, warn, info or debug' },
  'log.format': { kind: 'string', default: 'text', oneOf: ['text', 'json'], doc: 'text: one human line per record; json: one JSON object per line (pino\'s)' },
  'log.segment.bytes': { ...TOPIC_CONFIGS['segment.bytes'] },
  'log.roll.ms': { ...TOPIC_CONFIGS['segment.ms'] },
  'log.retention.ms': { ...TOPIC_CONFIGS['retention.ms'] },
  'log.retention.bytes': { ...TOPIC_CONFIGS['retention.bytes'] },
  'log.flush.interval.messages': { ...TOPIC_CONFIGS['flush.messages'] },
  'log.flush.interval.ms': { ...TOPIC_CONFIGS['flush.ms'] },
  'log.index.interval.bytes': { ...TOPIC_CONFIGS['index.interval.bytes'] },
  'log.index.size.max.bytes': { ...TOPIC_CONFIGS['segment.index.bytes'] },
  'log.segment.delete.delay.ms': { ...TOPIC_CONFIGS['file.delete.delay.ms'] },
  'log.message.timestamp.type': { ...TOPIC_CONFIGS['message.timestamp.type'] },
  'log.cleanup.policy': { ...TOPIC_CONFIGS['cleanup.policy'] },
  'log.cleaner.delete.retention.ms': { ...TOPIC_CONFIGS['delete.retention.ms'] },
  'log.cleaner.min.cleanable.ratio': { ...TOPIC_CONFIGS['min.cleanable.dirty.ratio'] },
  'log.cleaner.min.compaction.lag.ms': { ...TOPIC_CONFIGS['min.compaction.lag.ms'] },
  'message.max.bytes': { ...TOPIC_CONFIGS['max.message.bytes'] },
  'compression.type': { ...TOPIC_CONFIGS['compression.type'] },
  'min.insync.replicas': { ...TOPIC_CONFIGS['min.insync.replicas'] },
  'compression.gzip.level': { ...TOPIC_CONFIGS['compression.gzip.level'] },
  'compression.lz4.level': { ...TOPIC_CONFIGS['compression.lz4.level'] },
  'compression.zstd.level': { ...TOPIC_CONFIGS['compression.zstd.level'] },
  'log.cleaner.max.compaction.lag.ms': { ...TOPIC_CONFIGS['max.compaction.lag.ms'] },
  'log.local.retention.bytes': { ...TOPIC_CONFIGS['local.retention.bytes'] },
  'log.local.retention.ms': { ...TOPIC_CONFIGS['local.retention.ms'] },
  'log.message.downconversion.enable': { ...TOPIC_CONFIGS['message.downconversion.enable'] },
  'log.message.timestamp.after.max.ms': { ...TOPIC_CONFIGS['message.timestamp.after.max.ms'] },
  'log.message.timestamp.before.max.ms': { ...TOPIC_CONFIGS['message.timestamp.before.max.ms'] },
  'log.message.timestamp.difference.max.ms': { ...TOPIC_CONFIGS['message.timestamp.difference.max.ms'] },
  'log.preallocate': { ...TOPIC_CONFIGS.preallocate },
  'log.roll.jitter.ms': { ...TOPIC_CONFIGS['segment.jitter.ms'] },
  'remote.log.storage.system.enable': { ...TOPIC_CONFIGS['remote.storage.enable'] },
  'unclean.leader.election.enable': { ...TOPIC_CONFIGS['unclean.leader.election.enable'] },
  // Kafka settings of multi-node clusters, controllers, thread pools and socket tuning: accepted
  // (type-checked) so that Kafka's own server.properties starts Brook, and listed at start as
  // having no effect here (INERT_BROKER_KEYS).
  'process.roles': {
    kind: 'list',
    default: [] as string[],
    check: (v: string[]) =>
      !v.every((r) => r === 'broker' || r === 'controller')
        ? 'expected broker and/or controller'
        : v.length > 0 && !v.includes('broker')
          ? 'a controller-only node serves no clients; Brook is a broker (use broker or broker,controller)'
          : undefined,
    doc: 'KRaft roles; Brook is always one node serving both',
  },
  'controller.quorum.voters': { kind: 'list', default: [] as string[], doc: 'KRaft controller quorum; no effect (one node)' },
  'controller.quorum.bootstrap.servers': { kind: 'list', default: [] as string[], doc: 'KRaft controller quorum; no effect (one node)' },
  'controller.listener.names': { kind: 'list', default: [] as string[], doc: 'listeners of the KRaft controller; Brook does not serve them' },
  'inter.broker.listener.name': { kind: 'string', default: '', doc: 'listener between brokers; no effect (one node)' },
  'listener.security.protocol.map': {
    kind: 'list',
    default: ['PLAINTEXT:PLAINTEXT', 'SSL:SSL', 'SASL_PLAINTEXT:SASL_PLAINTEXT', 'SASL_SSL:SASL_SSL'],
    check: (v: string[]) => (v.every((e) => /^[A-Za-z_][A-Za-z0-9_]*:(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$/.test(e)) ? undefined : 'expected NAME:PROTOCOL entries'),
    doc: 'security protocol of each listener name; Brook serves PLAINTEXT only',
  },
  'num.network.threads': { kind: 'int', default: 3, check: atLeast(1), doc: 'no effect: one event loop serves the network' },
  'num.io.threads': { kind: 'int', default: 8, check: atLeast(1), doc: 'no effect: appends run on the event loop, fsync and sendfile on the libuv pool' },
  'num.replica.fetchers': { kind: 'int', default: 1, check: atLeast(1), doc: 'no effect: one fetcher connection per leader carries all its partitions' },
  'num.recovery.threads.per.data.dir': { kind: 'int', default: 1, check: atLeast(1), doc: 'no effect: logs recover one by one at start' },
  'socket.send.buffer.bytes': { kind: 'int', default: 102_400, doc: 'no effect: the OS default socket buffers are used' },
  'socket.receive.buffer.bytes': { kind: 'int', default: 102_400, doc: 'no effect: the OS default socket buffers are used' },
  'offsets.topic.replication.factor': { kind: 'int', default: 3, check: atLeast(1), doc: 'cluster: replicas of __consumer_offsets partitions (capped to the live brokers when it is created)' },
  'transaction.state.log.replication.factor': { kind: 'int', default: 3, check: atLeast(1), doc: 'cluster: replicas of __transaction_state partitions (capped to the live brokers when it is created)' },
  'transaction.state.log.min.isr': { kind: 'int', default: 2, check: atLeast(1), doc: 'cluster: min.insync.replicas of __transaction_state (capped to its replication factor when it is created)' },
  'share.coordinator.state.topic.replication.factor': { kind: 'int', default: 3, check: atLeast(1), doc: 'no effect (no share groups)' },
  'share.coordinator.state.topic.min.isr': { kind: 'int', default: 2, check: atLeast(1), doc: 'no effect (no share groups)' },
  'zookeeper.connect': { kind: 'string', default: '', doc: 'ZooKeeper mode; no effect (Brook keeps its metadata itself)' },
  'zookeeper.connection.timeout.ms': { kind: 'int', default: 18_000, check: atLeast(0), doc: 'ZooKeeper mode; no effect' },
  'metadata.log.dir': { kind: 'string', default: '', doc: 'KRaft metadata log directory; no effect (Brook keeps topics.json in log.dirs)' },
  'inter.broker.protocol.version': { kind: 'string', default: '', doc: 'no effect (one node)' },
  'log.message.format.version': { kind: 'string', default: '', doc: 'no effect: Brook writes RecordBatch v2 only' },
  'replica.lag.time.max.ms': { kind: 'long', default: 30_000, check: atLeast(0), doc: 'cluster: a follower that has not caught up for this long leaves the ISR' },
  'replica.fetch.max.bytes': { kind: 'int', default: 1_048_576, check: atLeast(0), doc: 'cluster: bytes per partition in a follower\'s fetch (at least one batch)' },
  'log.cleaner.threads': { kind: 'int', default: 1, check: atLeast(0), doc: 'no effect: one cleaner compacts one log at a time on the libuv pool' },
  'queued.max.requests': { kind: 'int', default: 500, check: atLeast(1), doc: 'no effect: each connection has at most 64 requests in flight' },
  'connections.max.idle.ms': { kind: 'long', default: 600_000, doc: 'no effect: idle connections stay open' },
} as const satisfies Record<string, AnyDefinition>;

export type BrokerKey = keyof typeof BROKER_DEFS;

/** Accepted for compatibility with Kafka's server.properties, with no effect on Brook. */
export const INERT_BROKER_KEYS: ReadonlySet<string> = new Set([
  'process.roles',
  'controller.quorum.voters',
  'controller.quorum.bootstrap.servers',
  'controller.listener.names',
  'inter.broker.listener.name',
  'listener.security.protocol.map',
  'num.network.threads',
  'num.io.threads',
  'num.replica.fetchers',
  'num.recovery.threads.per.data.dir',
  'socket.send.buffer.bytes',
  'socket.receive.buffer.bytes',
  'share.coordinator.state.topic.replication.factor',
  'share.coordinator.state.topic.min.isr',
  'zookeeper.connect',
  'zookeeper.connection.timeout.ms',
  'metadata.log.dir',
  'inter.broker.protocol.version',
  'log.message.format.version',
  'log.cleaner.threads',
  'queued.max.requests',
  'connections.max.idle.ms',
]);

/**
 * Broker settings that AlterConfigs / IncrementalAlterConfigs may change at run time, for this
 * broker or as the cluster-wide default (Kafka's dynamic broker configs): the topic-config
 * defaults (log.retention.ms, log.segment.bytes, message.max.bytes, compression.type, ...), as
 * Kafka's DynamicLogConfig allows. Everything else is read once at start.
 */
export const DYNAMIC_BROKER_KEYS: ReadonlySet<string> = new Set(Object.values(TOPIC_CONFIGS).map((d) => d.broker));

export function isBrokerKey(key: string): key is BrokerKey {
  return Object.hasOwn(BROKER_DEFS, key);
}

/** Parses one broker setting by its Kafka name (no aliases). Throws ConfigError. */
export function parseBrokerSetting(key: string, raw: string | null): unknown {
  if (!isBrokerKey(key)) throw new ConfigError(key, `unknown broker config ${key}`);
  if (raw === null) throw new ConfigError(key, `${key} needs a value`);
  return parseValue(key, BROKER_DEFS[key as BrokerKey] as Definition<unknown>, raw);
}

/**
 * A broker setting's value as the default of topic config `name`: the combined cleanup policy is
 * always spelled "compact,delete", whichever order the setting gave.
 */
export function asTopicDefault(name: TopicConfigName, v: TopicConfigValue): TopicConfigValue {
  return name === 'cleanup.policy' && v === 'delete,compact' ? 'compact,delete' : v;
}

/**
 * Kafka's alternative spellings: coarser units (converted to the canonical key) and old names.
 * When both a canonical key and an alias are given, the canonical key wins, as in Kafka
 * (log.retention.ms over log.retention.minutes over log.retention.hours).
 */
const ALIASES: Record<string, { key: BrokerKey; kind: Kind; scale: number; rank: number }> = {
  'broker.id': { key: 'node.id', kind: 'int', scale: 1, rank: 1 },
  'log.dir': { key: 'log.dirs', kind: 'string', scale: 1, rank: 1 },
  'log.roll.hours': { key: 'log.roll.ms', kind: 'int', scale: 3_600_000, rank: 1 },
  'log.retention.minutes': { key: 'log.retention.ms', kind: 'int', scale: 60_000, rank: 1 },
  'log.retention.hours': { key: 'log.retention.ms', kind: 'int', scale: 3_600_000, rank: 2 },
};

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export interface WsConfig {
  enabled: boolean;
  /** ws.enabled was set (file or flag): a gateway that cannot start is then fatal, not a log line. */
  enabledExplicitly: boolean;
  listener: { host: string; port: number };
  maxBufferedBytes: number;
  maxFrameBytes: number;
  maxConnections: number;
  checkpointMs: number;
  slowConsumerMs: number;
  lingerMs: number;
  idleTimeoutSeconds: number;
  sessionGraceMs: number;
  auth: 'none' | 'token';
  tokensFile: string;
  allowedOrigins: string[];
}

function parseHostPort(s: string): { host: string; port: number } {
  const at = s.lastIndexOf(':');
  return { host: s.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(s.slice(at + 1)) };
}

export interface ClusterConfig {
  enabled: boolean;
  etcdEndpoints: string[];
  /** broker.session.timeout.ms: the etcd lease TTL (rounded up to whole seconds). */
  sessionTimeoutMs: number;
  rack: string | null;
  replicaLagTimeMaxMs: number;
  replicaFetchWaitMaxMs: number;
  replicaFetchMinBytes: number;
  replicaFetchMaxBytes: number;
  replicaFetchBackoffMs: number;
  hwCheckpointIntervalMs: number;
  offsetsTopicReplicationFactor: number;
  /** auto.leader.rebalance.enable: the controller's periodic preferred-leader election. */
  autoLeaderRebalance: boolean;
  /** leader.imbalance.check.interval.seconds, in ms. */
  leaderImbalanceCheckIntervalMs: number;
  /** leader.imbalance.per.broker.percentage. */
  leaderImbalancePerBrokerPercentage: number;
}

export interface TransactionConfig {
  /** transaction.max.timeout.ms. */
  maxTimeoutMs: number;
  /** transactional.id.expiration.ms. */
  idExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms. */
  abortTimedOutIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms. */
  removeExpiredIntervalMs: number;
  /** transaction.state.log.num.partitions. */
  stateLogNumPartitions: number;
  /** transaction.state.log.segment.bytes. */
  stateLogSegmentBytes: number;
  /** transaction.state.log.replication.factor (cluster). */
  stateLogReplicationFactor: number;
  /** transaction.state.log.min.isr (cluster). */
  stateLogMinIsr: number;
}

export interface BrokerConfig {
  nodeId: number;
  listener: Listener;
  advertised: Listener;
  dataDir: string;
  autoCreateTopics: boolean;
  deleteTopicEnable: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  socketRequestMaxBytes: number;
  fetchMaxBytes: number;
  retentionCheckIntervalMs: number;
  cleanerEnable: boolean;
  cleanerBackoffMs: number;
  cleanerDedupeBufferSize: number;
  offsetsTopicNumPartitions: number;
  offsetsRetentionMinutes: number;
  offsetsRetentionCheckIntervalMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  /** The transaction coordinator's settings (transaction.* and transactional.id.expiration.ms). */
  transactions: TransactionConfig;
  /** The WebSocket / SSE gateway (ws.* settings). */
  ws: WsConfig;
  /** Replication and the etcd-held metadata (docs/cluster.md); `enabled` when etcd.endpoints is set. */
  cluster: ClusterConfig;
  /** metrics.enabled: traffic counters and GET /metrics (docs/metrics.md). */
  metricsEnabled: boolean;
  /** Brook's own log lines (log.level, log.format). */
  log: { level: 'error' | 'warn' | 'info' | 'debug'; format: 'text' | 'json' };
  /** Defaults for every topic config, from the broker's log.* settings. */
  topicDefaults: Record<TopicConfigName, TopicConfigValue>;
  /** Topic config names whose default was set explicitly (file or flag), for DescribeConfigs sources. */
  staticTopicDefaults: Set<TopicConfigName>;
  /** Every broker setting by Kafka name, for DescribeConfigs on the broker resource. */
  raw: Record<string, unknown>;
  /** Broker settings (Kafka names, after aliases) set explicitly by the file or a flag. */
  explicitKeys: ReadonlySet<string>;
  /** Settings given that Brook accepts without acting on (INERT_BROKER_KEYS), for a start-up note. */
  inertKeys: readonly string[];
  /**
   * Dynamic broker configs (DYNAMIC_BROKER_KEYS) by broker key: this broker's own, and the cluster
   * default, which it yields to. Both win over the static settings; topicDefaults reflects them.
   * Kept and changed by broker/dynamic-configs.ts.
   */
  dynamic: { broker: Record<string, unknown>; clusterDefault: Record<string, unknown> };
  /** topicDefaults as the static settings alone give them. */
  staticTopicValues: Readonly<Record<TopicConfigName, TopicConfigValue>>;
}

/** Parses Java-properties text: `key=value`, `key: value`, `key value`, # and ! comments, `\` continuations and escapes. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // An odd number of trailing backslashes continues the logical line.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^\s+/, '');
    }
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]?\s*(.*)$/.exec(line);
    if (!m) continue;
    const unescape = (s: string) =>
      s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) =>
        c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[c] ?? c,
      );
    out.set(unescape(m[1]), unescape(m[2]));
  }
  return out;
}

function parseListener(key: string, s: string): Listener {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(s.trim());
  if (!m) throw new ConfigError(key, `invalid value ${JSON.stringify(s)} for ${key}: expected NAME://host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(key, `invalid value ${JSON.stringify(s)} for ${key}: port out of range`);
  return { name: m[1], host: m[2].replace(/^\[|\]$/g, ''), port };
}

/** What clients are told when advertised.listeners is not set: the listener, with a wildcard bind
 *  address replaced by this machine's name (Kafka's rule). */
export function defaultAdvertised(listener: Listener): Listener {
  const wildcard = listener.host === '' || listener.host === '0.0.0.0' || listener.host === '::';
  return wildcard ? { ...listener, host: hostname() } : { ...listener };
}

/**
 * The one listener Brook serves, and what clients are told. Kafka's server.properties may list a
 * KRaft controller listener too (named in controller.listener.names): Brook has no controller to
 * serve, so it leaves those out. The rest must be exactly one listener whose security protocol
 * (listener.security.protocol.map, by listener name) is PLAINTEXT. advertised.listeners may list
 * several names: the entry with the served listener's name is the one clients are told.
 */
function clientListener(
  listeners: readonly string[],
  advertisedList: readonly string[],
  controllerNames: readonly string[],
  protocolMap: readonly string[],
): { listener: Listener; advertised: Listener } {
  const served = listeners.map((l) => parseListener('listeners', l)).filter((l) => !controllerNames.includes(l.name));
  if (served.length !== 1) {
    throw new ConfigError('listeners', `listeners: Brook serves exactly one client listener, and ${served.length === 0 ? 'none is left' : `${served.length} are given (${served.map((l) => l.name).join(', ')})`} once the controller listeners (${controllerNames.join(', ') || 'none'}) are left out`);
  }
  const listener = served[0];
  const protocols = new Map(protocolMap.map((e) => e.split(':') as [string, string]));
  const protocol = protocols.get(listener.name);
  if (protocol === undefined) {
    throw new ConfigError('listener.security.protocol.map', `listener.security.protocol.map: no security protocol for listener ${listener.name}`);
  }
  if (protocol !== 'PLAINTEXT') {
    throw new ConfigError('listeners', `listeners: listener ${listener.name} uses ${protocol}; Brook serves PLAINTEXT only (no TLS or SASL yet)`);
  }
  const matching = advertisedList.map((l) => parseListener('advertised.listeners', l)).filter((l) => l.name === listener.name);
  if (advertisedList.length > 0 && matching.length !== 1) {
    throw new ConfigError('advertised.listeners', `advertised.listeners: expected one entry named ${listener.name}, the served listener; found ${matching.length}`);
  }
  return { listener, advertised: matching[0] ?? defaultAdvertised(listener) };
}

export interface ConfigSources {
  /** Contents of a server.properties file, already read. */
  properties?: Map<string, string>;
  /** Overrides by Kafka key, e.g. from command-line flags or startBroker() options. */
  overrides?: Record<string, string | number | boolean>;
}

/** Builds the broker config. Throws ConfigError naming the first bad key. */
export function buildBrokerConfig(sources: ConfigSources = {}): BrokerConfig {
  const values = new Map<string, unknown>();
  const explicit = new Set<string>();
  const aliasRank = new Map<string, number>();

  const apply = (key: string, raw: string) => {
    const alias = ALIASES[key];
    if (alias) {
      // An alias only fills the canonical key if nothing more specific set it.
      if (explicit.has(alias.key) && (aliasRank.get(alias.key) ?? 0) <= alias.rank) return;
      const n = parseValue(key, { kind: alias.kind, default: 0, doc: '' }, raw);
      const base = BROKER_DEFS[alias.key] as Definition<unknown>;
      const v = typeof n === 'number' ? n * alias.scale : n;
      const problem = base.check?.(v);
      if (problem) throw new ConfigError(key, `invalid value ${JSON.stringify(raw)} for ${key}: ${problem}`);
      values.set(alias.key, v);
      explicit.add(alias.key);
      aliasRank.set(alias.key, alias.rank);
      return;
    }
    if (!Object.hasOwn(BROKER_DEFS, key)) throw new ConfigError(key, `unknown config ${key}`);
    values.set(key, parseValue(key, BROKER_DEFS[key as BrokerKey] as Definition<unknown>, raw));
    explicit.add(key);
    aliasRank.set(key, 0);
  };

  // Canonical keys beat aliases regardless of order in the file, so apply canonical keys last.
  const ordered = (entries: [string, string][]) => [
    ...entries.filter(([k]) => ALIASES[k]).sort(([a], [b]) => ALIASES[b].rank - ALIASES[a].rank),
    ...entries.filter(([k]) => !ALIASES[k]),
  ];
  for (const [k, v] of ordered([...(sources.properties ?? new Map()).entries()])) apply(k, v);
  for (const [k, v] of ordered(Object.entries(sources.overrides ?? {}).map(([k, v]) => [k, String(v)]))) {
    explicit.delete(ALIASES[k]?.key ?? k); // flags override the file, alias or not
    aliasRank.delete(ALIASES[k]?.key ?? k);
    apply(k, v);
  }

  const get = <K extends BrokerKey>(k: K) => (values.has(k) ? values.get(k) : BROKER_DEFS[k].default) as (typeof BROKER_DEFS)[K]['default'];

  const { listener, advertised } = clientListener(
    get('listeners') as readonly string[],
    get('advertised.listeners') as readonly string[],
    get('controller.listener.names') as readonly string[],
    get('listener.security.protocol.map') as readonly string[],
  );

  const raw: Record<string, unknown> = {};
  for (const k of Object.keys(BROKER_DEFS) as BrokerKey[]) raw[k] = get(k);

  const topicDefaults = {} as Record<TopicConfigName, TopicConfigValue>;
  const staticTopicDefaults = new Set<TopicConfigName>();
  for (const [name, def] of Object.entries(TOPIC_CONFIGS) as [TopicConfigName, (typeof TOPIC_CONFIGS)[TopicConfigName]][]) {
    topicDefaults[name] = asTopicDefault(name, get(def.broker as BrokerKey) as TopicConfigValue);
    if (explicit.has(def.broker)) staticTopicDefaults.add(name);
  }

  return {
    nodeId: get('node.id'),
    listener,
    advertised,
    dataDir: get('log.dirs'),
    autoCreateTopics: get('auto.create.topics.enable'),
    deleteTopicEnable: get('delete.topic.enable'),
    numPartitions: get('num.partitions'),
    defaultReplicationFactor: get('default.replication.factor'),
    socketRequestMaxBytes: get('socket.request.max.bytes'),
    fetchMaxBytes: get('fetch.max.bytes'),
    retentionCheckIntervalMs: get('log.retention.check.interval.ms'),
    cleanerEnable: get('log.cleaner.enable'),
    cleanerBackoffMs: get('log.cleaner.backoff.ms'),
    cleanerDedupeBufferSize: get('log.cleaner.dedupe.buffer.size'),
    offsetsTopicNumPartitions: get('offsets.topic.num.partitions'),
    offsetsRetentionMinutes: get('offsets.retention.minutes'),
    offsetsRetentionCheckIntervalMs: get('offsets.retention.check.interval.ms'),
    groupInitialRebalanceDelayMs: get('group.initial.rebalance.delay.ms'),
    groupMinSessionTimeoutMs: get('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: get('group.max.session.timeout.ms'),
    groupMaxSize: get('group.max.size'),
    transactions: {
      maxTimeoutMs: get('transaction.max.timeout.ms'),
      idExpirationMs: get('transactional.id.expiration.ms'),
      abortTimedOutIntervalMs: get('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
      removeExpiredIntervalMs: get('transaction.remove.expired.transaction.cleanup.interval.ms'),
      stateLogNumPartitions: get('transaction.state.log.num.partitions'),
      stateLogSegmentBytes: get('transaction.state.log.segment.bytes'),
      stateLogReplicationFactor: get('transaction.state.log.replication.factor'),
      stateLogMinIsr: get('transaction.state.log.min.isr'),
    },
    ws: {
      enabled: get('ws.enabled'),
      enabledExplicitly: explicit.has('ws.enabled'),
      listener: parseHostPort(get('ws.listeners')),
      maxBufferedBytes: get('ws.max.buffered.bytes'),
      maxFrameBytes: get('ws.max.frame.bytes'),
      maxConnections: get('ws.max.connections'),
      checkpointMs: get('ws.checkpoint.ms'),
      slowConsumerMs: get('ws.slow.consumer.ms'),
      lingerMs: get('ws.linger.ms'),
      idleTimeoutSeconds: get('ws.idle.timeout.seconds'),
      sessionGraceMs: get('ws.session.grace.ms'),
      auth: get('ws.auth') as 'none' | 'token',
      tokensFile: get('ws.auth.tokens.file'),
      allowedOrigins: get('ws.allowed.origins') as string[],
    },
    cluster: {
      enabled: (get('etcd.endpoints') as readonly string[]).length > 0,
      etcdEndpoints: [...(get('etcd.endpoints') as readonly string[])],
      sessionTimeoutMs: get('broker.session.timeout.ms'),
      rack: get('broker.rack') === '' ? null : get('broker.rack'),
      replicaLagTimeMaxMs: get('replica.lag.time.max.ms'),
      replicaFetchWaitMaxMs: get('replica.fetch.wait.max.ms'),
      replicaFetchMinBytes: get('replica.fetch.min.bytes'),
      replicaFetchMaxBytes: get('replica.fetch.max.bytes'),
      replicaFetchBackoffMs: get('replica.fetch.backoff.ms'),
      hwCheckpointIntervalMs: get('replica.high.watermark.checkpoint.interval.ms'),
      offsetsTopicReplicationFactor: get('offsets.topic.replication.factor'),
      autoLeaderRebalance: get('auto.leader.rebalance.enable'),
      leaderImbalanceCheckIntervalMs: get('leader.imbalance.check.interval.seconds') * 1000,
      leaderImbalancePerBrokerPercentage: get('leader.imbalance.per.broker.percentage'),
    },
    metricsEnabled: get('metrics.enabled'),
    log: { level: get('log.level') as BrokerConfig['log']['level'], format: get('log.format') as BrokerConfig['log']['format'] },
    topicDefaults,
    staticTopicDefaults,
    raw,
    explicitKeys: new Set(explicit),
    inertKeys: [...explicit].filter((k) => INERT_BROKER_KEYS.has(k)),
    dynamic: { broker: {}, clusterDefault: {} },
    staticTopicValues: { ...topicDefaults },
  };
}

export function readPropertiesFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('--config', `cannot read config file ${path}: ${(e as Error).message}`);
  }
  return parseProperties(text);
}

/** A topic's effective configuration: broker defaults overlaid with its overrides. */
export function effectiveTopicConfig(broker: BrokerConfig, overrides: TopicOverrides): Record<TopicConfigName, TopicConfigValue> {
  return { ...broker.topicDefaults, ...overrides };
}

export { LONG_MAX };
