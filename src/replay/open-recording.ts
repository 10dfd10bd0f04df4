import { InputError } from '../model/errors.js';
import { replaySecretsOf } from '../store/recording-meta.js';
import { RecordingReader } from '../store/recording-reader.js';
import { peakOverlap } from './plan-concurrency.js';
import type { RecordingSource } from './recording-source.js';

/**
 * Opens a recording file as a {@link RecordingSource} (sessions with bodies,
 * streamed). Throws {@link InputError} for a file that is not a usable
 * recording or that has no exchanges.
 */
export function openRecordingSource(path: string, options: { digest?: boolean } = {}): RecordingSource {
  const reader = RecordingReader.open(path);
  try {
    const counts = reader.counts();
    if (counts.exchanges === 0) {
      throw new InputError(`Failed to replay recording ${path}: it has no exchanges`, { hint: 'record or import some traffic first' });
    }
    return {
      path,
      digest: options.digest === false ? '' : reader.digest(),
      exchanges: counts.exchanges,
      sessions: counts.sessions,
      lastOffsetUs: counts.lastOffsetUs,
      upstream: reader.meta().upstream,
      replaySecrets: replaySecretsOf(reader.meta()),
      peakSessions: () => peakOverlap(reader.sessionInfos()),
      read: () => reader.sessions({ withBodies: true }),
      lazy: {
        heads: () => reader.sessionInfos(),
        load: (head) => ({
          key: head.key,
          cohort: head.cohort,
          startOffsetUs: head.startOffsetUs,
          endOffsetUs: head.endOffsetUs,
          exchanges: reader.sessionExchanges(head.key),
        }),
      },
      close: () => reader.close(),
    };
  } catch (e) {
    reader.close();
    throw e;
  }
}
