/**
 * AlterConfigs (key 33), v0-2.
 *
 * For a TOPIC resource (type 2) the request's configs become the topic's whole override set:
 * configs left out go back to the broker default (that is this API's meaning; prefer
 * IncrementalAlterConfigs). Every value goes through the one topic-config parser: an unknown
 * name, a null or unparseable value is INVALID_CONFIG with a message naming it; a name given twice
 * is INVALID_REQUEST. The set is validated as a whole before anything changes, then persisted
 * (topics.json) and applied to the open logs (TopicRegistry.setConfigs): segment.bytes,
 * retention.*, max.message.bytes, message.timestamp.type and compression.type take effect on the
 * next append or retention check. validate_only checks without changing anything.
 * Per resource: an invalid name is INVALID_TOPIC_EXCEPTION, an unknown topic
 * UNKNOWN_TOPIC_OR_PARTITION, a resource named twice in one request INVALID_REQUEST.
 * BROKER resources (type 4), named with this broker's id or "" for the cluster default: the
 * request's configs become that level's whole set of dynamic broker configs (dynamic-configs.ts:
 * the topic-config defaults such as log.retention.ms); any other broker setting is INVALID_CONFIG
 * "Cannot update these configs dynamically", an unknown one INVALID_CONFIG, another broker id
 * INVALID_REQUEST. Other resource types get INVALID_REQUEST. AlterConfigPolicy does not exist.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { alterConfigsApi } from '../../protocol/schemas/alter-configs.js';
import type { TopicOverrides } from '../../config.js';
import type { Broker } from '../broker.js';
import { KafkaError, toErrorCode } from '../errors.js';
import { defineHandler, repeatedKeys } from '../handler.js';
import { nextDynamicValues, setDynamicValues } from '../dynamic-configs.js';
import { AlterOp, parseOverrides, ResourceType } from '../topic-configs.js';
import { topicNameProblem, type Topic } from '../topics.js';
import { brokerResource } from './describe-configs.js';

interface Resource {
  resourceType: number;
  resourceName: string;
}

/**
 * The shared body of AlterConfigs and IncrementalAlterConfigs: per resource, find the topic,
 * compute its new override set with `change` (which throws to refuse), and unless validateOnly,
 * persist and apply it; for a BROKER resource (this broker's id, or "" for the cluster default),
 * compute the new dynamic values of that level with `changeBroker` and apply them to every log.
 * Returns the per-resource responses in request order.
 */
export async function alterResources<R extends Resource>(
  broker: Broker,
  resources: readonly R[],
  validateOnly: boolean,
  change: (topic: Topic, r: R) => TopicOverrides,
  changeBroker: (current: Readonly<Record<string, unknown>>, r: R) => Record<string, unknown>,
) {
  const key = (r: Resource) => `${r.resourceType}:${r.resourceName}`;
  const repeated = repeatedKeys(resources, key);
  // In a cluster a topic's configs live in etcd: each change is written there and applied here
  // when the mirror brings it back, one resource after another.
  const pending: Promise<unknown>[] = [];
  const responses = resources.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    try {
      if (repeated.has(key(r))) throw new KafkaError(ErrorCode.INVALID_REQUEST, `resource ${r.resourceName} (type ${r.resourceType}) appears more than once in the request`);
      if (r.resourceType === ResourceType.BROKER) {
        const level = brokerResource(broker, r.resourceName) === 'self' ? 'broker' : 'clusterDefault';
        const next = changeBroker(broker.config.dynamic[level], r);
        if (!validateOnly) {
          setDynamicValues(broker.config, level, next);
          broker.topics.refreshDefaults();
          broker.log.info(`altered dynamic broker configs (${level === 'broker' ? `broker ${broker.config.nodeId}` : 'cluster default'}): ${JSON.stringify(next)}`);
        }
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
      }
      if (r.resourceType !== ResourceType.TOPIC) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `resource type ${r.resourceType} is not supported by Brook (only topics, 2, can be altered)`);
      }
      const problem = topicNameProblem(r.resourceName);
      if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
      const topic = broker.topics.get(r.resourceName);
      if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${r.resourceName}`);
      const next = change(topic, r);
      const answer = { ...base, errorCode: ErrorCode.NONE as number, errorMessage: null as string | null };
      if (!validateOnly) {
        if (broker.cluster) {
          pending.push(
            broker.cluster.setTopicConfigs(topic, next).then(
              () => broker.log.info(`altered configs of topic ${topic.name}: ${JSON.stringify(next)}`),
              (e: unknown) => Object.assign(answer, { errorCode: toErrorCode(e, broker.log).errorCode, errorMessage: (e as Error).message }),
            ),
          );
        } else {
          broker.topics.setConfigs(topic, next);
          broker.log.info(`altered configs of topic ${topic.name}: ${JSON.stringify(next)}`);
        }
      }
      return answer;
    } catch (e) {
      const { errorCode, message } = toErrorCode(e, broker.log);
      return { ...base, errorCode, errorMessage: message };
    }
  });
  await Promise.all(pending);
  return responses;
}

export const alterConfigsHandler = defineHandler({
  api: alterConfigsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, { broker }) {
    return {
      throttleTimeMs: 0,
      responses: await alterResources(
        broker,
        req.resources,
        req.validateOnly,
        (_topic, r) => parseOverrides(r.configs),
        (current, r) => nextDynamicValues(current, r.configs.map((c) => ({ name: c.name, configOperation: AlterOp.SET, value: c.value })), true),
      ),
    };
  },
});
