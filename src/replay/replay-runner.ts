import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { RunRecorder } from '../measure/run-recorder.js';
import type { RunPlan } from '../model/run-result.js';
import type { Sample } from '../model/sample.js';
import { ActiveClone } from './active-clone.js';
import { createConnections, type Connections } from './connections.js';
import type { PlannedClone } from './clone-planner.js';
import { RequestTimeoutError } from './error-kind.js';
import { ReadyQueue } from './ready-queue.js';
import { RecentLatency } from './recent-latency.js';
import { applyResponse } from './response-effects.js';
import { buildRequest } from './request-builder.js';
import { connectWithTimeout } from './undici-client.js';
import { RequestSlot, type SlotOwner } from './request-slot.js';

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
  /** Wall-clock ms (Date.now()) to start at, for shards that begin together; now when absent. */
  startAtMs?: number;
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
/** Below this delay the loop spins instead of arming a timer. */
const SPIN_US = 300;
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
  private readonly pool: Connections;
  private readonly ready = new ReadyQueue<ActiveClone>();
  private readonly free: RequestSlot[] = [];
  private readonly inflight: RequestSlot[] = [];
  private readonly sample: Sample = { segment: '', intendedUs: 0, sentUs: 0, doneUs: 0, status: 0, error: null, bytes: 0, recordedStatus: null };
  private readonly recent = new RecentLatency();
  private readonly dropped = { count: 0 };
  /** Random per run (and per worker): per-copy header values differ between runs against one target. */
  private readonly runTag = randomBytes(3).toString('hex');
  private next: PlannedClone | null = null;
  private t0 = 0;
  private startedAtMs = 0;
  private stopped = false;
  private completed = false;
  private interrupted = false;
  private sessions = 0;
  private unsent = 0;
  private done = 0;
  private errors = 0;
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
    this.pool = createConnections(options.connections ?? 'per-clone', options.target, {
      pipelining: 1,
      keepAliveTimeout: 30_000,
      // undici's own connect timer kept every connection alive across scavenges (see connectWithTimeout)
      connect: connectWithTimeout(Math.max(1, Math.round(options.timeoutUs / 1000))),
      // the sweep enforces --timeout; undici's own per-request timers would cost a timer each
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** Runs the plan to the end (or to the duration, or {@link stop}); resolves when the last response is in. */
  async run(): Promise<RunnerOutcome> {
    const waitMs = this.options.startAtMs === undefined ? 0 : this.options.startAtMs - Date.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    // A run that starts late (a shard or worker slower to boot than --start-at allowed) keeps
    // the common time zero: its first requests are late and the send lag says so.
    const lateMs = this.options.startAtMs === undefined ? 0 : Math.max(0, Date.now() - this.options.startAtMs);
    this.t0 = performance.now() - lateMs;
    this.startedAtMs = Date.now() - lateMs;
    const outcome = new Promise<RunnerOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    outcome.catch(() => undefined); // a failure before the first await is thrown below, not left unhandled
    try {
      this.advance();
      if (this.failure) throw this.failure.error;
      this.sweeper = setInterval(this.onSweep, SWEEP_MS);
      this.tick();
      return await outcome;
    } finally {
      await this.pool.destroy();
    }
  }

  /** Stops sending (SIGINT): due requests not yet sent count as unsent; in-flight ones finish. */
  stop(): void {
    if (this.stopped || this.completed) return;
    this.interrupted = true;
    this.stopSending(this.nowUs());
    this.requestTick();
  }

  /** A snapshot for progress lines. */
  progress(): RunnerProgress {
    return {
      elapsedUs: this.t0 === 0 ? 0 : this.nowUs(),
      done: this.done,
      errors: this.errors,
      inFlight: this.inflight.length,
      sessions: this.sessions,
      recentP99Us: this.recent.p99(this.nowUs()),
    };
  }

  private nowUs(): number {
    return Math.round((performance.now() - this.t0) * 1000);
  }

  private advance(): void {
    let r: IteratorResult<PlannedClone> | null = null;
    try {
      r = this.stopped ? null : this.options.clones.next();
    } catch (e) {
      this.fail(e);
    }
    this.next = r && !r.done ? r.value : null;
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
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.reject?.(error);
  }

  private stopSending(nowUs: number): void {
    this.stopped = true;
    const cut = this.options.durationUs === null ? nowUs : Math.min(nowUs, this.options.durationUs);
    this.unsent += this.ready.clear(cut);
    this.next = null;
    // end the plan's pass over the recording now, so its read cursor is released
    this.options.clones.return?.(undefined);
  }

  private tick(): void {
    if (this.completed) return;
    const now = this.nowUs();
    const horizon = now + SLACK_US;
    const durationUs = this.options.durationUs;
    // At the end of --duration, what is due before it is sent first (late if the loop was late,
    // which send lag shows); only what the concurrency cap still holds back counts as unsent.
    const ending = durationUs !== null && now >= durationUs && !this.stopped;
    while (this.next !== null && this.next.startUs <= horizon) {
      if (ending && this.next.startUs >= durationUs) break;
      // A generator that has fallen this far behind is not measuring anything any more: shed
      // new sessions (their requests count as unsent) rather than grow without bound.
      if (this.ready.size >= MAX_QUEUED && this.ready.peekKey() < now - BEHIND_US) this.unsent += this.next.plan.steps.length;
      else this.startClone(this.next);
      this.advance();
    }
    if (this.failure) return;
    const cap = this.options.concurrency;
    while (this.ready.size > 0 && this.ready.peekKey() <= horizon && this.inflight.length < cap) {
      const intendedUs = this.ready.pop();
      this.dispatch(this.ready.owner!, this.ready.step, intendedUs);
    }
    if (ending) this.stopSending(now);
    if (this.next === null && this.ready.size === 0 && this.inflight.length === 0) {
      this.complete();
      return;
    }
    let due = this.next === null ? Infinity : this.next.startUs;
    if (this.inflight.length < cap && this.ready.peekKey() < due) due = this.ready.peekKey();
    if (durationUs !== null && !this.stopped && durationUs < due) due = durationUs;
    this.arm(due);
  }

  private arm(dueUs: number): void {
    if (dueUs === Infinity) return;
    const delayUs = dueUs - this.nowUs();
    // Spin (setImmediate, which still lets I/O in) only for the last few hundred µs: spinning
    // for the whole last timer tick kept a core busy at moderate rates (0.3-0.9 ms of CPU per
    // request), which on a small machine starves the very target being measured. A timer
    // fires up to ~1 ms late; that lateness is counted (send lag, response time).
    if (delayUs <= SPIN_US) {
      this.requestTick();
      return;
    }
    if (this.timer !== null && this.timerDueUs <= dueUs) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDueUs = dueUs;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.floor((delayUs - SPIN_US) / 1000) - 1));
  }

  private requestTick(): void {
    if (this.immediatePending) return;
    this.immediatePending = true;
    setImmediate(this.onImmediate);
  }

  private startClone(planned: PlannedClone): void {
    const clone = new ActiveClone(planned.plan, planned.startUs, `${this.runTag}${planned.loop}.${planned.clone}`);
    this.sessions++;
    const steps = planned.plan.steps;
    const durationUs = this.options.durationUs;
    for (let j = 0; j < steps.length; j++) {
      const step = steps[j]!;
      if (step.dep >= 0) continue;
      const due = planned.startUs + step.offsetUs;
      if (durationUs === null || due < durationUs) {
        this.ready.push(due, clone, j);
        clone.pending++;
      }
    }
  }

  private dispatch(clone: ActiveClone, stepIndex: number, intendedUs: number): void {
    const plan = clone.plan;
    const step = plan.steps[stepIndex]!;
    let opts;
    if (step.fixed !== null && clone.jar === null) {
      opts = step.fixed;
      this.dropped.count += step.droppedRedacted;
    } else {
      opts = buildRequest(plan, step, clone, this.dropped);
    }
    const slot = this.free.pop() ?? new RequestSlot(this);
    slot.reset(clone, stepIndex, intendedUs, step.sources.length > 0, step.keepBody);
    const now = this.nowUs();
    slot.sentUs = now < intendedUs ? intendedUs : now;
    slot.deadlineUs = now + this.options.timeoutUs;
    slot.inflightIndex = this.inflight.length;
    this.inflight.push(slot);
    const client = this.pool.acquire(clone);
    slot.client = client;
    client.dispatch(opts as unknown as Dispatcher.DispatchOptions, slot as unknown as Dispatcher.DispatchHandler);
  }

  /** Records a finished request and schedules what waited for it (called by the slot). */
  finish(slot: RequestSlot): void {
    slot.finished = true;
    const now = this.nowUs();
    const last = this.inflight.pop()!;
    if (last !== slot) {
      this.inflight[slot.inflightIndex] = last;
      last.inflightIndex = slot.inflightIndex;
    }
    const clone = slot.clone!;
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
    this.options.recorder.add(s);
    this.recent.add(now, now - slot.intendedUs);
    this.done++;
    if (slot.status === 0) this.errors++;
    if (slot.setCookies !== null || step.sources.length > 0) applyResponse(clone, slot, Date.now());
    const deps = step.dependents;
    const durationUs = this.options.durationUs;
    clone.pending--;
    if (!this.stopped) {
      for (let k = 0; k < deps.length; k++) {
        const d = deps[k]!;
        const due = now + steps[d]!.gapUs;
        if (durationUs === null || due < durationUs) {
          this.ready.push(due, clone, d);
          clone.pending++;
        }
      }
    }
    if (clone.pending === 0) this.pool.cloneDone(clone);
    this.requestTick();
  }

  /** Returns a slot to the pool once undici is done with it (called by the slot). */
  release(slot: RequestSlot): void {
    if (slot.client !== null) this.pool.release(slot.clone!, slot.client);
    slot.client = null;
    slot.clone = null;
    slot.headers = null;
    slot.chunks = null;
    slot.abortFn = null;
    this.free.push(slot);
  }

  private sweep(): void {
    const now = this.nowUs();
    for (let i = this.inflight.length - 1; i >= 0; i--) {
      const slot = this.inflight[i];
      if (slot === undefined || slot.finished || slot.deadlineUs > now) continue;
      slot.error = 'timeout';
      slot.status = 0;
      if (slot.abortFn !== null) slot.abortFn(new RequestTimeoutError());
      if (!slot.finished) this.finish(slot);
    }
  }

  private complete(): void {
    this.completed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.resolve?.({
      startedAt: new Date(this.startedAtMs).toISOString(),
      durationUs: this.nowUs(),
      sessions: this.sessions,
      unsent: this.unsent,
      droppedRedactedHeaders: this.dropped.count,
      interrupted: this.interrupted,
    });
  }
}
