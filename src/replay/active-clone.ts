import type { CookieJar } from './cookie-jar.js';
import type { CloneState } from './request-builder.js';
import type { SessionPlan } from './session-plan.js';

/** A clone while it runs: its plan, cookie jar, live values and how many steps are left. */
export class ActiveClone implements CloneState {
  jar: CookieJar | null = null;
  vars: Array<string | undefined>;
  remaining: number;

  constructor(readonly plan: SessionPlan, readonly startUs: number) {
    this.vars = plan.vars > 0 ? new Array(plan.vars) : [];
    this.remaining = plan.steps.length;
  }
}
