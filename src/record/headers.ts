import { HOP_BY_HOP, type HeaderList } from '../model/exchange.js';

/**
 * Header plumbing of the proxy. Raw header arrays are flat
 * `[name, value, name, value, ...]` lists, as node:http (`rawHeaders`, strings)
 * and undici (`onHeaders`, Buffers) give them. Values are handled as latin1
 * so the bytes go back on the wire exactly as they came.
 */

/** Request headers that must not reach the target besides the hop-by-hop ones (`host` is set to the target's). */
export const NOT_FORWARDED = new Set(['host', 'expect', 'proxy-authorization']);

/** Names listed in `Connection` header values (lower-case), which are hop-by-hop for this message. */
export function connectionNamed(raw: ReadonlyArray<string | Buffer>): Set<string> | null {
  let named: Set<string> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const rawName = raw[i]!;
    if (rawName.length !== 10) continue; // cheap test first: this runs for every header of every message
    if (rawName.toString('latin1').toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.toString('latin1').split(',')) {
      const t = token.trim().toLowerCase();
      if (t) (named ??= new Set()).add(t);
    }
  }
  return named;
}

/** The end-to-end headers of a message: hop-by-hop ones and those named in `Connection` removed. */
export interface SplitHeaders {
  /** What gets recorded: lower-case names, in order, duplicates kept. */
  list: HeaderList;
  /** What gets sent on: flat `[name, value, ...]` with original name case. */
  flat: string[];
}

/**
 * Splits raw headers into the recorded list and the flat list to send on.
 * `drop` names (lower-case) are left out of `flat` only (still recorded).
 */
export function endToEndHeaders(raw: ReadonlyArray<string | Buffer>, drop: ReadonlySet<string> | null): SplitHeaders {
  const named = connectionNamed(raw);
  const list: HeaderList = [];
  const flat: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    const value = raw[i + 1]!.toString('latin1');
    list.push([lower, value]);
    if (drop === null || !drop.has(lower)) flat.push(name, value);
  }
  return { list, flat };
}

/** {@link endToEndHeaders} for a client request: also keeps `host`, `expect` and `proxy-authorization` from the target. */
export function requestHeaders(raw: ReadonlyArray<string>): SplitHeaders {
  return endToEndHeaders(raw, NOT_FORWARDED);
}

/** {@link endToEndHeaders} for an upstream response. */
export function responseHeaders(raw: ReadonlyArray<Buffer | string>): SplitHeaders {
  return endToEndHeaders(raw, null);
}

/** True when a request declares a body (`content-length` > 0 or any `transfer-encoding`). */
export function requestHasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const len = headers['content-length'];
  return len !== undefined && len !== '0';
}
