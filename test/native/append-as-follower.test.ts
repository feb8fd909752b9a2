/**
 * PartitionLog.appendAsFollower through the addon: a follower log fed with what a leader's read
 * returns ends up byte for byte the same as the leader's, offsets and partition leader epochs
 * included; anything that does not continue the follower's log is refused with nothing written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { batchBases, makeBatch, reseal } from './batches.js';
import { codeOf } from './tools.js';

const SEGMENT0 = '00000000000000000000.log';

let root: string;
let open: PartitionLog[] = [];
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'brook-follower-'));
});
afterEach(async () => {
  for (const l of open) await l.close().catch(() => undefined);
  open = [];
  rmSync(root, { recursive: true, force: true });
});

function openLog(name: string, config: Parameters<typeof PartitionLog.open>[1] = {}): PartitionLog {
  const log = PartitionLog.open(join(root, name), config);
  open.push(log);
  return log;
}

/** A leader with batches 0-2 and 3-4 at epoch 3 (two appends), then 5 and 6-8 at epoch 5 (one append). */
function fillLeader(leader: PartitionLog): void {
  leader.append(makeBatch({ records: 3 }), { leaderEpoch: 3, now: 1000 });
  leader.append(makeBatch({ records: 2, valueSize: 40 }), { leaderEpoch: 3, now: 1000 });
  leader.append(Buffer.concat([makeBatch({ records: 1 }), makeBatch({ records: 3 })]), { leaderEpoch: 5, now: 1000 });
}

/** A batch as a leader stores it: baseOffset and leader epoch set (outside the CRC). */
function leaderBatch(baseOffset: number, epoch: number, records = 1): Buffer {
  const b = makeBatch({ records });
  b.writeBigInt64BE(BigInt(baseOffset), 0);
  b.writeInt32BE(epoch, 12);
  return b;
}

describe('PartitionLog.appendAsFollower', () => {
  it("writes the leader's batches unchanged: same offsets, epochs and .log bytes", async () => {
    const leader = openLog('leader');
    fillLeader(leader);
    const fetched = leader.readBuffer(0, 1 << 20);
    const copy = Buffer.from(fetched);
    const follower = openLog('follower');
    const r = follower.appendAsFollower(fetched, { now: 2000 });
    expect(r).toEqual({ baseOffset: 0, lastOffset: 8, appendTime: 2000, logAppendTime: -1 });
    expect(fetched).toEqual(copy); // not rewritten in place, unlike append()
    expect(follower.logEndOffset).toBe(9);
    expect(follower.batchHeaders(0, 10).map((h) => [h.baseOffset, h.leaderEpoch])).toEqual([
      [0, 3],
      [3, 3],
      [5, 5],
      [6, 5],
    ]);
    expect(follower.readBuffer(4, 1)).toEqual(leader.readBuffer(4, 1));
    await leader.flush();
    await follower.flush();
    expect(readFileSync(join(root, 'follower', SEGMENT0))).toEqual(readFileSync(join(root, 'leader', SEGMENT0)));
  });

  it('continues across appends, one fetched batch at a time', () => {
    const leader = openLog('leader');
    fillLeader(leader);
    const follower = openLog('follower');
    for (const h of leader.batchHeaders(0, 10)) {
      const r = follower.appendAsFollower(leader.readBuffer(h.baseOffset, 1), { now: 1000 });
      expect([r.baseOffset, r.lastOffset]).toEqual([h.baseOffset, h.lastOffset]);
    }
    expect(follower.readBuffer(0, 1 << 20)).toEqual(leader.readBuffer(0, 1 << 20));
    expect(batchBases(follower.readBuffer(0, 1 << 20))).toEqual([0, 3, 5, 6]);
  });

  it('refuses a gap or an overlap with the log end as OFFSET_MISMATCH and writes nothing', () => {
    const follower = openLog('follower');
    follower.appendAsFollower(leaderBatch(0, 1, 3));
    const before = follower.readBuffer(0, 1 << 20);
    expect(codeOf(() => follower.appendAsFollower(leaderBatch(4, 1)))).toBe('OFFSET_MISMATCH');
    expect(codeOf(() => follower.appendAsFollower(leaderBatch(2, 1)))).toBe('OFFSET_MISMATCH');
    // The second batch of one buffer must follow the first one's last offset.
    expect(codeOf(() => follower.appendAsFollower(Buffer.concat([leaderBatch(3, 1, 2), leaderBatch(6, 1)])))).toBe('OFFSET_MISMATCH');
    expect(follower.logEndOffset).toBe(3);
    expect(follower.readBuffer(0, 1 << 20)).toEqual(before);
    expect(follower.appendAsFollower(Buffer.concat([leaderBatch(3, 1, 2), leaderBatch(5, 2)])).lastOffset).toBe(5);
  });

  it('refuses a bad CRC or a partial batch as CORRUPT_MESSAGE and writes nothing', () => {
    const follower = openLog('follower');
    const badCrc = leaderBatch(1, 1);
    badCrc[badCrc.length - 1]! ^= 1;
    const whole = leaderBatch(1, 1, 2);
    expect(codeOf(() => follower.appendAsFollower(Buffer.concat([leaderBatch(0, 1), badCrc])))).toBe('CORRUPT_MESSAGE');
    expect(codeOf(() => follower.appendAsFollower(Buffer.concat([leaderBatch(0, 1), whole.subarray(0, whole.length - 3)])))).toBe(
      'CORRUPT_MESSAGE',
    );
    expect(follower.logEndOffset).toBe(0);
    expect(follower.stats().size).toBe(0);
    reseal(badCrc);
    expect(follower.appendAsFollower(Buffer.concat([leaderBatch(0, 1), badCrc])).lastOffset).toBe(1);
  });

  it('follows a new leader after truncating to a batch boundary', () => {
    const oldLeader = openLog('old');
    for (let i = 0; i < 3; i++) oldLeader.append(makeBatch({ records: 2 }), { leaderEpoch: 3 });
    const follower = openLog('follower');
    follower.appendAsFollower(oldLeader.readBuffer(0, 1 << 20));
    const newLeader = openLog('new');
    newLeader.appendAsFollower(oldLeader.readBuffer(0, 1)); // offsets 0-1 survive the election
    newLeader.append(makeBatch({ records: 5, fill: 0x6e }), { leaderEpoch: 5 });
    follower.truncateTo(2);
    follower.appendAsFollower(newLeader.readBuffer(2, 1 << 20));
    expect(follower.readBuffer(0, 1 << 20)).toEqual(newLeader.readBuffer(0, 1 << 20));
    expect(follower.batchHeaders(0, 10).map((h) => h.leaderEpoch)).toEqual([3, 5]);
  });

  it('keeps what it appended across a reopen', async () => {
    const leader = openLog('leader', { segmentBytes: 300 });
    fillLeader(leader);
    const follower = openLog('follower', { segmentBytes: 300 });
    for (const h of leader.batchHeaders(0, 10)) follower.appendAsFollower(leader.readBuffer(h.baseOffset, 1));
    await follower.close();
    const reopened = openLog('follower', { segmentBytes: 300 });
    expect(reopened.logEndOffset).toBe(9);
    expect(reopened.readBuffer(0, 1 << 20)).toEqual(leader.readBuffer(0, 1 << 20));
    expect(reopened.batchHeaders(0, 10).map((h) => h.leaderEpoch)).toEqual([3, 3, 5, 5]);
  });

  it('rejects a non-buffer argument', () => {
    const follower = openLog('follower');
    expect(codeOf(() => follower.appendAsFollower('x' as unknown as Uint8Array))).toBe('INVALID_ARGUMENT');
  });
});
