import type { HttpClient } from './http-client.js';
import type { CookieJar } from './cookie-jar.js';
import type { CloneState } from './request-builder.js';
import type { SessionPlan } from './session-plan.js';

/** A clone while it runs: its plan, cookie jar, live values, connections and what it still has to do. */
export class ActiveClone implements CloneState {
  jar: CookieJar | null = null;
  vars: Array<string | undefined>;
  /** Steps queued or in flight; the clone ends when this drops to 0. */
  pending = 0;
  /** Its idle connections (per-clone mode), null when it holds none. */
  idle: HttpClient[] | null = null;

  constructor(
    readonly plan: SessionPlan,
    readonly startUs: number,
    /** Unique to this copy in this run (see `PER_CLONE_HEADERS`). */
    readonly tag: string,
    /** The runner side (target) it sends to: 0 `--target`, 1 `--against`. */
    readonly side = 0,
    /** In a paired replay, this copy's request goes first when both targets' are due at the same time. */
    readonly leads = true,
  ) {
    this.vars = plan.vars > 0 ? new Array(plan.vars) : [];
  }
}
