import type { ErrorKind } from './exchange.js';

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|EPROTO$)/;

/**
 * Maps an undici or socket error to the {@link ErrorKind} a recording and a
 * run.json count. One table for the recorder and the replayer, so a `reset`
 * means the same thing in both. Follows `cause` when the error itself says
 * nothing. `FB_REQUEST_TIMEOUT` is replay's own `--timeout`.
 */
export function errorKindOf(err: unknown): ErrorKind {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
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
    case 'EAI_NODATA':
    case 'EAI_NONAME':
      return 'dns';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_INFO':
      return 'protocol';
    default:
      break;
  }
  if (code.startsWith('HPE_')) return 'protocol';
  // undici 7's parser errors lose their HPE_ code (it looks the number up in a name-to-number table)
  if (e?.name === 'HTTPParserError') return 'protocol';
  if (TLS_CODES.test(code) || /CERT|SSL/.test(code)) return 'tls';
  if (e?.cause && e.cause !== err) {
    const inner = errorKindOf(e.cause);
    if (inner !== 'other') return inner;
  }
  const message = typeof e?.message === 'string' ? e.message : '';
  if (/other side closed|socket hang up/i.test(message)) return 'reset';
  return 'other';
}
