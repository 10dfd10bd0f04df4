/**
 * Idempotency keys: the first request with a key runs; a retry with the same
 * key (and the same request fingerprint) gets the first one's result instead
 * of running again, whether the first is still in flight or done. A key
 * reused for a different request is a conflict. Results a client should be
 * able to retry (the caller decides: typically 5xx) are not kept.
 */

/** A key reused with a different request body. */
export class IdempotencyConflict extends Error {
  constructor(readonly key: string) {
    super(`Idempotency-Key "${key}" was already used for a different request`);
  }
}

interface Record<R> {
  fingerprint: string;
  promise: Promise<R>;
  doneAt: number | null;
}

/** Options of {@link IdempotencyGuard}. */
export interface IdempotencyOptions<R> {
  /** How long a finished result is kept, in ms. */
  ttlMs: number;
  maxEntries: number;
  /** Whether a finished result is kept for replays (false: the key is freed). */
  keep: (result: R) => boolean;
  now?: () => number;
}

/** In-process idempotency guard; see the module comment. */
export class IdempotencyGuard<R> {
  private readonly records = new Map<string, Record<R>>();
  private readonly now: () => number;

  constructor(private readonly opts: IdempotencyOptions<R>) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Runs `fn` once per key. Returns its result and whether this call was a
   * replay of an earlier one. Throws {@link IdempotencyConflict} when the key
   * was used with another fingerprint; an error from `fn` frees the key.
   */
  async run(key: string, fingerprint: string, fn: () => Promise<R>): Promise<{ result: R; replayed: boolean }> {
    this.expire();
    let existing = this.records.get(key);
    if (existing && existing.doneAt !== null && existing.doneAt <= this.now() - this.opts.ttlMs) {
      this.records.delete(key);
      existing = undefined;
    }
    if (existing) {
      if (existing.fingerprint !== fingerprint) throw new IdempotencyConflict(key);
      return { result: await existing.promise, replayed: true };
    }
    const record: Record<R> = { fingerprint, promise: fn(), doneAt: null };
    this.records.set(key, record);
    try {
      const result = await record.promise;
      if (this.opts.keep(result)) record.doneAt = this.now();
      else this.records.delete(key);
      return { result, replayed: false };
    } catch (e) {
      this.records.delete(key);
      throw e;
    }
  }

  private lastSweep = -Infinity;

  /** Drops expired results; sweeps at most once a second unless over the size limit. */
  private expire(): void {
    const now = this.now();
    if (now - this.lastSweep < 1000 && this.records.size <= this.opts.maxEntries) return;
    this.lastSweep = now;
    const cutoff = now - this.opts.ttlMs;
    for (const [key, rec] of this.records) {
      if (rec.doneAt !== null && (rec.doneAt <= cutoff || this.records.size > this.opts.maxEntries)) {
        this.records.delete(key);
      }
    }
  }
}
