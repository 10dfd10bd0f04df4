import type { ActiveClone } from './active-clone.js';
import { applySetCookie } from './cookie-jar.js';
import { extractLive } from './correlation.js';
import type { RequestSlot } from './request-slot.js';

const NO_HEADERS = new Map<string, string>();

/**
 * What a response leaves in its clone: the cookies it set go into the jar,
 * and the values correlation wants from it (JSON fields, headers, Location
 * segments) into the clone's live values. Failed requests leave nothing.
 */
export function applyResponse(clone: ActiveClone, slot: RequestSlot, nowMs: number): void {
  if (slot.setCookies !== null) {
    const jar = (clone.jar ??= new Map());
    for (const c of slot.setCookies) applySetCookie(jar, c, nowMs);
  }
  const step = clone.plan.steps[slot.step]!;
  if (step.sources.length === 0 || slot.status === 0) return;
  let json: unknown;
  if (slot.chunks !== null) {
    try {
      json = JSON.parse(Buffer.concat(slot.chunks).toString('utf8'));
    } catch {
      json = undefined;
    }
  }
  const headers = slot.headers ?? NO_HEADERS;
  for (const src of step.sources) {
    const v = extractLive(src.extractor, headers, json);
    if (v !== undefined) clone.vars[src.varIndex] = v;
  }
}
