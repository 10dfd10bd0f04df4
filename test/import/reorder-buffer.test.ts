import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../src/import/reorder-buffer.js';
import { isStaticAsset } from '../../src/import/static-asset.js';
import { mergeCookies, normalizeHeaders } from '../../src/import/headers.js';

function drain(input: Array<[number, string]>, capacity: number): string[] {
  const buf = new ReorderBuffer<[number, string]>(capacity, (x) => x[0]);
  const out: string[] = [];
  for (const x of input) {
    const r = buf.push(x);
    if (r) out.push(r[1]);
  }
  for (let r = buf.pop(); r; r = buf.pop()) out.push(r[1]);
  return out;
}

describe('ReorderBuffer', () => {
  it('restores order when items are out of place by less than its capacity', () => {
    expect(drain([[3, 'c'], [1, 'a'], [2, 'b'], [5, 'e'], [4, 'd']], 2)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps equal keys in arrival order', () => {
    const input: Array<[number, string]> = Array.from({ length: 50 }, (_, i) => [Math.floor(i / 10), `x${i}`]);
    expect(drain(input, 8)).toEqual(input.map((x) => x[1]));
  });

  it('releases an item later than its capacity can absorb at once, out of order', () => {
    expect(drain([[5, 'e'], [6, 'f'], [7, 'g'], [1, 'a']], 1)).toEqual(['e', 'f', 'a', 'g']);
  });
});

describe('isStaticAsset', () => {
  it.each([
    ['/static/logo.png', null, true],
    ['/app.js?v=3', null, true],
    ['/api/products', 'image/webp', true],
    ['/fonts/x', 'font/woff2', true],
    ['/site.css', 'text/css; charset=utf-8', true],
    ['/api/v1/config.js', 'application/json', false],
    ['/products/42', 'text/html', false],
    ['/products/42', null, false],
    ['/v1.2/items', null, false],
  ])('%s (%s) → %s', (target, mime, expected) => {
    expect(isStaticAsset(target, mime)).toBe(expected);
  });
});

describe('normalizeHeaders', () => {
  it('lower-cases names and drops pseudo and hop-by-hop headers', () => {
    expect(normalizeHeaders([[':path', '/'], ['Host', 'a'], ['Connection', 'keep-alive'], ['X-A', '1']])).toEqual([
      ['host', 'a'],
      ['x-a', '1'],
    ]);
  });

  it('merges cookies, keeping an exact duplicate once', () => {
    expect(mergeCookies('a=1; b=2', 'b=2; c=3')).toBe('a=1; b=2; c=3');
  });
});
