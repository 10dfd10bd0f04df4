import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { describeFaults, parseFaults } from '../../src/storefront/faults.js';
import { isLoopback, parseCookies } from '../../src/storefront/http-util.js';
import { Counter, Gauge, Histogram, MetricsRegistry } from '../../src/storefront/metrics.js';
import { Router } from '../../src/storefront/router.js';

describe('fault specs', () => {
  it.each([
    [['payment-latency=800ms'], { paymentLatencyUs: 800_000, paymentErrorRate: 0, cacheDown: false, dbSlowUs: 0 }],
    [['payment-errors=20%'], { paymentLatencyUs: 0, paymentErrorRate: 0.2, cacheDown: false, dbSlowUs: 0 }],
    [['cache-down', 'db-slow=5ms'], { paymentLatencyUs: 0, paymentErrorRate: 0, cacheDown: true, dbSlowUs: 5000 }],
    [['payment-latency=1.5s', 'payment-errors=0.5'], { paymentLatencyUs: 1_500_000, paymentErrorRate: 0.5, cacheDown: false, dbSlowUs: 0 }],
  ])('parses %j', (specs, expected) => {
    expect(parseFaults(specs)).toEqual(expected);
  });

  it.each(['payment-latency', 'payment-latency=fast', 'payment-errors=120%', 'disk-full', 'cache-down=maybe', 'db-slow='])(
    'rejects "%s" with a usage error naming it', (spec) => {
      expect(() => parseFaults([spec])).toThrow(UsageError);
      try {
        parseFaults([spec]);
      } catch (e) {
        expect((e as Error).message).toContain('--fault');
      }
    });

  it('describes the faults in force as specs that parse back', () => {
    const specs = ['payment-latency=800ms', 'payment-errors=20%', 'cache-down', 'db-slow=5ms'];
    expect(describeFaults(parseFaults(specs))).toEqual(specs);
  });
});

describe('Prometheus text', () => {
  it('renders counters, gauges and cumulative histograms', () => {
    const r = new MetricsRegistry();
    const c = r.add(new Counter('x_total', 'Things'));
    c.inc({ route: 'GET /a' });
    c.inc({ route: 'GET /a' }, 2);
    r.add(new Gauge('y', 'A gauge', () => [[{ state: 'open' }, 1]]));
    const h = r.add(new Histogram('z_seconds', 'Latency', [0.1, 1]));
    h.observe(0.05, { route: 'r' });
    h.observe(0.5, { route: 'r' });
    h.observe(5, { route: 'r' });
    expect(r.render()).toBe([
      '# HELP x_total Things', '# TYPE x_total counter', 'x_total{route="GET /a"} 3',
      '# HELP y A gauge', '# TYPE y gauge', 'y{state="open"} 1',
      '# HELP z_seconds Latency', '# TYPE z_seconds histogram',
      'z_seconds_bucket{route="r",le="0.1"} 1', 'z_seconds_bucket{route="r",le="1"} 2', 'z_seconds_bucket{route="r",le="+Inf"} 3',
      'z_seconds_sum{route="r"} 5.55', 'z_seconds_count{route="r"} 3', '',
    ].join('\n'));
  });

  it('escapes label values', () => {
    const c = new Counter('q_total', 'Q');
    c.inc({ v: 'a"b\\c' });
    const lines: string[] = [];
    c.render(lines);
    expect(lines[2]).toBe('q_total{v="a\\"b\\\\c"} 1');
  });
});

describe('HTTP helpers and router', () => {
  it('recognises loopback peers only', () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true]);
    expect(['10.0.0.1', '::ffff:192.168.1.2', undefined].map(isLoopback)).toEqual([false, false, false]);
  });

  it('parses cookies (first wins)', () => {
    expect(parseCookies('a=1; b=two; a=3')).toEqual(new Map([['a', '1'], ['b', 'two']]));
  });

  it('matches templates, extracts parameters and tells 405 from 404', () => {
    const r = new Router<string>().add('GET', '/cart/:cartId', 'get').add('DELETE', '/cart/:cartId/items/:productId', 'del');
    expect(r.match('DELETE', '/cart/c1/items/42')).toEqual({ kind: 'found', handler: 'del', params: { cartId: 'c1', productId: '42' }, route: 'DELETE /cart/:cartId/items/:productId' });
    expect(r.match('POST', '/cart/c1')).toMatchObject({ kind: 'method-not-allowed', allowed: ['GET'] });
    expect(r.match('GET', '/nope')).toEqual({ kind: 'not-found' });
  });
});
