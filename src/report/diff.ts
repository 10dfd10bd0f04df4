import { InputError, UsageError } from '../model/errors.js';
import type { RunResult } from '../model/run-result.js';
import {
  blockAxis,
  drawnIndex,
  drawStrata,
  interpolatedLog,
  MIN_JUDGED_BLOCKS,
  newDraw,
  normalQuantile,
  percentileIndex,
  quantileInterval,
  resampler,
  tableOf,
  tQuantile,
  weighted,
  widening,
  type BlockAxis,
  type BootInterval,
  type Stratum,
  type WindowTable,
} from './bootstrap.js';
import { ASSUMED_RUN_NOISE, median, sampleVariance } from './run-noise.js';
import { compareRows, runInfo, summarizeGroup } from './summary.js';
import {
  MIN_SAMPLES,
  PERCENTILE_OF,
  type Comparison,
  type Delta,
  type DiffOptions,
  type DiffRow,
  type DiffView,
  type NoiseMode,
  type RowSummary,
  type ShiftFigure,
} from './types.js';
import { cohortDimensions, decodeSegments, groupSegments, poolGroups, viewSpecs, type DecodedSegment, type MergedGroup } from './views.js';

/** Defaults of `report diff`: 5% and 1 ms floors, 1,000 resamples, 95% intervals. */
export const DEFAULT_DIFF_OPTIONS: DiffOptions = {
  minRelPct: 5,
  minAbsUs: 1_000,
  minAbsErrorPts: 0.1,
  resamples: 1_000,
  seed: 1,
  confidence: 0.95,
};

/** Options of {@link compareRuns}. */
export interface CompareOptions extends Partial<DiffOptions> {
  by?: string;
  top?: number;
  /** Compare runs of different recordings anyway. */
  force?: boolean;
}

/**
 * What a diff compares: one or more baseline runs and a candidate. `paired`
 * when the baseline is the candidate's own `against` run (a paired replay:
 * both made at the same time, so their windows are resampled together).
 */
export interface DiffInput {
  baselines: RunResult[];
  candidate: RunResult;
  paired: boolean;
}

const LATENCY = ['p50', 'p95', 'p99'] as const;
type Lat = (typeof LATENCY)[number];

/**
 * The diff of `report diff`'s run files: one paired run (from `replay
 * --against`), or baselines followed by the candidate. UsageError otherwise.
 */
export function diffInput(runs: RunResult[], paths: readonly string[]): DiffInput {
  if (runs.length === 1) {
    const only = runs[0]!;
    if (!only.against) {
      throw new UsageError(`report diff needs a baseline and a candidate, or one paired run (${paths[0]} was not made with replay --against)`);
    }
    return { baselines: [only.against], candidate: only, paired: true };
  }
  return { baselines: runs.slice(0, -1), candidate: runs[runs.length - 1]!, paired: false };
}

/** The input of a plain two-run diff. */
export function pairOf(base: RunResult, cand: RunResult): DiffInput {
  return { baselines: [base], candidate: cand, paired: false };
}

/**
 * `report diff`: the views of the baseline(s) and the candidate matched row
 * by row, each P50/P95/P99 and error-share delta with an interval and a
 * verdict. Intervals hold the noise within runs (block bootstrap) and
 * between runs (measured on a baseline set, assumed for one baseline, none
 * for a paired replay). A route's verdict is on its own change beyond the
 * run-wide shift when the run has three routes or more to measure that
 * shift on. Throws InputError when the runs replayed different recordings,
 * unless `force`.
 */
