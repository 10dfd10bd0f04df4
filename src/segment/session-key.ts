/**
 * Sessions: which recorded requests belong to one user. A session key that
 * lumps unrelated clients together turns a replay into one long queue, so
 * where nothing identifies a client each request is its own session
 * (docs/architecture.md, "Sessions must mean users").
 */
import { UsageError } from '../model/errors.js';
import type { HeaderList } from '../model/exchange.js';
import { parseDurationUs } from '../model/units.js';
import { requestCookie } from './cohort.js';
import {
  BoundedMap,
  isAuthCookieName,
  isLoginTarget,
  isLogoutTarget,
  setCookies,
  type SetCookie,
} from './session-signals.js';

/** How exchanges are grouped into sessions (`--session-key`). */
export type SessionKeyRule =
  | { kind: 'auto' }
  | { kind: 'cookie'; name: string }
  | { kind: 'header'; name: string }
  | { kind: 'client'; idleUs: number }
  | { kind: 'none' };

/** Idle gap after which `--session-key client` starts a new session. */
export const DEFAULT_CLIENT_IDLE_US = 30 * 60 * 1_000_000;

const SESSION_KEY_USAGE = '--session-key must be cookie:NAME, header:NAME, client or none';
const TOKEN_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses `--session-key`: `auto` (default), `cookie:NAME`, `header:NAME`,
 * `client`, `client:IDLE` (e.g. `client:10m`), `none`.
 * Throws {@link UsageError} on anything else.
 */
export function parseSessionKey(text: string): SessionKeyRule {
  const s = String(text).trim();
  const bad = (): UsageError => new UsageError(`${SESSION_KEY_USAGE} (got "${text}")`);
  if (s === 'auto') return { kind: 'auto' };
  if (s === 'none') return { kind: 'none' };
  if (s === 'client') return { kind: 'client', idleUs: DEFAULT_CLIENT_IDLE_US };
  const colon = s.indexOf(':');
  if (colon < 0) throw bad();
  const kind = s.slice(0, colon);
  const arg = s.slice(colon + 1).trim();
  if (kind === 'client') {
    let idleUs: number;
    try {
      // A bare number is minutes: `client:30` is `client:30m`.
      idleUs = parseDurationUs(/^\d+(?:\.\d+)?$/.test(arg) ? arg + 'm' : arg, '--session-key');
    } catch {
      throw new UsageError(`--session-key client:IDLE needs a duration like 30m (got "${text}")`);
    }
    if (idleUs <= 0) throw new UsageError(`--session-key client:IDLE needs a duration like 30m (got "${text}")`);
    return { kind: 'client', idleUs };
  }
  if ((kind === 'cookie' || kind === 'header') && TOKEN_NAME_RE.test(arg)) {
    return kind === 'cookie' ? { kind, name: arg } : { kind, name: arg.toLowerCase() };
  }
  throw bad();
}

/** What {@link Sessionizer.assign} needs to know about one exchange. */
export interface SessionInput {
  /** Address of the client's socket (the proxy's view). */
  clientAddress: string;
  requestHeaders: HeaderList;
  responseHeaders: HeaderList;
  startOffsetUs: number;
  /** Optional, enables the login/logout rule of `signedIn`. */
  method?: string;
  /** Optional, with `method`: the request target (`/login?next=/`). */
  target?: string;
  /** Optional, with `method`: the response status (null when the exchange failed). */
  status?: number | null;
}

/** Most per-session states kept (sign-in flags, rotated cookies, clients); oldest are forgotten first. */
const STATE_LIMIT = 100_000;

