/**
 * Flags in the style of Kafka's scripts, which node:util parseArgs does not take: `--producer-props
 * acks=1 linger.ms=5` (several values after one flag, up to the next `--flag`), repeatable `--property
 * k=v`, `--config k=v`, and action flags (`--create`, `--list`) mixed with valued ones. Also `--flag=value`.
 *
 * Every command declares its flags once; the same table prints its `--help`. A wrong flag or value is
 * a UsageError (exit 2); a failure at run time is a CliError (exit 1); both print one line.
 */

export type FlagKind =
  /** `--create`: present or not. */
  | 'boolean'
  /** `--topic T`: one value; given twice is a usage error. */
  | 'string'
  /** `--property k=v`, repeatable: every value in order. */
  | 'list'
  /** `--producer-props a=1 b=2`: values up to the next token that starts with `--`; repeatable. */
  | 'multi';

export interface FlagSpec {
  kind: FlagKind;
  /** Shown by --help: `--topic <topic>` uses `arg: 'topic'`. */
  arg?: string;
  help: string;
  /** One-letter alias, e.g. 'h'. */
  short?: string;
}

export type FlagTable = Record<string, FlagSpec>;

export interface ParsedFlags {
  booleans: Set<string>;
  strings: Map<string, string>;
  lists: Map<string, string[]>;
  positionals: string[];
}

/** Bad flags or values: the command prints the line and its usage hint, exit 2. */
export class UsageError extends Error {}

/** A failure while running (unknown topic, broker unreachable, refused request): one line, exit 1. */
export class CliError extends Error {}

/**
 * Parses `argv` against `table`. Positionals are allowed only when `positionals` is true (dump-log's
 * files); otherwise a stray word is a usage error, as Kafka's scripts treat it.
 */
export function parseFlags(argv: string[], table: FlagTable, opts: { positionals?: boolean } = {}): ParsedFlags {
  const out: ParsedFlags = { booleans: new Set(), strings: new Map(), lists: new Map(), positionals: [] };
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(table)) if (spec.short) byShort.set(spec.short, name);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    let name: string;
    let inline: string | undefined;
    if (token.startsWith('--') && token.length > 2) {
      const eq = token.indexOf('=');
      name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      inline = eq < 0 ? undefined : token.slice(eq + 1);
    } else if (/^-[a-zA-Z]$/.test(token)) {
      const long = byShort.get(token[1]!);
      if (long === undefined) throw new UsageError(`unknown option ${token}`);
      name = long;
    } else {
      if (!opts.positionals) throw new UsageError(`unexpected argument "${token}"`);
      out.positionals.push(token);
      continue;
    }
    const spec = table[name];
    if (spec === undefined) throw new UsageError(`unknown option --${name}`);
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UsageError(`--${name} needs a value${spec.arg ? ` <${spec.arg}>` : ''}`);
      i++;
      return next;
    };
    switch (spec.kind) {
      case 'boolean':
        if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
        out.booleans.add(name);
        break;
      case 'string':
        if (out.strings.has(name)) throw new UsageError(`--${name} given twice`);
        out.strings.set(name, takeValue());
        break;
      case 'list': {
        const list = out.lists.get(name) ?? [];
        list.push(takeValue());
        out.lists.set(name, list);
        break;
      }
      case 'multi': {
        const list = out.lists.get(name) ?? [];
        if (inline !== undefined) list.push(inline);
        else {
          const before = list.length;
          while (i + 1 < argv.length && !(argv[i + 1]!.startsWith('--') && argv[i + 1]!.length > 2)) list.push(argv[++i]!);
          if (list.length === before) throw new UsageError(`--${name} needs at least one value`);
        }
        out.lists.set(name, list);
        break;
      }
    }
  }
  return out;
}

/** `key=value` pairs (from --property, --config, --producer-props ...) into a map; a pair without `=` is a usage error. */
export function keyValues(flag: string, pairs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of pairs) {
    // kafka-configs.sh takes `--add-config a=1,b=2`: commas separate pairs there (see splitConfigs).
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} expects key=value, got "${pair}"`);
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

/** An integer flag within [min, max]; undefined when absent. */
export function intFlag(flags: ParsedFlags, name: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = flags.strings.get(name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`--${name} expects an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/** Help text: the usage line, the description, then one line per flag in table order. */
export function helpText(usage: string, description: string, table: FlagTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const left = `  ${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.arg ? ` <${spec.arg}>` : ''}${spec.kind === 'multi' ? ' ...' : ''}`;
    return [left, spec.help] as const;
  });
  const width = Math.min(40, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = rows.map(([left, help]) => {
    const helpLines = help.split('\n');
    const first = left.length < width ? left.padEnd(width) + helpLines[0] : `${left}\n${' '.repeat(width)}${helpLines[0]}`;
    return [first, ...helpLines.slice(1).map((l) => ' '.repeat(width) + l)].join('\n');
  });
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${lines.join('\n')}\n`;
}
