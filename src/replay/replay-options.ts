import { UsageError } from '../model/errors.js';
import { parseDurationUs } from '../model/units.js';
import type { RunPlan } from '../model/run-result.js';

/** A header set on every replayed request (`--header 'Name: value'`). */
export interface ExtraHeader {
  /** Lower-case name. */
  name: string;
  value: string;
}

/**
 * The plan-shaping options of a replay: the part of `RunPlan` that decides
 * which clones start when (`methods` upper-case, `routes` a picomatch glob on
 * the route template path, `shard` 1-based), plus this thread's worker share.
 */
export interface PlanOptions
  extends Pick<RunPlan, 'scale' | 'speed' | 'durationUs' | 'rampUs' | 'jitterUs' | 'seed' | 'methods' | 'routes' | 'shard'> {
  /** Worker share inside the shard: 0-based index and count. */
  worker: { index: number; count: number };
}

/** Parses `--shard i/N` (1 ≤ i ≤ N); throws {@link UsageError}. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(String(text).trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard must be i/N with 1 <= i <= N, like 2/3 (got "${text}")`);
  }
  return { index, count };
}

/** The environment variables `--shard auto` reads. */
export const SHARD_ENV = {
  /** Set by a Kubernetes Indexed Job on each pod: 0 … completions − 1. */
  k8sIndex: 'JOB_COMPLETION_INDEX',
  /** 1-based, like `--shard i/N`: what a CI matrix sets. */
  index: 'FLASHBACK_SHARD_INDEX',
  count: 'FLASHBACK_SHARD_COUNT',
} as const;

/**
 * Parses `--shard`: `i/N`, or `auto` / `auto/N`, which take the index from
 * the environment (`JOB_COMPLETION_INDEX`, 0-based, as a Kubernetes Indexed
 * Job sets it; or `FLASHBACK_SHARD_INDEX`, 1-based) and the count from
 * `FLASHBACK_SHARD_COUNT` or the `/N`. Throws {@link UsageError} with one
 * line naming the variables when they are missing or disagree.
 */
export function resolveShard(text: string, env: Record<string, string | undefined>): { index: number; count: number } {
  const t = String(text).trim();
  const auto = /^auto(?:\/(\d+))?$/.exec(t);
  if (!auto) return parseShard(t);
  const whole = (name: string): number => {
    const v = env[name]!.trim();
    if (!/^\d+$/.test(v)) throw new UsageError(`--shard auto: ${name} must be a whole number (got "${env[name]}")`);
    return Number(v);
  };
  const has = (name: string): boolean => env[name] !== undefined && env[name]!.trim() !== '';
  const fromK8s = has(SHARD_ENV.k8sIndex) ? whole(SHARD_ENV.k8sIndex) + 1 : null;
  const fromVar = has(SHARD_ENV.index) ? whole(SHARD_ENV.index) : null;
  if (fromK8s === null && fromVar === null) {
    throw new UsageError(`--shard auto needs the shard index in ${SHARD_ENV.k8sIndex} (0-based, set by a Kubernetes Indexed Job) or ${SHARD_ENV.index} (1-based), and the count in ${SHARD_ENV.count} or --shard auto/N`);
  }
  if (fromK8s !== null && fromVar !== null && fromK8s !== fromVar) {
    throw new UsageError(`--shard auto: ${SHARD_ENV.k8sIndex}=${env[SHARD_ENV.k8sIndex]} (shard ${fromK8s}) and ${SHARD_ENV.index}=${env[SHARD_ENV.index]} disagree`);
  }
  const inline = auto[1] !== undefined ? Number(auto[1]) : null;
  const fromEnv = has(SHARD_ENV.count) ? whole(SHARD_ENV.count) : null;
  if (inline === null && fromEnv === null) {
    throw new UsageError(`--shard auto needs the shard count in ${SHARD_ENV.count} or as --shard auto/N`);
  }
  if (inline !== null && fromEnv !== null && inline !== fromEnv) {
    throw new UsageError(`--shard auto/${inline} and ${SHARD_ENV.count}=${env[SHARD_ENV.count]} disagree on the shard count`);
  }
  const index = (fromK8s ?? fromVar)!;
  const count = (inline ?? fromEnv)!;
  if (count < 1 || index < 1 || index > count) {
    const source = fromK8s !== null ? `${SHARD_ENV.k8sIndex}=${env[SHARD_ENV.k8sIndex]}` : `${SHARD_ENV.index}=${env[SHARD_ENV.index]}`;
    throw new UsageError(`--shard auto: ${source} is not a shard of ${count} (shard ${index} of ${count})`);
  }
  return { index, count };
}

/** Parses `--methods GET,HEAD`; throws {@link UsageError} on an empty or odd list. */
export function parseMethods(text: string): string[] {
  const list = String(text).split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== '');
  if (list.length === 0 || list.some((m) => !/^[A-Z]+$/.test(m))) {
    throw new UsageError(`--methods must be a comma-separated list of HTTP methods like GET,HEAD (got "${text}")`);
  }
  return list;
}

