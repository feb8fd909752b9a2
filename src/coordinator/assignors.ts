/**
 * The client side of the consumer embedded protocol (protocol_type "consumer"): what a member
 * offers in JoinGroup, what a leader hands out in SyncGroup, and the assignors that decide it. The
 * broker itself never reads an assignment (consumer-protocol.ts reads only the topics of a
 * subscription); members the broker runs in-process (WebSocket group members, src/ws/) use this.
 *
 *   ConsumerProtocolSubscription, as written here (v0):
 *     version      int16 (0)
 *     topics       int32 count, then int16-length UTF-8 strings
 *     user_data    int32 length (-1 = null), then bytes
 *   Later versions append owned_partitions (v1), generation_id (v2), rack_id (v3); readers skip them.
 *
 *   ConsumerProtocolAssignment, as written here (v0):
 *     version      int16 (0)
 *     assigned     int32 count, then per topic: int16-length string, int32 count, int32 partitions
 *     user_data    int32 length (-1 = null), then bytes
 *   kafkajs writes v0 with an empty (length 0) user_data; Java v1+ adds nothing before user_data.
 *
 * Assignors, by protocol name:
 * - "range": Kafka's RangeAssignor. Per topic, its subscribers in member order (below) split the
 *   partitions into contiguous runs; the first `partitions % subscribers` get one more.
 * - "roundrobin": Kafka's RoundRobinAssignor. Every subscribed partition, topics sorted then
 *   partitions ascending, goes to the next member in member order that subscribes to its topic.
 * - "RoundRobinAssigner": kafkajs's default. The same walk with members sorted by member id alone,
 *   as kafkajs sorts them (kafkajs also ignores who subscribes to what; with equal subscriptions the
 *   two agree, and honouring subscriptions never hands a member a topic it does not read).
 * Member order is Kafka's MemberInfo order: static members first by group.instance.id, then
 * dynamic ones by member id; strings compare by UTF-16 code units as Java's compareTo does.
 * Topics whose partition count is unknown are left out, as Kafka's assignors leave out topics
 * without metadata.
 */
import { Reader } from '../protocol/reader.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** One member's subscription, as the leader sees it in its JoinGroup answer. */
export interface Subscriber {
  memberId: string;
  groupInstanceId: string | null;
  topics: string[];
}

/** Partition count of a topic; undefined when unknown. */
export type PartitionCounts = (topic: string) => number | undefined;

/** The protocols a member offers, most preferred first. */
export const ASSIGNOR_PROTOCOLS = ['range', 'roundrobin', 'RoundRobinAssigner'] as const;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function kafkaMemberOrder(a: Subscriber, b: Subscriber): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compare(a.groupInstanceId, b.groupInstanceId);
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compare(a.memberId, b.memberId);
}

function emptyAssignment(members: Subscriber[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}

/** Subscribed topics with a known partition count, sorted, with that count. */
function knownTopics(members: Subscriber[], partitionCount: PartitionCounts): [string, number][] {
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compare);
  return topics.flatMap((t): [string, number][] => {
    const n = partitionCount(t);
    return n === undefined || n <= 0 ? [] : [[t, n]];
  });
}

/** Kafka's RangeAssignor: member id -> partitions (every member present, maybe with none). */
export function rangeAssign(members: Subscriber[], partitionCount: PartitionCounts): Map<string, TopicPartition[]> {
  const out = emptyAssignment(members);
  const ordered = [...members].sort(kafkaMemberOrder);
  for (const [topic, count] of knownTopics(members, partitionCount)) {
    const subscribers = ordered.filter((m) => m.topics.includes(topic));
    const per = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    subscribers.forEach((m, i) => {
      const start = per * i + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      for (let p = start; p < start + length; p++) out.get(m.memberId)!.push({ topic, partition: p });
    });
  }
  return out;
}

/**
 * Round robin over the sorted topic-partitions, skipping members not subscribed to the topic.
 * `byMemberIdOnly`: kafkajs's member order instead of Kafka's.
 */
