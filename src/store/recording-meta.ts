import { RECORDING_SCHEMA_VERSION } from './schema.js';

/** The `format` every recording's meta carries. */
export const RECORDING_FORMAT = 'flashback.recording';

/**
 * Meta key set to `false` when the file is created and `true` by the writer's
 * `close()`: a copied or renamed `.partial` file is still refused.
 */
export const FINISHED_KEY = 'finished';

/** What a recording says about itself (the `meta` table). */
export interface RecordingMeta {
  format: typeof RECORDING_FORMAT;
  schemaVersion: number;
  /** ISO time the recording was created. */
  createdAt: string;
  /** 'record' | 'import:har' | 'import:gor' | 'import:log' | 'generated' */
  source: string;
  /** Origin the traffic went to, e.g. `http://127.0.0.1:3000`, or null when unknown. */
  upstream: string | null;
  toolVersion: string;
  /** True when secrets were replaced by `redacted:` tokens at record time. */
  redacted: boolean;
  /** Free-form notes, e.g. an importer's skipped counts. */
  notes?: Record<string, string>;
}

/** What a writer is given: everything but the fields it fills in itself. */
export type RecordingMetaInput = Omit<RecordingMeta, 'format' | 'schemaVersion' | 'createdAt'>;

/**
 * The `meta` rows of a recording: one row per field, the value JSON-encoded
 * (so `upstream` can be null and `notes` an object).
 */
export function metaRows(meta: RecordingMeta): Array<[key: string, value: string]> {
  const rows: Array<[string, string]> = [
    ['format', JSON.stringify(meta.format)],
    ['schemaVersion', JSON.stringify(meta.schemaVersion)],
    ['createdAt', JSON.stringify(meta.createdAt)],
    ['source', JSON.stringify(meta.source)],
    ['upstream', JSON.stringify(meta.upstream)],
    ['toolVersion', JSON.stringify(meta.toolVersion)],
    ['redacted', JSON.stringify(meta.redacted)],
  ];
  if (meta.notes && Object.keys(meta.notes).length > 0) rows.push(['notes', JSON.stringify(meta.notes)]);
  return rows;
}

/** Builds the full meta of a new recording from what the writer was given. */
export function newRecordingMeta(input: RecordingMetaInput, now: Date = new Date()): RecordingMeta {
  const meta: RecordingMeta = {
    format: RECORDING_FORMAT,
    schemaVersion: RECORDING_SCHEMA_VERSION,
    createdAt: now.toISOString(),
    source: input.source,
    upstream: input.upstream,
    toolVersion: input.toolVersion,
    redacted: input.redacted,
  };
  if (input.notes && Object.keys(input.notes).length > 0) meta.notes = { ...input.notes };
  return meta;
}

/**
 * Parses `meta` rows back into a {@link RecordingMeta}. Returns a string
 * naming the problem instead when the rows are not a flashback recording's.
 */
export function parseMetaRows(rows: Array<{ key: string; value: string }>): RecordingMeta | string {
  const values = new Map<string, unknown>();
  for (const { key, value } of rows) {
    try {
      values.set(key, JSON.parse(value));
    } catch {
      return `meta value "${key}" is not valid JSON`;
    }
  }
  if (values.get('format') !== RECORDING_FORMAT) return 'not a flashback recording (meta has no flashback format)';
  const str = (k: string): string | null => {
    const v = values.get(k);
    return typeof v === 'string' ? v : null;
  };
  const schemaVersion = values.get('schemaVersion');
  if (typeof schemaVersion !== 'number') return 'meta has no schemaVersion';
  const upstream = values.get('upstream');
  if (upstream !== null && upstream !== undefined && (typeof upstream !== 'string' || !URL.canParse(upstream))) return 'meta upstream is not a URL';
  const createdAt = values.get('createdAt');
  if (createdAt !== undefined && (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt)))) return 'meta createdAt is not a time';
  const notesValue = values.get('notes');
  const meta: RecordingMeta = {
    format: RECORDING_FORMAT,
    schemaVersion,
    createdAt: str('createdAt') ?? '',
    source: str('source') ?? 'unknown',
    upstream: str('upstream'),
    toolVersion: str('toolVersion') ?? 'unknown',
    redacted: values.get('redacted') === true,
  };
  if (notesValue && typeof notesValue === 'object' && !Array.isArray(notesValue)) {
    const notes: Record<string, string> = {};
    for (const [k, v] of Object.entries(notesValue as Record<string, unknown>)) notes[k] = String(v);
    meta.notes = notes;
  }
  return meta;
}

/**
 * Prefix of the meta notes that carry a replay default for a redacted
 * request-body field (`flashback record --replay-secret name=value`): the note
 * `replay.secret.password` holds what replay sends for a redacted `password`
 * field when no `--secret password=...` is given. Stored as plain text, so
 * only for public test values (the reference storefront's demo shoppers).
 */
export const REPLAY_SECRET_NOTE_PREFIX = 'replay.secret.';

/** The note key of the replay default for body field `name` (lower-cased). */
export function replaySecretNoteKey(name: string): string {
  return REPLAY_SECRET_NOTE_PREFIX + name.toLowerCase();
}

/** The replay defaults a recording carries for redacted body fields, by lower-case field name. */
export function replaySecretsOf(meta: RecordingMeta): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta.notes ?? {})) {
    const name = key.startsWith(REPLAY_SECRET_NOTE_PREFIX) ? key.slice(REPLAY_SECRET_NOTE_PREFIX.length).toLowerCase() : '';
    if (name !== '' && value !== '') secrets[name] = value;
  }
  return secrets;
}
