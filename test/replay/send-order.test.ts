import { afterAll, describe, expect, it } from 'vitest';
import { initHistograms } from '../../src/measure/histogram.js';
import { RunRecorder } from '../../src/measure/run-recorder.js';
import { planClones, type PlannedClone } from '../../src/replay/clone-planner.js';
import { PRESTART_MAX_STEPS, prestartSteps, ReplayRunner, type RunnerOutcome } from '../../src/replay/replay-runner.js';
import { ex, planOf, session, startServer } from './helpers.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  while (servers.length) await servers.pop()!.close();
});

/**
 * The plan's clones, noting at each request for the next one how many
 * requests the runner had sent (in flight or done) by then.
 */
function countingReads(planned: Iterator<PlannedClone>, runner: () => ReplayRunner): { clones: Iterator<PlannedClone>; sentAtRead: number[] } {
  const sentAtRead: number[] = [];
  const clones: Iterator<PlannedClone> = {
    next: () => {
      const p = runner().progress();
      sentAtRead.push(p.inFlight + p.done);
      return planned.next();
    },
    return: (v) => planned.return!(v),
  };
  return { clones, sentAtRead };
}

/** Replays ten one-request sessions 20 ms apart, planning `prestart` requests before the start. */
async function spacedRun(prestart: number): Promise<{ outcome: RunnerOutcome; hits: number; sentAtRead: number[] }> {
  const srv = await startServer();
  servers.push(srv);
  await initHistograms();
  const sessions = Array.from({ length: 10 }, (_, i) => session(`s${i}`, [ex({ target: `/s/${i}`, startOffsetUs: i * 20_000 })]));
  const planned = planClones(() => sessions, { ...planOf(), worker: { index: 0, count: 1 }, headers: [] });
  let runner: ReplayRunner | null = null;
  const { clones, sentAtRead } = countingReads(planned, () => runner!);
  runner = new ReplayRunner({ target: srv.url, clones, recorder: new RunRecorder({ windowUs: 1_000_000 }), concurrency: 100, timeoutUs: 5_000_000, durationUs: null, prestartSteps: prestart });
  const outcome = await runner.run();
  return { outcome, hits: srv.hits.length, sentAtRead };
}