export function compareRuns(input: DiffInput, options: CompareOptions = {}, frame = newFrame(input, options)): Comparison {
  const opts = frame.opts;
  const { baselines, candidate } = input;
  const differentRecordings = baselines.some((b) => b.recording.digest !== candidate.recording.digest);
  if (differentRecordings && !options.force) {
    const b = baselines.find((r) => r.recording.digest !== candidate.recording.digest)!;
    throw new InputError(
      `Failed to compare runs: they replayed different recordings (${short(b.recording.digest)} vs ${short(candidate.recording.digest)})`,
      { hint: 'compare runs of the same recording, or pass --force if you know why they differ' },
    );
  }
  const views: DiffView[] = viewSpecs(options.by, cohortDimensions(...baselines, candidate)).map((spec) => {
    const rows = spec.byRoute && spec.dimensions.length === 0 ? frame.routeRows() : frame.rows(frame.groupRows((d) => groupSegments(d, spec)));
    rows.sort(compareDiffRows);
    const top = options.top ?? rows.length;
    return { name: spec.name, rows: rows.slice(0, top), omitted: Math.max(0, rows.length - top) };
  });
  return {
    base: runInfo(baselines[0]!),
    baselines: baselines.map(runInfo),
    cand: runInfo(candidate),
    differentRecordings,
    options: opts,
    noise: frame.mode,
    shift: frame.shift(),
    views,
  };
}

/** The frame of a diff with `options` over the defaults: share one between {@link compareRuns} and the gates. */
export function newFrame(input: DiffInput, options: Partial<DiffOptions> = {}): DiffFrame {
  return new DiffFrame(input, { ...DEFAULT_DIFF_OPTIONS, ...definedOnly(options) });
}

function definedOnly(o: Partial<DiffOptions>): Partial<DiffOptions> {
  const out: Partial<DiffOptions> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k in DEFAULT_DIFF_OPTIONS) (out as Record<string, unknown>)[k] = v;
  return out;
}

function short(digest: string): string {
  return digest.slice(0, 12);
}

const RANK: Record<string, number> = { regression: 0, improvement: 1, unchanged: 2, insufficient: 3 };

/** The change a verdict judged, relative %: the row's own when it judged that, else the total. */
function judgedPct(d: Delta): number {
  return (d.judged === 'own' ? d.own?.relPct : d.relPct) ?? 0;
}

/**
 * Regressions first, then improvements (each by the largest called relative
 * latency change, then the largest called error-share change), then the rest
 * by slowest P99.
 */
function compareDiffRows(a: DiffRow, b: DiffRow): number {
  const worst = (r: DiffRow): number => Math.min(...Object.values(r.deltas).map((d) => RANK[d.verdict]!));
  const wa = worst(a);
  const wb = worst(b);
  if (wa !== wb) return wa - wb;
  if (wa <= 1) {
    const called = (d: Delta): boolean => d.verdict === 'regression' || d.verdict === 'improvement';
    const size = (r: DiffRow): number => Math.max(0, ...LATENCY.map((n) => (called(r.deltas[n]) ? Math.abs(judgedPct(r.deltas[n])) : 0)));
    const errs = (r: DiffRow): number => (called(r.deltas.errors) ? Math.abs(r.deltas.errors.abs ?? 0) : 0);
    const d = size(b) - size(a) || errs(b) - errs(a);
    if (d !== 0) return d;
  }
  const ra = a.cand ?? a.base;
  const rb = b.cand ?? b.base;
  return compareRows('p99')(ra!, rb!);
}

/** One row to judge: its merged group in each baseline run and in the candidate. */
export interface RowInput {
  key: string;
  label: string;
  route: string | null;
  cohort: Record<string, string>;
  base: Array<MergedGroup | null>;
  cand: MergedGroup | null;
}

/** Per-percentile figures of one row, before they become {@link Delta}s. */
interface RowStats {
  input: RowInput;
  base: RowSummary | null;
  cand: RowSummary | null;
  baseTable: WindowTable | null;
  candTable: WindowTable | null;
  /** Which percentiles have enough samples on both sides. */
  judged: boolean[];
  /** Exact ln(cand / base) per percentile (NaN when not judged). */
  point: number[];
  /** Bucketed ln(cand / base) per percentile, the scale the resamples are on. */
  bucketPoint: number[];
  /** Resampled ln(cand / base), percentile-major: `boot[i][r]`. */
  boot: Float64Array[];
  /** Resampled error-share delta, % points. */
  errBoot: Float64Array;
  errPoint: number;
  /** Each baseline run's ln(figure) per percentile (NaN when that run has too few samples). */
  levels: number[][];
}

