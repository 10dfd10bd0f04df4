import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { parseStartAt, resolveShard } from '../../src/replay/replay-options.js';

describe('--shard auto: the shard from the environment', () => {
  it('takes a Kubernetes Indexed Job index (0-based) with the count from FLASHBACK_SHARD_COUNT', () => {
    expect(resolveShard('auto', { JOB_COMPLETION_INDEX: '2', FLASHBACK_SHARD_COUNT: '3' })).toEqual({ index: 3, count: 3 });
    expect(resolveShard('auto', { JOB_COMPLETION_INDEX: '0', FLASHBACK_SHARD_COUNT: '3' })).toEqual({ index: 1, count: 3 });
  });

  it('takes a CI matrix index (1-based), and the count inline as auto/N', () => {
    expect(resolveShard('auto/4', { FLASHBACK_SHARD_INDEX: '4' })).toEqual({ index: 4, count: 4 });
    expect(resolveShard('auto', { FLASHBACK_SHARD_INDEX: '1', FLASHBACK_SHARD_COUNT: '2' })).toEqual({ index: 1, count: 2 });
  });

  it('still takes i/N as before', () => {
    expect(resolveShard('2/5', {})).toEqual({ index: 2, count: 5 });
  });

  it('refuses, with one line naming the variables, a missing, odd or inconsistent index or count', () => {
    const fails = (text: string, env: Record<string, string>): string => {
      try {
        resolveShard(text, env);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        expect((e as Error).message).not.toContain('\n');
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(fails('auto', {})).toMatch(/JOB_COMPLETION_INDEX.*FLASHBACK_SHARD_INDEX.*FLASHBACK_SHARD_COUNT/);
    expect(fails('auto', { JOB_COMPLETION_INDEX: '1' })).toMatch(/count in FLASHBACK_SHARD_COUNT or as --shard auto\/N/);
    expect(fails('auto', { JOB_COMPLETION_INDEX: '3', FLASHBACK_SHARD_COUNT: '3' })).toMatch(/JOB_COMPLETION_INDEX=3 is not a shard of 3/);
    expect(fails('auto', { FLASHBACK_SHARD_INDEX: '0', FLASHBACK_SHARD_COUNT: '3' })).toMatch(/FLASHBACK_SHARD_INDEX=0 is not a shard of 3/);
    expect(fails('auto', { JOB_COMPLETION_INDEX: 'x', FLASHBACK_SHARD_COUNT: '3' })).toMatch(/JOB_COMPLETION_INDEX must be a whole number/);
    expect(fails('auto/3', { JOB_COMPLETION_INDEX: '0', FLASHBACK_SHARD_COUNT: '4' })).toMatch(/disagree on the shard count/);
    expect(fails('auto', { JOB_COMPLETION_INDEX: '0', FLASHBACK_SHARD_INDEX: '2', FLASHBACK_SHARD_COUNT: '3' })).toMatch(/disagree/);
  });
});

describe('--start-at: an ISO time, or an epoch plus a delay', () => {
  const now = Date.parse('2026-12-03T14:00:00Z');

  it('adds the delay to the epoch', () => {
    expect(parseStartAt('2026-12-03T14:00:00Z+90s', now)).toBe(now + 90_000);
    expect(parseStartAt('2026-12-03T14:00:00Z+1.5m', now)).toBe(now + 90_000);
    expect(parseStartAt('2026-12-03T15:00:00+01:00+500ms', now)).toBe(now + 500);
    expect(parseStartAt('2026-12-03T14:00:10Z', now)).toBe(now + 10_000);
  });

  it('accepts an epoch in the past when the delay brings the start into the future', () => {
    expect(parseStartAt('2026-12-03T13:59:00Z+2m', now)).toBe(now + 60_000);
    expect(() => parseStartAt('2026-12-03T13:58:00Z+1m', now)).toThrow(/in the past/);
  });

  it('refuses anything else with one line', () => {
    expect(() => parseStartAt('+90s', now)).toThrow(UsageError);
    expect(() => parseStartAt('2026-12-03T14:00:00Z+soon', now)).toThrow(/plus a delay like/);
    expect(() => parseStartAt('2026-12-03T14:00:00Z+9x', now)).toThrow(/--start-at delay must be a duration/);
    expect(() => parseStartAt('tomorrow', now)).toThrow(/ISO time/);
  });
});
