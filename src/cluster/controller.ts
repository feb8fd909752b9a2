/**
 * The controller: runs on every broker, acts only while this broker holds the controller key.
 *
 * Loop: campaign (ClusterStore.campaign) → once controller, reconcile every partition against the
 * live broker set, then again on every change the mirror reports (broker set, resync, topics,
 * partition states), until the controllership is lost (key gone, session fenced, store closed);
 * then campaign again.
 *
 * Rules, per partition (replicas = the topic's assignment, preferred first):
 *   - leader live: drop dead brokers from the ISR. The leader epoch is KEPT (only a leader change
 *     bumps it, as in KRaft, where ISR-only changes bump the partition epoch, here the key's mod
 *     revision `version`); the controller epoch is set to ours. The leader learns its smaller ISR
 *     from the watch (same leader epoch, higher version) and its own ISR CAS fails on the old
 *     version, so it re-reads.
 *   - leader dead (or -1): the first replica, in assignment order, that is live and in the ISR
 *     leads; leader epoch + 1; ISR = the ISR's live members. This also brings back an offline
 *     partition when an ISR member returns.
 *   - no state at all (a creator that stopped between its batches): after missingStateGraceMs,
 *     the initial state (first live replica leads, live replicas in the ISR), create-if-absent.
 *   - no live ISR member: leader -1 with the leader epoch bumped (so the old leader's epoch is
 *     fenced) and the ISR unchanged (Kafka keeps the last ISR, to know who may lead again), unless
 *     the topic's unclean.leader.election.enable is true: then the first live replica leads with
 *     ISR = [it], and a warning says records may be lost.
 *
 * Preferred leaders (auto.leader.rebalance.enable, Kafka's rule): every
 * leader.imbalance.check.interval.seconds, per broker, imbalance = the partitions whose preferred
 * replica (assignment[0]) it is but which it does not lead, over all partitions whose preferred
 * replica it is. Above leader.imbalance.per.broker.percentage, each such partition whose preferred
 * replica is live and in the ISR gets it back as leader (leader epoch + 1, ISR unchanged). Without
 * this, leaders stay wherever the last failover put them and pile up on the brokers that never
 * failed. The first check runs one interval after this broker became controller.
 *
 * ElectLeaders (electLeaders()): the same preferred election on request, or an unclean one (any
 * live replica when no ISR member is live), per partition, answered with Kafka's error codes.
 *
 * Every write goes through ClusterStore.controllerTxn(): the transaction compares the controller
 * key's create revision (a deposed controller's writes fail inside etcd) and each partition key's
 * mod revision (a state that changed since we read it, e.g. a leader's ISR CAS, fails the batch; we
 * re-read the mirror and decide again). Up to 127 partitions per transaction: etcd allows 128
 * compares, and one is the controller's.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { Logger } from '../util/logger.js';
import { initialPartitionState } from './placement.js';
import { ClusterStoreClosedError, ETCD_MAX_TXN_OPS, type ClusterStore } from './store.js';
import type { BrokerRegistration, ClusterEvent, PartitionState } from './types.js';

export interface ControllerOptions {
  /** Partitions per etcd transaction (default 127, etcd's 128 minus the controller compare). */
  maxPartitionsPerTxn?: number;
  /** unclean.leader.election.enable for topics without an override (default false). */
  uncleanLeaderElection?: boolean;
  /** How long a partition of a known topic may lack a state before the controller writes one (default 2000 ms). */
  missingStateGraceMs?: number;
  /** auto.leader.rebalance.enable (default true, as Kafka). */
  autoLeaderRebalance?: boolean;
  /** leader.imbalance.check.interval.seconds in ms (default 300 000). */
  leaderImbalanceCheckIntervalMs?: number;
  /** leader.imbalance.per.broker.percentage (default 10). */
  leaderImbalancePerBrokerPercentage?: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** One partition's answer to ElectLeaders (codes as Kafka's ElectLeadersResponse). */
export interface ElectionResult extends TopicPartition {
  errorCode: number;
  errorMessage: string | null;
}

/** ElectLeaders' election_type. */
export type ElectionKind = 0 | 1;
const PREFERRED = 0;

