/**
 * The topics this broker hosts: names, ids, partition counts, per-topic config overrides, and the
 * open partition logs. The one owner of that state; handlers ask it, never the filesystem.
 *
 * On disk, under the data directory:
 *
 *   meta.properties            Kafka's file: version, cluster.id, node.id (written once)
 *   topics.json                { version: 1, topics: { <name>: { id, partitions, configs } } },
 *                              replaced atomically (write temp, fsync, rename, fsync dir)
 *   <topic>-<partition>/       one partition log each (src/storage/partition-log.ts)
 *   <topic>-<partition>.<id>-delete/   left by an interrupted deletion of an older version; removed at start
 *
 * Order of changes, chosen so a crash at any point leaves a state the next start can serve:
 * create and grow open (create) the logs first, then write topics.json; delete writes topics.json
 * first, then renames each partition directory to `-delete` (see delete() for when it goes). A
 * partition directory that topics.json does not list (a crash half-way, or a `-delete` leftover) is
 * removed at start, so a topic re-created under the same name never sees old data.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerConfig, TopicConfigName, TopicConfigValue, TopicOverrides } from '../config.js';
import { effectiveTopicConfig } from '../config.js';
import { PartitionLog, type CleanupPolicy, type LogConfig } from '../storage/partition-log.js';
import { writeAtomic } from '../util/fs.js';
import type { Logger } from '../util/logger.js';

export interface Topic {
  name: string;
  /** Kafka topic id: a random UUID, fixed at creation. */
  id: string;
  partitions: PartitionLog[];
  configs: TopicOverrides;
  internal: boolean;
}

interface TopicsFile {
  version: 1;
  topics: Record<string, { id: string; partitions: number; configs: TopicOverrides }>;
}

/**
 * The most partitions one topic may have. Kafka sets no limit, but every partition holds open files
 * here, and a request for millions would exhaust descriptors mid-way: refused up front instead.
 */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;

