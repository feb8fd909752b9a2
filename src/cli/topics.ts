/**
 * `brook topics`: kafka-topics.sh on our own client, so it works against Apache Kafka and Redpanda
 * too. Flags, checks and output follow Kafka 4.x's TopicCommand (tools/.../TopicCommand.java):
 *
 *   --create    CreateTopics; prints `Created topic T.`; --if-not-exists swallows TOPIC_ALREADY_EXISTS.
 *   --list      every topic name (internal ones too unless --exclude-internal), sorted, one a line.
 *   --describe  Metadata + DescribeConfigs; per topic the tab-separated summary line
 *                 `Topic: T\tTopicId: <base64>\tPartitionCount: N\tReplicationFactor: R\tConfigs: k=v,...`
 *               (Configs: every entry whose source is not DEFAULT_CONFIG, in the broker's order; the
 *               TopicId part is left out for the zero id), then per partition
 *                 `\tTopic: T\tPartition: P\tLeader: L|none\tReplicas: a,b\tIsr: a,b\tElr: N/A\tLastKnownElr: N/A`.
 *               Elr/LastKnownElr come only from DescribeTopicPartitions (KIP-966), which this client
 *               does not send: Kafka's own tool prints `N/A` too when it describes through Metadata.
 *               Replica-reassignment columns (ListPartitionReassignments) are not shown.
 *   --alter     CreatePartitions up to --partitions (topic configs are `brook configs --alter`'s, as in Kafka 4).
 *   --delete    DeleteTopics. --alter and --delete print nothing on success, as Kafka's tool.
 *
 * --topic is a regular expression (matched whole; commas mean "or") except with --create. With no
 * topic matching, --alter/--delete/--describe fail with `Topic 'T' does not exist as expected`
 * unless --if-exists. Exit codes: 0 done, 1 failure (one line on stderr), 2 bad flags.
 * --json (only with --list and --describe) prints the same data as one JSON document.
 * Differences from Kafka's tool: an empty --list prints nothing (Kafka prints an empty line), and the
 * topic-name collision warning ('.' and '_') goes to stderr, not stdout.
 */
import { CliError, helpText, intFlag, keyValues, parseFlags, UsageError, type FlagTable, type ParsedFlags } from './args.js';
import type { Command } from './command.js';
import { CLIENT_FLAGS, clientFrom, HELP_FLAG, JSON_FLAG, out, printJson } from './common.js';
import type { ClusterMetadata, KafkaClient, TopicInfo } from '../kafka/client.js';
import { createPartitions, createTopics, deleteTopics, describeConfigs, ResourceType, type ConfigEntry, type ConfigResourceRef } from '../kafka/admin.js';
import { check, KafkaResponseError } from '../kafka/errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { uuidToKafkaString, ZERO_UUID } from '../protocol/uuid.js';