/**
 * The joint bootstrap of a diff: every row of every view (and every gate
 * scope) is resampled with the same block draws, so a row's change and the
 * run-wide shift taken from the other routes come from the same resample.
 */
export class DiffFrame {
  readonly mode: NoiseMode;
  readonly opts: DiffOptions;
  private readonly input: DiffInput;
  private readonly decodedBase: DecodedSegment[][];
  private readonly decodedCand: DecodedSegment[];
  private readonly baseAxes: BlockAxis[];
  private readonly candAxis: BlockAxis;
  private readonly baseStrata: Stratum[];
  private readonly baseBlocks: number;
  private readonly fewBlocks: number;
  private routeStats: RowStats[] | null = null;

  constructor(input: DiffInput, opts: DiffOptions) {
    this.input = input;
    this.opts = opts;
    const k = input.baselines.length;
    this.mode = input.paired ? 'paired' : k >= 2 ? 'set' : 'single';
    this.decodedBase = input.baselines.map(decodeSegments);
    this.decodedCand = decodeSegments(input.candidate);
    const windowsOf = (r: RunResult): RunResult['segments'][number]['windows'][] => r.segments.map((s) => s.windows);
    if (input.paired) {
      // One axis for both: window t of one run is window t of the other.
      const axis = blockAxis([...windowsOf(input.baselines[0]!), ...windowsOf(input.candidate)]);
      this.baseAxes = [axis];
      this.candAxis = axis;
    } else {
      this.baseAxes = input.baselines.map((r) => blockAxis(windowsOf(r)));
      this.candAxis = blockAxis(windowsOf(input.candidate));
    }
    let offset = 0;
    this.baseStrata = this.baseAxes.map((a) => {
      const s = { offset, blocks: a.blocks };
      offset += a.blocks;
      return s;
    });
    this.baseBlocks = offset;
    this.fewBlocks = Math.min(this.candAxis.blocks, ...this.baseAxes.map((a) => a.blocks));
  }

  /** Rows of a grouping, matched across runs by key. */
  groupRows(group: (decoded: DecodedSegment[]) => MergedGroup[]): RowInput[] {
    const base = this.decodedBase.map((d) => new Map(group(d).map((g) => [g.key, g])));
    const cand = new Map(group(this.decodedCand).map((g) => [g.key, g]));
    const keys = [...new Set([...base.flatMap((m) => [...m.keys()]), ...cand.keys()])];
    return keys.map((key) => {
      const any = (cand.get(key) ?? base.map((m) => m.get(key)).find((g) => g !== undefined))!;
      return {
        key,
        label: any.label,
        route: any.route,
        cohort: any.cohort,
        base: base.map((m) => m.get(key) ?? null),
        cand: cand.get(key) ?? null,
      };
    });
  }

  /** Decoded segments of each baseline run and of the candidate, for rows built from scopes. */
  decoded(): { base: DecodedSegment[][]; cand: DecodedSegment[] } {
    return { base: this.decodedBase, cand: this.decodedCand };
  }

  /** The route view's rows, judged from the route statistics the shift is taken over (not resampled again). */
  routeRows(): DiffRow[] {
    return this.routes().map((s) => this.diffRow(s));
  }

  /** Judges rows: their deltas, intervals and verdicts. */
  rows(inputs: RowInput[]): DiffRow[] {
    return this.stats(inputs).map((s) => this.diffRow(s));
  }

  /** The run-wide shift per percentile (median of the routes' changes), or null with fewer than three routes. */
  shift(): Partial<Record<Lat, ShiftFigure>> | null {
    const out: Partial<Record<Lat, ShiftFigure>> = {};
    LATENCY.forEach((p, i) => {
      const f = this.shiftAt(i);
      if (f !== null) out[p] = f;
    });
    return Object.keys(out).length > 0 ? out : null;
  }