describe('send order', () => {
  it('a due request goes out before the plan is asked for the next clone (which reads that session from the recording)', async () => {
    const srv = await startServer();
    servers.push(srv);
    await initHistograms();
    // ten one-request sessions, all due at time zero
    const sessions = Array.from({ length: 10 }, (_, i) => session(`s${i}`, [ex({ target: `/s/${i}`, startOffsetUs: 0 })]));
    const planned = planClones(() => sessions, { ...planOf(), worker: { index: 0, count: 1 }, headers: [] });
    let runner: ReplayRunner | null = null;
    const { clones, sentAtRead } = countingReads(planned, () => runner!);
    // nothing planned ahead before the start (the default): every read but the first happens during the run
    runner = new ReplayRunner({ target: srv.url, clones, recorder: new RunRecorder({ windowUs: 1_000_000 }), concurrency: 100, timeoutUs: 5_000_000, durationUs: null });
    const outcome = await runner.run();
    expect(outcome.sessions).toBe(10);
    expect(srv.hits).toHaveLength(10);
    // the first read comes before anything is due; read k (k ≥ 1) comes after clones 0..k-1 were sent
    expect(sentAtRead.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a small plan is read whole before the clock starts, so no session is read while requests are due', async () => {
    const { outcome, hits, sentAtRead } = await spacedRun(prestartSteps(10, { scale: 1, durationUs: null }));
    expect(outcome.sessions).toBe(10);
    expect(hits).toBe(10);
    // ten clones and the plan's end: all asked for before the first send
    expect(sentAtRead).toEqual(Array(11).fill(0));
  });

  it('the plan read before the start stops at the budget; the rest is read during the run', async () => {
    const { sentAtRead } = await spacedRun(4);
    expect(sentAtRead.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(sentAtRead.slice(4).some((n) => n > 0)).toBe(true);
  });

  it('only a small plan without a --duration loop is read before the start', () => {
    expect(prestartSteps(1_300, { scale: 10, durationUs: null })).toBe(13_000);
    expect(prestartSteps(1_300, { scale: 2.5, durationUs: null })).toBe(3_900);
    expect(prestartSteps(PRESTART_MAX_STEPS + 1, { scale: 1, durationUs: null })).toBe(0);
    expect(prestartSteps(3_000, { scale: 10, durationUs: null })).toBe(0);
    expect(prestartSteps(100, { scale: 1, durationUs: 60_000_000 })).toBe(0);
  });
});

/**
 * Replays `total` one-request sessions `spacingUs` apart whose requests all fail at dispatch
 * (an invalid path the lean client refuses at once, so nothing is ever in flight), with a
 * 10 ms timer that only fires when the runner lets the event loop in; `counts` decides
 * whether a firing counts (given the runner).
 */
async function failingRun(options: {
  total: number;
  spacingUs: number;
  prestartSteps?: number;
  wrap?: (planned: Iterator<PlannedClone>) => Iterator<PlannedClone>;
  counts: (runner: ReplayRunner) => boolean;
}): Promise<{ outcome: RunnerOutcome; runner: ReplayRunner; fired: number; hits: number }> {
  const srv = await startServer();
  servers.push(srv);
  await initHistograms();
  const sessions = Array.from({ length: options.total }, (_, i) => session(`s${i}`, [ex({ target: `/bad path/${i}`, startOffsetUs: i * options.spacingUs })]));
  const planned = planClones(() => sessions, { ...planOf(), worker: { index: 0, count: 1 }, headers: [] });
  const runner = new ReplayRunner({
    target: srv.url, clones: options.wrap ? options.wrap(planned) : planned, recorder: new RunRecorder({ windowUs: 1_000_000 }),
    concurrency: 100, timeoutUs: 5_000_000, durationUs: null, httpClient: 'lean', prestartSteps: options.prestartSteps ?? 0,
  });
  let fired = 0;
  const timer = setInterval(() => {
    if (options.counts(runner)) fired++;
  }, 10);
  const outcome = await runner.run();
  clearInterval(timer);
  return { outcome, runner, fired, hits: srv.hits.length };
}

describe('a tick lets the event loop in', () => {
  it('while every request fails as it is dispatched (an invalid path the client refuses at once)', async () => {
    // 500 sessions 1 ms apart, planned before the start (on time throughout): every gap is
    // under the 2 ms below which the runner waits instead of arming a timer
    const { outcome, runner, fired, hits } = await failingRun({ total: 500, spacingUs: 1_000, prestartSteps: 500, counts: () => true });
    expect(outcome.sessions).toBe(500);
    expect(runner.progress().errors).toBe(500);
    expect(hits).toBe(0);
    // the run lasts 0.5 s (~50 firings); a tick that never let the loop in: none (the previous runner)
    expect(fired).toBeGreaterThanOrEqual(5);
  });
});

describe('a generator behind schedule', () => {
  it('lets the event loop in while it starts overdue clones (each a session read), not only after all of them', async () => {
    const total = 2_000;
    // every session due at time zero; each read from the plan takes ~100 µs (a session read
    // from the recording), so starting them all takes ~0.2 s
    const slowReads = (planned: Iterator<PlannedClone>): Iterator<PlannedClone> => ({
      next: () => {
        const until = performance.now() + 0.1;
        while (performance.now() < until);
        return planned.next();
      },
      return: (v) => planned.return!(v),
    });
    // firings counted while clones are still starting
    const { outcome, runner, fired } = await failingRun({ total, spacingUs: 0, wrap: slowReads, counts: (r) => r.progress().sessions < total });
    expect(outcome.sessions).toBe(total);
    expect(runner.progress().errors).toBe(total);
    // ~0.2 s of starting clones: ~20 firings; a pass that started them all at once: none
    expect(fired).toBeGreaterThanOrEqual(3);
  });
});
