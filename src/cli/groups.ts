/**
 * `brook groups`: kafka-consumer-groups.sh. List groups, describe them (offsets and lag, members,
 * state), reset their committed offsets, delete them; a Kafka client on our own codec
 * (src/kafka/groups-admin.ts), so it works against Apache Kafka and Redpanda too.
 *
 * Text output is Kafka's (ConsumerGroupCommand, Kafka 3.7 to 4.x): the same columns, the same
 * printf widths (a column is at least 15 wide, or its widest cell; PARTITION 10; the offsets 15),
 * the blank line before each table, `-` for a missing value, and the same notes ("Consumer group 'G'
 * has no active members." on stderr, "Error: Consumer group 'G' does not exist." on stdout). Where
 * the versions differ, Kafka 4's shape is used (`--state`: `host:port  (id)`, GROUP sized by the group
 * ids, which 3.x sized by the coordinator; the reset plan's columns sized by their cells, not 30
 * wide), except `--members --verbose`: the classic groups' ASSIGNMENT column (`topic(0,1)`) of 3.x,
 * not Kafka 4's CURRENT-/TARGET- epoch columns, which only KIP-848 groups fill.
 *
 * Where Brook differs from Kafka's tool, for scripts: a refused reset (group not inactive), a failed
 * deletion and any request error exit 1 with one line on stderr (Kafka prints "Error: ..." and exits 0);
 * bad flag combinations exit 2. Describing a group that does not exist prints Kafka's error line and
 * exits 0, as Kafka does (with --all-groups a group can vanish between list and describe). Warnings
 * Kafka prints on stdout during a reset (empty partition fallbacks) go to stderr here, so the plan
 * on stdout stays a table (or JSON).
 */
import { errorMessage, errorName } from '../protocol/error-codes.js';
import type { TopicPartition } from '../coordinator/assignors.js';
import { commitOffsets, committedOffsets, compareTp, deleteGroups, describeGroups, GROUP_STATES, listGroups, type CommittedOffset, type GroupDescription } from '../kafka/groups-admin.js';
import { EARLIEST, LATEST, listOffsets, tpKey, tpName, type LogOffsetResult } from '../kafka/offsets.js';
import type { KafkaClient } from '../kafka/client.js';
import { CliError, helpText, parseFlags, UsageError, type FlagTable, type ParsedFlags } from './args.js';
import type { Command } from './command.js';
import { CLIENT_FLAGS, clientFrom, HELP_FLAG, JSON_FLAG, out, printJson } from './common.js';

const ACTIONS = ['list', 'describe', 'delete', 'reset-offsets'] as const;
const SCENARIOS = ['to-datetime', 'by-duration', 'to-earliest', 'to-latest', 'shift-by', 'to-current', 'to-offset'] as const;
const MISSING = '-';

const FLAGS: FlagTable = {
  list: { kind: 'boolean', help: 'list all consumer groups' },
  describe: { kind: 'boolean', help: 'describe groups: offsets and lag (default), --members or --state' },
  delete: { kind: 'boolean', help: 'delete groups (only groups without active members)' },
  'reset-offsets': {
    kind: 'boolean',
    help: 'reset the committed offsets of inactive groups: one scenario (--to-...,\n--shift-by, --by-duration), one scope (--all-topics or --topic), and\n--dry-run (the default: print the plan) or --execute',
  },
  group: { kind: 'list', arg: 'group', help: 'the consumer group to act on; repeatable' },
  'all-groups': { kind: 'boolean', help: 'act on every consumer group (describe, delete, reset-offsets)' },
  topic: { kind: 'list', arg: 'topic[:p,p...]', help: 'reset scope: a topic, or some of its partitions (topic:0,1,2); repeatable' },
  'all-topics': { kind: 'boolean', help: 'reset scope: every partition the group has a committed offset for' },
  offsets: { kind: 'boolean', help: 'with --describe: partitions with offsets and lag (the default)' },
  members: { kind: 'boolean', help: 'with --describe: the members and how many partitions each has' },
  state: { kind: 'boolean', arg: 'states', help: 'with --describe: the group state; with --list: show states, or only\nthose listed (--state stable,empty)' },
  verbose: { kind: 'boolean', help: 'with --describe: more columns (--members: the assignment;\n--offsets: the leader epoch)' },
  'dry-run': { kind: 'boolean', help: 'reset-offsets: print the plan, change nothing (the default)' },
  execute: { kind: 'boolean', help: 'reset-offsets: commit the plan' },
  'to-earliest': { kind: 'boolean', help: 'reset to the log start offset' },
  'to-latest': { kind: 'boolean', help: 'reset to the log end offset' },
  'to-current': { kind: 'boolean', help: 'reset to the committed offset (the log end where none)' },
  'to-offset': { kind: 'string', arg: 'offset', help: 'reset to this offset (kept within the log start and end)' },
  'shift-by': { kind: 'string', arg: 'n', help: 'move the committed offset by n, negative or positive\n(kept within the log)' },
  'to-datetime': { kind: 'string', arg: 'YYYY-MM-DDTHH:mm:SS.sss', help: 'reset to the first offset at or after this time\n(UTC, or with a zone: Z, +hh, +hhmm, +hh:mm)' },
  'by-duration': { kind: 'string', arg: 'PnDTnHnMnS', help: 'reset to the first offset at or after now minus this duration' },
  ...CLIENT_FLAGS,
  timeout: { kind: 'string', arg: 'ms', help: "Kafka's name for --timeout-ms" },
  ...JSON_FLAG,
  ...HELP_FLAG,
};

