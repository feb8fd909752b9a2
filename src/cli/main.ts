/**
 * `brook <command>`: the command-line entry. Each subcommand parses its own flags and prints a
 * readable message (never a stack trace) for bad input, returning a non-zero exit code.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { runCommand, type Command } from './command.js';

/**
 * The client commands, loaded only when run (so `brook start` does not load them). Each module
 * exports `command: Command`. Order here is the order of `brook --help`.
 */
const COMMANDS: { name: string; summary: string; load: () => Promise<{ command: Command }> }[] = [
  { name: 'produce', summary: 'Send stdin lines to a topic (kafka-console-producer).', load: () => import('./produce.js') },
  { name: 'consume', summary: 'Print records of a topic (kafka-console-consumer).', load: () => import('./consume.js') },
  { name: 'dump-log', summary: 'Print segment files and check their indexes (kafka-dump-log.sh).', load: () => import('./dump-log.js') },
  { name: 'topics', summary: 'Create, list, describe, alter or delete topics (kafka-topics.sh).', load: () => import('./topics.js') },
  { name: 'configs', summary: 'Describe or alter topic and broker configs (kafka-configs.sh).', load: () => import('./configs.js') },
  { name: 'groups', summary: 'List, describe, delete consumer groups and reset their offsets (kafka-consumer-groups.sh).', load: () => import('./groups.js') },
  { name: 'transactions', summary: 'List and describe transactions (kafka-transactions.sh list, describe).', load: () => import('./transactions.js') },
  { name: 'cluster', summary: 'Run a local replicated cluster (cluster up) or show its brokers and partitions (cluster status).', load: () => import('./cluster.js') },
  { name: 'perf', summary: 'Producer, consumer and end-to-end performance tests (kafka-*-perf-test.sh).', load: () => import('./perf.js') },
];

const HELP = () => `Usage: brook <command> [options]

Commands:
  start        Run a broker until SIGTERM or SIGINT: a single node, or with --etcd one broker of a cluster.
${COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n')}${COMMANDS.length ? '\n' : ''}  help         Show this help.

Every command takes --help. Exit codes: 0 success, 1 failure (one line on stderr), 2 bad usage.

Options for start:
  --config <file>        server.properties (Kafka's names: listeners, log.dirs, num.partitions, ...)
  --port <n>             port to listen on (default 9092; 0 picks a free port)
  --host <addr>          address to bind (default 127.0.0.1)
  --data-dir <dir>       data directory (default ./data; same as log.dirs)
  --ws-port <n>          port of the WebSocket / SSE gateway (default 9093; 0 picks a free port;
                         ws.listeners sets the address too, ws.enabled=false turns it off)
  --log-level <level>    error, warn, info (default) or debug (same as --set log.level=...)
  --log-format <format>  text (default) or json lines (same as --set log.format=...)
  --node-id <n>          this broker's id (default 1; same as node.id)
  --etcd <urls>          etcd endpoints, comma-separated (http://127.0.0.1:2379): join the cluster whose
                         metadata that etcd holds (same as etcd.endpoints; docs/cluster.md)
  --rack <rack>          this broker's rack, for replica placement (same as broker.rack)
  --set <key=value>      any broker setting by its Kafka name; repeatable; wins over --config

Flags win over the file; unknown settings or invalid values are refused with the key named.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP());
      return 0;
    case '--version':
    case '-v':
      process.stdout.write(`brook ${version()}\n`);
      return 0;
    case 'start':
      return start(rest);
    default: {
      const entry = COMMANDS.find((c) => c.name === command);
      if (entry) return runCommand((await entry.load()).command, rest);
      process.stderr.write(`brook: unknown command "${command}"\n\n${HELP()}`);
      return 2;
    }
  }
}

async function start(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        'ws-port': { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'node-id': { type: 'string' },
        etcd: { type: 'string' },
        rack: { type: 'string' },
        set: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`brook start: ${(e as Error).message}\n\n${HELP()}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP());
    return 0;
  }
  const properties: Record<string, string> = {};
  for (const kv of values.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) {
      process.stderr.write(`brook start: --set expects key=value, got "${kv}"\n`);
      return 2;
    }
    properties[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (values['log-level'] !== undefined) properties['log.level'] = values['log-level'];
  if (values['log-format'] !== undefined) properties['log.format'] = values['log-format'];
  if (values['node-id'] !== undefined) properties['node.id'] = values['node-id'];
  if (values.etcd !== undefined) properties['etcd.endpoints'] = values.etcd;
  if (values.rack !== undefined) properties['broker.rack'] = values.rack;
  const portFlag = (flag: string, raw: string | undefined): number | undefined | null => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (/^\d+$/.test(raw) && n <= 65535) return n;
    process.stderr.write(`brook start: ${flag} expects a port number, got "${raw}"\n`);
    return null;
  };
  const port = portFlag('--port', values.port);
  const wsPort = portFlag('--ws-port', values['ws-port']);
  if (port === null || wsPort === null) return 2;

  let broker: Awaited<ReturnType<typeof import('../index.js').startBroker>>;
  try {
    // Loaded here, not at the top: the client commands need none of the broker.
    const { startBroker } = await import('../index.js');
    broker = await startBroker({ configFile: values.config, port, host: values.host, dataDir: values['data-dir'], properties, ws: wsPort === undefined ? undefined : { port: wsPort } });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`brook start: ${e.message}\n`);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
      process.stderr.write(`brook start: cannot listen: ${err.message}\n`);
      return 1;
    }
    // EMFILE opening the logs: each partition holds its .log, .index and .timeindex open.
    const hint = err.errno === os.constants.errno.EMFILE || err.code === 'EMFILE' ? ' (each partition keeps 3 files open: raise the limit, e.g. ulimit -n or systemd LimitNOFILE=)' : '';
    process.stderr.write(`brook start: ${err.message}${hint}\n`);
    return 1;
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      // Through the broker's logger, so log.format=json keeps stderr pure JSON lines.
      broker.log.info(`${signal} received, shutting down`);
      broker.close().then(resolve, (e) => {
        broker.log.error(`shutdown failed: ${(e as Error).message}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // Everything the broker owns is closed and its log written. Libraries may keep timers of their
  // own (the etcd client's gRPC channel reconnects with backoff): exit once the loop is empty, or
  // after a second at the latest, so a stopped broker never lingers as a process.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}
