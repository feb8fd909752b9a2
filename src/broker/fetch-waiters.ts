/**
 * Long-poll support for Fetch: a fetch that found fewer than minBytes parks here, on every partition
 * it asked for, and is woken by the next append to any of them (or its own maxWaitMs timer, which
 * the fetch handler owns). One wake re-runs the fetch; the handler decides whether it is satisfied.
 */
export type Wake = () => void;

export class FetchWaiters<K extends object> {
  private readonly byKey = new Map<K, Set<Wake>>();

  /** Parks `wake` on each key; returns the function that unparks it from all of them. */
  park(keys: readonly K[], wake: Wake): () => void {
    for (const k of keys) {
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(wake);
    }
    return () => {
      for (const k of keys) {
        const set = this.byKey.get(k);
        if (!set) continue;
        set.delete(wake);
        if (set.size === 0) this.byKey.delete(k);
      }
    };
  }

  /** Wakes everything parked on `key` (after an append to it). */
  notify(key: K): void {
    const set = this.byKey.get(key);
    if (!set) return;
    this.byKey.delete(key);
    for (const wake of set) wake();
  }

  /** Wakes everything (shutdown). */
  notifyAll(): void {
    const all = [...this.byKey.values()];
    this.byKey.clear();
    for (const set of all) for (const wake of set) wake();
  }

  get parkedKeys(): number {
    return this.byKey.size;
  }
}