export function roundRobinAssign(members: Subscriber[], partitionCount: PartitionCounts, byMemberIdOnly = false): Map<string, TopicPartition[]> {
  const out = emptyAssignment(members);
  const ordered = [...members].sort(byMemberIdOnly ? (a, b) => compare(a.memberId, b.memberId) : kafkaMemberOrder);
  let next = 0;
  for (const [topic, count] of knownTopics(members, partitionCount)) {
    for (let p = 0; p < count; p++) {
      // Some member subscribes to `topic` (knownTopics comes from the subscriptions), so this ends.
      while (!ordered[next % ordered.length]!.topics.includes(topic)) next++;
      out.get(ordered[next % ordered.length]!.memberId)!.push({ topic, partition: p });
      next++;
    }
  }
  return out;
}

/** The assignment of the named protocol, or undefined for a protocol this module does not know. */
export function assignFor(protocol: string, members: Subscriber[], partitionCount: PartitionCounts): Map<string, TopicPartition[]> | undefined {
  switch (protocol) {
    case 'range':
      return rangeAssign(members, partitionCount);
    case 'roundrobin':
      return roundRobinAssign(members, partitionCount);
    case 'RoundRobinAssigner':
      return roundRobinAssign(members, partitionCount, true);
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------- encoding

/** A v0 ConsumerProtocolSubscription with null user_data. */
export function encodeSubscription(topics: string[]): Buffer {
  const names = topics.map((t) => Buffer.from(t, 'utf8'));
  const buf = Buffer.alloc(2 + 4 + names.reduce((n, b) => n + 2 + b.length, 0) + 4);
  let pos = buf.writeInt16BE(0, 0);
  pos = buf.writeInt32BE(names.length, pos);
  for (const b of names) {
    pos = buf.writeInt16BE(b.length, pos);
    pos += b.copy(buf, pos);
  }
  buf.writeInt32BE(-1, pos);
  return buf;
}

/** The topics of a ConsumerProtocolSubscription of any version (later fields are not read). Throws if malformed. */
export function decodeSubscription(buf: Buffer): { version: number; topics: string[] } {
  // protocol/reader.ts: bounds-checked (ProtocolError), counts checked against the bytes left.
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0) throw new Error(`consumer subscription: version ${version}`);
  const n = r.arrayLength() ?? 0;
  const topics: string[] = [];
  for (let i = 0; i < n; i++) topics.push(r.string());
  return { version, topics };
}

/** A v0 ConsumerProtocolAssignment with null user_data; topics in order of first appearance. */
export function encodeAssignment(partitions: TopicPartition[]): Buffer {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  const topics = [...byTopic].map(([t, ps]) => [Buffer.from(t, 'utf8'), ps] as const);
  const size = 2 + 4 + topics.reduce((n, [name, ps]) => n + 2 + name.length + 4 + 4 * ps.length, 0) + 4;
  const buf = Buffer.alloc(size);
  let pos = buf.writeInt16BE(0, 0);
  pos = buf.writeInt32BE(topics.length, pos);
  for (const [name, ps] of topics) {
    pos = buf.writeInt16BE(name.length, pos);
    pos += name.copy(buf, pos);
    pos = buf.writeInt32BE(ps.length, pos);
    for (const p of ps) pos = buf.writeInt32BE(p, pos);
  }
  buf.writeInt32BE(-1, pos);
  return buf;
}

/**
 * The partitions of a ConsumerProtocolAssignment of any version (user_data and later fields are
 * not read). Empty bytes, what the group gives a member the leader left out, are no partitions.
 * Throws if malformed.
 */
export function decodeAssignment(buf: Buffer): TopicPartition[] {
  if (buf.length === 0) return [];
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0) throw new Error(`consumer assignment: version ${version}`);
  const out: TopicPartition[] = [];
  const topics = r.arrayLength() ?? 0;
  for (let i = 0; i < topics; i++) {
    const topic = r.string();
    const n = r.arrayLength() ?? 0;
    for (let j = 0; j < n; j++) out.push({ topic, partition: r.int32() });
  }
  return out;
}
