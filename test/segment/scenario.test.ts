import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { RouteMatcher } from '../../src/segment/route-template.js';
import { loadScenario } from '../../src/segment/scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'fb-scenario-'));
let n = 0;
function file(text: string): string {
  const p = join(dir, `s${n++}.json`);
  writeFileSync(p, text);
  return p;
}

describe('loadScenario', () => {
  it('loads the bundled storefront scenario', () => {
    const s = loadScenario(resolve(import.meta.dirname, '../../scenarios/storefront.json'));
    expect(s.name).toBe('storefront');
    expect(s.routes).toContain('/cart/:cartId/items');
    expect(s.thresholds).toContain('route=POST /checkout: p99<800ms');
    expect(new RouteMatcher(s.routes).route('POST', '/cart/c_8f3k2/items')).toBe('POST /cart/:cartId/items');
  });

  it('loads a full scenario and normalizes header names', () => {
    const s = loadScenario(
      file(
        JSON.stringify({
          name: 'x',
          routes: ['/a/:id', '/static/*'],
          cohorts: [{ name: 'plan', header: 'X-Plan', map: { gold: 'paid' }, default: 'free' }],
          sessionKey: 'cookie:sid',
          replay: { scale: 2.5, speed: 1, concurrency: 64, duration: '30s', jitter: '100ms' },
          thresholds: ['p99<400ms', 'p99:+10%'],
        }),
      ),
    );
    expect(s.cohorts).toEqual([{ name: 'plan', header: ['x-plan'], map: { gold: 'paid' }, default: 'free' }]);
    expect(s.replay).toEqual({ scale: 2.5, speed: 1, concurrency: 64, duration: '30s', jitter: '100ms' });
  });

  it('accepts an empty object', () => {
    expect(loadScenario(file('{}'))).toEqual({});
  });

  const bad: Array<[string, string, string]> = [
    ['a route that does not start with / is named by index', '{"routes": ["/a", "/b", "c/:id"]}', '"routes[2]" must be a path template starting with "/"'],
    ['a route with a query is refused', '{"routes": ["/a?x=1"]}', '"routes[0]" must be a path template without query, fragment or spaces'],
    ['a bad parameter name is refused', '{"routes": ["/a/:"]}', '"routes[0]" has a bad parameter ":" (expected :name)'],
    ['a * before the end is refused', '{"routes": ["/a/*/b"]}', '"routes[0]" may use "*" only as its last segment'],
    ['routes must be an array', '{"routes": "/a"}', '"routes" must be an array of path templates'],
    ['an unknown field is refused (typos)', '{"route": []}', '"route" is not a scenario field'],
    ['a cohort rule without a source is refused', '{"cohorts": [{"name": "plan"}]}', '"cohorts[0]" needs "header" or "cookie"'],
    ['a cohort name with capitals is refused', '{"cohorts": [{"name": "Plan", "header": ["x"]}]}', '"cohorts[0].name" must be a lower-case attribute name'],
    ['a repeated cohort name is refused', '{"cohorts": [{"name": "a", "header": "x"}, {"name": "a", "header": "y"}]}', '"cohorts[1].name" repeats the attribute "a"'],
    ['a non-string map value is refused', '{"cohorts": [{"name": "a", "header": "x", "map": {"k": 1}}]}', '"cohorts[0].map.k" must be a non-empty string'],
    ['an unknown rule field is refused', '{"cohorts": [{"name": "a", "headers": "x"}]}', '"cohorts[0].headers" is not a scenario field'],
    ['a bad session key is refused', '{"sessionKey": "ip"}', '"sessionKey" must be auto, cookie:NAME, header:NAME, client, client:IDLE or none (got "ip")'],
    ['a zero scale is refused', '{"replay": {"scale": 0}}', '"replay.scale" must be a positive number'],
    ['a fractional concurrency is refused', '{"replay": {"concurrency": 1.5}}', '"replay.concurrency" must be a positive whole number'],
    ['a bad duration is refused', '{"replay": {"duration": "soon"}}', '"replay.duration" must be a duration like 500ms, 30s or 2m (got "soon")'],
    ['a threshold without a comparison is refused', '{"thresholds": ["p99"]}', '"thresholds[0]" must be a gate like'],
    ['an array document is refused', '[]', 'must be a JSON object'],
  ];
  it.each(bad)('%s', (_name, text, message) => {
    const p = file(text);
    let err: unknown;
    try {
      loadScenario(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as Error).message).toContain(`Failed to load scenario ${p}: ${message}`);
  });

  it('says a file is not JSON, naming it', () => {
    const p = file('{"routes": [');
    expect(() => loadScenario(p)).toThrow(new RegExp(`^Failed to load scenario ${p.replace(/[.]/g, '\\.')}: not valid JSON`));
  });

  it('says a file is missing, naming it', () => {
    expect(() => loadScenario(join(dir, 'nope.json'))).toThrow(`Failed to load scenario ${join(dir, 'nope.json')}: no such file`);
  });
});

// The schema and the loader are checked against each other, with a real validator, in scenario-schema.test.ts.
