interface Node<T> {
  key: number;
  /** Arrival number: breaks ties so equal keys leave in arrival order. */
  n: number;
  value: T;
}

function less<T>(a: Node<T>, b: Node<T>): boolean {
  return a.key < b.key || (a.key === b.key && a.n < b.n);
}

/**
 * Puts a nearly-sorted stream back in order with bounded memory: holds up to
 * `capacity` items in a min-heap keyed by `keyOf` (ties in arrival order) and
 * releases the smallest once the heap is full. Files from browsers, GoReplay
 * and web servers are in order but for small overlaps (a log line is written
 * when a request ends), which this absorbs; anything later than that is
 * released late and the caller counts it.
 */
export class ReorderBuffer<T> {
  private readonly heap: Array<Node<T>> = [];
  private arrivals = 0;

  constructor(
    private readonly capacity: number,
    private readonly keyOf: (item: T) => number,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1 (got ${capacity})`);
  }

  get size(): number {
    return this.heap.length;
  }

  /** Adds an item; returns the smallest held item when the buffer is over capacity, else undefined. */
  push(value: T): T | undefined {
    const heap = this.heap;
    const node: Node<T> = { key: this.keyOf(value), n: this.arrivals++, value };
    let i = heap.length;
    heap.push(node);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!less(node, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = node;
    return heap.length > this.capacity ? this.pop() : undefined;
  }

  /** Removes and returns the smallest held item (undefined when empty). */
  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    const n = heap.length;
    if (n > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(heap[r]!, heap[l]!) ? r : l;
        if (!less(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top?.value;
  }
}
