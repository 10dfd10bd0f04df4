import { createRequire } from 'node:module';

/**
 * Node's own HTTP/1.1 parser (llhttp, the one behind node:http), for the
 * relay (`relay.ts`). Parsing with the same parser as node:http keeps what
 * the proxy accepts and refuses exactly what it was with a node:http server;
 * the parser is reached through `_http_common`, which Node 20 exposes but
 * does not document, so this file is the one place that knows its shape.
 */

/** Callbacks are set by index, as node:http does (`parser[HTTPParser.kOnBody] = …`). */
export interface NativeParser {
  [slot: number]: unknown;
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes parsed, or an Error with `code` (`HPE_…`), `reason` and `bytesParsed`. */
  execute(data: Buffer): number | (Error & { code?: string; reason?: string; bytesParsed?: number });
  /** Tells the parser the stream ended (a body read until the close completes here). */
  finish(): number | Error;
  close(): void;
  free(): void;
}

export interface NativeParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  kLenientNone: number;
}

const common = createRequire(import.meta.url)('_http_common') as { HTTPParser: NativeParserClass; methods: string[] };

export const HTTPParser: NativeParserClass = common.HTTPParser;
/** Method names by the index `kOnHeadersComplete` gives. */
export const METHODS: readonly string[] = common.methods;

/** `kOnHeadersComplete(versionMajor, versionMinor, headers, method, url, statusCode, statusMessage, upgrade, shouldKeepAlive)`. */
export type HeadersComplete = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number | undefined,
  statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;
