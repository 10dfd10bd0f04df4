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

describe('a tick lets the event loop in', () => {
  it('while every request fails as it is dispatched (an invalid path the client refuses at once)', async () => {
    const srv = await startServer();
    servers.push(srv);
    await initHistograms();
    // 500 one-request sessions 1 ms apart: every gap is under the 2 ms below which the runner
    // waits instead of arming a timer, and nothing is ever in flight
    const sessions = Array.from({ length: 500 }, (_, i) => session(`s${i}`, [ex({ target: `/bad path/${i}`, startOffsetUs: i * 1_000 })]));
    const planned = planClones(() => sessions, { ...planOf(), worker: { index: 0, count: 1 }, headers: [] });
    const runner = new ReplayRunner({
      target: srv.url, clones: planned, recorder: new RunRecorder({ windowUs: 1_000_000 }), concurrency: 100,
      timeoutUs: 5_000_000, durationUs: null, httpClient: 'lean', prestartSteps: 500, // planned before the start: on time throughout
    });
    // a timer that only fires when the runner returns to the event loop
    let fired = 0;
    const timer = setInterval(() => fired++, 20);
    const outcome = await runner.run();
    clearInterval(timer);
    expect(outcome.sessions).toBe(500);
    expect(runner.progress().errors).toBe(500);
    expect(srv.hits).toHaveLength(0);
    // the run lasts 0.5 s (~24 firings); a tick that never let the loop in: none (the previous runner)
    expect(fired).toBeGreaterThanOrEqual(5);
  });
});

describe('a generator behind schedule', () => {
  it('lets the event loop in while it starts overdue clones (each a session read), not only after all of them', async () => {
    const srv = await startServer();
    servers.push(srv);
    await initHistograms();
    const total = 2_000;
    // every session due at time zero; each read from the plan takes ~100 µs (a session read from
    // the recording), so starting them all takes ~0.2 s; the requests fail at dispatch (invalid path)
    const sessions = Array.from({ length: total }, (_, i) => session(`s${i}`, [ex({ target: `/bad path/${i}`, startOffsetUs: 0 })]));
    const planned = planClones(() => sessions, { ...planOf(), worker: { index: 0, count: 1 }, headers: [] });
    const slowReads: Iterator<PlannedClone> = {
      next: () => {
        const until = performance.now() + 0.1;
        while (performance.now() < until);
        return planned.next();
      },
      return: (v) => planned.return!(v),
    };
    const runner = new ReplayRunner({
      target: srv.url, clones: slowReads, recorder: new RunRecorder({ windowUs: 1_000_000 }), concurrency: 100,
      timeoutUs: 5_000_000, durationUs: null, httpClient: 'lean',
    });
    // a timer that only fires when the runner returns to the event loop; counted while clones are still starting
    let firedWhileStarting = 0;
    const timer = setInterval(() => {
      if (runner.progress().sessions < total) firedWhileStarting++;
    }, 10);
    const outcome = await runner.run();
    clearInterval(timer);
    expect(outcome.sessions).toBe(total);
    expect(runner.progress().errors).toBe(total);
    // ~0.2 s of starting clones: ~20 firings; a pass that started them all at once: none
    expect(firedWhileStarting).toBeGreaterThanOrEqual(3);
  });
});
