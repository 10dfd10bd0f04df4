import { InputError, messageOf } from '../model/errors.js';
import { headerValue } from '../model/exchange.js';
import { authorityOf, normalizeHeaders } from './headers.js';
import { HttpMessageError, parseHttpMessage } from './http-message.js';
import { openInput } from './open-input.js';
import type { ImportStats, RawExchange } from './raw-exchange.js';

/** GoReplay's payload separator (`payloadSeparator` in its protocol.go). */
export const GOR_SEPARATOR = Buffer.from('\n🐵🙈🙉\n', 'utf8');

/** The meta line that starts every GoReplay payload: `<type> <id> <timestamp-ns> [<latency-ns>] …`. */
export interface GorMeta {
  /** 1 request, 2 response, 3 replayed response. */
  type: 1 | 2 | 3;
  id: string;
  /** Timestamp in ns as a bigint (epoch ns do not fit a double exactly). */
  timestampNs: bigint;
  /** Latency in ns, or null when the payload has none (requests). */
  latencyNs: bigint | null;
}

const META_RE = /^([123]) ([0-9A-Za-z_-]+) (-?\d+)(?: (-?\d+))?(?: .*)?$/;
// A payload meta line followed by an HTTP start line inside a payload means the file
// was not split on GoReplay's separator.
const EMBEDDED_PAYLOAD_RE = /\n[123] [0-9a-f]{8,} \d{9,}(?: -?\d+)?\r?\n(?:HTTP\/1\.\d \d{3}|[A-Z]+ \S+ HTTP\/1\.\d)/;

/** Parses a payload's meta line; null when it is not one. */
export function parseGorMeta(line: string): GorMeta | null {
  const m = META_RE.exec(line.trim());
  if (!m) return null;
  return {
    type: Number(m[1]) as 1 | 2 | 3,
    id: m[2]!,
    timestampNs: BigInt(m[3]!),
    latencyNs: m[4] === undefined ? null : BigInt(m[4]),
  };
}

/** Splits a stream of bytes on {@link GOR_SEPARATOR}, yielding each payload (the last one may lack a separator). */
export async function* splitGorPayloads(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (;;) {
      const i = pending.indexOf(GOR_SEPARATOR, start);
      if (i < 0) break;
      yield pending.subarray(start, i);
      start = i + GOR_SEPARATOR.length;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0 && pending.toString('latin1').trim() !== '') yield pending;
}

interface PendingRequest {
  meta: GorMeta;
  payload: Buffer;
}

/** Requests still waiting for their response before they are released without one. */
const MAX_PENDING = 10_000;

/**
 * Reads a GoReplay `.gor` file (optionally gzipped): payloads separated by
 * `\n🐵🙈🙉\n`, each a meta line `1|2|3 <id> <timestamp-ns> [<latency-ns>]`
 * and a raw HTTP message. Requests (1) are paired with responses (2) by id;
 * replayed responses (3) are skipped and counted. A request whose response
 * never comes (GoReplay captures requests only unless told otherwise) is
 * kept with no status. Fatal problems (no GoReplay meta line, payloads not
 * split on the separator) throw {@link InputError} naming the payload.
 */
