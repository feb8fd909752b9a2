/**
 * `brook groups` as a child process (the built bin/brook.js, so `npm run build:ts` first, as `npm
 * test` does) against a real broker, cross-checked with kafkajs: a kafkajs
 * consumer group commits known offsets after kafkajs produced known records; brook describes what
 * kafkajs's admin sees (member id, host, client id, offsets), and what brook resets, kafkajs's
 * fetchOffsets and a new kafkajs consumer in the group see.
 *
 * Output is compared byte for byte with fixtures (test/fixtures/cli/groups-*.txt) written from
 * ConsumerGroupCommand's printf formats (Kafka 3.7-4.x; --members --verbose as Kafka 3.x) filled with
 * this file's data. The kafkajs member id (client id + a UUID, so always the same length) is swapped
 * for the fixture's, and the coordinator cell for the fixture's `127.0.0.1:9092  (1)` in its 25-wide
 * column, so the padding compared is exactly Kafka's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssignerProtocol, type Admin, type Consumer, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { brook, errorChecks, fixtures, requireBuilt, root } from './cli-harness.js';
import { freePort, GROUP_TEST_PROPERTIES, kafkajs, startTestBroker, until, type ProcessResult, type TestBroker } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'brook-cli-groups-'));
const CLIENT_ID = 'cli-groups-test';
const FIXTURE_MEMBER = 'cli-groups-test-00000000-0000-0000-0000-000000000000';
/** Record timestamps of the `history` topic: one per hour from this instant. */
const HISTORY_START = Date.parse('2021-01-01T00:00:00.000Z');

// Most tests run the CLI several times in a row, each a node start: on a loaded machine that is slow.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let tb: TestBroker;
let kafka: Kafka;
let admin: Admin;
const consumers: Consumer[] = [];

beforeAll(async () => {
  requireBuilt('groups');
  tb = await startTestBroker({ properties: { ...GROUP_TEST_PROPERTIES, 'ws.enabled': false } });
  kafka = kafkajs(tb.bootstrap, { clientId: CLIENT_ID, retry: { retries: 2 } });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }, { topic: 'history', numPartitions: 1 }] });
  const producer = kafka.producer();
  await producer.connect();
  for (let partition = 0; partition < 3; partition++) {
    await producer.send({ topic: 'orders', messages: Array.from({ length: 10 }, (_, i) => ({ partition, value: `order-${partition}-${i}` })) });
  }
  await producer.send({ topic: 'history', messages: Array.from({ length: 5 }, (_, i) => ({ value: `h${i}`, timestamp: String(HISTORY_START + i * 3_600_000) })) });
  await producer.disconnect();
}, 60_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => {});
  await admin?.disconnect();
  await tb?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the built `brook groups ...` (bin/brook.js), bootstrap from the flag unless told otherwise. */
function groups(args: string[], opts: { env?: NodeJS.ProcessEnv; bootstrap?: boolean } = {}): Promise<ProcessResult> {
  const boot = opts.bootstrap === false ? [] : ['--bootstrap-server', tb.bootstrap];
  return brook(['groups', ...args, ...boot], { timeoutMs: 60_000, cwd: root, env: opts.env });
}

function ok(r: ProcessResult): ProcessResult {
  expect(r.code, r.stderr).toBe(0);
  return r;
}

const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');

const { expectFailure, expectUsage } = errorChecks('groups', { usage: { emptyStdout: true } });

/** A kafkajs member of `groupId` reading `topics`, not committing on its own; resolves once it has joined. */
async function startMember(groupId: string, topics: string[], onMessage?: (topic: string, partition: number, offset: string) => void): Promise<Consumer> {
  // kafkajs rejoins only between fetches: a fetch that may wait its default 5 s is longer than the
  // 3 s rebalance timeout, so a member could miss each rebalance and start the next (seen under load).
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 3000, maxWaitTimeInMs: 250 });
  consumers.push(consumer);
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachMessage: async ({ topic, partition, message }) => onMessage?.(topic, partition, message.offset) });
  await until(`${groupId} joined`, () => joined);
  return consumer;
}

