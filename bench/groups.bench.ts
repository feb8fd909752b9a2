/**
 * Consumer groups: how long a rebalance takes, and how many offset commits one client gets through.
 *
 * Rebalance: 10 members (one connection each, as real clients) in a group over a 100-partition
 * topic. Each round every member sends JoinGroup at once (as after the leader forced a rebalance);
 * the leader computes a round-robin assignment (consumer protocol bytes) and sends SyncGroup with
 * it, the others send SyncGroup with nothing. Timed: from the last JoinGroup sent to the last
 * SyncGroup answered, which includes the join barrier, the leader's assignment and storing the
 * group metadata record in __consumer_offsets. Baseline, same run, same connections, timed the same
 * way: two sequential ApiVersions round trips per member (20 requests, as the rebalance's 10 joins
 * and 10 syncs), i.e. the network and framing cost of the flow without any group work. Each round
 * is one tinybench sample (timed by the flow itself), the two interleaved in one Bench.
 *
 * Commits: one connection, 32 requests in flight, each OffsetCommit committing one partition
 * (append of one record to __consumer_offsets, then the answer). Baseline: Produce (acks=1) of a
 * one-record batch of the same size to an ordinary topic through the same connection and window.
 * Both against an in-process broker, so the client's CPU is in both numbers alike. A sample is one
 * windowed run of a few thousand requests (its mean per request).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAssignment, encodeSubscription } from '../src/coordinator/assignors.js';
import { startBroker } from '../src/index.js';
import { buildBatch } from '../src/native/records.js';
import { decodeResponse, encodeRequest } from '../src/protocol/frames.js';
import type { ApiSchema, ReqInput, Res } from '../src/protocol/schema.js';
import { apiVersionsApi } from '../src/protocol/schemas/api-versions.js';
import { createTopicsApi } from '../src/protocol/schemas/create-topics.js';
import { joinGroupApi } from '../src/protocol/schemas/join-group.js';
import { offsetCommitApi } from '../src/protocol/schemas/offset-commit.js';
import { produceApi } from '../src/protocol/schemas/produce.js';
import { syncGroupApi } from '../src/protocol/schemas/sync-group.js';
import { duration, measure, rate, type Figure } from './lib.js';

export const title = 'consumer groups: rebalance time and commit throughput';

const MEMBERS = 10;
const PARTITIONS = 100;
const ROUNDS = 40;
const WINDOW = 32;

/** A pipelining client: requests go out at once, responses come back in order. */
class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: ((frame: Buffer) => void)[] = [];
  private correlation = 0;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const size = this.buf.readInt32BE(0);
        const frame = this.buf.subarray(4, 4 + size);
        this.buf = this.buf.subarray(4 + size);
        this.waiting.shift()!(frame);
      }
    });
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  request<A extends ApiSchema>(api: A, version: number, body: ReqInput<A>): Promise<Res<A>> {
    const frame = encodeRequest(api, version, { correlationId: ++this.correlation, clientId: 'bench' }, body);
    const reply = new Promise<Buffer>((r) => this.waiting.push(r));
    this.socket.write(frame);
    return reply.then((f) => decodeResponse(api, version, f).body);
  }

  close(): void {
    this.socket.destroy();
  }
}

async function rebalance(conns: Conn[], topic: string, memberIds: string[]): Promise<{ ms: number; memberIds: string[]; generation: number }> {
  const joinBody = (memberId: string) => ({
    groupId: 'bench-group',
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'roundrobin', metadata: encodeSubscription([topic]) }],
  });
  const joins = conns.map((c, i) => c.request(joinGroupApi, 5, joinBody(memberIds[i]!)));
  const t0 = process.hrtime.bigint(); // the last JoinGroup has been written
  const answers = await Promise.all(joins);
  const generation = answers[0]!.generationId;
  const syncs = answers.map((a, i) => {
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (a.leader === a.memberId) {
      const ids = a.members.map((m) => m.memberId).sort();
      assignments = ids.map((id, k) => ({ memberId: id, assignment: encodeAssignment([...Array(PARTITIONS).keys()].filter((p) => p % ids.length === k).map((partition) => ({ topic, partition }))) }));
    }
    return conns[i]!.request(syncGroupApi, 3, { groupId: 'bench-group', generationId: a.generationId, memberId: a.memberId, groupInstanceId: null, assignments });
  });
  const synced = await Promise.all(syncs);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (synced.some((s) => s.errorCode !== 0) || answers.some((a) => a.errorCode !== 0)) throw new Error(`rebalance failed: ${JSON.stringify(answers.map((a) => a.errorCode))} ${JSON.stringify(synced.map((s) => s.errorCode))}`);
  return { ms, memberIds: answers.map((a) => a.memberId), generation };
}

