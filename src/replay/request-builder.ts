import { cookieHeader, type CookieJar } from './cookie-jar.js';
import { scrubRedactedBody } from './redacted-body.js';
import type { Substitution } from './correlation.js';
import { PER_CLONE_HEADERS, type RequestOptions, type SessionPlan, type Step } from './session-plan.js';

/** What a clone carries between its requests. */
export interface CloneState {
  jar: CookieJar | null;
  /** Live correlated values by variable index (undefined until a response gave one). */
  vars: Array<string | undefined>;
  /** Unique to this copy in this run: suffixes {@link PER_CLONE_HEADERS} values. */
  tag: string;
}

function decodeSafe(t: string): string {
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

function replacePathTokens(path: string, recorded: string, live: string): string {
  return path.replace(/[^/?&=#]+/g, (tok) => (decodeSafe(tok) === recorded ? encodeURIComponent(live) : tok));
}

/** The recorded value as a whole token (not part of a longer id): built once per substitution, not per request. */
function tokenPattern(sub: Substitution): RegExp {
  if (sub.bodyRe === undefined) {
    const escaped = sub.recorded.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    sub.bodyRe = new RegExp(`(?<![A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_-])`, 'g');
  }
  return sub.bodyRe;
}

/**
 * Builds the request of `step` for one clone: live correlated values in the
 * path, headers and body; the clone's cookies; headers whose recorded value
 * is a `redacted:` token with no live value are dropped and counted in
 * `dropped.count`; so are `redacted:` tokens still in the body after
 * substitution (JSON strings blanked, form fields dropped). Steps with `fixed` options never come here unless the
 * clone has cookies.
 */
export function buildRequest(plan: SessionPlan, step: Step, state: CloneState, dropped: { count: number }): RequestOptions {
  let path = step.path;
  let bodyText = step.bodyText;
  const varying: Array<[string, string]> = step.varying.map(([n, v]) => [n, v]);
  for (const sub of step.substitutions) {
    const live = state.vars[sub.varIndex];
    if (live === undefined || live === sub.recorded) continue;
    if (sub.inPath) path = replacePathTokens(path, sub.recorded, live);
    // replace() with a global RegExp starts from index 0 whatever lastIndex was
    if (sub.inBody && bodyText !== null) bodyText = bodyText.replace(tokenPattern(sub), () => live);
    for (const h of varying) if (sub.inHeaders.includes(h[0])) h[1] = h[1].split(sub.recorded).join(live);
  }
  const headers = step.headers.slice();
  for (const [name, value] of varying) {
    if (value.includes('redacted:')) dropped.count++;
    else headers.push(name, PER_CLONE_HEADERS.has(name) ? `${value}-${state.tag}` : value);
  }
  dropped.count += step.droppedRedacted;
  const cookie = cookieHeader(step.cookies, state.jar, plan.serverCookies, dropped);
  if (cookie !== '') headers.push('cookie', cookie);
  if (step.scrubBody !== null && bodyText !== null) {
    const scrubbed = scrubRedactedBody(bodyText, step.scrubBody, plan.secrets);
    bodyText = scrubbed.text;
    dropped.count += scrubbed.dropped;
  }
  const body = bodyText !== null && bodyText !== step.bodyText ? Buffer.from(bodyText) : step.body;
  return { path, method: step.method, headers, body };
}