async function stopMember(consumer: Consumer): Promise<void> {
  await consumer.disconnect();
  consumers.splice(consumers.indexOf(consumer), 1);
}

/** Committed offsets of `groupId` on `topic`, per partition, as kafkajs's admin reads them. */
async function fetched(groupId: string, topic: string): Promise<Record<number, string>> {
  const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return Object.fromEntries(res!.partitions.map((p) => [p.partition, p.offset]));
}

async function coordinatorCell(): Promise<string> {
  const { brokers } = await admin.describeCluster();
  const b = brokers[0]!;
  return `${b.host}:${b.port}  (${b.nodeId})`;
}

describe('brook groups against an active kafkajs group', () => {
  let member: Consumer;
  let memberId: string;

  beforeAll(async () => {
    member = await startMember('live', ['orders']);
    // Known offsets: 4 and 7 on partitions 0 and 1, nothing on partition 2.
    await member.commitOffsets([
      { topic: 'orders', partition: 0, offset: '4' },
      { topic: 'orders', partition: 1, offset: '7' },
    ]);
    const { groups: described } = await admin.describeGroups(['live']);
    expect(described[0]!.state).toBe('Stable');
    expect(described[0]!.members).toHaveLength(1);
    memberId = described[0]!.members[0]!.memberId;
    expect(memberId).toHaveLength(FIXTURE_MEMBER.length);
    expect(await fetched('live', 'orders')).toEqual({ 0: '4', 1: '7', 2: '-1' });
  }, 60_000);

  const normalize = (text: string) => text.replaceAll(memberId, FIXTURE_MEMBER);

  it('describes offsets and lag with the member columns, as kafka-consumer-groups.sh does', async () => {
    const r = ok(await groups(['--describe', '--group', 'live']));
    expect(r.stderr).toBe('');
    expect(normalize(r.stdout)).toBe(fixture('groups-describe-offsets.txt'));
    // --offsets is the default sub-action.
    expect(normalize(ok(await groups(['--describe', '--group', 'live', '--offsets'])).stdout)).toBe(fixture('groups-describe-offsets.txt'));
  });

  it('gives the same numbers as JSON, with the member kafkajs reports', async () => {
    const r = ok(await groups(['--describe', '--group', 'live', '--json']));
    const [g] = JSON.parse(r.stdout) as { group: string; state: string; offsets: Record<string, unknown>[] }[];
    const { groups: described } = await admin.describeGroups(['live']);
    const m = described[0]!.members[0]!;
    expect(g!.group).toBe('live');
    expect(g!.state).toBe('Stable');
    expect(g!.offsets).toEqual([
      { topic: 'orders', partition: 0, currentOffset: 4, leaderEpoch: null, logEndOffset: 10, lag: 6, consumerId: m.memberId, host: m.clientHost, clientId: m.clientId },
      { topic: 'orders', partition: 1, currentOffset: 7, leaderEpoch: null, logEndOffset: 10, lag: 3, consumerId: m.memberId, host: m.clientHost, clientId: m.clientId },
      { topic: 'orders', partition: 2, currentOffset: null, leaderEpoch: null, logEndOffset: 10, lag: null, consumerId: m.memberId, host: m.clientHost, clientId: m.clientId },
    ]);
    // kafkajs's own view of the log ends agrees.
    const ends = await admin.fetchTopicOffsets('orders');
    expect(ends.map((p) => p.high).sort()).toEqual(['10', '10', '10']);
  });

  it('describes members, with --verbose the assignment', async () => {
    expect(normalize(ok(await groups(['--describe', '--group', 'live', '--members'])).stdout)).toBe(fixture('groups-describe-members.txt'));
    expect(normalize(ok(await groups(['--describe', '--group', 'live', '--members', '--verbose'])).stdout)).toBe(fixture('groups-describe-members-verbose.txt'));
  });

  it('describes the state with the coordinator kafkajs sees', async () => {
    const r = ok(await groups(['--describe', '--group', 'live', '--state']));
    const cell = await coordinatorCell();
    expect(cell.length).toBeLessThanOrEqual(25);
    expect(r.stdout.replace(cell.padEnd(25), '127.0.0.1:9092  (1)'.padEnd(25))).toBe(fixture('groups-describe-state.txt'));
    const [json] = JSON.parse(ok(await groups(['--describe', '--group', 'live', '--state', '--json'])).stdout) as { coordinator: { id: number } }[];
    expect(json).toMatchObject({ group: 'live', state: 'Stable', members: 1, assignmentStrategy: 'RoundRobinAssigner' });
    expect(json!.coordinator.id).toBe(tb.broker.config.nodeId);
  });

  it('lists the group, with states and a state filter', async () => {
    expect(ok(await groups(['--list'])).stdout.split('\n')).toContain('live');
    const r = ok(await groups(['--list', '--state']));
    expect(r.stdout).toMatch(/^GROUP {21}STATE {15}\n/);
    expect(r.stdout).toContain(`${'live'.padEnd(25)} ${'Stable'.padEnd(20)}\n`);
    expect(ok(await groups(['--list', '--state', 'STABLE'])).stdout).toContain('live ');
    expect(ok(await groups(['--list', '--state', 'empty,dead'])).stdout).not.toContain('live');
    expect(JSON.parse(ok(await groups(['--list', '--json'])).stdout)).toContainEqual({ group: 'live', state: 'Stable' });
  });

  it('refuses a reset while the group has members, with Kafka message, and changes nothing', async () => {
    const r = await groups(['--reset-offsets', '--group', 'live', '--topic', 'orders', '--to-earliest', '--execute']);
    expectFailure(r, /^brook groups: Assignments can only be reset if the group 'live' is inactive, but the current state is Stable\.\n$/);
    expect(r.stdout).toBe('');
    expect(await fetched('live', 'orders')).toEqual({ 0: '4', 1: '7', 2: '-1' });
  });

  it('refuses to delete a group with members (NON_EMPTY_GROUP)', async () => {
    expectFailure(await groups(['--delete', '--group', 'live']), /group 'live': NON_EMPTY_GROUP/);
    expect((await admin.describeGroups(['live'])).groups[0]!.state).toBe('Stable');
  });

  describe('once the member has left', () => {
    beforeAll(async () => {
      await stopMember(member);
      await until('live empty', async () => (await admin.describeGroups(['live'])).groups[0]!.state === 'Empty');
    });

    it('says the group has no active members and shows the committed offsets without a member', async () => {
      const r = ok(await groups(['--describe', '--group', 'live']));
      expect(r.stderr).toBe("\nConsumer group 'live' has no active members.\n");
      expect(r.stdout).toBe(fixture('groups-describe-empty.txt'));
      const m = ok(await groups(['--describe', '--group', 'live', '--members']));
      expect(m.stderr).toBe("\nConsumer group 'live' has no active members.\n");
      expect(m.stdout).toBe('');
    });

    it('prints a dry-run plan and changes nothing; without --dry-run or --execute it warns and plans', async () => {
      const r = ok(await groups(['--reset-offsets', '--group', 'live', '--topic', 'orders', '--to-earliest', '--dry-run']));
      expect(r.stdout).toBe(fixture('groups-reset-plan.txt'));
      expect(r.stderr).toBe('');
      const w = ok(await groups(['--reset-offsets', '--group', 'live', '--topic', 'orders', '--to-earliest']));
      expect(w.stdout).toBe(fixture('groups-reset-plan.txt'));
      expect(w.stderr).toMatch(/^WARN: No action will be performed as the --execute option is missing/);
      expect(await fetched('live', 'orders')).toEqual({ 0: '4', 1: '7', 2: '-1' });
      const json = JSON.parse(ok(await groups(['--reset-offsets', '--group', 'live', '--topic', 'orders:1', '--to-latest', '--dry-run', '--json'])).stdout) as unknown;
      expect(json).toEqual([{ group: 'live', topic: 'orders', partition: 1, newOffset: 10 }]);
    });

    it('executes a reset to an offset: kafkajs fetchOffsets and a new member in the group start there', async () => {
      const r = ok(await groups(['--reset-offsets', '--group', 'live', '--topic', 'orders', '--to-offset', '2', '--execute']));
      expect(r.stdout).toMatch(/live {12}orders {10}2 {10}2\n$/);
      expect(await fetched('live', 'orders')).toEqual({ 0: '2', 1: '2', 2: '2' });
      const first = new Map<number, string>();
      let seen = 0;
      const c = await startMember('live', ['orders'], (_t, partition, offset) => {
        seen++;
        if (!first.has(partition)) first.set(partition, offset);
      });
      await until('8 records from each partition', () => seen >= 24);
      await stopMember(c);
      expect(Object.fromEntries(first)).toEqual({ 0: '2', 1: '2', 2: '2' });
      expect(seen).toBe(24);
      await until('live empty again', async () => (await admin.describeGroups(['live'])).groups[0]!.state === 'Empty');
    });

    it('resets to earliest, latest, current, by shifting (clamped at both ends) and only the partitions named', async () => {
      const reset = async (...args: string[]) => ok(await groups(['--reset-offsets', '--group', 'live', '--execute', ...args]));
      await reset('--topic', 'orders', '--to-latest');
      expect(await fetched('live', 'orders')).toEqual({ 0: '10', 1: '10', 2: '10' });
      await reset('--topic', 'orders', '--to-earliest');
      expect(await fetched('live', 'orders')).toEqual({ 0: '0', 1: '0', 2: '0' });
      await reset('--all-topics', '--shift-by', '3');
      expect(await fetched('live', 'orders')).toEqual({ 0: '3', 1: '3', 2: '3' });
      await reset('--topic', 'orders:1', '--shift-by', '4');
      expect(await fetched('live', 'orders')).toEqual({ 0: '3', 1: '7', 2: '3' });
      // Beyond the ends: Kafka sets the log end (or start) instead, with a warning.
      const high = await reset('--topic', 'orders:0,2', '--shift-by', '100');
      expect(high.stderr).toContain('WARN: New offset (103) is higher than latest offset for topic partition orders-0. Value will be set to 10.');
      expect(await fetched('live', 'orders')).toEqual({ 0: '10', 1: '7', 2: '10' });
      const low = await reset('--all-topics', '--shift-by', '-8');
      expect(low.stderr).toContain('WARN: New offset (-1) is lower than earliest offset for topic partition orders-1. Value will be set to 0.');
      expect(await fetched('live', 'orders')).toEqual({ 0: '2', 1: '0', 2: '2' });
      await reset('--topic', 'orders', '--to-offset', '1000');
      expect(await fetched('live', 'orders')).toEqual({ 0: '10', 1: '10', 2: '10' });
      const current = await reset('--topic', 'orders', '--to-current');
      expect(current.stdout).toMatch(/orders {10}1 {10}10\n/);
      expect(await fetched('live', 'orders')).toEqual({ 0: '10', 1: '10', 2: '10' });
      await reset('--topic', 'orders', '--by-duration', 'PT1H');
      expect(await fetched('live', 'orders')).toEqual({ 0: '0', 1: '0', 2: '0' });
    });

    it('deletes the group once it is empty', async () => {
      const r = ok(await groups(['--delete', '--group', 'live']));
      expect(r.stdout).toBe(fixture('groups-delete.txt'));
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('live');
      expect(ok(await groups(['--list'])).stdout.split('\n')).not.toContain('live');
    });
  });
});

