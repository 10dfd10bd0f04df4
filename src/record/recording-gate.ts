import { RunError } from '../model/errors.js';
import type { Exchange } from '../model/exchange.js';
import type { Cohort } from '../model/session.js';
import { hashString, unitOf } from '../model/seeded-hash.js';
import { BoundedMap } from '../model/bounded-map.js';
import type { ExchangeSink } from './types.js';
import { formatBytes, formatMs, formatShare, parseFraction } from '../model/units.js';

/**
 * What the gate hands exchanges to: the recording writer (with redaction in
 * front of it, in a recorder). Only counts are read; the gate never waits on it.
 */
export interface GatedWriter {
  add(exchange: Exchange, cohort: Cohort, keyedBy?: string | null): void;
  /** Exchanges added but not yet committed. */
  readonly queued: number;
  /** About how many bytes those hold in memory. */
  readonly queuedBytes: number;
  /** Exchanges committed to the file. */
  readonly written: number;
  /** Why the writer failed, or null. */
  readonly failed: RunError | null;
}

/** Limits and sampling of a recording (`record --max-*`, `--sample`). */
export interface GateOptions {
  /** Stop recording after this many exchanges were recorded. */
  maxExchanges?: number | null;
  /** Stop recording once the recorded exchanges add up to this many bytes (see {@link storedBytes}). */
  maxBytes?: number | null;
  /** Stop recording this long after it started, ms. */
  maxDurationMs?: number | null;
  /** Share of sessions kept, in (0, 1]; 1 keeps every session. */
  sample?: number;
  /** Seed of the sampling hash. */
  sampleSeed?: number;
  /**
   * Above this many exchanges waiting for the writer, sessions not seen
   * before are not recorded (sessions already recorded go on): the disk is
   * slower than the traffic. Default {@link DEFAULT_MAX_QUEUE}.
   */
  maxQueue?: number;
  /**
   * Above this many exchanges waiting, recording stops altogether: the writer
   * has stalled, and this bounds the memory held for it. Default
   * {@link DEFAULT_STALL_QUEUE}; never below `maxQueue`.
   */
  stallQueue?: number;
  /**
   * The same two bounds in bytes held for the writer (`--max-queue-memory`
   * is the stall bound; new sessions wait outside above a quarter of it).
   * Large bodies reach these long before the counts. Defaults
   * {@link DEFAULT_STALL_QUEUE_BYTES} and a quarter of it.
   */
  stallQueueBytes?: number;
  maxQueueBytes?: number;
}

export const DEFAULT_MAX_QUEUE = 10_000;
export const DEFAULT_STALL_QUEUE = 50_000;
export const DEFAULT_STALL_QUEUE_BYTES = 512 * 1024 * 1024;

/** Why recording stopped while the proxy went on. */
export type StopKind = 'max-exchanges' | 'max-size' | 'max-duration' | 'writer-stalled' | 'writer-failed';

/** Counts of what the gate did, for the live line, the summary and the recording's meta. */
export interface GateCounts {
  /** Exchanges handed to the writer. */
  recorded: number;
  /** Exchanges of sessions `--sample` left out, and those sessions. */
  sampledOutExchanges: number;
  sampledOutSessions: number;
  /**
   * Exchanges not recorded for any other reason (writer behind, recording
   * stopped, writer failed: with a failed writer, those it had been handed
   * but had not committed count here too), and sessions none of whose
   * exchanges were recorded for those reasons.
   */
  notRecordedExchanges: number;
  notRecordedSessions: number;
  /** Sessions recorded up to the stop that had more traffic after it (their end is missing). */
  cutSessions: number;
  /** Why recording stopped, or null while it goes on. */
  stopped: { kind: StopKind; reason: string } | null;
}

/** Session decisions remembered at least: the last this many sessions' (see BoundedMap), as the session keyer's own state. */
const SESSION_LIMIT = 100_000;

/** A session being recorded is the number of its exchanges handed to the writer. */
type SessionState = number | 'sampled-out' | 'out' | 'cut';

/**
 * Between the proxy and the writer: decides which exchanges are recorded,
 * and never hurts the traffic (it only counts, it never waits or throws).
 *
 * The rule is whole sessions: a session is let in or left out at its first
 * exchange, and that holds for the rest of it. Sampling hashes the session
 * key (the key an exchange is stored under, so a sampled session is all in
 * or all out); a writer behind by more than `maxQueue` leaves out new
 * sessions only. When recording stops (a limit, a stalled or failed
 * writer), nothing more is recorded: every session ends there, as at Ctrl-C,
 * and those that had more traffic after it are counted as cut.
 */
