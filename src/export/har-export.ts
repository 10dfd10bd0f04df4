import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import type { Content, Cookie, Entry, Har, Header, PostData, QueryString, Request, Response } from 'har-format';
import { FlashbackError, InputError, messageOf } from '../model/errors.js';
import { headerValue, type Exchange, type HeaderList } from '../model/exchange.js';
import type { RecordingReader } from '../store/recording-reader.js';
import { bodyAsText, decodeBody } from './body-text.js';

/**
 * A HAR response as flashback writes it: `_error` says why there is no
 * response (Chromium's name for it; `import har` reads it back).
 */
export type HarResponse = Response & { _error?: string };

/**
 * A HAR 1.2 entry as flashback writes it, with its own fields that let
 * `import har` restore sessions, µs start times and error kinds exactly.
 */
export interface HarEntry extends Entry {
  response: HarResponse;
  _flashbackSession: string;
  _flashbackStartUs: number;
  _flashbackError?: Exchange['error'];
  _flashbackErrorDetail?: Exchange['errorDetail'];
}

function nameValues(headers: HeaderList): Header[] {
  return headers.map(([name, value]) => ({ name, value }));
}

function cookiesOf(header: string | undefined): Cookie[] {
  if (!header) return [];
  return header.split(';').flatMap((part) => {
    const eq = part.indexOf('=');
    return eq > 0 ? [{ name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() }] : [];
  });
}

function queryOf(target: string): QueryString[] {
  const q = target.indexOf('?');
  if (q < 0) return [];
  return [...new URLSearchParams(target.slice(q + 1))].map(([name, value]) => ({ name, value }));
}

/**
 * One exchange as a HAR 1.2 entry. `startUs` is absolute (µs since the
 * epoch). Bodies are decoded (`content-encoding` undone) and given as text,
 * or base64 when binary (`content.encoding: "base64"`; a request body, whose
 * HAR `postData` has no `encoding`, says `_encoding: "base64"`). flashback's own fields
 * (`_flashbackSession`, `_flashbackStartUs`, `_flashbackError…`) let
 * `import har` restore sessions, µs start times and error kinds exactly;
 * other tools ignore them.
 */
export function harEntryOf(ex: Exchange, startUs: number, defaultHost: string): HarEntry {
  const host = ex.host ?? defaultHost;
  const reqType = headerValue(ex.requestHeaders, 'content-type');
  const resType = headerValue(ex.responseHeaders, 'content-type');
  const request: Request = {
    method: ex.method,
    url: `${ex.scheme}://${host}${ex.target.startsWith('/') ? '' : '/'}${ex.target}`,
    httpVersion: 'HTTP/1.1',
    cookies: cookiesOf(headerValue(ex.requestHeaders, 'cookie')),
    headers: nameValues(ex.requestHeaders),
    queryString: queryOf(ex.target),
    headersSize: -1,
    bodySize: ex.requestBodyBytes,
  };
  if (ex.requestBody && ex.requestBody.length > 0) {
    const b = bodyAsText(ex.requestBody, reqType);
    // HAR 1.2 has `encoding` on response content only: a binary request body says so in a custom field
    // (`import har` reads `_encoding`; other tools see base64 text).
    const postData: PostData & { _encoding?: 'base64' } = { mimeType: reqType ?? '', text: b.text, ...(b.base64 ? { _encoding: 'base64' } : {}) };
    request.postData = postData;
  }
  const content: Content = { size: ex.responseBodyBytes, mimeType: resType ?? 'x-unknown' };
  if (ex.responseBody && ex.responseBody.length > 0) {
    const decoded = decodeBody(ex.responseBody, ex.responseEncoding);
    const b = bodyAsText(decoded, resType);
    content.size = decoded.length;
    content.text = b.text;
    if (b.base64) content.encoding = 'base64';
  }
  const failed = ex.status === null;
  const response: HarResponse = {
    status: ex.status ?? 0,
    statusText: '',
    httpVersion: failed ? '' : 'HTTP/1.1',
    cookies: [],
    headers: nameValues(ex.responseHeaders),
    content,
    redirectURL: headerValue(ex.responseHeaders, 'location') ?? '',
    headersSize: -1,
    bodySize: ex.responseBodyBytes,
  };
  if (failed) response._error = ex.errorDetail ?? ex.error ?? 'no response';
  const timeMs = ex.durationUs / 1000;
  return {
    startedDateTime: new Date(Math.floor(startUs / 1000)).toISOString(),
    time: timeMs,
    request,
    response,
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: timeMs, receive: 0 },
    _flashbackSession: ex.sessionKey,
    _flashbackStartUs: startUs,
    ...(failed ? { _flashbackError: ex.error, _flashbackErrorDetail: ex.errorDetail } : {}),
  };
}

/**
 * Writes a recording as a HAR 1.2 file (importable by Chrome/Firefox
 * devtools and HAR viewers), streamed entry by entry in start order. Start
 * times are the recording's creation time plus each offset. Writes
 * `<out>.partial` and renames it when complete. Throws {@link InputError}
 * when `outPath` cannot be written, or the recording's own InputError when
 * it turns out damaged half-way; either way the partial file is removed.
 */
export async function exportHar(reader: RecordingReader, outPath: string, toolVersion: string): Promise<{ entries: number }> {
  const meta = reader.meta();
  const created = Date.parse(meta.createdAt);
  const baseUs = (Number.isNaN(created) ? 0 : created) * 1000;
  const defaultHost = meta.upstream ? new URL(meta.upstream).host : 'localhost';
  const partial = `${outPath}.partial`;
  const ws = createWriteStream(partial);
  const failed = new Promise<never>((_, reject) => ws.once('error', reject));
  failed.catch(() => undefined);
  const write = async (text: string): Promise<void> => {
    if (!ws.write(text)) await Promise.race([once(ws, 'drain'), failed]);
  };
  const skeleton: Har = {
    log: {
      version: '1.2',
      creator: { name: 'flashback', version: toolVersion },
      comment: `exported from ${reader.path} (${meta.source})`,
      pages: [],
      entries: [],
    },
  };
  let entries = 0;
  try {
    // The empty document ends `"entries":[]}}`: entries are streamed between its `[` and `]}}`.
    const empty = JSON.stringify(skeleton);
    await write(empty.slice(0, empty.lastIndexOf('[]}}') + 1) + '\n');
    for (const ex of reader.exchanges({ withBodies: true })) {
      await write((entries > 0 ? ',\n' : '') + JSON.stringify(harEntryOf(ex, baseUs + ex.startOffsetUs, defaultHost)));
      entries++;
    }
    await write('\n]}}\n');
    await Promise.race([new Promise<void>((resolve) => ws.end(resolve)), failed]);
    renameSync(partial, outPath);
  } catch (e) {
    // The file is opened asynchronously: wait until the stream has closed it, or the
    // partial file could be created after it was removed.
    await new Promise<void>((resolve) => {
      if (ws.closed) resolve();
      else ws.once('close', () => resolve()).destroy();
    });
    rmSync(partial, { force: true });
    // A recording found damaged half-way is the reader's InputError, naming the recording.
    if (e instanceof FlashbackError) throw e;
    throw new InputError(`Failed to write HAR file ${outPath}: ${messageOf(e)}`, { cause: e });
  }
  return { entries };
}
