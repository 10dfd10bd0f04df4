import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { RunError, UsageError } from '../../model/errors.js';
import { formatBytes, formatMs, formatShare, parseBytes, parseDurationUs, parsePositiveInt } from '../../model/units.js';
import { defaultCaDir } from '../../record/ca.js';
import { probeTarget } from '../../record/probe-target.js';
import { startRecording, type Recording, type RecordingOptions, type RecordingSummary } from '../../record/start-recording.js';
import type { RecorderStats } from '../../record/types.js';
import { parseShare, type GateCounts, type GateOptions } from '../../record/recording-gate.js';
import { parseListenAddress, parseTargetOrigin } from '../../record/upstream-target.js';
import type { ClientLimits } from '../../record/request-guard.js';
import { parseSessionKey } from '../../segment/session-key.js';
import { loadScenario, type Scenario } from '../../segment/scenario.js';
import { REPLAY_SECRET_NOTE_PREFIX, replaySecretNoteKey } from '../../store/recording-meta.js';
import { recoverCommand } from '../../store/recording-reader.js';
import { RecordingWriter } from '../../store/recording-writer.js';
import { out, stdoutIsTty, warn } from '../output.js';
import { TOOL_VERSION } from '../version.js';

interface RecordFlags {
  target?: string;
  listen: string;
  out?: string;
  maxBody: string;
  sessionKey?: string;
  scenario?: string;
  redact: boolean;
  forward?: boolean;
  insecure?: boolean;
  force?: boolean;
  timeout: string;
  mitm?: boolean;
  caDir?: string;
  replaySecret: string[];
  recover?: string;
  maxDuration?: string;
  maxExchanges?: string;
  maxSize?: string;
  sample?: string;
  sampleSeed?: string;
  maxHeaderSize: string;
  maxHeaders: string;
  headersTimeout: string;
  clientTimeout: string;
  maxQueueMemory: string;
}

