/**
 * A clone's cookies: name → value, as the target set them during replay.
 * Domain and path are ignored (one target origin); `Max-Age=0` or a past
 * `Expires` deletes.
 */
export type CookieJar = Map<string, string>;

/** Applies one `Set-Cookie` header value to `jar`. */
export function applySetCookie(jar: CookieJar, header: string, nowMs: number): void {
  const semi = header.indexOf(';');
  const pair = semi < 0 ? header : header.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq <= 0) return;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  let expired = false;
  if (semi >= 0) {
    const attrs = header.slice(semi + 1).toLowerCase();
    const maxAge = /(?:^|;)\s*max-age\s*=\s*(-?\d+)/.exec(attrs);
    if (maxAge) expired = Number(maxAge[1]) <= 0;
    else {
      const expires = /(?:^|;)\s*expires\s*=\s*([^;]+)/.exec(attrs);
      if (expires) {
        const t = Date.parse(expires[1]!);
        expired = Number.isFinite(t) && t <= nowMs;
      }
    }
  }
  if (expired) jar.delete(name);
  else jar.set(name, value);
}

/**
 * The `Cookie` header for a request: recorded cookie names in order, with the
 * jar's live value where it has one; a cookie the server set in the recorded
 * session but not in replay is left out, and so is a recorded `redacted:`
 * value (counted in `dropped`). Cookies only the jar has come last.
 * Returns '' when there is nothing to send.
 */
export function cookieHeader(
  recorded: ReadonlyArray<[string, string]>,
  jar: CookieJar | null,
  serverCookies: ReadonlySet<string>,
  dropped: { count: number },
): string {
  let out = '';
  let seen: Set<string> | null = null;
  for (const [name, value] of recorded) {
    const live = jar?.get(name);
    let v: string;
    if (live !== undefined) v = live;
    else if (serverCookies.has(name)) continue;
    else if (value.startsWith('redacted:')) {
      dropped.count++;
      continue;
    } else v = value;
    out += (out ? '; ' : '') + name + '=' + v;
    (seen ??= new Set()).add(name);
  }
  if (jar) for (const [name, value] of jar) if (!seen?.has(name)) out += (out ? '; ' : '') + name + '=' + value;
  return out;
}
