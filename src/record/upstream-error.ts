import type { ErrorKind } from '../model/exchange.js';

/** How an upstream failure is recorded and answered. */
export interface UpstreamFailure {
  kind: ErrorKind;
  /** Status the client gets when no response has started: 504 for timeouts, else 502. */
  status: 502 | 504;
  /** One line for people: `connect ECONNREFUSED 127.0.0.1:1`. */
  detail: string;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|EPROTO$)/;

function codeOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return '';
}

function kindOf(code: string, message: string): ErrorKind {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'reset';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
      return 'dns';
    case 'UND_ERR_ABORTED':
      return 'aborted';
    case 'HPE_INVALID_CONSTANT':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_INFO':
      return 'protocol';
  }
  if (TLS_CODES.test(code)) return 'tls';
  if (code.startsWith('HPE_')) return 'protocol';
  if (/other side closed|socket hang up/i.test(message)) return 'reset';
  return 'other';
}

/** Classifies an error from undici (or a socket) into an {@link UpstreamFailure}. */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const kind = kindOf(code, message);
  const detail = code && !message.includes(code) ? `${code}: ${message}` : message;
  return { kind, status: kind === 'timeout' ? 504 : 502, detail: detail.split('\n')[0]!.slice(0, 300) };
}

/** The short JSON body the client gets for an upstream failure. */
export function failureBody(failure: UpstreamFailure): string {
  return JSON.stringify({ error: 'upstream_unreachable', kind: failure.kind, detail: failure.detail });
}
