import type { Exchange } from './exchange.js';

/** Cohort attributes of a session: `{ device: 'mobile', region: 'eu', auth: 'anonymous' }`. */
export type Cohort = Record<string, string>;

/**
 * A recorded user session: the unit of replay. Exchanges are ordered by
 * `startOffsetUs` (ties by `seq`).
 */
export interface Session {
  key: string;
  cohort: Cohort;
  /** Start of the first exchange, µs since the recording start. */
  startOffsetUs: number;
  /** End of the last exchange, µs since the recording start. */
  endOffsetUs: number;
  exchanges: Exchange[];
}

/** Summary row of a session without its exchanges (what `sessions` stores). */
export interface SessionInfo {
  key: string;
  cohort: Cohort;
  startOffsetUs: number;
  endOffsetUs: number;
  exchangeCount: number;
}
