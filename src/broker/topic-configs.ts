/**
 * Config entries as the admin APIs show them, and the parsing of config changes: shared by
 * CreateTopics (v5+ echoes the effective configs), DescribeConfigs, AlterConfigs and
 * IncrementalAlterConfigs, so every API renders and validates a config the same way.
 *
 * Sources follow Kafka's precedence for a topic config (ConfigHelper.createTopicConfigEntry):
 * the topic's own override (TOPIC_CONFIG, shown by clients as DYNAMIC_TOPIC_CONFIG), else the
 * broker's `log.*` key set dynamically for this broker (DYNAMIC_BROKER_CONFIG) or as the cluster
 * default (DYNAMIC_DEFAULT_BROKER_CONFIG; dynamic-configs.ts), else that key when
 * server.properties or a flag set it (STATIC_BROKER_CONFIG), else the built-in default
 * (DEFAULT_CONFIG). Synonyms list every level that has a value, highest first. Broker settings
 * other than those topic defaults are read-only.
 *
 * Values are rendered as Kafka renders them (ConfigDef.convertToString): lists joined by ",",
 * doubles with a fraction ("1.0"), and "never" (Long.MAX_VALUE, held as the largest exact double in
 * config.ts) as 9223372036854775807, which parses back to the same value.
 */
import {
  BROKER_DEFS,
  ConfigError,
  DYNAMIC_BROKER_KEYS,
  LONG_MAX,
  parseTopicConfig,
  TOPIC_CONFIGS,
  type BrokerConfig,
  type BrokerKey,
  type Listener,
  type TopicConfigName,
  type TopicOverrides,
} from '../config.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { KafkaError } from './errors.js';

/** DescribeConfigs resource types (Kafka's ConfigResource.Type ids). */
export const ResourceType = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;

/** Where a config value comes from (DescribeConfigsResponse.ConfigSource). */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** A config's value type (DescribeConfigsResponse.ConfigType, DescribeConfigs v3+). */
export const ConfigType = { UNKNOWN: 0, BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 } as const;

/** IncrementalAlterConfigs operations. */
export const AlterOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

const TYPE_OF_KIND: Record<string, number> = {
  int: ConfigType.INT,
  long: ConfigType.LONG,
  double: ConfigType.DOUBLE,
  boolean: ConfigType.BOOLEAN,
  string: ConfigType.STRING,
  list: ConfigType.LIST,
};

/** Topic configs Kafka types as LIST although config.ts parses them as one validated string. */
const LIST_TOPIC_CONFIGS: ReadonlySet<string> = new Set(['cleanup.policy']);

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

/** One config as DescribeConfigs describes it; CreateTopics v5+ uses a subset of the fields. */
export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  /** DescribeConfigs v0 only: true unless the value was set on this resource. */
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: ConfigSynonym[];
  configType: number;
  documentation: string | null;
}

export interface DescribeOptions {
  /** Only these names (unknown names are left out, as Kafka does); null or [] for all. */
  keys: readonly string[] | null;
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}

export const ALL_CONFIGS: DescribeOptions = { keys: null, includeSynonyms: false, includeDocumentation: false };

const LONG_MAX_TEXT = '9223372036854775807';

/** A config value as text, the way Kafka prints it. */
export function renderValue(kind: string, v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'number') {
    if (kind === 'long' && v >= LONG_MAX) return LONG_MAX_TEXT;
    if (kind === 'double' && Number.isInteger(v)) return v.toFixed(1);
    return String(v);
  }
  return String(v);
}

function wanted(opts: DescribeOptions): (name: string) => boolean {
  if (opts.keys === null || opts.keys.length === 0) return () => true;
  const set = new Set(opts.keys);
  return (name) => set.has(name);
}

