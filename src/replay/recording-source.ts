import type { Session } from '../model/session.js';
import type { LazySessions } from './clone-planner.js';
import { peakOverlap } from './plan-concurrency.js';

/** Where a replay's sessions come from: a recording file, or memory in tests. */
export interface RecordingSource {
  path: string;
  /** sha256 hex of the recording file (run.json's recording digest). */
  digest: string;
  exchanges: number;
  sessions: number;
  /** Start of the last exchange, µs since the recording start. */
  lastOffsetUs: number;
  /** Origin the traffic was recorded from, when known. */
  upstream: string | null;
  /**
   * Replay defaults the recording carries for redacted body fields, by
   * lower-case field name (`record --replay-secret`); `--secret` wins.
   */
  replaySecrets?: Record<string, string>;
  /** Most recorded sessions open (first start to last end) at the same time; computed when asked. */
  peakSessions(): number;
  /** A fresh pass over the sessions, ordered by start (called once per loop). */
  read(): Iterable<Session>;
  /**
   * The same sessions with each one's exchanges loaded only when asked (a
   * recording file: an indexed query per session), so a replay holds a
   * session's rows only while it runs; without it the plan uses `read()`.
   */
  lazy?: LazySessions;
  close(): void;
}

/** A {@link RecordingSource} over sessions in memory (tests, generated plans). */
export function memorySource(sessions: Session[], path = 'memory', digest = 'memory'): RecordingSource {
  const sorted = [...sessions].sort((a, b) => a.startOffsetUs - b.startOffsetUs || (a.key < b.key ? -1 : 1));
  let exchanges = 0;
  let last = 0;
  for (const s of sorted) {
    exchanges += s.exchanges.length;
    for (const e of s.exchanges) if (e.startOffsetUs > last) last = e.startOffsetUs;
  }
  return {
    path,
    digest,
    exchanges,
    sessions: sorted.length,
    lastOffsetUs: last,
    upstream: null,
    peakSessions: () => peakOverlap(sorted),
    read: () => sorted,
    close: () => undefined,
  };
}
