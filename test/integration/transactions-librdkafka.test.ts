/**
 * Transactions through librdkafka 2.0.2: confluent-kafka 1.7.0 under Debian's python
 * (clients/txn_confluent.py drives each scenario and reports JSON lines) and kcat 1.7.1 with
 * `-X transactional.id`. Issue 12's Tests section; reference transactions-security.md §4(a).
 *
 * librdkafka never hands control records to the application, reads read_committed by default,
 * asks ListOffsets with its isolation level for query_watermark_offsets (so `high` is the LSO for a
 * read_committed consumer), and turns INVALID_PRODUCER_EPOCH / PRODUCER_FENCED into the fatal
 * `_FENCED` (-144).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOk, GROUP_TEST_PROPERTIES, hasConfluentKafka, hasKcat, requireInstalled, run, spawnLive, SYSTEM_PYTHON, until, useBrokerWithKafkajs, type LiveProcess } from './harness.js';

requireInstalled(hasKcat, 'kcat');
requireInstalled(hasConfluentKafka, 'confluent-kafka (python3-confluent-kafka)');

const SCRIPT = join(import.meta.dirname, 'clients', 'txn_confluent.py');
/** librdkafka's fatal "producer fenced" (RD_KAFKA_RESP_ERR__FENCED). */
const FENCED = -144;
const INVALID_TRANSACTION_TIMEOUT = 50;

const k = useBrokerWithKafkajs({ properties: { ...GROUP_TEST_PROPERTIES, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500 } });

type Ev = Record<string, unknown>;
interface Rec {
  partition: number;
  offset: number;
  value: string;
}

async function topic(name: string): Promise<string> {
  await k.admin.createTopics({ topics: [{ topic: name, numPartitions: 2 }] });
  return name;
}

/** Runs one scenario to its end; fails with the script's output if it exits non-zero. */
async function scenario(name: string, topicName: string, opts: Record<string, unknown> = {}, timeoutMs = 40_000): Promise<Ev[]> {
  const p: LiveProcess = spawnLive(SYSTEM_PYTHON, [SCRIPT, name, k.tb.bootstrap, topicName, JSON.stringify(opts)], timeoutMs);
  const { code, signal } = await p.exited;
  if (code !== 0) throw new Error(`txn_confluent.py ${name} exited ${code ?? signal}\nstderr:\n${p.stderr()}\nevents:\n${p.events.map((e) => JSON.stringify(e)).join('\n')}`);
  return p.events;
}

function one(events: Ev[], event: string): Ev {
  const e = events.find((x) => x.event === event);
  if (!e) throw new Error(`no "${event}" event in:\n${events.map((x) => JSON.stringify(x)).join('\n')}`);
  return e;
}

const values = (e: Ev) => (e.records as Rec[]).map((r) => r.value).sort();

/** No client-side errors anywhere in a scenario that should have none. */
function expectNoErrors(events: Ev[]): void {
  expect(events.filter((e) => ['error', 'delivery_error', 'consume_error'].includes(e.event as string))).toEqual([]);
}

