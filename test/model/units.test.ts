import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { segmentKey, parseSegmentKey } from '../../src/model/segment.js';
import { formatUs, parseBytes, parseDurationUs, parsePositiveInt, parsePositiveNumber } from '../../src/model/units.js';

describe('parseDurationUs', () => {
  it.each([
    ['800ms', 800_000],
    ['1.5s', 1_500_000],
    ['30', 30_000_000],
    ['2m', 120_000_000],
    ['250us', 250],
  ])('reads %s as %d µs', (text, us) => {
    expect(parseDurationUs(text, '--duration')).toBe(us);
  });

  it.each(['ten', '-1s', '', '5 parsecs'])('rejects "%s" with a message naming the option', (text) => {
    expect(() => parseDurationUs(text, '--duration')).toThrow(UsageError);
    expect(() => parseDurationUs(text, '--duration')).toThrow(/--duration/);
  });
});

describe('parseBytes', () => {
  it('reads binary and decimal units', () => {
    expect(parseBytes('1MiB', '--max-body')).toBe(1_048_576);
    expect(parseBytes('512k', '--max-body')).toBe(524_288);
    expect(parseBytes('2kb', '--max-body')).toBe(2_000);
    expect(parseBytes('65536', '--max-body')).toBe(65_536);
  });
  it('rejects nonsense', () => {
    expect(() => parseBytes('lots', '--max-body')).toThrow('--max-body must be a size');
  });
});

describe('positive numbers', () => {
  it('accepts fractions for numbers but not for integers', () => {
    expect(parsePositiveNumber('2.5', '--scale')).toBe(2.5);
    expect(() => parsePositiveInt('2.5', '--workers')).toThrow(UsageError);
  });
  it.each(['0', '-1', 'ten', ''])('a scale of "%s" is refused', (text) => {
    expect(() => parsePositiveNumber(text, '--scale')).toThrow(`--scale must be a positive number (got "${text}")`);
  });
});

describe('segment keys', () => {
  it('sort cohort attributes so equal segments share a key', () => {
    const a = segmentKey('GET /products/:id', { region: 'eu', device: 'mobile' });
    const b = segmentKey('GET /products/:id', { device: 'mobile', region: 'eu' });
    expect(a).toBe(b);
    expect(a).toBe('GET /products/:id|device=mobile,region=eu');
    expect(parseSegmentKey(a)).toEqual({ route: 'GET /products/:id', cohort: { device: 'mobile', region: 'eu' } });
  });
});

describe('formatUs', () => {
  it('picks a unit people read', () => {
    expect(formatUs(850)).toBe('850us');
    expect(formatUs(1_234)).toBe('1.23ms');
    expect(formatUs(123_456)).toBe('123.5ms');
    expect(formatUs(1_250_000)).toBe('1.25s');
  });
});
