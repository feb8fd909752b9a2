/**
 * DeleteTopics (key 20), v0-6.
 *
 * v0-5 name topics; v6 names each topic by name or by topic id (exactly one of them: both or
 * neither is INVALID_REQUEST). Unknown name: UNKNOWN_TOPIC_OR_PARTITION; unknown id:
 * UNKNOWN_TOPIC_ID. A topic named twice in one request: INVALID_REQUEST for every copy.
 * With delete.topic.enable=false: TOPIC_DELETION_DISABLED from v3 (the version that introduced
 * it); older versions get INVALID_REQUEST, as Kafka answers them.
 * Deleting removes the topic from topics.json and renames its directories away before the response
 * (TopicRegistry.delete), so a topic created again under the same name starts empty; the files go
 * after file.delete.delay.ms. timeout_ms is not needed.
 * __consumer_offsets, where the group coordinator keeps committed offsets, and __transaction_state,
 * where the transaction coordinator keeps its transactional ids, are refused with
 * POLICY_VIOLATION: deleting them would silently lose every group's position or transaction.
 * error_message (v5+) says what was wrong; v6 answers with both the name and the id.
 * Not implemented: quotas (THROTTLING_QUOTA_EXCEEDED, v5+).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { deleteTopicsApi } from '../../protocol/schemas/delete-topics.js';
import { ZERO_UUID } from '../../protocol/uuid.js';
import { KafkaError, toErrorCode } from '../errors.js';
import { defineHandler, repeatedKeys } from '../handler.js';
import type { Topic } from '../topics.js';
import { OFFSETS_TOPIC } from '../../coordinator/records.js';
import { TRANSACTION_STATE_TOPIC } from '../../coordinator/transactions/records.js';

interface Wanted {
  name: string | null;
  topicId: string;
}

export const deleteTopicsHandler = defineHandler({
  api: deleteTopicsApi,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, { broker, version }) {
    const wanted: Wanted[] = version >= 6 ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const key = (w: Wanted) => (version < 6 || (w.name !== null && w.name !== '') ? `n:${w.name}` : `i:${w.topicId}`);
    const repeated = repeatedKeys(wanted, key);

    const responses = [];
    for (const w of wanted) {
      let topic: Topic | undefined;
      try {
        const byName = version < 6 || (w.name !== null && w.name !== '');
        const byId = w.topicId !== ZERO_UUID;
        if (byName && byId) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'give a topic name or a topic id, not both');
        if (!byName && !byId) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'neither a topic name nor a topic id was given');
        if (repeated.has(key(w))) throw new KafkaError(ErrorCode.INVALID_REQUEST, `topic ${byName ? w.name : w.topicId} appears more than once in the request`);
        if (!broker.config.deleteTopicEnable) {
          const code = version >= 3 ? ErrorCode.TOPIC_DELETION_DISABLED : ErrorCode.INVALID_REQUEST;
          throw new KafkaError(code, 'topic deletion is disabled on this broker (delete.topic.enable=false)');
        }
        if (byName) {
          topic = broker.topics.get(w.name!);
          if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${w.name}`);
        } else {
          topic = broker.topics.byId(w.topicId);
          if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_ID, `unknown topic id ${w.topicId}`);
        }
        if (topic.name === OFFSETS_TOPIC) {
          throw new KafkaError(ErrorCode.POLICY_VIOLATION, `${OFFSETS_TOPIC} holds the committed offsets of every consumer group and cannot be deleted`);
        }
        if (topic.name === TRANSACTION_STATE_TOPIC) {
          throw new KafkaError(ErrorCode.POLICY_VIOLATION, `${TRANSACTION_STATE_TOPIC} holds the state of every transactional id and cannot be deleted`);
        }
        if (broker.cluster) await broker.cluster.deleteTopic(topic.name);
        else await broker.deleteTopic(topic);
        responses.push({ name: topic.name, topicId: topic.id, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (e) {
        const { errorCode, message } = toErrorCode(e, broker.log);
        // v0-5 need a name in every answer (non-nullable there); v6 echoes what was asked.
        responses.push({ name: topic?.name ?? (version >= 6 ? w.name : (w.name ?? '')), topicId: topic?.id ?? w.topicId, errorCode, errorMessage: message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
