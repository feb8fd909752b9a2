import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, rangeAssign, roundRobinAssign, type Subscriber, type TopicPartition } from '../../../src/coordinator/assignors.js';
import { subscribedTopics } from '../../../src/coordinator/consumer-protocol.js';

// kafkajs's own encoders: what a kafkajs member sends and expects.
const { MemberMetadata, MemberAssignment } = createRequire(import.meta.url)('kafkajs/src/consumer/assignerProtocol.js') as {
  MemberMetadata: { encode(o: { version: number; topics: string[] }): Buffer; decode(b: Buffer): { version: number; topics: string[]; userData: Buffer | null } };
  MemberAssignment: { encode(o: { version: number; assignment: Record<string, number[]> }): Buffer; decode(b: Buffer): { version: number; assignment: Record<string, number[]> } | null };
};

const counts = (m: Record<string, number>) => (t: string) => m[t];
const names = (tps: TopicPartition[] | undefined) => (tps ?? []).map((tp) => `${tp.topic}-${tp.partition}`);
const dyn = (memberId: string, topics: string[]): Subscriber => ({ memberId, groupInstanceId: null, topics });

describe('rangeAssign (Kafka RangeAssignor)', () => {
  it('gives each subscriber a contiguous run per topic, the first ones one extra', () => {
    const a = rangeAssign([dyn('c1', ['t0', 't1']), dyn('c0', ['t0', 't1'])], counts({ t0: 3, t1: 3 }));
    expect(names(a.get('c0'))).toEqual(['t0-0', 't0-1', 't1-0', 't1-1']);
    expect(names(a.get('c1'))).toEqual(['t0-2', 't1-2']);
  });

  it('splits a topic only among its subscribers and orders static members first, by instance id', () => {
    const members = [dyn('a', ['t']), { memberId: 'z', groupInstanceId: 'i1', topics: ['t', 'u'] }, dyn('b', ['u'])];
    const a = rangeAssign(members, counts({ t: 4, u: 1 }));
    expect(names(a.get('z'))).toEqual(['t-0', 't-1', 'u-0']);
    expect(names(a.get('a'))).toEqual(['t-2', 't-3']);
    expect(names(a.get('b'))).toEqual([]);
  });

  it('leaves out topics with an unknown partition count; every member still gets an entry', () => {
    const a = rangeAssign([dyn('a', ['gone'])], counts({}));
    expect([...a]).toEqual([['a', []]]);
  });
});

describe('roundRobinAssign', () => {
  it('deals sorted topic-partitions in member order (Kafka RoundRobinAssignor)', () => {
    const a = roundRobinAssign([dyn('c1', ['t0', 't1']), dyn('c0', ['t0', 't1'])], counts({ t1: 3, t0: 3 }));
    expect(names(a.get('c0'))).toEqual(['t0-0', 't0-2', 't1-1']);
    expect(names(a.get('c1'))).toEqual(['t0-1', 't1-0', 't1-2']);
  });

  it('skips members not subscribed to a topic', () => {
    const a = roundRobinAssign([dyn('c0', ['t0']), dyn('c1', ['t0', 't1']), dyn('c2', ['t0', 't1', 't2'])], counts({ t0: 1, t1: 2, t2: 3 }));
    expect(names(a.get('c0'))).toEqual(['t0-0']);
    expect(names(a.get('c1'))).toEqual(['t1-0']);
    expect(names(a.get('c2'))).toEqual(['t1-1', 't2-0', 't2-1', 't2-2']);
  });

  it("orders by member id alone for kafkajs's RoundRobinAssigner", () => {
    const members = [dyn('a', ['t']), { memberId: 'b', groupInstanceId: 'static', topics: ['t'] }];
    expect(names(roundRobinAssign(members, counts({ t: 2 })).get('b'))).toEqual(['t-0']);
    expect(names(roundRobinAssign(members, counts({ t: 2 }), true).get('b'))).toEqual(['t-1']);
  });
});

describe('consumer protocol encoding', () => {
  it('writes a v0 subscription that kafkajs and the broker read', () => {
    const buf = encodeSubscription(['orders', 'ünïcode']);
    expect(buf.readInt16BE(0)).toBe(0);
    expect(buf.readInt32BE(buf.length - 4)).toBe(-1); // null user_data
    expect(MemberMetadata.decode(buf)).toMatchObject({ version: 0, topics: ['orders', 'ünïcode'], userData: null });
    expect(subscribedTopics(buf)).toEqual(['orders', 'ünïcode']);
  });

  it("reads kafkajs's subscription and later versions' trailing fields", () => {
    expect(decodeSubscription(MemberMetadata.encode({ version: 0, topics: ['a', 'b'] })).topics).toEqual(['a', 'b']);
    const v3 = Buffer.concat([encodeSubscription(['x']).subarray(0, -4), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xff])]);
    v3.writeInt16BE(3, 0);
    expect(decodeSubscription(v3)).toEqual({ version: 3, topics: ['x'] });
    expect(() => decodeSubscription(Buffer.from([0, 0, 0, 0, 0, 9]))).toThrow(/invalid array length 9/);
  });

  it('writes a v0 assignment kafkajs reads, and reads what kafkajs writes', () => {
    const parts = [
      { topic: 't', partition: 0 },
      { topic: 'u', partition: 2 },
      { topic: 't', partition: 3 },
    ];
    expect(MemberAssignment.decode(encodeAssignment(parts))).toMatchObject({ version: 0, assignment: { t: [0, 3], u: [2] } });
    expect(decodeAssignment(MemberAssignment.encode({ version: 1, assignment: { t: [1, 2], v: [0] } }))).toEqual([
      { topic: 't', partition: 1 },
      { topic: 't', partition: 2 },
      { topic: 'v', partition: 0 },
    ]);
    expect(decodeAssignment(encodeAssignment([]))).toEqual([]);
  });

  it('reads empty bytes (a member the leader left out) as no partitions and refuses garbage', () => {
    expect(decodeAssignment(Buffer.alloc(0))).toEqual([]);
    expect(() => decodeAssignment(Buffer.from([0xff, 0xff]))).toThrow(/version/);
    expect(() => decodeAssignment(Buffer.from([0, 0, 0, 0, 0, 1, 0, 5, 0x61, 0, 0, 0]))).toThrow(/need 5 bytes, 4 left/);
  });
});
