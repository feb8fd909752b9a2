/**
 * The cluster's metadata as etcd holds it and every broker mirrors it (docs/cluster.md). Kafka's
 * ZooKeeper layout, ported to keys under `/brook/<cluster-id>/` (values are JSON):
 *
 *   /brook/cluster_id                          the cluster id (created once, by the first broker)
 *   /brook/<cid>/brokers/ids/<nodeId>          BrokerRegistration, bound to the broker's lease; the
 *                                              key's create revision is the broker epoch
 *   /brook/<cid>/controller                    { nodeId }, bound to the controller's lease
 *   /brook/<cid>/controller_epoch              { epoch }: bumped by every new controller
 *   /brook/<cid>/topics/<name>                 TopicRecord without the name
 *   /brook/<cid>/partitions/<name>/<p>         PartitionState without `version`
 *   /brook/<cid>/producer_id_block             { brokerId, start, end }: the last block handed out
 *   /brook/<cid>/configs/brokers/<id|default>  dynamic broker configs (not used yet)
 *
 * Partition state lives beside, not under, its topic so that a prefix read of topics/ returns topics
 * only. Every controller write is a transaction that compares the controller key's create revision
 * (a paused controller's writes fail inside etcd); every ISR change by a leader compares the
 * partition key's mod revision (`version`).
 */
import type { TopicOverrides } from '../config.js';

export interface BrokerRegistration {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** Broker epoch: the registration key's etcd create revision (filled in when read). */
  epoch: number;
}

export interface TopicRecord {
  name: string;
  /** Kafka topic id (UUID string), fixed at creation. */
  id: string;
  /** Replicas per partition, preferred leader first. Length = partition count. */
  assignment: number[][];
  configs: TopicOverrides;
}

export interface PartitionState {
  /** Leader node id, or -1 when no live ISR member can lead. */
  leader: number;
  /** Bumped by every leader change: the fencing token of the data path. */
  leaderEpoch: number;
  isr: number[];
  /** The controller epoch that last elected a leader here (ISR changes by leaders keep it). */
  controllerEpoch: number;
  /** etcd mod revision of the key (filled in when read): the compare value of an ISR change. */
  version: number;
}

export interface ControllerInfo {
  nodeId: number;
  epoch: number;
}

/** What changed in the mirrored metadata (ClusterStore.onChange). */
export type ClusterEvent =
  | { kind: 'brokers' }
  | { kind: 'controller'; controller: ControllerInfo | null }
  | { kind: 'topic'; name: string; topic: TopicRecord | undefined }
  | { kind: 'partition'; topic: string; partition: number; state: PartitionState | undefined }
  /** The store re-read everything (start, or a watch that lost its place): re-check all state. */
  | { kind: 'resync' }
  /** This broker's session: lost = the lease could not be renewed in time (fence), regained = re-registered with a new epoch. */
  | { kind: 'session'; live: boolean };

export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
