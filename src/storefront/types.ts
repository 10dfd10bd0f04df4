/**
 * Public types of the storefront module.
 */

/** `naive` reproduces the case studies' failure modes; `tuned` fixes each. */
export type Profile = 'naive' | 'tuned';

/** The profiles, for validation. */
export const PROFILES: readonly Profile[] = ['naive', 'tuned'];

/** Options of `startStorefront`. */
export interface StorefrontOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  profile: Profile;
  /** Fault specs such as `payment-latency=800ms` (see faults.ts). */
  faults?: string[];
  /** SQLite file; default `:memory:`. */
  dbPath?: string;
  /** Catalogue seed; default 1. Also seeds the payment provider's randomness. */
  seed?: number;
  /** Overrides of the simulated payment provider (tests use a fast, error-free one). */
  paymentProvider?: PaymentProviderTuning;
}

/** Parameters of the simulated payment provider (latencies in ms). */
export interface PaymentProviderTuning {
  medianMs?: number;
  sigma?: number;
  slowShare?: number;
  slowMedianMs?: number;
  capacity?: number;
  baseErrorRate?: number;
}

/** A running storefront. */
export interface RunningStorefront {
  /** `http://host:port` */
  url: string;
  port: number;
  profile: Profile;
  /** Stops accepting, ends keep-alive connections, closes the database. */
  close(): Promise<void>;
}

/** An answer of a handler. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}