/** Registers `flashback record`. */
export function registerRecord(program: Command): void {
  program
    .command('record')
    .description('record live traffic through a proxy into a recording file (Ctrl-C to stop)')
    .option('--target <url>', 'origin to forward every request to, e.g. http://127.0.0.1:3000 (reverse-proxy mode)')
    .option('--listen <addr>', 'address to listen on, HOST:PORT or PORT', '127.0.0.1:8080')
    .option('--out <file.db>', 'recording file to write')
    .option('--max-body <size>', 'bytes of each body kept in the recording (rest is streamed, flagged truncated)', '1MiB')
    .option('--session-key <rule>', 'auto | auto+client[:IDLE] | cookie:NAME | header:NAME | client[:IDLE] | none (default: scenario, else auto)')
    .option('--scenario <file>', 'scenario JSON with routes, cohort rules and a session key')
    .option('--no-redact', 'store secrets as sent (tokens, cookies, passwords, card numbers): not recommended')
    .option('--forward', 'act as a forward proxy for absolute-URI requests (GET http://host/path); CONNECT is tunnelled unrecorded')
    .option('--mitm', 'with --forward: decrypt CONNECT (HTTPS) tunnels with certificates from the local CA and record them')
    .option('--ca-dir <dir>', 'CA directory for --mitm (default ~/.flashback/ca, made by `flashback ca init`)')
    .option('--insecure', 'accept self-signed or invalid TLS certificates from an https target')
    .option('--force', 'replace an existing recording at --out, and discard an unfinished --out.partial (a crashed recording)')
    .option('--recover <file.partial>', 'finish a recording whose recorder was killed (rebuild what a clean stop writes) and rename it to its final name')
    .option('--timeout <duration>', 'upstream connect/response timeout (answers 504)', '30s')
    .option('--max-header-size <size>', 'request line and headers a client may send (more answers 431)', '32KiB')
    .option('--max-headers <n>', 'header fields a request may have (more answers 431)', '256')
    .option('--headers-timeout <duration>', 'time for a request\'s line and headers to arrive (expiry answers 408)', '30s')
    .option('--client-timeout <duration>', 'time a client may sit idle while it owes a request body or will not take a response (then cut)', '60s')
    .option('--max-duration <duration>', 'stop recording after this long (e.g. 1h); the proxy keeps forwarding until Ctrl-C')
    .option('--max-exchanges <n>', 'stop recording after this many exchanges; the proxy keeps forwarding until Ctrl-C')
    .option('--max-size <size>', 'stop recording once this much is recorded (e.g. 2GiB); the proxy keeps forwarding until Ctrl-C')
    .option('--max-queue-memory <size>', 'memory held for a writer slower than the traffic before recording stops (new sessions wait outside above a quarter of it)', '512MiB')
    .option('--sample <share>', 'record this share of sessions, whole (e.g. 10%), picked by a seeded hash of the session key')
    .option('--sample-seed <n>', 'seed of --sample (default 0): the same seed keeps the same sessions')
    .option('--replay-secret <name=value>', 'store a PUBLIC test value that replay sends for a redacted body field of that name (e.g. a demo password); repeatable',
      (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addHelpText(
      'after',
      '\nExamples:\n  flashback record --target http://127.0.0.1:3000 --out rec.db\n  flashback record --forward --listen 8081 --out rec.db --session-key cookie:sid\n' +
        '  flashback record --recover rec.db.partial\n',
    )
    .action(async (flags: RecordFlags, cmd: Command) => {
      if (flags.recover !== undefined) return recover(flags.recover, flags.force === true, cmd);
      const options = recordingOptions(flags);
      options.onRecordingStopped = (_kind, reason, finished) => {
        out(`recording stopped: ${reason}; still forwarding as a plain proxy, unrecorded (Ctrl-C to stop)`);
        void finished.then((f) => {
          if (f.failure === null) out(`finished ${options.out}: ${f.exchanges} exchanges in ${f.sessions} sessions`);
          else if (f.partial) warn(`kept ${f.exchanges} committed exchanges in ${f.partial}; after freeing space, finish it with ${recoverCommand(f.partial)}`);
          else warn(`nothing had been committed to ${options.out}; no file kept`);
        });
      };
      const rec = await startRecording(options);
      await runUntilSignal(rec, options);
    });
}

const PARTIAL = '.partial';

/**
 * `record --recover FILE`: finishes a recording a killed recorder left
 * behind. FILE is the `.partial` (renamed to the name without it), or the
 * recording's name when its `.partial` is there; any other unfinished
 * recording (a copied `.partial`, say) is finished in place.
 */
async function recover(given: string, force: boolean, cmd: Command): Promise<void> {
  const others = cmd.options
    .map((o) => o.attributeName())
    .filter((name) => name !== 'recover' && name !== 'force' && cmd.getOptionValueSource(name) === 'cli');
  if (others.length > 0) {
    const flag = cmd.options.find((o) => o.attributeName() === others[0])!.long;
    throw new UsageError(`--recover takes no other options but --force (got ${flag})`);
  }
  if (given === '' || given === PARTIAL) throw new UsageError('--recover needs the unfinished recording, e.g. --recover rec.db.partial');
  let file = given;
  let path = given;
  if (given.endsWith(PARTIAL)) path = given.slice(0, -PARTIAL.length);
  else if (existsSync(given + PARTIAL)) file = given + PARTIAL;
  const { exchanges, sessions } = await RecordingWriter.recover(file, path, { overwrite: force });
  out(`recovered ${exchanges} exchanges in ${sessions} sessions from ${file} → ${path}`);
}

/** Validates every flag before anything touches the disk or the network. */
function recordingOptions(flags: RecordFlags): RecordingOptions {
  if (!flags.out) throw new UsageError('--out <file.db> is required');
  if (!flags.target && !flags.forward) throw new UsageError('--target <url> is required (or --forward for a forward proxy)');
  if (flags.target && flags.forward) throw new UsageError('--target and --forward cannot be used together');
  if (flags.mitm && !flags.forward) throw new UsageError('--mitm needs --forward (it decrypts the CONNECT tunnels of a forward proxy)');
  if (flags.caDir && !flags.mitm) throw new UsageError('--ca-dir is only used with --mitm');
  const target = flags.target ? parseTargetOrigin(flags.target) : null;
  const { host, port } = parseListenAddress(flags.listen);
  const maxBodyBytes = parseBytes(flags.maxBody, '--max-body');
  const upstreamTimeoutMs = durationMs(flags.timeout, '--timeout');
  const scenario: Scenario = flags.scenario ? loadScenario(flags.scenario) : {};
  const sessionKey = parseSessionKey(flags.sessionKey ?? scenario.sessionKey ?? 'auto');
  const notes = replaySecretNotes(flags.replaySecret);
  const gate = gateOptions(flags);
  const limits = clientLimits(flags);
  return {
    target,
    forward: flags.forward === true,
    host,
    port,
    out: flags.out,
    maxBodyBytes,
    sessionKey,
    routes: scenario.routes ?? [],
    cohortRules: scenario.cohorts ?? [],
    redact: flags.redact,
    insecure: flags.insecure === true,
    mitmCaDir: flags.mitm ? (flags.caDir ?? defaultCaDir()) : null,
    overwrite: flags.force === true,
    toolVersion: TOOL_VERSION,
    ...(notes === null ? {} : { notes }),
    upstreamTimeoutMs,
    gate,
    limits,
  };
}

/** Largest `--max-header-size`: llhttp's own ceiling is far above it, and a proxy in front of production wants a bound. */
const MAX_HEADER_SIZE = 1 << 20;
/** Largest `--max-headers`. */
const MAX_HEADERS = 10_000;

/** `--max-header-size`, `--max-headers` and the client timeouts → the proxy's client limits; UsageError (exit 2) on bad values. */
function clientLimits(flags: RecordFlags): ClientLimits {
  const maxHeaderBytes = parseBytes(flags.maxHeaderSize, '--max-header-size');
  if (maxHeaderBytes < 1024 || maxHeaderBytes > MAX_HEADER_SIZE) {
    throw new UsageError(`--max-header-size must be from 1KiB to 1MiB (got "${flags.maxHeaderSize}")`);
  }
  const maxHeaderCount = parsePositiveInt(flags.maxHeaders, '--max-headers');
  if (maxHeaderCount > MAX_HEADERS) throw new UsageError(`--max-headers must be at most ${MAX_HEADERS} (got "${flags.maxHeaders}")`);
  return {
    maxHeaderBytes,
    maxHeaderCount,
    headersTimeoutMs: durationMs(flags.headersTimeout, '--headers-timeout'),
    clientIdleTimeoutMs: durationMs(flags.clientTimeout, '--client-timeout'),
  };
}

/** A duration flag in whole ms, at least 1 ms; UsageError (exit 2) naming `flag` otherwise. */
function durationMs(text: string, flag: string): number {
  const us = parseDurationUs(text, flag);
  if (us < 1000) throw new UsageError(`${flag} must be at least 1ms (got "${text}")`);
  return Math.round(us / 1000);
}

/** `--max-*` and `--sample*` → the recording gate's options; UsageError (exit 2) on bad values. */
function gateOptions(flags: RecordFlags): GateOptions {
  const gate: GateOptions = {};
  if (flags.maxDuration !== undefined) gate.maxDurationMs = durationMs(flags.maxDuration, '--max-duration');
  if (flags.maxExchanges !== undefined) gate.maxExchanges = parsePositiveInt(flags.maxExchanges, '--max-exchanges');
  if (flags.maxSize !== undefined) {
    gate.maxBytes = parseBytes(flags.maxSize, '--max-size');
    if (gate.maxBytes <= 0) throw new UsageError(`--max-size must be more than 0 bytes (got "${flags.maxSize}")`);
  }
  if (flags.sample !== undefined) {
    const share = parseShare(flags.sample);
    if (Number.isNaN(share)) throw new UsageError(`--sample must be a share of sessions above 0% and at most 100%, like 10% (got "${flags.sample}")`);
    gate.sample = share;
  }
  if (flags.sampleSeed !== undefined) {
    if (flags.sample === undefined) throw new UsageError('--sample-seed is only used with --sample');
    const s = flags.sampleSeed.trim();
    if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) {
      throw new UsageError(`--sample-seed must be a whole number from 0 to 4294967295 (got "${flags.sampleSeed}")`);
    }
    gate.sampleSeed = Number(s);
  }
  gate.stallQueueBytes = parseBytes(flags.maxQueueMemory, '--max-queue-memory');
  if (gate.stallQueueBytes < 1024 * 1024) throw new UsageError(`--max-queue-memory must be at least 1MiB (got "${flags.maxQueueMemory}")`);
  return gate;
}

/**
 * `--replay-secret name=value` → meta notes (`replay.secret.<name>`): what a
 * replay sends for a redacted request-body field of that name when it is not
 * given `--secret`. Stored as plain text: for public test values only.
 */
function replaySecretNotes(specs: string[]): Record<string, string> | null {
  if (specs.length === 0) return null;
  const notes: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq).trim() : '';
    const value = eq > 0 ? spec.slice(eq + 1) : '';
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || value === '') {
      throw new UsageError(`--replay-secret must look like name=value with a non-empty value (got "${spec}")`);
    }
    notes[replaySecretNoteKey(name)] = value;
  }
  return notes;
}

