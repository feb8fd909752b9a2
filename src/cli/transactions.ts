/**
 * `brook transactions`: the reads of kafka-transactions.sh. `list` asks every broker of the cluster
 * for the transactional ids it coordinates (ListTransactions, filtered by state, producer id and
 * open duration); `describe` asks one id's coordinator for its state and open partitions
 * (FindCoordinator key type 1, DescribeTransactions). A Kafka client on our own codec
 * (src/kafka/transactions-admin.ts), so it works against Apache Kafka and Redpanda too.
 *
 * The columns are Kafka's (TransactionsCommand): list `TransactionalId Coordinator ProducerId
 * TransactionState`, describe `CoordinatorId TransactionalId ProducerId ProducerEpoch
 * TransactionState CurrentTransactionTimeout CurrentTransactionStartTimeMs TransactionDurationMs
 * TopicPartitions`, each column as wide as its widest cell; `-` where Kafka prints None (no open
 * transaction). Where Brook differs from Kafka's tool, for scripts: describing an id no coordinator
 * knows is one line on stderr and exit 1, as any failed request; bad usage exits 2. The write
 * actions of Kafka's tool (abort, force-terminate, find-hanging) are not here.
 */
import { describeTransaction, listTransactions, TRANSACTION_STATES, type TransactionDescription, type TransactionListing } from '../kafka/transactions-admin.js';
import { CliError, helpText, intFlag, parseFlags, UsageError, type FlagTable, type ParsedFlags } from './args.js';
import type { Command } from './command.js';
import { CLIENT_FLAGS, clientFrom, HELP_FLAG, JSON_FLAG, out, printJson } from './common.js';

const MISSING = '-';
const LIST_ONLY = ['state', 'producer-id', 'min-duration-ms'] as const;

const FLAGS: FlagTable = {
  state: { kind: 'list', arg: 'state[,state...]', help: `list: only transactions in these states; repeatable\n(${TRANSACTION_STATES.slice(0, 4).join(', ')},\n${TRANSACTION_STATES.slice(4).join(', ')})` },
  'producer-id': { kind: 'list', arg: 'id[,id...]', help: 'list: only transactions of these producer ids; repeatable' },
  'min-duration-ms': { kind: 'string', arg: 'ms', help: 'list: only transactions open longer than this (ListTransactions v1)' },
  ...CLIENT_FLAGS,
  ...JSON_FLAG,
  ...HELP_FLAG,
};

const USAGE = 'brook transactions list [options] | describe <transactional.id> [options]';
const DESCRIPTION = `Show the transactions of the cluster: kafka-transactions.sh list and describe.

  brook transactions list [--state S ...] [--producer-id N ...] [--min-duration-ms N]
      every transactional id, from every broker: its coordinator, producer id and state
  brook transactions describe <transactional.id>
      at its coordinator: state, producer id and epoch, timeout, start time and duration of
      the open transaction, and its partitions; an unknown id exits 1`;

export const command: Command = {
  name: 'transactions',
  summary: 'List and describe transactions (kafka-transactions.sh list, describe).',
  async run(argv) {
    const flags = parseFlags(argv, FLAGS, { positionals: true });
    if (flags.booleans.has('help')) {
      await out(helpText(USAGE, DESCRIPTION, FLAGS));
      return 0;
    }
    const [action, ...rest] = flags.positionals;
    if (action !== 'list' && action !== 'describe') throw new UsageError(action === undefined ? 'give an action: list or describe' : `unknown action "${action}" (list or describe)`);
    const json = flags.booleans.has('json');
    if (action === 'list') {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
      const filter = listFilter(flags);
      const client = clientFrom(flags);
      try {
        return await printList(await listTransactions(client, filter), json);
      } finally {
        client.close();
      }
    }
    for (const f of LIST_ONLY) if (flags.lists.has(f) || flags.strings.has(f)) throw new UsageError(`--${f} can only be used with list`);
    if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'describe needs a transactional id' : `describe takes one transactional id, got ${rest.length}`);
    const id = rest[0]!;
    const client = clientFrom(flags);
    try {
      const d = await describeTransaction(client, id);
      // TRANSACTIONAL_ID_NOT_FOUND: never used, or expired (transactional.id.expiration.ms).
      if (d === null) throw new CliError(`transactional id '${id}' does not exist (TRANSACTIONAL_ID_NOT_FOUND)`);
      return await printDescription(d, json);
    } finally {
      client.close();
    }
  },
};

/** The list filters: states by Kafka's names (any case), producer ids as int64, the duration. */
function listFilter(flags: ParsedFlags): { states: string[]; producerIds: bigint[]; minDurationMs?: bigint } {
  const split = (name: string) => (flags.lists.get(name) ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
  const states = split('state').map((s) => {
    const name = TRANSACTION_STATES.find((t) => t.toLowerCase() === s.toLowerCase());
    if (!name) throw new UsageError(`--state: unknown state "${s}" (${TRANSACTION_STATES.join(', ')})`);
    return name;
  });
  const producerIds = split('producer-id').map((s) => {
    if (!/^\d+$/.test(s) || BigInt(s) >= 2n ** 63n) throw new UsageError(`--producer-id expects a producer id (a non-negative 64-bit integer), got "${s}"`);
    return BigInt(s);
  });
  const minDuration = intFlag(flags, 'min-duration-ms', 0);
  return { states: [...new Set(states)], producerIds: [...new Set(producerIds)], minDurationMs: minDuration === undefined ? undefined : BigInt(minDuration) };
}

/** Rows as columns each as wide as its widest cell, two spaces apart (the last one unpadded). */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`).join('');
}

async function printList(list: TransactionListing[], json: boolean): Promise<number> {
  if (json) {
    // Producer ids stay far below 2^53 (brokers hand them out one by one from 0).
    await printJson(list.map((t) => ({ transactionalId: t.transactionalId, coordinator: t.coordinator, producerId: Number(t.producerId), state: t.state })));
    return 0;
  }
  await out(table([['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'], ...list.map((t) => [t.transactionalId, String(t.coordinator), String(t.producerId), t.state])]));
  return 0;
}

async function printDescription(d: TransactionDescription, json: boolean): Promise<number> {
  const open = d.startTimeMs >= 0n;
  const durationMs = open ? Math.max(0, Date.now() - Number(d.startTimeMs)) : null;
  const partitions = d.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
  if (json) {
    await printJson({
      transactionalId: d.transactionalId,
      coordinator: d.coordinator,
      state: d.state,
      producerId: Number(d.producerId),
      producerEpoch: d.producerEpoch,
      timeoutMs: d.timeoutMs,
      startTimeMs: open ? Number(d.startTimeMs) : null,
      durationMs,
      partitions,
    });
    return 0;
  }
  const header = ['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'CurrentTransactionTimeout', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions'];
  const row = [
    String(d.coordinator.nodeId),
    d.transactionalId,
    String(d.producerId),
    String(d.producerEpoch),
    d.state,
    String(d.timeoutMs),
    open ? String(d.startTimeMs) : MISSING,
    durationMs === null ? MISSING : String(durationMs),
    partitions.length === 0 ? MISSING : partitions.map((p) => `${p.topic}-${p.partition}`).join(','),
  ];
  await out(table([header, row]));
  return 0;
}