/**
 * Assigns each exchange to a session and says whether the session is signed in.
 *
 * Keys never hold a raw secret when `tokenize` is given: cookie values, header
 * values, tokens and client addresses pass through it. Key shapes:
 * `cookie:NAME:<token>`, `header:NAME:<token>`, `auth:<token>`,
 * `client:<token>:<n>`, `req:<n>` (a session of one request).
 *
 * `auto`: the session cookie is the first cookie the server ever set whose
 * value looks like an id (a name that looks like a session cookie wins among
 * those one response sets; see `pickSessionCookie`). A
 * request carrying it is keyed by its value; one without it whose response
 * sets it is keyed by the new value, so the first request joins the session it
 * starts; else an `Authorization` credential keys it; else it is alone.
 * `cookie:NAME` is the same with the cookie named. When a response rotates
 * the session cookie (a login issuing a new id), the new value keeps the old
 * session's key.
 *
 * Signed in: the request carries `Authorization` or an auth-looking cookie
 * (`auth`, `token`, `jwt`, `login`, `remember`, …; not plain `session`/`sid`,
 * which anonymous visitors get too), or its response sets such a cookie, or
 * the session has had a successful (2xx/3xx) `POST` to a login-like path
 * (`/login`, `/signin`, `/auth`, `/oauth/token`, `/session(s)`) and no
 * logout since (this needs `method`, `target` and `status`). Callers that
 * can't give the method get a weaker signal instead: a second session-looking
 * cookie (`session`, `sid`) beside the cookie sessions are keyed by.
 */
export class Sessionizer {
  private readonly rule: SessionKeyRule;
  private readonly tokenize: (value: string) => string;
  private sessionCookie: string | null = null;
  private singles = 0;
  private clientSeq = 0;
  /** Rotated cookie value (tokenized) → session key it continues. */
  private readonly rotated = new BoundedMap<string, string>(STATE_LIMIT);
  /** Session key → signed in by a login response. */
  private readonly loggedIn = new BoundedMap<string, boolean>(STATE_LIMIT);
  /** Client identity → { session key, last start µs }. */
  private readonly clients = new BoundedMap<string, { key: string; lastUs: number }>(STATE_LIMIT);

  /** `tokenize` is `redactor.token` (or null with --no-redact): cookie/token values in keys are never stored raw. */
  constructor(rule: SessionKeyRule, tokenize: ((value: string) => string) | null) {
    this.rule = rule;
    this.tokenize = tokenize ?? ((v) => v);
    if (rule.kind === 'cookie') this.sessionCookie = rule.name;
  }

  /** Called when the response headers are known. Returns the session key (already redacted) and whether signed in. */
  assign(input: SessionInput): { sessionKey: string; signedIn: boolean } {
    const set = setCookies(input.responseHeaders);
    const sessionKey = this.keyOf(input, set);
    return { sessionKey, signedIn: this.signedIn(sessionKey, input, set) };
  }

  private keyOf(input: SessionInput, set: SetCookie[]): string {
    switch (this.rule.kind) {
      case 'none':
        return this.single();
      case 'header': {
        const v = headerOf(input.requestHeaders, this.rule.name);
        return v === undefined ? this.single() : `header:${this.rule.name}:${this.tokenize(v)}`;
      }
      case 'client':
        return this.clientKey(input, this.rule.idleUs);
      case 'auto':
        if (this.sessionCookie === null) this.sessionCookie = pickSessionCookie(set);
        return this.cookieKey(input, set) ?? this.authKey(input) ?? this.single();
      case 'cookie':
        return this.cookieKey(input, set) ?? this.single();
    }
  }

  /** Key from the session cookie sent, or set by this response; records rotations. */
  private cookieKey(input: SessionInput, set: SetCookie[]): string | null {
    const name = this.sessionCookie;
    if (name === null) return null;
    const sent = requestCookie(input.requestHeaders, name);
    const fresh = set.find((c) => c.name === name && !c.deleted);
    let key: string | null = null;
    if (sent !== undefined && sent !== '') key = this.continuing(name, this.tokenize(sent));
    if (fresh !== undefined && fresh.value !== '') {
      const token = this.tokenize(fresh.value);
      if (key === null) key = this.continuing(name, token);
      else if (token !== this.tokenize(sent ?? '')) this.rotated.set(token, key);
    }
    return key;
  }

  private continuing(name: string, token: string): string {
    return this.rotated.get(token) ?? `cookie:${name}:${token}`;
  }

  private authKey(input: SessionInput): string | null {
    const auth = headerOf(input.requestHeaders, 'authorization');
    if (auth === undefined) return null;
    const space = auth.indexOf(' ');
    const credentials = space > 0 ? auth.slice(space + 1).trim() : auth;
    return credentials === '' ? null : `auth:${this.tokenize(credentials)}`;
  }

