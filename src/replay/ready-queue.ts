/**
 * A binary min-heap of (time µs, owner, step) kept in parallel arrays, so
 * pushing a ready request allocates nothing once the arrays have grown.
 * Ties pop in push order (a sequence number breaks them).
 */
export class ReadyQueue<T> {
  private keys = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private steps = new Int32Array(1024);
  private owners: Array<T | undefined> = new Array(1024);
  private n = 0;
  private seq = 0;
  /** Owner and step of the last {@link pop}. */
  owner: T | undefined = undefined;
  step = -1;

  get size(): number {
    return this.n;
  }

  /** Time of the earliest entry (Infinity when empty). */
  peekKey(): number {
    return this.n === 0 ? Infinity : this.keys[0]!;
  }

  /** Owner of the earliest entry (undefined when empty). */
  peekOwner(): T | undefined {
    return this.n === 0 ? undefined : this.owners[0];
  }

  push(key: number, owner: T, step: number): void {
    if (this.n === this.keys.length) this.grow();
    let i = this.n++;
    const seq = this.seq++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(p, key, seq)) break;
      this.move(p, i);
      i = p;
    }
    this.keys[i] = key;
    this.seqs[i] = seq;
    this.owners[i] = owner;
    this.steps[i] = step;
  }

  /** Removes the earliest entry into {@link owner}/{@link step}; returns its time. */
  pop(): number {
    const key = this.keys[0]!;
    this.owner = this.owners[0];
    this.step = this.steps[0]!;
    const last = --this.n;
    if (last > 0) {
      const k = this.keys[last]!;
      const s = this.seqs[last]!;
      const o = this.owners[last];
      const st = this.steps[last]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        const c = r < last && this.lessIdx(r, l) ? r : l;
        if (!this.less(c, k, s)) break;
        this.move(c, i);
        i = c;
      }
      this.keys[i] = k;
      this.seqs[i] = s;
      this.owners[i] = o;
      this.steps[i] = st;
    }
    this.owners[last] = undefined;
    return key;
  }

  /** Drops every entry; returns how many there were with a time before `beforeUs`. */
  clear(beforeUs: number): number {
    let count = 0;
    for (let i = 0; i < this.n; i++) if (this.keys[i]! < beforeUs) count++;
    this.owners.fill(undefined, 0, this.n);
    this.n = 0;
    return count;
  }

  /** True when entry `i` sorts before (key, seq). */
  private less(i: number, key: number, seq: number): boolean {
    const k = this.keys[i]!;
    return k < key || (k === key && this.seqs[i]! < seq);
  }

  private lessIdx(a: number, b: number): boolean {
    return this.less(a, this.keys[b]!, this.seqs[b]!);
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.owners[to] = this.owners[from];
    this.steps[to] = this.steps[from]!;
  }

  private grow(): void {
    const size = this.keys.length * 2;
    const keys = new Float64Array(size);
    keys.set(this.keys);
    const seqs = new Float64Array(size);
    seqs.set(this.seqs);
    const steps = new Int32Array(size);
    steps.set(this.steps);
    this.keys = keys;
    this.seqs = seqs;
    this.steps = steps;
    this.owners.length = size;
  }
}
