/**
 * Sessions: which recorded requests belong to one user. A session key that
 * lumps unrelated clients together turns a replay into one long queue, so
 * where nothing identifies a client each request is its own session
 * (docs/architecture.md, "Sessions must mean users").
 */
import { UsageError } from '../model/errors.js';
import type { HeaderList } from '../model/exchange.js';
import { BoundedMap } from '../model/bounded-map.js';
import { parseDurationUs } from '../model/units.js';
import { CookieSessionKeys } from './session-cookies.js';
import {
  isAuthCookieName,
  isLoginTarget,
  isLogoutTarget,
  setCookies,
  type SetCookie,
} from './session-signals.js';

/**
 * How exchanges are grouped into sessions (`--session-key`). `auto` with
 * `clientIdleUs` (`auto+client`) groups what nothing else identifies by
 * client address and user agent instead of one session per request.
 */
export type SessionKeyRule =
  | { kind: 'auto'; clientIdleUs?: number }
  | { kind: 'cookie'; name: string }
  | { kind: 'header'; name: string }
  | { kind: 'client'; idleUs: number }
  | { kind: 'none' };

/** Idle gap after which `--session-key client` starts a new session. */
export const DEFAULT_CLIENT_IDLE_US = 30 * 60 * 1_000_000;

const SESSION_KEY_USAGE = '--session-key must be auto, auto+client, cookie:NAME, header:NAME, client or none';
const TOKEN_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses `--session-key`: `auto` (default), `auto+client`,
 * `auto+client:IDLE`, `cookie:NAME`, `header:NAME`, `client`, `client:IDLE`
 * (e.g. `client:10m`), `none`. Throws {@link UsageError} on anything else.
 */