describe('confluent-kafka 1.7.0 transactions', () => {
  it('commit 3 / abort 2: read_committed gets the 3, read_uncommitted the 5 data records, no markers; end offsets count the markers', async () => {
    const t = await topic('ck-txn-basic');
    expectNoErrors(await scenario('commit_abort', t));

    const committed = one(await scenario('read', t, { isolation: 'read_committed' }), 'read');
    expect(values(committed)).toEqual(['c0', 'c1', 'c2']);
    expect(committed.eof).toEqual([0, 1]);

    const uncommitted = one(await scenario('read', t, { isolation: 'read_uncommitted' }), 'read');
    expect(values(uncommitted)).toEqual(['a0', 'a1', 'c0', 'c1', 'c2']);
    // Record i went to partition i % 2. Partition 0: c0@0 c2@1 COMMIT@2 a0@3 ABORT@4; partition 1:
    // c1@0 COMMIT@1 a1@2 ABORT@3. Markers take an offset each and are never delivered.
    const at = (e: Ev) => (e.records as Rec[]).map((r) => `${r.partition}@${r.offset}:${r.value}`).sort();
    expect(at(uncommitted)).toEqual(['0@0:c0', '0@1:c2', '0@3:a0', '1@0:c1', '1@2:a1']);
    expect(at(committed)).toEqual(['0@0:c0', '0@1:c2', '1@0:c1']);
    // [low, high]: no transaction is open, so the LSO is the end of the log for both isolation levels.
    expect(committed.watermarks).toEqual([
      [0, 5],
      [0, 4],
    ]);
    expect(uncommitted.watermarks).toEqual([
      [0, 5],
      [0, 4],
    ]);
  });

  it('holds a read_committed consumer at the LSO while a transaction is open, then delivers it on commit', async () => {
    const t = await topic('ck-txn-open');
    const events = await scenario('open_txn', t);
    expectNoErrors(events);
    const open = one(events, 'while_open');
    expect(values(open)).toEqual(['before0', 'before1']);
    expect(open.eof).toEqual([0, 1]); // EOF at the LSO, not a stall before it
    // Each partition: before@0 COMMIT@1 open@2 -> LSO 2 (read_committed ListOffsets latest), HW 3.
    expect(open.watermarks).toEqual([
      [0, 2],
      [0, 2],
    ]);
    const after = one(events, 'after_commit');
    expect(values(after)).toEqual(['open0', 'open1']);
    expect((after.records as Rec[]).map((r) => r.offset)).toEqual([2, 2]);
    expect(after.watermarks).toEqual([
      [0, 4],
      [0, 4],
    ]);
  });

  it('fences the first producer when a second one with the same transactional.id initializes; its open transaction never shows', async () => {
    const t = await topic('ck-txn-fence');
    const events = await scenario('fence', t);
    const err = one(events, 'error');
    expect(err).toMatchObject({ step: 'first_commit', code: FENCED, fatal: true });
    expect(events.some((e) => e.event === 'first_committed')).toBe(false);
    one(events, 'second_committed');
    const read = one(await scenario('read', t, { isolation: 'read_committed' }), 'read');
    expect(values(read)).toEqual(['second0']);
    expect(read.eof).toEqual([0, 1]);
  });

  it('aborts a transaction left past transaction.timeout.ms: the late commit is fatally fenced and readers are not stuck', async () => {
    const t = await topic('ck-txn-timeout');
    const events = await scenario('timeout', t);
    expect(one(events, 'error')).toMatchObject({ step: 'commit', code: FENCED, fatal: true });
    expect(events.some((e) => e.event === 'committed')).toBe(false);
    // The broker wrote ABORT markers: LSO == HW on both partitions (late0@0 ABORT@1, late1@0 ABORT@1).
    expect(one(events, 'watermarks_after_timeout').watermarks).toEqual([
      [0, 2],
      [0, 2],
    ]);
    const read = one(events, 'read');
    expect(values(read)).toEqual(['next0', 'next1']);
    expect(read.eof).toEqual([0, 1]);
  });

  it('refuses transaction.timeout.ms above transaction.max.timeout.ms at init_transactions (INVALID_TRANSACTION_TIMEOUT)', async () => {
    const t = await topic('ck-txn-max-timeout');
    // The broker's default transaction.max.timeout.ms is 900000 (Kafka's).
    const events = await scenario('max_timeout', t, { timeout_ms: 900_001 });
    expect(events.some((e) => e.event === 'initialized')).toBe(false);
    expect(one(events, 'error')).toMatchObject({ step: 'init_transactions', code: INVALID_TRANSACTION_TIMEOUT, fatal: true });
  });

  it('exactly-once loop: committed offsets move with a commit, not with an abort; a consumer starting while a commit is pending waits for it', async () => {
    const input = await topic('ck-eos-in');
    const output = await topic('ck-eos-out');
    const events = await scenario('eos', input, { output });
    expectNoErrors(events);
    const rounds = events.filter((e) => e.event === 'round');
    expect(rounds).toEqual([
      {
        event: 'round',
        tag: 'r1',
        consumed: 4,
        commit: true,
        committed: [
          [0, 2],
          [1, 2],
        ],
      },
      {
        event: 'round',
        tag: 'r2',
        consumed: 2,
        commit: false,
        committed: [
          [0, 2],
          [1, 2],
        ],
      },
    ]);
    // Started from the offsets committed before the pending commit, it would have read r2-0/r2-1 at once.
    expect(one(events, 'pending').early).toEqual([]);
    expect(one(events, 'late_consumer')).toMatchObject({
      values: ['r4-0', 'r4-1'],
      committed: [
        [0, 3],
        [1, 3],
      ],
    });
    // The output holds r1's transformed records, plus the r3 record, not r2's.
    const read = one(await scenario('read', output, { isolation: 'read_committed' }), 'read');
    expect(values(read)).toEqual(['r1-0-out', 'r1-1-out', 'r1-2-out', 'r1-3-out', 'r3-out']);
  });
});

