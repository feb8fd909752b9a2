/**
 * A Jepsen-style history of a queue workload and its checker, in the spirit of the Redpanda and
 * Bufstream analyses (reference/cluster.md §3.2): producers send unique values, consumers poll
 * them, every outcome is recorded, and afterwards the checker looks for the anomalies a broken
 * replication protocol produces. Nothing here talks to a broker: tests record into a History
 * and call check().
 *
 * Results follow Jepsen's three-valued convention:
 * - 'ok'   the broker acknowledged the send (and, when the client says so, at `offset`);
 * - 'fail' the send definitely did not happen (an error returned before anything was appended,
 *          e.g. NOT_ENOUGH_REPLICAS on a single attempt): reading it later is G1a;
 * - 'info' indeterminate: timeouts, NOT_ENOUGH_REPLICAS_AFTER_APPEND, connection loss, an error
 *          after retries. The value may or may not be in the log; neither outcome is an anomaly.
 *
 * Polls are recorded one record at a time (consumer, partition, offset, value). An 'assign' entry
 * marks a point where a consumer's position may legitimately move back (a group rebalance or a
 * restart re-reads from the committed offset): monotonicity is checked between assigns only.
 */
import { writeFileSync } from 'node:fs';

export type OpResult = 'ok' | 'fail' | 'info';

export interface SendOp {
  kind: 'send';
  /** Which producer sent it (for the report only). */
  process: string;
  partition: number;
  /** Unique within the partition. */
  value: string;
  /** The acknowledged offset, when the client reported one. */
  offset?: number;
  result: OpResult;
  /** Date.now() when the send was invoked and when its outcome was known: real-time order. */
  start: number;
  end: number;
  error?: string;
}

export interface PollOp {
  kind: 'poll';
  /** The consumer that read it: monotonicity and skips are per consumer and partition. */
  process: string;
  partition: number;
  value: string;
  offset: number;
  result: 'ok';
  end: number;
}

export interface AssignOp {
  kind: 'assign';
  process: string;
  /** undefined: every partition of this consumer. */
  partition?: number;
  end: number;
}

export type Op = SendOp | PollOp | AssignOp;

export interface HistoryReport {
  /** Acknowledged, never read by anyone, although a later offset of its partition was read. */
  lost: { partition: number; value: string; offset?: number }[];
  /** Acknowledged, never read by the final drain (or by anyone when no drain is named). */
  unseen: { partition: number; value: string; offset?: number }[];
  /** One value at two or more offsets (acknowledged or read). */
  duplicates: { partition: number; value: string; offsets: number[] }[];
  /** One offset holding two or more values (acknowledged or read), e.g. by two readers. */
  inconsistentOffsets: { partition: number; offset: number; values: string[] }[];
  /** A consumer read an offset not above the one it read before (no assign in between). */
  nonMonotonicPoll: { process: string; partition: number; from: number; to: number }[];
  /** A consumer jumped over an offset that holds a value (read by someone or acknowledged). */
  pollSkip: { process: string; partition: number; from: number; to: number; skipped: number[] }[];
  /** A value whose send definitely failed was read. */
  g1a: { partition: number; value: string; offset: number }[];
  /** A value read that no producer ever sent. */
  unexpected: { partition: number; value: string; offset: number }[];
  counts: { sendOk: number; sendFail: number; sendInfo: number; polls: number };
}

export interface CheckOptions {
  /** The consumer whose reads make up the final drain, for `unseen`. */
  drain?: string;
}

export function isValid(r: HistoryReport): boolean {
  return (
    r.lost.length + r.unseen.length + r.duplicates.length + r.inconsistentOffsets.length + r.nonMonotonicPoll.length + r.pollSkip.length + r.g1a.length + r.unexpected.length ===
    0
  );
}

/** A one-paragraph account of a report, for assertion messages (the first few of each anomaly). */
export function summarize(r: HistoryReport): string {
  const parts = [`sends ok=${r.counts.sendOk} fail=${r.counts.sendFail} info=${r.counts.sendInfo}, polls=${r.counts.polls}`];
  for (const key of ['lost', 'unseen', 'duplicates', 'inconsistentOffsets', 'nonMonotonicPoll', 'pollSkip', 'g1a', 'unexpected'] as const) {
    const list = r[key] as unknown[];
    if (list.length > 0) parts.push(`${key}=${list.length} ${JSON.stringify(list.slice(0, 5))}`);
  }
  return parts.join('; ');
}

export class History {
  readonly ops: Op[] = [];

  send(op: Omit<SendOp, 'kind'>): void {
    this.ops.push({ kind: 'send', ...op });
  }

  poll(process: string, partition: number, offset: number, value: string): void {
    this.ops.push({ kind: 'poll', process, partition, offset, value, result: 'ok', end: Date.now() });
  }

  assign(process: string, partition?: number): void {
    this.ops.push({ kind: 'assign', process, partition, end: Date.now() });
  }

  /**
   * Runs one send and records its outcome. `fn` resolves with the acknowledged offset (or
   * undefined if the client does not say); a rejection is classified by `classify`.
   */
  async track(process: string, partition: number, value: string, fn: () => Promise<number | undefined>, classify: (e: unknown) => OpResult = () => 'info'): Promise<OpResult> {
    const start = Date.now();
    try {
      const offset = await fn();
      this.send({ process, partition, value, offset, result: 'ok', start, end: Date.now() });
      return 'ok';
    } catch (e) {
      const result = classify(e);
      this.send({ process, partition, value, result: result === 'ok' ? 'info' : result, start, end: Date.now(), error: (e as Error)?.message ?? String(e) });
      return result;
    }
  }