const ACTIONS = ['create', 'list', 'describe', 'alter', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

const REPORTS = ['under-replicated-partitions', 'unavailable-partitions', 'under-min-isr-partitions', 'at-min-isr-partitions'] as const;

const FLAGS: FlagTable = {
  create: { kind: 'boolean', help: 'create a new topic' },
  list: { kind: 'boolean', help: 'list all available topics' },
  describe: { kind: 'boolean', help: 'list details for the given topics (all when --topic is absent)' },
  alter: { kind: 'boolean', help: 'raise the number of partitions (topic configs: brook configs --alter)' },
  delete: { kind: 'boolean', help: 'delete a topic' },
  topic: { kind: 'string', arg: 'topic', help: 'the topic to create, alter, describe or delete;\na regular expression (matched whole) except with --create' },
  partitions: { kind: 'string', arg: 'n', help: 'partitions of the topic being created (default: the broker\'s num.partitions)\nor the new total with --alter' },
  'replication-factor': { kind: 'string', arg: 'n', help: 'replicas per partition of the topic being created\n(default: the broker\'s default.replication.factor)' },
  'replica-assignment': { kind: 'string', arg: 'b1:b2,b1:b2,...', help: 'broker ids per partition (replicas split by ":", partitions by ",")\nwith --create, or for the new partitions with --alter' },
  config: { kind: 'list', arg: 'name=value', help: 'a topic config override for --create; repeatable' },
  'if-exists': { kind: 'boolean', help: 'with --alter, --delete or --describe: do nothing when no topic matches' },
  'if-not-exists': { kind: 'boolean', help: 'with --create: succeed when the topic already exists' },
  'exclude-internal': { kind: 'boolean', help: 'with --list or --describe: leave out internal topics' },
  'under-replicated-partitions': { kind: 'boolean', help: 'with --describe: only partitions whose ISR is smaller than their replicas' },
  'unavailable-partitions': { kind: 'boolean', help: 'with --describe: only partitions without a live leader' },
  'under-min-isr-partitions': { kind: 'boolean', help: 'with --describe: only partitions whose ISR is below min.insync.replicas' },
  'at-min-isr-partitions': { kind: 'boolean', help: 'with --describe: only partitions whose ISR equals min.insync.replicas' },
  'topics-with-overrides': { kind: 'boolean', help: 'with --describe: only the summary of topics that override a config' },
  ...CLIENT_FLAGS,
  ...JSON_FLAG,
  ...HELP_FLAG,
};

const USAGE = 'brook topics --create|--list|--describe|--alter|--delete [--topic <topic>] [options]';
const DESCRIPTION = `Creates, lists, describes, grows and deletes topics, like Kafka's kafka-topics.sh, on any Kafka-protocol
broker. Output is kafka-topics.sh's; --json (with --list or --describe) prints it as JSON.
Exit codes: 0 success, 1 failure (one line on stderr), 2 bad usage.`;

/** The flags that only make sense with some actions, as TopicCommand.checkInvalidArgs lists them. */
const ALLOWED_WITH: Record<string, readonly Action[]> = {
  config: ['create'],
  partitions: ['create', 'alter'],
  'replication-factor': ['create'],
  'replica-assignment': ['create', 'alter'],
  'if-exists': ['alter', 'delete', 'describe'],
  'if-not-exists': ['create'],
  'exclude-internal': ['list', 'describe'],
  'topics-with-overrides': ['describe'],
  json: ['list', 'describe'],
  ...Object.fromEntries(REPORTS.map((r) => [r, ['describe'] as const])),
};

interface Options {
  action: Action;
  flags: ParsedFlags;
  topic: string | undefined;
  json: boolean;
}

export const command: Command = {
  name: 'topics',
  summary: 'Create, list, describe, alter or delete topics (kafka-topics.sh).',
  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.booleans.has('help')) {
      await out(helpText(USAGE, DESCRIPTION, FLAGS));
      return 0;
    }
    const opts = checkFlags(flags);
    const client = clientFrom(flags);
    try {
      switch (opts.action) {
        case 'create':
          return await create(client, opts);
        case 'list':
          return await list(client, opts);
        case 'describe':
          return await describe(client, opts);
        case 'alter':
          return await alter(client, opts);
        case 'delete':
          return await remove(client, opts);
      }
    } finally {
      client.close();
    }
  },
};

function checkFlags(flags: ParsedFlags): Options {
  const actions = ACTIONS.filter((a) => flags.booleans.has(a));
  if (actions.length !== 1) throw new UsageError('give exactly one action: --list, --describe, --create, --alter or --delete');
  const action = actions[0]!;
  for (const [flag, allowed] of Object.entries(ALLOWED_WITH)) {
    if ((flags.booleans.has(flag) || flags.strings.has(flag) || flags.lists.has(flag)) && !allowed.includes(action)) {
      const hint = flag === 'config' && action === 'alter' ? ' (topic configs are changed with brook configs --alter --entity-type topics)' : '';
      throw new UsageError(`--${flag} cannot be used with --${action}${hint}`);
    }
  }
  const topic = flags.strings.get('topic');
  if (topic === undefined && (action === 'create' || action === 'alter' || action === 'delete')) throw new UsageError(`--${action} needs --topic`);
  if (topic !== undefined && topic.trim() === '') throw new UsageError('--topic must not be empty');
  if (action === 'alter' && !flags.strings.has('partitions')) throw new UsageError('--alter needs --partitions (the new total)');
  if (action === 'create' && flags.strings.has('replica-assignment') && (flags.strings.has('partitions') || flags.strings.has('replication-factor'))) {
    throw new UsageError('--replica-assignment cannot be used with --partitions or --replication-factor when creating a topic');
  }
  if (flags.booleans.has('topics-with-overrides') && REPORTS.some((r) => flags.booleans.has(r))) {
    throw new UsageError(`--topics-with-overrides cannot be used with --${REPORTS.find((r) => flags.booleans.has(r))}`);
  }
  // Validated here so that bad values are usage errors before any connection is made.
  intFlag(flags, 'partitions', 1, 0x7fffffff);
  intFlag(flags, 'replication-factor', 1, 0x7fff);
  replicaAssignment(flags);
  keyValues('config', flags.lists.get('config') ?? []);
  if (action !== 'create' && topic !== undefined) topicFilter(topic);
  return { action, flags, topic, json: flags.booleans.has('json') };
}

