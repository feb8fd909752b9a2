/**
 * `brook configs`: kafka-configs.sh for topic and broker configs, on our own client (so it works
 * against Apache Kafka and Redpanda too). Output and checks follow Kafka 4.x's ConfigCommand
 * (tools/.../ConfigCommand.java):
 *
 *   --describe  `Dynamic configs for topic T are:` (or `All configs for ...` with --all, or
 *               `Default configs for brokers in the cluster are:` for the cluster default), then per
 *               config, sorted by name: `  name=value sensitive=false synonyms={SOURCE:name=value, ...}`.
 *               Without --all only the entity's own dynamic level is listed (DYNAMIC_TOPIC_CONFIG,
 *               DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG). Without --entity-name: every
 *               topic, or every broker and then the cluster default.
 *   --alter     --add-config k=v,k2=[a,b] (brackets group values with commas) or --add-config-file,
 *               --delete-config k[,k2]: IncrementalAlterConfigs (deletes, then sets), falling back to
 *               AlterConfigs on brokers without it (src/kafka/admin.ts). Deleting a config that is not
 *               set dynamically fails with `Invalid config(s): k`, as in Kafka. Prints
 *               `Completed updating config for topic T.` / `Completed updating default config for
 *               brokers in the cluster.`
 *
 * Entity types: topics and brokers (--entity-type/--entity-name/--entity-default, or the --topic,
 * --broker, --broker-defaults shortcuts). Kafka's other types (clients, users, ips, broker-loggers,
 * client-metrics, groups) are usage errors here.
 * Difference from Kafka's tool: describing a topic or broker that does not exist is a failure (exit 1,
 * with Kafka's sentence `The topic 'T' doesn't exist and doesn't have dynamic config.`), where Kafka
 * prints that sentence and exits 0.
 */
import { readFileSync } from 'node:fs';
import { CliError, helpText, parseFlags, UsageError, type FlagTable, type ParsedFlags } from './args.js';
import type { Command } from './command.js';
import { CLIENT_FLAGS, clientFrom, HELP_FLAG, JSON_FLAG, out, printJson } from './common.js';
import { parseProperties } from '../config.js';
import type { KafkaClient } from '../kafka/client.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { alterConfigs, describeConfigs, dynamicSource, ResourceType, type ConfigEntry, type ConfigOp, type ConfigResourceRef } from '../kafka/admin.js';

const FLAGS: FlagTable = {
  describe: { kind: 'boolean', help: 'list configs for the given entity' },
  alter: { kind: 'boolean', help: 'alter the configuration of the entity' },
  all: { kind: 'boolean', help: 'with --describe: every config, not only the dynamic ones' },
  'entity-type': { kind: 'string', arg: 'topics|brokers', help: 'type of entity' },
  'entity-name': { kind: 'string', arg: 'name', help: 'topic name or broker id' },
  'entity-default': { kind: 'boolean', help: 'the cluster-wide default (brokers)' },
  topic: { kind: 'string', arg: 'topic', help: 'same as --entity-type topics --entity-name <topic>' },
  broker: { kind: 'string', arg: 'id', help: 'same as --entity-type brokers --entity-name <id>' },
  'broker-defaults': { kind: 'boolean', help: 'same as --entity-type brokers --entity-default' },
  'add-config': { kind: 'string', arg: 'k1=v1,k2=[v1,v2],...', help: 'configs to set; square brackets group a value that contains commas' },
  'add-config-file': { kind: 'string', arg: 'file', help: 'a properties file of configs to set' },
  'delete-config': { kind: 'list', arg: 'k1,k2', help: 'configs to remove (back to the inherited value); repeatable' },
  ...CLIENT_FLAGS,
  ...JSON_FLAG,
  ...HELP_FLAG,
};

const USAGE = 'brook configs --describe|--alter --entity-type topics|brokers (--entity-name <name> | --entity-default) [options]';
const DESCRIPTION = `Describes and alters topic and broker configs, like Kafka's kafka-configs.sh, on any Kafka-protocol
broker. --json (with --describe) prints the configs as JSON.
Exit codes: 0 success, 1 failure (one line on stderr), 2 bad usage.`;

type EntityType = 'topics' | 'brokers';

interface Entity {
  type: EntityType;
  /** undefined: every entity of the type (describe only); '' : the cluster default (brokers). */
  name: string | undefined;
}