describe('brook groups with two members', () => {
  it('orders rows by member, most partitions first, with the assignments kafkajs decodes', async () => {
    const a = await startMember('pair', ['orders']);
    const b = await startMember('pair', ['orders']);
    try {
      let kafkajsView: Map<string, number[]> = new Map();
      await until('pair stable with both members assigned', async () => {
        const [g] = (await admin.describeGroups(['pair'])).groups;
        if (g!.state !== 'Stable' || g!.members.length !== 2) return false;
        kafkajsView = new Map(g!.members.map((m) => [m.memberId, AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment.orders ?? []]));
        return [...kafkajsView.values()].flat().length === 3;
      });
      const [json] = JSON.parse(ok(await groups(['--describe', '--group', 'pair', '--members', '--json'])).stdout) as { members: { consumerId: string; partitions: number; assignment: { partition: number }[] }[] }[];
      expect(new Map(json!.members.map((m) => [m.consumerId, m.assignment.map((p) => p.partition)]))).toEqual(new Map([...kafkajsView].map(([id, ps]) => [id, [...ps].sort()])));
      const [big, small] = [...kafkajsView].sort((x, y) => y[1].length - x[1].length);
      const rows = ok(await groups(['--describe', '--group', 'pair'])).stdout.split('\n').slice(2, -1);
      expect(rows.map((r) => r.split(/ +/).slice(1, 3).concat(r.split(/ +/)[6]!))).toEqual([
        ...[...big![1]].sort().map((p) => ['orders', String(p), big![0]]),
        ...small![1].map((p) => ['orders', String(p), small![0]]),
      ]);
    } finally {
      await stopMember(a);
      await stopMember(b);
    }
  });
});

