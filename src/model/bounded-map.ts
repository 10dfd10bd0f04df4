/**
 * A `Map` that forgets what has not been set for a while, so per-session
 * state stays bounded on long recordings: an entry set (or refreshed by
 * `set`) within the last `limit` new keys is always kept; the map holds at
 * most `2 × limit` entries.
 *
 * Two generations, not one `Map` trimmed from its oldest end: V8 leaves a
 * hole for every deleted entry until the table is rebuilt, and
 * `keys().next()` steps over all the holes at the front, so a `Map` used as
 * a queue costs 15–50 µs a new key once full (measured at 100,000 entries),
 * against about 1 µs here (0.7–1.5 µs in the same loop). When the young
 * generation reaches `limit` it becomes the old one, and the previous old
 * one is dropped whole.
 */
// Values are never null or undefined (`V extends {}`): a key lives in one generation at most, so
// `get` is one lookup when it is young and two when not.
export class BoundedMap<K, V extends {}> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = Math.max(1, limit);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): V | undefined {
    return this.young.get(key) ?? this.old.get(key);
  }

  set(key: K, value: V): void {
    if (this.young.has(key)) {
      this.young.set(key, value);
      return;
    }
    this.old.delete(key);
    this.young.set(key, value);
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }
}
