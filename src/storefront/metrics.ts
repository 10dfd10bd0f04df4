/**
 * A tiny Prometheus registry: counters, gauges (set or computed at scrape
 * time) and histograms with fixed buckets, rendered in the text exposition
 * format (version 0.0.4).
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

function fmt(n: number): string {
  if (n === Infinity) return '+Inf';
  return Number.isInteger(n) ? String(n) : String(+n.toPrecision(10));
}

interface Metric {
  render(lines: string[]): void;
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  /** Adds `by` (default 1) to the series with `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  /** Current value of one series (0 if never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${fmt(v)}`);
  }
}

/** A value that goes up and down; `collect` (if given) is read at scrape time. */
export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, private readonly collect?: () => Array<[Labels, number]>) {}
  /** Sets the series with `labels`. */
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`);
    const all = new Map(this.values);
    for (const [labels, v] of this.collect?.() ?? []) all.set(labelKey(labels), v);
    for (const [k, v] of all) lines.push(`${this.name}${k ? `{${k}}` : ''} ${fmt(v)}`);
  }
}

/** A cumulative histogram per label set, with fixed upper bounds. */
export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[]) {}
  /** Records one observation (in the metric's unit, e.g. seconds). */
  observe(value: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }
  /** Observations recorded in one series. */
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${fmt(b)}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${fmt(s.sum)}`, `${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
  }
}

/** Holds metrics in registration order and renders them. */
export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  /** Registers and returns `metric`. */
  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  /** The whole exposition text. */
  render(): string {
    const lines: string[] = [];
    for (const m of this.metrics) m.render(lines);
    return lines.join('\n') + '\n';
  }
}