  private shiftCache = new Map<number, ShiftFigure | null>();

  /**
   * The run-wide shift at percentile `i`: the median of the routes' changes,
   * with an interval holding the noise between runs. `attributed` when that
   * interval holds zero (the shift may be the environment), so route rows
   * are judged on their change beyond it; a shift beyond the noise is a real
   * change of every route and is left in their verdicts. A paired replay
   * shares its environment, so its shift is never set aside.
   */
  private shiftAt(i: number): ShiftFigure | null {
    if (this.shiftCache.has(i)) return this.shiftCache.get(i)!;
    const judged = this.shiftRoutes(i);
    let f: ShiftFigure | null = null;
    if (judged !== null) {
      const point = median(judged.map((r) => r.point[i]!));
      const xs = this.medianBoot(judged, i);
      const boot = quantileInterval(xs, this.opts.confidence, median(judged.map((r) => r.bucketPoint[i]!)));
      const spread = this.mode === 'set' ? spreadOf(this.runShifts(judged, i)) : null;
      const [lo, hi] = this.interval(point, boot, 'shared', i, spread);
      f = { relPct: pct(point), ci: [pct(lo), pct(hi)], routes: judged.length, attributed: this.mode !== 'paired' && lo <= 0 && hi >= 0 };
    }
    this.shiftCache.set(i, f);
    return f;
  }

  /** Resampled median of the rows' changes at percentile `i`. */
  private medianBoot(rows: RowStats[], i: number, minus: RowStats | null = null): Float64Array {
    const B = this.opts.resamples;
    const xs = new Float64Array(B);
    const tmp: number[] = new Array(rows.length);
    for (let r = 0; r < B; r++) {
      for (let j = 0; j < rows.length; j++) tmp[j] = rows[j]!.boot[i]![r]!;
      xs[r] = minus === null ? median(tmp) : minus.boot[i]![r]! - median(tmp);
    }
    return xs;
  }

  private routes(): RowStats[] {
    if (this.routeStats === null) {
      this.routeStats = this.stats(this.groupRows((d) => groupSegments(d, { name: 'route', byRoute: true, dimensions: [] })));
    }
    return this.routeStats;
  }

  /** Tables, exact figures and resamples of each row. */
  private stats(inputs: RowInput[]): RowStats[] {
    const stats: RowStats[] = inputs.map((input) => {
      const baseGroups = input.base.filter((g): g is MergedGroup => g !== null);
      const pooled = baseGroups.length === 0 ? null : poolGroups(baseGroups);
      const baseDuration = this.input.baselines.reduce((a, r, i) => a + (input.base[i] ? r.durationUs : 0), 0);
      const base = pooled ? summarizeGroup(pooled, baseDuration) : null;
      const cand = input.cand ? summarizeGroup(input.cand, this.input.candidate.durationUs) : null;
      const baseTable = pooled
        ? tableOf(
            input.base.flatMap((g, i) => (g ? [{ lists: g.windowLists, axis: this.baseAxes[i]!, offset: this.baseStrata[i]!.offset }] : [])),
            this.baseBlocks,
          )
        : null;
      const candTable = input.cand ? tableOf([{ lists: input.cand.windowLists, axis: this.candAxis, offset: 0 }], this.candAxis.blocks) : null;
      const judged = LATENCY.map(
        (p) => base !== null && cand !== null && base.requests >= MIN_SAMPLES[p] && cand.requests >= MIN_SAMPLES[p] && baseTable !== null && candTable !== null,
      );
      const point = LATENCY.map((p, i) => (judged[i] ? Math.log(cand!.percentiles[p].us! / base!.percentiles[p].us!) : NaN));
      const levels = LATENCY.map((p) =>
        input.base.map((g) => (g && g.response.totalCount >= MIN_SAMPLES[p] ? Math.log(g.response.getValueAtPercentile(PERCENTILE_OF[p])) : NaN)),
      );
      return {
        input, base, cand, baseTable, candTable, judged, point, levels,
        bucketPoint: [NaN, NaN, NaN],
        boot: LATENCY.map(() => new Float64Array(this.opts.resamples)),
        errBoot: new Float64Array(this.opts.resamples),
        errPoint: NaN,
      };
    });
    this.resample(stats);
    return stats;
  }