describe('brook groups resets by time', () => {
  it('finds the first offset at or after a datetime, in UTC or with a zone, and falls back to the log end past the last record', async () => {
    const plan = async (...args: string[]) => {
      const r = ok(await groups(['--reset-offsets', '--group', 'by-time', '--topic', 'history', '--dry-run', '--json', ...args]));
      return { offsets: (JSON.parse(r.stdout) as { newOffset: number }[]).map((x) => x.newOffset), stderr: r.stderr };
    };
    expect((await plan('--to-datetime', '2021-01-01T02:00:00.000')).offsets).toEqual([2]);
    expect((await plan('--to-datetime', '2021-01-01T01:59:59.999Z')).offsets).toEqual([2]);
    expect((await plan('--to-datetime', '2021-01-01T04:30:00.000+02:00')).offsets).toEqual([3]);
    expect((await plan('--to-datetime', '2020-12-31T19:30:00.000-0500')).offsets).toEqual([1]);
    expect((await plan('--to-datetime', '2020-01-01T00:00:00.000')).offsets).toEqual([0]);
    const past = await plan('--to-datetime', '2021-01-02T00:00:00.000');
    expect(past.offsets).toEqual([5]);
    expect(past.stderr).toContain('Warn: Partition 0 from topic history is empty. Falling back to latest known offset.');
    // Every record is older than an hour.
    expect((await plan('--by-duration', 'PT1H')).offsets).toEqual([5]);
    // A group that does not exist yet may be reset (Kafka allows Dead groups); kafkajs sees the commit.
    ok(await groups(['--reset-offsets', '--group', 'by-time', '--topic', 'history', '--to-datetime', '2021-01-01T03:00:00.000Z', '--execute']));
    expect(await fetched('by-time', 'history')).toEqual({ 0: '3' });
  });
});