/** The same shape without group work: each connection sends two sequential ApiVersions; timed like rebalance(), from the last first request written. */
async function apiVersionsFlow(conns: Conn[]): Promise<number> {
  const body = { clientSoftwareName: 'bench', clientSoftwareVersion: '1' };
  const firsts = conns.map((c) => c.request(apiVersionsApi, 3, body));
  const t0 = process.hrtime.bigint();
  await Promise.all(firsts.map((f, i) => f.then(() => conns[i]!.request(apiVersionsApi, 3, body))));
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Runs `total` requests through `send`, keeping `WINDOW` in flight; returns the ms they took. */
async function windowed(total: number, send: (i: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < total) await send(next++);
    }),
  );
  return performance.now() - t0;
}

export async function run(): Promise<Figure[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brook-bench-groups-'));
  const broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir, log: false, properties: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 50 } });
  try {
    const admin = await Conn.open(broker.port);
    const topic = 'bench-topic';
    await admin.request(createTopicsApi, 4, {
      topics: [
        { name: topic, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'bench-produce', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    });

    // ---- rebalance
    const conns = await Promise.all(Array.from({ length: MEMBERS }, () => Conn.open(broker.port)));
    // The first JoinGroup (v5, no member id) answers MEMBER_ID_REQUIRED with each member's id;
    // tinybench's warmup rounds follow.
    let ids = Array.from({ length: MEMBERS }, () => '');
    const first = await Promise.all(conns.map((c) => c.request(joinGroupApi, 5, { groupId: 'bench-group', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'roundrobin', metadata: encodeSubscription([topic]) }] })));
    ids = first.map((r) => r.memberId);
    let generation = 0;
    const rounds = await measure(
      {
        rebalance: {
          batch: 1,
          timed: async () => {
            const res = await rebalance(conns, topic, ids);
            ids = res.memberIds;
            generation = res.generation;
            return res.ms;
          },
        },
        apiVersions: { batch: 1, timed: () => apiVersionsFlow(conns) },
      },
      { time: 0, iterations: ROUNDS, warmupTime: 0, warmupIterations: 3 },
    );
    for (const c of conns) c.close();

    // ---- commits vs produce
    const metadata = 'x'.repeat(20);
    const commitOnce = async (i: number) => {
      const r = await admin.request(offsetCommitApi, 7, {
        groupId: 'bench-committer',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: topic, partitions: [{ partitionIndex: i % PARTITIONS, committedOffset: BigInt(i), committedLeaderEpoch: -1, committedMetadata: metadata }] }],
      });
      if (r.topics[0]!.partitions[0]!.errorCode !== 0) throw new Error(`commit failed: ${r.topics[0]!.partitions[0]!.errorCode}`);
    };
    // The batch a commit appends: key (group, topic, partition) ~ 40 bytes, value ~ 40 bytes.
    const value = Buffer.alloc(40, 0x61);
    const key = Buffer.alloc(40, 0x6b);
    const produceOnce = async () => {
      const records = buildBatch({ records: [{ key, value }] });
      const r = await admin.request(produceApi, 7, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'bench-produce', partitionData: [{ index: 0, records }] }] });
      if (r.responses[0]!.partitionResponses[0]!.errorCode !== 0) throw new Error('produce failed');
    };
    const rates = await measure({ commit: { timed: (n) => windowed(n, commitOnce) }, produce: { timed: (n) => windowed(n, produceOnce) } }, { time: 1500, sampleMs: 100 });
    admin.close();

    return [
      {
        name: `rebalance: ${MEMBERS} members, ${PARTITIONS} partitions (last JoinGroup sent -> every SyncGroup answered)`,
        ours: duration(rounds.rebalance!),
        baseline: duration(rounds.apiVersions!),
        unit: 'ms',
        baselineName: `${MEMBERS} connections x 2 sequential ApiVersions round trips`,
        higherIsBetter: false,
        extra: { generation },
      },
      {
        name: `offset commits, 1 partition each, one connection, ${WINDOW} in flight`,
        ours: rate(rates.commit!, 1),
        baseline: rate(rates.produce!, 1),
        unit: 'req/s',
        baselineName: 'Produce acks=1 of a same-size one-record batch, same window',
      },
    ];
  } finally {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
