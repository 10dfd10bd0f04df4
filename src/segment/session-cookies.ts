/**
 * Which cookies can identify a session: the one a server sets (chosen among
 * those one response sets), and session-like cookies a request carries when
 * the capture never saw them set. Load-balancer stickiness cookies never
 * qualify: their value names a backend that many clients share.
 */
import type { HeaderList } from '../model/exchange.js';
import { requestCookie } from './cohort.js';
import { BoundedMap } from '../model/bounded-map.js';
import type { SetCookie } from './session-signals.js';

/**
 * Load-balancer stickiness cookies: AWS (`AWSALB`, `AWSALBCORS`, `AWSALBTG…`,
 * `AWSELB`), F5 (`BIGipServer…`), HAProxy/Apache (`SERVERID`, `ROUTEID`,
 * `route`), nginx ingress (`INGRESSCOOKIE`), Azure (`ARRAffinity…`), Google
 * Cloud (`GCLB`), Citrix (`NSC_…`), Tomcat's `JROUTE`, Cloudflare's
 * `__cfruid`, and anything named `lb…` or `sticky…`.
 */
const STICKY_COOKIE_RE =
  /^(?:awsalb\w*|awselb\w*|bigipserver.*|serverid|routeid|route|jroute|ingresscookie|arraffinity\w*|gclb|nsc_.*|__cfruid|lb[-_]?\w*|sticky\w*)$/i;

/** Whether `name` is a load-balancer stickiness cookie (never a session key). */
export function isStickyCookieName(name: string): boolean {
  return STICKY_COOKIE_RE.test(name);
}

/**
 * Session cookie names, matched case-insensitively after a `__Host-` or
 * `__Secure-` prefix: `sid`, `sess`, `session`, `sessionid`, `session_id`,
 * `sessid`, anything ending in one of those after `.`, `_`, `-` or `:`
 * (`connect.sid`, `_session_id`, `laravel_session`, `ci_session`,
 * `ASP.NET_SessionId`, Rails' `_<app>_session`, `rack.session`,
 * `PLAY_SESSION`, `koa.sess`, `express:sess`, `beaker.session.id`), and the
 * run-together classics `JSESSIONID`, `PHPSESSID`, `ASPSESSIONID…` and
 * Drupal's `SESS<hash>`/`SSESS<hash>`. Not session tokens (`session_token`,
 * `next-auth.session-token`), signatures (`koa.sess.sig`) or visitor ids.
 */
const SESSION_NAME_RE =
  /^(?:(?:[\w.:-]*[._:-])?(?:sess(?:ion)?(?:[._-]?id)?|sid)|jsessionid|phpsessid|aspsessionid\w*|s?sess[0-9a-f]{32,})$/i;

/** Whether `name` looks like a session cookie's (see `SESSION_NAME_RE`), and is not a stickiness cookie. */
export function isSessionCookieName(name: string): boolean {
  const bare = name.replace(/^__(?:host|secure)-/i, '');
  return SESSION_NAME_RE.test(bare) && !STICKY_COOKIE_RE.test(bare);
}

/** An id-like value: 8+ characters with a digit or mixed case (`en`, `true`, `dark`, `deleted` are not). */
export function looksLikeId(value: string): boolean {
  return value.length >= 8 && (/\d/.test(value) || (/[a-z]/.test(value) && /[A-Z]/.test(value)));
}

/**
 * The cookie that identifies sessions among those one response sets: only
 * cookies whose value looks like an id, so a `locale=en` or `consent=true`
 * that every visitor shares can never lump them into one session, and no
 * stickiness cookie; a session-looking name wins, else the first.
 */
export function pickSessionCookie(set: SetCookie[]): string | null {
  const ids = set.filter((c) => !c.deleted && looksLikeId(c.value) && !STICKY_COOKIE_RE.test(c.name));
  if (ids.length === 0) return null;
  const sessionLike = ids.find((c) => /sess|sid|^id$|visitor|^vid$|uid/i.test(c.name));
  return (sessionLike ?? ids[0]!).name;
}

/**
 * The session-like cookies a request carries (name and value, in header
 * order): a session cookie name ({@link isSessionCookieName}) with an
 * id-like value. Usually none or one.
 */
export function requestSessionCookies(headers: HeaderList): Array<{ name: string; value: string }> {
  let out: Array<{ name: string; value: string }> | null = null;
  for (const [k, v] of headers) {
    if (k !== 'cookie') continue;
    for (const part of v.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      let value = part.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (looksLikeId(value) && isSessionCookieName(name)) (out ??= []).push({ name, value });
    }
  }
  return out ?? [];
}

