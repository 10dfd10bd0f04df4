import type { ErrorKind } from '../model/exchange.js';

/** Thrown into undici when a request passes `--timeout`. */
export class RequestTimeoutError extends Error {
  readonly code = 'FB_REQUEST_TIMEOUT';
  constructor() {
    super('request timed out');
  }
}

/** Maps an undici or socket error to the error kinds run.json counts. */
export function errorKindOf(err: unknown): ErrorKind {
  const e = err as { code?: string; name?: string; message?: string; cause?: unknown } | null;
  const code = e?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'reset';
    case 'FB_REQUEST_TIMEOUT':
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
    default:
      break;
  }
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO') return 'protocol';
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SSL/.test(code)) return 'tls';
  if (e?.cause && e.cause !== err) return errorKindOf(e.cause);
  return 'other';
}
