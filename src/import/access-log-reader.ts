import { createInterface } from 'node:readline';
import { InputError, UsageError } from '../model/errors.js';
import { normalizeHeaders } from './headers.js';
import { LogLineError, parseCombinedLine, type LogRecord } from './access-log-line.js';
import { parseJsonLine } from './access-log-json.js';
import { openInput } from './open-input.js';
import type { ImportStats, RawExchange } from './raw-exchange.js';

/** Access-log formats `import log` understands. */
export type LogFormat = 'combined' | 'json';

/** Parses `--format`; {@link UsageError} on anything else. */
export function parseLogFormat(text: string): LogFormat {
  if (text === 'combined' || text === 'json') return text;
  throw new UsageError(`--format must be combined or json (got "${text}")`);
}

/** Methods an access log can be replayed with: no bodies were logged. */
const REPLAYABLE = new Set(['GET', 'HEAD']);

/**
 * Reads an nginx/Apache combined log or a JSON-lines access log (gzipped or
 * not; format from `format`, else guessed from the first non-empty line).
 * Logs carry no bodies, so only GET and HEAD are kept; other methods are
 * skipped and counted per method. A line that cannot be parsed throws
 * {@link InputError} naming its line number, unless `skipBad` (then it is
 * counted as `bad line`).
 */
export async function* readAccessLog(
  path: string,
  options: { format?: LogFormat; skipBad: boolean },
  stats: ImportStats,
): AsyncGenerator<RawExchange> {
  const stream = openInput(path, 'access log');
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let format = options.format;
  let lineNo = 0;
  let parsedAny = false;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      format ??= line.trimStart().startsWith('{') ? 'json' : 'combined';
      let rec: LogRecord | null;
      try {
        rec = format === 'json' ? parseJsonLine(line) : parseCombinedLine(line);
      } catch (e) {
        if (!(e instanceof LogLineError)) throw e;
        if (options.skipBad) {
          stats.skip('bad line');
          continue;
        }
        throw new InputError(`Failed to read access log ${path}: line ${lineNo}: ${e.message} (${format} format)`, {
          hint: 'pass --skip-bad to skip and count unparseable lines, or --format to pick the other format',
        });
      }
      parsedAny = true;
      if (!rec) {
        stats.skip('not an HTTP request line');
        continue;
      }
      if (!REPLAYABLE.has(rec.method)) {
        stats.skip(`${rec.method} (logs carry no bodies)`);
        continue;
      }
      yield toRaw(rec);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  if (!parsedAny && lineNo > 0 && !options.skipBad) {
    throw new InputError(`Failed to read access log ${path}: no line could be parsed`);
  }
  stats.notes.push('access logs carry no request or response bodies: only GET and HEAD requests were imported');
}

function toRaw(rec: LogRecord): RawExchange {
  let target = rec.target;
  let host = rec.host;
  let scheme: 'http' | 'https' = 'http';
  if (/^https?:\/\//i.test(target)) {
    const u = new URL(target);
    target = u.pathname + u.search;
    host ??= u.host;
    scheme = u.protocol === 'https:' ? 'https' : 'http';
  }
  return {
    startUs: rec.startUs,
    durationUs: rec.durationUs,
    method: rec.method,
    target,
    host,
    scheme,
    clientAddress: rec.clientAddress,
    requestHeaders: normalizeHeaders(rec.headers),
    requestBody: null,
    status: rec.status,
    responseHeaders: [],
    responseBody: null,
    responseEncoding: null,
    mimeType: null,
    error: null,
    errorDetail: null,
  };
}
