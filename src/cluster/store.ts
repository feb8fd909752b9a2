/**
 * ClusterStore: one broker's connection to the cluster metadata in etcd (layout in types.ts).
 *
 * Three jobs:
 *   - Mirror: everything under `<prefix>/<cid>/` is read once and then followed by ONE prefix watch
 *     that starts at the snapshot's revision + 1, so no change is missed or seen twice. Reads are
 *     synchronous map lookups: the data path never waits on etcd. If the watch is cancelled by etcd
 *     (compaction, or any other cancel), the store re-reads everything and emits {kind:'resync'}.
 *     A dropped stream is resumed by the etcd3 client from the last revision it saw (no gap).
 *   - Session: a lease of TTL = ceil(broker.session.timeout.ms / 1000) s (min 2, etcd's floor with
 *     default timings) carrying the broker registration and, when this broker is controller, the
 *     controller key. We renew it ourselves every TTL/3 with one-shot keepalives and keep a LOCAL
 *     deadline: without a successful renewal for TTL - max(500 ms, TTL/6) (measured from when the
 *     renewal was sent, so it errs early) the broker fences itself ({kind:'session', live:false})
 *     before etcd can expire the lease and let another broker take over. etcd3's own keepalive can
 *     miss a silently dead stream (etcd3#110), hence our loop. After a fence the store keeps trying
 *     to register again with a NEW lease; success is a new broker epoch and {kind:'session', live:true}.
 *   - Writes: admin changes (topics, partitions, configs), leader ISR changes (compare-and-swap on the
 *     partition key's mod revision), producer-id blocks (CAS on the last block), and controller
 *     election plus controller-fenced transactions (compare the controller key's create revision).
 *
 * Value encodings (JSON, one object per key):
 *   brokers/ids/<id>        {nodeId, host, port, rack}          (epoch = the key's create revision)
 *   controller              {nodeId, epoch}                      (bound to the controller's lease)
 *   controller_epoch        {epoch}
 *   topics/<name>           {id, assignment, configs}
 *   partitions/<name>/<p>   {leader, leaderEpoch, isr, controllerEpoch}  (version = mod revision)
 *   producer_id_block       {brokerId, start, end}               (end exclusive)
 *
 * etcd rejects a transaction with more than 128 operations per branch (--max-txn-ops), so writes
 * of many partitions are split; the first batch carries the guard that decides the write, later
 * batches are guarded by the revision the first one produced.
 */
import { randomBytes } from 'node:crypto';
import { Etcd3, type IKeyValue, type IWatchResponse, type Watcher, type ComparatorBuilder, type IRequestOp, type IOperation } from 'etcd3';
import type { TopicOverrides } from '../config.js';
import type { Logger } from '../util/logger.js';
import type { BrokerRegistration, ClusterEvent, ControllerInfo, PartitionState, TopicRecord } from './types.js';

/** etcd's default --max-txn-ops. */
export const ETCD_MAX_TXN_OPS = 128;

export class NodeIdInUseError extends Error {
  constructor(readonly nodeId: number) {
    super(`node.id ${nodeId} is registered by another live broker`);
    this.name = 'NodeIdInUseError';
  }
}

export class ClusterIdMismatchError extends Error {
  constructor(readonly stored: string, readonly local: string) {
    super(`etcd holds cluster id ${stored}, but this broker's data dir belongs to cluster ${local}`);
    this.name = 'ClusterIdMismatchError';
  }
}

export class TopicNotFoundError extends Error {
  constructor(readonly topic: string) {
    super(`topic ${topic} does not exist`);
    this.name = 'TopicNotFoundError';
  }
}

export class ClusterStoreClosedError extends Error {
  constructor() {
    super('cluster store is closed');
    this.name = 'ClusterStoreClosedError';
  }
}

export interface ClusterStoreOptions {
  endpoints: string[];
  nodeId: number;
  sessionTimeoutMs: number;
  log: Logger;
  /** Root of every key (default '/brook'). */
  prefix?: string;
}

/** A Kafka-style cluster id: 16 random bytes, URL-safe base64 without padding (22 chars). */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

interface StoredController {
  nodeId: number;
  epoch: number;
  /** The controller key's create revision: what controller transactions compare. */
  createRevision: number;
}

/** The mirrored state; a resync builds a new one and swaps it in whole. */
class Mirror {
  readonly brokers = new Map<number, BrokerRegistration>();
  controller: StoredController | null = null;
  controllerEpoch = 0;
  readonly topics = new Map<string, TopicRecord>();
  /** Mod revision of each topic key (the compare value of topic updates). */
  readonly topicVersions = new Map<string, number>();
  readonly partitions = new Map<string, Map<number, PartitionState>>();
  /** The etcd revision this mirror reflects. */
  revision = 0;

