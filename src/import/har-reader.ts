import { InputError, messageOf } from '../model/errors.js';
import { openInput } from './open-input.js';
import { JsonArrayScanner, JsonScanError, type ScannedElement } from './json-array-scanner.js';

/** One item of a HAR file, in file order: a page or an entry (the raw JSON objects). */
export type HarItem =
  | { kind: 'page'; index: number; page: Record<string, unknown> }
  | { kind: 'entry'; index: number; entry: Record<string, unknown> };

/**
 * Streams the pages and entries of a HAR file (`log.pages[*]`,
 * `log.entries[*]`) without parsing the whole document into memory: only
 * one entry is held at a time ({@link JsonArrayScanner}: structure scanned
 * byte by byte, each entry parsed by the native `JSON.parse`). Throws
 * {@link InputError} naming the file on invalid or truncated JSON, or when
 * the document has no `log.entries` array. A gzipped HAR is read too.
 */
export async function* readHar(path: string): AsyncGenerator<HarItem> {
  let sawEntries = false;
  let entries = 0;
  const scanner = new JsonArrayScanner((keys) => {
    if (keys.length !== 3 || keys[1] !== 'log') return false;
    if (keys[2] === 'entries') sawEntries = true;
    return keys[2] === 'entries' || keys[2] === 'pages';
  });
  const source = openInput(path, 'HAR file'); // gunzips a .har.gz
  const found: ScannedElement[] = [];
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      scanner.push(chunk, found);
      for (const item of found) {
        const obj = item.value as Record<string, unknown>;
        if (item.path.endsWith('.entries')) {
          yield { kind: 'entry', index: entries, entry: obj };
          entries++;
        } else {
          yield { kind: 'page', index: item.index, page: obj };
        }
      }
      found.length = 0;
    }
    scanner.end();
  } catch (e) {
    if (e instanceof JsonScanError) {
      throw new InputError(`Failed to read HAR file ${path}: invalid or truncated JSON after ${entries} entries (${e.message})`, { cause: e });
    }
    throw new InputError(`Failed to read HAR file ${path}: ${messageOf(e)}`, { cause: e });
  } finally {
    source.destroy();
  }
  if (!sawEntries) throw new InputError(`Failed to read HAR file ${path}: not a HAR file (no log.entries array)`);
}
