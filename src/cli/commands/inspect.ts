import type { Command } from 'commander';
import Table from 'cli-table3';
import { formatBytes, formatUs, parsePositiveInt } from '../../model/units.js';
import { RecordingReader } from '../../store/recording-reader.js';
import type { RecordingSummary, SessionRuleSummary, StatusClass } from '../../store/recording-summary.js';
import { colour, out, tableStyle } from '../output.js';

/** Version of the `inspect --json` document (see docs/inspect.md); bump on incompatible change. */
export const INSPECT_JSON_VERSION = 1;

const CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'err'];

/** Registers `flashback inspect <file.db> [--json]`. */
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what a recording holds: format, source, time span, routes, cohorts, bytes, failures')
    .argument('<file.db>', 'recording to inspect')
    .option('--json', 'print a JSON document instead of tables (shape in docs/inspect.md); always complete')
    .option('--top <n>', 'rows per table (routes, cohorts); "all" for every row', '20')
    .action((file: string, opts: { json?: boolean; top: string }) => {
      const top = opts.top === 'all' ? Infinity : parsePositiveInt(opts.top, '--top');
      const reader = RecordingReader.open(file);
      let summary: RecordingSummary;
      try {
        summary = reader.summary();
      } finally {
        reader.close();
      }
      if (opts.json) out(JSON.stringify({ inspect: INSPECT_JSON_VERSION, ...summary }, null, 2));
      else for (const line of renderInspect(summary, top)) out(line);
    });
}