interface PartitionChange {
  topic: string;
  partition: number;
  expectedVersion: number;
  next: Omit<PartitionState, 'version'>;
  unclean: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The decision for one partition, or null when nothing changes (pure: unit-testable). */
export function decidePartition(
  replicas: readonly number[],
  state: PartitionState,
  live: ReadonlyMap<number, unknown> | ReadonlySet<number>,
  controllerEpoch: number,
  unclean: boolean,
): { next: Omit<PartitionState, 'version'>; unclean: boolean } | null {
  const liveIsr = state.isr.filter((id) => live.has(id));
  if (state.leader >= 0 && live.has(state.leader)) {
    if (liveIsr.length === state.isr.length) return null;
    return { next: { leader: state.leader, leaderEpoch: state.leaderEpoch, isr: liveIsr, controllerEpoch }, unclean: false };
  }
  const candidate = replicas.find((r) => liveIsr.includes(r));
  if (candidate !== undefined) {
    return { next: { leader: candidate, leaderEpoch: state.leaderEpoch + 1, isr: liveIsr, controllerEpoch }, unclean: false };
  }
  if (unclean) {
    const any = replicas.find((r) => live.has(r));
    if (any !== undefined) return { next: { leader: any, leaderEpoch: state.leaderEpoch + 1, isr: [any], controllerEpoch }, unclean: true };
  }
  if (state.leader === -1) return null;
  return { next: { leader: -1, leaderEpoch: state.leaderEpoch + 1, isr: [...state.isr], controllerEpoch }, unclean: false };
}

/**
 * Kafka's auto-rebalance decision (pure: unit-testable): the partitions to move back to their
 * preferred replica. Per broker B, imbalance = |partitions preferring B that B does not lead| /
 * |partitions preferring B| (partitions without a state count in neither); above `percentage` %,
 * those of them whose preferred replica B is live and in the ISR are returned.
 */
export function imbalancedPartitions(
  topics: ReadonlyMap<string, { assignment: readonly (readonly number[])[] }>,
  stateOf: (topic: string, partition: number) => Pick<PartitionState, 'leader' | 'isr'> | undefined,
  live: ReadonlyMap<number, unknown> | ReadonlySet<number>,
  percentage: number,
): TopicPartition[] {
  const byPreferred = new Map<number, { total: number; elsewhere: (TopicPartition & { electable: boolean })[] }>();
  for (const [topic, rec] of topics) {
    for (let p = 0; p < rec.assignment.length; p++) {
      const preferred = rec.assignment[p][0];
      const state = stateOf(topic, p);
      if (preferred === undefined || !state) continue;
      let b = byPreferred.get(preferred);
      if (!b) byPreferred.set(preferred, (b = { total: 0, elsewhere: [] }));
      b.total++;
      if (state.leader !== preferred) b.elsewhere.push({ topic, partition: p, electable: live.has(preferred) && state.isr.includes(preferred) });
    }
  }
  const out: TopicPartition[] = [];
  for (const b of byPreferred.values()) {
    if (b.elsewhere.length * 100 <= percentage * b.total) continue; // ratio > percentage / 100, in integers
    for (const e of b.elsewhere) if (e.electable) out.push({ topic: e.topic, partition: e.partition });
  }
  return out;
}

/**
 * ElectLeaders' decision for one partition (pure): the new state, or the error code to answer.
 * PREFERRED: the first assigned replica leads if live and in the ISR. UNCLEAN: only a partition
 * without a live leader; the first live ISR member, else the first live replica with ISR = [it].
 */
export function decideElection(
  kind: ElectionKind,
  replicas: readonly number[],
  state: PartitionState,
  live: ReadonlyMap<number, unknown> | ReadonlySet<number>,
  controllerEpoch: number,
): { next: Omit<PartitionState, 'version'>; unclean: boolean } | { errorCode: number; errorMessage: string } {
  if (kind === PREFERRED) {
    const preferred = replicas[0];
    if (state.leader === preferred && live.has(preferred)) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: `preferred replica ${preferred} already leads` };
    if (!live.has(preferred)) return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: `preferred replica ${preferred} is not live` };
    if (!state.isr.includes(preferred)) return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: `preferred replica ${preferred} is not in the ISR [${state.isr.join(',')}]` };
    return { next: { leader: preferred, leaderEpoch: state.leaderEpoch + 1, isr: [...state.isr], controllerEpoch }, unclean: false };
  }
  if (state.leader >= 0 && live.has(state.leader)) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: `live leader ${state.leader}` };
  const d = decidePartition(replicas, state, live, controllerEpoch, true);
  if (!d || d.next.leader < 0) return { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: `no live replica among [${replicas.join(',')}]` };
  return d;
}