  /** Fills each row's resampled deltas; every row sees the same draws. */
  private resample(stats: RowStats[]): void {
    const ps = LATENCY.map((p) => PERCENTILE_OF[p]);
    const live = stats.filter((s) => s.baseTable !== null && s.candTable !== null);
    for (const s of live) {
      const bt = s.baseTable!;
      const ct = s.candTable!;
      const nb = weighted(bt.counts, null);
      const nc = weighted(ct.counts, null);
      let fb = 0;
      let fc = 0;
      for (let i = 0; i < ps.length; i++) {
        fb = percentileIndex(bt, null, null, bt.blocks, nb, ps[i]!, fb);
        fc = percentileIndex(ct, null, null, ct.blocks, nc, ps[i]!, fc);
        s.bucketPoint[i] = interpolatedLog(ct, null, null, ct.blocks, nc, ps[i]!, fc) - interpolatedLog(bt, null, null, bt.blocks, nb, ps[i]!, fb);
      }
      s.errPoint = share(nc, weighted(ct.errors, null)) - share(nb, weighted(bt.errors, null));
    }
    const random = resampler(this.opts.seed);
    const db = newDraw(this.baseBlocks);
    const dc = this.input.paired ? db : newDraw(this.candAxis.blocks);
    const candStrata: Stratum[] = [{ offset: 0, blocks: this.candAxis.blocks }];
    for (let r = 0; r < this.opts.resamples; r++) {
      drawStrata(db, this.baseStrata, random);
      if (!this.input.paired) drawStrata(dc, candStrata, random);
      for (const s of live) {
        const bt = s.baseTable!;
        const ct = s.candTable!;
        const nb = weighted(bt.counts, db.weights);
        const nc = weighted(ct.counts, dc.weights);
        let fb = 0;
        let fc = 0;
        for (let i = 0; i < ps.length; i++) {
          if (!s.judged[i] || nb <= 0 || nc <= 0) {
            // A resample that drew none of this row's blocks: no change measured.
            s.boot[i]![r] = s.bucketPoint[i]!;
            continue;
          }
          fb = drawnIndex(bt, db, nb, ps[i]!, fb);
          fc = drawnIndex(ct, dc, nc, ps[i]!, fc);
          s.boot[i]![r] = interpolatedLog(ct, dc.weights, dc.nz, dc.n, nc, ps[i]!, fc) - interpolatedLog(bt, db.weights, db.nz, db.n, nb, ps[i]!, fb);
        }
        s.errBoot[r] = share(nc, weighted(ct.errors, dc.weights)) - share(nb, weighted(bt.errors, db.weights));
      }
    }
  }

  /**
   * The route rows the run-wide shift is taken over at percentile `i`: every
   * route judged there, or null with fewer than three.
   */
  private shiftRoutes(i: number): RowStats[] | null {
    const judged = this.routes().filter((r) => r.judged[i]);
    return judged.length >= 3 ? judged : null;
  }

  /**
   * The routes a row's own change is measured against at percentile `i`:
   * the shift's routes less the row's own route when at least three others
   * remain, else all of them. A median that includes the row's route is
   * pulled toward it (with three routes, one 10% slower makes the median the
   * larger of the other two, and its own change comes out short by about
   * half a route's noise), so it is left out where the median of the others
   * is still robust. A median of two is their mean, moved by half of either
   * one's change: with three routes, leaving the row out would push half of
   * a slowed route's change onto the routes beside it.
   */
  private othersOf(route: string | null, i: number): RowStats[] | null {
    const all = this.shiftRoutes(i);
    if (all === null || route === null) return all;
    const others = all.filter((r) => r.input.route !== route);
    return others.length >= 3 ? others : all;
  }

