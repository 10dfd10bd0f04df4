import { existsSync, rmSync } from 'node:fs';
import picomatch from 'picomatch';
import { InputError } from '../model/errors.js';
import type { Exchange } from '../model/exchange.js';
import { CohortClassifier, type CohortRule } from '../segment/cohort.js';
import { RouteMatcher } from '../segment/route-template.js';
import { Sessionizer, type SessionKeyRule } from '../segment/session-key.js';
import { RecordingWriter } from '../store/recording-writer.js';
import { loadOrCreateRedactionKey, Redactor } from '../store/redact.js';
import { ReorderBuffer } from './reorder-buffer.js';
import type { ImportStats, RawExchange } from './raw-exchange.js';
import { isStaticAsset } from './static-asset.js';

/** Default cap on each stored body, as `record` has it. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Exchanges held to put a nearly-sorted file back in start order. */
const REORDER_CAPACITY = 2048;
/** Queued-but-unwritten exchanges above which the import waits for the writer. */
const MAX_BACKLOG = 4096;

/** How an import turns parsed exchanges into a recording. */
export interface ImportOptions {
  /** The recording to create. */
  outPath: string;
  /** `import:har`, `import:gor`, `import:log`. */
  source: string;
  toolVersion: string;
  sessionKey: SessionKeyRule;
  /** Redact secrets with the recording's key (`<out>.key`); false is `--no-redact`. */
  redact: boolean;
  /** Keep images, fonts, stylesheets, scripts (skipped by default). */
  includeStatic: boolean;
  /** Host globs to keep (`--filter-host`), or null for all. */
  filterHosts: string[] | null;
  maxBodyBytes: number;
  /** Route templates that take precedence (a scenario's `routes`). */
  routes?: string[];
  /** Cohort rules (a scenario's `cohorts`). */
  cohorts?: CohortRule[];
  /** Replace an existing recording at `outPath`. */
  overwrite?: boolean;
  /**
   * Use a session key the file carries (flashback's own HAR export) instead of
   * the session rule. Default true; the CLI turns it off when `--session-key` is given.
   */
  keepFileSessions?: boolean;
  /** Called every few thousand requests read, with what was taken and skipped so far. */
  onProgress?: (taken: number, skipped: number) => void;
}

/** Requests read between two `onProgress` calls. */
const PROGRESS_EVERY = 5000;

/** What an import did. */
export interface ImportSummary {
  outPath: string;
  exchanges: number;
  sessions: number;
  /** Skipped counts by reason. */
  skipped: Record<string, number>;
  notes: string[];
  /** First and last request start, µs since the epoch. */
  firstStartUs: number;
  lastStartUs: number;
}

function capBody(body: Uint8Array | null, max: number): { body: Uint8Array | null; bytes: number; truncated: boolean } {
  if (!body || body.length === 0) return { body: null, bytes: 0, truncated: false };
  if (body.length <= max) return { body, bytes: body.length, truncated: false };
  return { body: body.subarray(0, max), bytes: body.length, truncated: true };
}

/**
 * Writes the exchanges an importer parsed into a new recording, with the
 * same segmentation and redaction as `record`: sessions from the
 * {@link Sessionizer} (values tokenized by the recording's redaction key),
 * routes from the {@link RouteMatcher}, cohorts from the
 * {@link CohortClassifier}, secrets redacted by the writer. Exchanges are put
 * back in start order through a bounded buffer; offsets count from the first
 * request. Filters (`filterHosts`, static assets) count what they skip in
 * `stats`.
 *
 * Never leaves a half-valid file: on any error (a parser's
 * {@link InputError} included) the writer is aborted and a redaction key
 * this import created is removed; an import that keeps nothing is an
 * {@link InputError} too.
 */
