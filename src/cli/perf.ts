/**
 * `brook perf <produce|consume|e2e>`: Kafka's performance tools. Each subcommand lives in
 * src/cli/perf/ and is loaded only when run; this module picks it and runs it through runCommand,
 * so its errors read `brook perf produce: ...` and its exit codes are the usual 0 / 1 / 2.
 */
import { UsageError } from './args.js';
import { runCommand, type Command } from './command.js';

const SUBCOMMANDS: { name: string; summary: string; load: () => Promise<{ command: Command }> }[] = [
  { name: 'produce', summary: 'Producer throughput and latency (kafka-producer-perf-test.sh).', load: () => import('./perf/produce.js') },
  { name: 'consume', summary: 'Consumer throughput, one CSV line (kafka-consumer-perf-test.sh).', load: () => import('./perf/consume.js') },
  { name: 'e2e', summary: 'Produce-to-consume latency at a given rate (Kafka EndToEndLatency).', load: () => import('./perf/e2e.js') },
];

const SUMMARY = 'Performance tools: perf produce, perf consume, perf e2e (Kafka *-perf-test.sh).';

const HELP = `Usage: brook perf <produce|consume|e2e> [options]

${SUMMARY}

Commands:
${SUBCOMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join('\n')}

Run 'brook perf <command> --help' for its options.
`;

export const command: Command = { name: 'perf', summary: SUMMARY, run };

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const sub = SUBCOMMANDS.find((c) => c.name === name);
  if (!sub) throw new UsageError(`unknown perf command "${name}" (produce, consume, e2e)`);
  return runCommand((await sub.load()).command, rest);
}
