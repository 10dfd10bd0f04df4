import { InputError } from '../model/errors.js';
import type { ErrorKind } from '../model/exchange.js';
import type { RunPlan, RunResult, RunStart, SegmentResult, ShardStart, WindowCounts } from '../model/run-result.js';
import type { Cohort } from '../model/session.js';
import { decodeHistogram, encodeHistogram, percentilesOf, type Histogram } from './histogram.js';
import { segmentTotals } from './segment-totals.js';

function addAll(target: Histogram | null, base64: string): Histogram {
  const h = decodeHistogram(base64);
  if (target === null) return h;
  target.add(h);
  return target;
}

/**
 * Sums window lists by window index, merging their sparse latency buckets.
 * `serverErrors` stays only if every window that went in had it (an older
 * run.json without it makes the merged figure unknown).
 */
export function mergeWindows(lists: readonly WindowCounts[][]): WindowCounts[] {
  if (lists.length === 1) return lists[0]!;
  const byT = new Map<number, { count: number; errors: number; serverErrors: number | undefined; lat: Map<number, number> }>();
  for (const list of lists) {
    for (const w of list) {
      let acc = byT.get(w.t);
      if (!acc) byT.set(w.t, (acc = { count: 0, errors: 0, serverErrors: 0, lat: new Map() }));
      acc.count += w.count;
      acc.errors += w.errors;
      // a part without the field (an older run) makes the merged figure unknown
      acc.serverErrors = acc.serverErrors === undefined || w.serverErrors === undefined ? undefined : acc.serverErrors + w.serverErrors;
      for (const [b, c] of w.lat) acc.lat.set(b, (acc.lat.get(b) ?? 0) + c);
    }
  }
  return [...byT]
    .sort((a, b) => a[0] - b[0])
    .map(([t, w]) => ({
      t, count: w.count, errors: w.errors,
      ...(w.serverErrors === undefined ? {} : { serverErrors: w.serverErrors }),
      lat: [...w.lat].sort((a, b) => a[0] - b[0]),
    }));
}

/**
 * Merges segments into one (shards of one segment, or coarser views: per
 * route, per cohort, overall). Histograms are decoded, added and re-encoded,
 * so percentiles of the merge are those of one big run.
 */
export function mergeSegments(key: string, route: string, cohort: Cohort, parts: SegmentResult[]): SegmentResult {
  let response: Histogram | null = null;
  let service: Histogram | null = null;
  let sendLag: Histogram | null = null;
  const out: SegmentResult = {
    key, route, cohort,
    count: 0, errors: 0, serverErrors: 0, mismatches: 0, bytes: 0,
    byStatusClass: {}, byErrorKind: {},
    p50: 0, p95: 0, p99: 0, p999: 0, max: 0,
    histograms: { response: '', service: '', sendLag: '' },
    windows: mergeWindows(parts.map((p) => p.windows)),
  };
  for (const p of parts) {
    out.count += p.count;
    out.errors += p.errors;
    out.serverErrors += p.serverErrors;
    out.mismatches += p.mismatches;
    out.bytes += p.bytes;
    for (const [k, v] of Object.entries(p.byStatusClass) as Array<[keyof SegmentResult['byStatusClass'], number]>) {
      out.byStatusClass[k] = (out.byStatusClass[k] ?? 0) + v;
    }
    for (const [k, v] of Object.entries(p.byErrorKind) as Array<[ErrorKind, number]>) {
      out.byErrorKind[k] = (out.byErrorKind[k] ?? 0) + v;
    }
    response = addAll(response, p.histograms.response);
    service = addAll(service, p.histograms.service);
    sendLag = addAll(sendLag, p.histograms.sendLag);
  }
  if (response && service && sendLag) {
    const pr = percentilesOf(response);
    Object.assign(out, { p50: pr.p50, p95: pr.p95, p99: pr.p99, p999: pr.p999, max: Math.max(...parts.map((p) => p.max)) });
    out.histograms = {
      response: encodeHistogram(response),
      service: encodeHistogram(service),
      sendLag: encodeHistogram(sendLag),
    };
  }
  return out;
}

/**
 * The plan without the fields that may differ between shards of one run
 * (shard index, workers, plannedUs) and without `connections` (checked on
 * its own: older files lack it), keys sorted so files that list them in
 * another order still compare equal.
 */
function comparablePlan(plan: RunPlan): string {
  const { shard, workers: _workers, plannedUs: _plannedUs, connections: _connections, ...rest } = plan;
  const fields: Record<string, unknown> = { ...rest, shardCount: shard.count };
  return JSON.stringify(Object.keys(fields).sort().map((k) => [k, fields[k]]));
}

function firstDifference(a: RunPlan, b: RunPlan): string {
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
    if (k === 'workers' || k === 'plannedUs' || k === 'connections') continue;
    if (k === 'shard') {
      if (a.shard.count !== b.shard.count) return `shard count (${a.shard.count} vs ${b.shard.count})`;
      continue;
    }
    if (JSON.stringify(ra[k]) !== JSON.stringify(rb[k])) return `${k} (${JSON.stringify(ra[k])} vs ${JSON.stringify(rb[k])})`;
  }
  return 'plan';
}