  /** Applies one key's new value (null: deleted); returns the event to emit, if any. */
  apply(rel: string, kv: IKeyValue, deleted: boolean, log: Logger): ClusterEvent | null {
    const parts = rel.split('/');
    let value: Record<string, unknown> | null = null;
    if (!deleted) {
      try {
        value = JSON.parse(kv.value.toString('utf8')) as Record<string, unknown>;
      } catch {
        log.warn('ignoring a cluster metadata key whose value is not JSON', { key: rel });
        return null;
      }
    }
    if (parts[0] === 'brokers' && parts[1] === 'ids' && parts.length === 3) {
      const id = Number(parts[2]);
      if (value) {
        this.brokers.set(id, {
          nodeId: id,
          host: String(value.host),
          port: Number(value.port),
          rack: (value.rack as string | null) ?? null,
          epoch: Number(kv.create_revision),
        });
      } else {
        this.brokers.delete(id);
      }
      return { kind: 'brokers' };
    }
    if (rel === 'controller') {
      this.controller = value
        ? { nodeId: Number(value.nodeId), epoch: Number(value.epoch ?? this.controllerEpoch), createRevision: Number(kv.create_revision) }
        : null;
      return { kind: 'controller', controller: this.controllerInfo() };
    }
    if (rel === 'controller_epoch') {
      this.controllerEpoch = value ? Number(value.epoch) : 0;
      return null; // changes together with `controller`, which emits
    }
    if (parts[0] === 'topics' && parts.length === 2) {
      const name = parts[1];
      if (value) {
        const topic: TopicRecord = {
          name,
          id: String(value.id),
          assignment: value.assignment as number[][],
          configs: (value.configs as TopicOverrides | undefined) ?? {},
        };
        this.topics.set(name, topic);
        this.topicVersions.set(name, Number(kv.mod_revision));
        return { kind: 'topic', name, topic };
      }
      this.topics.delete(name);
      this.topicVersions.delete(name);
      return { kind: 'topic', name, topic: undefined };
    }
    if (parts[0] === 'partitions' && parts.length === 3) {
      const topic = parts[1];
      const p = Number(parts[2]);
      if (value) {
        const state: PartitionState = {
          leader: Number(value.leader),
          leaderEpoch: Number(value.leaderEpoch),
          isr: value.isr as number[],
          controllerEpoch: Number(value.controllerEpoch),
          version: Number(kv.mod_revision),
        };
        let m = this.partitions.get(topic);
        if (!m) this.partitions.set(topic, (m = new Map()));
        m.set(p, state);
        return { kind: 'partition', topic, partition: p, state };
      }
      const m = this.partitions.get(topic);
      m?.delete(p);
      if (m?.size === 0) this.partitions.delete(topic);
      return { kind: 'partition', topic, partition: p, state: undefined };
    }
    return null; // producer_id_block, configs/...: not mirrored
  }

  controllerInfo(): ControllerInfo | null {
    return this.controller ? { nodeId: this.controller.nodeId, epoch: this.controller.epoch } : null;
  }
}

function stateValue(s: Omit<PartitionState, 'version'>): string {
  return JSON.stringify({ leader: s.leader, leaderEpoch: s.leaderEpoch, isr: s.isr, controllerEpoch: s.controllerEpoch });
}

