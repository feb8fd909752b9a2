/**
 * File helpers below every layer that keeps state on disk (topics.json, meta.properties, producer
 * snapshots, broker-configs.json): they know paths and bytes, nothing of Kafka.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Replaces a file so that a crash leaves either the old or the new contents, never a mix: the new
 * contents go to `<path>.tmp` and are fsynced before the rename (else the rename could reach the
 * disk before the data), and the directory is fsynced after it (else the rename itself could be
 * lost, leaving the old file after a power cut). When it returns, the new contents are durable.
 */
export function writeAtomic(path: string, contents: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncPath(dirname(path));
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
