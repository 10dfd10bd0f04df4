/**
 * `redacted:` tokens left in a request body (a value the recording hid and
 * correlation found no live value for) are never sent as if they were real:
 * a JSON string holding one is blanked (`""`, the field stays so the shape
 * does not change), a form field holding one is dropped, and in any other
 * body the token is cut out. Each token removed is counted.
 */

/** How a request body is scrubbed. */
export type BodyKind = 'json' | 'form' | 'text';

/** A token: `redacted:` (or its form/URL encoding) and base64url characters. */
const TOKEN_RE = /redacted(?::|%3A)[A-Za-z0-9_-]*/gi;

/** The scrubbing kind of a body from its `content-type` (null: text). */
export function bodyKindOf(contentType: string | null): BodyKind {
  const t = (contentType ?? '').toLowerCase();
  if (t.includes('json')) return 'json';
  if (t.includes('application/x-www-form-urlencoded')) return 'form';
  return 'text';
}

/** Whether a body may hold a token (a cheap byte search before any decoding). */
export function mayHoldRedacted(body: Buffer | string): boolean {
  return typeof body === 'string' ? /redacted/i.test(body) : body.includes('redacted') || body.includes('REDACTED');
}

function countTokens(s: string): number {
  TOKEN_RE.lastIndex = 0;
  let n = 0;
  while (TOKEN_RE.exec(s) !== null) n++;
  return n;
}

/**
 * Values to send for redacted fields, by lower-case field name
 * (`--secret password=$TEST_PASSWORD`): a test account's secret instead of
 * the recorded one, which the recording never held.
 */
export type SecretFills = Readonly<Record<string, string>>;

const NO_FILLS: SecretFills = {};

function scrubJsonValue(v: unknown, counter: { n: number; filled: number }, fills: SecretFills, key: string | null): unknown {
  if (typeof v === 'string') {
    const n = countTokens(v);
    if (n === 0) return v;
    const fill = key === null ? undefined : fills[key.toLowerCase()];
    if (fill !== undefined) {
      counter.filled++;
      return fill;
    }
    counter.n += n;
    return '';
  }
  if (Array.isArray(v)) return v.map((x) => scrubJsonValue(x, counter, fills, key));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = scrubJsonValue(x, counter, fills, k);
    return out;
  }
  return v;
}

function scrubForm(text: string, fills: SecretFills): { text: string; dropped: number } {
  let dropped = 0;
  const kept: string[] = [];
  for (const pair of text.split('&')) {
    const eq = pair.indexOf('=');
    const value = pair.slice(eq + 1).replace(/\+/g, ' ');
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // keep the raw value
    }
    const n = countTokens(decoded);
    if (n === 0) {
      kept.push(pair);
      continue;
    }
    const name = eq > 0 ? pair.slice(0, eq) : '';
    const fill = fills[name.toLowerCase()];
    if (fill !== undefined) kept.push(`${name}=${encodeURIComponent(fill)}`);
    else dropped += n;
  }
  return { text: kept.join('&'), dropped };
}

/** Scrubs the `redacted:` tokens of a body of `kind`; returns the body to send and how many went. */
export function scrubRedactedBody(text: string, kind: BodyKind, fills: SecretFills = NO_FILLS): { text: string; dropped: number } {
  if (!/redacted/i.test(text)) return { text, dropped: 0 };
  if (kind === 'json') {
    try {
      const counter = { n: 0, filled: 0 };
      const out = scrubJsonValue(JSON.parse(text) as unknown, counter, fills, null);
      if (counter.n === 0 && counter.filled === 0) return { text, dropped: 0 };
      return { text: JSON.stringify(out), dropped: counter.n };
    } catch {
      // not JSON after all: cut the tokens out as text
    }
  }
  if (kind === 'form') return scrubForm(text, fills);
  const dropped = countTokens(text);
  return dropped === 0 ? { text, dropped: 0 } : { text: text.replace(TOKEN_RE, ''), dropped };
}
