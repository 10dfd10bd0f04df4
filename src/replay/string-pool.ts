/**
 * One copy of each string (and of each flat header list) that many session
 * plans share: segment keys, methods, header names and values, common paths.
 * Every session read from a recording brings its own copies of these (each
 * row's text columns and header JSON are new strings), and a plan keeps them
 * for as long as its clones run: with thousands of sessions queued (a long
 * think time, a generator behind) that is most of a plan's memory. Bounded:
 * past `maxEntries` distinct values, new ones are returned as they are.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();
  private readonly lists = new Map<string, readonly string[]>();

  constructor(private readonly maxEntries = 50_000, private readonly maxLength = 512) {}

  /** The pooled copy of `s` (itself the first time). */
  string(s: string): string {
    if (s.length > this.maxLength) return s;
    const had = this.strings.get(s);
    if (had !== undefined) return had;
    if (this.strings.size < this.maxEntries) this.strings.set(s, s);
    return s;
  }

  /**
   * The pooled copy of a flat list (`[name, value, ...]`) with the same
   * items, its strings pooled too. The list returned is shared: never modify it.
   */
  list(items: string[]): string[] {
    if (items.length === 0) return EMPTY;
    let key = items[0]!;
    for (let i = 1; i < items.length; i++) key += '\u0000' + items[i]!;
    const had = this.lists.get(key);
    if (had !== undefined) return had as string[];
    for (let i = 0; i < items.length; i++) items[i] = this.string(items[i]!);
    if (key.length <= this.maxLength * 4 && this.lists.size < this.maxEntries) this.lists.set(key, items);
    return items;
  }
}

/** The empty list plans share (frozen: a push throws instead of leaking into every plan). */
export const EMPTY: never[] = Object.freeze([]) as unknown as never[];