function isTrue(v: unknown): boolean {
  return v === true || v === 'true';
}

export class Controller {
  private readonly log: Logger;
  private readonly maxPerTxn: number;
  private readonly uncleanDefault: boolean;
  private running: Promise<void> | null = null;
  private stopped = false;
  private dirty = false;
  private isActive = false;
  private unsubscribe: (() => void) | null = null;
  private readonly abort = new AbortController();
  private readonly missingGraceMs: number;
  /** `topic/partition` → when a pass first found the topic listing it without a state. */
  private missingSince = new Map<string, number>();
  private missingTimer: NodeJS.Timeout | null = null;
  private readonly autoRebalance: boolean;
  private readonly imbalanceIntervalMs: number;
  private readonly imbalancePercentage: number;
  /** Completed reconcile passes (tests wait on it). */
  passes = 0;
  /** Completed leader-imbalance checks (tests wait on it). */
  imbalanceChecks = 0;

  constructor(
    private readonly store: ClusterStore,
    log: Logger,
    opts: ControllerOptions = {},
  ) {
    this.log = log.child({ component: 'controller' });
    this.maxPerTxn = Math.max(1, Math.min(opts.maxPartitionsPerTxn ?? ETCD_MAX_TXN_OPS - 1, ETCD_MAX_TXN_OPS - 1));
    this.uncleanDefault = opts.uncleanLeaderElection ?? false;
    this.missingGraceMs = opts.missingStateGraceMs ?? 2000;
    this.autoRebalance = opts.autoLeaderRebalance ?? true;
    this.imbalanceIntervalMs = opts.leaderImbalanceCheckIntervalMs ?? 300_000;
    this.imbalancePercentage = opts.leaderImbalancePerBrokerPercentage ?? 10;
  }

  /** This broker is the controller and the loop is acting on it. */
  get active(): boolean {
    return this.isActive && this.store.isController();
  }

