/**
 * CreatePartitions (key 37), v0-3.
 *
 * `count` is the new total. Partitions only grow: a count at or below the current one is
 * INVALID_PARTITIONS with both numbers in the message. Unknown topic: UNKNOWN_TOPIC_OR_PARTITION;
 * a topic named twice in one request: INVALID_REQUEST for every copy.
 * Assignments (optional) list the replicas of each new partition: exactly one entry per new
 * partition, each exactly [this broker], else INVALID_REPLICA_ASSIGNMENT.
 * validate_only runs every check without adding anything. New partitions start empty at offset 0
 * with the topic's current configs; the new count is persisted in topics.json.
 * Not implemented: quotas (THROTTLING_QUOTA_EXCEEDED, v3).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { createPartitionsApi } from '../../protocol/schemas/create-partitions.js';
import { KafkaError, toErrorCode } from '../errors.js';
import { defineHandler, repeatedKeys } from '../handler.js';
import { checkReplicas } from './create-topics.js';
import { MAX_PARTITIONS_PER_TOPIC } from '../topics.js';

export const createPartitionsHandler = defineHandler({
  api: createPartitionsApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, { broker }) {
    const repeated = repeatedKeys(req.topics, (t) => t.name);
    const results = [];
    for (const t of req.topics) results.push(await growOne(t));
    return { throttleTimeMs: 0, results };

    async function growOne(t: (typeof req.topics)[number]) {
      try {
        if (repeated.has(t.name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `topic ${t.name} appears more than once in the request`);
        const topic = broker.topics.get(t.name);
        if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${t.name}`);
        const current = topic.partitions.length;
        if (t.count <= current) {
          throw new KafkaError(
            ErrorCode.INVALID_PARTITIONS,
            t.count === current
              ? `topic ${t.name} already has ${current} partition(s)`
              : `topic ${t.name} has ${current} partition(s); ${t.count} would not be an increase (partitions cannot be removed)`,
          );
        }
        if (t.count > MAX_PARTITIONS_PER_TOPIC) {
          throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `number of partitions ${t.count} is above Brook's limit of ${MAX_PARTITIONS_PER_TOPIC} per topic`);
        }
        if (t.assignments !== null) {
          const added = t.count - current;
          if (t.assignments.length !== added) {
            throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${added} partition(s) are being added, but ${t.assignments.length} assignment(s) were given`);
          }
          t.assignments.forEach((a, i) => checkReplicas(broker, a.brokerIds, `new partition ${current + i}`));
        }
        if (!req.validateOnly) {
          if (broker.cluster) await broker.cluster.addPartitions(topic, t.count, t.assignments?.map((a) => a.brokerIds));
          else broker.topics.grow(topic, t.count);
        }
        return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
      } catch (e) {
        const { errorCode, message } = toErrorCode(e, broker.log);
        return { name: t.name, errorCode, errorMessage: message };
      }
    }
  },
});