/**
 * Parses `--target`: an http(s) origin (a path is refused: the recorded paths
 * are used). Returns the origin without a trailing slash.
 */
export function parseTarget(text: string | undefined): string {
  if (text === undefined || String(text).trim() === '') {
    throw new UsageError('--target is required: the origin to replay against, like http://staging:3000');
  }
  return parseOrigin(text, '--target');
}

/**
 * Parses an http(s) origin given to `flag` (`--target`, `--against`): no
 * path, no query. Returns the origin without a trailing slash; throws
 * {@link UsageError} naming the flag and the value.
 */
export function parseOrigin(text: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(String(text).trim());
  } catch {
    throw new UsageError(`${flag} must be an http(s) origin like http://staging:3000 (got "${text}")`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new UsageError(`${flag} must be an http(s) origin like http://staging:3000 (got "${text}")`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '') {
    throw new UsageError(`${flag} must be an origin without a path or query (got "${text}")`);
  }
  return url.origin;
}

/**
 * Expands `$VAR` and `${VAR}` from `env`. An unset variable is an error
 * naming `what` (a header or secret silently sent empty is worse).
 */
function expandEnv(text: string, what: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) => {
    const v = env[(a ?? b)!];
    if (v === undefined) throw new UsageError(`${what}: environment variable $${a ?? b} is not set`);
    return v;
  });
}

/**
 * Parses `--header 'Name: value'`, expanding `$VAR` and `${VAR}` from `env`.
 * An unset variable is an error (a header silently sent empty is worse).
 */
export function parseHeaderFlag(text: string, env: Record<string, string | undefined>): ExtraHeader {
  const colon = String(text).indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim().toLowerCase() : '';
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
    throw new UsageError(`--header must look like 'Name: value' (got "${text}")`);
  }
  return { name, value: expandEnv(text.slice(colon + 1).trim(), `--header ${name}`, env) };
}

/**
 * Parses `--secret name=value` (`$VAR` expanded like `--header`): what to send
 * for a body field of that name whose recorded value was redacted, e.g. a
 * staging test account's password. Names are matched case-insensitively.
 */
export function parseSecretFlag(text: string, env: Record<string, string | undefined>): [name: string, value: string] {
  const eq = String(text).indexOf('=');
  const name = eq > 0 ? text.slice(0, eq).trim().toLowerCase() : '';
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`--secret must look like name=value (got "${text}")`);
  return [name, expandEnv(text.slice(eq + 1), `--secret ${name}`, env)];
}

/** Parses `--connections per-clone|shared`. */
export function parseConnections(text: string): 'per-clone' | 'shared' {
  const t = String(text).trim();
  if (t !== 'per-clone' && t !== 'shared') throw new UsageError(`--connections must be per-clone or shared (got "${text}")`);
  return t;
}

/** Parses `--seed` (any integer, kept to 32 bits). */
export function parseSeed(text: string): number {
  const s = String(text).trim();
  if (!/^-?\d+$/.test(s)) throw new UsageError(`--seed must be a whole number (got "${text}")`);
  return Number(BigInt.asUintN(32, BigInt(s)));
}

/**
 * Parses `--start-at`: an ISO time, or an ISO epoch plus a delay
 * (`2026-01-31T12:00:00Z+90s`: every shard given the same epoch starts 90 s
 * after it, however late its pod or job was scheduled). Refuses a time more
 * than 1 s in the past (`nowMs`).
 */
export function parseStartAt(text: string, nowMs: number): number {
  const t = String(text).trim();
  const m = /^(\d{4}-\d\d-\d\dT[^+]*(?:\+\d\d:?\d\d)?)(?:\+(\d[\w.]*))?$/.exec(t);
  const epoch = m ? Date.parse(m[1]!) : NaN;
  if (!m || !Number.isFinite(epoch)) {
    throw new UsageError(`--start-at must be an ISO time like 2026-01-31T12:00:00Z, or one plus a delay like 2026-01-31T12:00:00Z+90s (got "${text}")`);
  }
  const ms = epoch + (m[2] === undefined ? 0 : parseDurationUs(m[2], '--start-at delay') / 1000);
  if (ms < nowMs - 1000) throw new UsageError(`--start-at is in the past (${text}); shards started late would send late`);
  return ms;
}

/** Window lengths `--window auto` picks from, µs. */
const AUTO_WINDOWS_US = [100_000, 200_000, 250_000, 500_000, 1_000_000];

/**
 * `--window auto`: the shortest of 100 ms, 200 ms, 250 ms, 500 ms and 1 s
 * that cuts the planned run into at most 100 windows, so that a 10 s run
 * still has enough windows for the diff's block bootstrap to form 20 blocks
 * or more, while runs of 100 s and longer keep one-second windows.
 */
export function autoWindowUs(plannedUs: number): number {
  return AUTO_WINDOWS_US.find((w) => plannedUs / w <= 100) ?? AUTO_WINDOWS_US[AUTO_WINDOWS_US.length - 1]!;
}