const USAGE = 'brook groups --list | --describe | --delete | --reset-offsets [options]';
const DESCRIPTION = `List, describe, delete consumer groups and reset their offsets: kafka-consumer-groups.sh.

  brook groups --list [--state [stable,empty]]
  brook groups --describe --group G [--offsets | --members | --state] [--verbose]
  brook groups --reset-offsets --group G --topic T --to-earliest --dry-run | --execute
  brook groups --delete --group G`;

export const command: Command = {
  name: 'groups',
  summary: 'List, describe, delete consumer groups and reset their offsets (kafka-consumer-groups.sh).',
  async run(argv) {
    const { args, stateValue } = takeStateValue(argv);
    const flags = parseFlags(args, FLAGS);
    if (flags.booleans.has('help')) {
      await out(helpText(USAGE, DESCRIPTION, FLAGS));
      return 0;
    }
    const opts = validate(flags, stateValue);
    const client = clientFrom(flags);
    try {
      switch (opts.action) {
        case 'list':
          return await list(client, opts);
        case 'describe':
          return await describe(client, opts);
        case 'delete':
          return await remove(client, opts);
        case 'reset-offsets':
          return await reset(client, opts);
      }
    } finally {
      client.close();
    }
  },
};

// ------------------------------------------------------------------------------------ flags

type Action = (typeof ACTIONS)[number];
type Scenario = (typeof SCENARIOS)[number];

interface Options {
  action: Action;
  flags: ParsedFlags;
  groups: string[];
  allGroups: boolean;
  json: boolean;
  verbose: boolean;
  view: 'offsets' | 'members' | 'state';
  /** --list --state: null without the flag, [] for every state, else Kafka's state names. */
  listStates: string[] | null;
  scenario?: Scenario;
  /** The scenario's value: an offset or shift (bigint) or a timestamp in ms (number). */
  scenarioValue?: bigint | number;
  execute: boolean;
  /** --topic arguments: whole topics, and topics with listed partitions. */
  topics: { topic: string; partitions: number[] | null }[];
  allTopics: boolean;
}

/**
 * `--state` takes an optional value in Kafka (`--list --state stable,empty`, `--describe --state`),
 * which the shared parser has no kind for: take the value out here, leave the flag as a boolean.
 */
function takeStateValue(argv: string[]): { args: string[]; stateValue: string | undefined } {
  const args: string[] = [];
  let stateValue: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token.startsWith('--state=')) {
      stateValue = token.slice('--state='.length);
      args.push('--state');
    } else if (token === '--state' && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
      stateValue = argv[++i];
      args.push('--state');
    } else args.push(token);
  }
  return { args, stateValue };
}

