const STATIC_EXTENSIONS = new Set([
  'css', 'js', 'mjs', 'map', 'png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'svg', 'ico', 'bmp',
  'woff', 'woff2', 'ttf', 'otf', 'eot', 'mp4', 'webm', 'mp3', 'ogg', 'wav',
]);

const STATIC_MIME_PREFIXES = ['image/', 'font/', 'audio/', 'video/'];
const STATIC_MIME_TYPES = new Set([
  'text/css',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/ecmascript',
  'application/font-woff',
  'application/font-woff2',
  'application/x-font-ttf',
  'application/x-font-woff',
  'application/vnd.ms-fontobject',
]);

/**
 * True when a request fetched a static asset (image, font, stylesheet,
 * script, media): by the response's MIME type when known, else (unknown or generic type) by
 * the path's extension. Importers skip these by default: they say little about an
 * application's latency and usually come from a CDN.
 */
export function isStaticAsset(target: string, mimeType: string | null | undefined): boolean {
  if (mimeType) {
    const mime = mimeType.split(';')[0]!.trim().toLowerCase();
    if (STATIC_MIME_TYPES.has(mime)) return true;
    for (const p of STATIC_MIME_PREFIXES) if (mime.startsWith(p)) return true;
    // A known, specific type that is not static decides (an API at `/v1/app.js` stays).
    if (mime !== '' && mime !== 'x-unknown' && mime !== 'application/octet-stream') return false;
  }
  const q = target.search(/[?#]/);
  const path = q < 0 ? target : target.slice(0, q);
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot <= slash) return false;
  return STATIC_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}