export const command: Command = {
  name: 'configs',
  summary: 'Describe or alter topic and broker configs (kafka-configs.sh).',
  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.booleans.has('help')) {
      await out(helpText(USAGE, DESCRIPTION, FLAGS));
      return 0;
    }
    const describing = flags.booleans.has('describe');
    if (describing === flags.booleans.has('alter')) throw new UsageError('give exactly one action: --describe or --alter');
    const entity = entityOf(flags, describing);
    if (describing) {
      for (const f of ['add-config', 'add-config-file', 'delete-config']) if (flags.strings.has(f) || flags.lists.has(f)) throw new UsageError(`--${f} cannot be used with --describe`);
    } else {
      for (const f of ['all', 'json']) if (flags.booleans.has(f)) throw new UsageError(`--${f} cannot be used with --alter`);
    }
    const ops = describing ? [] : alterOps(flags);
    const client = clientFrom(flags);
    try {
      if (describing) return await describe(client, entity, flags.booleans.has('all'), flags.booleans.has('json'));
      return await alter(client, entity, ops);
    } finally {
      client.close();
    }
  },
};

/** The one entity the flags name, checked as ConfigCommandOptions.checkArgs does. */
function entityOf(flags: ParsedFlags, describing: boolean): Entity {
  const generic = flags.strings.has('entity-type') || flags.strings.has('entity-name') || flags.booleans.has('entity-default');
  const shortcuts = ['topic', 'broker', 'broker-defaults'].filter((f) => flags.strings.has(f) || flags.booleans.has(f));
  if (generic && shortcuts.length > 0) throw new UsageError('--entity-{type,name,default} should not be used in conjunction with specific entity flags');
  if (shortcuts.length > 1) throw new UsageError(`only one entity may be given (got --${shortcuts.join(' and --')})`);
  let entity: Entity;
  if (shortcuts.length === 1) {
    const f = shortcuts[0]!;
    entity = f === 'topic' ? { type: 'topics', name: flags.strings.get('topic')! } : f === 'broker' ? { type: 'brokers', name: flags.strings.get('broker')! } : { type: 'brokers', name: '' };
  } else {
    const type = flags.strings.get('entity-type');
    if (type === undefined) throw new UsageError('give an entity: --entity-type topics|brokers (or --topic, --broker, --broker-defaults)');
    if (type !== 'topics' && type !== 'brokers') {
      const kafkaTypes = ['clients', 'users', 'ips', 'broker-loggers', 'client-metrics', 'groups'];
      throw new UsageError(kafkaTypes.includes(type) ? `entity type ${type} is not supported by brook configs (topics, brokers)` : `invalid entity type ${type}: expected topics or brokers`);
    }
    const name = flags.strings.get('entity-name');
    const byDefault = flags.booleans.has('entity-default');
    if (name !== undefined && byDefault) throw new UsageError('give --entity-name or --entity-default, not both');
    if (byDefault && type !== 'brokers') throw new UsageError(`--entity-default is not allowed with --entity-type ${type}`);
    entity = { type, name: byDefault ? '' : name };
  }
  if (entity.type === 'brokers' && entity.name && !/^\d+$/.test(entity.name)) {
    throw new UsageError(`The entity name for brokers must be a valid integer broker id, but it is: ${entity.name}`);
  }
  if (entity.type === 'topics' && entity.name === '') throw new UsageError('the topic name must not be empty');
  if (!describing && entity.name === undefined) {
    throw new UsageError(entity.type === 'brokers' ? 'An entity-name or default entity must be specified with --alter of brokers' : 'An entity name must be specified with --alter of topics');
  }
  return entity;
}

/**
 * --add-config as ConfigCommand.parseConfigsToBeAdded reads it: pairs split on commas outside
 * square brackets, key and value split on the first `=` outside brackets, brackets then removed
 * from the value (`k=[a,b]` sets `a,b`); a value may be empty (`k=`).
 */
export function splitAddConfig(raw: string): Map<string, string> {
  const pairs: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      pairs.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  pairs.push(raw.slice(start));
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const open = pair.indexOf('[');
    if (eq <= 0 || (open >= 0 && open < eq)) {
      throw new UsageError(`--add-config: "${pair}" is not key=val (use key=[val1,val2] for values that contain commas)`);
    }
    out.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).replace(/[[\]]/g, '').trim());
  }
  return out;
}

