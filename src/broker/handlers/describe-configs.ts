/**
 * DescribeConfigs (key 32), v0-4.
 *
 * TOPIC resources (type 2): every topic config with its effective value, read_only=false,
 * is_sensitive=false and where it comes from: the topic's override (TOPIC_CONFIG, 1), the broker's
 * `log.*` key set in server.properties or a flag (STATIC_BROKER_CONFIG, 4), or the built-in
 * default (DEFAULT_CONFIG, 5); v0 has only is_default (true unless the topic overrides it).
 * An invalid topic name: INVALID_TOPIC_EXCEPTION; an unknown topic: UNKNOWN_TOPIC_OR_PARTITION.
 * BROKER resources (type 4) named with this broker's id: every broker setting, read-only except
 * the dynamic ones (dynamic-configs.ts), with its source: DYNAMIC_BROKER_CONFIG,
 * DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG or DEFAULT_CONFIG. The empty name is the
 * cluster-wide dynamic default: only the configs set at that level, as in Kafka. Another broker
 * id or a non-numeric name: INVALID_REQUEST, as in Kafka.
 * configuration_keys null or empty means all; unknown keys are left out (Kafka's behaviour).
 * include_synonyms (v1+): every level with a value, highest precedence first (topic override,
 * this broker's dynamic value, the cluster default, static broker key, default). config_type and, with include_documentation, documentation: v3+.
 * See topic-configs.ts for the rendering shared with CreateTopics.
 * Not implemented: BROKER_LOGGER (8), CLIENT_METRICS (16) and GROUP (32) resources: INVALID_REQUEST.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { describeConfigsApi } from '../../protocol/schemas/describe-configs.js';
import { KafkaError, toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';
import { brokerConfigEntries, clusterDefaultConfigEntries, ResourceType, topicConfigEntries, type ConfigEntry, type DescribeOptions } from '../topic-configs.js';
import { topicNameProblem } from '../topics.js';
import type { Broker } from '../broker.js';

/** Resolves a BROKER resource name: this broker's id, or "" for the cluster default. */
export function brokerResource(broker: Broker, name: string): 'self' | 'cluster-default' {
  if (name === '') return 'cluster-default';
  if (!/^-?\d+$/.test(name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `broker id must be an integer, not "${name}"`);
  if (Number(name) !== broker.config.nodeId) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `unexpected broker id ${name}: this broker is ${broker.config.nodeId} (or use "" for the cluster default)`);
  }
  return 'self';
}

function describe(broker: Broker, type: number, name: string, opts: DescribeOptions): ConfigEntry[] {
  switch (type) {
    case ResourceType.TOPIC: {
      const problem = topicNameProblem(name);
      if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
      const topic = broker.topics.get(name);
      if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
      return topicConfigEntries(broker.config, topic.configs, opts);
    }
    case ResourceType.BROKER:
      return brokerResource(broker, name) === 'self' ? brokerConfigEntries(broker, opts) : clusterDefaultConfigEntries(broker.config, opts);
    default:
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `resource type ${type} is not supported by Brook (only topics, 2, and brokers, 4)`);
  }
}

export const describeConfigsHandler = defineHandler({
  api: describeConfigsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { broker }) {
    const opts = { includeSynonyms: req.includeSynonyms, includeDocumentation: req.includeDocumentation };
    return {
      throttleTimeMs: 0,
      results: req.resources.map((r) => {
        const base = { resourceType: r.resourceType, resourceName: r.resourceName };
        try {
          const configs = describe(broker, r.resourceType, r.resourceName, { ...opts, keys: r.configurationKeys });
          return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
        } catch (e) {
          const { errorCode, message } = toErrorCode(e, broker.log);
          return { ...base, errorCode, errorMessage: message, configs: [] };
        }
      }),
    };
  },
});
