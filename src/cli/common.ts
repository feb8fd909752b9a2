/**
 * What the client commands share: the connection flags (`--bootstrap-server`, `--command-config`,
 * `--timeout-ms`), building a KafkaClient from them, and writing output (text lines, or `--json`).
 */
import { readFileSync } from 'node:fs';
import { parseProperties } from '../config.js';
import { KafkaClient, parseBootstrap } from '../kafka/client.js';
import { intFlag, UsageError, type FlagTable, type ParsedFlags } from './args.js';

const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

/** The flags every client command takes. */
export const CLIENT_FLAGS: FlagTable = {
  'bootstrap-server': { kind: 'string', arg: 'host:port[,...]', help: `brokers to connect to (default $BROOK_BOOTSTRAP_SERVER, else ${DEFAULT_BOOTSTRAP})` },
  'command-config': { kind: 'string', arg: 'file', help: 'client properties file (client.id, request.timeout.ms, ...)' },
  'timeout-ms': { kind: 'string', arg: 'ms', help: 'give up when no broker answers within this (default 30000)' },
};

export const JSON_FLAG: FlagTable = { json: { kind: 'boolean', help: 'print the result as JSON' } };
export const HELP_FLAG: FlagTable = { help: { kind: 'boolean', short: 'h', help: 'show this help' } };

/** Client properties from --command-config (Kafka's client property names). */
export function commandConfig(flags: ParsedFlags): Map<string, string> {
  const file = flags.strings.get('command-config');
  if (file === undefined) return new Map();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --command-config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseProperties(text);
}

/** Client-level properties (taken by KafkaClient) out of a producer or consumer property map. */
export function clientProps(props: Map<string, string>): Map<string, string> {
  return new Map([...props].filter(([k]) => k === 'client.id' || k === 'request.timeout.ms' || k === 'bootstrap.servers'));
}

/** A client for the flags: bootstrap from the flag, the environment, or the default. */
export function clientFrom(flags: ParsedFlags, props: Map<string, string> = commandConfig(flags)): KafkaClient {
  const bootstrap = flags.strings.get('bootstrap-server') ?? process.env.BROOK_BOOTSTRAP_SERVER ?? props.get('bootstrap.servers') ?? DEFAULT_BOOTSTRAP;
  try {
    parseBootstrap(bootstrap);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const requestTimeout = props.get('request.timeout.ms');
  return new KafkaClient({
    bootstrap: [bootstrap],
    clientId: props.get('client.id') ?? 'brook-cli',
    timeoutMs: intFlag(flags, 'timeout-ms', 1) ?? 30_000,
    requestTimeoutMs: requestTimeout !== undefined && /^\d+$/.test(requestTimeout) ? Number(requestTimeout) : undefined,
  });
}

/** Writes text to stdout, waiting for the pipe to take it (so large outputs are not cut at exit). */
export function out(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

/** Prints `value` as one JSON document. */
export function printJson(value: unknown): Promise<void> {
  return out(`${JSON.stringify(value, null, 2)}\n`);
}
