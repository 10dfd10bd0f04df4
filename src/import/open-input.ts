import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../model/errors.js';

/**
 * Opens an input file for streaming, gunzipping it when it starts with the
 * gzip magic bytes (rotated logs, GoReplay `.gor.gz`). Throws
 * {@link InputError} naming the file when it cannot be opened.
 */
export function openInput(path: string, what: string): Readable {
  let gz = false;
  try {
    const fd = openSync(path, 'r');
    try {
      const magic = Buffer.alloc(2);
      const n = readSync(fd, magic, 0, 2, 0);
      gz = n === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code ?? e);
    throw new InputError(`Failed to read ${what} ${path}: ${why}`, { cause: e });
  }
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gz) return file;
  const gunzip = createGunzip();
  file.on('error', (e) => gunzip.destroy(e));
  return file.pipe(gunzip);
}
