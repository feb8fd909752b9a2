/**
 * Metadata (key 3), v0-12.
 * One node, leader of everything: every partition lists this broker as leader, replica and ISR.
 * In a cluster (broker.cluster): the live brokers, and per partition the leader, epoch, replicas,
 * ISR and offline replicas from etcd; a partition without a live leader has leader -1 and
 * LEADER_NOT_AVAILABLE, and a topic being auto-created LEADER_NOT_AVAILABLE (Kafka's answers).
 * v0: an empty topic list means all topics; v1+: null means all, [] means none.
 * Unknown topics are auto-created when auto.create.topics.enable and (v4+) allow_auto_topic_creation;
 * otherwise UNKNOWN_TOPIC_OR_PARTITION. A name Kafka would reject gets INVALID_TOPIC_EXCEPTION.
 * controller_id is always this broker and cluster_id the stable id from meta.properties (kafkajs
 * and the Java admin client need both).
 * Lookup by topic id (v10+ with a null name) is served too.
 * Not implemented: authorized operations (always "omitted"), racks.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { metadataApi } from '../../protocol/schemas/metadata.js';
import { ZERO_UUID } from '../../protocol/uuid.js';
import type { Broker } from '../broker.js';
import { toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';
import { topicNameProblem, type Topic } from '../topics.js';

function describeTopic(broker: Broker, t: Topic) {
  const node = broker.config.nodeId;
  const cluster = broker.cluster;
  if (cluster) {
    return {
      errorCode: ErrorCode.NONE,
      name: t.name,
      topicId: t.id,
      isInternal: t.internal,
      partitions: t.partitions.map((_, i) => {
        const v = cluster.partitionView(t.name, i);
        return {
          // Kafka: a partition whose leader is not a live broker has leader -1 and this code.
          errorCode: v.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
          partitionIndex: i,
          leaderId: v.leader,
          leaderEpoch: v.leaderEpoch,
          replicaNodes: v.replicas,
          isrNodes: v.isr,
          offlineReplicas: v.offline,
        };
      }),
    };
  }
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: t.internal,
    partitions: t.partitions.map((_, i) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: i,
      leaderId: node,
      leaderEpoch: 0,
      replicaNodes: [node],
      isrNodes: [node],
      offlineReplicas: [],
    })),
  };
}

export const metadataHandler = defineHandler({
  api: metadataApi,
  minVersion: 0,
  maxVersion: 12,
  handle(req, ctx) {
    const { broker, version } = ctx;
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    const topics = [];
    if (all) {
      for (const t of broker.topics.all()) topics.push(describeTopic(broker, t));
    } else {
      for (const wanted of req.topics!) {
        let topic: Topic | undefined;
        let name = wanted.name;
        if (name === null || name === '') {
          topic = broker.topics.byId(wanted.topicId);
          if (!topic) {
            topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: wanted.topicId, partitions: [] });
            continue;
          }
          name = topic.name;
        }
        if (topicNameProblem(name) !== undefined) {
          topics.push({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
        try {
          topic ??= broker.topicOrCreate(name, req.allowAutoTopicCreation);
        } catch (e) {
          // Auto-creation failed (a full disk, say): this topic's error, not the connection's.
          topics.push({ errorCode: toErrorCode(e, broker.log).errorCode, name, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
        const missing = broker.isAutoCreating(name) ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        topics.push(topic ? describeTopic(broker, topic) : { errorCode: missing, name, topicId: ZERO_UUID, partitions: [] });
      }
    }
    const { host, port } = broker.advertised;
    return {
      throttleTimeMs: 0,
      // A cluster lists its live (registered) brokers only, and the controller etcd elected.
      brokers: broker.cluster ? broker.cluster.liveBrokers() : [{ nodeId: broker.config.nodeId, host, port, rack: null }],
      clusterId: broker.clusterId,
      controllerId: broker.cluster ? broker.cluster.controllerId() : broker.config.nodeId,
      topics,
    };
  },
});
