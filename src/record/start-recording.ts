import { existsSync, rmSync } from 'node:fs';
import { InputError, RunError, messageOf } from '../model/errors.js';
import type { CohortRule } from '../segment/cohort.js';
import { CohortClassifier } from '../segment/cohort.js';
import { RouteMatcher } from '../segment/route-template.js';
import { Sessionizer, type SessionKeyRule } from '../segment/session-key.js';
import { RecordingWriter } from '../store/recording-writer.js';
import { Redactor, loadOrCreateRedactionKey } from '../store/redact.js';
import { loadCa, type LocalCa } from './ca.js';
import { RecorderProxy } from './recorder-proxy.js';
import { RecordingGate, type GateCounts, type GateOptions, type StopKind } from './recording-gate.js';
import type { RecorderStats } from './types.js';
import type { ClientLimits } from './request-guard.js';

/**
 * How long an exchange may wait for its commit in the writer (ms): what a
 * `kill -9` of the recorder can lose. Half the promised 100 ms, leaving the
 * other half for the hop to the writer thread (up to 5 ms), the commit
 * itself and a busy event loop. Commits are cheap (WAL with synchronous =
 * NORMAL: no fsync per commit), so 20 a second cost nothing measurable.
 */
export const RECORD_FLUSH_MS = 50;

/** What {@link startRecording} needs (flags already validated by the CLI). */
export interface RecordingOptions {
  /** Validated `--target` origin, or null with `forward`. */
  target: string | null;
  forward: boolean;
  host: string;
  port: number;
  /** Recording file to write (`<out>.partial` until stopped). */
  out: string;
  maxBodyBytes: number;
  sessionKey: SessionKeyRule;
  routes: string[];
  cohortRules: CohortRule[];
  /** False with `--no-redact`: secrets are stored as sent. */
  redact: boolean;
  insecure: boolean;
  /** Forward mode: decrypt CONNECT tunnels with the CA in this directory (`flashback ca init`). */
  mitmCaDir?: string | null;
  /** Replace an existing recording at `out`, and discard an unfinished `<out>.partial` (else refused). */
  overwrite: boolean;
  toolVersion: string;
  /** Notes for the recording's meta, e.g. replay defaults from `--replay-secret` (see `replaySecretNoteKey`). */
  notes?: Record<string, string>;
  upstreamTimeoutMs?: number;
  drainMs?: number;
  /**
   * How long the writer may hold rows before committing them, ms (default
   * {@link RECORD_FLUSH_MS}). Tests make the writer slow with a long one, so
   * that its queue only grows and the gate's decisions are exact.
   */
  writerFlushMs?: number;
  /** Limits, sampling and the writer-queue bounds (`--max-*`, `--sample`); see {@link RecordingGate}. */
  gate?: GateOptions;
  /** Caps and timeouts on what clients send (`--max-header-size`, `--max-headers`, `--headers-timeout`, `--client-timeout`); defaults `DEFAULT_CLIENT_LIMITS` (request-guard.ts). */
  limits?: Partial<ClientLimits>;
  /**
   * Recording stopped while the proxy goes on forwarding (a limit, or the
   * writer stalled or failed). `finished` settles once the file is finished
   * (or kept as `.partial` after a writer failure).
   */
  onRecordingStopped?: (kind: StopKind, reason: string, finished: Promise<FileOutcome>) => void;
}

/**
 * What became of the recording file: finished (renamed to `path`), kept as
 * `partial` for `record --recover` (the writer failed after committing
 * something, or finishing it failed), or dropped (the writer failed before
 * committing anything).
 */
export interface FileOutcome {
  exchanges: number;
  sessions: number;
  /** Set when the file is not finished: the `.partial` kept, or null when nothing was kept. */
  partial: string | null;
  /** Why the file is not finished, or null. */
  failure: RunError | null;
}

/** What a finished recording holds, for the summary line. */
export interface RecordingSummary {
  exchanges: number;
  sessions: number;
  stats: RecorderStats;
  /** What was recorded, sampled out and not recorded. */
  gate: GateCounts;
  /** Set when the file is not finished (see {@link FileOutcome}). */
  failure: RunError | null;
  partial: string | null;
  path: string;
  /** Where the redaction key was kept, or null with `--no-redact`. */
  keyPath: string | null;
}

/** A running recording: the proxy listening, the writer open. */
export interface Recording {
  /** `http://127.0.0.1:8080` */
  readonly url: string;
  readonly proxy: RecorderProxy;
  readonly writer: RecordingWriter;
  readonly keyPath: string | null;
  readonly gate: RecordingGate;
  /**
   * Stops accepting, drains in-flight exchanges, writes every finished one
   * and renames the file (already done if recording stopped earlier). A
   * file that could not be finished is reported in the summary's `failure`.
   */
  stop(): Promise<RecordingSummary>;
  /** Stops and deletes the partial file (fatal errors): nothing is left that looks like a recording. */
  abort(): Promise<void>;
}

/**
 * Opens the writer (`<out>.partial`), the redaction key (`<out>.key`, mode
 * 0600) and the proxy, in that order, undoing what was done if a later step
 * fails. Throws InputError/UsageError (exit 2) for an unwritable `out`, an
 * existing recording or `<out>.partial` without `overwrite`, or an address
 * that cannot be bound.
 */
