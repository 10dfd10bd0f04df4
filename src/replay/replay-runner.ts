import { performance } from 'node:perf_hooks';
import type { RunRecorder } from '../measure/run-recorder.js';
import type { RunPlan } from '../model/run-result.js';
import type { Sample } from '../model/sample.js';
import { ActiveClone } from './active-clone.js';
import type { HttpClientKind } from './http-client.js';
import type { PlannedClone } from './clone-planner.js';
import { RequestTimeoutError } from './error-kind.js';
import { applyResponse } from './response-effects.js';
import { buildRequest } from './request-builder.js';
import { RequestSlot, type SlotOwner } from './request-slot.js';
import { RunnerSide, type SideTarget } from './runner-side.js';

/**
 * Options of a {@link ReplayRunner}: the plan's view it needs (`concurrency`
 * is this runner's cap on requests in flight, its worker's part of the
 * plan's; `connections` defaults to per-clone; `durationUs`: stop sending at
 * this replay time, or null to run until the plan is done).
 */
export interface RunnerOptions extends Pick<RunPlan, 'concurrency' | 'connections' | 'timeoutUs' | 'durationUs'> {
  /** Origin requests go to (`http://127.0.0.1:3000`). */
  target: string;
  clones: Iterator<PlannedClone>;
  recorder: RunRecorder;
  /** Requests to plan before the clock starts ({@link prestartSteps}; default 0: only the first clone). */
  prestartSteps?: number;
  /** Wall-clock ms (Date.now()) to start at, for shards that begin together; now when absent. */
  startAtMs?: number;
  /** The HTTP client (`chooseHttpClient`); undici when absent. */
  httpClient?: HttpClientKind;
  /**
   * A paired replay's baseline (`--against`): every clone is also run
   * against this target, on the same clock and schedule, with its own
   * connections, cookie jar, live values, queue, cap of `concurrency`
   * requests in flight, and recorder.
   */
  against?: SideTarget;
}

/** What a run did besides the samples in the recorder. */
export interface RunnerOutcome {
  startedAt: string;
  durationUs: number;
  sessions: number;
  /** Requests due before the stop but never sent. */
  unsent: number;
  droppedRedactedHeaders: number;
  interrupted: boolean;
  /** With `startAtMs`: when sending began against it, µs (positive: late). */
  startSkewUs?: number;
  /** A paired run's outcome against its baseline (`RunnerOptions.against`); never nested further. */
  against?: RunnerOutcome;
}

/** A live view for progress lines. */
export interface RunnerProgress {
  elapsedUs: number;
  done: number;
  errors: number;
  inFlight: number;
  sessions: number;
  /** p99 response time of the last few seconds, µs (0 when none). */
  recentP99Us: number;
}

const SLACK_US = 100;
/**
 * Below this delay a timer is not armed: Node's timers count whole
 * milliseconds of loop time, so a 1 ms timer fires 1-2 ms later, too coarse
 * for a request due in under 2 ms. The loop waits in short blocking slices
 * instead (see {@link ReplayRunner.wait}).
 */
const TIMER_MIN_US = 2_000;
/**
 * Longest blocking wait (Atomics.wait) before the loop lets I/O in again. A
 * response that arrives during a wait is taken in (and timed) up to this
 * late, so it bounds how much a wait can add to a measured response time.
 */
const WAIT_SLICE_US = 200;
/** Longest a tick keeps sending (waiting out short gaps between due requests) before it lets I/O in. */
const TICK_BUDGET_US = 1_000;
/** One cell to block on with Atomics.wait (nothing ever notifies it: every wait times out). */
const WAIT_CELL = new Int32Array(new SharedArrayBuffer(4));
/** Clones read ahead of time (their sessions loaded from the recording) while the loop has nothing due: up to this far ahead… */
const READ_AHEAD_US = 20_000;
/** …and at most this many. */
const READ_AHEAD_MAX = 64;
/**
 * A plan of at most this many requests is read whole before the clock
 * starts (see {@link prestartSteps}): the demo's 1,300 requests at `--scale
 * 10`, say. Planning a session with bodies to search for correlations takes
 * 0.5-15 ms (the first ones, before the JIT has warmed up, the longest);
 * during the run that would block the sends due meanwhile.
 */
export const PRESTART_MAX_STEPS = 20_000;
/** At most this many clones read before the start (an array V8 can still shift in O(1)). */
const PRESTART_CLONES = 5_000;