  acked(partition?: number): SendOp[] {
    return this.ops.filter((o): o is SendOp => o.kind === 'send' && o.result === 'ok' && (partition === undefined || o.partition === partition));
  }

  /** Writes the history as JSON lines (one op a line) for a failed run's artifacts. */
  save(path: string): void {
    writeFileSync(path, this.ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
  }

  check(opts: CheckOptions = {}): HistoryReport {
    return checkHistory(this.ops, opts);
  }
}

export function checkHistory(ops: readonly Op[], opts: CheckOptions = {}): HistoryReport {
  const report: HistoryReport = {
    lost: [],
    unseen: [],
    duplicates: [],
    inconsistentOffsets: [],
    nonMonotonicPoll: [],
    pollSkip: [],
    g1a: [],
    unexpected: [],
    counts: { sendOk: 0, sendFail: 0, sendInfo: 0, polls: 0 },
  };
  const partitions = new Set<number>();
  for (const o of ops) if (o.kind !== 'assign' || o.partition !== undefined) partitions.add(o.partition!);

  for (const p of [...partitions].sort((a, b) => a - b)) {
    const sends = ops.filter((o): o is SendOp => o.kind === 'send' && o.partition === p);
    const polls = ops.filter((o): o is PollOp => o.kind === 'poll' && o.partition === p);
    const sendsByValue = new Map<string, SendOp[]>();
    for (const s of sends) {
      if (s.result === 'ok') report.counts.sendOk++;
      else if (s.result === 'fail') report.counts.sendFail++;
      else report.counts.sendInfo++;
      const list = sendsByValue.get(s.value) ?? [];
      list.push(s);
      sendsByValue.set(s.value, list);
    }
    report.counts.polls += polls.length;

    // Every (offset, value) fact the history holds: acknowledged offsets and reads.
    const valuesAt = new Map<number, Set<string>>();
    const offsetsOf = new Map<string, Set<number>>();
    const observe = (offset: number, value: string) => {
      const vs = valuesAt.get(offset) ?? new Set<string>();
      vs.add(value);
      valuesAt.set(offset, vs);
      const os = offsetsOf.get(value) ?? new Set<number>();
      os.add(offset);
      offsetsOf.set(value, os);
    };
    for (const s of sends) if (s.result === 'ok' && s.offset !== undefined) observe(s.offset, s.value);
    for (const r of polls) observe(r.offset, r.value);

    for (const [offset, vs] of [...valuesAt].sort((a, b) => a[0] - b[0])) {
      if (vs.size > 1) report.inconsistentOffsets.push({ partition: p, offset, values: [...vs].sort() });
    }
    for (const [value, os] of offsetsOf) {
      if (os.size > 1) report.duplicates.push({ partition: p, value, offsets: [...os].sort((a, b) => a - b) });
    }

    const read = new Map<string, PollOp>();
    for (const r of polls) if (!read.has(r.value)) read.set(r.value, r);
    const drained = new Set(polls.filter((r) => opts.drain === undefined || r.process === opts.drain).map((r) => r.value));
    const maxRead = polls.reduce((m, r) => Math.max(m, r.offset), -1);

    for (const r of read.values()) {
      const sent = sendsByValue.get(r.value);
      if (!sent) report.unexpected.push({ partition: p, value: r.value, offset: r.offset });
      // A value sent more than once (a test's own retry) is G1a only if every attempt failed.
      else if (sent.every((s) => s.result === 'fail')) report.g1a.push({ partition: p, value: r.value, offset: r.offset });
    }

    for (const s of sends) {
      if (s.result !== 'ok') continue;
      if (!drained.has(s.value)) report.unseen.push({ partition: p, value: s.value, offset: s.offset });
      if (read.has(s.value)) continue;
      // Lost: the log moved on past it. With a known offset, "past" is a read above it; without
      // one, a read of a value whose send began after this one was acknowledged (real time).
      const later = s.offset !== undefined ? maxRead > s.offset : polls.some((r) => (sendsByValue.get(r.value) ?? []).some((x) => x.start > s.end));
      if (later) report.lost.push({ partition: p, value: s.value, offset: s.offset });
    }

    // Per consumer, between assigns: offsets strictly increase, and no offset known to hold a
    // value is jumped over. Offsets never observed are not skips (control records, gaps).
    const known = [...valuesAt.keys()].sort((a, b) => a - b);
    const last = new Map<string, number>();
    for (const o of ops) {
      if (o.kind === 'assign') {
        if (o.partition === undefined || o.partition === p) last.delete(o.process);
        continue;
      }
      if (o.kind !== 'poll' || o.partition !== p) continue;
      const prev = last.get(o.process);
      last.set(o.process, o.offset);
      if (prev === undefined) continue;
      if (o.offset <= prev) {
        report.nonMonotonicPoll.push({ process: o.process, partition: p, from: prev, to: o.offset });
      } else if (o.offset > prev + 1) {
        const skipped = known.filter((k) => k > prev && k < o.offset);
        if (skipped.length > 0) report.pollSkip.push({ process: o.process, partition: p, from: prev, to: o.offset, skipped });
      }
    }
  }
  return report;
}