function topicValue(t: TopicRecord): string {
  return JSON.stringify({ id: t.id, assignment: t.assignment, configs: t.configs });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A transaction fenced by this broker's controllership: commit() adds, as its first compare, "the
 * controller key's create revision equals the one this broker created", so a controller that lost
 * its lease (paused, partitioned) cannot write anything, whatever it believes. Keys are relative to
 * `<prefix>/<cid>/`.
 */
export class ControllerTxn {
  private readonly compares: { key: string; target: 'Mod' | 'Create' | 'Version'; value: number }[] = [];
  private readonly ops: (IRequestOp | IOperation)[] = [];

  constructor(
    private readonly client: Etcd3,
    private readonly base: string,
    private readonly controllerRevision: number,
  ) {}

  /** Compare a key's mod/create revision or version (0 = the key is absent). */
  compare(key: string, target: 'Mod' | 'Create' | 'Version', value: number): this {
    this.compares.push({ key, target, value });
    return this;
  }

  put(key: string, value: string): this {
    this.ops.push(this.client.put(this.base + key).value(value));
    return this;
  }

  delete(key: string): this {
    this.ops.push(this.client.delete().key(this.base + key));
    return this;
  }

  /** Write a partition's state if its key is still at `expectedVersion` (mod revision). */
  putPartition(topic: string, partition: number, expectedVersion: number, state: Omit<PartitionState, 'version'>): this {
    const key = `partitions/${topic}/${partition}`;
    return this.compare(key, 'Mod', expectedVersion).put(key, stateValue(state));
  }

  /** Operations so far (keep under ETCD_MAX_TXN_OPS - 1: the controller compare shares the limit with compares). */
  get size(): number {
    return Math.max(this.ops.length, this.compares.length + 1);
  }

  /** Applies all or nothing; succeeded = false when the fence or any compare failed. */
  async commit(): Promise<{ succeeded: boolean; revision: number }> {
    if (this.controllerRevision <= 0) return { succeeded: false, revision: 0 };
    let txn: ComparatorBuilder = this.client.if(this.base + 'controller', 'Create', '==', this.controllerRevision);
    for (const c of this.compares) txn = txn.and(this.base + c.key, c.target, '==', c.value);
    const res = await txn.then(...this.ops).commit();
    return { succeeded: res.succeeded, revision: Number(res.header.revision) };
  }
}

interface Session {
  leaseId: string;
  epoch: number;
  /** When the last successful renewal was SENT (Date.now()). */
  lastRenewal: number;
}

export class ClusterStore {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly nodeId: number;
  private readonly log: Logger;
  private readonly ttlSec: number;
  private readonly keepaliveEveryMs: number;
  private readonly fenceAfterMs: number;

  private cid = '';
  private base = '';
  private mirror = new Mirror();
  private watcher: Watcher | null = null;
  /** Bumped by every resync: a stale watcher's callbacks are ignored. */
  private watchGeneration = 0;
  private resyncing = false;
  private readonly listeners = new Set<(e: ClusterEvent) => void>();
  /** Resolved (and replaced) whenever the mirror or the session changes: campaign() waits on it. */
  private changed: { promise: Promise<void>; resolve: () => void };
  private readonly revisionWaiters: { revision: number; resolve: () => void }[] = [];

  private registration: Omit<BrokerRegistration, 'epoch'> | null = null;
  private session: Session | null = null;
  private live = false;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private fenceTimer: NodeJS.Timeout | null = null;
  private reRegistering = false;
  /** Test hook: the session's timers are stopped, as in a paused process. */
  private sessionPaused = false;
  /** Create revision of the controller key this broker wrote (0: not controller). */
  private controllerRevision = 0;
  /** deregister() ran: the session is over for good, but the mirror keeps following etcd. */
  private deregistered = false;
  private closed = false;

  constructor(opts: ClusterStoreOptions) {
    this.client = new Etcd3({ hosts: opts.endpoints, dialTimeout: 3000 });
    this.prefix = (opts.prefix ?? '/brook').replace(/\/+$/, '');
    this.nodeId = opts.nodeId;
    this.log = opts.log;
    this.ttlSec = Math.max(2, Math.ceil(opts.sessionTimeoutMs / 1000));
    const ttlMs = this.ttlSec * 1000;
    this.keepaliveEveryMs = Math.floor(ttlMs / 3);
    this.fenceAfterMs = ttlMs - Math.max(500, Math.floor(ttlMs / 6));
    this.changed = ClusterStore.deferred();
  }

  private static deferred(): { promise: Promise<void>; resolve: () => void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }

  private notifyChanged(): void {
    const d = this.changed;
    this.changed = ClusterStore.deferred();
    d.resolve();
  }

  private emit(e: ClusterEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error('cluster event listener threw', { err: String(err), kind: e.kind });
      }
    }
  }

  // ---- open, mirror, watch ----

  async open(proposedClusterId?: string): Promise<string> {
    const key = `${this.prefix}/cluster_id`;
    const candidate = proposedClusterId ?? newClusterId();
    const res = await this.client
      .if(key, 'Create', '==', 0)
      .then(this.client.put(key).value(candidate))
      .else(this.client.get(key))
      .commit();
    const stored = res.succeeded ? candidate : res.responses[0].response_range.kvs[0].value.toString('utf8');
    if (proposedClusterId !== undefined && stored !== proposedClusterId) {
      throw new ClusterIdMismatchError(stored, proposedClusterId);
    }
    if (res.succeeded) this.log.info('created the cluster id in etcd', { clusterId: stored });
    this.cid = stored;
    this.base = `${this.prefix}/${stored}/`;
    await this.loadAndWatch();
    this.emit({ kind: 'resync' }); // listeners added before open() learn that the mirror is filled
    return stored;
  }

  /** Reads everything under base, swaps the mirror, and watches from the read's revision + 1. */
  private async loadAndWatch(): Promise<void> {
    const res = await this.client.getAll().prefix(this.base).exec();
    const mirror = new Mirror();
    for (const kv of res.kvs) mirror.apply(kv.key.toString('utf8').slice(this.base.length), kv, false, this.log);
    mirror.revision = Number(res.header.revision);
    this.mirror = mirror;
    const generation = ++this.watchGeneration;
    const watcher = this.client.watch().prefix(this.base).startRevision(String(mirror.revision + 1)).watcher();
    this.watcher = watcher;
    watcher.on('data', (r: IWatchResponse) => {
      if (generation === this.watchGeneration) this.onWatchData(r);
    });
    watcher.on('error', (err: Error) => {
      if (generation !== this.watchGeneration || this.closed) return;
      this.log.warn('metadata watch cancelled; re-reading everything', { err: err.message });
      void this.resync();
    });
    watcher.on('disconnected', (err: Error) => {
      this.log.debug('metadata watch disconnected; the client resumes it', { err: err.message });
    });
    this.resolveRevisionWaiters();
  }

  private onWatchData(res: IWatchResponse): void {
    const events: ClusterEvent[] = [];
    let brokers = false;
    for (const ev of res.events ?? []) {
      const rel = ev.kv.key.toString('utf8').slice(this.base.length);
      const e = this.mirror.apply(rel, ev.kv, ev.type.toLowerCase() === 'delete', this.log);
      if (!e) continue;
      if (e.kind === 'brokers') brokers = true;
      else events.push(e);
    }
    // One txn's events arrive in one response; report the broker set once per response.
    if (brokers) events.unshift({ kind: 'brokers' });
    const rev = Number(res.header.revision);
    if (rev > this.mirror.revision) this.mirror.revision = rev;
    if (this.controllerRevision > 0 && this.mirror.controller?.createRevision !== this.controllerRevision && this.mirror.revision >= this.controllerRevision) {
      this.controllerRevision = 0; // our controller key is gone (expired, or deleted by hand)
    }
    for (const e of events) this.emit(e);
    this.resolveRevisionWaiters();
    if (events.length > 0) this.notifyChanged();
  }

  private async resync(): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      const old = this.watcher;
      this.watchGeneration++;
      this.watcher = null;
      if (old) await Promise.race([old.cancel().catch(() => undefined), sleep(1000)]);
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          await this.loadAndWatch();
          break;
        } catch (err) {
          this.log.warn('metadata re-read failed; retrying', { err: String(err), attempt });
          await sleep(Math.min(5000, 200 * 2 ** attempt));
        }
      }
      if (this.closed) return;
      if (this.controllerRevision > 0 && this.mirror.controller?.createRevision !== this.controllerRevision) this.controllerRevision = 0;
      this.emit({ kind: 'resync' });
      this.notifyChanged();
    } finally {
      this.resyncing = false;
    }
  }

  private resolveRevisionWaiters(): void {
    for (let i = this.revisionWaiters.length - 1; i >= 0; i--) {
      if (this.revisionWaiters[i].revision <= this.mirror.revision) {
        this.revisionWaiters[i].resolve();
        this.revisionWaiters.splice(i, 1);
      }
    }
  }

  /** Resolves true once the mirror reflects etcd revision `revision` (false on timeout). */
  async waitForRevision(revision: number, timeoutMs = 5000): Promise<boolean> {
    if (this.mirror.revision >= revision) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const i = this.revisionWaiters.indexOf(waiter);
        if (i >= 0) this.revisionWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.revisionWaiters.push(waiter);
    });
  }

  // ---- mirror reads (synchronous) ----

  get clusterId(): string {
    return this.cid;
  }

  /** The etcd revision the mirror reflects. */
  get revision(): number {
    return this.mirror.revision;
  }

  brokers(): ReadonlyMap<number, BrokerRegistration> {
    return this.mirror.brokers;
  }

  controller(): ControllerInfo | null {
    return this.mirror.controllerInfo();
  }

  topics(): ReadonlyMap<string, TopicRecord> {
    return this.mirror.topics;
  }

  partition(topic: string, p: number): PartitionState | undefined {
    return this.mirror.partitions.get(topic)?.get(p);
  }

  /** All mirrored states of a topic, by partition index. */
  partitions(topic: string): ReadonlyMap<number, PartitionState> {
    return this.mirror.partitions.get(topic) ?? new Map();
  }

  onChange(listener: (e: ClusterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- session ----

  get brokerEpoch(): number {
    return this.session?.epoch ?? -1;
  }

  get sessionLive(): boolean {
    return this.live;
  }

  /** The lease TTL in seconds. */
  get sessionTtlSec(): number {
    return this.ttlSec;
  }

  /**
   * Registers this broker (see the file comment). `waitForExpiryMs`: how long to keep retrying
   * while another lease holds the node id, e.g. this broker's own previous process killed less
   * than a TTL ago (default 0: refuse at once, like Kafka's NodeExists on /brokers/ids).
   */
  async register(reg: Omit<BrokerRegistration, 'epoch'>, opts: { waitForExpiryMs?: number } = {}): Promise<number> {
    if (this.registration) throw new Error('register() was already called');
    if (this.deregistered) throw new Error('this store was deregistered');
    this.registration = { nodeId: reg.nodeId, host: reg.host, port: reg.port, rack: reg.rack };
    const deadline = Date.now() + (opts.waitForExpiryMs ?? 0);
    try {
      for (;;) {
        if (this.closed) throw new ClusterStoreClosedError();
        if (await this.tryRegister()) return this.brokerEpoch;
        if (Date.now() >= deadline) throw new NodeIdInUseError(this.nodeId);
        await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
      }
    } catch (err) {
      this.registration = null; // a failed register() may be called again
      throw err;
    }
  }

  /**
   * Grants a lease and creates the registration with it if no registration exists. Returns false
   * (after revoking the new lease) when another lease holds the key.
   */
  private async tryRegister(): Promise<boolean> {
    const reg = this.registration!;
    // The lease's TTL runs from its grant on the server: measure our deadline from before asking.
    const sentAt = Date.now();
    const grant = await this.client.leaseClient.leaseGrant({ TTL: this.ttlSec, ID: 0 });
    const leaseId = grant.ID;
    const key = `${this.base}brokers/ids/${this.nodeId}`;
    const value = JSON.stringify({ nodeId: reg.nodeId, host: reg.host, port: reg.port, rack: reg.rack });
    let res;
    try {
      res = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(value).lease(leaseId)).commit();
    } catch (err) {
      await this.revokeQuietly(leaseId);
      throw err;
    }
    if (!res.succeeded || this.deregistered) {
      // deregister() may have run while we waited: a registration it did not see must not survive.
      await this.revokeQuietly(leaseId);
      return false;
    }
    this.session = { leaseId, epoch: Number(res.header.revision), lastRenewal: sentAt };
    this.live = true;
    this.log.info('registered in etcd', { nodeId: this.nodeId, brokerEpoch: this.session.epoch, ttlSec: this.ttlSec });
    this.scheduleKeepalive();
    this.scheduleFence();
    return true;
  }

  private async revokeQuietly(leaseId: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId }, { deadline: Date.now() + 2000 });
    } catch {
      // expired already, or etcd unreachable: the lease lapses on its own
    }
  }

  private scheduleKeepalive(): void {
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = setTimeout(() => void this.keepaliveOnce(), this.keepaliveEveryMs);
  }

  private scheduleFence(): void {
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    const session = this.session;
    if (!session) return;
    const due = session.lastRenewal + this.fenceAfterMs - Date.now();
    this.fenceTimer = setTimeout(() => this.fence('no lease renewal within the session deadline'), Math.max(0, due));
  }

  private async keepaliveOnce(): Promise<void> {
    const session = this.session;
    if (!session || !this.live || this.closed || this.sessionPaused) return;
    const sentAt = Date.now();
    try {
      const ttl = await this.sendKeepalive(session.leaseId, this.keepaliveEveryMs);
      if (this.session !== session || !this.live || this.sessionPaused) return;
      if (ttl <= 0) {
        this.fence('etcd says the lease has expired');
        return;
      }
      session.lastRenewal = sentAt;
      this.scheduleFence();
    } catch (err) {
      this.log.debug('lease renewal failed', { err: String(err) });
    }
    if (this.session === session && this.live && !this.closed && !this.sessionPaused) this.scheduleKeepalive();
  }

  /** One keepalive round trip; resolves with the TTL etcd granted (0: the lease is gone). */
  private async sendKeepalive(leaseId: string, timeoutMs: number): Promise<number> {
    const stream = await this.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs });
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.cancel();
        reject(new Error('lease keepalive timed out'));
      }, timeoutMs);
      stream.on('data', (res) => {
        clearTimeout(timer);
        stream.end();
        resolve(Number(res.TTL));
      });
      stream.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.write({ ID: leaseId });
    });
  }

  /** Self-fence: stop acting on the session, then register again with a new lease. */
  private fence(reason: string): void {
    if (!this.live || this.closed || this.sessionPaused) return;
    this.live = false;
    this.controllerRevision = 0;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    this.log.warn('broker session lost: fencing this broker until it registers again', { reason, brokerEpoch: this.session?.epoch });
    this.emit({ kind: 'session', live: false });
    this.notifyChanged();
    void this.reRegisterLoop();
  }

  private async reRegisterLoop(): Promise<void> {
    if (this.reRegistering) return;
    this.reRegistering = true;
    try {
      const old = this.session;
      // Revoking deletes the old registration (and controller key) at once if etcd still has them.
      if (old) await this.revokeQuietly(old.leaseId);
      while (!this.closed && !this.live && !this.sessionPaused && !this.deregistered) {
        try {
          if (await this.tryRegister()) {
            this.emit({ kind: 'session', live: true });
            this.notifyChanged();
            return;
          }
          this.log.warn('cannot register again yet: the node id is still registered', { nodeId: this.nodeId });
        } catch (err) {
          this.log.debug('registering again failed', { err: String(err) });
        }
        await sleep(this.keepaliveEveryMs);
      }
    } finally {
      this.reRegistering = false;
    }
  }

  /**
   * Test hook: stop renewing the lease and stop the local deadline, as if the process were paused.
   * The store goes on believing its session (and controllership) is live while etcd expires it.
   */
  pauseSessionForTest(): void {
    this.sessionPaused = true;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
  }

  // ---- admin writes ----

  private key(rel: string): string {
    return this.base + rel;
  }

  async createTopic(topic: TopicRecord, states: PartitionState[]): Promise<'created' | 'exists'> {
    const topicKey = this.key(`topics/${topic.name}`);
    const writes = states.map((s, p) => ({ key: this.key(`partitions/${topic.name}/${p}`), value: stateValue(s) }));
    const first = writes.splice(0, ETCD_MAX_TXN_OPS - 1);
    const res = await this.client
      .if(topicKey, 'Create', '==', 0)
      .then(this.client.put(topicKey).value(topicValue(topic)), ...first.map((w) => this.client.put(w.key).value(w.value)))
      .commit();
    if (!res.succeeded) return 'exists';
    await this.writeGuardedBatches(topicKey, 'Create', Number(res.header.revision), writes);
    return 'created';
  }

  /**
   * Later batches of a multi-txn write of new partition states: applied only while the topic key is
   * the one we wrote and only to partition keys that do not exist yet. The controller fills states
   * still missing after a grace period (a creator that died half-way) with the same create-if-absent
   * compare, so whichever writes a key first wins and the other's batch stops.
   */
  private async writeGuardedBatches(topicKey: string, target: 'Create' | 'Mod', revision: number, writes: { key: string; value: string }[]): Promise<void> {
    while (writes.length > 0) {
      // etcd counts compares and operations separately against --max-txn-ops; the topic compare is one.
      const batch = writes.splice(0, ETCD_MAX_TXN_OPS - 1);
      let txn = this.client.if(topicKey, target, '==', revision);
      for (const w of batch) txn = txn.and(w.key, 'Create', '==', 0);
      const res = await txn.then(...batch.map((w) => this.client.put(w.key).value(w.value))).commit();
      if (!res.succeeded) {
        this.log.warn('topic or partition states changed while the partitions were being written; the rest is left to the controller', { key: topicKey });
        return;
      }
    }
  }

  async deleteTopic(name: string): Promise<boolean> {
    const topicKey = this.key(`topics/${name}`);
    const res = await this.client
      .if(topicKey, 'Create', '>', 0)
      .then(this.client.delete().key(topicKey), this.client.delete().prefix(this.key(`partitions/${name}/`)))
      .commit();
    return res.succeeded;
  }

  /** Reads a topic key straight from etcd (not the mirror) with its mod revision. */
  private async readTopic(name: string): Promise<{ topic: TopicRecord; version: number }> {
    const res = await this.client.get(this.key(`topics/${name}`)).exec();
    const kv = res.kvs[0];
    if (!kv) throw new TopicNotFoundError(name);
    const v = JSON.parse(kv.value.toString('utf8')) as Omit<TopicRecord, 'name'>;
    return { topic: { name, id: v.id, assignment: v.assignment, configs: v.configs ?? {} }, version: Number(kv.mod_revision) };
  }

  async addPartitions(name: string, newAssignment: number[][], newStates: PartitionState[]): Promise<void> {
    const topicKey = this.key(`topics/${name}`);
    for (let attempt = 0; ; attempt++) {
      const { topic, version } = await this.readTopic(name);
      const oldCount = topic.assignment.length;
      if (newAssignment.length <= oldCount) {
        throw new RangeError(`topic ${name} has ${oldCount} partitions; the new count ${newAssignment.length} must be higher`);
      }
      if (newStates.length !== newAssignment.length - oldCount) {
        throw new RangeError(`expected ${newAssignment.length - oldCount} new partition states, got ${newStates.length}`);
      }
      for (let p = 0; p < oldCount; p++) {
        if (JSON.stringify(newAssignment[p]) !== JSON.stringify(topic.assignment[p])) {
          throw new RangeError(`the new assignment of ${name} changes existing partition ${p}`);
        }
      }
      const writes = newStates.map((s, i) => ({ key: this.key(`partitions/${name}/${oldCount + i}`), value: stateValue(s) }));
      const first = writes.splice(0, ETCD_MAX_TXN_OPS - 1);
      const res = await this.client
        .if(topicKey, 'Mod', '==', version)
        .then(this.client.put(topicKey).value(topicValue({ ...topic, assignment: newAssignment })), ...first.map((w) => this.client.put(w.key).value(w.value)))
        .commit();
      if (res.succeeded) {
        await this.writeGuardedBatches(topicKey, 'Mod', Number(res.header.revision), writes);
        return;
      }
      if (attempt >= 10) throw new Error(`topic ${name} kept changing while partitions were added`);
    }
  }

  /** Replaces the topic's config overrides (a CAS on the topic key). */
  async setTopicConfigs(name: string, configs: TopicOverrides): Promise<void> {
    const topicKey = this.key(`topics/${name}`);
    for (let attempt = 0; ; attempt++) {
      const { topic, version } = await this.readTopic(name);
      const res = await this.client
        .if(topicKey, 'Mod', '==', version)
        .then(this.client.put(topicKey).value(topicValue({ ...topic, configs })))
        .commit();
      if (res.succeeded) return;
      if (attempt >= 10) throw new Error(`topic ${name} kept changing while its configs were set`);
    }
  }

  // ---- leader ISR changes ----

  async compareAndSetPartition(topic: string, p: number, expectedVersion: number, next: Omit<PartitionState, 'version'>): Promise<PartitionState | null> {
    const key = this.key(`partitions/${topic}/${p}`);
    // The stored leader epoch at `expectedVersion`: from the mirror when it has that version,
    // else from etcd. The txn's mod-revision compare then guarantees the value is unchanged.
    let storedEpoch: number;
    const mirrored = this.partition(topic, p);
    if (mirrored && mirrored.version === expectedVersion) {
      storedEpoch = mirrored.leaderEpoch;
    } else {
      const res = await this.client.get(key).exec();
      const kv = res.kvs[0];
      if (!kv || Number(kv.mod_revision) !== expectedVersion) return null;
      storedEpoch = Number((JSON.parse(kv.value.toString('utf8')) as { leaderEpoch: number }).leaderEpoch);
    }
    if (storedEpoch !== next.leaderEpoch) return null;
    const res = await this.client.if(key, 'Mod', '==', expectedVersion).then(this.client.put(key).value(stateValue(next))).commit();
    if (!res.succeeded) return null;
    return { leader: next.leader, leaderEpoch: next.leaderEpoch, isr: [...next.isr], controllerEpoch: next.controllerEpoch, version: Number(res.header.revision) };
  }

  // ---- producer ids ----

  async allocateProducerIdBlock(size: number): Promise<{ start: number; end: number }> {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`producer id block size must be a positive integer, got ${size}`);
    const key = this.key('producer_id_block');
    for (;;) {
      if (this.closed) throw new ClusterStoreClosedError();
      const res = await this.client.get(key).exec();
      const kv = res.kvs[0];
      const start = kv ? Number((JSON.parse(kv.value.toString('utf8')) as { end: number }).end) : 0;
      const end = start + size;
      if (end > Number.MAX_SAFE_INTEGER) throw new Error('producer ids exhausted');
      const txn = kv ? this.client.if(key, 'Mod', '==', kv.mod_revision) : this.client.if(key, 'Create', '==', 0);
      const put = await txn.then(this.client.put(key).value(JSON.stringify({ brokerId: this.nodeId, start, end }))).commit();
      if (put.succeeded) return { start, end };
    }
  }

  // ---- controller election ----

  /**
   * Resolves when this broker holds the controller key (created bound to its lease, with
   * controller_epoch bumped in the same txn). Waits while another broker holds it or while this
   * broker's session is not live. Rejects with ClusterStoreClosedError on close(), and with the
   * signal's reason when `signal` aborts before this broker won.
   */
  async campaign(signal?: AbortSignal): Promise<ControllerInfo> {
    const controllerKey = this.key('controller');
    const epochKey = this.key('controller_epoch');
    const aborted = signal
      ? new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })))
      : new Promise<void>(() => undefined);
    for (;;) {
      if (this.closed) throw new ClusterStoreClosedError();
      signal?.throwIfAborted();
      const changed = this.changed.promise;
      const session = this.session;
      if (this.isController()) return this.controller()!;
      if (!this.live || !session || this.mirror.controller !== null) {
        // Re-check at least once per TTL in case a wake-up was missed (etcd unreachable, say).
        await Promise.race([changed, aborted, sleep(this.ttlSec * 1000)]);
        continue;
      }
      try {
        const epochRes = await this.client.get(epochKey).exec();
        const epochKv = epochRes.kvs[0];
        const epoch = (epochKv ? Number((JSON.parse(epochKv.value.toString('utf8')) as { epoch: number }).epoch) : 0) + 1;
        const res = await this.client
          .if(controllerKey, 'Create', '==', 0)
          .and(epochKey, 'Mod', '==', epochKv ? epochKv.mod_revision : 0)
          .then(
            this.client.put(controllerKey).value(JSON.stringify({ nodeId: this.nodeId, epoch })).lease(session.leaseId),
            this.client.put(epochKey).value(JSON.stringify({ epoch })),
          )
          .commit();
        const revision = Number(res.header.revision);
        if (res.succeeded) {
          if (this.session !== session || !this.live) continue; // fenced meanwhile: the key dies with the old lease
          this.controllerRevision = revision;
          await this.waitForRevision(revision);
          this.log.info('became the controller', { nodeId: this.nodeId, controllerEpoch: epoch });
          return { nodeId: this.nodeId, epoch };
        }
        // Someone else won: wait until the mirror shows it, then wait for it to go away.
        await this.waitForRevision(revision);
      } catch (err) {
        this.log.debug('controller campaign attempt failed', { err: String(err) });
        await sleep(500);
      }
    }
  }

  /** This broker holds the controller key, by the mirror, and its session is live. */
  isController(): boolean {
    return this.live && this.controllerRevision > 0 && this.mirror.controller?.createRevision === this.controllerRevision;
  }

  /** This broker's controller epoch, or -1 when it is not the controller. */
  get controllerEpoch(): number {
    return this.isController() ? this.mirror.controller!.epoch : -1;
  }

  /** A transaction fenced by this broker's controllership (see ControllerTxn). */
  controllerTxn(): ControllerTxn {
    return new ControllerTxn(this.client, this.base, this.controllerRevision);
  }

  /** Gives up the controller role (deletes the key if it is still ours). */
  async resign(): Promise<void> {
    const rev = this.controllerRevision;
    this.controllerRevision = 0;
    if (rev <= 0) return;
    await this.client.if(this.key('controller'), 'Create', '==', rev).then(this.client.delete().key(this.key('controller'))).commit();
    this.notifyChanged();
  }

  /** Resolves at the next mirror or session change (or after `timeoutMs`). */
  async nextChange(timeoutMs: number): Promise<void> {
    await Promise.race([this.changed.promise, sleep(timeoutMs)]);
  }

  // ---- shutdown ----

  /**
   * Leaves the cluster ahead of close(): revokes the lease, so the registration and (if held) the
   * controller key disappear at once and the controller moves this broker's partitions without
   * waiting out the TTL. Unlike close(), the client, watch and mirror keep running: a broker shutting
   * down still follows the new leaders it hands over to. Renewals and the local deadline stop; no
   * {kind:'session', live:false} is emitted (this is not a lost session), the store just stops
   * claiming one (sessionLive false, never controller) and never registers again.
   */
  async deregister(): Promise<void> {
    if (this.deregistered || this.closed) return;
    this.deregistered = true;
    this.live = false;
    this.controllerRevision = 0;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    const session = this.session;
    if (session) await this.revokeQuietly(session.leaseId);
    this.notifyChanged(); // a campaign() waiting on this store re-checks and keeps waiting
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.live = false;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    this.watchGeneration++;
    const watcher = this.watcher;
    this.watcher = null;
    if (watcher) await Promise.race([watcher.cancel().catch(() => undefined), sleep(1000)]); // cancel waits for etcd
    // Revoking removes the registration and the controller key at once (no wait for the TTL).
    if (this.session && !this.deregistered) await this.revokeQuietly(this.session.leaseId);
    this.controllerRevision = 0;
    this.notifyChanged();
    this.client.close();
  }
}
