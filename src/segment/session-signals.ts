/**
 * Small helpers the sessionizer reads signals with: `Set-Cookie` parsing,
 * what looks like an auth cookie or a login path.
 */
import type { HeaderList } from '../model/exchange.js';

/** One `Set-Cookie` header: name, value, and whether it deletes the cookie. */
export interface SetCookie {
  name: string;
  value: string;
  /** `Max-Age=0` (or negative) or an `Expires` in the past: the server clears the cookie. */
  deleted: boolean;
}

/** Parses the response's `set-cookie` headers (name and value; only expiry attributes are read). */
export function setCookies(headers: HeaderList): SetCookie[] {
  let out: SetCookie[] | null = null;
  for (const [k, v] of headers) {
    if (k !== 'set-cookie') continue;
    const semi = v.indexOf(';');
    const pair = semi < 0 ? v : v.slice(0, semi);
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const attrs = semi < 0 ? '' : v.slice(semi + 1);
    (out ??= []).push({ name, value, deleted: value === '' || isExpiry(attrs) });
  }
  return out ?? [];
}

function isExpiry(attrs: string): boolean {
  const maxAge = /(?:^|;)\s*max-age\s*=\s*(-?\d+)/i.exec(attrs);
  if (maxAge) return Number(maxAge[1]) <= 0;
  const expires = /(?:^|;)\s*expires\s*=\s*([^;]+)/i.exec(attrs);
  if (expires) {
    const t = Date.parse(expires[1]!.trim());
    return Number.isFinite(t) && t < Date.parse('2000-01-01T00:00:00Z');
  }
  return false;
}

/**
 * Whether a cookie name looks like it carries a sign-in: `auth`, `token`,
 * `jwt`, `login`, `logged_in`, `remember_me`, `access_token`, `id_token`, …
 * Plain session ids (`sid`, `session`, `JSESSIONID`) are not: anonymous
 * visitors get those too.
 */
export function isAuthCookieName(name: string): boolean {
  return /auth|token|jwt|login|logged|remember|signed.?in|user.?id|^uid$/i.test(name);
}

const LOGIN_PATH_RE = /\/(?:log-?in|sign-?in|auth(?:enticate)?|sessions?|oauth2?\/token|token)\/?$/i;
const LOGOUT_PATH_RE = /\/(?:log-?out|sign-?out|logoff)\/?$/i;

function pathOnly(target: string): string {
  const q = target.search(/[?#]/);
  return q < 0 ? target : target.slice(0, q);
}

/** Whether a (POST) target looks like signing in: `/login`, `/api/signin`, `/auth`, `/sessions`, `/oauth/token`. */
export function isLoginTarget(target: string): boolean {
  return LOGIN_PATH_RE.test(pathOnly(target));
}

/** Whether a target looks like signing out: `/logout`, `/signout`, `/log-out`. */
export function isLogoutTarget(target: string): boolean {
  return LOGOUT_PATH_RE.test(pathOnly(target));
}