/** A broker key's dynamic values, highest precedence first: this broker's, then the cluster default. */
function dynamicSynonyms(config: BrokerConfig, key: string, kind: string): ConfigSynonym[] {
  const out: ConfigSynonym[] = [];
  if (Object.hasOwn(config.dynamic.broker, key)) out.push({ name: key, value: renderValue(kind, config.dynamic.broker[key]), source: ConfigSource.DYNAMIC_BROKER_CONFIG });
  if (Object.hasOwn(config.dynamic.clusterDefault, key)) {
    out.push({ name: key, value: renderValue(kind, config.dynamic.clusterDefault[key]), source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
  }
  return out;
}

/** Every topic config (or the asked-for ones) with its effective value for a topic with `overrides`. */
export function topicConfigEntries(config: BrokerConfig, overrides: TopicOverrides, opts: DescribeOptions = ALL_CONFIGS): ConfigEntry[] {
  const include = wanted(opts);
  const out: ConfigEntry[] = [];
  for (const name of Object.keys(TOPIC_CONFIGS) as TopicConfigName[]) {
    if (!include(name)) continue;
    const def = TOPIC_CONFIGS[name];
    const synonyms: ConfigSynonym[] = [];
    if (Object.hasOwn(overrides, name)) synonyms.push({ name, value: renderValue(def.kind, overrides[name]), source: ConfigSource.TOPIC_CONFIG });
    synonyms.push(...dynamicSynonyms(config, def.broker, def.kind));
    if (config.staticTopicDefaults.has(name)) {
      synonyms.push({ name: def.broker, value: renderValue(def.kind, config.staticTopicValues[name]), source: ConfigSource.STATIC_BROKER_CONFIG });
    }
    synonyms.push({ name: def.broker, value: renderValue(def.kind, def.default), source: ConfigSource.DEFAULT_CONFIG });
    out.push({
      name,
      // The effective value, which is the first synonym's except for the normalised broker default
      // of cleanup.policy (config.ts spells "delete,compact" as "compact,delete").
      value: renderValue(def.kind, Object.hasOwn(overrides, name) ? overrides[name] : config.topicDefaults[name]),
      readOnly: false,
      isDefault: !Object.hasOwn(overrides, name),
      configSource: synonyms[0].source,
      isSensitive: false,
      synonyms: opts.includeSynonyms ? synonyms : [],
      configType: LIST_TOPIC_CONFIGS.has(name) ? ConfigType.LIST : TYPE_OF_KIND[def.kind],
      documentation: opts.includeDocumentation ? def.doc : null,
    });
  }
  return out;
}

/** What describing a broker reads: its settings and where clients reach it (the Broker passes itself). */
export interface DescribedBroker {
  readonly config: BrokerConfig;
  readonly advertised: Listener;
}

/**
 * The broker's own settings, as configured (listeners may say port 0: "any free port"), except
 * advertised.listeners, which is what clients are told (the bound port once listening). The
 * dynamic ones (DYNAMIC_BROKER_KEYS) are not read-only and show a dynamic value where one is set:
 * this broker's own (DYNAMIC_BROKER_CONFIG), else the cluster default (DYNAMIC_DEFAULT_BROKER_CONFIG).
 */
export function brokerConfigEntries(broker: DescribedBroker, opts: DescribeOptions = ALL_CONFIGS): ConfigEntry[] {
  const { config } = broker;
  const include = wanted(opts);
  const listener = (l: { name: string; host: string; port: number }) => `${l.name}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
  const live: Record<string, string> = {
    listeners: listener(config.listener),
    'advertised.listeners': listener(broker.advertised),
  };
  const out: ConfigEntry[] = [];
  for (const name of Object.keys(BROKER_DEFS) as BrokerKey[]) {
    if (!include(name)) continue;
    const def = BROKER_DEFS[name];
    const synonyms: ConfigSynonym[] = dynamicSynonyms(config, name, def.kind);
    const staticValue = live[name] ?? renderValue(def.kind, config.raw[name]);
    if (config.explicitKeys.has(name)) synonyms.push({ name, value: staticValue, source: ConfigSource.STATIC_BROKER_CONFIG });
    synonyms.push({ name, value: renderValue(def.kind, def.default), source: ConfigSource.DEFAULT_CONFIG });
    const first = synonyms[0];
    out.push({
      name,
      value: first.source === ConfigSource.DEFAULT_CONFIG ? staticValue : first.value,
      readOnly: !DYNAMIC_BROKER_KEYS.has(name),
      isDefault: first.source === ConfigSource.DEFAULT_CONFIG,
      configSource: first.source,
      isSensitive: false,
      synonyms: opts.includeSynonyms ? synonyms : [],
      configType: TYPE_OF_KIND[def.kind],
      documentation: opts.includeDocumentation ? def.doc : null,
    });
  }
  return out;
}

/** The cluster-wide dynamic defaults (BROKER resource ""): only what is set there, as in Kafka. */
export function clusterDefaultConfigEntries(config: BrokerConfig, opts: DescribeOptions = ALL_CONFIGS): ConfigEntry[] {
  const include = wanted(opts);
  return Object.entries(config.dynamic.clusterDefault)
    .filter(([name]) => include(name) && Object.hasOwn(BROKER_DEFS, name))
    .map(([name, v]) => {
      const def = BROKER_DEFS[name as BrokerKey];
      const value = renderValue(def.kind, v);
      return {
        name,
        value,
        readOnly: false,
        isDefault: false,
        configSource: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
        isSensitive: false,
        synonyms: opts.includeSynonyms ? [{ name, value, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG }] : [],
        configType: TYPE_OF_KIND[def.kind],
        documentation: opts.includeDocumentation ? def.doc : null,
      };
    });
}

// ---------------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------------

/** Fails with INVALID_REQUEST if a config name appears twice in one resource (Kafka's rule). */
export function rejectDuplicateNames(configs: readonly { name: string }[]): void {
  const seen = new Set<string>();
  for (const { name } of configs) {
    if (seen.has(name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `config ${name} appears more than once in the request`);
    seen.add(name);
  }
}

/**
 * A complete override set from name/value pairs (CreateTopics configs, AlterConfigs). Throws
 * ConfigError (INVALID_CONFIG) for an unknown name, a null or unparseable value, and KafkaError
 * (INVALID_REQUEST) for a name given twice.
 */
export function parseOverrides(configs: readonly { name: string; value: string | null }[]): TopicOverrides {
  rejectDuplicateNames(configs);
  const out: TopicOverrides = {};
  for (const { name, value } of configs) out[name as TopicConfigName] = parseTopicConfig(name, value);
  return out;
}

function splitList(s: string | null): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/**
 * Applies IncrementalAlterConfigs operations to a topic's overrides and returns the new set.
 * SET parses the value; DELETE removes the override (back to the broker default); APPEND and
 * SUBTRACT add or remove items of a list config (cleanup.policy), starting from the effective
 * value. The result is validated as a whole, so "SUBTRACT delete" from "delete" (an empty policy)
 * is INVALID_CONFIG.
 */
export function applyIncremental(
  config: BrokerConfig,
  current: TopicOverrides,
  ops: readonly { name: string; configOperation: number; value: string | null }[],
): TopicOverrides {
  rejectDuplicateNames(ops);
  const next: TopicOverrides = { ...current };
  for (const op of ops) {
    const name = op.name;
    // A DELETE of a name that is not set is a no-op, unknown names included, as in Kafka (KRaft
    // writes no record for it): tools that remove a config Kafka has since dropped, say
    // message.format.version, must not fail. Any other operation on an unknown name is refused.
    if (!Object.hasOwn(TOPIC_CONFIGS, name)) {
      if (op.configOperation === AlterOp.DELETE) continue;
      throw new ConfigError(name, `unknown topic config ${name}`);
    }
    const key = name as TopicConfigName;
    switch (op.configOperation) {
      case AlterOp.SET:
        next[key] = parseTopicConfig(name, op.value);
        break;
      case AlterOp.DELETE:
        delete next[key];
        break;
      case AlterOp.APPEND:
      case AlterOp.SUBTRACT: {
        if (!LIST_TOPIC_CONFIGS.has(name)) {
          const verb = op.configOperation === AlterOp.APPEND ? 'APPEND' : 'SUBTRACT';
          throw new ConfigError(name, `${verb} is only allowed for list configs (cleanup.policy), not ${name}`);
        }
        const old = splitList(String(Object.hasOwn(next, key) ? next[key] : config.topicDefaults[key]));
        const items = splitList(op.value);
        const list = op.configOperation === AlterOp.APPEND ? [...old, ...items.filter((x) => !old.includes(x))] : old.filter((x) => !items.includes(x));
        next[key] = parseTopicConfig(name, list.join(','));
        break;
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `unknown config operation ${op.configOperation} for ${name}`);
    }
  }
  return next;
}