/** Merges lists of segments (of workers, shards) by key into one list sorted by key. */
export function mergeSegmentLists(lists: readonly SegmentResult[][]): SegmentResult[] {
  if (lists.length === 1) return lists[0]!;
  const groups = new Map<string, SegmentResult[]>();
  for (const list of lists) {
    for (const s of list) {
      const g = groups.get(s.key);
      if (g) g.push(s);
      else groups.set(s.key, [s]);
    }
  }
  return [...groups.keys()].sort().map((k) => {
    const parts = groups.get(k)!;
    return mergeSegments(k, parts[0]!.route, parts[0]!.cohort, parts);
  });
}

/**
 * `--connections` of a run, for the refusal of parts with different modes. A
 * part without the field (an older run.json) merges only with parts that lack
 * it too: its mode is unknown (before per-clone became the default, replays
 * were pooled), so it cannot be vouched for against a known one.
 */
function modeOf(r: RunResult): string {
  const name = r.plan.shard.count > 1 && r.mergedFrom === undefined ? `"${r.label}" (shard ${r.plan.shard.index}/${r.plan.shard.count})` : `"${r.label}"`;
  return r.plan.connections === undefined
    ? `${name} has no connection mode (written before run.json recorded it)`
    : `${name} ran with --connections ${r.plan.connections}`;
}

/**
 * The shard indexes a part holds: its own `--shard i/N` (1/1 for an unsharded
 * run), those a merge lists, or null for a merge written before merges
 * listed them (it cannot say which it holds).
 */
function shardsOf(r: RunResult): number[] | null {
  if (r.mergedFrom === undefined) return [r.plan.shard.index];
  return Array.isArray(r.mergedShards) ? r.mergedShards : null;
}

const shardList = (xs: Iterable<number>, count: number): string => [...xs].map((i) => `${i}/${count}`).join(', ');

/** `"all" (a merge of 1/3, 2/3)` for a merge, `"s1"` for a single shard. */
function partName(r: RunResult): string {
  const shards = shardsOf(r);
  return r.mergedFrom === undefined || shards === null ? `"${r.label}"` : `"${r.label}" (a merge of ${shardList(shards, r.plan.shard.count)})`;
}

/** The refusal of shard `index` held by both `a` and `b`. */
function duplicateShard(index: number, a: RunResult, b: RunResult): InputError {
  const count = a.plan.shard.count;
  const base = `Failed to merge runs: shard ${index}/${count} given twice`;
  if (a.mergedFrom !== undefined || b.mergedFrom !== undefined) return new InputError(`${base}: ${partName(b)} and ${partName(a)} both hold it`);
  if (count === 1) return new InputError(`${base}: an unsharded run is the whole run, and two of them are not one run (replay --shard i/N makes its parts)`);
  return new InputError(base);
}

/**
 * Which shards the parts hold, refusing a shard held twice; null when a part
 * cannot say (a merge written before merges listed their shards).
 */
function collectShards(results: readonly RunResult[]): Set<number> | null {
  const holders = new Map<number, RunResult>();
  let known = true;
  for (const r of results) {
    const shards = shardsOf(r);
    if (shards === null) known = false;
    for (const i of shards ?? []) {
      const other = holders.get(i);
      if (other) throw duplicateShard(i, other, r);
      holders.set(i, r);
    }
  }
  return known ? new Set(holders.keys()) : null;
}

/** Refuses an incomplete set of shards: shards 1…N of `--shard i/N` must all be there. */
function checkComplete(count: number, held: ReadonlySet<number>): void {
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !held.has(i));
  if (missing.length === 0) return;
  throw new InputError(
    `Failed to merge runs: shard${missing.length > 1 ? 's' : ''} ${shardList(missing, count)} missing (given ${shardList([...held].sort((a, b) => a - b), count)}): a merge of some shards is not the run`,
  );
}

/**
 * The start of a merge: each shard's skew against the earliest intended
 * start among them (shards given different `--start-at` times did not start
 * together, and that shows as skew), the worst of them, and the largest
 * send-lag limit. Null when no part was given `--start-at`.
 */
function mergeStarts(results: readonly RunResult[]): RunStart | null {
  const withStart = results.filter((r): r is RunResult & { start: RunStart } => r.start !== undefined);
  if (withStart.length === 0) return null;
  const intendedMs = Math.min(...withStart.map((r) => Date.parse(r.start.intended)));
  const shards: ShardStart[] = withStart.flatMap((r) => {
    const offUs = (Date.parse(r.start.intended) - intendedMs) * 1000;
    const own: ShardStart[] = r.start.shards ?? [{ shard: r.plan.shard.index, label: r.label, skewUs: r.start.skewUs, limitUs: r.start.limitUs }];
    return own.map((s) => ({ ...s, skewUs: s.skewUs + offUs }));
  });
  shards.sort((a, b) => a.shard - b.shard);
  const worst = shards.reduce((w, s) => (Math.abs(s.skewUs) > Math.abs(w.skewUs) ? s : w));
  return { intended: new Date(intendedMs).toISOString(), skewUs: worst.skewUs, limitUs: Math.max(...shards.map((s) => s.limitUs)), shards };
}