function alterOps(flags: ParsedFlags): ConfigOp[] {
  const addRaw = flags.strings.get('add-config');
  const file = flags.strings.get('add-config-file');
  const deletes = (flags.lists.get('delete-config') ?? []).flatMap((v) => v.split(',')).map((k) => k.trim()).filter((k) => k !== '');
  if (addRaw !== undefined && file !== undefined) throw new UsageError('Only one of --add-config or --add-config-file must be specified');
  if (addRaw === undefined && file === undefined && deletes.length === 0) throw new UsageError('At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter');
  let adds = new Map<string, string>();
  if (addRaw !== undefined) adds = splitAddConfig(addRaw);
  if (file !== undefined) {
    try {
      adds = parseProperties(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read --add-config-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  for (const key of [...adds.keys(), ...deletes]) {
    // Kafka's validatePropsKey ('$' for logger names of inner classes).
    if (!/^[$a-zA-Z0-9._-]+$/.test(key)) throw new UsageError(`Invalid character found for config key: ${key}`);
  }
  // Deletes first, then sets, as Kafka's tool sends them.
  return [...deletes.map((name): ConfigOp => ({ op: 'delete', name })), ...[...adds].map(([name, value]): ConfigOp => ({ op: 'set', name, value }))];
}

function ref(entity: Entity, name: string): ConfigResourceRef {
  return { type: entity.type === 'topics' ? ResourceType.TOPIC : ResourceType.BROKER, name };
}

/** The entity names to describe, after checking a named one exists (Kafka's describeResourceConfig). */
async function entityNames(client: KafkaClient, entity: Entity, all: boolean): Promise<string[]> {
  if (entity.name === '') return [''];
  const md = await client.metadata(entity.type === 'topics' && entity.name === undefined ? null : entity.type === 'topics' ? [entity.name!] : []);
  if (entity.type === 'topics') {
    if (entity.name === undefined) return [...md.topics.keys()].sort();
    const t = md.topics.get(entity.name);
    if (!all && (!t || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)) throw new CliError(`The topic '${entity.name}' doesn't exist and doesn't have dynamic config.`);
    return [entity.name];
  }
  const ids = [...md.brokers.keys()].sort((a, b) => a - b).map(String);
  if (entity.name === undefined) return [...ids, ''];
  if (!all && !ids.includes(entity.name)) throw new CliError(`The broker '${entity.name}' doesn't exist and doesn't have dynamic config.`);
  return [entity.name];
}

async function describe(client: KafkaClient, entity: Entity, all: boolean, json: boolean): Promise<number> {
  const names = await entityNames(client, entity, all);
  const refs = names.map((n) => ref(entity, n));
  const configs = await describeConfigs(client, refs, { includeSynonyms: true });
  const singular = entity.type === 'topics' ? 'topic' : 'broker';
  const lines: string[] = [];
  const docs: unknown[] = [];
  for (const r of refs) {
    const entries = (configs.get(r) ?? []).filter((e) => all || e.source === dynamicSource(r)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    lines.push(r.name === '' ? `Default configs for ${entity.type} in the cluster are:` : `${all ? 'All' : 'Dynamic'} configs for ${singular} ${r.name} are:`);
    for (const e of entries) lines.push(entryLine(e));
    docs.push({ entityType: entity.type, entityName: r.name === '' ? null : r.name, configs: entries });
  }
  if (json) await printJson(docs);
  else await out(lines.map((l) => `${l}\n`).join(''));
  return 0;
}

/** ConfigCommand's line; Java prints a null value (sensitive or unset) as `null`. */
function entryLine(e: ConfigEntry): string {
  const synonyms = e.synonyms.map((s) => `${s.source}:${s.name}=${s.value}`).join(', ');
  return `  ${e.name}=${e.value} sensitive=${e.isSensitive} synonyms={${synonyms}}`;
}

async function alter(client: KafkaClient, entity: Entity, ops: ConfigOp[]): Promise<number> {
  const r = ref(entity, entity.name!);
  const deletes = ops.filter((o) => o.op === 'delete').map((o) => o.name);
  if (deletes.length > 0) {
    // Kafka's tool refuses to delete what the entity does not set itself.
    const current = (await describeConfigs(client, [r])).get(r) ?? [];
    const set = new Set(current.filter((e) => e.source === dynamicSource(r)).map((e) => e.name));
    const invalid = deletes.filter((k) => !set.has(k));
    if (invalid.length > 0) throw new CliError(`Invalid config(s): ${invalid.join(',')}`);
  }
  await alterConfigs(client, r, ops);
  await out(r.name === '' ? `Completed updating default config for ${entity.type} in the cluster.\n` : `Completed updating config for ${entity.type === 'topics' ? 'topic' : 'broker'} ${r.name}.\n`);
  return 0;
}
