import type { ErrorKind, HeaderList } from '../model/exchange.js';

/**
 * One request/response pair as an importer parsed it from a file, before
 * sessions, routes, cohorts and offsets are assigned. Times are absolute
 * (µs since the Unix epoch) because offsets are relative to the first
 * request, which only the pipeline knows.
 */
export interface RawExchange {
  /** Request start, µs since the Unix epoch. */
  startUs: number;
  /** Request start to end of response, µs (0 when the source has no timing). */
  durationUs: number;
  method: string;
  /** Path and query: `/products/42?ref=home`. */
  target: string;
  /** Authority (`shop.example:443`), when known. */
  host: string | null;
  scheme: 'http' | 'https';
  /** Client address (for the `client` session rule); '' when unknown. */
  clientAddress: string;
  /** Lower-case names, no pseudo or hop-by-hop headers, cookies merged. */
  requestHeaders: HeaderList;
  requestBody: Uint8Array | null;
  status: number | null;
  responseHeaders: HeaderList;
  responseBody: Uint8Array | null;
  /** `content-encoding` of `responseBody` as stored, or null when it is decoded. */
  responseEncoding: string | null;
  /** Response content type (for static-asset detection), when known. */
  mimeType: string | null;
  error: ErrorKind | null;
  errorDetail: string | null;
  /** Session key given by the file itself (flashback's own HAR export), already redacted. */
  sessionKey?: string;
}

/** What an import took and what it skipped, counted by reason. */
export class ImportStats {
  taken = 0;
  readonly skipped = new Map<string, number>();
  /** Free-text remarks for the user (e.g. "access logs carry no bodies"). */
  readonly notes: string[] = [];

  /** Counts one skipped item under `reason` (`static asset`, `bad line`, …). */
  skip(reason: string, count = 1): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + count);
  }

  /** Total skipped items. */
  get skippedTotal(): number {
    let n = 0;
    for (const v of this.skipped.values()) n += v;
    return n;
  }

  /** Skipped counts as a plain object, reasons sorted. */
  skippedRecord(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.skipped.keys()].sort()) out[k] = this.skipped.get(k)!;
    return out;
  }
}
