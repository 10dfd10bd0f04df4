import { describe, expect, it } from 'vitest';
import { planClones } from '../../src/replay/clone-planner.js';
import { EMPTY, StringPool } from '../../src/replay/string-pool.js';
import { ex, planOf, session } from './helpers.js';

describe('StringPool', () => {
  it('gives back one shared list for lists with the same items, and the frozen empty list for none', () => {
    const pool = new StringPool();
    const a = pool.list(['accept', '*/*', 'x-a', '1']);
    expect(pool.list(['accept', '*/*', 'x-a', '1'])).toBe(a);
    expect(pool.list(['accept', '*/*'])).not.toBe(a);
    expect(pool.list([])).toBe(EMPTY);
    expect(() => (EMPTY as string[]).push('x')).toThrow(TypeError);
  });

  it('stops pooling past its bound and hands new lists back as they are', () => {
    const pool = new StringPool(2);
    pool.list(['a', '1']);
    pool.list(['b', '2']);
    const third = ['c', '3'];
    expect(pool.list(third)).toBe(third);
    expect(pool.list(['c', '3'])).not.toBe(third);
    expect(pool.string('zzz')).toBe('zzz');
  });
});

describe('plans from one planner share', () => {
  it('header lists between sessions, and empty lists that cannot be modified', () => {
    const headers: Array<[string, string]> = [['accept', 'text/html'], ['user-agent', 'ua']];
    const sessions = ['a', 'b'].map((k, i) =>
      session(k, [ex({ sessionKey: k, target: `/${k}`, startOffsetUs: i * 1_000_000, requestHeaders: headers.map(([n, v]) => [n, v]) })]),
    );
    const [c1, c2] = [...planClones(() => sessions, { ...planOf({}), worker: { index: 0, count: 1 }, headers: [] })];
    const s1 = c1!.plan.steps[0]!;
    const s2 = c2!.plan.steps[0]!;
    expect(s1.headers).toEqual(['accept', 'text/html', 'user-agent', 'ua']);
    expect(s2.headers).toBe(s1.headers);
    expect(s1.fixed!.headers).toBe(s1.headers);
    expect(s1.path).toBe('/a');
    expect(s1.varying).toBe(EMPTY);
    expect(s1.dependents).toBe(EMPTY);
    expect(() => s1.varying.push(['x', 'y'])).toThrow(TypeError);
  });
});
