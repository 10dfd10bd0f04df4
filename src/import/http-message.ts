/** A raw HTTP/1.x message split into its parts. */
export interface HttpMessage {
  /** Request: [method, target, version]; response: [version, status, reason]. */
  startLine: [string, string, string];
  /** Header pairs as written (names not yet lower-cased). */
  headers: Array<[string, string]>;
  /** Body bytes after de-chunking, or null when empty. */
  body: Uint8Array | null;
}

/** Why a raw message could not be parsed. */
export class HttpMessageError extends Error {}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

/**
 * Parses a raw HTTP/1.x request or response as captured on the wire
 * (GoReplay payloads). Tolerates bare-LF line ends and a body cut short by
 * the capture; decodes `transfer-encoding: chunked` (keeping the raw bytes
 * when the chunking is itself cut short). Throws {@link HttpMessageError}.
 */
export function parseHttpMessage(buf: Buffer, kind: 'request' | 'response'): HttpMessage {
  let end = buf.indexOf(CRLFCRLF);
  let sepLen = 4;
  const lf = buf.indexOf(LFLF);
  if (end < 0 || (lf >= 0 && lf < end)) {
    end = lf;
    sepLen = 2;
  }
  const head = (end < 0 ? buf : buf.subarray(0, end)).toString('latin1');
  const rest = end < 0 ? Buffer.alloc(0) : buf.subarray(end + sepLen);
  const lines = head.split(/\r?\n/);
  const first = lines[0] ?? '';
  const startLine = parseStartLine(first, kind);
  const headers: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpMessageError(`bad header line "${truncate(line)}"`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  let body: Buffer = rest;
  const te = headers.find(([n]) => n.toLowerCase() === 'transfer-encoding')?.[1].toLowerCase() ?? '';
  if (te.includes('chunked')) body = dechunk(rest) ?? rest;
  return { startLine, headers, body: body.length > 0 ? new Uint8Array(body) : null };
}

function parseStartLine(line: string, kind: 'request' | 'response'): [string, string, string] {
  if (kind === 'request') {
    const m = /^([A-Z][A-Z0-9_-]*) (\S+) (HTTP\/\d(?:\.\d)?)$/.exec(line);
    if (!m) throw new HttpMessageError(`bad request line "${truncate(line)}"`);
    return [m[1]!, m[2]!, m[3]!];
  }
  const m = /^(HTTP\/\d(?:\.\d)?) (\d{3})(?: (.*))?$/.exec(line);
  if (!m) throw new HttpMessageError(`bad status line "${truncate(line)}"`);
  return [m[1]!, m[2]!, m[3] ?? ''];
}

/** Decodes a chunked body; null when the chunking is malformed or cut short. */
export function dechunk(buf: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return null;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) return null;
    if (size === 0) return Buffer.concat(parts);
    const start = eol + 2;
    if (start + size > buf.length) return null;
    parts.push(buf.subarray(start, start + size));
    pos = start + size + 2;
  }
}

function truncate(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
