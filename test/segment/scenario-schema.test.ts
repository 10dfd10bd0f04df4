import { readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, validateScenario } from '../../src/segment/scenario.js';
import { fencedBlocks, repoFiles, ROOT } from '../docs/repo-files.js';
import { schemaValidator } from '../schema-validator.js';

const SCENARIOS = join(ROOT, 'scenarios');
const SCHEMA_PATH = join(SCENARIOS, 'scenario.schema.json');
const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { properties: Record<string, unknown> };
const bySchema = schemaValidator(SCHEMA_PATH);

function byLoader(doc: unknown): string[] {
  try {
    validateScenario(doc);
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/** Scenario examples in the docs: fenced blocks whose info string is `json scenario`. */
function docExamples(): Array<{ where: string; text: string }> {
  return repoFiles(['.md']).flatMap((file) =>
    fencedBlocks(readFileSync(file, 'utf8'))
      .filter((b) => /^json\s+scenario$/.test(b.info))
      .map((b) => ({ where: `${relative(ROOT, file)}:${b.line}`, text: b.text })),
  );
}

describe('scenario files and examples validate against scenarios/scenario.schema.json (ajv, draft 2020-12)', () => {
  const files = repoFiles(['.json'], SCENARIOS).filter((f) => f !== SCHEMA_PATH);

  it.each(files.map((f) => [basename(f), f]))('scenarios/%s validates against the schema and loads', (_name, file) => {
    expect(bySchema(JSON.parse(readFileSync(file, 'utf8')))).toEqual([]);
    expect(() => loadScenario(file)).not.toThrow();
  });

  it('finds the examples in the docs', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(docExamples().map((e) => e.where.split(':')[0])).toEqual(expect.arrayContaining(['scenarios/README.md', 'docs/ci.md']));
  });

  it.each(docExamples().map((e) => [e.where, e.text]))('the example at %s validates against the schema and the loader', (_where, text) => {
    const doc = JSON.parse(text) as unknown;
    expect(bySchema(doc)).toEqual([]);
    expect(byLoader(doc)).toEqual([]);
  });

  it('the example in scenarios/README.md is storefront.json, as it says', () => {
    const example = docExamples().find((e) => e.where.startsWith('scenarios/README.md'))!;
    expect(JSON.parse(example.text)).toEqual(JSON.parse(readFileSync(join(SCENARIOS, 'storefront.json'), 'utf8')));
  });

  it('no scenario-looking JSON block in the docs escapes the check (tag it ```json scenario)', () => {
    const fields = new Set(Object.keys(schema.properties));
    const untagged: string[] = [];
    for (const file of repoFiles(['.md'])) {
      for (const b of fencedBlocks(readFileSync(file, 'utf8'))) {
        if (!/^json/.test(b.info) || /^json\s+scenario$/.test(b.info)) continue;
        let doc: unknown;
        try {
          doc = JSON.parse(b.text);
        } catch {
          continue;
        }
        const keys = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc) : [];
        if (keys.length > 0 && keys.every((k) => fields.has(k))) untagged.push(`${relative(ROOT, file)}:${b.line}`);
      }
    }
    expect(untagged).toEqual([]);
  });
});

