/**
 * JSON redaction by scanning, not parse-and-reserialize: only the spans of
 * secret values change, so every other byte (spacing, key order, big
 * integers that `JSON.parse` would round) stays as recorded. Tolerates a
 * truncated document (a body cut at the capture cap).
 */
import { isCardNumber, isSecretKey, redactCards, type Tokenize } from './redact-text.js';

interface Frame {
  object: boolean;
  secret: boolean;
}

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

/** Index just past the closing quote of the string starting at `i` (a `"`), or `s.length` if unterminated. */
function stringEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34 /* " */) return j + 1;
  }
  return s.length;
}

/** The value of a JSON string literal body given as latin1 bytes (UTF-8 on the wire). */
function decodeString(raw: string): string {
  let ascii = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 92 || c > 127) {
      ascii = false;
      break;
    }
  }
  if (ascii) return raw;
  const utf8 = Buffer.from(raw, 'latin1').toString('utf8');
  try {
    return JSON.parse('"' + utf8 + '"') as string;
  } catch {
    return utf8;
  }
}

/**
 * Redacts a JSON text (latin1 view of its bytes): every scalar under a
 * secret-named key (see `isSecretKey`, nested objects and arrays included)
 * becomes the string `"redacted:…"`; card numbers in other strings, and
 * card-number-like integers, become tokens too. Booleans and null stay.
 * Returns `null` if the text is not JSON (caller falls back to plain text
 * scanning), or `text` itself when nothing changed.
 */
export function redactJsonText(text: string, tokenize: Tokenize): string | null {
  const s = text;
  const stack: Frame[] = [];
  const out: string[] = [];
  let last = 0;
  let i = 0;
  let pendingKeySecret = false; // the key just read names a secret
  let expectKey = false;
  const replace = (start: number, end: number, value: string): void => {
    out.push(s.slice(last, start), value);
    last = end;
  };
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isWs(c) || c === 44 /* , */) {
      if (c === 44 && stack.length > 0 && stack[stack.length - 1]!.object) expectKey = true;
      i++;
      continue;
    }
    const top = stack.length > 0 ? stack[stack.length - 1]! : null;
    if (c === 58 /* : */) {
      if (top === null || !top.object) return null;
      i++;
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      if (top === null || top.object !== (c === 125)) return null;
      stack.pop();
      expectKey = false;
      i++;
      continue;
    }
    if (top !== null && top.object && expectKey) {
      if (c !== 34) return null;
      const end = stringEnd(s, i);
      pendingKeySecret = isSecretKey(decodeString(s.slice(i + 1, Math.max(i + 1, end - 1))));
      expectKey = false;
      i = end;
      continue;
    }
    const secret = (top?.secret ?? false) || pendingKeySecret;
    pendingKeySecret = false;
    if (c === 123 /* { */ || c === 91 /* [ */) {
      stack.push({ object: c === 123, secret });
      expectKey = c === 123;
      i++;
      continue;
    }
    if (c === 34 /* " */) {
      const end = stringEnd(s, i);
      const closed = end <= s.length && s.charCodeAt(end - 1) === 34 && end > i + 1;
      const body = s.slice(i + 1, closed ? end - 1 : end);
      if (secret) {
        if (body !== '' && !body.startsWith('redacted:')) replace(i, end, '"' + tokenize(decodeString(body)) + (closed ? '"' : ''));
      } else if (body.length >= 13) {
        const red = redactCards(body, tokenize);
        if (red !== body) replace(i + 1, i + 1 + body.length, red);
      }
      i = end;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let end = i + 1;
      while (end < s.length && isNumberChar(s.charCodeAt(end))) end++;
      const num = s.slice(i, end);
      if (secret) replace(i, end, '"' + tokenize(num) + '"');
      else if (num.length >= 13 && isCardNumber(num)) replace(i, end, '"' + tokenize(num) + '"');
      i = end;
      continue;
    }
    if (c === 116 || c === 102 || c === 110 /* true false null */) {
      const m = /^(?:true|false|null)/.exec(s.slice(i, i + 5));
      if (m === null) return null;
      i += m[0].length;
      continue;
    }
    return null;
  }
  if (out.length === 0) return text;
  out.push(s.slice(last));
  return out.join('');
}
