/**
 * Text-level redaction helpers: card numbers (Luhn), secret-looking field
 * names, and `a=b&c=d` form/query strings. Strings here are usually latin1
 * views of bytes (one char per byte), so replacing ASCII spans keeps every
 * other byte exactly as it was.
 */

/** Turns a secret into its `redacted:…` token. */
export type Tokenize = (value: string) => string;

/**
 * Runs of digits, spaces and dashes from a digit to a digit. A character class
 * (not a repeated group) keeps this linear and fast on long runs; runs are
 * then split where two separators meet.
 */
const DIGIT_RUN_RE = /\d[\d -]*\d/g;
const DOUBLE_SEPARATOR_RE = /[ -]{2,}/g;

/** Luhn checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Whether a digit string is card-number-like: 13–19 digits, a first digit of
 * 2–6 (the major networks: Mastercard 2/5, Amex/Diners/JCB 3, Visa 4,
 * Discover/UnionPay/Maestro 6) and Luhn-valid. The first-digit rule keeps
 * epoch timestamps in ms/µs/ns (which start with 1) from ever matching.
 */
export function isCardNumber(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19) return false;
  const first = digits.charCodeAt(0);
  if (first < 50 || first > 54) return false;
  return luhnValid(digits);
}

/** {@link isCardNumber} on the `count` digits of `run[start, end)`, skipping separators, without building a string. */
function isCardIn(run: string, start: number, end: number, count: number): boolean {
  if (count < 13 || count > 19) return false;
  const first = run.charCodeAt(start);
  if (first < 50 || first > 54) return false;
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    let d = run.charCodeAt(i) - 48;
    if (d < 0 || d > 9) continue; // a separator
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * Replaces card-number-like digit runs (see {@link isCardNumber}; spaces or
 * dashes between digits allowed) by the token of their digits. Runs glued to
 * letters, `_` or a decimal point (`0.4111…`, `id4111…`) are left alone.
 * Returns `text` itself when nothing changed.
 */
export function redactCards(text: string, tokenize: Tokenize): string {
  if (text.length < 13) return text;
  const out: string[] = [];
  let last = 0;
  const visit = (start: number, end: number): void => {
    if (end - start < 13) return;
    const before = start > 0 ? text.charCodeAt(start - 1) : 32;
    const after = end < text.length ? text.charCodeAt(end) : 32;
    const afterNext = end + 1 < text.length ? text.charCodeAt(end + 1) : 32;
    if (isWordChar(before) || before === 46 /* . */ || isWordChar(after)) return;
    if (after === 46 && afterNext >= 48 && afterNext <= 57) return; // integer part of a decimal
    const run = text.slice(start, end);
    for (const [s, e] of cardSpans(run)) {
      out.push(text.slice(last, start + s), tokenize(run.slice(s, e).replace(/[ -]/g, '')));
      last = start + e;
    }
  };
  DIGIT_RUN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = DIGIT_RUN_RE.exec(text)) !== null) {
    const start = m.index;
    const run = m[0];
    if (run.length < 13) continue;
    // Split at double separators: `1  4111…` is two runs.
    let from = 0;
    DOUBLE_SEPARATOR_RE.lastIndex = 0;
    let d: RegExpExecArray | null;
    while ((d = DOUBLE_SEPARATOR_RE.exec(run)) !== null) {
      visit(start + from, start + d.index);
      from = d.index + d[0].length;
    }
    visit(start + from, start + run.length);
  }
  if (out.length === 0) return text;
  out.push(text.slice(last));
  return out.join('');
}

/** Card spans [start, end) inside one digit run: the whole run, or whole separator-delimited groups. */
const NO_SPANS: Array<[number, number]> = [];

function cardSpans(run: string): Array<[number, number]> {
  let separators = false;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c === 32 || c === 45) {
      separators = true;
      break;
    }
  }
  if (!separators) return isCardNumber(run) ? [[0, run.length]] : NO_SPANS;
  // Whole separator-delimited groups: a card is the whole run or some groups of it.
  const starts: number[] = [];
  const ends: number[] = [];
  let s = 0;
  for (let i = 0; i <= run.length; i++) {
    const c = i < run.length ? run.charCodeAt(i) : 32;
    if (c === 32 || c === 45) {
      starts.push(s);
      ends.push(i);
      s = i + 1;
    }
  }
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < starts.length; i++) {
    // The longest candidate first: a 19-digit card must not lose its tail to a valid 16-digit prefix.
    let j = i;
    let count = ends[i]! - starts[i]!;
    while (j + 1 < starts.length && count + ends[j + 1]! - starts[j + 1]! <= 19) {
      j++;
      count += ends[j]! - starts[j]!;
    }
    for (; j >= i && count >= 13; j--) {
      if (isCardIn(run, starts[i]!, ends[j]!, count)) {
        spans.push([starts[i]!, ends[j]!]);
        i = j;
        break;
      }
      count -= ends[j]! - starts[j]!;
    }
  }
  return spans;
}