/** [case, document, schema accepts, loader accepts]. Rows where the two differ say why in the case name. */
const CASES: Array<[string, unknown, boolean, boolean]> = [
  ['an empty scenario', {}, true, true],
  ['every field', {
    $schema: './scenario.schema.json', name: 'n', description: 'd', routes: ['/a/:id', '/static/*', '/', '/a//b', '/img/:id/x.jpg'],
    cohorts: [{ name: 'plan', header: ['X-Plan'], cookie: 'plan', map: { a: 'b' }, default: 'c' }, { name: 'region', map: { 'eu-west': 'eu' } }],
    sessionKey: 'client:10m', replay: { scale: 0.5, speed: 2, concurrency: 1, duration: '1.5s', jitter: '250 ms' },
    thresholds: ['p99<1s', 'p99:+10%', 'route=POST /checkout: p99<800ms'],
  }, true, true],
  ['a header given as one string', { cohorts: [{ name: 'plan', header: 'X-Plan' }] }, true, true],
  ...['auto', 'auto+client', 'auto+client:10m', 'none', 'client', 'client:5', 'client:30m', 'cookie:sid', 'header:X-Session'].map(
    (k): [string, unknown, boolean, boolean] => [`the session key ${k}`, { sessionKey: k }, true, true],
  ),
  ['an unknown top-level field', { route: [] }, false, false],
  ['an unknown replay field', { replay: { rate: 2 } }, false, false],
  ['an unknown cohort-rule field', { cohorts: [{ name: 'a', headers: 'x' }] }, false, false],
  ['a name that is a number', { name: 5 }, false, false],
  ['a blank name', { name: '   ' }, false, false],
  ['routes as a string', { routes: '/a' }, false, false],
  ['a route without a leading /', { routes: ['a/:id'] }, false, false],
  ['a route with a query', { routes: ['/a?x=1'] }, false, false],
  ['a route with a space', { routes: ['/a b'] }, false, false],
  ['a bad parameter name', { routes: ['/a/:'] }, false, false],
  ['a parameter with an extension', { routes: ['/img/:id.jpg'] }, false, false],
  ['a * before the last segment', { routes: ['/a/*/b'] }, false, false],
  ['cohorts as an object', { cohorts: { name: 'a' } }, false, false],
  ['a cohort rule without a name', { cohorts: [{ header: 'x' }] }, false, false],
  ['a cohort name with capitals', { cohorts: [{ name: 'Plan', header: 'x' }] }, false, false],
  ['a non-built-in cohort without a source', { cohorts: [{ name: 'plan' }] }, false, false],
  ['an empty header list', { cohorts: [{ name: 'a', header: [] }] }, false, false],
  ['a header name with a space', { cohorts: [{ name: 'a', header: 'x plan' }] }, false, false],
  ['a map value that is a number', { cohorts: [{ name: 'a', header: 'x', map: { k: 1 } }] }, false, false],
  ['a blank default', { cohorts: [{ name: 'a', header: 'x', default: ' ' }] }, false, false],
  ['an unknown session key', { sessionKey: 'ip' }, false, false],
  ['auto+ with something other than client', { sessionKey: 'auto+cookie:sid' }, false, false],
  ['a cookie session key without a name', { sessionKey: 'cookie:' }, false, false],
  ['replay as an array', { replay: [] }, false, false],
  ['a scale given as a string', { replay: { scale: '10' } }, false, false],
  ['a zero scale', { replay: { scale: 0 } }, false, false],
  ['a fractional concurrency', { replay: { concurrency: 1.5 } }, false, false],
  ['a duration without a number', { replay: { duration: 'soon' } }, false, false],
  ['a negative jitter', { replay: { jitter: '-1s' } }, false, false],
  ['thresholds as a string', { thresholds: 'p99<1s' }, false, false],
  ['a threshold without a comparison', { thresholds: ['p99'] }, false, false],
  ['an array document', [], false, false],
  // Where they differ (documented in scenarios/README.md):
  ['a repeated cohort attribute (difference: JSON Schema cannot compare array items by one field)',
    { cohorts: [{ name: 'a', header: 'x' }, { name: 'a', header: 'y' }] }, true, false],
  ['an idle split of zero (difference: the schema checks the form of client:IDLE, the loader its value)', { sessionKey: 'client:0' }, true, false],
  ['spaces around a session key (difference: the loader trims)', { sessionKey: ' client: 30m ' }, false, true],
  ['spaces around a duration (difference: the loader trims)', { replay: { duration: ' 30s ' } }, false, true],
];

describe('the schema and the loader (src/segment/scenario.ts) agree', () => {
  it.each(CASES)('%s', (_name, doc, schemaAccepts, loaderAccepts) => {
    expect(bySchema(doc).length === 0, `schema: ${bySchema(doc).join('; ')}`).toBe(schemaAccepts);
    expect(byLoader(doc).length === 0, `loader: ${byLoader(doc).join('; ')}`).toBe(loaderAccepts);
  });

  it('the schema names the draft ajv validates it with (it compiled in strict mode above)', () => {
    expect((schema as { $schema?: string }).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });
});