  private diffRow(s: RowStats): DiffRow {
    const { input, base, cand } = s;
    const missing = !base || !cand ? (base ? 'only in the baseline' : 'only in the candidate') : null;
    const tooShort =
      this.fewBlocks < MIN_JUDGED_BLOCKS ? `fewer than ${MIN_JUDGED_BLOCKS} time blocks with traffic (a run too short to judge)` : null;
    const deltas = {} as DiffRow['deltas'];
    LATENCY.forEach((p, i) => {
      const b = base?.percentiles[p];
      const c = cand?.percentiles[p];
      const note = missing ?? (!s.judged[i] ? tooFew(p, base, cand) : tooShort);
      if (note !== null || !b || !c || b.us === null || c.us === null) {
        deltas[p] = insufficient(b?.us ?? null, c?.us ?? null, note ?? 'not judged');
        return;
      }
      deltas[p] = this.latencyDelta(s, i, b.us, c.us);
    });
    deltas.errors = this.errorDelta(s, missing ?? tooShort);
    return { key: input.key, label: input.label, route: input.route, cohort: input.cohort, base, cand, deltas };
  }

  private latencyDelta(s: RowStats, i: number, baseUs: number, candUs: number): Delta {
    const total = s.point[i]!;
    const totalBoot = quantileInterval(Float64Array.from(s.boot[i]!), this.opts.confidence, s.bucketPoint[i]!);
    const totalSpread = this.mode === 'set' ? spreadOf(s.levels[i]!) : null;
    const [tlo, thi] = this.interval(total, totalBoot, 'shared', i, totalSpread);
    const delta: Delta = {
      base: baseUs,
      cand: candUs,
      abs: candUs - baseUs,
      relPct: pct(total),
      ci: [baseUs * Math.expm1(tlo), baseUs * Math.expm1(thi)],
      ciPct: [pct(tlo), pct(thi)],
      significant: false,
      clearsFloors: false,
      verdict: 'unchanged',
      judged: 'total',
      own: null,
    };
    let judged = { x: total, lo: tlo, hi: thi };
    const overall = s.input.route === null && Object.keys(s.input.cohort).length === 0;
    const others = overall ? null : this.othersOf(s.input.route, i);
    if (others !== null) {
      const own = total - median(others.map((r) => r.point[i]!));
      const ownBoot = quantileInterval(this.medianBoot(others, i, s), this.opts.confidence, s.bucketPoint[i]! - median(others.map((r) => r.bucketPoint[i]!)));
      const [olo, ohi] = this.interval(own, ownBoot, 'own', i, this.mode === 'set' ? this.ownSpread(s, i, others) : null);
      delta.own = { relPct: pct(own), ci: [pct(olo), pct(ohi)] };
      if (this.shiftAt(i)?.attributed) {
        delta.judged = 'own';
        judged = { x: own, lo: olo, hi: ohi };
      }
    }
    const { x, lo, hi } = judged;
    delta.significant = (x > 0 && lo > 0) || (x < 0 && hi < 0);
    // The whole interval must clear the floors, not just the point: "with 95%
    // confidence the change is larger than both floors".
    const near = x > 0 ? lo : hi;
    const nearUs = Math.abs(baseUs * Math.expm1(near));
    delta.clearsFloors = delta.significant && nearUs >= this.opts.minAbsUs && Math.abs(pct(near)) >= this.opts.minRelPct;
    delta.verdict = delta.significant && delta.clearsFloors ? (x > 0 ? 'regression' : 'improvement') : 'unchanged';
    return delta;
  }