/** Kafka's rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..". */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > 249) return `topic name is longer than 249 characters`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name "${name}" is illegal: it may contain only ASCII alphanumerics, '.', '_' and '-'`;
  return undefined;
}

/** cleanup.policy as Kafka spells it (a list, either order) -> the storage layer's policy. */
export function cleanupPolicyOf(value: TopicConfigValue): CleanupPolicy {
  const items = String(value).split(',').map((s) => s.trim());
  const compact = items.includes('compact');
  const del = items.includes('delete');
  return compact && del ? 'compact,delete' : compact ? 'compact' : 'delete';
}

/** Topic config (Kafka names) -> the storage layer's log config. */
export function logConfigFor(cfg: Record<TopicConfigName, TopicConfigValue>): Partial<LogConfig> {
  return {
    cleanupPolicy: cleanupPolicyOf(cfg['cleanup.policy']),
    deleteRetentionMs: cfg['delete.retention.ms'] as number,
    minCompactionLagMs: cfg['min.compaction.lag.ms'] as number,
    minCleanableDirtyRatio: cfg['min.cleanable.dirty.ratio'] as number,
    segmentBytes: cfg['segment.bytes'] as number,
    segmentMs: cfg['segment.ms'] as number,
    indexIntervalBytes: cfg['index.interval.bytes'] as number,
    segmentIndexBytes: cfg['segment.index.bytes'] as number,
    maxMessageBytes: cfg['max.message.bytes'] as number,
    messageTimestampType: cfg['message.timestamp.type'] as 'CreateTime' | 'LogAppendTime',
    flushMessages: cfg['flush.messages'] as number,
    flushMs: cfg['flush.ms'] as number,
    retentionMs: cfg['retention.ms'] as number,
    retentionBytes: cfg['retention.bytes'] as number,
    fileDeleteDelayMs: cfg['file.delete.delay.ms'] as number,
    maxCompactionLagMs: forever(cfg['max.compaction.lag.ms'] as number),
    segmentJitterMs: cfg['segment.jitter.ms'] as number,
    // Kafka 3.6+: before/after.max.ms where set, else the deprecated difference.max.ms for both.
    messageTimestampBeforeMaxMs: forever(unlessNever(cfg['message.timestamp.before.max.ms'] as number, cfg['message.timestamp.difference.max.ms'] as number)),
    messageTimestampAfterMaxMs: forever(unlessNever(cfg['message.timestamp.after.max.ms'] as number, cfg['message.timestamp.difference.max.ms'] as number)),
  };
}

/** Kafka's Long.MAX_VALUE ("never", held as MAX_SAFE_INTEGER in config.ts) as the log's Infinity. */
function forever(v: number): number {
  return v >= Number.MAX_SAFE_INTEGER ? Infinity : v;
}

function unlessNever(v: number, otherwise: number): number {
  return v >= Number.MAX_SAFE_INTEGER ? otherwise : v;
}

/** Kafka's cluster ids: 16 random bytes in URL-safe base64 without padding (22 characters). */
export function newClusterId(): string {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
}

/** meta.properties of a data directory as key/value pairs, or undefined when there is none. */
export function readMetaProperties(dataDir: string): Record<string, string> | undefined {
  const path = join(dataDir, 'meta.properties');
  if (!existsSync(path)) return undefined;
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.includes('=') && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()]),
  );
}

export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();
  private readonly ids = new Map<string, Topic>();
  readonly clusterId: string;

  /** `clusterId`: the cluster's id from etcd; a data directory of another cluster is refused. */
  constructor(
    private readonly config: BrokerConfig,
    private readonly log: Logger,
    clusterId?: string,
  ) {
    mkdirSync(config.dataDir, { recursive: true });
    this.clusterId = this.loadMetaProperties(clusterId);
    this.load();
  }

  /** The topic with this id (Fetch v13+, Metadata and DeleteTopics by id). */
  byId(id: string): Topic | undefined {
    return this.ids.get(id);
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  all(): IterableIterator<Topic> {
    return this.topics.values();
  }

  get size(): number {
    return this.topics.size;
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  /**
   * A topic's configs with the broker defaults filled in. Produce asks on every request, so the
   * merge is kept until the overrides object is replaced (setConfigs assigns a new one). Read-only.
   */
  effectiveConfig(topic: Topic): Readonly<Record<TopicConfigName, TopicConfigValue>> {
    const cached = this.effective.get(topic);
    if (cached && cached.overrides === topic.configs && cached.defaults === this.defaultsVersion) return cached.value;
    const value = effectiveTopicConfig(this.config, topic.configs);
    this.effective.set(topic, { overrides: topic.configs, defaults: this.defaultsVersion, value });
    return value;
  }

  private readonly effective = new WeakMap<Topic, { overrides: TopicOverrides; defaults: number; value: Record<TopicConfigName, TopicConfigValue> }>();
  /** Bumped when the broker's topic defaults change (dynamic broker configs). */
  private defaultsVersion = 0;

  /** After the broker's topic defaults changed: every open log takes its new effective config. */
  refreshDefaults(): void {
    this.defaultsVersion++;
    for (const topic of this.topics.values()) {
      const logCfg = logConfigFor(this.effectiveConfig(topic));
      for (const p of topic.partitions) p.updateConfig(logCfg);
    }
  }

  /**
   * Creates a topic; the caller has validated name, count and configs. `id` is given when the
   * topic exists elsewhere already (a cluster's brokers mirror the topics etcd holds).
   */
  create(name: string, partitions: number, configs: TopicOverrides = {}, id: string = randomUUID()): Topic {
    if (this.topics.has(name)) throw new Error(`topic ${name} exists`);
    const topic: Topic = { name, id, partitions: [], configs, internal: name.startsWith('__') };
    this.topics.set(name, topic);
    this.ids.set(topic.id, topic);
    try {
      this.openPartitions(topic, partitions);
      this.save();
    } catch (e) {
      this.topics.delete(name);
      this.ids.delete(topic.id);
      for (const p of topic.partitions) p.delete();
      this.save();
      throw e;
    }
    this.log.info(`created topic ${name} with ${partitions} partition(s)`);
    return topic;
  }

  /** Adds partitions (never removes: Kafka forbids shrinking). */
  grow(topic: Topic, count: number): void {
    if (count <= topic.partitions.length) throw new Error(`topic ${topic.name} already has ${topic.partitions.length} partitions`);
    const before = topic.partitions.length;
    this.openPartitions(topic, count);
    try {
      this.save();
    } catch (e) {
      for (const p of topic.partitions.splice(before)) p.delete();
      throw e;
    }
  }

  /** Replaces a topic's overrides and applies them to its open logs. */
  setConfigs(topic: Topic, configs: TopicOverrides): void {
    const old = topic.configs;
    topic.configs = configs;
    try {
      this.save();
    } catch (e) {
      topic.configs = old;
      throw e;
    }
    const logCfg = logConfigFor(this.effectiveConfig(topic));
    for (const p of topic.partitions) p.updateConfig(logCfg);
  }

  /**
   * Deletes a topic, synchronously as far as any other request can tell: a CreateTopics of the same
   * name that runs next (pipelined, or on another connection) finds neither the topic in
   * topics.json nor its directories, which are renamed with Kafka's `-delete` suffix at once.
   * The files stay open for file.delete.delay.ms before they are closed and removed, because fetch
   * responses already queued may still send from them by descriptor, and a descriptor closed early
   * could be reused by another file and send its bytes instead. A crash before the removal leaves
   * `-delete` directories, which the next start removes.
   */
  delete(topic: Topic): void {
    this.topics.delete(topic.name);
    this.ids.delete(topic.id);
    this.save();
    const doomed = topic.partitions.map((_, i) => {
      const dir = this.partitionDir(topic.name, i);
      const target = `${dir}.${topic.id.replace(/-/g, '')}-delete`;
      renameSync(dir, target);
      return target;
    });
    const remove = () => {
      this.pendingRemovals.delete(remove);
      for (const p of topic.partitions) p.delete(); // closes the files; the directory is renamed already
      for (const d of doomed) rmSync(d, { recursive: true, force: true });
    };
    this.pendingRemovals.add(remove);
    setTimeout(remove, this.effectiveConfig(topic)['file.delete.delay.ms'] as number).unref();
    this.log.info(`deleted topic ${topic.name}`);
  }

  /** Deleted topics whose files are still open (see delete()); close() removes them at once. */
  private readonly pendingRemovals = new Set<() => void>();

  async flushAll(): Promise<void> {
    await Promise.all([...this.topics.values()].flatMap((t) => t.partitions.map((p) => p.flush())));
  }

  /** Applies retention to every partition; returns how many segments were deleted. */
  applyRetention(now = Date.now()): number {
    let deleted = 0;
    for (const t of this.topics.values()) for (const p of t.partitions) deleted += p.applyRetention(now);
    return deleted;
  }

  /** Flushes and closes every log (each close flushes and writes its clean-shutdown marker). */
  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].flatMap((t) => t.partitions.map((p) => p.close())));
    this.topics.clear();
    this.ids.clear();
    for (const remove of [...this.pendingRemovals]) remove();
  }

  // ------------------------------------------------------------------ on disk

  private partitionDir(topic: string, partition: number): string {
    return join(this.config.dataDir, `${topic}-${partition}`);
  }

  /**
   * Opens partitions up to `count`, all or none: when one fails (say EMFILE, out of descriptors),
   * the ones opened here are deleted again, with the directory the failed one had just created,
   * so memory, topics.json and the data directory still agree.
   */
  private openPartitions(topic: Topic, count: number): void {
    const logCfg = logConfigFor(this.effectiveConfig(topic));
    const before = topic.partitions.length;
    try {
      for (let i = before; i < count; i++) {
        const dir = this.partitionDir(topic.name, i);
        const existed = existsSync(dir);
        try {
          topic.partitions.push(PartitionLog.open(dir, logCfg));
        } catch (e) {
          if (!existed) rmSync(dir, { recursive: true, force: true });
          throw e;
        }
      }
    } catch (e) {
      for (const p of topic.partitions.splice(before)) p.delete();
      throw e;
    }
  }

  private loadMetaProperties(expected: string | undefined): string {
    const path = join(this.config.dataDir, 'meta.properties');
    const props = readMetaProperties(this.config.dataDir);
    if (props) {
      if (props['node.id'] !== undefined && Number(props['node.id']) !== this.config.nodeId) {
        throw new Error(
          `data directory ${this.config.dataDir} belongs to node.id ${props['node.id']}, but this broker is node.id ${this.config.nodeId}`,
        );
      }
      if (expected !== undefined && props['cluster.id'] && props['cluster.id'] !== expected) {
        throw new Error(`data directory ${this.config.dataDir} belongs to cluster ${props['cluster.id']}, but etcd holds cluster ${expected}`);
      }
      if (props['cluster.id']) return props['cluster.id'];
    }
    // Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding (22 characters).
    const clusterId = expected ?? newClusterId();
    writeAtomic(path, `#Written by Brook\nversion=1\ncluster.id=${clusterId}\nnode.id=${this.config.nodeId}\n`);
    return clusterId;
  }

  private load(): void {
    const path = join(this.config.dataDir, 'topics.json');
    let file: TopicsFile = { version: 1, topics: {} };
    if (existsSync(path)) file = JSON.parse(readFileSync(path, 'utf8')) as TopicsFile;
    for (const [name, t] of Object.entries(file.topics)) {
      const topic: Topic = { name, id: t.id, partitions: [], configs: t.configs, internal: name.startsWith('__') };
      this.openPartitions(topic, t.partitions);
      this.topics.set(name, topic);
      this.ids.set(topic.id, topic);
    }
    this.removeLeftovers();
  }

  /** Removes partition directories of deleted topics (see the header comment for why they exist). */
  private removeLeftovers(): void {
    for (const entry of readdirSync(this.config.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(this.config.dataDir, entry.name);
      if (entry.name.endsWith('-delete')) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const m = /^(.+)-(\d+)$/.exec(entry.name);
      if (!m) continue;
      const topic = this.topics.get(m[1]);
      if (!topic || Number(m[2]) >= topic.partitions.length) {
        this.log.info(`removing ${dir}: its topic or partition no longer exists`);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  private save(): void {
    const file: TopicsFile = { version: 1, topics: {} };
    for (const t of this.topics.values()) file.topics[t.name] = { id: t.id, partitions: t.partitions.length, configs: t.configs };
    writeAtomic(join(this.config.dataDir, 'topics.json'), JSON.stringify(file, null, 1));
  }
}
