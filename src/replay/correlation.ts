import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Exchange, HeaderList } from '../model/exchange.js';

/** Where a live value is read from in a response. */
export type Extractor =
  | { kind: 'json'; path: Array<string | number> }
  | { kind: 'header'; name: string }
  | { kind: 'location-segment'; index: number };

/** A value a response handed out: read live from step `step`'s response into `vars[varIndex]`. */
export interface Source {
  step: number;
  varIndex: number;
  extractor: Extractor;
  /** The value the recording had. */
  recorded: string;
}

/** In a later request, `recorded` is replaced by the live value of `vars[varIndex]`. */
export interface Substitution {
  varIndex: number;
  recorded: string;
  inPath: boolean;
  /** Lower-case names of headers that carry the value. */
  inHeaders: string[];
  inBody: boolean;
  /** The recorded value as a whole token in a body, built once on first use (see request-builder). */
  bodyRe?: RegExp;
}

/** The correlation of one session: sources per step and substitutions per step. */
export interface SessionCorrelation {
  sources: Source[][];
  substitutions: Substitution[][];
  vars: number;
}

/** The shared empty list of a step with no sources or substitutions (frozen: never modified). */
const NONE = Object.freeze([]) as unknown as never[];
const MIN_LEN = 3;
const MAX_LEN = 2048;
/** How many earlier responses (that handed out values) a request is matched against. */
const MAX_SOURCES = 64;
/** Response headers that never carry a value handed to the client for later use. */
const NOT_HANDED_OUT = new Set([
  'date', 'content-length', 'content-type', 'content-encoding', 'server', 'connection', 'set-cookie',
  'cache-control', 'vary', 'expires', 'last-modified', 'keep-alive', 'age', 'via', 'accept-ranges',
  'pragma', 'x-powered-by', 'strict-transport-security', 'location', 'transfer-encoding',
]);
/** Request headers substitution never touches (cookie goes through the jar). */
const NOT_SUBSTITUTED = new Set(['cookie', 'host', 'content-length', 'user-agent', 'accept', 'accept-encoding', 'accept-language']);

function decodeBody(ex: Exchange): string | null {
  const body = ex.responseBody;
  if (!body || body.length === 0 || ex.responseBodyTruncated) return null;
  try {
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const enc = ex.responseEncoding;
    const raw = enc === 'gzip' ? gunzipSync(buf) : enc === 'br' ? brotliDecompressSync(buf) : enc === 'deflate' ? inflateSync(buf) : buf;
    return raw.toString('utf8');
  } catch {
    return null;
  }
}

function isJson(headers: HeaderList): boolean {
  for (const [k, v] of headers) if (k === 'content-type') return v.includes('json');
  return false;
}

function walkJson(value: unknown, path: Array<string | number>, out: Array<[string, Extractor]>): void {
  if (out.length > 500) return;
  if (typeof value === 'string' || typeof value === 'number') {
    const s = String(value);
    if (s.length >= MIN_LEN && s.length <= MAX_LEN) out.push([s, { kind: 'json', path: [...path] }]);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length && i < 100; i++) walkJson(value[i], [...path, i], out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) walkJson(v, [...path, k], out);
  }
}

/** Values a recorded response handed out, with how to read each from a live response. */
export function handedOutValues(ex: Exchange): Array<[string, Extractor]> {
  const out: Array<[string, Extractor]> = [];
  for (const [name, value] of ex.responseHeaders) {
    if (name === 'location') {
      const path = value.replace(/^[a-z]+:\/\/[^/]+/i, '').split('?')[0]!.split('/');
      path.forEach((seg, index) => {
        if (seg.length >= MIN_LEN) out.push([decodeURIComponent(seg), { kind: 'location-segment', index }]);
      });
    } else if (!NOT_HANDED_OUT.has(name) && value.length >= MIN_LEN && value.length <= MAX_LEN) {
      out.push([value, { kind: 'header', name }]);
    }
  }
  if (isJson(ex.responseHeaders)) {
    const text = decodeBody(ex);
    if (text !== null) {
      try {
        walkJson(JSON.parse(text), [], out);
      } catch {
        // not JSON after all: nothing handed out in the body
      }
    }
  }
  return out;
}

/** Tokens of a request target (path segments, query names and values), URL-decoded. */
export function targetTokens(target: string): string[] {
  return target.split(/[/?&=#]/).filter((t) => t !== '').map((t) => {
    try {
      return decodeURIComponent(t);
    } catch {
      return t;
    }
  });
}

const WORD_RE = /[A-Za-z0-9_\-.:+~%@]+/g;
const WORD_ONLY_RE = /^[A-Za-z0-9_\-.:+~%@]+$/;

/** True when `value` is one word of {@link wordsOf} (no separators inside). */
function isWord(value: string): boolean {
  return WORD_ONLY_RE.test(value);
}

/**
 * The words of a text: runs of id-like characters, and for a word with `:`
 * or `.` in it also its parts (`"amount":1999` gives `:1999` and `1999`;
 * `redacted:AbC` gives itself, `redacted` and `AbC`).
 */
