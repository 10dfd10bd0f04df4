import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../../src/model/run-result.js';
import { logNormalUs, makeRun, rng } from './make-run.js';

const ROUTES = [
  { route: 'GET /products/:id', medianUs: 8_000, share: 5 },
  { route: 'GET /search', medianUs: 25_000, share: 3 },
  { route: 'POST /cart/:id/items', medianUs: 15_000, share: 2 },
  { route: 'POST /checkout', medianUs: 90_000, share: 1 },
];
const DEVICES = [
  { device: 'mobile', factor: 1.3, share: 2 },
  { device: 'desktop', factor: 1, share: 1 },
];

/**
 * A storefront-like synthetic run: four routes × two devices, 30 one-second
 * windows, log-normal latencies. `slowdown` multiplies a route's latencies;
 * about `failPerWindow` checkouts per window and device fail (0 to twice that).
 */
export function storefrontRun(options: { label: string; seed: number; slowdown?: Record<string, number>; failPerWindow?: number; valid?: boolean; digest?: string }): RunResult {
  const random = rng(options.seed);
  const segments = ROUTES.flatMap(({ route, medianUs, share }) =>
    DEVICES.map(({ device, factor, share: dShare }) => {
      const perWindow = 12 * share * dShare;
      const f = (options.slowdown?.[route] ?? 1) * factor;
      const windows = Array.from({ length: 30 }, () => Array.from({ length: perWindow }, () => logNormalUs(random, medianUs * f, 0.45)));
      const errors = windows.map(() => (route === 'POST /checkout' ? Math.round(random() * 2 * (options.failPerWindow ?? 0)) : 0));
      return { route, cohort: { device, region: 'eu' }, windows, errors };
    }),
  );
  return makeRun({
    label: options.label,
    segments,
    ...(options.digest ? { digest: options.digest } : {}),
    ...(options.valid === false ? { valid: false, invalidReasons: ['send lag p99 48.2ms over the 10ms limit'] } : {}),
  });
}

/** Writes base.json, cand.json (checkout 40% slower, ~5% of checkouts failing), invalid.json, other.json into `dir`. */
export function writeFixtureRuns(dir: string): Record<'base' | 'cand' | 'invalid' | 'other', string> {
  mkdirSync(dir, { recursive: true });
  const files = {
    base: storefrontRun({ label: 'baseline', seed: 1 }),
    cand: storefrontRun({ label: 'candidate', seed: 2, slowdown: { 'POST /checkout': 1.4 }, failPerWindow: 1 }),
    invalid: storefrontRun({ label: 'saturated', seed: 3, valid: false }),
    other: storefrontRun({ label: 'other-recording', seed: 4, digest: 'ffff0000' }),
  };
  const paths = {} as Record<keyof typeof files, string>;
  for (const [k, run] of Object.entries(files) as Array<[keyof typeof files, RunResult]>) {
    paths[k] = join(dir, `${k}.json`);
    writeFileSync(paths[k], JSON.stringify(run));
  }
  return paths;
}