describe('kcat 1.7.1 -X transactional.id', () => {
  it('commits everything at EOF of its input file; read back with isolation.level=read_committed', async () => {
    const t = await topic('kcat-txn');
    const lines = Array.from({ length: 10 }, (_, i) => `line-${i}`);
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'kcat-txn-'));
    try {
      const file = join(dir, 'in.txt');
      writeFileSync(file, lines.join('\n') + '\n');
      expectOk(await run('kcat', ['-P', '-b', k.tb.bootstrap, '-t', t, '-p', '-1', '-X', 'transactional.id=k1', '-l', file], { timeoutMs: 30_000 }), 'kcat -P transactional');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const r = expectOk(await run('kcat', ['-C', '-b', k.tb.bootstrap, '-t', t, '-e', '-o', 'beginning', '-q', '-X', 'isolation.level=read_committed', '-f', '%s\\n'], { timeoutMs: 30_000 }), 'kcat -C read_committed');
    expect(r.stdout.split('\n').filter((l) => l !== '').sort()).toEqual([...lines].sort());
  });

  it('an interrupted kcat transaction never becomes visible: the broker aborts it at its timeout and readers move on', async () => {
    // kcat 1.7.1 blocked reading its input ignores SIGINT until the input ends, then exits with
    // "Program terminated while producing message" and no EndTxn: the transaction stays open, as it
    // would on Kafka, until transaction.timeout.ms (3 s here) makes the coordinator abort it.
    const t = await topic('kcat-txn-int');
    const args = ['-P', '-b', k.tb.bootstrap, '-t', t, '-p', '0', '-X', 'transactional.id=k2', '-X', 'transaction.timeout.ms=3000', '-X', 'message.timeout.ms=3000'];
    const kcat = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    kcat.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => kcat.on('exit', (code) => resolve(code)));
    // kcat reads its input in large blocks: enough lines that it produces some before its input ends.
    kcat.stdin.write(Array.from({ length: 20_000 }, (_, i) => `aborted-${i}-${'x'.repeat(40)}\n`).join(''));
    const readAll = async (isolation: string) =>
      expectOk(await run('kcat', ['-C', '-b', k.tb.bootstrap, '-t', t, '-p', '0', '-e', '-o', 'beginning', '-q', '-X', `isolation.level=${isolation}`, '-f', '%s\\n'], { timeoutMs: 10_000 }), `kcat -C ${isolation}`)
        .stdout.split('\n')
        .filter((l) => l !== '');
    await until('kcat records in the log (read_uncommitted)', async () => (await readAll('read_uncommitted')).length > 0, 15_000);
    kcat.kill('SIGINT');
    kcat.stdin.end();
    const killer = setTimeout(() => kcat.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    expectOk(await run('kcat', ['-P', '-b', k.tb.bootstrap, '-t', t, '-p', '0', '-X', 'transactional.id=k3'], { input: 'committed-0\n', timeoutMs: 30_000 }), 'kcat -P transactional');
    // Held at the open transaction's first offset until the timeout abort, then exactly the committed record.
    await until('the committed record past the aborted transaction', async () => (await readAll('read_committed')).length > 0, 15_000);
    expect(await readAll('read_committed'), `interrupted kcat stderr:\n${err}`).toEqual(['committed-0']);
  });
});
