import type { Session, SessionInfo } from '../model/session.js';
import type { PlanOptions } from './replay-options.js';
import { hashString, mix32, unitOf } from '../model/seeded-hash.js';
import { StringPool } from './string-pool.js';
import { exchangeFilter, planSession, type SessionPlan, type SessionPlanOptions } from './session-plan.js';

/** One copy of a recorded session, due to start at `startUs` (replay µs from the run start). */
export interface PlannedClone {
  startUs: number;
  plan: SessionPlan;
  /** 0-based copy index within its session and loop. */
  clone: number;
  loop: number;
  /**
   * A seeded 32-bit hash of the copy's identity (seed, session, loop, copy):
   * the same in every shard and worker. A paired replay takes its low bit
   * to decide which target gets the copy's requests first on a tie.
   */
  id: number;
}

/** Options of {@link planClones}. */
export type ClonePlanOptions = PlanOptions & Pick<SessionPlanOptions, 'headers' | 'secrets'>;

/**
 * Sessions read one by one, each loaded only when asked: `heads()` streams
 * the summaries in start order (ties by key), `load(head)` reads that
 * session's exchanges. A recording file gives both (an indexed query per
 * session); see {@link planClones}.
 */
export interface LazySessions {
  heads(): Iterable<SessionInfo>;
  load(head: SessionInfo): Session;
}

/** What the clones of one session (in one loop) share while they wait: its plan, made by the first one due. */
interface SessionSlot {
  /** A summary (lazy) or the whole session. */
  head: SessionInfo | Session;
  /** undefined until planned; null when no exchange passed the filter. */
  plan: SessionPlan | null | undefined;
  /** Its clones still in the heap: the last one out takes the plan away (see popPlanned). */
  waiting: number;
}

/** A clone waiting in the heap: `startUs` is exact once its session is planned, else from the session's start. */
interface WaitingClone {
  startUs: number;
  /** Start of its loop, µs. */
  loopOffsetUs: number;
  /** Its seeded jitter, µs: the start is loop offset + the plan's recorded start / speed + this. */
  jitterUs: number;
  slot: SessionSlot;
  clone: number;
  loop: number;
  id: number;
}

/** Binary min-heap of clones by start time (a handful at a time: those within the jitter window). */
class CloneHeap {
  private items: WaitingClone[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): WaitingClone | undefined {
    return this.items[0];
  }
  push(c: WaitingClone): void {
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
  pop(): WaitingClone {
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
 * per loop through `source` (sessions ordered by start), so only the
 * sessions within the jitter window are held at a time.
 *
 * From {@link LazySessions} without `--methods`/`--routes`, a session's
 * clones wait for their jittered start as a few numbers and the session's
 * summary; its exchanges are loaded and planned when its first clone is
 * due, so what the jitter window holds (up to a second of sessions; at
 * `--scale 1`, every session) is a summary each, not exchanges and a plan
 * (a loaded session is an indexed query, as fast per exchange as the
 * session-ordered stream). With a filter, or from an iterable of
 * whole sessions (tests), each session is planned as it is read (its start
 * is the first exchange the filter keeps, which needs the exchanges).
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
export function* planClones(source: (() => Iterable<Session>) | LazySessions, options: ClonePlanOptions): Generator<PlannedClone> {
  const filter = exchangeFilter(options.methods, options.routes);
  const sessionOptions: SessionPlanOptions = {
    speed: options.speed,
    methods: options.methods,
    routes: options.routes,
    headers: options.headers,
    ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
    strings: new StringPool(),
  };
  const { scale, speed, durationUs, rampUs, jitterUs, seed, shard, worker } = options;
  const lazy = typeof source !== 'function' && options.methods === null && options.routes === null ? source : null;
  const heads: () => Iterable<SessionInfo | Session> = typeof source === 'function' ? source : () => source.heads();
  const load = (head: SessionInfo | Session): Session =>
    'exchanges' in head ? head : (source as LazySessions).load(head);
  const maxCopies = Math.max(1, Math.ceil(scale));
  const heap = new CloneHeap();
  /** The next clone due, its session planned (clones whose session has nothing to replay are skipped). */
  const popPlanned = (): PlannedClone | null => {
    const w = heap.pop();
    const slot = w.slot;
    const plan = slot.plan === undefined ? planSession(load(slot.head), filter, sessionOptions) : slot.plan;
    // The slot waited through the jitter window, so it is in old space by now; a plan left in
    // it after its last clone is out would be kept alive by this dead slot through every
    // scavenge until the next mark-compact (and promoted), so only a slot with clones still
    // waiting holds the plan.
    slot.plan = --slot.waiting > 0 ? plan : undefined;
    if (plan === null) return null;
    const startUs = Math.round(w.loopOffsetUs + plan.recordedStartUs / speed + w.jitterUs);
    return { startUs, plan, clone: w.clone, loop: w.loop, id: w.id };
  };
  let loopOffsetUs = 0;
  for (let loop = 0; ; loop++) {
    let maxEndUs = 0;
    let sessions = 0;
    for (const head of heads()) {
      sessions++;
      if (head.endOffsetUs > maxEndUs) maxEndUs = head.endOffsetUs;
      const sessionStartUs = loopOffsetUs + head.startOffsetUs / speed;
      while (heap.size > 0 && heap.peek()!.startUs <= sessionStartUs) {
        const c = popPlanned();
        if (c !== null) yield c;
      }
      if (durationUs !== null && sessionStartUs >= durationUs) break;
      const h = mix32(hashString(seed, head.key), loop);
      const u = unitOf(mix32(h, 0x5eed));
      let slot: SessionSlot | undefined;
      for (let k = 0; k < maxCopies; k++) {
        const ck = mix32(h, k + 1);
        if (shard.count > 1 && mix32(ck, 1) % shard.count !== shard.index - 1) continue;
        if (worker.count > 1 && mix32(ck, 2) % worker.count !== worker.index) continue;
        slot ??= { head, plan: lazy === null ? planSession(load(head), filter, sessionOptions) : undefined, waiting: 0 };
        const sl: SessionSlot = slot;
        if (sl.plan === null) break;
        const jitter = unitOf(mix32(ck, 3)) * jitterUs;
        // lazily: the session's start stands for its first exchange's (the same in a recording file)
        const startUs = Math.round(loopOffsetUs + (sl.plan === undefined ? head.startOffsetUs : sl.plan.recordedStartUs) / speed + jitter);
        const scaleAt = rampUs > 0 ? 1 + (scale - 1) * Math.min(1, startUs / rampUs) : scale;
        if (!(k + u < scaleAt)) continue;
        if (durationUs !== null && startUs >= durationUs) continue;
        sl.waiting++;
        heap.push({ startUs, loopOffsetUs, jitterUs: jitter, slot: sl, clone: k, loop, id: ck });
      }
    }
    if (durationUs === null || sessions === 0) break;
    loopOffsetUs += Math.max(maxEndUs / speed, 1000);
    if (loopOffsetUs >= durationUs) break;
  }
  while (heap.size > 0) {
    const c = popPlanned();
    if (c !== null) yield c;
  }
}