export async function* readGor(path: string, stats: ImportStats): AsyncGenerator<RawExchange> {
  const pending = new Map<string, PendingRequest>();
  let index = 0;
  let withoutResponse = 0;
  const stream = openInput(path, 'GoReplay file');
  try {
    for await (const payload of splitGorPayloads(stream)) {
      index++;
      const nl = payload.indexOf(0x0a);
      const metaLine = (nl < 0 ? payload : payload.subarray(0, nl)).toString('utf8');
      const meta = parseGorMeta(metaLine);
      if (!meta) {
        throw new InputError(
          `Failed to read GoReplay file ${path}: payload ${index} does not start with a GoReplay meta line ("1 <id> <timestamp-ns>"), got "${metaLine.slice(0, 40)}"`,
        );
      }
      const http = payload.subarray(nl + 1);
      if (EMBEDDED_PAYLOAD_RE.test(http.toString('latin1'))) {
        throw new InputError(
          `Failed to read GoReplay file ${path}: payload ${index} holds several messages: the file is not split on GoReplay's separator line (🐵🙈🙉)`,
        );
      }
      if (meta.type === 3) {
        stats.skip('replayed response (type 3)');
        continue;
      }
      if (meta.type === 1) {
        if (pending.has(meta.id)) stats.skip('duplicate request id');
        pending.set(meta.id, { meta, payload: http });
        if (pending.size > MAX_PENDING) {
          const [oldId, old] = pending.entries().next().value as [string, PendingRequest];
          pending.delete(oldId);
          const ex = toExchange(old, null, stats);
          if (ex) {
            withoutResponse++;
            yield ex;
          }
        }
        continue;
      }
      const req = pending.get(meta.id);
      if (!req) {
        stats.skip('response without a request');
        continue;
      }
      pending.delete(meta.id);
      const ex = toExchange(req, { meta, payload: http }, stats);
      if (ex) yield ex;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`Failed to read GoReplay file ${path}: ${messageOf(e)}`, { cause: e });
  } finally {
    stream.destroy();
  }
  for (const req of pending.values()) {
    const ex = toExchange(req, null, stats);
    if (ex) {
      withoutResponse++;
      yield ex;
    }
  }
  if (index === 0) throw new InputError(`Failed to read GoReplay file ${path}: the file holds no payloads`);
  if (withoutResponse > 0) {
    stats.notes.push(`${withoutResponse} requests had no captured response (GoReplay records responses only with --input-raw-track-response); they are kept without a status`);
  }
}

function toExchange(req: PendingRequest, res: PendingRequest | null, stats: ImportStats): RawExchange | null {
  let request;
  try {
    request = parseHttpMessage(req.payload, 'request');
  } catch (e) {
    if (e instanceof HttpMessageError) {
      stats.skip('unparseable request payload');
      return null;
    }
    throw e;
  }
  let response = null;
  if (res) {
    try {
      response = parseHttpMessage(res.payload, 'response');
    } catch (e) {
      if (!(e instanceof HttpMessageError)) throw e;
      stats.skip('unparseable response payload (request kept)');
    }
  }
  const [method, rawTarget] = request.startLine;
  const requestHeaders = normalizeHeaders(request.headers);
  let target = rawTarget;
  let host = authorityOf(request.headers);
  let scheme: 'http' | 'https' = 'http';
  if (/^https?:\/\//i.test(rawTarget)) {
    // Absolute-form target (a forward proxy's traffic).
    const u = new URL(rawTarget);
    target = u.pathname + u.search;
    host = u.host;
    scheme = u.protocol === 'https:' ? 'https' : 'http';
  }
  const startUs = Number(req.meta.timestampNs / 1000n);
  let durationUs = 0;
  if (res) {
    if (res.meta.latencyNs !== null && res.meta.latencyNs >= 0n) durationUs = Number(res.meta.latencyNs / 1000n);
    else if (res.meta.timestampNs > req.meta.timestampNs) durationUs = Number((res.meta.timestampNs - req.meta.timestampNs) / 1000n);
  }
  const responseHeaders = response ? normalizeHeaders(response.headers) : [];
  const forwarded = headerValue(requestHeaders, 'x-forwarded-for')?.split(',')[0]?.trim();
  return {
    startUs,
    durationUs,
    method,
    target,
    host,
    scheme,
    clientAddress: headerValue(requestHeaders, 'x-real-ip') ?? forwarded ?? '',
    requestHeaders,
    requestBody: request.body,
    status: response ? Number(response.startLine[1]) : null,
    responseHeaders,
    responseBody: response?.body ?? null,
    // Captured on the wire: the body is still encoded as the server sent it.
    responseEncoding: headerValue(responseHeaders, 'content-encoding')?.toLowerCase() ?? null,
    mimeType: headerValue(responseHeaders, 'content-type') ?? null,
    error: null,
    errorDetail: null,
  };
}
