import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError, messageOf } from '../model/errors.js';
import { RUN_RESULT_FORMAT, RUN_RESULT_VERSION, type RunResult } from '../model/run-result.js';

/**
 * Writes a run.json atomically (temp file, then rename), creating the
 * directory. Throws {@link InputError} when the path cannot be written.
 */
export function writeRunResult(path: string, result: RunResult): void {
  // A random suffix: two writers (threads or processes) never share a temp file.
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, stringifyRun(result));
    renameSync(tmp, path);
  } catch (e) {
    throw new InputError(`Failed to write run result ${path}: ${messageOf(e)}`, { cause: e });
  }
}

/**
 * run.json text: indented for people, but arrays of numbers (window latency
 * buckets) kept on one line so a long run stays readable and small.
 */
export function stringifyRun(result: RunResult): string {
  return JSON.stringify(result, null, 2).replace(/\[[\d,\s\-[\]]*\]/g, (m) => m.replace(/\s+/g, '')) + '\n';
}

/**
 * Reads and checks a run.json. Throws {@link InputError} naming the file when
 * it is missing, not JSON, not a flashback run, or of a newer format version.
 */
export function readRunResult(path: string): RunResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`Failed to read run result ${path}: ${messageOf(e)}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`Failed to read run result ${path}: not JSON (${messageOf(e)})`, { cause: e });
  }
  const r = doc as Partial<RunResult> | null;
  if (!r || typeof r !== 'object' || r.format !== RUN_RESULT_FORMAT) {
    throw new InputError(`Failed to read run result ${path}: not a flashback run (no "format": "${RUN_RESULT_FORMAT}")`);
  }
  if (typeof r.version !== 'number' || r.version > RUN_RESULT_VERSION) {
    throw new InputError(
      `Failed to read run result ${path}: format version ${String(r.version)} is newer than this flashback reads (${RUN_RESULT_VERSION})`,
      { hint: 'upgrade flashback' },
    );
  }
  if (!Array.isArray(r.segments) || !r.totals || !r.plan || !r.recording) {
    throw new InputError(`Failed to read run result ${path}: missing segments, totals, plan or recording`);
  }
  return r as RunResult;
}