/** `1:2,2:3` → [[1,2],[2,3]]: one replica list per partition, all of the same length, no duplicates. */
function replicaAssignment(flags: ParsedFlags): number[][] | undefined {
  const raw = flags.strings.get('replica-assignment');
  if (raw === undefined) return undefined;
  const lists = raw.split(',').map((part, i) => {
    const ids = part.split(':').map((s) => s.trim());
    if (ids.some((id) => !/^\d+$/.test(id))) throw new UsageError(`--replica-assignment: partition ${i} has "${part}", expected broker ids separated by ":"`);
    const nums = ids.map(Number);
    if (new Set(nums).size !== nums.length) throw new UsageError(`--replica-assignment: partition ${i} lists a broker twice (${part})`);
    return nums;
  });
  if (lists.some((l) => l.length !== lists[0]!.length)) throw new UsageError('--replica-assignment: every partition must have the same number of replicas');
  return lists;
}

/**
 * Kafka's topic filter (tools' TopicFilter.IncludeList): quotes and spaces stripped, commas mean
 * "or", and the expression must match the whole name.
 */
function topicFilter(raw: string): (name: string) => boolean {
  const source = raw.trim().replace(/,/g, '|').replace(/ /g, '').replace(/^["']+/, '').replace(/["']+$/, '');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${source})$`, 'u');
  } catch (e) {
    throw new UsageError(`--topic "${raw}" is not a valid regular expression: ${(e as Error).message}`);
  }
  return (name) => re.test(name);
}

/** The topics of `md` that --topic selects (all when absent), sorted by name like Kafka's tool. */
function selectTopics(md: ClusterMetadata, opts: Options): TopicInfo[] {
  const matches = opts.topic === undefined ? () => true : topicFilter(opts.topic);
  const excludeInternal = opts.flags.booleans.has('exclude-internal');
  return [...md.topics.values()].filter((t) => matches(t.name) && !(excludeInternal && t.isInternal)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Kafka's ensureTopicExists: a --topic that matches nothing fails unless --if-exists. */
function ensureFound(found: TopicInfo[], opts: Options): void {
  if (found.length === 0 && opts.topic !== undefined && !opts.flags.booleans.has('if-exists')) {
    throw new CliError(`Topic '${opts.topic}' does not exist as expected`);
  }
}

async function create(client: KafkaClient, opts: Options): Promise<number> {
  const name = opts.topic!;
  if (name.includes('.') || name.includes('_')) {
    process.stderr.write("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\n");
  }
  const assignments = replicaAssignment(opts.flags);
  const [result] = await createTopics(client, [
    {
      name,
      numPartitions: assignments ? -1 : (intFlag(opts.flags, 'partitions', 1) ?? -1),
      replicationFactor: assignments ? -1 : (intFlag(opts.flags, 'replication-factor', 1) ?? -1),
      assignments,
      configs: keyValues('config', (opts.flags.lists.get('config') ?? []).map(trimPair)),
    },
  ]);
  if (!result) throw new CliError(`CreateTopics: the broker did not answer for topic ${name}`);
  if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && opts.flags.booleans.has('if-not-exists')) return 0;
  check(result.errorCode, `cannot create topic ${name}`, result.errorMessage);
  await out(`Created topic ${name}.\n`);
  return 0;
}

/** Kafka splits --config on `\s*=\s*` and trims both sides. */
function trimPair(pair: string): string {
  const eq = pair.indexOf('=');
  return eq < 0 ? pair : `${pair.slice(0, eq).trim()}=${pair.slice(eq + 1).trim()}`;
}

async function list(client: KafkaClient, opts: Options): Promise<number> {
  const names = selectTopics(await client.metadata(null), opts).map((t) => t.name);
  if (opts.json) await printJson(names);
  else if (names.length > 0) await out(names.map((n) => `${n}\n`).join(''));
  return 0;
}

interface PartitionView {
  partition: number;
  leader: number | null;
  replicas: number[];
  isr: number[];
  offline: number[];
}

interface TopicView {
  topic: string;
  topicId: string | null;
  partitionCount: number;
  replicationFactor: number;
  /** The non-default configs, in the broker's order. */
  configs: Record<string, string | null>;
  partitions: PartitionView[];
}

async function describe(client: KafkaClient, opts: Options): Promise<number> {
  const md = await client.metadata(null);
  const topics = selectTopics(md, opts);
  ensureFound(topics, opts);
  if (topics.length === 0) {
    if (opts.json) await printJson([]);
    return 0;
  }
  for (const t of topics) check(t.errorCode, `topic ${t.name}`);
  const refs = new Map<string, ConfigResourceRef>(topics.map((t) => [t.name, { type: ResourceType.TOPIC, name: t.name }]));
  const configs = await describeConfigs(client, [...refs.values()]);
  const live = new Set(md.brokers.keys());

  const flags = opts.flags.booleans;
  const reports = REPORTS.filter((r) => flags.has(r));
  const overridesOnly = flags.has('topics-with-overrides');
  const views: TopicView[] = [];
  const lines: string[] = [];
  for (const t of topics) {
    const entries = configs.get(refs.get(t.name)!) ?? [];
    const nonDefault = entries.filter((e) => !e.isDefault);
    const minIsr = minInSyncReplicas(entries);
    const partitions = t.partitions.filter((p) => reports.length === 0 || reports.some((r) => reportSelects(r, p, live, minIsr)));
    const view: TopicView = {
      topic: t.name,
      topicId: t.topicId === ZERO_UUID ? null : uuidToKafkaString(t.topicId),
      partitionCount: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
      configs: Object.fromEntries(nonDefault.map((e) => [e.name, e.value])),
      partitions: (overridesOnly ? [] : partitions).map((p) => ({ partition: p.partition, leader: p.leader >= 0 ? p.leader : null, replicas: p.replicas, isr: p.isr, offline: p.offline })),
    };
    // TopicCommand: the summary line only without a partition report; with --topics-with-overrides
    // only for topics that override something, and then no partition lines.
    const summary = reports.length === 0 && (!overridesOnly || nonDefault.length > 0);
    if (reports.length > 0 && view.partitions.length === 0) continue;
    if (overridesOnly && !summary) continue;
    views.push(view);
    if (summary) lines.push(summaryLine(view));
    for (const p of view.partitions) lines.push(partitionLine(t.name, p));
  }
  if (opts.json) await printJson(views);
  else if (lines.length > 0) await out(lines.map((l) => `${l}\n`).join(''));
  return 0;
}

function summaryLine(v: TopicView): string {
  const configs = Object.entries(v.configs)
    .map(([k, val]) => `${k}=${val}`)
    .join(',');
  return `Topic: ${v.topic}${v.topicId ? `\tTopicId: ${v.topicId}` : ''}\tPartitionCount: ${v.partitionCount}\tReplicationFactor: ${v.replicationFactor}\tConfigs: ${configs}`;
}

function partitionLine(topic: string, p: PartitionView): string {
  return `\tTopic: ${topic}\tPartition: ${p.partition}\tLeader: ${p.leader ?? 'none'}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\tElr: N/A\tLastKnownElr: N/A`;
}

function minInSyncReplicas(entries: ConfigEntry[]): number {
  const v = entries.find((e) => e.name === 'min.insync.replicas')?.value;
  return v != null && /^\d+$/.test(v) ? Number(v) : 1;
}

/** TopicCommand's PartitionDescription predicates. */
function reportSelects(report: (typeof REPORTS)[number], p: TopicInfo['partitions'][number], live: Set<number>, minIsr: number): boolean {
  const hasLeader = p.leader >= 0;
  switch (report) {
    case 'under-replicated-partitions':
      return p.replicas.length - p.isr.length > 0;
    case 'unavailable-partitions':
      return !hasLeader || !live.has(p.leader);
    case 'under-min-isr-partitions':
      return !hasLeader || p.isr.length < minIsr;
    case 'at-min-isr-partitions':
      return p.isr.length === minIsr;
  }
}

async function alter(client: KafkaClient, opts: Options): Promise<number> {
  const topics = selectTopics(await client.metadata(null), opts);
  ensureFound(topics, opts);
  if (topics.length === 0) return 0;
  const count = intFlag(opts.flags, 'partitions', 1)!;
  const assignment = replicaAssignment(opts.flags);
  const results = await createPartitions(
    client,
    // The assignment lists every partition, as in Kafka's tool; only the new ones are sent.
    topics.map((t) => ({ name: t.name, count, assignments: assignment?.slice(t.partitions.length) })),
  );
  failOnFirst(results, 'cannot add partitions to topic');
  return 0;
}

async function remove(client: KafkaClient, opts: Options): Promise<number> {
  const topics = selectTopics(await client.metadata(null), opts);
  ensureFound(topics, opts);
  if (topics.length === 0) return 0;
  failOnFirst(await deleteTopics(client, topics.map((t) => t.name)), 'cannot delete topic');
  return 0;
}

function failOnFirst(results: { name: string; errorCode: number; errorMessage: string | null }[], what: string): void {
  const failed = results.find((r) => r.errorCode !== 0);
  if (failed) throw new KafkaResponseError(failed.errorCode, `${what} ${failed.name}`, failed.errorMessage);
}