export class RecordingGate implements ExchangeSink {
  private readonly writer: GatedWriter;
  private readonly options: GateOptions;
  private readonly onStop: (kind: StopKind, reason: string) => void;
  private readonly sessions = new BoundedMap<string, SessionState>(SESSION_LIMIT);
  private readonly maxQueue: number;
  private readonly stallQueue: number;
  private readonly maxQueueBytes: number;
  private readonly stallQueueBytes: number;
  private readonly startMs = Date.now();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private bytes = 0;
  /**
   * Session keys of the exchanges handed to the writer and perhaps not yet
   * committed (from `pendingHead` on; at most its queue, so bounded as it is):
   * when the writer fails, the last `recorded - written` of them were lost.
   */
  private pending: string[] = [];
  private pendingHead = 0;
  private failedOnce = false;
  private readonly c: GateCounts = {
    recorded: 0,
    sampledOutExchanges: 0,
    sampledOutSessions: 0,
    notRecordedExchanges: 0,
    notRecordedSessions: 0,
    cutSessions: 0,
    stopped: null,
  };

  /** `onStop` is called once, when recording stops while the proxy goes on (never for a clean Ctrl-C). */
  constructor(writer: GatedWriter, options: GateOptions, onStop: (kind: StopKind, reason: string) => void) {
    this.writer = writer;
    this.options = options;
    this.onStop = onStop;
    this.maxQueue = Math.max(1, options.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.stallQueue = Math.max(this.maxQueue, options.stallQueue ?? DEFAULT_STALL_QUEUE);
    this.stallQueueBytes = Math.max(1, options.stallQueueBytes ?? DEFAULT_STALL_QUEUE_BYTES);
    this.maxQueueBytes = Math.min(this.stallQueueBytes, Math.max(1, options.maxQueueBytes ?? Math.floor(this.stallQueueBytes / 4)));
    if (options.maxDurationMs) {
      this.timer = setTimeout(() => this.stop('max-duration', `--max-duration ${formatMs(options.maxDurationMs!)} reached`), options.maxDurationMs);
      this.timer.unref();
    }
  }

  /** A snapshot of the counts. */
  counts(): GateCounts {
    return { ...this.c };
  }

  /** True while exchanges are still recorded. */
  get recording(): boolean {
    return this.c.stopped === null;
  }

  /** The writer failed: stop recording (called by the writer's failure listener). */
  writerFailed(e: RunError): void {
    if (!this.failedOnce) {
      this.failedOnce = true;
      this.countLost(this.c.recorded - this.writer.written);
    }
    this.stop('writer-failed', `the writer failed (${e.message})`);
  }

  /** Stops the duration timer (the recorder is stopping). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** {@link ExchangeSink}: records the exchange or counts it as not recorded. Never throws. */
  add(exchange: Exchange, cohort: Cohort, keyedBy?: string | null): void {
    const key = exchange.sessionKey;
    const state = this.sessions.get(key);
    // Sampling first, stopped or not: what --sample leaves out is counted as sampled out, always.
    if (state === 'sampled-out') {
      this.c.sampledOutExchanges++;
      return;
    }
    if (state === undefined && !this.sampledIn(key)) {
      this.sessions.set(key, 'sampled-out');
      this.c.sampledOutSessions++;
      this.c.sampledOutExchanges++;
      return;
    }
    if (this.c.stopped) return this.leaveOut(key, state);
    if (state === undefined) {
      // The writer is behind: new sessions wait outside until it catches up, and stay out.
      if (this.writer.queued >= this.maxQueue || this.writer.queuedBytes >= this.maxQueueBytes) return this.leaveOut(key, undefined);
    } else if (state === 'out') {
      this.c.notRecordedExchanges++;
      return;
    }
    // (A session whose first exchange meets the stop is not recorded at all: `state` is undefined, not cut.)
    if (this.writer.queued >= this.stallQueue || this.writer.queuedBytes >= this.stallQueueBytes) {
      const behind = `${this.writer.queued} exchanges (${formatBytes(this.writer.queuedBytes)})`;
      this.stop('writer-stalled', `the writer fell ${behind} behind (the disk is slower than the traffic)`);
      return this.leaveOut(key, state);
    }
    try {
      this.writer.add(exchange, cohort, keyedBy);
    } catch {
      // A failed writer throws here, maybe before its failure listener has run: stop now.
      if (this.writer.failed) {
        this.writerFailed(this.writer.failed);
        // Counting the lost exchanges may have changed this session's state: read it again.
        return this.leaveOut(key, this.sessions.get(key));
      }
      // An exchange the file cannot hold (InputError): only this one is lost.
      this.c.notRecordedExchanges++;
      return;
    }
    this.c.recorded++;
    this.sessions.set(key, (typeof state === 'number' ? state : 0) + 1);
    this.notePending(key);
    const { maxExchanges, maxBytes } = this.options;
    // Walks every header: only worth it on the proxy's path when --max-size asks.
    if (maxBytes) this.bytes += storedBytes(exchange);
    if (maxExchanges && this.c.recorded >= maxExchanges) this.stop('max-exchanges', `--max-exchanges ${maxExchanges} reached`);
    else if (maxBytes && this.bytes >= maxBytes) this.stop('max-size', `--max-size reached (${this.bytes} bytes recorded)`);
  }

  /** The notes the recording's meta keeps (what `inspect` shows). */
  notes(): Record<string, string> {
    const c = this.counts();
    const notes: Record<string, string> = {};
    const sample = this.options.sample ?? 1;
    if (sample < 1) {
      notes['record.sample'] = `${formatShare(sample)} of sessions (seed ${this.options.sampleSeed ?? 0})`;
      notes['record.sampled-out'] = `${c.sampledOutExchanges} exchanges in ${c.sampledOutSessions} sessions`;
    }
    if (c.notRecordedExchanges > 0 || c.stopped) {
      notes['record.not-recorded'] = `${c.notRecordedExchanges} exchanges, ${c.notRecordedSessions} sessions wholly, ${c.cutSessions} sessions cut`;
    }
    if (c.stopped) notes['record.stopped'] = c.stopped.reason;
    return notes;
  }

  private sampledIn(key: string): boolean {
    const share = this.options.sample ?? 1;
    return share >= 1 || unitOf(hashString(this.options.sampleSeed ?? 0, key)) < share;
  }

  private leaveOut(key: string, state: SessionState | undefined): void {
    this.c.notRecordedExchanges++;
    if (state === undefined) {
      this.sessions.set(key, 'out');
      this.c.notRecordedSessions++;
    } else if (typeof state === 'number') {
      this.sessions.set(key, 'cut');
      this.c.cutSessions++;
    }
  }

  private notePending(key: string): void {
    this.pending.push(key);
    // Keys the writer has committed are no longer needed.
    const drop = this.pending.length - this.pendingHead - this.writer.queued;
    if (drop > 0) this.pendingHead += drop;
    if (this.pendingHead > 4096 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /**
   * The writer failed with the last `lost` exchanges it was handed: they
   * count as not recorded, and their sessions as cut (some of it committed)
   * or not recorded at all (none of it).
   */
  private countLost(lost: number): void {
    if (lost <= 0) return;
    const keys = this.pending.slice(Math.max(this.pendingHead, this.pending.length - lost));
    this.c.recorded -= keys.length;
    this.c.notRecordedExchanges += keys.length;
    const perKey = new Map<string, number>();
    for (const k of keys) perKey.set(k, (perKey.get(k) ?? 0) + 1);
    for (const [key, n] of perKey) {
      const handed = this.sessions.get(key);
      if (typeof handed !== 'number') continue;
      if (handed <= n) {
        this.sessions.set(key, 'out');
        this.c.notRecordedSessions++;
      } else {
        this.sessions.set(key, 'cut');
        this.c.cutSessions++;
      }
    }
  }

  private stop(kind: StopKind, reason: string): void {
    if (this.c.stopped) return;
    this.c.stopped = { kind, reason: `${reason} after ${formatMs(Date.now() - this.startMs)}` };
    this.dispose();
    this.onStop(kind, this.c.stopped.reason);
  }
}

/**
 * What `--max-size` counts of an exchange: the bodies as kept, the headers
 * and the target, plus a fixed allowance for the row's other columns. Counted
 * as handed to the writer, not read from the disk, so the stop is exact and
 * the same on every run; the file ends up near it (indexes add a few percent).
 */
export function storedBytes(ex: Exchange): number {
  let n = 96 + ex.target.length + ex.sessionKey.length + ex.route.length;
  for (const [k, v] of ex.requestHeaders) n += k.length + v.length + 4;
  for (const [k, v] of ex.responseHeaders) n += k.length + v.length + 4;
  n += ex.requestBody?.byteLength ?? 0;
  n += ex.responseBody?.byteLength ?? 0;
  return n;
}

/** Parses `--sample`: `10%`, `0.1%`, or a fraction `0.1`; in (0, 100%], else NaN (the CLI makes it a usage error). */
export function parseShare(text: string): number {
  const n = parseFraction(text);
  return n > 0 && n <= 1 ? n : NaN;
}
