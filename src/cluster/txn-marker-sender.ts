/**
 * Transaction markers for partitions another broker leads: the transaction coordinator's side of
 * WriteTxnMarkers (Kafka's TransactionMarkerChannelManager). One connection per destination
 * broker, one request per leader and marker carrying all its partitions.
 *
 * A marker must reach every partition of its transaction before the coordinator may write
 * CompleteCommit/CompleteAbort, so retriable failures are retried with fresh leadership from the
 * etcd mirror until the deadline: a leader that moved (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH),
 * no live leader yet, too few in-sync replicas, a timeout, a broken connection. A partition whose
 * topic is gone (UNKNOWN_TOPIC_OR_PARTITION after the topic left the mirror) needs no marker, as in
 * Kafka. Other codes (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED) are final and go back
 * to the coordinator.
 */
import type { LiveBroker, PartitionView } from '../broker/cluster-membership.js';
import type { TxnMarker } from '../broker/control-records.js';
import { BrokerConnection } from '../kafka/connection.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { writeTxnMarkersApi } from '../protocol/schemas/write-txn-markers.js';
import type { Logger } from '../util/logger.js';

export interface MarkerTarget {
  topic: string;
  partition: number;
}

export interface MarkerResult extends MarkerTarget {
  errorCode: number;
}

/** What the sender reads of the cluster: leadership and addresses, from the etcd mirror. */
export interface MarkerRouting {
  readonly nodeId: number;
  partitionView(topic: string, partition: number): PartitionView | undefined;
  liveBrokers(): LiveBroker[];
}

const RETRIABLE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR,
]);

const RETRY_BACKOFF_MS = 100;

export class TxnMarkerSender {
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  private closed = false;

  constructor(
    private readonly routing: MarkerRouting,
    private readonly log: Logger,
  ) {}

  /**
   * Writes `marker` to every target through its leader; resolves per partition with NONE or the
   * final error once all are done or `timeoutMs` passed (then the last retriable error stands).
   * `local` writes the partitions this broker leads itself (no request to itself).
   */
  async send(marker: TxnMarker, targets: MarkerTarget[], timeoutMs: number, local: (t: MarkerTarget) => Promise<number>): Promise<MarkerResult[]> {
    const deadline = Date.now() + timeoutMs;
    const results = new Map<MarkerTarget, number>();
    let open = [...targets];
    while (open.length > 0) {
      const byLeader = new Map<number, MarkerTarget[]>();
      for (const t of open) {
        const view = this.routing.partitionView(t.topic, t.partition);
        if (!view) {
          results.set(t, ErrorCode.NONE); // the topic is gone: nothing to mark
          continue;
        }
        const list = byLeader.get(view.leader) ?? [];
        list.push(t);
        byLeader.set(view.leader, list);
      }
      await Promise.all(
        [...byLeader].map(async ([leader, list]) => {
          if (leader < 0) {
            for (const t of list) results.set(t, ErrorCode.LEADER_NOT_AVAILABLE);
            return;
          }
          if (leader === this.routing.nodeId) {
            await Promise.all(list.map(async (t) => results.set(t, await local(t))));
            return;
          }
          try {
            const codes = await this.request(leader, marker, list);
            for (const t of list) results.set(t, codes.get(`${t.topic}\0${t.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR);
          } catch (e) {
            this.log.debug(`transaction marker to broker ${leader}: ${(e as Error).message}`);
            this.dropConnection(leader);
            for (const t of list) results.set(t, ErrorCode.REQUEST_TIMED_OUT);
          }
        }),
      );
      open = open.filter((t) => RETRIABLE.has(results.get(t)!) || (results.get(t) === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && this.routing.partitionView(t.topic, t.partition) !== undefined));
      if (open.length === 0 || this.closed || Date.now() + RETRY_BACKOFF_MS > deadline) break;
      await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
    }
    return targets.map((t) => ({ ...t, errorCode: results.get(t) ?? ErrorCode.REQUEST_TIMED_OUT }));
  }

  private async request(leader: number, marker: TxnMarker, list: MarkerTarget[]): Promise<Map<string, number>> {
    const conn = await this.connection(leader);
    const topics = new Map<string, number[]>();
    for (const t of list) topics.set(t.topic, [...(topics.get(t.topic) ?? []), t.partition]);
    const res = await conn.request(writeTxnMarkersApi, {
      markers: [
        {
          producerId: BigInt(marker.producerId),
          producerEpoch: marker.producerEpoch,
          transactionResult: marker.commit,
          topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
          coordinatorEpoch: marker.coordinatorEpoch,
        },
      ],
    });
    const codes = new Map<string, number>();
    for (const m of res.markers) for (const t of m.topics) for (const p of t.partitions) codes.set(`${t.name}\0${p.partitionIndex}`, p.errorCode);
    return codes;
  }

  private connection(nodeId: number): Promise<BrokerConnection> {
    const cached = this.connections.get(nodeId);
    if (cached) {
      return cached.then((c) => {
        if (!c.closed) return c;
        this.connections.delete(nodeId);
        return this.connection(nodeId);
      });
    }
    const target = this.routing.liveBrokers().find((b) => b.nodeId === nodeId);
    if (!target) return Promise.reject(new Error(`broker ${nodeId} is not live`));
    const opening = BrokerConnection.open(target.host, target.port, { clientId: `brook-txn-markers-${this.routing.nodeId}`, connectTimeoutMs: 3000, requestTimeoutMs: 10_000 });
    opening.catch(() => this.connections.delete(nodeId));
    this.connections.set(nodeId, opening);
    return opening;
  }

  private dropConnection(nodeId: number): void {
    const c = this.connections.get(nodeId);
    this.connections.delete(nodeId);
    void c?.then((conn) => conn.close()).catch(() => {});
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.connections.keys()]) this.dropConnection(id);
  }
}
