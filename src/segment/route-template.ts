/**
 * Route templates: the `route` half of a segment. A request target such as
 * `/products/42?ref=home` becomes `/products/:id`, so latency is measured per
 * kind of request rather than per URL. Runs once per request on the record
 * path, so it works on plain string scans and caches per distinct path.
 */

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const HEX_RE = /^[0-9a-f]{8,}$/i;
/** Characters of base64url / slug-like tokens: letters, digits, `_`, `-`, `~`, `.`, `=`. */
const TOKEN_CHARS_RE = /^[A-Za-z0-9_\-~.=]+$/;
/** A file-like segment: `12345.jpg` → stem `12345`, extension `.jpg`. */
const EXT_RE = /^(.+)(\.[A-Za-z][A-Za-z0-9]{0,4})$/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Whether one path segment (no `/`) is an identifier rather than a word:
 * - numbers (`42`, `2024-01-05`: digits with `-`/`_`/`.` separators),
 * - UUIDs, with or without dashes,
 * - hex of 8+ characters that has a digit (`5f3a9c1e`), or any hex of 16+,
 * - token-like segments: 16+ base64url characters mixing letters and digits;
 *   shorter ones with letters and digits interleaved at least twice
 *   (`c_8f3k2`, `a1b2c3`) or a letter prefix with a 4+ digit run (`ord_12345`),
 * - anything with `@` (an e-mail address is a user id) or a `%` escape
 *   (free text: a search term, a name), so such paths don't each become a route.
 *
 * Words stay: `products`, `v2`, `oauth2`, `healthz`, `h264`, `getting-started`.
 */
export function isIdSegment(seg: string): boolean {
  const n = seg.length;
  if (n === 0) return false;
  let digits = 0;
  let letters = 0;
  let transitions = 0;
  let longestDigitRun = 0;
  let run = 0;
  let prev = 0; // 1 letter, 2 digit
  for (let i = 0; i < n; i++) {
    const c = seg.charCodeAt(i);
    if (isDigit(c)) {
      digits++;
      run++;
      if (run > longestDigitRun) longestDigitRun = run;
      if (prev === 1) transitions++;
      prev = 2;
    } else {
      run = 0;
      if (isLetter(c)) {
        letters++;
        if (prev === 2) transitions++;
        prev = 1;
      } else if (c === 64 /* @ */ || (c === 37 /* % */ && i + 2 < n)) {
        // An e-mail address is a user id; percent-escapes mean free text (a search term, a name).
        return true;
      }
    }
  }
  // Fast path: the common case of a plain word.
  if (digits === 0 && n < 16) return false;
  if (digits === n) return true;
  if (letters === 0) return digits > 0 && /^[0-9][0-9_.\-:,]*$/.test(seg);
  if (n >= 32 && UUID_RE.test(seg)) return true;
  if (HEX_RE.test(seg) && (digits > 0 || n >= 16)) return true;
  if (!TOKEN_CHARS_RE.test(seg)) return false;
  if (n >= 16 && digits > 0) return true;
  if (n >= 24 && hasMixedCase(seg)) return true; // long base64url without digits
  if (n >= 5 && digits >= 2 && transitions >= 2) return true;
  if (longestDigitRun >= 4) return true;
  return false;
}

function hasMixedCase(seg: string): boolean {
  let upper = 0;
  let lower = 0;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c >= 65 && c <= 90) upper++;
    else if (c >= 97 && c <= 122) lower++;
  }
  // camelCase words have few capitals; random base64 has about half.
  return upper >= 4 && lower >= 4;
}

function templateSegment(seg: string): string {
  const dot = seg.lastIndexOf('.');
  if (dot > 0 && !seg.includes('@')) {
    const m = EXT_RE.exec(seg);
    if (m && isIdSegment(m[1]!)) return ':id' + m[2]!;
  }
  return isIdSegment(seg) ? ':id' : seg;
}

/**
 * The path of a request target without its query string or fragment; an
 * absolute-form target (`http://host/x`, forward proxies) loses its origin.
 */
export function pathOf(target: string): string {
  let start = 0;
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = target.indexOf('://');
    if (scheme > 0 && scheme < 10) {
      const slash = target.indexOf('/', scheme + 3);
      if (slash < 0) return '/';
      start = slash;
    }
  }
  let end = target.length;
  for (let i = start; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  const path = target.slice(start, end);
  return path === '' ? '/' : path;
}