/** Shards of a merge whose start was off by more than their send-lag limit, for `report merge` to name. */
export function offStartShards(merged: RunResult): ShardStart[] {
  return (merged.start?.shards ?? []).filter((s) => Math.abs(s.skewUs) > s.limitUs);
}

/**
 * Refuses a mix of paired runs (`replay --against`, with a nested
 * `against`) and plain ones: the merge would drop half of the pairs.
 */
function checkPairing(results: readonly RunResult[]): boolean {
  const paired = results.find((r) => r.against !== undefined);
  const plain = results.find((r) => r.against === undefined);
  if (paired && plain) {
    throw new InputError(`Failed to merge runs: "${paired.label}" is a paired run (replay --against ${paired.against!.target}) and "${plain.label}" is not`);
  }
  return paired !== undefined;
}

/**
 * Merges shard results of the same recording and plan into one result whose
 * counts and histograms equal those of one unsharded run. Paired results
 * (`against`) merge side by side: the candidates into the result, the
 * baselines into its `against`. Throws {@link InputError} for results of
 * different recordings, plans, targets or connection modes, the same shard
 * twice (also inside a merge, and an unsharded run twice), a shard missing
 * (unless a part is a merge that does not list its shards), or paired
 * results mixed with plain ones.
 */
export function mergeRuns(results: RunResult[]): RunResult {
  const first = results[0];
  if (!first) throw new InputError('Failed to merge runs: no results given');
  const paired = checkPairing(results);
  for (const r of results) {
    if (r.recording.digest !== first.recording.digest) {
      throw new InputError(
        `Failed to merge runs: "${r.label}" replayed a different recording (${r.recording.path}, digest ${r.recording.digest.slice(0, 12)}) than "${first.label}" (${first.recording.path}, digest ${first.recording.digest.slice(0, 12)})`,
      );
    }
    if (comparablePlan(r.plan) !== comparablePlan(first.plan)) {
      throw new InputError(`Failed to merge runs: "${r.label}" has a different plan than "${first.label}": ${firstDifference(first.plan, r.plan)}`);
    }
    if (r.plan.connections !== first.plan.connections) {
      throw new InputError(`Failed to merge runs: different connection modes: ${modeOf(r)}, ${modeOf(first)}`);
    }
    if (r.target !== first.target) {
      throw new InputError(`Failed to merge runs: "${r.label}" targeted ${r.target}, "${first.label}" targeted ${first.target}`);
    }
  }
  const held = collectShards(results);
  if (held) checkComplete(first.plan.shard.count, held);
  const segments = mergeSegmentLists(results.map((r) => r.segments));
  const starts = results.map((r) => Date.parse(r.startedAt));
  const startMs = Math.min(...starts);
  const endMs = Math.max(...results.map((r, i) => starts[i]! + r.durationUs / 1000));
  const sum = (f: (r: RunResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const reasons = [...new Set(results.flatMap((r) => r.invalidReasons.map((x) => (results.length > 1 ? `${r.label}: ${x}` : x))))];
  const { mergedShards: _parts, against: _against, start: _start, ...head } = first;
  const start = mergeStarts(results);
  return {
    ...head,
    label: first.label,
    // connections as in every part (checked equal; left out when the parts lack it)
    plan: { ...first.plan, shard: { index: 0, count: first.plan.shard.count }, plannedUs: Math.max(...results.map((r) => r.plan.plannedUs)) },
    startedAt: new Date(startMs).toISOString(),
    durationUs: Math.round((endMs - startMs) * 1000),
    valid: results.every((r) => r.valid),
    invalidReasons: reasons,
    totals: {
      requests: sum((r) => r.totals.requests),
      errors: sum((r) => r.totals.errors),
      serverErrors: sum((r) => r.totals.serverErrors),
      mismatches: sum((r) => r.totals.mismatches),
      bytes: sum((r) => r.totals.bytes),
      sessions: sum((r) => r.totals.sessions),
      unsent: sum((r) => r.totals.unsent),
      droppedRedactedHeaders: sum((r) => r.totals.droppedRedactedHeaders),
      sendLagP99Us: segmentTotals(segments).sendLagP99Us,
    },
    segments,
    mergedFrom: sum((r) => r.mergedFrom ?? 1),
    ...(held ? { mergedShards: [...held].sort((a, b) => a - b) } : {}),
    ...(start === null ? {} : { start }),
    ...(paired ? { against: mergeRuns(results.map((r) => r.against!)) } : {}),
  };
}