/** Prints the banner and the live count, stops on SIGINT/SIGTERM (or a writer failure) and prints the summary. */
async function runUntilSignal(rec: Recording, options: RecordingOptions): Promise<void> {
  const mode = options.mitmCaDir ? 'as a forward proxy, HTTPS decrypted with the local CA' : 'as a forward proxy';
  const where = options.target ? `${rec.url} → ${options.target}` : `${rec.url} ${mode}`;
  out(`recording ${where} (writing ${options.out})`);
  if (!/^(127\.|::1$|localhost$)/.test(options.host)) {
    warn(`listening on ${options.host}, not loopback: anyone who can reach this address can send traffic through the recorder`);
  }
  const g = options.gate ?? {};
  const limits = [
    g.maxDurationMs ? `--max-duration ${formatMs(g.maxDurationMs)}` : '',
    g.maxExchanges ? `--max-exchanges ${g.maxExchanges}` : '',
    g.maxBytes ? `--max-size ${formatBytes(g.maxBytes)}` : '',
  ].filter(Boolean);
  if (g.sample !== undefined && g.sample < 1) out(`sampling ${formatShare(g.sample)} of sessions, whole (seed ${g.sampleSeed ?? 0})`);
  if (limits.length > 0) out(`recording stops at ${limits.join(', ')}; the proxy then keeps forwarding, unrecorded, until Ctrl-C`);
  if (!options.redact) warn('--no-redact: secrets (tokens, cookies, passwords, card numbers) are stored as sent');
  const defaults = Object.keys(options.notes ?? {}).filter((k) => k.startsWith(REPLAY_SECRET_NOTE_PREFIX))
    .map((k) => k.slice(REPLAY_SECRET_NOTE_PREFIX.length));
  if (defaults.length > 0) {
    warn(`--replay-secret ${defaults.join(', ')}: stored as plain text in the recording for replays to send; use it only for public test values`);
  }
  if (options.target) {
    void probeTarget(options.target).then((reason) => {
      if (reason) warn(`target ${options.target} is not reachable (${reason}); listening anyway, requests get 502 until it is up`);
    });
  }
  const tty = stdoutIsTty();
  const startMs = Date.now();
  let stop: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  const onSignal = (signal: string): void => stop(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ticker = setInterval(
    () => {
      const line = liveLine(rec.proxy.stats(), Date.now() - startMs, rec.writer.queued, rec.gate.counts());
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else out(line);
    },
    tty ? 1_000 : 10_000,
  );
  const why = await stopped;
  clearInterval(ticker);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (tty) process.stdout.write('\r\x1b[2K');
  // A second Ctrl-C while flushing must not kill the process and lose the file.
  const patience = (): void => warn('still flushing the recording; it will be done in a moment');
  process.on('SIGINT', patience);
  process.on('SIGTERM', patience);
  try {
    out(`stopping (${why}): finishing ${rec.proxy.stats().inFlight} in-flight exchanges and flushing…`);
    const summary = await rec.stop();
    printSummary(summary);
    // The traffic went through; the recording did not: exit 3, saying where what was committed is kept.
    if (summary.failure) {
      if (summary.partial) throw keptForRecovery(summary.failure, options.out);
      throw new RunError(`${summary.failure.message}; nothing had been committed, so no file was kept`, { cause: summary.failure });
    }
  } finally {
    process.off('SIGINT', patience);
    process.off('SIGTERM', patience);
  }
}

/** A writer failure, saying where what it had written is kept (the writer keeps `.partial` on failure). */
function keptForRecovery(e: unknown, outPath: string): unknown {
  const partial = `${outPath}.partial`;
  if (!(e instanceof RunError) || !existsSync(partial)) return e;
  return new RunError(`${e.message}; what was written before is kept in ${partial}: finish it with ${recoverCommand(partial)}`, { cause: e });
}

function liveLine(s: RecorderStats, elapsedMs: number, queued: number, g: GateCounts): string {
  const secs = Math.round(elapsedMs / 1000);
  // A growing queue means the disk is slower than the traffic: past --max-queue new sessions are not recorded.
  let extra = queued > 1_000 ? ` · ${queued} waiting to be written` : '';
  if (g.sampledOutExchanges > 0) extra += ` · ${g.sampledOutExchanges} sampled out (${g.sampledOutSessions} sessions)`;
  if (g.notRecordedExchanges > 0) extra += ` · ${g.notRecordedExchanges} not recorded (${g.notRecordedSessions} sessions)`;
  if (g.stopped) extra += ` · recording stopped: ${g.stopped.reason}`;
  extra += s.tunnels > 0 ? ` · ${s.tunnels} tunnels (unrecorded)` : '';
  if (s.intercepted > 0) extra += ` · ${s.intercepted} tunnels decrypted`;
  if (s.upgrades > 0) extra += ` · ${s.upgrades} upgrades relayed (unrecorded)`;
  if (s.rejected > 0) extra += ` · ${s.rejected} bad requests refused`;
  return `${secs}s · ${s.exchanges} exchanges · ${s.errors} errors · ${s.aborted} aborted · ${s.inFlight} in flight · ${formatBytes(s.requestBytes + s.responseBytes)}${extra}`;
}

function printSummary(sum: RecordingSummary): void {
  const s = sum.stats;
  const g = sum.gate;
  const where = sum.failure ? (sum.partial ?? 'nothing kept') : sum.path;
  out(
    `recorded ${sum.failure ? g.recorded : sum.exchanges} exchanges${sum.failure ? '' : ` in ${sum.sessions} sessions`} ` +
      `(${s.errors} upstream errors, ${s.aborted} aborted, ${s.tunnels + s.upgrades} tunnels/upgrades unrecorded` +
      `${s.rejected > 0 ? `, ${s.rejected} bad requests refused` : ''}) · ` +
      `${formatBytes(s.requestBytes)} sent, ${formatBytes(s.responseBytes)} received → ${where}`,
  );
  if (g.sampledOutExchanges > 0 || g.sampledOutSessions > 0) {
    out(`sampled out: ${g.sampledOutExchanges} exchanges in ${g.sampledOutSessions} sessions`);
  }
  if (g.notRecordedExchanges > 0 || g.stopped) {
    out(
      `not recorded: ${g.notRecordedExchanges} exchanges (${g.notRecordedSessions} sessions not recorded at all, ` +
        `${g.cutSessions} cut when recording stopped)${g.stopped ? `; recording stopped: ${g.stopped.reason}` : ''}`,
    );
  }
  if (sum.keyPath) out(`redaction key: ${sum.keyPath} (keep it private; it re-derives the redacted tokens)`);
}
