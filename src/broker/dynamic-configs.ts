/**
 * Dynamic broker configs: the topic-config defaults (log.retention.ms, log.segment.bytes,
 * compression.type, ...) changed at run time through AlterConfigs / IncrementalAlterConfigs on a
 * BROKER resource, either for this broker (resource name = node.id) or as the cluster default
 * (resource name ""), as Kafka's `kafka-configs --entity-type brokers [--entity-default]` does.
 *
 * Precedence, highest first: a topic's own override, this broker's dynamic value, the cluster
 * default, the static setting (server.properties or a flag), the built-in default. Both dynamic
 * levels persist in `<data dir>/broker-configs.json` (replaced atomically: util/fs.ts writeAtomic)
 * and are read back at start, before any log opens; an entry that no longer parses is skipped
 * with a log line rather than stopping the broker.
 *
 * File layout (JSON): { "version": 1, "broker": { key: value }, "clusterDefault": { key: value } },
 * values as parsed (numbers, strings, booleans).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asTopicDefault, ConfigError, DYNAMIC_BROKER_KEYS, isBrokerKey, parseBrokerSetting, TOPIC_CONFIGS, type BrokerConfig, type TopicConfigName, type TopicConfigValue } from '../config.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { writeAtomic } from '../util/fs.js';
import type { Logger } from '../util/logger.js';
import { KafkaError } from './errors.js';
import { AlterOp, rejectDuplicateNames } from './topic-configs.js';

export const DYNAMIC_CONFIG_FILE = 'broker-configs.json';

export type DynamicLevel = 'broker' | 'clusterDefault';

/** Reads the persisted dynamic configs into `config` and recomputes its topic defaults. */
export function loadDynamicConfigs(config: BrokerConfig, log: Logger): void {
  const path = join(config.dataDir, DYNAMIC_CONFIG_FILE);
  if (!existsSync(path)) return;
  let stored: Partial<Record<DynamicLevel, Record<string, unknown>>>;
  try {
    stored = JSON.parse(readFileSync(path, 'utf8')) as typeof stored;
  } catch (e) {
    log.warn(`${path}: unreadable (${(e as Error).message}); dynamic broker configs ignored`);
    return;
  }
  for (const level of ['broker', 'clusterDefault'] as const) {
    for (const [key, value] of Object.entries(stored[level] ?? {})) {
      try {
        if (!DYNAMIC_BROKER_KEYS.has(key)) throw new Error('not a dynamic config');
        config.dynamic[level][key] = parseBrokerSetting(key, String(value));
      } catch (e) {
        log.warn(`${path}: skipping ${level} ${key}=${JSON.stringify(value)}: ${(e as Error).message}`);
      }
    }
  }
  recomputeTopicDefaults(config);
}

/** topicDefaults = static values overlaid by the cluster default, then by this broker's values. */
function recomputeTopicDefaults(config: BrokerConfig): void {
  for (const name of Object.keys(TOPIC_CONFIGS) as TopicConfigName[]) {
    const key = TOPIC_CONFIGS[name].broker;
    const v = (config.dynamic.broker[key] ?? config.dynamic.clusterDefault[key] ?? config.staticTopicValues[name]) as TopicConfigValue;
    config.topicDefaults[name] = asTopicDefault(name, v);
  }
}

/**
 * Computes a level's new values from AlterConfigs (`replace`: the request is the whole new set)
 * or IncrementalAlterConfigs operations. Throws INVALID_CONFIG for unknown or read-only keys and
 * bad values, INVALID_REQUEST for a name given twice or an unknown operation. Changes nothing.
 */
export function nextDynamicValues(
  current: Readonly<Record<string, unknown>>,
  ops: readonly { name: string; configOperation: number; value: string | null }[],
  replace: boolean,
): Record<string, unknown> {
  rejectDuplicateNames(ops);
  const next: Record<string, unknown> = replace ? {} : { ...current };
  const readOnly: string[] = [];
  for (const op of ops) {
    if (!DYNAMIC_BROKER_KEYS.has(op.name)) {
      if (op.configOperation === AlterOp.DELETE) continue; // not set, so nothing to delete, as in Kafka
      if (!isBrokerKey(op.name)) throw new ConfigError(op.name, `unknown broker config ${op.name}`);
      readOnly.push(op.name);
      continue;
    }
    switch (op.configOperation) {
      case AlterOp.SET:
        next[op.name] = parseBrokerSetting(op.name, op.value);
        break;
      case AlterOp.DELETE:
        delete next[op.name];
        break;
      case AlterOp.APPEND:
      case AlterOp.SUBTRACT:
        // The list-typed dynamic keys (log.cleanup.policy) are kept as one normalised string.
        throw new ConfigError(op.name, `${op.configOperation === AlterOp.APPEND ? 'APPEND' : 'SUBTRACT'} is not supported for broker config ${op.name}; SET the whole value`);
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `unknown config operation ${op.configOperation} for ${op.name}`);
    }
  }
  if (readOnly.length > 0) throw new ConfigError(readOnly[0], `Cannot update these configs dynamically: ${readOnly.join(', ')}`);
  return next;
}

/** Replaces one level's values, persists both levels, and recomputes the topic defaults. */
export function setDynamicValues(config: BrokerConfig, level: DynamicLevel, values: Record<string, unknown>): void {
  const path = join(config.dataDir, DYNAMIC_CONFIG_FILE);
  const stored = { version: 1, broker: config.dynamic.broker, clusterDefault: config.dynamic.clusterDefault, [level]: values };
  writeAtomic(path, JSON.stringify(stored, null, 2) + '\n');
  config.dynamic[level] = values;
  recomputeTopicDefaults(config);
}