export function parseSessionKey(text: string): SessionKeyRule {
  const s = String(text).trim();
  const bad = (): UsageError => new UsageError(`${SESSION_KEY_USAGE} (got "${text}")`);
  if (s === 'auto') return { kind: 'auto' };
  if (s.startsWith('auto+client')) {
    const rest = s.slice('auto+'.length);
    if (rest !== 'client' && !rest.startsWith('client:')) throw bad();
    const client = parseSessionKey(rest);
    if (client.kind !== 'client') throw bad();
    return { kind: 'auto', clientIdleUs: client.idleUs };
  }
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

/** Per-session states (sign-in flags, cookie aliases, clients) kept at least: the last this many sessions' (see BoundedMap). */
const STATE_LIMIT = 100_000;

/**
 * Which rule keyed an exchange's session (stored per session, shown by
 * `inspect`): `cookie-set:NAME` (the response set the session cookie),
 * `cookie-request:NAME` (the request already carried it: set before the
 * capture began), `header:NAME`, `auth` (an `Authorization` credential),
 * `client` (address + user agent), `request` (a session of one request).
 * Importers add `file` (a session key the file itself carried).
 */
export type KeyedBy = string;

/** What {@link Sessionizer.assign} says about one exchange. */
export interface SessionAssignment {
  /** The session key, already redacted. */
  sessionKey: string;
  signedIn: boolean;
  /** The rule that keyed it (see {@link KeyedBy}). */
  keyedBy: KeyedBy;
}

interface Keyed {
  key: string;
  by: KeyedBy;
}

/**
 * Assigns each exchange to a session and says whether the session is signed in.
 *
 * Keys never hold a raw secret when `tokenize` is given: cookie values, header
 * values, tokens and client addresses pass through it. Key shapes:
 * `cookie:NAME:<token>`, `header:NAME:<token>`, `auth:<token>`,
 * `client:<token>:<n>`, `req:<n>` (a session of one request).
 *
 * `auto`, first match wins:
 * 1. the **server-set cookie** sent: the first cookie the server was ever
 *    seen setting with an id-like value (a session-looking name wins among
 *    those one response sets; never a stickiness cookie), when its name is
 *    session-like (`sid`, `session`, `JSESSIONID`, …);
 * 2. a **session-like request cookie** (`sid`, `session`, `JSESSIONID`,
 *    `PHPSESSID`, `connect.sid`, `_app_session`, …; see
 *    `isSessionCookieName`) with an id-like value: visits already under way
 *    when the capture began, whose cookie was set before it;
 * 3. the server-set cookie sent under another name (`vid`, `visitor_id`);
 * 4. the server-set cookie (then any session-like cookie) this response
 *    sets: the first request joins the session it starts;
 * 5. an **`Authorization` credential** (after cookies: access tokens are
 *    refreshed every few minutes, which would cut one visit into several,
 *    and a shared service token would lump clients together);
 * 6. with `auto+client`, client address + user agent; else the request is
 *    alone.
 *
 * Cookie keys are `cookie:NAME:<token>` whichever rule found them, and every
 * session cookie value seen with a session (a rotated value, a second
 * session cookie, the server's cookie set on a visit first keyed by a
 * request cookie) becomes an alias of its key (`CookieSessionKeys`): a
 * login that rotates the session id, or a server that sets its cookie on a
 * visit first seen mid-way, never splits the visit. `cookie:NAME` keys by
 * that cookie only, sent or set.
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
  private readonly cookies: CookieSessionKeys;
  private singles = 0;
  private clientSeq = 0;
  /** Session key → signed in by a login response. */
  private readonly loggedIn = new BoundedMap<string, boolean>(STATE_LIMIT);
  /** Client identity → { session key, last start µs }. */
  private readonly clients = new BoundedMap<string, { key: string; lastUs: number }>(STATE_LIMIT);

  /** `tokenize` is `redactor.token` (or null with --no-redact): cookie/token values in keys are never stored raw. */
  constructor(rule: SessionKeyRule, tokenize: ((value: string) => string) | null) {
    this.rule = rule;
    this.tokenize = tokenize ?? ((v) => v);
    this.cookies = new CookieSessionKeys(rule.kind === 'cookie' ? rule.name : null, this.tokenize, STATE_LIMIT);
  }

  /** Called when the response headers are known. Returns the session key (already redacted), whether signed in, and the rule. */
  assign(input: SessionInput): SessionAssignment {
    const set = setCookies(input.responseHeaders);
    const { key, by } = this.keyOf(input, set);
    return { sessionKey: key, signedIn: this.signedIn(key, input, set), keyedBy: by };
  }

  private keyOf(input: SessionInput, set: SetCookie[]): Keyed {
    switch (this.rule.kind) {
      case 'none':
        return this.single();
      case 'header': {
        const v = headerOf(input.requestHeaders, this.rule.name);
        if (v === undefined) return this.single();
        return { key: `header:${this.rule.name}:${this.tokenize(v)}`, by: `header:${this.rule.name}` };
      }
      case 'client':
        return this.clientKey(input, this.rule.idleUs);
      case 'auto': {
        const keyed = this.cookies.auto(input.requestHeaders, set) ?? this.authKey(input);
        if (keyed !== null) return keyed;
        return this.rule.clientIdleUs === undefined ? this.single() : this.clientKey(input, this.rule.clientIdleUs);
      }
      case 'cookie':
        return this.cookies.named(input.requestHeaders, set) ?? this.single();
    }
  }

  private authKey(input: SessionInput): Keyed | null {
    const auth = headerOf(input.requestHeaders, 'authorization');
    if (auth === undefined) return null;
    const space = auth.indexOf(' ');
    const credentials = space > 0 ? auth.slice(space + 1).trim() : auth;
    return credentials === '' ? null : { key: `auth:${this.tokenize(credentials)}`, by: 'auth' };
  }

  private clientKey(input: SessionInput, idleUs: number): Keyed {
    const xff = headerOf(input.requestHeaders, 'x-forwarded-for');
    const hop = xff?.split(',')[0]?.trim();
    const address = hop !== undefined && hop !== '' ? hop : input.clientAddress;
    const ua = headerOf(input.requestHeaders, 'user-agent') ?? '';
    const id = this.tokenize(`${address} ${ua}`);
    const seen = this.clients.get(id);
    if (seen !== undefined && input.startOffsetUs - seen.lastUs <= idleUs) {
      if (input.startOffsetUs > seen.lastUs) seen.lastUs = input.startOffsetUs;
      this.clients.set(id, seen); // refresh: active clients are forgotten last
      return { key: seen.key, by: 'client' };
    }
    // A fresh number per session, so a forgotten client can never merge into an old key.
    const key = `client:${id}:${this.clientSeq++}`;
    this.clients.set(id, { key, lastUs: input.startOffsetUs });
    return { key, by: 'client' };
  }

  private single(): Keyed {
    return { key: `req:${this.singles++}`, by: 'request' };
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
    const second = method === undefined ? this.cookies.sessionCookie : null;
    for (const c of set) if (!c.deleted && isSignInCookie(c.name, second)) return true;
    return requestHasSignInCookie(input.requestHeaders, second);
  }
}

function headerOf(headers: HeaderList, name: string): string | undefined {
  for (const [k, v] of headers) if (k === name && v !== '') return v;
  return undefined;
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