/** Kafka's checkArgs, as usage errors (exit 2). */
function validate(flags: ParsedFlags, stateValue: string | undefined): Options {
  const has = (f: string) => flags.booleans.has(f) || flags.strings.has(f) || flags.lists.has(f);
  const actions = ACTIONS.filter(has);
  if (actions.length !== 1) throw new UsageError(`Command must include exactly one action: ${ACTIONS.map((a) => `--${a}`).join(', ')}`);
  const action = actions[0]!;
  const onlyWith = (flag: string, ...allowed: Action[]) => {
    if (has(flag) && !allowed.includes(action)) throw new UsageError(`--${flag} can only be used with ${allowed.map((a) => `--${a}`).join(' or ')}`);
  };
  for (const f of ['members', 'offsets', 'verbose']) onlyWith(f, 'describe');
  onlyWith('state', 'describe', 'list');
  onlyWith('group', 'describe', 'delete', 'reset-offsets');
  onlyWith('all-groups', 'describe', 'delete', 'reset-offsets');
  for (const f of ['all-topics', 'dry-run', 'execute', ...SCENARIOS]) onlyWith(f, 'reset-offsets');
  if (has('topic') && action === 'delete') throw new UsageError('The consumer does not support topic-specific offset deletion from a consumer group.');
  onlyWith('topic', 'reset-offsets');
  if (has('timeout')) {
    if (has('timeout-ms')) throw new UsageError('give --timeout-ms or --timeout, not both');
    flags.strings.set('timeout-ms', flags.strings.get('timeout')!);
  }

  const groups = flags.lists.get('group') ?? [];
  const allGroups = has('all-groups');
  if (groups.length > 0 && allGroups) throw new UsageError('--group cannot be used with --all-groups');
  if (action !== 'list' && groups.length === 0 && !allGroups) throw new UsageError(`Option --${action} takes one of these options: --all-groups, --group`);

  const opts: Options = {
    action,
    flags,
    groups,
    allGroups,
    json: has('json'),
    verbose: has('verbose'),
    view: 'offsets',
    listStates: null,
    execute: has('execute'),
    topics: [],
    allTopics: has('all-topics'),
  };

  if (action === 'describe') {
    const views = (['members', 'offsets', 'state'] as const).filter(has);
    if (views.length > 1) throw new UsageError('Option --describe takes at most one of these options: --members, --offsets, --state');
    if (stateValue !== undefined) throw new UsageError('Option --describe does not take a value for --state');
    opts.view = views[0] ?? 'offsets';
  }
  if (action === 'list' && has('state')) opts.listStates = stateValue === undefined || stateValue === '' ? [] : parseStates(stateValue);
  if (action !== 'list' && action !== 'describe' && stateValue !== undefined) throw new UsageError(`unexpected argument "${stateValue}"`);

  if (action === 'reset-offsets') {
    if (has('dry-run') && has('execute')) throw new UsageError('Option --reset-offsets only accepts one of --execute and --dry-run');
    const scenarios = SCENARIOS.filter(has);
    if (scenarios.length === 0) throw new UsageError(`Option --reset-offsets requires one of the following scenarios: ${SCENARIOS.map((s) => `--${s}`).join(', ')}`);
    if (scenarios.length > 1) throw new UsageError(`Option --${scenarios[0]} cannot be used with --${scenarios[1]}`);
    opts.scenario = scenarios[0]!;
    const raw = flags.strings.get(opts.scenario);
    if (opts.scenario === 'to-offset' || opts.scenario === 'shift-by') opts.scenarioValue = longFlag(opts.scenario, raw!);
    else if (opts.scenario === 'to-datetime') opts.scenarioValue = parseDateTime(raw!);
    else if (opts.scenario === 'by-duration') opts.scenarioValue = Date.now() - parseDuration(raw!);
    if (!opts.allTopics && !has('topic')) throw new UsageError('One of the reset scopes should be defined: --all-topics, --topic.');
    opts.topics = (flags.lists.get('topic') ?? []).map(parseTopicArg);
    // Kafka warns, then plans without committing.
    if (!has('dry-run') && !has('execute')) {
      process.stderr.write(
        'WARN: No action will be performed as the --execute option is missing. In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.\n',
      );
    }
  }
  return opts;
}

/** Kafka's state names from `stable,Empty` (any case); unknown names are a usage error. */
function parseStates(input: string): string[] {
  const states = input.split(',').map((s) => {
    const name = GROUP_STATES.find((g) => g.toLowerCase() === s.trim().toLowerCase());
    if (!name) throw new UsageError(`Invalid state list '${input}'. Valid states are: ${GROUP_STATES.join(', ')}`);
    return name;
  });
  return [...new Set(states)];
}

/** A Java long: the flag's value as a bigint within int64. */
function longFlag(flag: string, raw: string): bigint {
  if (!/^[-+]?\d+$/.test(raw)) throw new UsageError(`--${flag} expects an integer, got "${raw}"`);
  const n = BigInt(raw);
  if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new UsageError(`--${flag} is out of the 64-bit range: ${raw}`);
  return n;
}