  start(): void {
    if (this.running) return;
    this.unsubscribe = this.store.onChange((e: ClusterEvent) => {
      if (e.kind !== 'session') this.dirty = true;
    });
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.missingTimer) clearTimeout(this.missingTimer);
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.store.isController()) await this.store.resign().catch(() => undefined);
    const running = this.running;
    this.running = null;
    if (running) await running; // campaign() ends on the abort; a reconcile pass finishes first
    if (this.store.isController()) await this.store.resign().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const info = await this.store.campaign(this.abort.signal);
        if (this.stopped) break; // stop() resigns
        this.isActive = true;
        this.log.info('acting as controller', { controllerEpoch: info.epoch });
        this.dirty = true;
        // Checks run in this loop, between reconcile passes, so the controller's writes never race each other.
        let nextImbalanceCheck = Date.now() + this.imbalanceIntervalMs;
        while (!this.stopped && this.store.isController()) {
          if (this.dirty) {
            this.dirty = false;
            await this.reconcile();
            continue;
          }
          if (this.autoRebalance && Date.now() >= nextImbalanceCheck) {
            await this.rebalanceLeaders();
            nextImbalanceCheck = Date.now() + this.imbalanceIntervalMs;
            continue;
          }
          await this.store.nextChange(this.autoRebalance ? Math.max(1, Math.min(1000, nextImbalanceCheck - Date.now())) : 1000);
        }
        if (this.isActive) this.log.info('no longer the controller');
      } catch (err) {
        if (err instanceof ClusterStoreClosedError || this.stopped) break;
        this.log.warn('controller loop failed; retrying', { err: String(err) });
        await sleep(500);
      } finally {
        this.isActive = false;
      }
    }
  }

  /** One pass: decide every partition from the mirror and write the changes in fenced batches. */
  private async reconcile(): Promise<void> {
    const epoch = this.store.controllerEpoch;
    if (epoch < 0) return;
    const live = this.store.brokers();
    const changes: PartitionChange[] = [];
    const now = Date.now();
    const missing = new Map<string, number>();
    for (const [name, topic] of this.store.topics()) {
      const unclean = topic.configs['unclean.leader.election.enable'] !== undefined ? isTrue(topic.configs['unclean.leader.election.enable']) : this.uncleanDefault;
      for (let p = 0; p < topic.assignment.length; p++) {
        const state = this.store.partition(name, p);
        if (!state) {
          // Normally the creator's next batch is a moment away; after the grace period the creator
          // is presumed gone half-way and the controller writes the initial state (create-if-absent).
          const key = `${name}/${p}`;
          const since = this.missingSince.get(key) ?? now;
          missing.set(key, since);
          if (now - since >= this.missingGraceMs) {
            const next = { ...initialPartitionState(topic.assignment[p], live, epoch) } as Partial<PartitionState>;
            delete next.version;
            changes.push({ topic: name, partition: p, expectedVersion: 0, next: next as Omit<PartitionState, 'version'>, unclean: false });
          }
          continue;
        }
        const d = decidePartition(topic.assignment[p], state, live, epoch, unclean);
        if (d) changes.push({ topic: name, partition: p, expectedVersion: state.version, next: d.next, unclean: d.unclean });
      }
    }
    this.missingSince = missing;
    if (missing.size > 0 && !this.missingTimer) {
      this.missingTimer = setTimeout(() => {
        this.missingTimer = null;
        this.dirty = true;
      }, this.missingGraceMs);
    }
    for (let i = 0; i < changes.length; i += this.maxPerTxn) {
      const batch = changes.slice(i, i + this.maxPerTxn);
      const txn = this.store.controllerTxn();
      for (const c of batch) txn.putPartition(c.topic, c.partition, c.expectedVersion, c.next);
      const res = await txn.commit();
      if (!res.succeeded) {
        // Deposed, or a state changed under us: re-read the mirror (up to etcd's revision) and decide again.
        if (!this.store.isController()) return;
        this.log.debug('controller batch rejected; deciding again from a fresher mirror', { partitions: batch.length });
        this.dirty = true;
        await this.store.waitForRevision(res.revision, 2000);
        return;
      }
      this.logBatch(batch, live);
      await this.store.waitForRevision(res.revision, 2000);
    }
    this.passes++;
  }

  private logBatch(batch: PartitionChange[], live: ReadonlyMap<number, BrokerRegistration>): void {
    for (const c of batch) {
      const fields = { topic: c.topic, partition: c.partition, leader: c.next.leader, leaderEpoch: c.next.leaderEpoch, isr: c.next.isr.join(',') };
      if (c.unclean) {
        this.log.warn('unclean leader election: a replica outside the ISR leads; acknowledged records may be lost', fields);
      } else if (c.next.leader === -1) {
        this.log.warn('partition offline: no live ISR member can lead', { ...fields, liveBrokers: [...live.keys()].join(',') });
      } else {
        this.log.info('partition state changed by the controller', fields);
      }
    }
  }

  /** One auto-rebalance check: preferred elections for the imbalanced brokers' partitions. */
  private async rebalanceLeaders(): Promise<void> {
    const epoch = this.store.controllerEpoch;
    if (epoch < 0) return;
    const live = this.store.brokers();
    const changes: PartitionChange[] = [];
    for (const tp of imbalancedPartitions(this.store.topics(), (t, p) => this.store.partition(t, p), live, this.imbalancePercentage)) {
      const replicas = this.store.topics().get(tp.topic)!.assignment[tp.partition];
      const state = this.store.partition(tp.topic, tp.partition)!;
      const d = decideElection(PREFERRED, replicas, state, live, epoch);
      if ('next' in d) changes.push({ ...tp, expectedVersion: state.version, next: d.next, unclean: false });
    }
    if (changes.length > 0) {
      this.log.info('leader imbalance above leader.imbalance.per.broker.percentage: moving leaders back to their preferred replicas', { partitions: changes.length });
      // A rejected batch (a state changed meanwhile) waits for the next check, as in Kafka.
      await this.writeChanges(changes, 2000);
    }
    this.imbalanceChecks++;
  }

  /** Writes changes in fenced batches; returns those written and the last revision (0: none). */
  private async writeChanges(changes: PartitionChange[], visibleWithinMs: number): Promise<{ written: PartitionChange[]; revision: number }> {
    const written: PartitionChange[] = [];
    let revision = 0;
    for (let i = 0; i < changes.length; i += this.maxPerTxn) {
      const batch = changes.slice(i, i + this.maxPerTxn);
      const txn = this.store.controllerTxn();
      for (const c of batch) txn.putPartition(c.topic, c.partition, c.expectedVersion, c.next);
      const res = await txn.commit();
      revision = Math.max(revision, res.revision);
      if (!res.succeeded) {
        if (!this.store.isController()) break;
        continue;
      }
      this.logBatch(batch, this.store.brokers());
      written.push(...batch);
    }
    if (revision > 0) await this.store.waitForRevision(revision, visibleWithinMs);
    return { written, revision };
  }

  /**
   * ElectLeaders: elects leaders for `partitions` (null: every partition) and resolves, per
   * partition, with NONE once this broker's mirror shows the new leader (or `timeoutMs` passed),
   * or with the reason no leader was elected. A batch rejected because a state changed meanwhile
   * is decided again from the fresher mirror until `timeoutMs`; then REQUEST_TIMED_OUT. Partitions
   * left when this broker stops being the controller answer NOT_CONTROLLER.
   */
  async electLeaders(kind: ElectionKind, partitions: readonly TopicPartition[] | null, timeoutMs: number): Promise<ElectionResult[]> {
    const deadline = Date.now() + timeoutMs;
    const all = partitions ?? [...this.store.topics()].flatMap(([topic, rec]) => rec.assignment.map((_, partition) => ({ topic, partition })));
    const results = new Map<string, ElectionResult>();
    const answer = (tp: TopicPartition, errorCode: number, errorMessage: string | null): void => {
      results.set(`${tp.topic}/${tp.partition}`, { topic: tp.topic, partition: tp.partition, errorCode, errorMessage });
    };
    // A partition named twice is elected and answered once, as in Kafka (which reads the request
    // into a set); etcd would also refuse a transaction writing one key twice.
    const unique = [...new Map(all.map((tp) => [`${tp.topic}/${tp.partition}`, { topic: tp.topic, partition: tp.partition }])).values()];
    let pending: TopicPartition[] = [...unique];
    let revision = 0;
    while (pending.length > 0) {
      const epoch = this.store.controllerEpoch;
      if (epoch < 0) {
        for (const tp of pending) answer(tp, ErrorCode.NOT_CONTROLLER, 'this broker is no longer the controller');
        break;
      }
      if (Date.now() >= deadline) {
        for (const tp of pending) answer(tp, ErrorCode.REQUEST_TIMED_OUT, `the partition state kept changing for ${timeoutMs} ms`);
        break;
      }
      const live = this.store.brokers();
      const changes: PartitionChange[] = [];
      for (const tp of pending) {
        const replicas = this.store.topics().get(tp.topic)?.assignment[tp.partition];
        const state = this.store.partition(tp.topic, tp.partition);
        if (!replicas) {
          answer(tp, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown partition ${tp.topic}-${tp.partition}`);
          continue;
        }
        if (!state) {
          answer(tp, ErrorCode.LEADER_NOT_AVAILABLE, `${tp.topic}-${tp.partition} has no state yet`);
          continue;
        }
        const d = decideElection(kind, replicas, state, live, epoch);
        if ('next' in d) changes.push({ ...tp, expectedVersion: state.version, next: d.next, unclean: d.unclean });
        else answer(tp, d.errorCode, d.errorMessage);
      }
      const res = await this.writeChanges(changes, Math.max(1, deadline - Date.now()));
      revision = Math.max(revision, res.revision);
      for (const c of res.written) answer(c, ErrorCode.NONE, null);
      const done = new Set(res.written.map((c) => `${c.topic}/${c.partition}`));
      pending = changes.filter((c) => !done.has(`${c.topic}/${c.partition}`)).map((c) => ({ topic: c.topic, partition: c.partition }));
    }
    if (revision > 0) await this.store.waitForRevision(revision, Math.max(1, deadline - Date.now()));
    return unique.map((tp) => results.get(`${tp.topic}/${tp.partition}`)!);
  }

  /**
   * Moves leadership of one partition back to its preferred replica (the first in the assignment)
   * when that replica is live and in the ISR. Returns whether a new leader was written.
   */
  async preferredElection(topic: string, partition: number): Promise<boolean> {
    if (!this.store.isController()) return false;
    const replicas = this.store.topics().get(topic)?.assignment[partition];
    const state = this.store.partition(topic, partition);
    if (!replicas || !state) return false;
    const preferred = replicas[0];
    if (state.leader === preferred || !this.store.brokers().has(preferred) || !state.isr.includes(preferred)) return false;
    const res = await this.store
      .controllerTxn()
      .putPartition(topic, partition, state.version, { leader: preferred, leaderEpoch: state.leaderEpoch + 1, isr: state.isr, controllerEpoch: this.store.controllerEpoch })
      .commit();
    if (res.succeeded) await this.store.waitForRevision(res.revision, 2000);
    return res.succeeded;
  }
}
