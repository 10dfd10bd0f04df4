/**
 * Body redaction: picks the scanner by content type (JSON, form, multipart,
 * other text; binary types are never read), and handles gzip/deflate/br by
 * decompressing (bounded), redacting and re-compressing with the same
 * encoding only when something changed.
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { redactJsonText } from './redact-json.js';
import { isSecretKey, mayHoldSecret, redactCards, redactForm, type Tokenize } from './redact-text.js';

/** Largest decompressed body redaction will look into; bigger compressed bodies are stored unread. */
export const MAX_INFLATED_BYTES = 8 * 1024 * 1024;

type BodyKind = 'json' | 'form' | 'multipart' | 'text' | 'binary';

const BINARY_TYPE_RE = /^(?:image|audio|video|font)\/|^application\/(?:octet-stream|pdf|zip|gzip|x-gzip|x-tar|x-7z|x-rar|wasm|protobuf|x-protobuf|grpc|vnd\.google\.protobuf|msgpack|x-msgpack|cbor|avro|bson)/;

/** What kind of scan a content type gets; undefined or unknown types are sniffed from the bytes. */
function kindOf(contentType: string | undefined, bytes: Uint8Array): BodyKind {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/json' || ct.endsWith('+json') || ct === 'application/x-ndjson' || ct.endsWith('/jsonl') || ct === 'text/json') return 'json';
  if (ct === 'application/x-www-form-urlencoded') return 'form';
  if (ct === 'multipart/form-data' || ct === 'multipart/mixed') return 'multipart';
  if (BINARY_TYPE_RE.test(ct)) return 'binary';
  if (ct.startsWith('text/') || ct.endsWith('+xml') || ct.endsWith('/xml') || ct.includes('javascript') || ct === 'application/graphql') return 'text';
  return sniff(bytes);
}

function sniff(bytes: Uint8Array): BodyKind {
  const n = Math.min(bytes.length, 512);
  let first = -1;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12)) return 'binary';
    if (first < 0 && b !== 32 && b !== 9 && b !== 10 && b !== 13) first = b;
  }
  if (first === 123 || first === 91) return 'json';
  return 'text';
}

/** Redacts the text of one body (latin1 view) by kind; returns `text` itself when nothing changed. */
export function redactBodyText(text: string, kind: BodyKind, contentType: string | undefined, tokenize: Tokenize): string {
  if (kind === 'binary') return text;
  const formLike = kind === 'text' && looksLikeForm(text);
  const xml = kind === 'text' && !formLike && looksLikeXml(text, contentType);
  if (!mayHoldSecret(text, kind !== 'text' || formLike || xml)) return text;
  switch (kind) {
    case 'json':
      return redactJsonText(text, tokenize) ?? redactCards(text, tokenize);
    case 'form':
      return redactForm(text, tokenize);
    case 'multipart':
      return redactMultipart(text, contentType, tokenize);
    case 'text':
      // A text body that reads like a form (`user=a&password=b`) is treated as one.
      if (formLike) return redactForm(text, tokenize);
      return redactCards(xml ? redactXml(text, tokenize) : text, tokenize);
  }
}

function looksLikeXml(text: string, contentType: string | undefined): boolean {
  return /xml/i.test(contentType ?? '') || /^\s*<\?xml/.test(text.slice(0, 64));
}

/** `<password>x</password>`, `<ns:Token>x</ns:Token>`: text of secret-named leaf elements. */
const XML_LEAF_RE = /<((?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*))(\s[^<>]*)?>([^<]+)<\/\1\s*>/g;

/** Redacts the text of XML leaf elements whose local name is secret (SOAP logins, payment XML). */
function redactXml(text: string, tokenize: Tokenize): string {
  return text.replace(XML_LEAF_RE, (whole, qname: string, local: string, attrs: string | undefined, value: string) => {
    if (!isSecretKey(local) || value.startsWith('redacted:') || value.trim() === '') return whole;
    return `<${qname}${attrs ?? ''}>${tokenize(Buffer.from(value, 'latin1').toString('utf8'))}</${qname}>`;
  });
}

/** `a=b&c=d` with no spaces or line breaks (checked on the first 4 KiB). */
function looksLikeForm(text: string): boolean {
  return /^[\w.%[\]-]+=[^\s]*$/.test(text.length > 4096 ? text.slice(0, 4096) : text);
}