/** `topic` or `topic:0,1,2`, as Kafka's parseTopicsWithPartitions reads it. */
function parseTopicArg(arg: string): { topic: string; partitions: number[] | null } {
  if (!arg.includes(':')) return { topic: arg, partitions: null };
  const parts = arg.split(':');
  if (parts.length !== 2 || parts[0] === '') throw new UsageError(`Invalid topic arg '${arg}', expected topic name and partitions`);
  const partitions = parts[1]!.split(',').map((p) => {
    if (!/^\d+$/.test(p) || Number(p) > 0x7fffffff) throw new UsageError(`Invalid partition '${p}' specified in topic arg '${arg}'`);
    return Number(p);
  });
  return { topic: parts[0]!, partitions };
}

/**
 * Kafka's Utils.getDateTime: `yyyy-MM-ddTHH:mm:ss.SSS`, then optionally a zone (`Z`, `+08`,
 * `+0800`, `+08:00`); without one the time is UTC. Strict: no field out of its range.
 */
export function parseDateTime(raw: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(raw);
  const bad = () => new UsageError(`--to-datetime: "${raw}" is not YYYY-MM-DDTHH:mm:SS.sss with an optional zone (Z, +hh, +hhmm, +hh:mm)`);
  if (!m) throw bad();
  const [y, mo, d, h, mi, s, ms] = m.slice(1, 8).map(Number) as [number, number, number, number, number, number, number];
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw bad();
  let offsetMin = 0;
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const zh = Number(digits.slice(0, 2));
    const zm = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (zh > 18 || zm > 59) throw bad();
    offsetMin = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm);
  }
  return utc - offsetMin * 60_000;
}

/** Java's Duration.parse (`PnDTnHnMn.nS`, signs allowed per part and in front), in ms. */
export function parseDuration(raw: string): number {
  const m = /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$/i.exec(raw);
  const hasTime = /T/i.test(raw);
  if (!m || (m[2] === undefined && m[3] === undefined && m[4] === undefined && m[5] === undefined) || (hasTime && m[3] === undefined && m[4] === undefined && m[5] === undefined)) {
    throw new UsageError(`--by-duration: "${raw}" is not an ISO-8601 duration (PnDTnHnMnS, e.g. PT30M or P1DT2H)`);
  }
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  const secondsSign = m[5]?.startsWith('-') ? -1 : 1;
  const fraction = m[6] ? secondsSign * Number(`0.${m[6]}`) : 0;
  const ms = ((n(m[2]) * 24 + n(m[3])) * 60 + n(m[4])) * 60_000 + (n(m[5]) + fraction) * 1000;
  return Math.round(m[1] === '-' ? -ms : ms);
}

// ------------------------------------------------------------------------------- formatting

/**
 * One line formatted as Kafka's printf: each cell left-aligned in its width (`%-Ns`, never cut),
 * separated by one space; a null width is a bare `%s`.
 */
function fmt(widths: (number | null)[], cells: string[]): string {
  return cells.map((c, i) => (widths[i] === null ? c : c.padEnd(widths[i]!))).join(' ');
}

const widest = (min: number, cells: string[]) => Math.max(min, ...cells.map((c) => c.length));
const str = (v: bigint | number | null | undefined) => (v === null || v === undefined ? MISSING : String(v));
/** Offsets for --json: numbers (offsets stay far below 2^53), null where the table shows `-`. */
const num = (v: bigint | null) => (v === null ? null : Number(v));

/**
 * Kafka's shouldPrintMemberState: the notes printed for a group's state, and whether its rows are
 * printed (not when there are none).
 */
function groupNote(group: string, state: string, rows: number): boolean {
  switch (state) {
    case 'Dead':
      process.stdout.write(`\nError: Consumer group '${group}' does not exist.\n`);
      return false;
    case 'Empty':
      process.stderr.write(`\nConsumer group '${group}' has no active members.\n`);
      break;
    case 'PreparingRebalance':
    case 'CompletingRebalance':
    case 'Assigning':
    case 'Reconciling':
      process.stderr.write(`\nWarning: Consumer group '${group}' is rebalancing.\n`);
      break;
  }
  return rows > 0;
}

// ------------------------------------------------------------------------------------- list

