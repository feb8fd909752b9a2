/**
 * `brook dump-log FILE...`: Kafka's kafka-dump-log.sh (DumpLogSegments) for Brook's data directory,
 * which holds Kafka's own segment files, so it also reads segments copied from a Kafka broker. It
 * opens the files read-only and never talks to a broker, so it is safe on a running broker's
 * directory (the active segment is read up to its size when opened; see dump-log/segment.ts).
 *
 * Output: Kafka's text, line for line (batch lines, `|` record lines, `offset: N position: P`,
 * `timestamp: T offset: N`, and the end-of-run mismatch reports on stderr), or with --json one JSON
 * document per file, one per line.
 *
 * Not implemented: the decoders of Kafka's tool (--offsets-decoder, --transaction-log-decoder,
 * --cluster-metadata-decoder, --key/value-decoder-class: keys and values print as UTF-8),
 * .snapshot, .txnindex and producer-state files, and message format v0/v1 batches.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { helpText, intFlag, parseFlags, UsageError, type FlagTable } from './args.js';
import type { Command } from './command.js';
import { dumpIndex, dumpLog, dumpTimeIndex, type DumpOptions, type FileResult, type Sink } from './dump-log/dump.js';

const FLAGS: FlagTable = {
  files: { kind: 'list', arg: 'file1,file2,...', help: "Files to dump, comma-separated (Kafka's --files); the same as naming them after the options." },
  'print-data-log': { kind: 'boolean', help: 'Print each record: its metadata, key and payload (as UTF-8). Implies --deep-iteration.' },
  'deep-iteration': { kind: 'boolean', help: 'Print one line per record (decompressing compressed batches), without keys and payloads.' },
  'skip-record-metadata': { kind: 'boolean', help: 'With --print-data-log, print only the key and payload of each record.' },
  'verify-index-only': {
    kind: 'boolean',
    help: 'For .index and .timeindex files: check every entry against the .log beside it without\nprinting the entries. Exit 1 when an entry does not match.',
  },
  'index-sanity-check': {
    kind: 'boolean',
    help: 'For .index and .timeindex files: only the checks the broker runs when it opens an index\n(a failure means it rebuilds the index). Exit 1 when one fails.',
  },
  'max-bytes': { kind: 'string', arg: 'n', help: 'Read at most n bytes of each .log (whole batches only).' },
  json: { kind: 'boolean', help: "One JSON document per file, one per line, instead of Kafka's text\n(a file that fails has only its line on stderr)." },
  help: { kind: 'boolean', short: 'h', help: 'Show this help.' },
};

const DESCRIPTION = `Prints the batches of segment files (.log), or the entries of offset and time indexes
(.index, .timeindex) checked against their .log, in the format of Kafka's kafka-dump-log.sh.
Reads the files directly (no broker connection): it works on a running broker's data directory
and on copied files, including segments written by Kafka.

A directory argument dumps each segment file in it (.log, .index, .timeindex by base offset;
only the indexes with --verify-index-only or --index-sanity-check); other files there are skipped.
A directory without segment files but with partition directories (a broker's data directory)
dumps those, one level down, in name order.

Per batch: base and last offset, record count, base and last sequence, producer id and epoch,
leader epoch, transactional and control flags, delete horizon, byte position, max timestamp,
size, magic, compression codec, stored CRC and whether it matches (isvalid). A batch with a bad
CRC is reported and the dump goes on. A batch cut short at the end of the file (being appended
by a running broker, or torn by a crash) ends the dump with "Found N invalid bytes at the end".
An index file's sibling .log gives its entries their meaning; a name that is not a base offset
(a renamed copy) takes the base offset of the .log's first batch.

Exit codes: 0 when every file was dumped (bad CRCs and index mismatches are reported in the
output, as Kafka does, except under --verify-index-only); 1 when a file is missing, unreadable,
of an unknown kind, or holds bytes that cannot be a record batch (the dump of that file stops
there, its position is named on stderr, and the other files are still dumped), or when
--verify-index-only finds a mismatch or --index-sanity-check a failure; 2 for bad usage.`;

type Kind = 'log' | 'index' | 'timeindex';

function kindOf(path: string): Kind | undefined {
  if (path.endsWith('.log')) return 'log';
  if (path.endsWith('.index')) return 'index';
  if (path.endsWith('.timeindex')) return 'timeindex';
  return undefined;
}

const KIND_ORDER: Record<Kind, number> = { log: 0, index: 1, timeindex: 2 };

/** The segment files of a directory, by base offset then .log, .index, .timeindex. */
function segmentFiles(dir: string, indexesOnly: boolean): string[] {
  const names = readdirSync(dir).filter((n) => {
    const k = kindOf(n);
    return k !== undefined && (!indexesOnly || k !== 'log');
  });
  const stem = (n: string) => n.slice(0, n.indexOf('.'));
  names.sort((a, b) => {
    const sa = stem(a), sb = stem(b);
    if (sa !== sb) return sa.length - sb.length || (sa < sb ? -1 : 1);
    return KIND_ORDER[kindOf(a)!] - KIND_ORDER[kindOf(b)!];
  });
  return names.map((n) => join(dir, n));
}

