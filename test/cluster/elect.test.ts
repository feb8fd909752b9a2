/**
 * Preferred leaders in a three-broker cluster on a real etcd: ElectLeaders (key 43) frame by frame
 * at the controller and elsewhere, and the controller's automatic preferred-leader rebalance
 * (auto.leader.rebalance.enable, leader.imbalance.check.interval.seconds=1).
 *
 * Each cluster creates one RF 3 topic whose preferred replica (the first assigned) is a broker
 * other than the controller, kills it with SIGKILL, waits for the failover, restarts it and waits
 * until it is back in the ISR. Then leadership is still elsewhere: ElectLeaders (or, in the second
 * cluster, the imbalance check alone) must give it back.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConnection } from '../../src/kafka/connection.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import type { ApiSchema, ReqInput, Res } from '../../src/protocol/schema.js';
import { electLeadersApi } from '../../src/protocol/schemas/elect-leaders.js';
import { metadataApi } from '../../src/protocol/schemas/metadata.js';
import { kafkajs, startTestBroker, until, withAdmin } from '../integration/harness.js';
import { startCluster, type TestCluster } from './cluster-harness.js';

/** One request to broker `id` at `version`, on its own connection. */
async function ask<A extends ApiSchema>(c: TestCluster, id: number, api: A, version: number, body: ReqInput<A>): Promise<Res<A>> {
  const conn = await BrokerConnection.open('127.0.0.1', c.nodes.get(id)!.port, { clientId: 'elect-test', connectTimeoutMs: 5000, requestTimeoutMs: 15_000 });
  try {
    return await conn.request(api, body, { version });
  } finally {
    conn.close();
  }
}

async function controllerId(c: TestCluster, askId: number): Promise<number> {
  const md = await ask(c, askId, metadataApi, 9, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  return md.controllerId;
}

/**
 * Creates `topic` (RF 3, one partition) preferring a broker other than the controller, fails it
 * over by SIGKILL and brings it back into the ISR. Returns the preferred broker, the controller and
 * the partition's leader epoch after the failover.
 */
async function failOverPreferred(c: TestCluster, topic: string): Promise<{ preferred: number; controller: number; failoverEpoch: number }> {
  const controller = await controllerId(c, 1);
  expect(controller).toBeGreaterThan(0);
  const others = [1, 2, 3].filter((id) => id !== controller);
  const preferred = others[0];
  const admin = new Kafka({ brokers: c.bootstrap.split(','), clientId: 'elect-test', logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [preferred, controller, others[1]] }] }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  expect(await c.awaitLeader(topic, 0)).toBe(preferred);
  await until(`${topic}-0 with a full ISR`, async () => (await c.partition(topic, 0)).isr.length === 3);

  await c.kill(preferred, 'SIGKILL');
  await c.awaitLeader(topic, 0, { not: preferred });
  // Read before the restart: with auto rebalance on, the epoch moves again once it is back.
  const failoverEpoch = (await c.partition(topic, 0)).leaderEpoch;
  await c.restart(preferred);
  await until(`broker ${preferred} back in the ISR of ${topic}-0`, async () => (await c.partition(topic, 0).catch(() => undefined))?.isr.includes(preferred) === true, 30_000);
  return { preferred, controller, failoverEpoch };
}

const one = (topic: string, partitions: number[]) => [{ topic, partitionId: partitions }];

/** Every partition result of an ElectLeaders response, flattened. */
function flat(res: Res<typeof electLeadersApi>) {
  return res.replicaElectionResults.flatMap((t) => t.partitionResult.map((p) => ({ topic: t.topic, partition: p.partitionId, errorCode: p.errorCode })));
}

