/**
 * An in-process async mutex per key: the naive profile's model of a database
 * row lock held for the whole checkout transaction (SQLite itself has a single
 * writer, so the row lock is modelled here). Several keys are always taken in
 * sorted order, so two checkouts cannot deadlock.
 */

/** Held locks; call `release()` exactly once. */
export interface HeldLocks {
  release(): void;
  /** How long acquiring waited, in µs (0 when every key was free). */
  waitedUs: number;
  /** How many of the keys had to be waited for. */
  contended: number;
}

/** Keyed FIFO mutex; see the module comment. */
export class KeyedMutex {
  private readonly queues = new Map<string, Array<() => void>>();

  /** Keys currently held or waited for. */
  get activeKeys(): number {
    return this.queues.size;
  }

  /** Waiters across all keys (not counting holders). */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Acquires every key (deduplicated, sorted); resolves once all are held. */
  async acquire(keys: readonly string[]): Promise<HeldLocks> {
    const sorted = [...new Set(keys)].sort();
    const start = performance.now();
    let contended = 0;
    const held: string[] = [];
    for (const key of sorted) {
      const queue = this.queues.get(key);
      if (!queue) {
        this.queues.set(key, []);
      } else {
        contended += 1;
        await new Promise<void>((resolve) => queue.push(resolve));
      }
      held.push(key);
    }
    let released = false;
    return {
      waitedUs: contended === 0 ? 0 : Math.round((performance.now() - start) * 1000),
      contended,
      release: () => {
        if (released) return;
        released = true;
        for (const key of held) this.releaseOne(key);
      },
    };
  }

  private releaseOne(key: string): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    const next = queue.shift();
    if (next) next();
    else this.queues.delete(key);
  }
}
