/**
 * CreateTopics (key 19), v0-7.
 *
 * Each topic is checked on its own and gets its own error; one bad topic never fails the others.
 * In order:
 * - a name given twice in the request: INVALID_REQUEST for every copy (none is created);
 * - the name (1-249 of [a-zA-Z0-9._-], not "." or ".."), and a name that differs from an existing
 *   topic only in '.' vs '_' (Kafka forbids these: their metric names collide):
 *   INVALID_TOPIC_EXCEPTION; an existing name: TOPIC_ALREADY_EXISTS;
 * - num_partitions: -1 means num.partitions (KIP-464, v4+; accepted at every version, as Kafka
 *   does); 0 or below -1: INVALID_PARTITIONS;
 * - replication_factor: -1 means default.replication.factor; 0 or below -1:
 *   INVALID_REPLICATION_FACTOR; above 1 likewise, with "replication factor N is larger than the 1
 *   available broker(s)": there is one broker;
 * - manual assignments (then num_partitions and replication_factor must both be -1): partitions
 *   0..n-1, each with exactly one replica, this broker: else INVALID_REPLICA_ASSIGNMENT;
 * - configs through the one topic-config parser: unknown name, null or bad value: INVALID_CONFIG;
 *   a name given twice: INVALID_REQUEST.
 * validate_only (v1+) runs every check and answers as if created, without creating (topic_id is
 * then the zero UUID: there is no topic). error_message (v1+) says what was wrong.
 * v5+ answers with the partition count, replication factor and every effective config with its
 * source, as Kafka does (KIP-525); failed topics carry -1, -1 and no configs.
 * Names starting with "__" are allowed (Kafka allows them; they are marked internal).
 * Creation is synchronous, so timeout_ms is not needed and REQUEST_TIMED_OUT never happens.
 * Not implemented: CreateTopicPolicy, quotas (THROTTLING_QUOTA_EXCEEDED, v6+).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { createTopicsApi } from '../../protocol/schemas/create-topics.js';
import { ZERO_UUID } from '../../protocol/uuid.js';
import type { Req } from '../../protocol/schema.js';
import type { Broker } from '../broker.js';
import { KafkaError, toErrorCode } from '../errors.js';
import { defineHandler, repeatedKeys } from '../handler.js';
import { parseOverrides, topicConfigEntries } from '../topic-configs.js';
import { MAX_PARTITIONS_PER_TOPIC, topicNameProblem } from '../topics.js';

type CreatableTopic = Req<typeof createTopicsApi>['topics'][number];

interface Plan {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: ReturnType<typeof parseOverrides>;
  /** Replicas per partition when the client gave them. */
  assignment: number[][] | undefined;
}