  /**
   * A log-scale interval around `point`: the bootstrap's (within-run noise,
   * widened when a run has few blocks), then the noise between runs — for a
   * baseline set, a prediction interval for one more run from the set's
   * `spread` (whichever is wider); for one baseline, the assumed figure
   * added to the bootstrap's; for a paired replay nothing, since its two
   * runs share their environment.
   */
  private interval(point: number, boot: BootInterval, kind: 'shared' | 'own', i: number, spread: Spread | null): [number, number] {
    const w = widening(this.fewBlocks, this.opts.confidence);
    let hl = Math.max(0, boot.point - boot.lo) * w;
    let hu = Math.max(0, boot.hi - boot.point) * w;
    const p = 1 - (1 - this.opts.confidence) / 2;
    if (this.mode === 'set' && spread !== null && spread.df >= 1) {
      const k = this.input.baselines.length;
      const hw = tQuantile(p, spread.df) * Math.sqrt(spread.variance * (1 + 1 / k));
      hl = Math.max(hl, hw);
      hu = Math.max(hu, hw);
    } else if (this.mode !== 'paired') {
      const between = normalQuantile(p) * ASSUMED_RUN_NOISE[kind][LATENCY[i]!] * Math.SQRT2;
      hl = Math.hypot(hl, between);
      hu = Math.hypot(hu, between);
    }
    return [point - hl, point + hu];
  }

  /** Each baseline run's shift: the median over `rows` of their level in that run less their mean level over the set. */
  private runShifts(rows: RowStats[], i: number): number[] {
    const k = this.input.baselines.length;
    const means = rows.map((r) => meanFinite(r.levels[i]!));
    return Array.from({ length: k }, (_, run) => median(rows.map((r, j) => r.levels[i]![run]! - means[j]!).filter((v) => Number.isFinite(v))));
  }

  /** A row's own level in each baseline run: its level less that run's shift over `others`. */
  private ownLevels(s: RowStats, i: number, others: RowStats[]): number[] {
    const shifts = this.runShifts(others, i);
    return s.levels[i]!.map((y, run) => y - shifts[run]!);
  }

  /**
   * The spread of a row's own change over the baseline set, pooled over the
   * routes: with three baseline runs one row's own spread rests on two
   * degrees of freedom and can come out near zero by luck, while the routes
   * together give it several. A row's own spread is used only when no route
   * can be pooled.
   */
  private ownSpread(s: RowStats, i: number, others: RowStats[]): Spread {
    const pooled = this.pooledOwnSpread(i);
    return pooled.df > 0 ? pooled : spreadOf(this.ownLevels(s, i, others));
  }

  private pooledCache = new Map<number, Spread>();

  private pooledOwnSpread(i: number): Spread {
    const cached = this.pooledCache.get(i);
    if (cached) return cached;
    let sum = 0;
    let df = 0;
    let routes = 0;
    for (const r of this.routes()) {
      const others = r.judged[i] ? this.othersOf(r.input.route, i) : null;
      if (others === null) continue;
      const sp = spreadOf(this.ownLevels(r, i, others));
      sum += sp.variance * sp.df;
      df += sp.df;
      if (sp.df > 0) routes++;
    }
    // Each route's own levels are measured against the others, so R routes
    // over k runs hold (k − 1)(R − 1) independent contrasts, not (k − 1)R:
    // the t quantile takes that many degrees of freedom.
    const pooled = { variance: df > 0 ? sum / df : 0, df: routes > 1 ? (df / routes) * (routes - 1) : df };
    this.pooledCache.set(i, pooled);
    return pooled;
  }

  private errorDelta(s: RowStats, note: string | null): Delta {
    const { base, cand } = s;
    if (note !== null || !base || !cand || s.baseTable === null || s.candTable === null) {
      return insufficient(base?.errorPct ?? null, cand?.errorPct ?? null, note ?? 'not judged');
    }
    // Windows carry failures and (since run.json gained `serverErrors` per
    // window) 5xx; a run written before that cannot carry the error share,
    // so its interval falls back to the two-proportion normal interval
    // (which ignores time dependence).
    const windowed = (groups: Array<MergedGroup | null>): boolean =>
      groups.every(
        (g) => !g || g.windowLists.reduce((a, list) => a + list.reduce((x, w) => x + w.errors + (w.serverErrors ?? 0), 0), 0) === g.errors + g.serverErrors,
      );
    const boot =
      windowed(s.input.base) && windowed([s.input.cand])
        ? quantileInterval(Float64Array.from(s.errBoot), this.opts.confidence, s.errPoint)
        : proportionInterval(base.failed, base.requests, cand.failed, cand.requests, this.opts.confidence);
    return judge(base.errorPct, cand.errorPct, null, boot, this.opts.minAbsErrorPts, this.opts.minRelPct);
  }
}

