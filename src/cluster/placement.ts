/**
 * Replica placement: Kafka's round-robin assignment with its rack-aware variant (the behaviour of
 * AdminUtils.assignReplicasToBrokers, written from its documented semantics).
 *
 * Without racks, with n brokers sorted by id:
 *   - partition p's first replica is broker[(p + startIndex) % n] (startIndex random unless fixed),
 *     so leaders spread evenly;
 *   - the other replicas follow the first at a distance of 1 + (shift + j) % (n - 1) for replica j,
 *     where `shift` starts at startIndex and grows by one each time p wraps around n, so that the
 *     followers of one broker's partitions are spread over the others rather than always being
 *     its neighbours.
 * With racks, the broker list is first rearranged so racks alternate (rack a's first broker, rack
 * b's first, ..., rack a's second, ...), the shift is scaled by the rack count, and each further
 * replica is the next candidate in that walk whose rack holds no replica yet (once every rack has
 * one, any rack) and which is not already a replica. Every rack then holds at most ceil(RF/racks)
 * replicas of a partition.
 *
 * Brokers without a rack count as one rack of their own (KRaft's placer does the same; ZooKeeper
 * Kafka refused a mix unless told to ignore racks). When no broker has a rack, the rack-unaware
 * path runs.
 */
import type { PartitionState } from './types.js';

export interface PlacementBroker {
  id: number;
  rack: string | null;
}

/** A placement request that cannot be met; callers map it to a Kafka error code. */
export class PlacementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlacementError';
  }
}

/** More replicas than live brokers, or RF < 1: INVALID_REPLICATION_FACTOR (38). */
export class InvalidReplicationFactorError extends PlacementError {
  readonly errorName = 'INVALID_REPLICATION_FACTOR';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidReplicationFactorError';
  }
}

/** A partition count below 1: INVALID_PARTITIONS (37). */
export class InvalidPartitionsError extends PlacementError {
  readonly errorName = 'INVALID_PARTITIONS';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPartitionsError';
  }
}

/** Index of replica j (j >= 0 counts the replicas after the first) for a first replica at `first`. */
function replicaIndex(first: number, shift: number, j: number, n: number): number {
  return (first + 1 + ((shift + j) % (n - 1))) % n;
}

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

/**
 * Replica lists for `partitions` new partitions, preferred leader first.
 *
 * @param startPartition  id of the first partition placed (0 for a new topic, the current count
 *                        when adding partitions), which continues the round robin where it stopped.
 * @param fixedStartIndex broker index of the first replica of partition 0 and the initial shift
 *                        (random when omitted, as in Kafka); tests fix it for determinism.
 */
export function assignReplicas(
  brokers: readonly PlacementBroker[],
  partitions: number,
  replicationFactor: number,
  startPartition = 0,
  fixedStartIndex?: number,
): number[][] {
  if (!Number.isInteger(partitions) || partitions < 1) throw new InvalidPartitionsError(`number of partitions must be larger than 0, got ${partitions}`);
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new InvalidReplicationFactorError(`replication factor must be larger than 0, got ${replicationFactor}`);
  }
  if (replicationFactor > brokers.length) {
    throw new InvalidReplicationFactorError(`replication factor: ${replicationFactor} larger than available brokers: ${brokers.length}`);
  }
  const sorted = [...brokers].sort((a, b) => a.id - b.id);
  if (sorted.every((b) => b.rack === null)) {
    return assignRackUnaware(sorted.map((b) => b.id), partitions, replicationFactor, startPartition, fixedStartIndex);
  }
  return assignRackAware(sorted, partitions, replicationFactor, startPartition, fixedStartIndex);
}

function assignRackUnaware(ids: number[], partitions: number, rf: number, startPartition: number, fixedStartIndex?: number): number[][] {
  const n = ids.length;
  const startIndex = fixedStartIndex ?? randomIndex(n);
  const baseShift = fixedStartIndex ?? randomIndex(n);
  const out: number[][] = [];
  for (let i = 0, p = Math.max(0, startPartition); i < partitions; i++, p++) {
    // One more shift per completed lap of the brokers (Kafka increments as it goes; computing it
    // from p lets added partitions continue exactly where the original ones stopped).
    const shift = baseShift + Math.floor(p / n);
    const first = (p + startIndex) % n;
    const replicas = [ids[first]];
    for (let j = 0; j < rf - 1; j++) replicas.push(ids[replicaIndex(first, shift, j, n)]);
    out.push(replicas);
  }
  return out;
}

/** Brokers ordered so racks alternate: one from each rack (racks by name), then the next round. */
function rackAlternated(brokers: PlacementBroker[]): PlacementBroker[] {
  const byRack = new Map<string, PlacementBroker[]>();
  for (const b of brokers) {
    const r = b.rack ?? '';
    let list = byRack.get(r);
    if (!list) byRack.set(r, (list = []));
    list.push(b); // brokers arrive sorted by id
  }
  const racks = [...byRack.keys()].sort();
  const out: PlacementBroker[] = [];
  for (let round = 0; out.length < brokers.length; round++) {
    for (const r of racks) {
      const b = byRack.get(r)![round];
      if (b) out.push(b);
    }
  }
  return out;
}

function assignRackAware(sorted: PlacementBroker[], partitions: number, rf: number, startPartition: number, fixedStartIndex?: number): number[][] {
  const arranged = rackAlternated(sorted);
  const n = arranged.length;
  const rackCount = new Set(arranged.map((b) => b.rack ?? '')).size;
  const startIndex = fixedStartIndex ?? randomIndex(n);
  const baseShift = fixedStartIndex ?? randomIndex(n);
  const out: number[][] = [];
  for (let i = 0, p = Math.max(0, startPartition); i < partitions; i++, p++) {
    // One more shift per completed lap of the brokers (Kafka increments as it goes; computing it
    // from p lets added partitions continue exactly where the original ones stopped).
    const shift = baseShift + Math.floor(p / n);
    const first = (p + startIndex) % n;
    const leader = arranged[first];
    const replicas = [leader.id];
    const racksUsed = new Set([leader.rack ?? '']);
    const brokersUsed = new Set([leader.id]);
    let k = 0;
    for (let j = 0; j < rf - 1; j++) {
      for (;;) {
        const b = arranged[replicaIndex(first, shift * rackCount, k, n)];
        k++;
        const rack = b.rack ?? '';
        // Prefer a new rack until every rack has a replica, and never reuse a broker (the
        // "all brokers used" escape cannot trigger: rf <= n was checked).
        if ((!racksUsed.has(rack) || racksUsed.size === rackCount) && !brokersUsed.has(b.id)) {
          replicas.push(b.id);
          racksUsed.add(rack);
          brokersUsed.add(b.id);
          break;
        }
      }
    }
    out.push(replicas);
  }
  return out;
}

/**
 * The state a new partition starts in: the first live replica leads at epoch 0 and every live
 * replica is in the ISR (all logs are empty, so all are caught up). No live replica: leader -1 and
 * the full replica list as ISR, which the controller elects from when one comes up.
 */
export function initialPartitionState(replicas: readonly number[], live: ReadonlySet<number> | ReadonlyMap<number, unknown>, controllerEpoch: number): PartitionState {
  const liveReplicas = replicas.filter((r) => live.has(r));
  return {
    leader: liveReplicas[0] ?? -1,
    leaderEpoch: 0,
    isr: liveReplicas.length > 0 ? liveReplicas : [...replicas],
    controllerEpoch,
    version: 0,
  };
}