/** Validates one topic of the request; throws KafkaError / ConfigError with the reason. */
export function planTopic(broker: Broker, t: CreatableTopic): Plan {
  const nameProblem = topicNameProblem(t.name);
  if (nameProblem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
  if (broker.topics.get(t.name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${t.name} already exists`);
  const collidesWith = collision(broker, t.name);
  if (collidesWith) {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `topic ${t.name} collides with existing topic ${collidesWith}: names may not differ only in '.' and '_'`);
  }

  let partitions: number;
  let replicationFactor: number;
  if (t.assignments.length > 0) {
    if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'num_partitions and replication_factor must be -1 when assignments are given');
    }
    const seen = new Set<number>();
    for (const a of t.assignments) {
      if (seen.has(a.partitionIndex)) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `partition ${a.partitionIndex} is assigned twice`);
      seen.add(a.partitionIndex);
      checkReplicas(broker, a.brokerIds, `partition ${a.partitionIndex}`);
    }
    for (let i = 0; i < t.assignments.length; i++) {
      if (!seen.has(i)) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'assigned partitions must be numbered 0, 1, 2, ... without gaps');
    }
    partitions = t.assignments.length;
    replicationFactor = t.assignments[0]!.brokerIds.length;
  } else {
    partitions = t.numPartitions === -1 ? broker.config.numPartitions : t.numPartitions;
    if (partitions < 1) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `number of partitions must be at least 1 (or -1 for the broker default), not ${t.numPartitions}`);
    }
    replicationFactor = t.replicationFactor === -1 ? broker.config.defaultReplicationFactor : t.replicationFactor;
    if (replicationFactor < 1) {
      throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor must be at least 1 (or -1 for the broker default), not ${t.replicationFactor}`);
    }
    const live = broker.cluster ? broker.cluster.liveBrokers().length : 1;
    if (replicationFactor > live) {
      throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${replicationFactor} is larger than the ${live} available broker(s)`);
    }
  }
  if (partitions > MAX_PARTITIONS_PER_TOPIC) {
    throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `number of partitions ${partitions} is above Brook's limit of ${MAX_PARTITIONS_PER_TOPIC} per topic`);
  }
  const assignment = t.assignments.length > 0 ? [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => a.brokerIds) : undefined;
  return { name: t.name, partitions, replicationFactor, configs: parseOverrides(t.configs), assignment };
}

/** A replica list given by the client: live brokers, each once (one node: exactly [this broker]). */
export function checkReplicas(broker: Broker, brokerIds: readonly number[], what: string): void {
  if (brokerIds.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${what} has no replicas`);
  const live = broker.cluster ? broker.cluster.liveBrokers().map((b) => b.nodeId) : [broker.config.nodeId];
  const unknown = brokerIds.find((b) => !live.includes(b));
  if (unknown !== undefined) {
    const which = broker.cluster ? `the live brokers are ${live.join(', ')}` : `the only broker is ${live[0]}`;
    throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${what} names broker ${unknown}, but ${which}`);
  }
  const twice = brokerIds.find((b, i) => brokerIds.indexOf(b) !== i);
  if (twice !== undefined) {
    const times = brokerIds.filter((b) => b === twice).length;
    throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${what} lists broker ${twice} ${times} times`);
  }
}

/** An existing topic whose name equals `name` once '.' and '_' are treated alike. */
function collision(broker: Broker, name: string): string | undefined {
  if (!/[._]/.test(name)) return undefined;
  const key = name.replace(/\./g, '_');
  for (const t of broker.topics.all()) if (t.name !== name && t.name.replace(/\./g, '_') === key) return t.name;
  return undefined;
}

export const createTopicsHandler = defineHandler({
  api: createTopicsApi,
  minVersion: 0,
  maxVersion: 7,
  async handle(req, { broker }) {
    const repeated = repeatedKeys(req.topics, (t) => t.name);

    const failed = (name: string, errorCode: number, errorMessage: string) => ({
      name,
      topicId: ZERO_UUID,
      errorCode,
      errorMessage,
      numPartitions: -1,
      replicationFactor: -1,
      configs: [],
    });

    // One topic after another: in a cluster each is a transaction in etcd, answered once this
    // broker's mirror has it (so the client's next Metadata here sees it).
    const topics = [];
    for (const t of req.topics) topics.push(await createOne(t));
    return { throttleTimeMs: 0, topics };

    async function createOne(t: CreatableTopic) {
      if (repeated.has(t.name)) return failed(t.name, ErrorCode.INVALID_REQUEST, `topic ${t.name} appears more than once in the request`);
      try {
        const plan = planTopic(broker, t);
        const topic = req.validateOnly
          ? undefined
          : broker.cluster
            ? await broker.cluster.createTopic(plan.name, plan.partitions, plan.replicationFactor, plan.configs, plan.assignment)
            : broker.topics.create(plan.name, plan.partitions, plan.configs);
        return {
          name: t.name,
          topicId: topic?.id ?? ZERO_UUID,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions: plan.partitions,
          replicationFactor: plan.replicationFactor,
          configs: topicConfigEntries(broker.config, plan.configs).map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: c.readOnly,
            configSource: c.configSource,
            isSensitive: c.isSensitive,
          })),
        };
      } catch (e) {
        const { errorCode, message } = toErrorCode(e, broker.log);
        return failed(t.name, errorCode, message);
      }
    }
  },
});