  private clientKey(input: SessionInput, idleUs: number): string {
    const xff = headerOf(input.requestHeaders, 'x-forwarded-for');
    const hop = xff?.split(',')[0]?.trim();
    const address = hop !== undefined && hop !== '' ? hop : input.clientAddress;
    const ua = headerOf(input.requestHeaders, 'user-agent') ?? '';
    const id = this.tokenize(`${address} ${ua}`);
    const seen = this.clients.get(id);
    if (seen !== undefined && input.startOffsetUs - seen.lastUs <= idleUs) {
      if (input.startOffsetUs > seen.lastUs) seen.lastUs = input.startOffsetUs;
      this.clients.set(id, seen); // refresh: active clients are forgotten last
      return seen.key;
    }
    // A fresh number per session, so a forgotten client can never merge into an old key.
    const key = `client:${id}:${this.clientSeq++}`;
    this.clients.set(id, { key, lastUs: input.startOffsetUs });
    return key;
  }

  private single(): string {
    return `req:${this.singles++}`;
  }

  private signedIn(key: string, input: SessionInput, set: SetCookie[]): boolean {
    const { method, target, status } = input;
    if (method !== undefined && target !== undefined && method.toUpperCase() === 'POST') {
      const ok = typeof status === 'number' && status >= 200 && status < 400;
      if (ok && isLogoutTarget(target)) this.loggedIn.delete(key);
      else if (ok && isLoginTarget(target)) this.loggedIn.set(key, true);
    }
    if (this.loggedIn.get(key) === true) return true;
    if (headerOf(input.requestHeaders, 'authorization') !== undefined) return true;
    // Without the method, a second session cookie beside the one sessions are keyed by
    // (a `vid` visitor cookie, then `session` at sign-in) is the best sign-in signal left.
    const second = method === undefined ? this.sessionCookie : null;
    for (const c of set) if (!c.deleted && isSignInCookie(c.name, second)) return true;
    return requestHasSignInCookie(input.requestHeaders, second);
  }
}

function headerOf(headers: HeaderList, name: string): string | undefined {
  for (const [k, v] of headers) if (k === name && v !== '') return v;
  return undefined;
}

/**
 * The cookie that identifies sessions among those one response sets: only
 * cookies whose value looks like an id (8+ characters with a digit or mixed
 * case), so a `locale=en` or `consent=true` that every visitor shares can
 * never lump them into one session, and no load-balancer stickiness cookie
 * (`AWSALB`, `BIGipServer…`, `SERVERID`), whose value names a backend shared
 * by many clients; a session-looking name wins.
 */
function pickSessionCookie(set: SetCookie[]): string | null {
  const ids = set.filter((c) => !c.deleted && looksLikeId(c.value) && !STICKY_COOKIE_RE.test(c.name));
  if (ids.length === 0) return null;
  const sessionLike = ids.find((c) => /sess|sid|^id$|visitor|^vid$|uid/i.test(c.name));
  return (sessionLike ?? ids[0]!).name;
}

/** Load-balancer stickiness cookies: they name a backend, which many clients share. */
const STICKY_COOKIE_RE = /^(?:awsalb\w*|awselb\w*|bigipserver.*|serverid|routeid|route|ingresscookie|__cfruid|lb[-_]?\w*|sticky\w*)$/i;

function looksLikeId(value: string): boolean {
  return value.length >= 8 && (/\d/.test(value) || (/[a-z]/.test(value) && /[A-Z]/.test(value)));
}

/** An auth-looking cookie, or (when `keyCookie` is given) a session-looking cookie other than it. */
function isSignInCookie(name: string, keyCookie: string | null): boolean {
  if (isAuthCookieName(name)) return true;
  return keyCookie !== null && name !== keyCookie && /sess|sid/i.test(name);
}

function requestHasSignInCookie(headers: HeaderList, keyCookie: string | null): boolean {
  for (const [k, v] of headers) {
    if (k !== 'cookie') continue;
    for (const part of v.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(eq + 1).trim() !== '' && isSignInCookie(part.slice(0, eq).trim(), keyCookie)) return true;
    }
  }
  return false;
}
