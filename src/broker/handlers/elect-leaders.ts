/**
 * ElectLeaders (key 43), v0-2 (kafka-leader-election.sh, Admin.electLeaders).
 *
 * v0 is always a preferred election; v1+ names the type: PREFERRED (the first assigned replica
 * leads if it is live and in the ISR) or UNCLEAN (a partition without a live leader gets the first
 * live ISR member, else any live replica). Null topic_partitions: every partition.
 * Per partition: NONE (elected; answered once this broker's metadata shows the new leader, or at
 * timeout_ms), ELECTION_NOT_NEEDED (the preferred replica leads / a live leader exists),
 * PREFERRED_LEADER_NOT_AVAILABLE (preferred replica dead or out of the ISR),
 * ELIGIBLE_LEADERS_NOT_AVAILABLE (unclean: no live replica), UNKNOWN_TOPIC_OR_PARTITION.
 * Only the controller elects: another broker answers NOT_CONTROLLER, as the top-level error from
 * v1, on every partition in v0 (no top-level field); Kafka's admin client then retries at the
 * controller Metadata names. A single node leads everything already: ELECTION_NOT_NEEDED.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { electLeadersApi } from '../../protocol/schemas/elect-leaders.js';
import type { Broker } from '../broker.js';
import { toErrorCode } from '../errors.js';
import { defineHandler } from '../handler.js';

interface PartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string | null;
}

export const electLeadersHandler = defineHandler({
  api: electLeadersApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, { broker, version }) {
    const type = version >= 1 && req.electionType === 1 ? 1 : 0;
    const requested = req.topicPartitions === null ? null : req.topicPartitions.flatMap((t) => t.partitionId.map((partition) => ({ topic: t.topic, partition })));
    let results: PartitionResult[];
    if (!broker.cluster) {
      results = (requested ?? everyLocalPartition(broker)).map((tp) => {
        const exists = (broker.topics.get(tp.topic)?.partitions.length ?? 0) > tp.partition && tp.partition >= 0;
        return exists
          ? { ...tp, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'a single node leads every partition' }
          : { ...tp, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `unknown partition ${tp.topic}-${tp.partition}` };
      });
    } else {
      try {
        results = await broker.cluster.electLeaders(type, requested, Math.max(0, req.timeoutMs));
      } catch (e) {
        const { errorCode, message } = toErrorCode(e, broker.log);
        if (version >= 1) return { throttleTimeMs: 0, errorCode, replicaElectionResults: [] };
        results = (requested ?? everyLocalPartition(broker)).map((tp) => ({ ...tp, errorCode, errorMessage: message }));
      }
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: byTopic(results) };
  },
});

function everyLocalPartition(broker: Broker): { topic: string; partition: number }[] {
  return [...broker.topics.all()].flatMap((t) => t.partitions.map((_, partition) => ({ topic: t.name, partition })));
}

/** Groups results by topic, topics in first-seen order. */
function byTopic(results: PartitionResult[]) {
  const topics = new Map<string, { partitionId: number; errorCode: number; errorMessage: string | null }[]>();
  for (const r of results) {
    let list = topics.get(r.topic);
    if (!list) topics.set(r.topic, (list = []));
    list.push({ partitionId: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage });
  }
  return [...topics].map(([topic, partitionResult]) => ({ topic, partitionResult }));
}
