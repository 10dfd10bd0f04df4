import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { compareRuns, pairOf } from '../../src/report/diff.js';
import { evaluateDiffGates, parseGates } from '../../src/report/gates.js';
import { buildDiffHtml, buildShowHtml } from '../../src/report/html-report.js';
import { summarizeRun } from '../../src/report/summary.js';
import { browserRequired, findBrowser, REQUIRE_BROWSER_VARIABLE } from './find-browser.js';
import { storefrontRun } from './fixtures.js';

const BROWSER = findBrowser();
/** Screenshots land here (look at them: the test checks structure, people check looks). */
const SHOTS = join(tmpdir(), 'flashback-report-screens');

describe('the HTML report in headless Chromium', () => {
  let browser: BrowserContext | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'flashback-html-'));
  const base = storefrontRun({ label: 'naive', seed: 1 });
  const cand = storefrontRun({ label: 'tuned', seed: 2, slowdown: { 'POST /checkout': 0.6, 'GET /search': 1.25 }, failPerWindow: 1 });

  beforeAll(async () => {
    if (BROWSER.path === null) {
      if (browserRequired()) throw new Error(`${REQUIRE_BROWSER_VARIABLE} is set but ${BROWSER.reason}`);
      // The default reporter shows a skip's note only in verbose mode: say it once here too.
      console.warn(`HTML report browser tests skipped: ${BROWSER.reason}`);
      return;
    }
    mkdirSync(SHOTS, { recursive: true });
    // A fresh profile directory each run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'flashback-chromium-')), {
      executablePath: BROWSER.path,
      headless: true,
      viewport: { width: 1240, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Skips the test, with the reason, where no browser was found and none is required. */
  function needBrowser(ctx: TestContext): BrowserContext {
    if (BROWSER.path === null) ctx.skip(BROWSER.reason);
    if (!browser) throw new Error('the browser did not start');
    return browser;
  }

  async function open(ctx: TestContext, html: string, name: string): Promise<{ svgs: number; paths: number; problems: string[]; requests: string[]; text: string }> {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, html);
    const page = await needBrowser(ctx).newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${file}`);
    const svgs = await page.locator('svg.chart').count();
    const paths = await page.locator('svg.chart path').count();
    const text = await page.locator('body').innerText();
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    await page.screenshot({ path: join(SHOTS, `${name}-top.png`) });
    await page.close();
    return { svgs, paths, problems, requests, text };
  }

  it('renders a diff: throughput and P99 over time, percentile curves of both runs per route, tables, no console errors', async (ctx) => {
    const c = compareRuns(pairOf(base, cand));
    const gates = evaluateDiffGates(parseGates(['p99:+10%', 'route=POST /checkout: p99<400ms']), pairOf(base, cand));
    const r = await open(ctx, buildDiffHtml(base, cand, c, gates), 'diff');
    // 2 over-time charts + overall curve + 4 routes.
    expect(r.svgs).toBe(7);
    // Every chart draws a line per run.
    expect(r.paths).toBeGreaterThanOrEqual(14);
    expect(r.problems).toEqual([]);
    expect(r.requests).toEqual([]);
    expect(r.text).toContain('POST /checkout');
    expect(r.text).toMatch(/improvement/);
    expect(r.text).toMatch(/regression/);
  });

  it('renders a single run and an invalid-run banner', async (ctx) => {
    const invalid = storefrontRun({ label: 'saturated', seed: 3, valid: false });
    const r = await open(ctx, buildShowHtml(invalid, summarizeRun(invalid)), 'show');
    expect(r.svgs).toBe(7);
    expect(r.problems).toEqual([]);
    expect(r.text).toContain('INVALID RUN "saturated"');
  });
});