/**
 * How many requests to plan before the clock starts: the whole plan when it
 * is small ({@link PRESTART_MAX_STEPS} requests at most, no `--duration`
 * loop), else none. Not a part of a large plan: plans read ahead by the
 * thousand all survive the first scavenges, and V8 then allocates every
 * later plan straight into old space (allocation-site pretenuring): a
 * steady 5,000 req/s replay went from 1 mark-compact in 20 s to 7.
 */
export function prestartSteps(exchanges: number, plan: Pick<RunPlan, 'scale' | 'durationUs'>): number {
  const steps = exchanges * Math.ceil(plan.scale);
  return plan.durationUs === null && steps <= PRESTART_MAX_STEPS ? steps : 0;
}
/**
 * What one read of a clone is assumed to take before any was timed, µs. A
 * read takes tens of µs for a few small exchanges, milliseconds for a long
 * session with bodies to search for correlations.
 */
const READ_COST_US = 300;
const SWEEP_MS = 50;
/**
 * Requests queued beyond which new sessions are shed when the generator is
 * also behind (memory stays bounded when saturated). The queue also holds
 * every running session's next request, due after its think time, so its
 * size alone says nothing: 100,000 sessions in think time queue 100,000.
 */
const MAX_QUEUED = 20_000;
/** How late the earliest queued request must be for the generator to count as behind. */
const BEHIND_US = 1_000_000;

/**
 * The single-threaded replay engine: starts clones at their planned times,
 * sends each step when it is due (open arrivals; a step that waited on a
 * response in the recording waits for the live one plus the recorded gap),
 * caps requests in flight (queued requests keep their intended time, so the
 * queueing counts in their response time), and feeds one reused `Sample` per
 * response into the recorder. No closure or promise per request.
 */
