import { UsageError } from './errors.js';

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)?$/;
const DURATION_FACTOR_US: Record<string, number> = {
  us: 1,
  µs: 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
};

/**
 * Parses a duration such as `800ms`, `1.5s`, `30s`, `2m`, `250us` into whole µs.
 * A bare number is taken in `defaultUnit` (seconds unless told).
 * Throws {@link UsageError} naming `what` on anything else.
 */
export function parseDurationUs(text: string, what: string, defaultUnit: 'us' | 'ms' | 's' = 's'): number {
  const m = DURATION_RE.exec(String(text).trim());
  if (!m) throw new UsageError(`${what} must be a duration like 500ms, 30s or 2m (got "${text}")`);
  const value = Number(m[1]);
  const unit = m[2] ?? defaultUnit;
  return Math.round(value * DURATION_FACTOR_US[unit]!);
}

const BYTES_RE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|k|m|g)?$/i;
const BYTES_FACTOR: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 * 1024,
  mb: 1_000_000,
  mib: 1024 * 1024,
  g: 1024 ** 3,
  gb: 1_000_000_000,
  gib: 1024 ** 3,
};

/** Parses a size such as `1MiB`, `512k`, `2048` into bytes; throws {@link UsageError} naming `what`. */
export function parseBytes(text: string, what: string): number {
  const m = BYTES_RE.exec(String(text).trim());
  if (!m) throw new UsageError(`${what} must be a size like 1MiB, 512KiB or 65536 (got "${text}")`);
  const bytes = Math.floor(Number(m[1]) * BYTES_FACTOR[(m[2] ?? 'b').toLowerCase()]!);
  return bytes;
}

/** Parses a positive finite number (fractions allowed); throws {@link UsageError} naming `what`. */
export function parsePositiveNumber(text: string, what: string): number {
  const s = String(text).trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what} must be a positive number (got "${text}")`);
  return n;
}

/** Parses a positive integer; throws {@link UsageError} naming `what`. */
export function parsePositiveInt(text: string, what: string): number {
  const s = String(text).trim();
  if (!/^\d+$/.test(s) || Number(s) <= 0) throw new UsageError(`${what} must be a positive whole number (got "${text}")`);
  return Number(s);
}

/** Formats µs for people: `850us`, `12.3ms`, `1.25s`. */
export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us < 1_000) return `${Math.round(us)}us`;
  if (us < 1_000_000) return `${(us / 1_000).toFixed(us < 10_000 ? 2 : 1)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

/** `450ms`, `12.5s`, `90s`, `25m`, `1h`, `1.5h`: a duration in ms as a flag would give it (`--max-duration 1h`). */
export function formatMs(ms: number): string {
  const trim = (n: number): string => n.toFixed(1).replace(/\.0$/, '');
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${trim(ms / 1000)}s`;
  if (ms < 3_600_000) return `${trim(ms / 60_000)}m`;
  return `${trim(ms / 3_600_000)}h`;
}

/**
 * A share written as a percentage (`10%`, `0.5%`) or a fraction (`0.1`), as
 * a fraction; NaN for anything else. Callers check the range they allow.
 */
export function parseFraction(text: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(%?)$/.exec(String(text).trim());
  return m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
}

/** `0.1` → `10%`. */
export function formatShare(share: number): string {
  return `${Number((share * 100).toPrecision(6))}%`;
}

/** Formats a byte count for people: `820 B`, `1.50 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