async function list(client: KafkaClient, opts: Options): Promise<number> {
  const groups = await listGroups(client, opts.listStates ?? []);
  if (opts.json) {
    await printJson(groups.map((g) => ({ group: g.groupId, state: g.state })));
    return 0;
  }
  if (opts.listStates === null) {
    await out(groups.map((g) => `${g.groupId}\n`).join(''));
    return 0;
  }
  // Kafka's printGroupInfo: the group column 10 wider than its widest cell (at least 15).
  const widths = [widest(15, groups.map((g) => g.groupId)) + 10, 20];
  const lines = [fmt(widths, ['GROUP', 'STATE']), ...groups.map((g) => fmt(widths, [g.groupId, g.state ?? 'Unknown']))];
  await out(lines.map((l) => `${l}\n`).join(''));
  return 0;
}

// --------------------------------------------------------------------------------- describe

async function targetGroups(client: KafkaClient, opts: Options): Promise<string[]> {
  const ids = opts.allGroups ? (await listGroups(client)).map((g) => g.groupId) : opts.groups;
  return [...new Set(ids)].sort();
}

interface OffsetRow {
  topic: string;
  partition: number;
  currentOffset: bigint | null;
  leaderEpoch: number | null;
  logEndOffset: bigint | null;
  lag: bigint | null;
  consumerId: string;
  host: string;
  clientId: string;
}

/**
 * Kafka's collectGroupsOffsets: members with partitions first (most partitions first), each one's
 * partitions by topic and partition; then committed partitions no member holds, with `-` for the
 * member columns. Lag is the log end minus the committed offset, `-` when either is unknown.
 */
async function offsetRows(client: KafkaClient, g: GroupDescription): Promise<OffsetRow[]> {
  const committed = g.state === 'Dead' ? [] : await committedOffsets(client, g.groupId);
  const byTp = new Map<string, CommittedOffset>(committed.map((c) => [tpKey(c.topic, c.partition), c]));
  const owners = g.members.filter((m) => m.assignment.length > 0).sort((a, b) => b.assignment.length - a.assignment.length);
  const assigned = new Set<string>();
  const pairs: { tp: TopicPartition; member: (typeof owners)[number] | null }[] = [];
  for (const m of owners) {
    for (const tp of [...m.assignment].sort(compareTp)) {
      assigned.add(tpKey(tp.topic, tp.partition));
      pairs.push({ tp, member: m });
    }
  }
  for (const c of committed) if (!assigned.has(tpKey(c.topic, c.partition))) pairs.push({ tp: c, member: null });
  const ends = await listOffsets(client, pairs.map((p) => p.tp), LATEST);
  return pairs.map(({ tp, member }) => {
    const c = byTp.get(tpKey(tp.topic, tp.partition));
    const end = ends.get(tpKey(tp.topic, tp.partition));
    const logEndOffset = end && 'offset' in end ? end.offset : null;
    const currentOffset = c ? c.offset : null;
    return {
      topic: tp.topic,
      partition: tp.partition,
      currentOffset,
      leaderEpoch: c && c.leaderEpoch >= 0 ? c.leaderEpoch : null,
      logEndOffset,
      lag: currentOffset !== null && logEndOffset !== null ? logEndOffset - currentOffset : null,
      consumerId: member ? member.memberId : MISSING,
      host: member ? member.clientHost : MISSING,
      clientId: member ? member.clientId : MISSING,
    };
  });
}

/** Kafka's members --verbose ASSIGNMENT cell: `t1(0,1), t2(3)`, topics sorted, `-` when none. */
function assignmentCell(assignment: TopicPartition[]): string {
  if (assignment.length === 0) return MISSING;
  const byTopic = new Map<string, number[]>();
  for (const tp of assignment) {
    let ps = byTopic.get(tp.topic);
    if (!ps) byTopic.set(tp.topic, (ps = []));
    ps.push(tp.partition);
  }
  return [...byTopic]
    .map(([topic, ps]) => `${topic}(${ps.sort((a, b) => a - b).join(',')})`)
    .sort()
    .join(', ');
}

