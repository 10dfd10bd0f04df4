import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import streamJson from 'stream-json';
import Pick from 'stream-json/filters/Pick.js';
import StreamValues from 'stream-json/streamers/StreamValues.js';
import { InputError, messageOf } from '../model/errors.js';

/** One item of a HAR file, in file order: a page or an entry (the raw JSON objects). */
export type HarItem =
  | { kind: 'page'; index: number; page: Record<string, unknown> }
  | { kind: 'entry'; index: number; entry: Record<string, unknown> };

/**
 * Streams the pages and entries of a HAR file (`log.pages[*]`, `log.entries[*]`)
 * without parsing the whole document into memory: only one entry is
 * assembled at a time (stream-json). Throws {@link InputError} naming the
 * file on invalid or truncated JSON, or when the document has no
 * `log.entries` array.
 */
export async function* readHar(path: string): AsyncGenerator<HarItem> {
  let sawEntries = false;
  let entries = 0;
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  const tail = pipeline(
    source,
    streamJson.parser({ packKeys: true, packStrings: true, packNumbers: true, streamKeys: false, streamStrings: false, streamNumbers: false }),
    Pick.pick({
      filter: (stack) => {
        if (stack[0] !== 'log') return false;
        if (stack[1] === 'entries') sawEntries = true;
        return stack.length === 3 && (stack[1] === 'entries' || stack[1] === 'pages');
      },
    }),
    StreamValues.streamValues(),
    () => undefined, // errors surface through the iterator below
  );
  try {
    for await (const item of tail as AsyncIterable<{ key: number; value: unknown }>) {
      const value = item.value;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new InputError(`Failed to read HAR file ${path}: entry ${entries + 1} is not an object`);
      }
      const obj = value as Record<string, unknown>;
      if ('request' in obj || 'response' in obj) {
        yield { kind: 'entry', index: entries, entry: obj };
        entries++;
      } else {
        yield { kind: 'page', index: item.key, page: obj };
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`Failed to read HAR file ${path}: no such file`);
    if (code === 'EISDIR') throw new InputError(`Failed to read HAR file ${path}: it is a directory`);
    throw new InputError(
      `Failed to read HAR file ${path}: invalid or truncated JSON after ${entries} entries (${messageOf(e)})`,
      { cause: e },
    );
  } finally {
    source.destroy();
  }
  if (!sawEntries) throw new InputError(`Failed to read HAR file ${path}: not a HAR file (no log.entries array)`);
}