/** The spread of a figure over a baseline set: its sample variance and degrees of freedom. */
interface Spread {
  variance: number;
  df: number;
}

function spreadOf(levels: readonly number[]): Spread {
  const ys = levels.filter((y) => Number.isFinite(y));
  return { variance: sampleVariance(ys), df: Math.max(0, ys.length - 1) };
}

function meanFinite(xs: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const x of xs) {
    if (Number.isFinite(x)) {
      s += x;
      n++;
    }
  }
  return n > 0 ? s / n : NaN;
}

/** ln-ratio as a relative change, %. */
function pct(logRatio: number): number {
  return Math.expm1(logRatio) * 100;
}

function share(count: number, errors: number): number {
  return count > 0 ? (errors / count) * 100 : 0;
}

function insufficient(base: number | null, cand: number | null, note: string): Delta {
  const abs = base !== null && cand !== null ? cand - base : null;
  const relPct = abs !== null && base !== null && base !== 0 ? (abs / base) * 100 : null;
  return { base, cand, abs, relPct, ci: null, significant: false, clearsFloors: false, verdict: 'insufficient', note };
}

function tooFew(p: Lat, base: RowSummary | null, cand: RowSummary | null): string {
  const n = Math.min(base?.requests ?? 0, cand?.requests ?? 0);
  return `too few samples for ${p.toUpperCase()} (n=${n})`;
}

/**
 * The verdict on a delta judged on its absolute scale (the error share): a
 * regression or improvement when the interval excludes zero and its near end
 * is past both the absolute and the relative floor. The interval is shifted
 * by (exact delta − bucketed delta) so that it sits around the exact figure.
 */
export function judge(
  base: number | null,
  cand: number | null,
  note: string | null,
  boot: BootInterval | null,
  minAbs: number,
  minRelPct: number,
): Delta {
  const abs = base !== null && cand !== null ? cand - base : null;
  const relPct = abs !== null && base !== null && base !== 0 ? (abs / base) * 100 : null;
  if (abs === null || note !== null || boot === null) {
    return { base, cand, abs, relPct, ci: null, significant: false, clearsFloors: false, verdict: 'insufficient', ...(note ? { note } : {}) };
  }
  const shift = abs - boot.point;
  const ci: [number, number] = [boot.lo + shift, boot.hi + shift];
  const significant = (abs > 0 && ci[0] > 0) || (abs < 0 && ci[1] < 0);
  const near = abs > 0 ? ci[0] : -ci[1];
  const clearsFloors = near >= minAbs && (base === 0 || (near / Math.abs(base!)) * 100 >= minRelPct);
  const verdict = significant && clearsFloors ? (abs > 0 ? 'regression' : 'improvement') : 'unchanged';
  return { base, cand, abs, relPct, ci, significant, clearsFloors, verdict };
}

/** Normal-approximation interval of the difference of two shares, in % points. */
export function proportionInterval(failedB: number, nB: number, failedC: number, nC: number, confidence: number): BootInterval {
  const pb = nB > 0 ? failedB / nB : 0;
  const pc = nC > 0 ? failedC / nC : 0;
  const se = Math.sqrt((nB > 0 ? (pb * (1 - pb)) / nB : 0) + (nC > 0 ? (pc * (1 - pc)) / nC : 0));
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const d = (pc - pb) * 100;
  return { point: d, lo: d - z * se * 100, hi: d + z * se * 100 };
}