/** A session key and the rule that gave it (`cookie-set:NAME`, `cookie-request:NAME`). */
export interface CookieKeyed {
  key: string;
  by: string;
}

interface Candidate {
  name: string;
  token: string;
  by: string;
}

/**
 * Session keys from cookies, with the memory that keeps a visit whole: every
 * session cookie value seen with a session (a rotated value, a second
 * session cookie, the server's cookie set on a visit first keyed by a
 * request cookie) becomes an alias of that session's key. Keys are
 * `cookie:NAME:<token>` whichever rule found them, so a request cookie and
 * the same cookie seen being set give the same key even without an alias.
 */
export class CookieSessionKeys {
  /** The server-set session cookie (learned from the first id-like `Set-Cookie`, or named by `cookie:NAME`). */
  sessionCookie: string | null;
  private readonly tokenize: (value: string) => string;
  /** Cookie value (tokenized) → the session key it belongs to. */
  private readonly aliases: BoundedMap<string, string>;

  constructor(sessionCookie: string | null, tokenize: (value: string) => string, limit: number) {
    this.sessionCookie = sessionCookie;
    this.tokenize = tokenize;
    this.aliases = new BoundedMap(limit);
  }

  /**
   * `auto`'s cookie rules. Candidates, in precedence order:
   * 1. the server-set cookie sent, when its name is session-like;
   * 2. session-like request cookies ({@link requestSessionCookies}), in header order;
   * 3. the server-set cookie sent, under another name (`vid`, `visitor`);
   * 4. the server-set cookie this response sets (the first request joins the session it starts);
   * 5. session-like cookies this response sets under other names.
   * The first candidate already aliased to a session gives that session;
   * else the first candidate gives `cookie:NAME:<token>`. Every other
   * candidate becomes an alias of the key. Null when there is none.
   */
  auto(requestHeaders: HeaderList, set: SetCookie[]): CookieKeyed | null {
    if (this.sessionCookie === null) this.sessionCookie = pickSessionCookie(set);
    const server = this.sessionCookie;
    const candidates: Candidate[] = [];
    const sent = server === null ? undefined : requestCookie(requestHeaders, server);
    const sentSessionLike = server !== null && isSessionCookieName(server);
    const serverSent = sent !== undefined && sent !== '' ? this.candidate(server!, sent, 'cookie-request') : null;
    if (serverSent && sentSessionLike) candidates.push(serverSent);
    for (const c of requestSessionCookies(requestHeaders)) {
      if (c.name !== server) candidates.push(this.candidate(c.name, c.value, 'cookie-request'));
    }
    if (serverSent && !sentSessionLike) candidates.push(serverSent);
    for (const c of set) {
      if (c.deleted || c.value === '') continue;
      if (c.name === server) candidates.push(this.candidate(c.name, c.value, 'cookie-set'));
    }
    for (const c of set) {
      if (!c.deleted && c.name !== server && looksLikeId(c.value) && isSessionCookieName(c.name)) {
        candidates.push(this.candidate(c.name, c.value, 'cookie-set'));
      }
    }
    return this.choose(candidates);
  }

  /** `cookie:NAME`: the cookie sent, else the one this response sets; a new value set beside a sent one is a rotation. */
  named(requestHeaders: HeaderList, set: SetCookie[]): CookieKeyed | null {
    const name = this.sessionCookie!;
    const candidates: Candidate[] = [];
    const sent = requestCookie(requestHeaders, name);
    if (sent !== undefined && sent !== '') candidates.push(this.candidate(name, sent, 'cookie-request'));
    const fresh = set.find((c) => c.name === name && !c.deleted && c.value !== '');
    if (fresh !== undefined) candidates.push(this.candidate(name, fresh.value, 'cookie-set'));
    return this.choose(candidates);
  }

  private candidate(name: string, value: string, source: string): Candidate {
    return { name, token: this.tokenize(value), by: `${source}:${name}` };
  }

  private choose(candidates: Candidate[]): CookieKeyed | null {
    if (candidates.length === 0) return null;
    let keyed: CookieKeyed | null = null;
    for (const c of candidates) {
      const known = this.aliases.get(c.token);
      if (known !== undefined) {
        keyed = { key: known, by: c.by };
        break;
      }
    }
    const first = candidates[0]!;
    keyed ??= { key: `cookie:${first.name}:${first.token}`, by: first.by };
    for (const c of candidates) {
      // A candidate whose own key shape is the session's needs no alias.
      if (`cookie:${c.name}:${c.token}` !== keyed.key && this.aliases.get(c.token) === undefined) this.aliases.set(c.token, keyed.key);
    }
    return keyed;
  }
}
