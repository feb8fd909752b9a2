/**
 * What the broker and its handlers ask of cluster membership (src/cluster/node.ts implements it).
 * An interface here so that broker/ stays below cluster/: handlers see partitions by name and
 * index and Kafka error codes, never etcd or fetchers. A single node has no membership
 * (Broker.cluster is undefined) and leads every partition itself at epoch 0.
 *
 * Methods that refuse throw KafkaError with Kafka's code.
 */
import type { TopicOverrides } from '../config.js';
import type { TxnMarker } from './control-records.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { Topic } from './topics.js';

export interface LeaderState {
  highWatermark: number;
  leaderEpoch: number;
}

export interface FollowerFetchAnswer {
  highWatermark: number;
  /** Where the follower's log parts from the leader's (DivergingEpoch); undefined when it does not. */
  diverging: { epoch: number; endOffset: number } | undefined;
}

export interface PartitionView {
  /** -1 when the leader is not a live broker. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offline: number[];
}

export interface LiveBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** Kafka's replication gauges and counters as this broker reports them (metrics). */
export interface ReplicationStats {
  /** Partitions with a replica here. */
  partitions: number;
  /** Partitions led here. */
  leaders: number;
  /** Led here with an ISR smaller than the replica list. */
  underReplicated: number;
  /** 1 on the controller, else 0. */
  activeController: number;
  /** Partitions without a live leader: counted by the controller only (0 elsewhere), as Kafka does. */
  offline: number;
  liveBrokers: number;
  isrShrinks: number;
  isrExpands: number;
}

export interface ClusterMembership {
  replicationStats(): ReplicationStats;
  /** Leader-only requests: NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH otherwise. */
  leader(topic: string, partition: number, currentLeaderEpoch?: number): LeaderState;
  /** acks=all, before appending: NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas. */
  checkIsrForAcksAll(topic: string, partition: number): void;
  /** After a leader append (the HW may move at once). */
  afterLeaderAppend(topic: string, partition: number): void;
  /** acks=all: resolves with NONE or the error code once the HW passed lastOffset (or timeoutMs passed). */
  waitForCommit(topic: string, partition: number, lastOffset: number, timeoutMs: number): Promise<number>;
  /**
   * A follower's fetch at the leader (Fetch with replica id >= 0): checks leadership and the epoch,
   * records the follower's position (HW, ISR), and says where its log diverges.
   */
  followerFetch(
    topic: string,
    partition: number,
    f: { replicaId: number; brokerEpoch: number; fetchOffset: number; logStartOffset: number; currentLeaderEpoch: number; lastFetchedEpoch: number },
  ): FollowerFetchAnswer;
  /** OffsetForLeaderEpoch: { epoch, endOffset } at the leader (any replica for the debugging replica id -2). */
  epochEndOffset(topic: string, partition: number, currentLeaderEpoch: number, leaderEpoch: number, replicaId: number): { epoch: number; endOffset: number };
  partitionView(topic: string, partition: number): PartitionView;
  liveBrokers(): LiveBroker[];
  /** The controller's node id, -1 while none is elected. */
  controllerId(): number;
  allocateProducerId(): Promise<number>;
  /**
   * This broker's high watermark of the log (leader or follower), or undefined when it holds no
   * replica of it: what a reader on this broker may see (the WebSocket gateway).
   */
  highWatermarkOf(log: PartitionLog): number | undefined;
  /** Whether this broker leads the partition now (not fenced). */
  isLeader(topic: string, partition: number): boolean;
  /**
   * Calls `listener` whenever this broker becomes leader of a partition or stops leading it (the
   * group coordinator loads and unloads the groups of a __consumer_offsets partition). Returns the
   * unsubscribe function.
   */
  onLeadershipChange(listener: (topic: string, partition: number, leader: boolean) => void): () => void;
  createTopic(name: string, partitions: number, replicationFactor: number, configs: TopicOverrides, assignment?: number[][]): Promise<Topic>;
  deleteTopic(name: string): Promise<void>;
  addPartitions(topic: Topic, count: number, assignment?: number[][]): Promise<void>;
  setTopicConfigs(topic: Topic, configs: TopicOverrides): Promise<void>;
  /**
   * ElectLeaders at the controller: type 0 PREFERRED, 1 UNCLEAN; null = every partition. Resolves
   * per partition once this broker's mirror shows the new leaders (or `timeoutMs` passed):
   * NONE, ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE or
   * UNKNOWN_TOPIC_OR_PARTITION. NOT_CONTROLLER (thrown) on any other broker.
   */
  electLeaders(
    type: 0 | 1,
    partitions: { topic: string; partition: number }[] | null,
    timeoutMs: number,
  ): Promise<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }[]>;
  /**
   * Transaction markers (the transaction coordinator's WriteTxnMarkers): each partition through its
   * current leader, `local` for those this broker leads, retried across leader moves until
   * `timeoutMs`. Resolves per partition with NONE or the final error code.
   */
  sendTxnMarkers(
    marker: TxnMarker,
    partitions: { topic: string; partition: number }[],
    timeoutMs: number,
    local: (t: { topic: string; partition: number }) => Promise<number>,
  ): Promise<{ topic: string; partition: number; errorCode: number }[]>;
  close(): Promise<void>;
}
