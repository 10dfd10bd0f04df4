import { afterEach, describe, expect, it } from 'vitest';
import { ex, planOf, replaySessions, session, startServer } from './helpers.js';
import { planClones, type LazySessions, type PlannedClone } from '../../src/replay/clone-planner.js';
import type { PlanOptions } from '../../src/replay/replay-options.js';
import type { Session } from '../../src/model/session.js';
import { mergeRuns } from '../../src/measure/merge.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

function recording(n: number): Session[] {
  return Array.from({ length: n }, (_, s) =>
    session(`k${s}`, [
      ex({ target: `/p/${s}/one`, startOffsetUs: s * 100_000, durationUs: 10_000 }),
      ex({ target: `/p/${s}/two`, startOffsetUs: s * 100_000 + 50_000, durationUs: 10_000 }),
    ]),
  );
}

function plan(p: Partial<PlanOptions> = {}): PlanOptions & { headers: [] } {
  return { ...planOf(p), worker: { index: 0, count: 1 }, headers: [], ...p };
}

function ids(clones: Iterable<PlannedClone>): string[] {
  return [...clones].map((c) => `${c.plan.key}#${c.clone}@${c.loop}:${c.startUs}`);
}

describe('the clone plan', () => {
  it('--speed 2 halves every start, offset and gap of the schedule', () => {
    const one = [...planClones(() => recording(5), plan())];
    const two = [...planClones(() => recording(5), plan({ speed: 2 }))];
    expect(two.map((c) => c.startUs)).toEqual(one.map((c) => c.startUs / 2));
    expect(two[1]!.plan.steps[1]!.gapUs).toBe(20_000);
    expect(one[1]!.plan.steps[1]!.gapUs).toBe(40_000);
    expect(one[1]!.plan.steps[1]!.dep).toBe(0);
  });

  it('yields clones in start order, with jitter inside [0, jitter)', () => {
    const clones = [...planClones(() => recording(50), plan({ scale: 4, jitterUs: 300_000 }))];
    expect(clones).toHaveLength(200);
    const starts = clones.map((c) => c.startUs);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    for (const c of clones) {
      const base = Number(c.plan.key.slice(1)) * 100_000;
      expect(c.startUs - base).toBeGreaterThanOrEqual(0);
      expect(c.startUs - base).toBeLessThan(300_000);
    }
  });

  it('from session summaries, loads each session only when its first clone is due, and plans the same clones', () => {
    const sessions = recording(40);
    const loaded: string[] = [];
    const lazy: LazySessions = {
      heads: () => sessions.map((x) => ({ key: x.key, cohort: x.cohort, startOffsetUs: x.startOffsetUs, endOffsetUs: x.endOffsetUs, exchangeCount: x.exchanges.length })),
      load: (head) => {
        loaded.push(head.key);
        return sessions.find((x) => x.key === head.key)!;
      },
    };
    const p = plan({ scale: 2.5, jitterUs: 1_000_000, durationUs: 8_000_000 });
    const eager = ids(planClones(() => sessions, p));
    const it = planClones(lazy, p);
    const first = it.next().value as PlannedClone;
    // the jitter window holds ~10 sessions (100 ms apart); only the one due was loaded
    expect(loaded).toEqual([first.plan.key]);
    const rest = [...it];
    expect(ids([first, ...rest])).toEqual(eager);
    // loaded once per session and loop that has a clone, not once per clone
    const perLoop = new Set([first, ...rest].map((c) => `${c.plan.key}@${c.loop}`));
    expect(loaded).toHaveLength(perLoop.size);
    expect(rest.length + 1).toBeGreaterThan(perLoop.size);
  });

  it('shards 1/3, 2/3, 3/3 partition the unsharded plan exactly, and so do workers', () => {
    const all = ids(planClones(() => recording(30), plan({ scale: 2.5, jitterUs: 100_000 })));
    const shards = [1, 2, 3].flatMap((i) => ids(planClones(() => recording(30), plan({ scale: 2.5, jitterUs: 100_000, shard: { index: i, count: 3 } }))));
    expect(shards.sort()).toEqual([...all].sort());
    const workers = [0, 1].flatMap((w) => ids(planClones(() => recording(30), plan({ scale: 2.5, jitterUs: 100_000, worker: { index: w, count: 2 } }))));
    expect(workers.sort()).toEqual([...all].sort());
    expect(all.length).toBeGreaterThan(60);
    expect(all.length).toBeLessThan(90);
  });

  it('--duration loops the recording and stops starting clones at the duration', () => {
    const clones = [...planClones(() => recording(3), plan({ durationUs: 1_000_000 }))];
    // recording span: last end 260 ms → loops at 0, 260, 520, 780 ms
    expect(clones.map((c) => c.loop)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(clones.every((c) => c.startUs < 1_000_000)).toBe(true);
    const short = [...planClones(() => recording(3), plan({ durationUs: 150_000 }))];
    expect(short.map((c) => c.plan.key)).toEqual(['k0', 'k1']);
  });

  it('--ramp grows the copies from 1 to the scale', () => {
    const clones = [...planClones(() => recording(40), plan({ scale: 5, rampUs: 4_000_000 }))];
    const early = clones.filter((c) => c.startUs < 1_000_000).length / 10;
    const late = clones.filter((c) => c.startUs >= 3_000_000).length / 10;
    expect(early).toBeLessThan(2.5);
    expect(late).toBeGreaterThan(3.5);
  });

  it('a request waits for the response it depended on, overlapping requests overlap', () => {
    const s = session('o', [
      ex({ target: '/a', startOffsetUs: 0, durationUs: 100_000 }),
      ex({ target: '/b', startOffsetUs: 50_000, durationUs: 100_000 }),
      ex({ target: '/c', startOffsetUs: 120_000, durationUs: 10_000 }),
      ex({ target: '/d', startOffsetUs: 200_000, durationUs: 10_000 }),
    ]);
    const [clone] = [...planClones(() => [s], plan())];
    expect(clone!.plan.steps.map((x) => [x.dep, x.offsetUs, x.gapUs])).toEqual([
      [-1, 0, 0],
      [-1, 50_000, 0],
      [0, 120_000, 20_000],
      // b ended at 150 ms, after c (130 ms): the latest response before d was b's
      [1, 200_000, 50_000],
    ]);
  });
});

describe('shards against a server', () => {
  it('shards 1/3 + 2/3 + 3/3 send exactly what the unsharded run sends, and mergeRuns has its counts', async () => {
    const srv = await startServer((req, res) => {
      res.statusCode = req.url!.includes('/7/') ? 404 : 200;
      res.end('abc');
    });
    servers.push(srv);
    const p = { scale: 2.5, jitterUs: 20_000 };
    const rec = recording(12).map((s) => ({ ...s, exchanges: s.exchanges.map((e) => ({ ...e, startOffsetUs: e.startOffsetUs / 10 })), startOffsetUs: s.startOffsetUs / 10 }));
    const whole = await replaySessions(rec, srv.url, p);
    const wholeHits = srv.hits.map((h) => h.url).sort();
    srv.hits.length = 0;
    const parts = [];
    for (const i of [1, 2, 3]) parts.push(await replaySessions(rec, srv.url, { ...p, shard: { index: i, count: 3 } }));
    expect(srv.hits.map((h) => h.url).sort()).toEqual(wholeHits);
    const merged = mergeRuns(parts);
    expect(merged.totals.requests).toBe(whole.totals.requests);
    expect(merged.totals.sessions).toBe(whole.totals.sessions);
    expect(merged.mergedFrom).toBe(3);
    expect(merged.segments.map((s) => [s.key, s.count, s.byStatusClass])).toEqual(whole.segments.map((s) => [s.key, s.count, s.byStatusClass]));
    expect(merged.totals.mismatches).toBe(whole.totals.mismatches);
  });
});
