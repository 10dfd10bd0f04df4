import type { Session } from '../model/session.js';
import type { PlanOptions } from './replay-options.js';
import { hashString, mix32, unitOf } from './seeded-hash.js';
import { exchangeFilter, planSession, type SessionPlan, type SessionPlanOptions } from './session-plan.js';

/** One copy of a recorded session, due to start at `startUs` (replay µs from the run start). */
export interface PlannedClone {
  startUs: number;
  plan: SessionPlan;
  /** 0-based copy index within its session and loop. */
  clone: number;
  loop: number;
}

/** Options of {@link planClones}. */
export type ClonePlanOptions = PlanOptions & Pick<SessionPlanOptions, 'headers' | 'secrets'>;

/** Binary min-heap of clones by start time (a handful at a time: those within the jitter window). */
class CloneHeap {
  private items: PlannedClone[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): PlannedClone | undefined {
    return this.items[0];
  }
  push(c: PlannedClone): void {
    const a = this.items;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.startUs <= c.startUs) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = c;
  }
  pop(): PlannedClone {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]!.startUs < a[l]!.startUs ? r : l;
        if (a[c]!.startUs >= last.startUs) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Streams the clones of a replay in start order. Reads the recording once
 * per loop through `source()` (sessions ordered by start), so only the
 * sessions within the jitter window are held at a time.
 *
 * For each recorded session (and loop), a seeded `u` in [0,1) decides the
 * copies: copy k is kept when k + u < scale (at its start time, during
 * `--ramp` the scale grows linearly from 1). Each copy starts at the recorded
 * offset / speed plus a seeded jitter in [0, jitter). A copy belongs to shard
 * i/N and worker w/W by seeded hashes of its identity, so shards and workers
 * split exactly what the unsharded run would send.
 *
 * With `durationUs`, the recording loops (period: the recording's last end /
 * speed) and no copy starts at or after the duration.
 */
export function* planClones(source: () => Iterable<Session>, options: ClonePlanOptions): Generator<PlannedClone> {
  const filter = exchangeFilter(options.methods, options.routes);
  const sessionOptions: SessionPlanOptions = {
    speed: options.speed,
    methods: options.methods,
    routes: options.routes,
    headers: options.headers,
    ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
  };
  const { scale, speed, durationUs, rampUs, jitterUs, seed, shard, worker } = options;
  const maxCopies = Math.max(1, Math.ceil(scale));
  const heap = new CloneHeap();
  let loopOffsetUs = 0;
  for (let loop = 0; ; loop++) {
    let maxEndUs = 0;
    let sessions = 0;
    for (const session of source()) {
      sessions++;
      if (session.endOffsetUs > maxEndUs) maxEndUs = session.endOffsetUs;
      const sessionStartUs = loopOffsetUs + session.startOffsetUs / speed;
      while (heap.size > 0 && heap.peek()!.startUs <= sessionStartUs) yield heap.pop();
      if (durationUs !== null && sessionStartUs >= durationUs) break;
      const h = mix32(hashString(seed, session.key), loop);
      const u = unitOf(mix32(h, 0x5eed));
      let plan: SessionPlan | null | undefined;
      for (let k = 0; k < maxCopies; k++) {
        const ck = mix32(h, k + 1);
        if (shard.count > 1 && mix32(ck, 1) % shard.count !== shard.index - 1) continue;
        if (worker.count > 1 && mix32(ck, 2) % worker.count !== worker.index) continue;
        if (plan === undefined) plan = planSession(session, filter, sessionOptions);
        if (plan === null) break;
        const startUs = Math.round(loopOffsetUs + plan.recordedStartUs / speed + unitOf(mix32(ck, 3)) * jitterUs);
        const scaleAt = rampUs > 0 ? 1 + (scale - 1) * Math.min(1, startUs / rampUs) : scale;
        if (!(k + u < scaleAt)) continue;
        if (durationUs !== null && startUs >= durationUs) continue;
        heap.push({ startUs, plan, clone: k, loop });
      }
    }
    if (durationUs === null || sessions === 0) break;
    loopOffsetUs += Math.max(maxEndUs / speed, 1000);
    if (loopOffsetUs >= durationUs) break;
  }
  while (heap.size > 0) yield heap.pop();
}