/** Every card number contains this: a first digit of 2–6 then 12 more digits (single separators allowed). */
const CARD_HINT_RE = /[2-6](?:[ -]?\d){12}/;
/** Every secret-named field contains one of these. */
const SECRET_HINT_RE = /pass|secret|token|card|cvv|cvc|cvn|csc|key|credential|authoriz|pwd|pan|ssn/i;

/**
 * A cheap, sound pre-check: false means `text` can hold neither a card
 * number nor a secret-named field, so the scanners can be skipped.
 * (`fieldNames` false checks for card numbers only.)
 */
export function mayHoldSecret(text: string, fieldNames: boolean): boolean {
  return CARD_HINT_RE.test(text) || (fieldNames && SECRET_HINT_RE.test(text));
}

/** Roots matched at the start or end of a word of a field name (`newPassword`, `cardNumber`, `access_token`). */
const LONG_ROOTS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'card', 'cvv', 'cvc', 'apikey', 'privatekey', 'credential', 'authorization'];
/** Roots that must be a whole word (`pan` must not match `company`). */
const SHORT_ROOTS = new Set(['pwd', 'pan', 'ssn', 'cvn', 'csc']);
/** Words that contain a root but are not secrets. */
const NOT_SECRET = new Set(['discard', 'cardinal', 'cardinality', 'tokens', 'cards', 'secrets', 'passwords']);

const keyCache = new Map<string, boolean>();

/**
 * Whether a JSON key, form field or query parameter name holds a secret:
 * password, passwd, pwd, secret, token, card, cvv, cvc, pan, ssn, api key,
 * credential… compared per word (camelCase, snake_case, kebab-case), case-insensitive.
 * Plurals (`max_tokens`, `cards`) are counts or lists, not secrets.
 */
export function isSecretKey(name: string): boolean {
  let v = keyCache.get(name);
  if (v === undefined) {
    v = computeSecretKey(name);
    if (keyCache.size >= 4096) keyCache.clear();
    keyCache.set(name, v);
  }
  return v;
}

function computeSecretKey(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  const candidates = [...words];
  for (let i = 0; i + 1 < words.length; i++) candidates.push(words[i]! + words[i + 1]!);
  for (const w of candidates) {
    if (SHORT_ROOTS.has(w)) return true;
    if (NOT_SECRET.has(w)) continue;
    for (const root of LONG_ROOTS) {
      if (w === root) return true;
      if ((w.startsWith(root) || w.endsWith(root)) && w !== root + 's') return true;
    }
  }
  return false;
}

function decodeFormComponent(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/**
 * Redacts an `a=b&c=d` string (form body or query): values of secret-named
 * fields become tokens (of the decoded value), card numbers inside other
 * values become tokens; untouched pairs keep their exact bytes. `text` is
 * returned itself when nothing changed.
 */
export function redactForm(text: string, tokenize: Tokenize): string {
  if (text === '') return text;
  const pairs = text.split('&');
  let changed = false;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const rawValue = pair.slice(eq + 1);
    if (rawValue === '' || rawValue.startsWith('redacted:') || rawValue.startsWith('redacted%3A')) continue;
    const key = decodeFormComponent(pair.slice(0, eq));
    let next: string | null = null;
    if (isSecretKey(key)) {
      next = tokenize(decodeFormComponent(rawValue));
    } else if (rawValue.length >= 13) {
      const value = decodeFormComponent(rawValue);
      const red = redactCards(value, tokenize);
      if (red !== value) next = encodeURIComponent(red).replace(/%3A/g, ':');
    }
    if (next !== null) {
      pairs[i] = pair.slice(0, eq + 1) + next;
      changed = true;
    }
  }
  return changed ? pairs.join('&') : text;
}

/** Matrix parameters of a path segment: `;jsessionid=ABC`. */
const MATRIX_PARAM_RE = /;([^;=/?#]+)=([^;/?#]*)/g;

/** Card numbers in a path, and the values of secret or session matrix parameters (`;jsessionid=…`). */
function redactPath(path: string, tokenize: Tokenize): string {
  const p = path.includes(';')
    ? path.replace(MATRIX_PARAM_RE, (whole, name: string, value: string) =>
        value === '' || value.startsWith('redacted:') || !(isSecretKey(name) || /sess|sid/i.test(name)) ? whole : `;${name}=${tokenize(value)}`,
      )
    : path;
  return redactCards(p, tokenize);
}

/**
 * Redacts a request target or URL: secret-named query parameters and card
 * numbers in the query, card numbers and session/secret matrix parameters
 * (`;jsessionid=…`) in the path. Returns `target` itself
 * when nothing changed.
 */
export function redactUrl(target: string, tokenize: Tokenize): string {
  const q = target.indexOf('?');
  if (q < 0) return redactPath(target, tokenize);
  const hash = target.indexOf('#', q);
  const path = target.slice(0, q);
  const query = hash < 0 ? target.slice(q + 1) : target.slice(q + 1, hash);
  const tail = hash < 0 ? '' : target.slice(hash);
  const p = redactPath(path, tokenize);
  const r = redactForm(query, tokenize);
  return p === path && r === query ? target : `${p}?${r}${tail}`;
}