async function describe(client: KafkaClient, opts: Options): Promise<number> {
  const ids = await targetGroups(client, opts);
  const described = await describeGroups(client, ids);
  const groups = ids.map((id) => described.get(id)!);
  if (opts.view === 'offsets') {
    const all = await Promise.all(groups.map(async (g) => ({ g, rows: await offsetRows(client, g) })));
    if (opts.json) {
      await printJson(
        all.map(({ g, rows }) => ({
          group: g.groupId,
          state: g.state,
          offsets: rows.map((r) => ({ ...r, currentOffset: num(r.currentOffset), logEndOffset: num(r.logEndOffset), lag: num(r.lag) })),
        })),
      );
      return 0;
    }
    for (const { g, rows } of all) {
      if (!groupNote(g.groupId, g.state, rows.length)) continue;
      const cells = rows.map((r) => {
        const tail = [str(r.currentOffset), str(r.logEndOffset), str(r.lag), r.consumerId, r.host, r.clientId];
        return [g.groupId, r.topic, String(r.partition), ...(opts.verbose ? [str(r.leaderEpoch)] : []), ...tail];
      });
      const header = ['GROUP', 'TOPIC', 'PARTITION', ...(opts.verbose ? ['LEADER-EPOCH'] : []), 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'];
      const n = header.length;
      const widths: (number | null)[] = header.map(() => 15);
      widths[0] = widest(15, [g.groupId]);
      widths[1] = widest(15, rows.map((r) => r.topic));
      widths[2] = 10;
      widths[n - 3] = widest(15, rows.map((r) => r.consumerId));
      widths[n - 2] = widest(15, rows.map((r) => r.host));
      widths[n - 1] = null;
      await out(`\n${fmt(widths, header)}\n${cells.map((c) => `${fmt(widths, c)}\n`).join('')}`);
    }
    return 0;
  }
  if (opts.view === 'members') {
    if (opts.json) {
      await printJson(
        groups.map((g) => ({
          group: g.groupId,
          state: g.state,
          members: g.members.map((m) => ({ consumerId: m.memberId, groupInstanceId: m.groupInstanceId, host: m.clientHost, clientId: m.clientId, partitions: m.assignment.length, assignment: [...m.assignment].sort(compareTp) })),
        })),
      );
      return 0;
    }
    for (const g of groups) {
      if (!groupNote(g.groupId, g.state, g.members.length)) continue;
      // Kafka 3.x printMembers: GROUP-INSTANCE-ID only when a member is static; "%-15s " leaves a
      // space after #PARTITIONS, where --verbose appends the assignment.
      const withInstance = g.members.some((m) => m.groupInstanceId);
      const rows = g.members.map((m) => [g.groupId, m.memberId, ...(withInstance ? [m.groupInstanceId ?? ''] : []), m.clientHost, m.clientId, String(m.assignment.length)]);
      const widths = [
        widest(15, [g.groupId]),
        widest(15, g.members.map((m) => m.memberId)),
        ...(withInstance ? [widest(17, g.members.map((m) => m.groupInstanceId ?? ''))] : []),
        widest(15, g.members.map((m) => m.clientHost)),
        widest(15, g.members.map((m) => m.clientId)),
        15,
      ];
      const header = ['GROUP', 'CONSUMER-ID', ...(withInstance ? ['GROUP-INSTANCE-ID'] : []), 'HOST', 'CLIENT-ID', '#PARTITIONS'];
      let text = `\n${fmt(widths, header)} ${opts.verbose ? 'ASSIGNMENT' : ''}\n`;
      g.members.forEach((m, i) => (text += `${fmt(widths, rows[i]!)} ${opts.verbose ? assignmentCell(m.assignment) : ''}\n`));
      await out(text);
    }
    return 0;
  }
  // --state: each coordinator's node id from one Metadata (-1 for an address it does not list).
  const brokers = [...(await client.metadata([])).brokers.values()];
  const coordinatorIds = groups.map(({ coordinator: c }) => brokers.find((b) => b.host === c.host && b.port === c.port)?.nodeId ?? -1);
  const coordinators = groups.map((g, i) => `${g.coordinator.host}:${g.coordinator.port}  (${coordinatorIds[i]})`);
  if (opts.json) {
    await printJson(
      groups.map((g, i) => ({
        group: g.groupId,
        coordinator: { id: coordinatorIds[i], host: g.coordinator.host, port: g.coordinator.port },
        assignmentStrategy: g.assignmentStrategy,
        state: g.state,
        members: g.members.length,
      })),
    );
    return 0;
  }
  for (const [i, g] of groups.entries()) {
    if (!groupNote(g.groupId, g.state, 1)) continue;
    const coordinator = coordinators[i]!;
    const strategy = g.assignmentStrategy === '' ? MISSING : g.assignmentStrategy;
    const header = ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', ...(opts.verbose ? ['GROUP-EPOCH', 'TARGET-ASSIGNMENT-EPOCH'] : []), '#MEMBERS'];
    // Classic groups have no group epochs (KIP-848 only): Kafka prints `-`.
    const row = [g.groupId, coordinator, strategy, g.state, ...(opts.verbose ? [MISSING, MISSING] : []), String(g.members.length)];
    const widths = [widest(15, [g.groupId]), widest(25, [coordinator]), 20, 20, ...(opts.verbose ? [15, 25] : []), null];
    await out(`\n${fmt(widths, header)}\n${fmt(widths, row)}\n`);
  }
  return 0;
}

// ----------------------------------------------------------------------------------- delete

async function remove(client: KafkaClient, opts: Options): Promise<number> {
  const ids = await targetGroups(client, opts);
  const results = await deleteGroups(client, ids);
  const ok = ids.filter((g) => results.get(g) === 0);
  const failed = ids.filter((g) => results.get(g) !== 0);
  const quoted = (gs: string[]) => gs.map((g) => `'${g}'`).join(', ');
  if (failed.length > 0) {
    const reasons = failed.map((g) => {
      const code = results.get(g)!;
      const message = errorMessage(code);
      return `group '${g}': ${errorName(code)}${message ? ` (${message})` : ''}`;
    });
    throw new CliError(`Deletion of some consumer groups failed: ${reasons.join('; ')}${ok.length > 0 ? `; these consumer groups were deleted successfully: ${quoted(ok)}` : ''}`);
  }
  if (opts.json) await printJson({ deleted: ok });
  else await out(`Deletion of requested consumer groups (${quoted(ok)}) was successful.\n`);
  return 0;
}

// ------------------------------------------------------------------------------------ reset

interface PlanRow extends TopicPartition {
  group: string;
  newOffset: bigint;
}

async function reset(client: KafkaClient, opts: Options): Promise<number> {
  const ids = await targetGroups(client, opts);
  const described = await describeGroups(client, ids);
  const refusals: string[] = [];
  const plan: PlanRow[] = [];
  const planned = new Set<string>();
  for (const id of ids) {
    const state = described.get(id)!.state;
    if (state !== 'Empty' && state !== 'Dead') {
      refusals.push(`Assignments can only be reset if the group '${id}' is inactive, but the current state is ${state}.`);
      continue;
    }
    const offsets = await prepareReset(client, opts, id);
    if (opts.execute) await commitOffsets(client, id, offsets);
    planned.add(id);
    for (const o of offsets) plan.push({ group: id, ...o, newOffset: o.offset });
  }
  if (planned.size > 0) {
    if (opts.json) await printJson(plan.map((r) => ({ group: r.group, topic: r.topic, partition: r.partition, newOffset: Number(r.newOffset) })));
    else {
      // Kafka 4's printOffsetsToReset: GROUP and TOPIC at least 15 wide, PARTITION 10.
      const widths = [widest(15, [...planned]), widest(15, plan.map((r) => r.topic)), 10, null];
      const rows = plan.map((r) => fmt(widths, [r.group, r.topic, String(r.partition), String(r.newOffset)]));
      await out(`\n${fmt(widths, ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'])}${rows.map((r) => `\n${r}`).join('')}\n`);
    }
  }
  if (refusals.length > 0) throw new CliError(refusals.join(' '));
  return 0;
}

/** The partitions in the reset's scope, checked to exist and have a leader (Kafka's checkAllTopicPartitionsValid). */
async function scope(client: KafkaClient, opts: Options, committed: CommittedOffset[]): Promise<TopicPartition[]> {
  let tps: TopicPartition[];
  if (opts.allTopics) tps = committed.map(({ topic, partition }) => ({ topic, partition }));
  else {
    tps = [];
    for (const t of opts.topics) {
      if (t.partitions) for (const partition of t.partitions) tps.push({ topic: t.topic, partition });
      else for (const p of (await client.topic(t.topic)).partitions) tps.push({ topic: t.topic, partition: p.partition });
    }
  }
  const seen = new Set<string>();
  tps = tps.filter((tp) => !seen.has(tpKey(tp.topic, tp.partition)) && seen.add(tpKey(tp.topic, tp.partition)));
  if (tps.length === 0) return tps;
  const md = await client.metadata([...new Set(tps.map((tp) => tp.topic))]);
  const info = (tp: TopicPartition) => md.topics.get(tp.topic)?.partitions.find((p) => p.partition === tp.partition);
  const missing = tps.filter((tp) => md.topics.get(tp.topic)?.errorCode !== 0 || !info(tp));
  if (missing.length > 0) throw new CliError(`The partitions "${missing.map(tpName).join(',')}" do not exist`);
  const leaderless = tps.filter((tp) => info(tp)!.leader < 0);
  if (leaderless.length > 0) throw new CliError(`The partitions "${leaderless.map(tpName).join(',')}" have no leader`);
  return tps.sort(compareTp);
}

/** A log offset that must be known, or a CliError naming the partition and the broker's error. */
function known(results: Map<string, LogOffsetResult>, tp: TopicPartition, what: string): bigint {
  const r = results.get(tpKey(tp.topic, tp.partition));
  if (!r || 'error' in r) throw new CliError(`Error getting ${what} offset of topic partition: ${tpName(tp)}${r && 'error' in r ? ` (${r.error.errorName})` : ''}`);
  return r.offset;
}

/** Kafka's GroupOffsetsResetter: the new offset of each partition in scope for the scenario. */
async function prepareReset(client: KafkaClient, opts: Options, group: string): Promise<(TopicPartition & { offset: bigint })[]> {
  const needsCommitted = opts.allTopics || opts.scenario === 'shift-by' || opts.scenario === 'to-current';
  const committed = needsCommitted ? await committedOffsets(client, group) : [];
  const tps = await scope(client, opts, committed);
  const current = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));

  /** Kafka's checkOffsetsRange: above the log end becomes the log end, below the log start the log start. */
  const clamped = async (wanted: Map<string, bigint>) => {
    const [starts, ends] = await Promise.all([listOffsets(client, tps, EARLIEST), listOffsets(client, tps, LATEST)]);
    return tps.map((tp) => {
      const offset = wanted.get(tpKey(tp.topic, tp.partition))!;
      const end = known(ends, tp, 'ending');
      const start = known(starts, tp, 'starting');
      if (offset > end) {
        process.stderr.write(`WARN: New offset (${offset}) is higher than latest offset for topic partition ${tpName(tp)}. Value will be set to ${end}.\n`);
        return { ...tp, offset: end };
      }
      if (offset < start) {
        process.stderr.write(`WARN: New offset (${offset}) is lower than earliest offset for topic partition ${tpName(tp)}. Value will be set to ${start}.\n`);
        return { ...tp, offset: start };
      }
      return { ...tp, offset };
    });
  };

  switch (opts.scenario!) {
    case 'to-earliest': {
      const starts = await listOffsets(client, tps, EARLIEST);
      return tps.map((tp) => ({ ...tp, offset: known(starts, tp, 'starting') }));
    }
    case 'to-latest': {
      const ends = await listOffsets(client, tps, LATEST);
      return tps.map((tp) => ({ ...tp, offset: known(ends, tp, 'ending') }));
    }
    case 'to-offset':
      return clamped(new Map(tps.map((tp) => [tpKey(tp.topic, tp.partition), opts.scenarioValue as bigint])));
    case 'shift-by': {
      const wanted = new Map<string, bigint>();
      for (const tp of tps) {
        const c = current.get(tpKey(tp.topic, tp.partition));
        if (c === undefined) throw new CliError(`Cannot shift offset for partition ${tpName(tp)} since there is no current committed offset`);
        wanted.set(tpKey(tp.topic, tp.partition), c + (opts.scenarioValue as bigint));
      }
      return clamped(wanted);
    }
    case 'to-current': {
      const ends = await listOffsets(client, tps.filter((tp) => !current.has(tpKey(tp.topic, tp.partition))), LATEST);
      return tps.map((tp) => ({ ...tp, offset: current.get(tpKey(tp.topic, tp.partition)) ?? known(ends, tp, 'ending') }));
    }
    case 'to-datetime':
    case 'by-duration': {
      const byTime = await listOffsets(client, tps, BigInt(opts.scenarioValue as number));
      // No record at or after the time: Kafka falls back to the log end, with a warning.
      const empty = tps.filter((tp) => {
        const r = byTime.get(tpKey(tp.topic, tp.partition));
        return r !== undefined && 'offset' in r && r.offset < 0n;
      });
      for (const tp of empty) process.stderr.write(`\nWarn: Partition ${tp.partition} from topic ${tp.topic} is empty. Falling back to latest known offset.\n`);
      const ends = await listOffsets(client, empty, LATEST);
      return tps.map((tp) => {
        if (empty.includes(tp)) return { ...tp, offset: known(ends, tp, 'ending') };
        return { ...tp, offset: known(byTime, tp, 'by timestamp') };
      });
    }
  }
}
