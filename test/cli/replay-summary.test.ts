import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import type { RowSummary } from '../../src/report/types.js';
import { ex, startServer } from '../replay/helpers.js';
import { flashback, tempDir } from './replay-helpers.js';

/**
 * Replay's closing table (and its --json) and `report show` of the run.json
 * it wrote come from one summarizer, so they print the same figures.
 */

let dir: string;
let rec: string;
let srv: Awaited<ReturnType<typeof startServer>>;

/** 40 sessions of three item views and one purchase: 120 GETs (enough for a P95), 40 POSTs (not). */
async function writeShopRecording(path: string): Promise<void> {
  const w = await RecordingWriter.create(path, { source: 'generated', upstream: null, toolVersion: 'test', redacted: false });
  for (let s = 0; s < 40; s++) {
    for (let i = 0; i < 4; i++) {
      const buy = i === 3;
      const exchange = ex({
        sessionKey: `s${s}`, seq: i, startOffsetUs: s * 10_000 + i * 2_000,
        method: buy ? 'POST' : 'GET', target: buy ? '/buy' : `/item/${s}`, route: buy ? 'POST /buy' : 'GET /item/:id',
      });
      w.add(exchange, { device: s % 2 ? 'mobile' : 'desktop' });
    }
  }
  await w.close();
}

beforeAll(async () => {
  dir = tempDir();
  rec = join(dir, 'rec.db');
  await writeShopRecording(rec);
  let n = 0;
  // purchases answer after 0–9 ms, item views at once: the two routes' figures differ
  srv = await startServer((req, res) => {
    const delay = req.method === 'POST' ? n++ % 10 : 0;
    setTimeout(() => res.end('ok'), delay);
  });
});
afterAll(async () => {
  await srv.close();
});

const common = ['--jitter', '0', '--workers', '1', '--max-send-lag', '10s'];

/** `report show <run> --by route` as JSON: the overall row and the route rows. */
async function shownRows(run: string): Promise<{ overall: RowSummary; routes: RowSummary[] }> {
  const r = await flashback(['report', 'show', run, '--by', 'route', '--format', 'json']);
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout) as { views: Array<{ name: string; rows: RowSummary[] }> };
  expect(doc.views.map((v) => v.name)).toEqual(['overall', 'route']);
  return { overall: doc.views[0]!.rows[0]!, routes: doc.views[1]!.rows };
}

/** Body rows of the cli-table3 tables in `text` (all with header `head` first), keyed by their first cell. */
function tableCells(text: string, head: string): Map<string, Record<string, string>> {
  const split = (l: string): string[] => l.split('│').slice(1, -1).map((c) => c.trim());
  const lines = text.split('\n').filter((l) => l.startsWith('│')).map(split);
  const names = lines.find((cells) => cells[0] === head)!;
  const rows = new Map<string, Record<string, string>>();
  for (const cells of lines) {
    if (cells[0] !== head) rows.set(cells[0]!, Object.fromEntries(names.map((n, i) => [n, cells[i]!])));
  }
  return rows;
}

describe('replay\'s closing table and report show agree (built CLI, real server)', () => {
  it('--json: the overall and route rows are report show\'s rows of the same run.json', async () => {
    const out = join(dir, 'j.json');
    const r = await flashback(['replay', rec, '--target', srv.url, ...common, '--json', '--out', out]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { overall: RowSummary; routes: RowSummary[] };
    const shown = await shownRows(out);
    expect(doc.overall).toEqual(shown.overall);
    expect(doc.routes).toEqual(shown.routes);
    expect(doc.routes.map((x) => [x.route, x.requests]).sort()).toEqual([['GET /item/:id', 120], ['POST /buy', 40]]);
    expect(doc.overall.requests).toBe(160);
  });

  it('the table prints each route\'s P50, P95, P99 and max as report show does, n<100 for a P95 from 40 requests', async () => {
    const out = join(dir, 't.json');
    const r = await flashback(['replay', rec, '--target', srv.url, ...common, '--out', out]);
    expect(r.code).toBe(0);
    const replayed = tableCells(r.stdout, 'route');
    const show = await flashback(['report', 'show', out, '--by', 'route']);
    expect(show.code).toBe(0);
    const shown = tableCells(show.stdout, 'segment');
    // slowest P99 first in both; which route that is depends on the machine
    expect([...replayed.keys()][0]).toBe('overall');
    expect([...replayed.keys()].slice(1).sort()).toEqual(['GET /item/:id', 'POST /buy']);
    expect([...replayed.keys()].slice(1)).toEqual([...shown.keys()].filter((k) => k !== 'all'));
    for (const [label, row] of replayed) {
      const other = shown.get(label === 'overall' ? 'all' : label)!;
      for (const cell of ['requests', 'errors', 'mismatch', 'P50', 'P95', 'P99', 'max']) expect(row[cell]).toBe(other[cell]);
    }
    expect(replayed.get('POST /buy')!['P95']).toBe('n<100');
    expect(replayed.get('GET /item/:id')!['P95']).toMatch(/^\d/);
    expect(replayed.get('overall')!['P99']).toBe('n<1000');
  });
});
