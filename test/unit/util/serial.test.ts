import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../../src/util/serial.js';

/** A job whose completion the test controls, recording when it starts. */
function controlled(log: string[], name: string) {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const job = () => {
    log.push(`start ${name}`);
    return done;
  };
  return { job, finish: () => resolve(name), fail: () => reject(new Error(name)) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('SerialQueue', () => {
  it('starts a job at once, inside the call, when nothing is in flight', () => {
    const q = new SerialQueue();
    const log: string[] = [];
    void q.run(controlled(log, 'a').job);
    expect(log).toEqual(['start a']);
    expect(q.busy).toBe(true);
  });

  it('runs jobs one at a time in call order, each after the one before settled, failed or not', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const a = controlled(log, 'a');
    const b = controlled(log, 'b');
    const c = controlled(log, 'c');
    const pa = q.run(a.job);
    const pb = q.run(b.job);
    const pc = q.run(c.job);
    await tick();
    expect(log).toEqual(['start a']);
    a.fail();
    await expect(pa).rejects.toThrow('a');
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    expect(await pb).toBe('b');
    await tick();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    c.finish();
    expect(await pc).toBe('c');
    await q.idle();
    expect(q.busy).toBe(false);
  });

  it('returns the job promise itself when it starts at once, and turns a synchronous throw into a rejection', async () => {
    const q = new SerialQueue();
    const p = Promise.resolve(7);
    expect(q.run(() => p)).toBe(p);
    await q.idle();
    const failed = q.run(() => {
      throw new Error('sync');
    });
    await expect(failed).rejects.toThrow('sync');
    const next = q.run(async () => 'after');
    expect(await next).toBe('after');
  });

  it('coalesces: calls made while a coalesced job waits share it, and one made after it started queues another', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const first = controlled(log, 'first');
    const second = controlled(log, 'second');
    const third = controlled(log, 'third');
    const p1 = q.runCoalesced(first.job);
    const p2 = q.runCoalesced(second.job);
    const p2b = q.runCoalesced(third.job); // shares the waiting second
    expect(p2b).toBe(p2);
    first.finish();
    await p1;
    await tick();
    expect(log).toEqual(['start first', 'start second']);
    const p3 = q.runCoalesced(third.job); // second has started: this one waits for it
    expect(p3).not.toBe(p2);
    second.finish();
    expect(await p2).toBe('second');
    await tick();
    expect(log).toEqual(['start first', 'start second', 'start third']);
    third.finish();
    expect(await p3).toBe('third');
  });

  it('idle() resolves once everything queued so far has settled, and never rejects', async () => {
    const q = new SerialQueue();
    await q.idle();
    const log: string[] = [];
    const a = controlled(log, 'a');
    void q.run(a.job).catch(() => undefined);
    let idle = false;
    const waiting = q.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    a.fail();
    await waiting;
    expect(idle).toBe(true);
  });
});