export function wordsOf(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(WORD_RE)) {
    const w = m[0];
    out.add(w);
    if (w.includes(':') || w.includes('.')) for (const part of w.split(/[:.]/)) if (part !== '') out.add(part);
  }
  return out;
}

/** True when `needle` occurs in `hay` not glued to other word characters. */
export function containsBounded(hay: string, needle: string): boolean {
  let at = hay.indexOf(needle);
  while (at >= 0) {
    const before = at === 0 ? '' : hay[at - 1]!;
    const after = hay[at + needle.length] ?? '';
    if (!/[A-Za-z0-9_-]/.test(before) && !/[A-Za-z0-9_-]/.test(after)) return true;
    at = hay.indexOf(needle, at + 1);
  }
  return false;
}

/**
 * Finds, once per recorded session, the values that a response handed out
 * and a later request (started after that response ended) sent back in its
 * path, query, headers or body. The latest such response is the source.
 * Values the client had already sent before the response (echoes) are not
 * correlated. `exchanges` are the steps to replay, in start order.
 */
export function findCorrelations(exchanges: Exchange[]): SessionCorrelation {
  const offered: Array<Array<[string, Extractor]>> = exchanges.map((ex) => handedOutValues(ex));
  // A session whose responses handed nothing out (static pages, assets) has nothing to
  // correlate: no per-request word tables, and lists the plan can share (never modified).
  if (!offered.some((o) => o.length > 0)) {
    const none = new Array<never[]>(exchanges.length).fill(NONE);
    return { sources: none, substitutions: none, vars: 0 };
  }
  const sources: Source[][] = exchanges.map(() => []);
  const substitutions: Substitution[][] = exchanges.map(() => []);
  const sourceOf = new Map<string, Source>();
  let vars = 0;
  const firstSent = new Map<string, number>();
  // Only responses that handed something out are searched, the latest MAX_SOURCES of them.
  const givers: number[] = [];
  for (let j = 0; j < exchanges.length; j++) {
    const req = exchanges[j]!;
    const tokens = new Set(targetTokens(req.target));
    // before the first response that handed something out there is nothing to look for
    if (givers.length > 0) {
      // Where each word of this request's headers and body is, so a candidate value costs a lookup.
      const headerWords = new Map<string, string[]>();
      for (const [name, hv] of req.requestHeaders) {
        if (NOT_SUBSTITUTED.has(name)) continue;
        for (const w of wordsOf(hv).add(hv)) headerWords.set(w, [...(headerWords.get(w) ?? []), name]);
      }
      const body = req.requestBody && !req.requestBodyTruncated ? Buffer.from(req.requestBody).toString('utf8') : null;
      const bodyWords = body === null ? null : wordsOf(body);
      const found = new Map<string, Substitution>();
      // latest response first: the most recent value handed out wins
      for (let g = givers.length - 1; g >= 0 && g >= givers.length - MAX_SOURCES; g--) {
        const i = givers[g]!;
        const src = exchanges[i]!;
        if (src.startOffsetUs + src.durationUs > req.startOffsetUs) continue;
        for (const [value, extractor] of offered[i]!) {
          if (found.has(value)) continue;
          const sentAt = firstSent.get(value);
          if (sentAt !== undefined && sentAt <= i) continue;
          const inPath = tokens.has(value);
          let inHeaders = headerWords.get(value) ?? [];
          let inBody = bodyWords !== null && bodyWords.has(value);
          if (!isWord(value)) {
            // a value with separators in it cannot be a word: search the text
            inHeaders = req.requestHeaders.filter(([n, hv]) => !NOT_SUBSTITUTED.has(n) && value.length >= 6 && hv.includes(value)).map(([n]) => n);
            inBody = body !== null && containsBounded(body, value);
          }
          if (!inPath && inHeaders.length === 0 && !inBody) continue;
          const id = `${i}\u0000${JSON.stringify(extractor)}`;
          let source = sourceOf.get(id);
          if (!source) {
            source = { step: i, varIndex: vars++, extractor, recorded: value };
            sourceOf.set(id, source);
            sources[i]!.push(source);
          }
          found.set(value, { varIndex: source.varIndex, recorded: value, inPath, inHeaders: [...new Set(inHeaders)], inBody });
        }
      }
      substitutions[j] = [...found.values()];
    }
    if (offered[j]!.length > 0) givers.push(j);
    for (const t of tokens) if (!firstSent.has(t)) firstSent.set(t, j);
  }
  return { sources, substitutions, vars };
}

/** Reads a live value from a response by `extractor` (`headers` lower-case names; `json` parsed body or undefined). */
export function extractLive(extractor: Extractor, headers: Map<string, string>, json: unknown): string | undefined {
  if (extractor.kind === 'header') return headers.get(extractor.name);
  if (extractor.kind === 'location-segment') {
    const loc = headers.get('location');
    if (loc === undefined) return undefined;
    const seg = loc.replace(/^[a-z]+:\/\/[^/]+/i, '').split('?')[0]!.split('/')[extractor.index];
    return seg === undefined ? undefined : decodeURIComponent(seg);
  }
  let v: unknown = json;
  for (const k of extractor.path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}
