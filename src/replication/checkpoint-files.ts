/**
 * Kafka's text checkpoint files, in Kafka's format so that a Kafka data dir's files read here and
 * Kafka's tools read ours. One log dir holds, per partition, an offset in each of:
 *
 *   replication-offset-checkpoint   the high watermark (written every
 *                                   replica.high.watermark.checkpoint.interval.ms)
 *   recovery-point-offset-checkpoint, log-start-offset-checkpoint   same format
 *
 * Layout (version 0; decimal; one space between fields; every line ends in "\n"):
 *
 *   0\n                               version
 *   <count>\n                         number of entries
 *   <topic> <partition> <offset>\n    `count` lines, in the order written
 *
 * Topic names cannot hold whitespace (Kafka allows [a-zA-Z0-9._-]), so the split is unambiguous.
 * leader-epoch-checkpoint (leader-epoch-cache.ts) shares the header with `<epoch> <startOffset>`
 * lines; the header helpers below serve both. Files are replaced whole with writeAtomic.
 */
import { readFileSync } from 'node:fs';
import { writeAtomic } from '../util/fs.js';

export const REPLICATION_OFFSET_CHECKPOINT_FILE = 'replication-offset-checkpoint';
export const RECOVERY_POINT_OFFSET_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * The key of readOffsetCheckpoint's map: `${topic}-${partition}`, Kafka's TopicPartition string and
 * the partition's directory name. It parses back unambiguously at the last "-" (a partition number
 * has none), though callers should build keys with this function rather than parse them.
 */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/**
 * Reads an offset checkpoint into a map keyed by topicPartitionKey. A missing file is an empty map
 * (a new log dir); anything malformed throws an Error naming the file and line, since guessing an
 * offset could expose uncommitted records or skip recovery. A repeated partition keeps its last line.
 */
export function readOffsetCheckpoint(path: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const offsets = new Map<string, number>();
  for (const { line, fields } of parseCheckpointText(text, path, 3)) {
    const partition = checkpointInteger(fields[1]!, path, line);
    if (partition < 0) fail(path, line, `negative partition ${partition}`);
    offsets.set(topicPartitionKey(fields[0]!, partition), checkpointInteger(fields[2]!, path, line));
  }
  return offsets;
}

/** Replaces the checkpoint at `path` with `entries`, in the order given; durable when it returns. */
export function writeOffsetCheckpoint(path: string, entries: Iterable<TopicPartitionOffset>): void {
  const lines: string[] = [];
  for (const { topic, partition, offset } of entries) {
    if (topic === '' || /\s/.test(topic)) throw new Error(`checkpoint ${path}: topic ${JSON.stringify(topic)} cannot be written`);
    if (!Number.isSafeInteger(partition) || partition < 0 || !Number.isSafeInteger(offset)) {
      throw new Error(`checkpoint ${path}: ${topic} ${partition} ${offset} is not an integer partition and offset`);
    }
    lines.push(`${topic} ${partition} ${offset}`);
  }
  writeAtomic(path, formatCheckpointText(lines));
}

/** The whole file for the given entry lines (without their newlines): header, then each line. */
export function formatCheckpointText(lines: readonly string[]): string {
  return `0\n${lines.length}\n${lines.map((l) => `${l}\n`).join('')}`;
}

/**
 * Checks the header (version 0, a count equal to the number of entry lines) and splits each entry
 * line into exactly `fieldCount` fields at runs of spaces or tabs (as Kafka's reader does). `line`
 * is 1-based, for error messages. Throws an Error naming `path` and the line.
 */
export function parseCheckpointText(text: string, path: string, fieldCount: number): { line: number; fields: string[] }[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop(); // the last line's newline
  if (lines[0] !== '0') fail(path, 1, `unsupported version ${JSON.stringify(lines[0] ?? '')} (expected 0)`);
  const count = lines[1] === undefined ? NaN : checkpointInteger(lines[1], path, 2);
  if (!(count >= 0)) fail(path, 2, 'missing or negative entry count');
  if (lines.length - 2 !== count) fail(path, Math.min(lines.length, count + 2) + 1, `expected ${count} entries, found ${lines.length - 2}`);
  return lines.slice(2).map((text, i) => {
    const fields = text.split(/[ \t]+/);
    if (fields.length !== fieldCount || fields.includes('')) fail(path, i + 3, `expected ${fieldCount} fields, got ${JSON.stringify(text)}`);
    return { line: i + 3, fields };
  });
}

/** A decimal integer field (optional minus sign, within 2^53); throws naming the file and line. */
export function checkpointInteger(field: string, path: string, line: number): number {
  const n = /^-?\d+$/.test(field) ? Number(field) : NaN;
  if (!Number.isSafeInteger(n)) fail(path, line, `${JSON.stringify(field)} is not an integer`);
  return n;
}

function fail(path: string, line: number, why: string): never {
  throw new Error(`checkpoint ${path}: line ${line}: ${why}`);
}
