/**
 * A queue that runs async jobs one at a time, in call order: a job starts once every job queued
 * before it has settled, whatever their outcome (a failure is its caller's to handle, never the
 * next job's). Used for a partition log's flushes and compaction passes and the log cleaner's rounds.
 *
 * - run(job): when nothing is in flight the job starts at once, inside the call (so it sees the
 *   state as it is at the call); otherwise after the jobs before it. Returns the job's own promise;
 *   a job that throws synchronously gives a rejected promise.
 * - runCoalesced(job): the same, except that while a job queued this way waits for its turn, later
 *   calls return that waiting job's promise instead of queueing another: it has not started yet,
 *   so it covers them too (a flush started later makes durable everything appended before it).
 * - idle(): settles, never rejecting, once every job queued so far has settled.
 */
export class SerialQueue {
  /** Settles after the last queued job has settled; null when nothing is queued or running. */
  #tail: Promise<void> | null = null;
  /** A runCoalesced job that has not started yet. */
  #waiting: Promise<unknown> | null = null;

  /** Whether a job is running or queued. */
  get busy(): boolean {
    return this.#tail !== null;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    const prev = this.#tail;
    const p = prev ? prev.then(() => invoke(job)) : invoke(job);
    this.#track(p);
    return p;
  }

  runCoalesced<T>(job: () => Promise<T>): Promise<T> {
    if (this.#waiting) return this.#waiting as Promise<T>;
    const prev = this.#tail;
    if (!prev) return this.run(job);
    const p = prev.then(() => {
      this.#waiting = null;
      return invoke(job);
    });
    this.#waiting = p;
    this.#track(p);
    return p;
  }

  idle(): Promise<void> {
    return this.#tail ?? Promise.resolve();
  }

  #track(p: Promise<unknown>): void {
    const tail: Promise<void> = p.then(
      () => this.#settled(tail),
      () => this.#settled(tail),
    );
    this.#tail = tail;
  }

  #settled(tail: Promise<void>): void {
    if (this.#tail === tail) this.#tail = null;
  }
}

function invoke<T>(job: () => Promise<T>): Promise<T> {
  try {
    return job();
  } catch (e) {
    return Promise.reject(e);
  }
}
