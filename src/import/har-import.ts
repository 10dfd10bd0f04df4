import { HarEntryError, harEntryToExchange } from './har-entry.js';
import { readHar } from './har-reader.js';
import type { ImportStats, RawExchange } from './raw-exchange.js';

/**
 * The exchanges of a HAR file, streamed: each usable entry converted by
 * {@link harEntryToExchange}; unusable entries counted in `stats` by reason
 * (`HAR entry: entry without method or url`, …). File-level problems throw
 * the reader's `InputError`.
 */
export async function* readHarExchanges(path: string, stats: ImportStats): AsyncGenerator<RawExchange> {
  let pages = 0;
  for await (const item of readHar(path)) {
    if (item.kind === 'page') {
      pages++;
      continue;
    }
    try {
      yield harEntryToExchange(item.entry);
    } catch (e) {
      if (!(e instanceof HarEntryError)) throw e;
      stats.skip(`HAR entry: ${e.message}`);
    }
  }
  if (pages > 0) stats.notes.push(`the HAR file has ${pages} pages; sessions come from cookies (--session-key)`);
}
