import { errorKindOf } from '../model/error-kind.js';
import type { ErrorKind } from '../model/exchange.js';

/** How an upstream failure is recorded and answered. */
export interface UpstreamFailure {
  kind: ErrorKind;
  /** Status the client gets when no response has started: 504 for timeouts, else 502. */
  status: 502 | 504;
  /** One line for people: `connect ECONNREFUSED 127.0.0.1:1`. */
  detail: string;
}

function codeOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return '';
}

/** Classifies an error from undici (or a socket) into an {@link UpstreamFailure}. */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const kind = errorKindOf(err);
  const detail = code && !message.includes(code) ? `${code}: ${message}` : message;
  return { kind, status: kind === 'timeout' ? 504 : 502, detail: detail.split('\n')[0]!.slice(0, 300) };
}

/** The short JSON body the client gets for an upstream failure. */
export function failureBody(failure: UpstreamFailure): string {
  return JSON.stringify({ error: 'upstream_unreachable', kind: failure.kind, detail: failure.detail });
}