/**
 * `'/products/42?x=1'` → `'/products/:id'`: numeric, UUID, long hex and
 * token-like segments become `:id` (see {@link isIdSegment}); a file-like
 * segment keeps its extension (`/img/123.jpg` → `/img/:id.jpg`). The query
 * string, fragment and matrix parameters (`;jsessionid=…`) are never part of
 * the route.
 */
export function templatePath(path: string): string {
  const p = pathOf(path);
  if (p === '/' || p === '*') return p;
  const parts = p.split('/');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    let seg = parts[i]!;
    if (seg === '') continue;
    // Matrix parameters (`/cart;jsessionid=…`) are never part of the route.
    const semi = seg.indexOf(';');
    if (semi >= 0) {
      seg = seg.slice(0, semi);
      parts[i] = seg;
      changed = true;
      if (seg === '') continue;
    }
    const t = templateSegment(seg);
    if (t !== seg) {
      parts[i] = t;
      changed = true;
    }
  }
  return changed ? parts.join('/') : p;
}

/** One compiled scenario route: literal segments, `:param` segments, optional trailing `*`. */
interface CompiledRoute {
  template: string;
  segments: string[]; // '' for a :param
  rest: boolean;
  literals: number;
}

function compileRoute(template: string): CompiledRoute {
  const raw = pathOf(template).split('/').slice(1);
  let rest = false;
  if (raw.length > 0 && raw[raw.length - 1] === '*') {
    rest = true;
    raw.pop();
  }
  const segments = raw.map((s) => (s.startsWith(':') ? '' : s));
  const literals = segments.filter((s) => s !== '').length;
  return { template: pathOf(template), segments, rest, literals };
}

function matches(route: CompiledRoute, parts: string[]): boolean {
  if (route.rest ? parts.length < route.segments.length : parts.length !== route.segments.length) return false;
  for (let i = 0; i < route.segments.length; i++) {
    const want = route.segments[i]!;
    const got = parts[i]!;
    if (want === '' ? got === '' : want !== got) return false;
  }
  return true;
}

/** Most distinct paths to remember before starting over. */
const CACHE_LIMIT = 10_000;

/**
 * Turns a method and target into a route such as `GET /cart/:cartId/items`.
 * Scenario templates (`/cart/:cartId/items`, `/static/*`) take precedence over
 * automatic templating; among several that match, the one with more literal
 * segments wins, then the one listed first. Results are cached per distinct
 * path (bounded), so repeated paths cost one map lookup.
 */
export class RouteMatcher {
  private readonly routes: CompiledRoute[];
  private readonly cache = new Map<string, string>();

  /** `scenarioRoutes` are path templates starting with `/` (validated by `loadScenario`). */
  constructor(scenarioRoutes: string[] = []) {
    this.routes = scenarioRoutes
      .map(compileRoute)
      .map((r, i) => ({ r, i }))
      .sort((a, b) => b.r.literals - a.r.literals || Number(a.r.rest) - Number(b.r.rest) || a.i - b.i)
      .map((x) => x.r);
  }

  /** The path template of `target` (query ignored). */
  template(target: string): string {
    const path = pathOf(target);
    let t = this.cache.get(path);
    if (t === undefined) {
      t = this.compute(path);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(path, t);
    }
    return t;
  }

  /** `'GET', '/cart/abc123/items?x'` → `'GET /cart/:cartId/items'`. The method is upper-cased. */
  route(method: string, target: string): string {
    return method.toUpperCase() + ' ' + this.template(target);
  }

  private compute(path: string): string {
    if (this.routes.length > 0) {
      const parts = path.split('/').slice(1);
      for (let i = 0; i < parts.length; i++) {
        const semi = parts[i]!.indexOf(';');
        if (semi >= 0) parts[i] = parts[i]!.slice(0, semi);
      }
      for (const r of this.routes) if (matches(r, parts)) return r.template;
      // `/cart/abc/items/` is the same route as `/cart/abc/items`.
      if (parts.length > 1 && parts[parts.length - 1] === '') {
        parts.pop();
        for (const r of this.routes) if (matches(r, parts)) return r.template;
      }
    }
    return templatePath(path);
  }
}