export async function importExchanges(
  items: AsyncIterable<RawExchange>,
  stats: ImportStats,
  options: ImportOptions,
): Promise<ImportSummary> {
  if (!options.overwrite && existsSync(options.outPath)) {
    // Fail before reading a possibly huge input; the writer checks again when it creates the file.
    throw new InputError(`Failed to create recording ${options.outPath}: the file already exists`, {
      hint: 'choose another file name, or pass --force to replace it',
    });
  }
  const keyPath = `${options.outPath}.key`;
  const keyExisted = existsSync(keyPath);
  const hostMatch = options.filterHosts && options.filterHosts.length > 0 ? picomatch(options.filterHosts, { nocase: true }) : null;
  const routes = new RouteMatcher(options.routes);
  const cohorts = new CohortClassifier(options.cohorts);
  let writer: RecordingWriter | null = null;
  let sessionizer: Sessionizer | null = null;
  let baseUs = NaN;
  let firstUs = NaN;
  let lastUs = NaN;
  let late = 0;

  const open = async (first: RawExchange): Promise<RecordingWriter> => {
    const redactor = options.redact ? new Redactor(loadOrCreateRedactionKey(options.outPath)) : null;
    sessionizer = new Sessionizer(options.sessionKey, redactor ? (v) => redactor.token(v) : null);
    const upstream = first.host ? `${first.scheme}://${first.host}` : null;
    return RecordingWriter.create(
      options.outPath,
      { source: options.source, upstream, toolVersion: options.toolVersion, redacted: options.redact },
      { redactor, overwrite: options.overwrite ?? false },
    );
  };

  const take = async (raw: RawExchange): Promise<void> => {
    writer ??= await open(raw);
    if (Number.isNaN(baseUs)) baseUs = raw.startUs;
    let offsetUs = raw.startUs - baseUs;
    if (offsetUs < 0) {
      late++;
      offsetUs = 0;
    }
    if (Number.isNaN(firstUs) || raw.startUs < firstUs) firstUs = raw.startUs;
    if (Number.isNaN(lastUs) || raw.startUs > lastUs) lastUs = raw.startUs;
    const assigned = sessionizer!.assign({
      clientAddress: raw.clientAddress,
      requestHeaders: raw.requestHeaders,
      responseHeaders: raw.responseHeaders,
      startOffsetUs: offsetUs,
      method: raw.method,
      target: raw.target,
      status: raw.status,
    });
    const req = capBody(raw.requestBody, options.maxBodyBytes);
    const res = capBody(raw.responseBody, options.maxBodyBytes);
    const fileKey = options.keepFileSessions !== false ? raw.sessionKey : undefined;
    const exchange: Exchange = {
      sessionKey: fileKey ?? assigned.sessionKey,
      seq: 0,
      startOffsetUs: offsetUs,
      durationUs: Math.max(0, Math.round(raw.durationUs)),
      method: raw.method,
      target: raw.target,
      host: raw.host,
      scheme: raw.scheme,
      route: routes.route(raw.method, raw.target),
      requestHeaders: raw.requestHeaders,
      requestBody: req.body,
      requestBodyBytes: req.bytes,
      requestBodyTruncated: req.truncated,
      status: raw.status,
      responseHeaders: raw.responseHeaders,
      responseBody: res.body,
      responseBodyBytes: res.bytes,
      responseBodyTruncated: res.truncated,
      responseEncoding: res.body ? raw.responseEncoding : null,
      error: raw.error,
      errorDetail: raw.errorDetail,
    };
    writer.add(exchange, cohorts.classify(raw.requestHeaders, assigned.signedIn), fileKey !== undefined ? 'file' : assigned.keyedBy);
    stats.taken++;
    if (writer.queued > MAX_BACKLOG) await writer.flush();
  };

  const buffer = new ReorderBuffer<RawExchange>(REORDER_CAPACITY, (r) => r.startUs);
  try {
    let seen = 0;
    for await (const raw of items) {
      if (options.onProgress && ++seen % PROGRESS_EVERY === 0) options.onProgress(stats.taken, stats.skippedTotal);
      if (hostMatch && !(raw.host && (hostMatch(raw.host) || hostMatch(raw.host.replace(/:\d+$/, ''))))) {
        stats.skip('other host (--filter-host)');
        continue;
      }
      if (!options.includeStatic && isStaticAsset(raw.target, raw.mimeType)) {
        stats.skip('static asset (--include-static keeps them)');
        continue;
      }
      const ready = buffer.push(raw);
      if (ready) await take(ready);
    }
    for (let r = buffer.pop(); r; r = buffer.pop()) await take(r);
    if (!writer) {
      const why = stats.skippedTotal > 0 ? `all ${stats.skippedTotal} requests were skipped (${describeSkipped(stats)})` : 'the file holds no requests';
      throw new InputError(`Nothing to import: ${why}`);
    }
    if (late > 0) stats.notes.push(`${late} exchanges started before the first one kept and were placed at offset 0`);
    const w: RecordingWriter = writer;
    w.setNotes(notesOf(stats));
    const closed = await w.close();
    return {
      outPath: options.outPath,
      exchanges: closed.exchanges,
      sessions: closed.sessions,
      skipped: stats.skippedRecord(),
      notes: [...stats.notes],
      firstStartUs: firstUs,
      lastStartUs: lastUs,
    };
  } catch (e) {
    const w = writer as RecordingWriter | null;
    if (w) await w.abort().catch(() => undefined);
    if (!keyExisted) rmSync(keyPath, { force: true });
    throw e;
  }
}

/** `static asset: 12, bad line: 1` */
export function describeSkipped(stats: ImportStats): string {
  return Object.entries(stats.skippedRecord())
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

function notesOf(stats: ImportStats): Record<string, string> {
  const notes: Record<string, string> = { taken: String(stats.taken) };
  for (const [k, v] of Object.entries(stats.skippedRecord())) notes[`skipped: ${k}`] = String(v);
  stats.notes.forEach((n, i) => (notes[`note ${i + 1}`] = n));
  return notes;
}
