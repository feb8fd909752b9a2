/**
 * The `.txnindex` files (src/broker/txn-index.ts): Kafka's 34-byte entries byte for byte, one file
 * per segment chosen by the marker's offset, reading back in marker order, a torn tail, rewrite and
 * pruning below the log start.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeTxnIndex, encodeTxnIndexEntry, TxnIndex, txnIndexFileName, type AbortedTxn } from '../../../src/broker/txn-index.js';

describe('TxnIndex', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brook-txnindex-'));
    // Two segments, as the native log names them; TxnIndex only reads the names.
    writeFileSync(join(dir, '00000000000000000000.log'), '');
    writeFileSync(join(dir, '00000000000000000100.log'), '');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const a: AbortedTxn = { producerId: 1, firstOffset: 2, lastOffset: 5, lastStableOffset: 6 };
  const b: AbortedTxn = { producerId: 0x1122334455, firstOffset: 90, lastOffset: 99, lastStableOffset: 40 };
  const c: AbortedTxn = { producerId: 3, firstOffset: 98, lastOffset: 100, lastStableOffset: 101 };

  it('encodes an entry as int16 version 0, int64 producerId, firstOffset, lastOffset, lastStableOffset', () => {
    expect(encodeTxnIndexEntry(b).toString('hex')).toBe(
      '0000' + '0000001122334455' + '000000000000005a' + '0000000000000063' + '0000000000000028',
    );
    expect(txnIndexFileName(100)).toBe('00000000000000000100.txnindex');
  });

  it('appends each entry to the file of the segment holding its marker, in marker order', () => {
    const index = new TxnIndex(dir);
    index.append(a);
    index.append(b);
    index.append(c); // marker at 100: the second segment's first offset
    expect(readFileSync(join(dir, '00000000000000000000.txnindex')).toString('hex')).toBe(
      '0000' + '0000000000000001' + '0000000000000002' + '0000000000000005' + '0000000000000006' +
        '0000' + '0000001122334455' + '000000000000005a' + '0000000000000063' + '0000000000000028',
    );
    expect(readFileSync(join(dir, '00000000000000000100.txnindex')).toString('hex')).toBe(
      '0000' + '0000000000000003' + '0000000000000062' + '0000000000000064' + '0000000000000065',
    );
    expect(index.readAll()).toEqual([a, b, c]);
  });

  it('ignores a torn last entry, and reads files whose segment is gone', () => {
    const index = new TxnIndex(dir);
    index.append(a);
    appendFileSync(join(dir, '00000000000000000000.txnindex'), encodeTxnIndexEntry(b).subarray(0, 20));
    expect(decodeTxnIndex(readFileSync(join(dir, '00000000000000000000.txnindex')))).toEqual([a]);
    rmSync(join(dir, '00000000000000000000.log'));
    expect(index.readAll()).toEqual([a]);
  });

  it('rewrites the files to hold exactly the given entries, deleting those left empty', () => {
    const index = new TxnIndex(dir);
    index.append(a);
    index.append(b);
    index.append(c);
    index.rewrite([a]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.txnindex'))).toEqual(['00000000000000000000.txnindex']);
    expect(index.readAll()).toEqual([a]);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('prunes only the files whose every marker is below the log start', () => {
    const index = new TxnIndex(dir);
    index.append(a);
    index.append(b);
    index.append(c);
    index.pruneBelow(50); // b (marker 99) is still in the log: its file stays, a with it
    expect(existsSync(join(dir, '00000000000000000000.txnindex'))).toBe(true);
    index.pruneBelow(100);
    expect(existsSync(join(dir, '00000000000000000000.txnindex'))).toBe(false);
    expect(index.readAll()).toEqual([c]);
    index.sync(); // fsyncs what is left without complaint
  });
});