export class ReplayRunner implements SlotOwner {
  /** The targets: `--target`, then `--against` in a paired run. */
  private readonly sides: RunnerSide[];
  private readonly free: RequestSlot[] = [];
  private readonly sample: Sample = { segment: '', intendedUs: 0, sentUs: 0, doneUs: 0, status: 0, error: null, bytes: 0, recordedStatus: null };
  /** The earliest clone not started yet (null when the plan has no more). */
  private next: PlannedClone | null = null;
  /** Clones after {@link next}, in start order, already read from the plan (see {@link readAhead}). */
  private readonly ahead: PlannedClone[] = [];
  private planEnded = false;
  /** The longest recent read of a clone from the plan, µs, decaying (reads ahead fit in the gaps it leaves). */
  private readCostUs = READ_COST_US;
  private t0 = 0;
  private startedAtMs = 0;
  private startSkewUs: number | null = null;
  private stopped = false;
  private completed = false;
  private interrupted = false;
  private immediatePending = false;
  private timer: NodeJS.Timeout | null = null;
  private timerDueUs = Infinity;
  private sweeper: NodeJS.Timeout | null = null;
  private resolve: ((o: RunnerOutcome) => void) | null = null;
  private reject: ((e: unknown) => void) | null = null;
  /** Why the plan could not go on (its recording turned out damaged while being read). */
  private failure: { error: unknown } | null = null;
  private readonly onImmediate = (): void => {
    this.immediatePending = false;
    this.tick();
  };
  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerDueUs = Infinity;
    this.tick();
  };
  private readonly onSweep = (): void => this.sweep();

  constructor(private readonly options: RunnerOptions) {
    const mode = options.connections ?? 'per-clone';
    const main: SideTarget = { target: options.target, recorder: options.recorder, ...(options.httpClient === undefined ? {} : { httpClient: options.httpClient }) };
    this.sides = [new RunnerSide(0, main, mode, options.timeoutUs)];
    if (options.against !== undefined) this.sides.push(new RunnerSide(1, options.against, mode, options.timeoutUs));
  }

  /** Runs the plan to the end (or to the duration, or {@link stop}); resolves when the last response is in. */
  async run(): Promise<RunnerOutcome> {
    this.prestart();
    if (this.failure) throw this.failure.error;
    const waitMs = this.options.startAtMs === undefined ? 0 : this.options.startAtMs - Date.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    // A run that starts late (a shard or worker slower to boot than --start-at allowed) keeps
    // the common time zero: its first requests are late and the send lag says so.
    // One reading of the clock for the skew (negative: early, as a timer may wake) and the lateness it implies.
    const skewMs = this.options.startAtMs === undefined ? null : Date.now() - this.options.startAtMs;
    const lateMs = Math.max(0, skewMs ?? 0);
    this.t0 = performance.now() - lateMs;
    this.startedAtMs = Date.now() - lateMs;
    if (skewMs !== null) this.startSkewUs = Math.round(skewMs * 1000);
    const outcome = new Promise<RunnerOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    outcome.catch(() => undefined); // a failure before the first await is thrown below, not left unhandled
    try {
      this.sweeper = setInterval(this.onSweep, SWEEP_MS);
      this.tick();
      return await outcome;
    } finally {
      await Promise.all(this.sides.map((s) => s.pool.destroy()));
    }
  }

  /** Stops sending (SIGINT): due requests not yet sent count as unsent; in-flight ones finish. */
  stop(): void {
    if (this.stopped || this.completed) return;
    this.interrupted = true;
    this.stopSending(this.nowUs());
    this.requestTick();
  }

  /** A snapshot for progress lines: requests summed over both targets of a paired run, the higher p99. */
  progress(): RunnerProgress {
    const now = this.nowUs();
    const p: RunnerProgress = { elapsedUs: this.t0 === 0 ? 0 : now, done: 0, errors: 0, inFlight: 0, sessions: this.sides[0]!.sessions, recentP99Us: 0 };
    for (const s of this.sides) {
      p.done += s.done;
      p.errors += s.errors;
      p.inFlight += s.inflight.length;
      p.recentP99Us = Math.max(p.recentP99Us, s.recent.p99(now));
    }
    return p;
  }

  /** Requests in flight, all targets. */
  private inflightCount(): number {
    const sides = this.sides;
    return sides.length === 1 ? sides[0]!.inflight.length : sides[0]!.inflight.length + sides[1]!.inflight.length;
  }

  private nowUs(): number {
    return Math.round((performance.now() - this.t0) * 1000);
  }

  /** Moves to the next clone: the first one read ahead, or the plan's next. */
  private advance(): void {
    this.next = this.ahead.length > 0 ? this.ahead.shift()! : this.pull();
  }

  /** The plan's next clone (which reads its session from the recording), or null at its end. */
  private pull(): PlannedClone | null {
    if (this.planEnded) return null;
    let r: IteratorResult<PlannedClone> | null = null;
    try {
      r = this.stopped ? null : this.options.clones.next();
    } catch (e) {
      this.fail(e);
    }
    if (r && !r.done) return r.value;
    this.planEnded = true;
    return null;
  }

  /** Takes the first clone and reads clones ahead up to `options.prestartSteps` requests, before the clock starts. */
  private prestart(): void {
    this.advance();
    const budget = this.options.prestartSteps ?? 0;
    let steps = this.next === null ? 0 : this.next.plan.steps.length;
    while (!this.planEnded && this.next !== null && steps <= budget && this.ahead.length < PRESTART_CLONES) {
      const c = this.pull();
      if (c === null) break;
      this.ahead.push(c);
      steps += c.plan.steps.length;
    }
  }

  /**
   * Reads clones ahead while nothing is due before `dueUs`: a clone's
   * session is read from the recording when the plan hands it over, and
   * reading it in idle time keeps that read off the moment it is due (and off
   * every request due then). Up to {@link READ_AHEAD_US} ahead, and only
   * while a read (as long as the longest recent one) fits before `dueUs`.
   */
  private readAhead(dueUs: number): void {
    const ahead = this.ahead;
    while (!this.planEnded && this.next !== null && ahead.length < READ_AHEAD_MAX) {
      const last = ahead.length > 0 ? ahead[ahead.length - 1]!.startUs : this.next.startUs;
      const now = this.nowUs();
      if (last > now + READ_AHEAD_US || now + this.readCostUs + SLACK_US > dueUs) return;
      const c = this.pull();
      const took = this.nowUs() - now;
      // a decaying maximum: one slow read (a long session) holds the estimate up for a while
      this.readCostUs = took > this.readCostUs ? took : this.readCostUs - (this.readCostUs >> 5);
      if (c !== null) ahead.push(c);
    }
  }

  /**
   * The plan threw (the recording is read as the run goes, and it can turn
   * out damaged half-way): stop at once and end the run with that error;
   * what is in flight is abandoned (the pool is destroyed).
   */
  private fail(error: unknown): void {
    if (this.completed) return;
    this.failure = { error };
    this.stopped = true;
    this.completed = true;
    this.next = null;
    this.ahead.length = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.reject?.(error);
  }

  private stopSending(nowUs: number): void {
    this.stopped = true;
    const cut = this.options.durationUs === null ? nowUs : Math.min(nowUs, this.options.durationUs);
    for (const s of this.sides) s.unsent += s.ready.clear(cut);
    this.next = null;
    this.ahead.length = 0;
    this.planEnded = true;
    // end the plan's pass over the recording now, so its read cursor is released
    this.options.clones.return?.(undefined);
  }

  /**
   * Sends what is due, starts the clones that are due, and sleeps until the
   * next thing is. What is already due goes out before anything that may take
   * time: starting a clone asks the plan for the next one, which reads that
   * session from the recording (a query), so a clone's first request is sent
   * before the next session is read, and with time to spare before the next
   * due thing, the sessions of the next clones are read ahead (see
   * {@link readAhead}). Gaps shorter than a timer can measure are
   * waited out here, in blocking slices of at most {@link WAIT_SLICE_US}, for
   * at most {@link TICK_BUDGET_US} before I/O gets its turn.
   */
  private tick(): void {
    const entered = this.nowUs();
    for (;;) {
      if (this.completed) return;
      const now = this.nowUs();
      const due = this.step(now);
      if (due === Infinity) return;
      this.readAhead(due);
      if (this.completed) return;
      const t = this.nowUs();
      const delayUs = due - t;
      if (delayUs > TIMER_MIN_US) {
        this.arm(due, delayUs);
        return;
      }
      if (this.inflightCount() === 0) {
        // Nothing in flight, so no response can be held up: the whole gap (under TIMER_MIN_US)
        // is one wait. A tick that has run past its budget lets I/O and timers in first (a run
        // whose requests all fail at once would otherwise never leave this loop).
        if (t - entered > TICK_BUDGET_US) {
          this.requestTick();
          return;
        }
        this.wait(delayUs, true);
        continue;
      }
      // Wait here only for what is due within one slice and within this tick's budget;
      // anything longer waits one slice and then lets I/O (responses) in first.
      if (delayUs > WAIT_SLICE_US || due - entered > TICK_BUDGET_US || t - entered > TICK_BUDGET_US) {
        this.wait(delayUs);
        this.requestTick();
        return;
      }
      this.wait(delayUs);
    }
  }

  /**
   * One pass: sends due requests, starts due clones (sending their due
   * requests at once), ends the run when all is done; returns when the next
   * thing is due (µs; Infinity when nothing is, or the run completed).
   */
  private step(now: number): number {
    const horizon = now + SLACK_US;
    const durationUs = this.options.durationUs;
    // At the end of --duration, what is due before it is sent first (late if the loop was late,
    // which send lag shows); only what the concurrency cap still holds back counts as unsent.
    const ending = durationUs !== null && now >= durationUs && !this.stopped;
    this.sendDue(horizon);
    while (this.next !== null && this.next.startUs <= horizon) {
      if (ending && this.next.startUs >= durationUs) break;
      // Behind schedule, a pass could start thousands of overdue clones (each a session read)
      // while no response is taken in: past the tick's budget, the rest waits for the next tick.
      // Not at the end of --duration, where the rest would count as unsent.
      if (!ending && this.nowUs() - now > TICK_BUDGET_US) break;
      // A generator that has fallen this far behind is not measuring anything any more: shed
      // new sessions (their requests count as unsent) rather than grow without bound.
      if (this.behind(now)) {
        for (const s of this.sides) s.unsent += this.next.plan.steps.length;
      } else {
        this.startClone(this.next);
        this.sendDue(horizon);
      }
      this.advance();
    }
    if (this.failure) return Infinity;
    if (ending) this.stopSending(now);
    let due = this.next === null ? Infinity : this.next.startUs;
    let idle = this.next === null;
    for (const s of this.sides) {
      if (s.ready.size > 0 || s.inflight.length > 0) idle = false;
      if (s.inflight.length < this.options.concurrency && s.ready.peekKey() < due) due = s.ready.peekKey();
    }
    if (idle) {
      this.complete();
      return Infinity;
    }
    if (durationUs !== null && !this.stopped && durationUs < due) due = durationUs;
    return due;
  }

  /**
   * A generator this far behind is not measuring anything any more (see
   * {@link MAX_QUEUED}): on either target, too many requests queued and the
   * earliest a second late.
   */
  private behind(now: number): boolean {
    for (const s of this.sides) if (s.ready.size >= MAX_QUEUED && s.ready.peekKey() < now - BEHIND_US) return true;
    return false;
  }

  /**
   * Sends queued requests due by `horizonUs`, earliest first, each target
   * within its own concurrency cap. With two targets, their queues are
   * merged by intended time; on a tie the side whose clone `leads` goes
   * first (see {@link startClone}), so neither target always gets the later
   * send.
   */
  private sendDue(horizonUs: number): void {
    const cap = this.options.concurrency;
    const sides = this.sides;
    if (sides.length === 1) {
      const ready = sides[0]!.ready;
      const inflight = sides[0]!.inflight;
      while (ready.size > 0 && ready.peekKey() <= horizonUs && inflight.length < cap) {
        const intendedUs = ready.pop();
        this.dispatch(ready.owner!, ready.step, intendedUs);
      }
      return;
    }
    const a = sides[0]!;
    const b = sides[1]!;
    for (;;) {
      const ka = a.inflight.length < cap ? a.ready.peekKey() : Infinity;
      const kb = b.inflight.length < cap ? b.ready.peekKey() : Infinity;
      if (ka > horizonUs && kb > horizonUs) return;
      const s = ka < kb ? a : kb < ka ? b : b.ready.peekOwner()!.leads ? b : a;
      const intendedUs = s.ready.pop();
      this.dispatch(s.ready.owner!, s.ready.step, intendedUs);
    }
  }

  /** Arms the timer to wake the loop about 1 ms before `dueUs` (it fires up to ~1 ms late). */
  private arm(dueUs: number, delayUs: number): void {
    if (this.timer !== null && this.timerDueUs <= dueUs) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDueUs = dueUs;
    this.timer = setTimeout(this.onTimer, Math.floor(delayUs / 1000) - 1);
  }

  /**
   * Blocks the thread for `delayUs` (at most {@link WAIT_SLICE_US} unless
   * `whole`, which the loop asks for only with nothing in flight):
   * Atomics.wait sleeps with microsecond precision and without spinning a
   * core, where a timer counts whole milliseconds and polling with
   * setImmediate keeps the core busy (0.3-0.9 ms of CPU per request at
   * moderate rates, measured). Nothing is taken in meanwhile, so a response
   * arriving during the wait is timed up to one slice late (counted against
   * the target, never in its favour).
   */
  private wait(delayUs: number, whole = false): void {
    const us = whole || delayUs < WAIT_SLICE_US ? delayUs : WAIT_SLICE_US;
    if (us > 0) Atomics.wait(WAIT_CELL, 0, 0, us / 1000);
  }

  private requestTick(): void {
    if (this.immediatePending) return;
    this.immediatePending = true;
    setImmediate(this.onImmediate);
  }

  /**
   * Starts a clone: one copy per target, each with its own cookie jar and
   * live values, their first requests queued at the same intended times.
   * In a paired run the low bit of the clone's seeded `id` picks which copy
   * leads on ties (half the clones each way).
   */
  private startClone(planned: PlannedClone): void {
    const lead = this.sides.length === 1 ? 0 : planned.id & 1;
    for (const side of this.sides) {
      const clone = new ActiveClone(planned.plan, planned.startUs, `${side.runTag}${planned.loop}.${planned.clone}`, side.index, side.index === lead);
      side.sessions++;
      const steps = planned.plan.steps;
      const durationUs = this.options.durationUs;
      for (let j = 0; j < steps.length; j++) {
        const step = steps[j]!;
        if (step.dep >= 0) continue;
        const due = planned.startUs + step.offsetUs;
        if (durationUs === null || due < durationUs) {
          side.ready.push(due, clone, j);
          clone.pending++;
        }
      }
    }
  }

  private dispatch(clone: ActiveClone, stepIndex: number, intendedUs: number): void {
    const side = this.sides[clone.side]!;
    const plan = clone.plan;
    const step = plan.steps[stepIndex]!;
    let opts;
    if (step.fixed !== null && clone.jar === null) {
      opts = step.fixed;
      side.dropped.count += step.droppedRedacted;
    } else {
      opts = buildRequest(plan, step, clone, side.dropped);
    }
    const slot = this.free.pop() ?? new RequestSlot(this);
    slot.reset(clone, stepIndex, intendedUs, step.sources.length > 0, step.keepBody);
    const now = this.nowUs();
    slot.sentUs = now < intendedUs ? intendedUs : now;
    slot.deadlineUs = now + this.options.timeoutUs;
    slot.inflightIndex = side.inflight.length;
    side.inflight.push(slot);
    const client = side.pool.acquire(clone);
    slot.client = client;
    client.dispatch(opts, slot);
  }

  /** Records a finished request and schedules what waited for it (called by the slot). */
  finish(slot: RequestSlot): void {
    slot.finished = true;
    const now = this.nowUs();
    const clone = slot.clone!;
    const side = this.sides[clone.side]!;
    const inflight = side.inflight;
    const last = inflight.pop()!;
    if (last !== slot) {
      inflight[slot.inflightIndex] = last;
      last.inflightIndex = slot.inflightIndex;
    }
    const steps = clone.plan.steps;
    const step = steps[slot.step]!;
    const s = this.sample;
    s.segment = step.segment;
    s.intendedUs = slot.intendedUs;
    s.sentUs = slot.sentUs;
    s.doneUs = now;
    s.status = slot.status;
    s.error = slot.status === 0 ? (slot.error ?? 'other') : null;
    s.bytes = slot.bytes;
    s.recordedStatus = step.recordedStatus;
    side.recorder.add(s);
    side.recent.add(now, now - slot.intendedUs);
    side.done++;
    if (slot.status === 0) side.errors++;
    if (slot.setCookies !== null || step.sources.length > 0) applyResponse(clone, slot, Date.now());
    const deps = step.dependents;
    const durationUs = this.options.durationUs;
    clone.pending--;
    if (!this.stopped) {
      for (let k = 0; k < deps.length; k++) {
        const d = deps[k]!;
        const due = now + steps[d]!.gapUs;
        if (durationUs === null || due < durationUs) {
          side.ready.push(due, clone, d);
          clone.pending++;
        }
      }
    }
    if (clone.pending === 0) side.pool.cloneDone(clone);
    this.requestTick();
  }

  /** Returns a slot to the pool once undici is done with it (called by the slot). */
  release(slot: RequestSlot): void {
    const side = this.sides[slot.clone?.side ?? 0]!;
    if (slot.client !== null) side.pool.release(slot.clone!, slot.client);
    slot.client = null;
    slot.clone = null;
    slot.headers = null;
    slot.chunks = null;
    slot.abortFn = null;
    this.free.push(slot);
    // Responses arrive in bursts (one poll of the loop can hand over hundreds): what fell due
    // meanwhile goes out now, between two of them, rather than after the whole burst. Not after
    // an error: the connection may be the failed one, still being torn down (the tick sends).
    if (slot.status !== 0 && !this.completed && side.ready.size > 0 && side.ready.peekKey() <= this.nowUs() + SLACK_US) this.sendDue(this.nowUs() + SLACK_US);
  }

  private sweep(): void {
    const now = this.nowUs();
    for (const side of this.sides) {
      const inflight = side.inflight;
      for (let i = inflight.length - 1; i >= 0; i--) {
        const slot = inflight[i];
        if (slot === undefined || slot.finished || slot.deadlineUs > now) continue;
        slot.error = 'timeout';
        slot.status = 0;
        if (slot.abortFn !== null) slot.abortFn(new RequestTimeoutError());
        if (!slot.finished) this.finish(slot);
      }
    }
  }

  private complete(): void {
    this.completed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.sweeper !== null) clearInterval(this.sweeper);
    const durationUs = this.nowUs();
    const outcomes = this.sides.map((s): RunnerOutcome => ({
      startedAt: new Date(this.startedAtMs).toISOString(),
      durationUs,
      sessions: s.sessions,
      unsent: s.unsent,
      droppedRedactedHeaders: s.dropped.count,
      interrupted: this.interrupted,
      ...(this.startSkewUs === null ? {} : { startSkewUs: this.startSkewUs }),
    }));
    const [main, against] = outcomes;
    this.resolve?.(against === undefined ? main! : { ...main!, against });
  }
}