export async function startRecording(options: RecordingOptions): Promise<Recording> {
  // Loading the CA only reads files: a missing CA fails before anything is written.
  const mitmCa: LocalCa | null = options.mitmCaDir ? loadCa(options.mitmCaDir) : null;
  const keyPath = options.redact ? `${options.out}.key` : null;
  const keyExisted = keyPath !== null && existsSync(keyPath);
  const dropKey = (): void => {
    if (keyPath && !keyExisted) rmSync(keyPath, { force: true });
  };
  // The notes go in with the meta, not at close: a recording recovered after a crash keeps them too.
  const writer = await RecordingWriter.create(
    options.out,
    {
      source: 'record',
      upstream: options.target,
      toolVersion: options.toolVersion,
      redacted: options.redact,
      ...(options.notes ? { notes: options.notes } : {}),
    },
    // A failed writer keeps what it committed: the traffic cannot be recorded again.
    { overwrite: options.overwrite, flushMs: options.writerFlushMs ?? RECORD_FLUSH_MS, keepOnFailure: true },
  );
  let redactor: Redactor | null = null;
  let proxy: RecorderProxy;
  let gate: RecordingGate;
  /** Set when recording stopped while the proxy went on: the file is finished (or kept) then, not at stop(). */
  let finishing: Promise<FileOutcome> | null = null;
  const partialPath = writer.partialPath;
  /** Finishes the file now; never throws (an outcome with the failure instead). */
  const finishFile = async (): Promise<FileOutcome> => {
    if (writer.failed) {
      // A full disk: what was committed stays for --recover (after freeing space); nothing committed, nothing kept.
      const failure = writer.failed;
      if (writer.written === 0) {
        await writer.abort();
        return { exchanges: 0, sessions: 0, partial: null, failure };
      }
      await writer.abandon();
      return { exchanges: writer.written, sessions: 0, partial: partialPath, failure };
    }
    writer.setNotes(gate.notes());
    try {
      const done = await writer.close();
      return { ...done, partial: null, failure: null };
    } catch (e) {
      // keepOnFailure: the .partial is still there unless nothing was ever committed.
      const failure = e instanceof RunError ? e : new RunError(messageOf(e), { cause: e });
      return { exchanges: writer.written, sessions: 0, partial: existsSync(partialPath) ? partialPath : null, failure };
    }
  };
  // Later, not inside the gate's add(): the exchange that hit a limit is being handed to the writer right now.
  const finishEarly = (): Promise<FileOutcome> => new Promise<void>((resolve) => setImmediate(resolve)).then(finishFile);
  try {
    if (options.redact) {
      try {
        redactor = new Redactor(loadOrCreateRedactionKey(options.out));
      } catch (e) {
        throw new InputError(`Failed to create redaction key ${keyPath}: ${messageOf(e)}`, { cause: e });
      }
    }
    const tokenizer = redactor;
    const add = redactor ? redactingAdd(writer, redactor) : writer.add.bind(writer);
    gate = new RecordingGate(
      {
        add,
        get queued() {
          return writer.queued;
        },
        get queuedBytes() {
          return writer.queuedBytes;
        },
        get written() {
          return writer.written;
        },
        get failed() {
          return writer.failed;
        },
      },
      options.gate ?? {},
      (kind, reason) => {
        finishing = finishEarly();
        options.onRecordingStopped?.(kind, reason, finishing);
      },
    );
    const sink = gate;
    proxy = new RecorderProxy({
      target: options.target,
      forward: options.forward,
      host: options.host,
      port: options.port,
      maxBodyBytes: options.maxBodyBytes,
      sink,
      sessions: new Sessionizer(options.sessionKey, tokenizer ? (v) => tokenizer.token(v) : null),
      routes: new RouteMatcher(options.routes),
      cohorts: new CohortClassifier(options.cohortRules),
      insecure: options.insecure,
      mitmCa,
      ...(options.upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs: options.upstreamTimeoutMs } : {}),
      ...(options.drainMs !== undefined ? { drainMs: options.drainMs } : {}),
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
    });
    writer.onFailure((e) => gate.writerFailed(e));
    await proxy.open();
  } catch (e) {
    await writer.abort();
    dropKey();
    throw e;
  }
  const running = proxy;
  const runningGate = gate!;
  return {
    url: running.url,
    proxy: running,
    writer,
    gate: runningGate,
    keyPath,
    async stop(): Promise<RecordingSummary> {
      await running.close();
      runningGate.dispose();
      const outcome = await (finishing ?? finishFile());
      return {
        exchanges: outcome.exchanges,
        sessions: outcome.sessions,
        stats: running.stats(),
        gate: runningGate.counts(),
        failure: outcome.failure,
        partial: outcome.partial,
        path: options.out,
        keyPath,
      };
    },
    async abort(): Promise<void> {
      await running.close();
      runningGate.dispose();
      await writer.abort();
      dropKey();
    },
  };
}

/**
 * The writer's add with redaction first. (The writer can redact itself, but
 * it is created before the key so that an unwritable `--out` fails with the
 * writer's one-line message and no key file is left behind.)
 */
function redactingAdd(writer: RecordingWriter, redactor: Redactor): RecordingWriter['add'] {
  return (exchange, cohort, keyedBy) => writer.add(redactor.redactExchange(exchange), cohort, keyedBy);
}
