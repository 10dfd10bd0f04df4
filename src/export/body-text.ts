import { brotliDecompressSync, constants, gunzipSync, inflateSync } from 'node:zlib';

const TEXT_MIME = /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|ecmascript|x-www-form-urlencoded|graphql|x-ndjson))/i;

/**
 * Decodes a stored body for export: undoes `content-encoding` (gzip,
 * deflate, br; a truncated stream gives what could be decoded; an
 * undecodable one is returned as stored).
 */
export function decodeBody(body: Uint8Array, encoding: string | null): Uint8Array {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  const flush = { finishFlush: constants.Z_SYNC_FLUSH };
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(body, flush);
    if (enc === 'deflate') return inflateSync(body, flush);
    if (enc === 'br') return brotliDecompressSync(body, { finishFlush: constants.BROTLI_OPERATION_FLUSH });
  } catch {
    // keep as stored
  }
  return body;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A body as HAR/k6 text: `{ text }` when it is valid UTF-8 and the content
 * type is textual (or unknown), else `{ text: <base64>, base64: true }`.
 */
export function bodyAsText(body: Uint8Array, contentType: string | undefined): { text: string; base64: boolean } {
  const textual = contentType === undefined || contentType === '' || TEXT_MIME.test(contentType);
  if (textual) {
    try {
      return { text: utf8.decode(body), base64: false };
    } catch {
      // binary after all
    }
  }
  return { text: Buffer.from(body).toString('base64'), base64: true };
}