function statusMix(status: Record<StatusClass, number>): string {
  const parts = CLASSES.filter((c) => status[c] > 0).map((c) => `${c === 'err' ? 'failed' : c} ${status[c]}`);
  return parts.length ? parts.join(' · ') : '-';
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

/** How one keying rule reads: `by cookie \`sid\` (request cookie)`. */
function rulePhrase(rule: string | null): string {
  if (rule === null) return 'keyed by a rule not recorded';
  const colon = rule.indexOf(':');
  const kind = colon < 0 ? rule : rule.slice(0, colon);
  const name = colon < 0 ? '' : rule.slice(colon + 1);
  switch (kind) {
    case 'cookie-request':
      return `by cookie \`${name}\` (request cookie, set before the capture began)`;
    case 'cookie-set':
      return `by cookie \`${name}\` (set by the server)`;
    case 'header':
      return `by header \`${name}\``;
    case 'auth':
      return 'by auth token';
    case 'client':
      return 'by client address and user agent';
    case 'file':
      return "by the imported file's session keys";
    default:
      return `by ${rule}`;
  }
}

/**
 * The `Sessions` line: which rule keyed the sessions, with counts when
 * several did (`412 sessions by cookie \`sid\` (request cookie…), 3 one-request sessions`).
 */
export function describeSessionRules(rules: SessionRuleSummary[] | null, total: number): string {
  if (rules === null) return 'how sessions were keyed was not recorded (a recording from before flashback stored it)';
  if (rules.length === 0) return '-';
  const one = (r: SessionRuleSummary): string =>
    r.rule === 'request' ? `${r.sessions} one-request sessions` : `${r.sessions} sessions ${rulePhrase(r.rule)}`;
  if (rules.length === 1) {
    const r = rules[0]!;
    return r.rule === 'request' ? `one session per request (${total})` : `all ${total} ${rulePhrase(r.rule)}`;
  }
  return rules.map(one).join(', ');
}

/** The terminal rendering of a summary: a header block, then the route and cohort tables (`top` rows each). */
export function renderInspect(s: RecordingSummary, top = Infinity): string[] {
  const m = s.meta;
  const label = (t: string): string => colour.bold(t.padEnd(11));
  const lines = [
    `${label('Recording')}${s.path} (${formatBytes(s.fileBytes)})`,
    `${label('Format')}${m.format} v${m.schemaVersion}, written by flashback ${m.toolVersion} at ${m.createdAt}`,
    `${label('Source')}${m.source}${m.upstream ? `, upstream ${m.upstream}` : ''}, ${m.redacted ? 'secrets redacted' : colour.yellow('NOT redacted')}`,
    `${label('Time span')}${
      s.exchanges === 0
        ? '- (no exchanges)'
        : `${formatUs(s.span.firstOffsetUs)} → ${formatUs(s.span.lastOffsetUs)} (${formatUs(s.span.durationUs)})`
    }`,
    `${label('Traffic')}${s.exchanges} exchanges in ${s.sessions} sessions`,
    `${label('Sessions')}${describeSessionRules(s.sessionRules, s.sessions)}`,
    `${label('Status')}${statusMix(s.status)}`,
    `${label('Bodies')}requests ${formatBytes(s.bytes.requestBodies)} (stored ${formatBytes(s.bytes.storedRequestBodies)}), ` +
      `responses ${formatBytes(s.bytes.responseBodies)} (stored ${formatBytes(s.bytes.storedResponseBodies)})`,
    `${label('Truncated')}${s.truncated.requests} request bodies, ${s.truncated.responses} response bodies`,
    `${label('Failed')}${s.failed.total}${
      s.failed.total ? ` (${Object.entries(s.failed.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''
    }`,
  ];
  const notes = { ...(m.notes ?? {}) };
  // What `record` left out (--sample, limits, a writer that fell behind or failed) gets its own lines.
  if (notes['record.sample'] !== undefined) {
    lines.push(`${label('Sampled')}${notes['record.sample']}; left out ${notes['record.sampled-out'] ?? 'an unknown number of exchanges'}`);
  }
  if (notes['record.not-recorded'] !== undefined) lines.push(`${label('Unrecorded')}${notes['record.not-recorded']}`);
  if (notes['record.stopped'] !== undefined) lines.push(`${label('Stopped')}recording stopped early: ${notes['record.stopped']}`);
  for (const k of ['record.sample', 'record.sampled-out', 'record.not-recorded', 'record.stopped']) delete notes[k];
  for (const [k, v] of Object.entries(notes)) lines.push(`${label('Note')}${k}: ${v}`);
  if (s.routes.length > 0) {
    // Only the status classes the recording has (2xx always), to keep the table narrow.
    const classes = CLASSES.filter((c) => c === '2xx' || s.status[c] > 0);
    const routes = new Table({
      head: ['route', 'exchanges', ...classes.map((c) => (c === 'err' ? 'failed' : c)), 'truncated', 'p50', 'p95', 'max', 'resp bytes'],
      style: { ...tableStyle(), compact: true },
      colAligns: ['left', ...Array<'right'>(classes.length + 6).fill('right')],
    });
    for (const r of s.routes.slice(0, top)) {
      routes.push([
        r.route,
        r.exchanges,
        ...classes.map((c) => r.status[c] || ''),
        r.truncated || '',
        formatUs(r.p50DurationUs),
        formatUs(r.p95DurationUs),
        formatUs(r.maxDurationUs),
        formatBytes(r.responseBytes),
      ]);
    }
    lines.push('', routes.toString());
    if (s.routes.length > top) lines.push(`… ${s.routes.length - top} more routes (--top all, or --json)`);
  }
  if (s.cohorts.length > 0) {
    const cohorts = new Table({
      head: ['cohort', 'sessions', 'share', 'exchanges'],
      style: { ...tableStyle(), compact: true },
      colAligns: ['left', 'right', 'right', 'right'],
    });
    for (const c of s.cohorts.slice(0, top)) cohorts.push([c.key, c.sessions, pct(c.sessions, s.sessions), c.exchanges]);
    lines.push('', cohorts.toString());
    if (s.cohorts.length > top) lines.push(`… ${s.cohorts.length - top} more cohorts (--top all, or --json)`);
  }
  return lines;
}
