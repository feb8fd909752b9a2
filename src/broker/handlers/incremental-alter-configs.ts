/**
 * IncrementalAlterConfigs (key 44), v0-1.
 *
 * For a TOPIC resource (type 2) each config names an operation on the topic's overrides:
 * SET (0) parses and sets the value; DELETE (1) removes the override, so the broker default
 * applies again; APPEND (2) / SUBTRACT (3) add or remove items of a list config (only
 * cleanup.policy), starting from its effective value; on any other config they are INVALID_CONFIG,
 * as in Kafka. An unknown config name is INVALID_CONFIG, except with DELETE, which is a no-op for
 * any name that is not set, unknown ones included, as in Kafka. A name given
 * twice: INVALID_REQUEST. All operations of a resource apply together or not at all; the result is
 * persisted and applied to the open logs exactly as in AlterConfigs (alter-configs.ts), and
 * validate_only checks without changing anything.
 * Per resource: an invalid name is INVALID_TOPIC_EXCEPTION, an unknown topic
 * UNKNOWN_TOPIC_OR_PARTITION, a resource named twice in one request INVALID_REQUEST.
 * BROKER resources (type 4), this broker's id or "" for the cluster default: SET and DELETE of
 * dynamic broker configs (dynamic-configs.ts), applied to every log at once; APPEND/SUBTRACT and
 * read-only or unknown settings are INVALID_CONFIG. Other resource types get INVALID_REQUEST.
 */
import { incrementalAlterConfigsApi } from '../../protocol/schemas/incremental-alter-configs.js';
import { defineHandler } from '../handler.js';
import { nextDynamicValues } from '../dynamic-configs.js';
import { applyIncremental } from '../topic-configs.js';
import { alterResources } from './alter-configs.js';

export const incrementalAlterConfigsHandler = defineHandler({
  api: incrementalAlterConfigsApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, { broker }) {
    return {
      throttleTimeMs: 0,
      responses: await alterResources(
        broker,
        req.resources,
        req.validateOnly,
        (topic, r) => applyIncremental(broker.config, topic.configs, r.configs),
        (current, r) => nextDynamicValues(current, r.configs, false),
      ),
    };
  },
});