describe('brook groups refuses bad input', () => {
  it('describes an unknown group with Kafka line and exit code (0, as kafka-consumer-groups.sh)', async () => {
    const r = await groups(['--describe', '--group', 'no-such-group']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("\nError: Consumer group 'no-such-group' does not exist.\n");
    const s = await groups(['--describe', '--group', 'no-such-group', '--state']);
    expect(s.stdout).toBe("\nError: Consumer group 'no-such-group' does not exist.\n");
  });

  it('fails with one line for an unknown topic or partition, a shift without a commit, an unknown group to delete', async () => {
    expectFailure(await groups(['--reset-offsets', '--group', 'x', '--topic', 'no-such-topic', '--to-latest', '--dry-run']), /topic no-such-topic: UNKNOWN_TOPIC_OR_PARTITION/);
    expectFailure(await groups(['--reset-offsets', '--group', 'x', '--topic', 'orders:0,9', '--to-latest', '--dry-run']), /The partitions "orders-9" do not exist/);
    expectFailure(await groups(['--reset-offsets', '--group', 'x', '--topic', 'orders', '--shift-by', '1', '--dry-run']), /Cannot shift offset for partition orders-0 since there is no current committed offset/);
    expectFailure(await groups(['--delete', '--group', 'no-such-group']), /group 'no-such-group': GROUP_ID_NOT_FOUND/);
  });

  it('refuses bad flags with exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Command must include exactly one action: --list, --describe, --delete, --reset-offsets/],
      [['--list', '--describe'], /exactly one action/],
      [['--describe'], /Option --describe takes one of these options: --all-groups, --group/],
      [['--describe', '--group', 'g', '--members', '--state'], /at most one of these options/],
      [['--describe', '--group', 'g', '--state', 'stable'], /does not take a value for --state/],
      [['--list', '--members'], /--members can only be used with --describe/],
      [['--list', '--state', 'happy'], /Invalid state list 'happy'\. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty/],
      [['--delete', '--group', 'g', '--topic', 't'], /does not support topic-specific offset deletion/],
      [['--describe', '--group', 'g', '--all-groups'], /--group cannot be used with --all-groups/],
      [['--reset-offsets', '--group', 'g', '--to-earliest', '--dry-run'], /One of the reset scopes should be defined: --all-topics, --topic\./],
      [['--reset-offsets', '--group', 'g', '--topic', 't', '--dry-run'], /requires one of the following scenarios/],
      [['--reset-offsets', '--group', 'g', '--topic', 't', '--to-earliest', '--to-latest'], /--to-earliest cannot be used with --to-latest/],
      [['--reset-offsets', '--group', 'g', '--topic', 't', '--to-earliest', '--dry-run', '--execute'], /only accepts one of --execute and --dry-run/],
      [['--reset-offsets', '--group', 'g', '--topic', 't', '--shift-by', 'x'], /--shift-by expects an integer/],
      [['--reset-offsets', '--group', 'g', '--topic', 't', '--to-datetime', '2021-01-01'], /--to-datetime: "2021-01-01" is not YYYY-MM-DDTHH:mm:SS\.sss/],
      [['--reset-offsets', '--group', 'g', '--topic', 't', '--to-datetime', '2021-02-30T00:00:00.000'], /is not YYYY-MM-DD/],
      [['--reset-offsets', '--group', 'g', '--topic', 't', '--by-duration', '1h'], /--by-duration: "1h" is not an ISO-8601 duration/],
      [['--reset-offsets', '--group', 'g', '--topic', 't:a', '--to-latest'], /Invalid partition 'a' specified in topic arg 't:a'/],
      [['--to-latest', '--list'], /--to-latest can only be used with --reset-offsets/],
      [['--list', '--frobnicate'], /unknown option --frobnicate/],
    ];
    // Four processes at a time: each is a node start, and this file is often run beside others.
    const results: ProcessResult[] = [];
    for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => groups(args, { bootstrap: false })))));
    cases.forEach(([args, pattern], i) => expect(() => expectUsage(results[i]!, pattern), args.join(' ')).not.toThrow());
  }, 240_000);

  it('fails within --timeout-ms when no broker answers', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await groups(['--list', '--bootstrap-server', `127.0.0.1:${port}`, '--timeout-ms', '1500'], { bootstrap: false });
    expectFailure(r, new RegExp(`no broker reachable at 127\\.0\\.0\\.1:${port} within 1500 ms`));
    expect(Date.now() - started).toBeLessThan(15_000);
    // Kafka's --timeout name does the same.
    expectFailure(await groups(['--describe', '--all-groups', '--bootstrap-server', `127.0.0.1:${port}`, '--timeout', '1000'], { bootstrap: false }), /within 1000 ms/);
  });

  it('takes the bootstrap server from BROOK_BOOTSTRAP_SERVER, and prints --help', async () => {
    const r = ok(await groups(['--describe', '--all-groups', '--state', '--json'], { bootstrap: false, env: { BROOK_BOOTSTRAP_SERVER: tb.bootstrap } }));
    expect(JSON.parse(r.stdout)).toBeInstanceOf(Array);
    const h = ok(await groups(['--help'], { bootstrap: false }));
    expect(h.stdout).toMatch(/^Usage: brook groups/);
    expect(h.stdout).toContain('--reset-offsets');
  });
});
