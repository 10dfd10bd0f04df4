import { describe, expect, it } from 'vitest';
import { defaultConcurrency, MAX_DEFAULT_CONCURRENCY, MIN_DEFAULT_CONCURRENCY, peakOverlap } from '../../src/replay/plan-concurrency.js';

const iv = (startOffsetUs: number, endOffsetUs: number): { startOffsetUs: number; endOffsetUs: number } => ({ startOffsetUs, endOffsetUs });

describe('peakOverlap', () => {
  it('counts the most intervals open at once, touching ends included', () => {
    expect(peakOverlap([])).toBe(0);
    expect(peakOverlap([iv(0, 10), iv(20, 30), iv(40, 50)])).toBe(1);
    expect(peakOverlap([iv(0, 10), iv(10, 20)])).toBe(2);
    expect(peakOverlap([iv(0, 100), iv(5, 10), iv(8, 9), iv(11, 12), iv(50, 200), iv(60, 70)])).toBe(3);
    // unsorted input, and an end before its start read as a point
    expect(peakOverlap([iv(60, 70), iv(0, 100), iv(65, 1), iv(50, 200)])).toBe(4);
  });
});

describe('defaultConcurrency', () => {
  it('is peak sessions × scale ÷ shards × 6 requests × 2 headroom, within its floor and ceiling', () => {
    expect(defaultConcurrency(10, 3, 1)).toBe(360);
    expect(defaultConcurrency(10, 3, 3)).toBe(120);
    expect(defaultConcurrency(100, 10, 1)).toBe(MAX_DEFAULT_CONCURRENCY);
    expect(defaultConcurrency(1, 2, 1)).toBe(MIN_DEFAULT_CONCURRENCY);
    expect(defaultConcurrency(0, 1, 1)).toBe(MIN_DEFAULT_CONCURRENCY);
    expect(defaultConcurrency(25, 0.5, 1)).toBe(150);
  });
});
