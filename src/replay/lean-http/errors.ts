/**
 * An error of the lean HTTP client. Its `code` is the one undici uses for the
 * same failure (`UND_ERR_SOCKET`, `UND_ERR_HEADERS_OVERFLOW`, an `HPE_*`
 * parser code...), so `errorKindOf` gives both clients' failures the same
 * kind without a second table.
 */
export class LeanHttpError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The server closed the connection before the response ended (`reset`). */
export function otherSideClosed(): LeanHttpError {
  return new LeanHttpError('other side closed', 'UND_ERR_SOCKET');
}

/** The response's head is larger than the client accepts. */
export function headersOverflow(): LeanHttpError {
  return new LeanHttpError('headers overflow', 'UND_ERR_HEADERS_OVERFLOW');
}

/** The response does not parse as HTTP/1.x (`protocol`). */
export function parseError(what: string, code = 'HPE_INVALID_CONSTANT'): LeanHttpError {
  return new LeanHttpError(`response does not parse: ${what}`, code);
}