function redactMultipart(text: string, contentType: string | undefined, tokenize: Tokenize): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = m ? (m[1] ?? m[2])! : null;
  if (boundary === null) return redactCards(text, tokenize);
  const delimiter = '--' + boundary;
  const parts = text.split(delimiter);
  let changed = false;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd < 0) continue;
    const head = part.slice(0, headEnd);
    const bodyStart = headEnd + 4;
    const bodyEnd = part.endsWith('\r\n') ? part.length - 2 : part.length;
    const content = part.slice(bodyStart, bodyEnd);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    const isFile = /filename=/i.test(head);
    const partType = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1];
    let next = content;
    if (name !== undefined && !isFile && isSecretKey(name) && content !== '' && !content.startsWith('redacted:')) {
      next = tokenize(Buffer.from(content, 'latin1').toString('utf8'));
    } else if (!isFile || (partType !== undefined && kindOf(partType, Buffer.alloc(0)) !== 'binary')) {
      next = redactBodyText(content, isFile ? kindOf(partType, Buffer.from(content.slice(0, 512), 'latin1')) : 'text', partType, tokenize);
    }
    if (next !== content) {
      parts[i] = part.slice(0, bodyStart) + next + part.slice(bodyEnd);
      changed = true;
    }
  }
  return changed ? parts.join(delimiter) : text;
}

type Codec = { decode: (b: Uint8Array) => Buffer; encode: (b: Buffer) => Buffer };

const limits = { maxOutputLength: MAX_INFLATED_BYTES };
const CODECS: Record<string, Codec> = {
  gzip: {
    decode: (b) => gunzipSync(b, { ...limits, finishFlush: constants.Z_SYNC_FLUSH }),
    encode: (b) => gzipSync(b),
  },
  deflate: {
    decode: (b) => inflateSync(b, { ...limits, finishFlush: constants.Z_SYNC_FLUSH }),
    encode: (b) => deflateSync(b),
  },
  'deflate-raw': {
    decode: (b) => inflateRawSync(b, { ...limits, finishFlush: constants.Z_SYNC_FLUSH }),
    encode: (b) => deflateRawSync(b),
  },
  br: {
    decode: (b) => brotliDecompressSync(b, { ...limits, finishFlush: constants.BROTLI_OPERATION_FLUSH }),
    encode: (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
  },
};

/** Decompresses with the named encoding; null when unknown, too big, or unreadable. */
function decode(body: Uint8Array, encoding: string): { plain: Buffer; codec: Codec } | null {
  const name = encoding === 'x-gzip' ? 'gzip' : encoding;
  const codec = CODECS[name];
  if (codec === undefined) return null;
  try {
    return { plain: codec.decode(body), codec };
  } catch {
    // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
    if (name !== 'deflate') return null;
    try {
      return { plain: CODECS['deflate-raw']!.decode(body), codec: CODECS['deflate-raw']! };
    } catch {
      return null;
    }
  }
}

/**
 * Redacts one body. `contentEncoding` (`gzip`, `br`, `deflate`, or null)
 * says how the bytes are encoded; an encoded body is decompressed (up to
 * {@link MAX_INFLATED_BYTES}), redacted, and re-compressed with the same
 * encoding only if something changed. Binary content types are never read.
 * Returns `body` itself when nothing changed.
 */
export function redactBodyBytes(body: Uint8Array, contentType: string | undefined, contentEncoding: string | null, tokenize: Tokenize): Uint8Array {
  if (body.length === 0) return body;
  // Known binary types are skipped before paying for any decompression.
  if (contentType !== undefined && BINARY_TYPE_RE.test(contentType.split(';')[0]!.trim().toLowerCase())) return body;
  const enc = (contentEncoding ?? '').trim().toLowerCase();
  let plain: Uint8Array = body;
  let codec: Codec | null = null;
  if (enc !== '' && enc !== 'identity') {
    const decoded = decode(body, enc);
    if (decoded === null) return body;
    plain = decoded.plain;
    codec = decoded.codec;
  }
  const kind = kindOf(contentType, plain);
  if (kind === 'binary') return body;
  const buf = Buffer.isBuffer(plain) ? plain : Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  const text = buf.toString('latin1');
  const red = redactBodyText(text, kind, contentType, tokenize);
  if (red === text) return body;
  const bytes = Buffer.from(red, 'latin1');
  return codec === null ? bytes : codec.encode(bytes);
}