describe('ElectLeaders', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ brokers: 3, properties: { 'auto.leader.rebalance.enable': 'false', 'leader.imbalance.check.interval.seconds': 1 } });
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('elects the preferred replica back at the controller, and refuses or skips what needs no election', async () => {
    const { preferred, controller, failoverEpoch } = await failOverPreferred(c, 'e');
    // auto rebalance is off: with the preferred replica in the ISR for > 1 s, leadership stays put.
    await new Promise((r) => setTimeout(r, 1500));
    const before = await c.partition('e', 0);
    expect(before.leader).not.toBe(preferred);
    expect(before.leaderEpoch).toBe(failoverEpoch);

    // Named twice: elected and answered once.
    const elected = await ask(c, controller, electLeadersApi, 2, { electionType: 0, topicPartitions: one('e', [0, 0]), timeoutMs: 10_000 });
    expect(elected.errorCode).toBe(ErrorCode.NONE);
    expect(flat(elected)).toEqual([{ topic: 'e', partition: 0, errorCode: ErrorCode.NONE }]);
    // Answered once the controller's own metadata shows the new leader.
    const md = await ask(c, controller, metadataApi, 9, { topics: [{ name: 'e' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(md.topics[0].partitions[0].leaderId).toBe(preferred);
    expect(md.topics[0].partitions[0].leaderEpoch).toBeGreaterThan(failoverEpoch);
    await until('every broker to name the preferred leader', async () => (await c.partition('e', 0)).leader === preferred);

    const again = await ask(c, controller, electLeadersApi, 2, { electionType: 0, topicPartitions: one('e', [0]), timeoutMs: 10_000 });
    expect(flat(again)).toEqual([{ topic: 'e', partition: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED }]);
    // Unclean: a live leader exists.
    const unclean = await ask(c, controller, electLeadersApi, 1, { electionType: 1, topicPartitions: one('e', [0]), timeoutMs: 10_000 });
    expect(flat(unclean)).toEqual([{ topic: 'e', partition: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED }]);
    // Null topic_partitions: every partition.
    const all = await ask(c, controller, electLeadersApi, 2, { electionType: 0, topicPartitions: null, timeoutMs: 10_000 });
    expect(flat(all)).toContainEqual({ topic: 'e', partition: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED });

    const unknown = await ask(c, controller, electLeadersApi, 2, { electionType: 0, topicPartitions: [...one('e', [5]), ...one('no-such-topic', [0])], timeoutMs: 10_000 });
    expect(unknown.errorCode).toBe(ErrorCode.NONE);
    expect(flat(unknown)).toEqual([
      { topic: 'e', partition: 5, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
      { topic: 'no-such-topic', partition: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ]);
  });

  it('answers NOT_CONTROLLER on any other broker: top level from v1, per partition in v0', async () => {
    const controller = await controllerId(c, 1);
    const other = [1, 2, 3].find((id) => id !== controller)!;
    const v2 = await ask(c, other, electLeadersApi, 2, { electionType: 0, topicPartitions: one('e', [0]), timeoutMs: 10_000 });
    expect(v2.errorCode).toBe(ErrorCode.NOT_CONTROLLER);
    expect(v2.replicaElectionResults).toEqual([]);
    const v0 = await ask(c, other, electLeadersApi, 0, { topicPartitions: one('e', [0]), timeoutMs: 10_000 });
    expect(flat(v0)).toEqual([{ topic: 'e', partition: 0, errorCode: ErrorCode.NOT_CONTROLLER }]);
  });

  it('answers PREFERRED_LEADER_NOT_AVAILABLE while the preferred replica is dead', async () => {
    const controller = await controllerId(c, 1);
    const preferred = (await c.partition('e', 0)).replicas[0];
    await c.kill(preferred, 'SIGKILL');
    await c.awaitLeader('e', 0, { not: preferred });
    const res = await ask(c, controller, electLeadersApi, 2, { electionType: 0, topicPartitions: one('e', [0]), timeoutMs: 10_000 });
    expect(flat(res)).toEqual([{ topic: 'e', partition: 0, errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE }]);
  });
});

describe('automatic preferred-leader rebalance', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ brokers: 3, properties: { 'auto.leader.rebalance.enable': 'true', 'leader.imbalance.check.interval.seconds': 1 } });
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('gives leadership back to the preferred replica within seconds of its return to the ISR, unasked', async () => {
    const { preferred, failoverEpoch } = await failOverPreferred(c, 'r');
    const back = Date.now();
    let last = { leader: -1, leaderEpoch: -1 };
    await until(
      `broker ${preferred} to lead r-0 again`,
      async () => {
        last = await c.partition('r', 0);
        return last.leader === preferred;
      },
      5000,
    );
    // One check per second; the election lands at most about one interval after the ISR did.
    expect(Date.now() - back).toBeLessThan(5000);
    expect(last.leaderEpoch).toBeGreaterThan(failoverEpoch);
  });
});

describe('ElectLeaders on a single node', () => {
  it('answers ELECTION_NOT_NEEDED for existing partitions and UNKNOWN_TOPIC_OR_PARTITION otherwise', async () => {
    const b = await startTestBroker();
    try {
      await withAdmin(kafkajs(b.bootstrap), (admin) => admin.createTopics({ topics: [{ topic: 's', numPartitions: 2 }] }));
      const conn = await BrokerConnection.open('127.0.0.1', b.broker.port, { clientId: 'elect-test', connectTimeoutMs: 5000, requestTimeoutMs: 15_000 });
      try {
        const res = await conn.request(electLeadersApi, { electionType: 0, topicPartitions: [{ topic: 's', partitionId: [0, 1, 2] }], timeoutMs: 1000 }, { version: 2 });
        expect(res.errorCode).toBe(ErrorCode.NONE);
        expect(flat(res)).toEqual([
          { topic: 's', partition: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED },
          { topic: 's', partition: 1, errorCode: ErrorCode.ELECTION_NOT_NEEDED },
          { topic: 's', partition: 2, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
        ]);
        const all = await conn.request(electLeadersApi, { topicPartitions: null, timeoutMs: 1000 }, { version: 0 });
        expect(flat(all).filter((r) => r.topic === 's')).toEqual([
          { topic: 's', partition: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED },
          { topic: 's', partition: 1, errorCode: ErrorCode.ELECTION_NOT_NEEDED },
        ]);
      } finally {
        conn.close();
      }
    } finally {
      await b.close();
    }
  });
});