/** Buffers stdout (a dump is many short lines) and writes it in large chunks. */
class StdSink implements Sink {
  #chunks: string[] = [];
  #bytes = 0;
  out(line: string): void {
    this.write(line);
    this.write('\n');
  }
  write(text: string): void {
    this.#chunks.push(text);
    this.#bytes += text.length;
    if (this.#bytes >= 1 << 16) this.flush();
  }
  err(line: string): void {
    this.flush();
    process.stderr.write(`${line}\n`);
  }
  flush(): void {
    if (this.#chunks.length === 0) return;
    process.stdout.write(this.#chunks.join(''));
    this.#chunks = [];
    this.#bytes = 0;
  }
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EACCES') return 'permission denied';
  if (err.code === 'EISDIR') return 'is a directory';
  return err.message ?? String(e);
}

export const command: Command = {
  name: 'dump-log',
  summary: 'Print the batches of segment files and check their indexes (kafka-dump-log.sh).',
  async run(argv) {
    const flags = parseFlags(argv, FLAGS, { positionals: true });
    if (flags.booleans.has('help')) {
      process.stdout.write(helpText('brook dump-log [options] FILE|DIR...', DESCRIPTION, FLAGS));
      return 0;
    }
    const opts: DumpOptions = {
      json: flags.booleans.has('json'),
      printDataLog: flags.booleans.has('print-data-log'),
      deepIteration: flags.booleans.has('deep-iteration'),
      skipRecordMetadata: flags.booleans.has('skip-record-metadata'),
      verifyIndexOnly: flags.booleans.has('verify-index-only'),
      indexSanityCheck: flags.booleans.has('index-sanity-check'),
      maxBytes: intFlag(flags, 'max-bytes', 1, 2 ** 31 - 1),
    };
    const args = [...(flags.lists.get('files') ?? []).flatMap((f) => f.split(',')).filter((f) => f !== ''), ...flags.positionals];
    if (args.length === 0) throw new UsageError('no file to dump: name .log, .index or .timeindex files, or a partition directory');

    // A closed output (`| head`) ends the dump quietly: nobody reads the rest.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') process.stderr.write(`brook dump-log: cannot write the output: ${e.message}\n`);
      process.exit(e.code === 'EPIPE' ? 0 : 1);
    });

    const sink = new StdSink();
    let failed = 0;
    let mismatches = 0;
    const fail = (path: string, why: string) => {
      failed++;
      sink.err(`brook dump-log: ${path}: ${why}`);
    };
    for (const arg of args) {
      let paths: string[];
      try {
        if (statSync(arg).isDirectory()) {
          const indexesOnly = opts.verifyIndexOnly || opts.indexSanityCheck;
          paths = segmentFiles(arg, indexesOnly);
          if (paths.length === 0) {
            // A data directory: its partition directories (topic-N), one level down only.
            const subdirs = readdirSync(arg, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
            paths = subdirs.flatMap((d) => segmentFiles(join(arg, d), indexesOnly));
          }
          if (paths.length === 0) {
            fail(arg, 'no segment files (.log, .index, .timeindex) in this directory or the directories in it');
            continue;
          }
        } else paths = [arg];
      } catch (e) {
        fail(arg, errorText(e));
        continue;
      }
      for (const path of paths) {
        const kind = kindOf(path);
        if (kind === undefined) {
          fail(path, 'not a segment file: dump-log reads .log, .index and .timeindex files');
          continue;
        }
        try {
          // Fail before "Dumping" when the file cannot be opened: the error is then the one line.
          statSync(path);
        } catch (e) {
          fail(path, errorText(e));
          continue;
        }
        if (!opts.json) sink.out(`Dumping ${path}`);
        let r: FileResult;
        try {
          r = kind === 'log' ? dumpLog(path, opts, sink) : kind === 'index' ? dumpIndex(path, opts, sink) : dumpTimeIndex(path, opts, sink);
        } catch (e) {
          fail(path, errorText(e));
          continue;
        }
        if (r.failed) failed++;
        mismatches += r.mismatches;
      }
    }
    sink.flush();
    if (failed > 0) return 1;
    if (opts.verifyIndexOnly && mismatches > 0) {
      process.stderr.write(`brook dump-log: ${mismatches} index ${mismatches === 1 ? 'entry does' : 'entries do'} not match the log\n`);
      return 1;
    }
    return 0;
  },
};
