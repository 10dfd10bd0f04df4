import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/model/bounded-map.js';

describe('BoundedMap', () => {
  it('keeps every key set within the last `limit` new keys, and never more than twice that', () => {
    const m = new BoundedMap<number, number>(100);
    for (let i = 0; i < 10_000; i++) {
      m.set(i, i * 2);
      expect(m.size).toBeLessThanOrEqual(200);
      for (const back of [0, 1, 50, 99]) if (i - back >= 0) expect(m.get(i - back)).toBe((i - back) * 2);
    }
    // Long gone.
    expect(m.get(0)).toBeUndefined();
    expect(m.get(9_700)).toBeUndefined();
  });

  it('keeps a key that is set again as the map turns over', () => {
    const m = new BoundedMap<string, number>(10);
    for (let i = 0; i < 1_000; i++) {
      m.set(`new${i}`, i);
      if (i % 5 === 0) m.set('hot', i);
      expect(m.get('hot')).toBe(i - (i % 5));
    }
  });

  it('deletes from either generation', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2); // a and b are now the old generation
    m.set('c', 3);
    m.delete('a');
    m.delete('c');
    expect([m.get('a'), m.get('b'), m.get('c'), m.size]).toEqual([undefined, 2, undefined, 1]);
  });
});
