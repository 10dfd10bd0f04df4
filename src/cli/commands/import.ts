import type { Command } from 'commander';
import { UsageError } from '../../model/errors.js';
import { formatUs, parseBytes } from '../../model/units.js';
import { parseLogFormat, readAccessLog } from '../../import/access-log-reader.js';
import { readGor } from '../../import/gor-reader.js';
import { readHarExchanges } from '../../import/har-import.js';
import { importExchanges, type ImportOptions, type ImportSummary } from '../../import/import-pipeline.js';
import { ImportStats, type RawExchange } from '../../import/raw-exchange.js';
import { loadScenario, type Scenario } from '../../segment/scenario.js';
import { parseSessionKey } from '../../segment/session-key.js';
import { out, stdoutIsTty, warn } from '../output.js';
import { TOOL_VERSION } from '../version.js';

interface CommonFlags {
  out?: string;
  filterHost: string[];
  includeStatic?: boolean;
  sessionKey?: string;
  scenario?: string;
  maxBody: string;
  redact: boolean;
  force?: boolean;
}

interface LogFlags extends CommonFlags {
  format?: string;
  skipBad?: boolean;
}

const collect = (value: string, prev: string[]): string[] => [...prev, value];

function addCommon(cmd: Command, defaultSessionKey: string): Command {
  return cmd
    .option('--out <file.db>', 'recording file to write (required)')
    .option('--filter-host <glob>', 'keep only requests to this host (repeatable; globs like *.example.com)', collect, [])
    .option('--include-static', 'keep images, fonts, stylesheets and scripts (skipped by default)')
    .option('--session-key <rule>', `auto | auto+client[:IDLE] | cookie:NAME | header:NAME | client[:IDLE] | none (default: scenario, else ${defaultSessionKey})`)
    .option('--scenario <file>', 'scenario JSON with routes, cohort rules and a session key')
    .option('--max-body <size>', 'bytes of each body kept (rest flagged truncated)', '1MiB')
    .option('--no-redact', 'store secrets as found in the file (tokens, cookies, passwords): not recommended')
    .option('--force', 'replace an existing recording at --out');
}

function importOptions(flags: CommonFlags, source: string, defaultSessionKey: string): ImportOptions {
  if (!flags.out) throw new UsageError('--out <file.db> is required');
  const scenario: Scenario = flags.scenario ? loadScenario(flags.scenario) : {};
  return {
    outPath: flags.out,
    source,
    toolVersion: TOOL_VERSION,
    sessionKey: parseSessionKey(flags.sessionKey ?? scenario.sessionKey ?? defaultSessionKey),
    redact: flags.redact,
    includeStatic: flags.includeStatic === true,
    filterHosts: flags.filterHost.length > 0 ? flags.filterHost : null,
    maxBodyBytes: parseBytes(flags.maxBody, '--max-body'),
    routes: scenario.routes ?? [],
    cohorts: scenario.cohorts ?? [],
    overwrite: flags.force === true,
    keepFileSessions: flags.sessionKey === undefined,
  };
}

async function run(
  file: string,
  options: ImportOptions,
  read: (stats: ImportStats) => AsyncIterable<RawExchange>,
): Promise<void> {
  if (!options.redact) warn('--no-redact: secrets (tokens, cookies, passwords, card numbers) are stored as found');
  const stats = new ImportStats();
  const tty = stdoutIsTty();
  if (tty) options.onProgress = (taken, skipped) => process.stdout.write(`\r\x1b[2Kreading ${file}: ${taken} taken, ${skipped} skipped`);
  let summary: ImportSummary;
  try {
    summary = await importExchanges(read(stats), stats, options);
  } finally {
    if (tty) process.stdout.write('\r\x1b[2K');
  }
  for (const line of renderImportSummary(file, summary)) out(line);
}

/** The lines `flashback import` prints: what was taken, what was skipped by reason, notes. */
export function renderImportSummary(file: string, s: ImportSummary): string[] {
  const span = Number.isFinite(s.lastStartUs - s.firstStartUs) ? formatUs(s.lastStartUs - s.firstStartUs) : '-';
  const lines = [`imported ${file} → ${s.outPath}: ${s.exchanges} exchanges in ${s.sessions} sessions over ${span}`];
  const skipped = Object.entries(s.skipped);
  const total = skipped.reduce((n, [, v]) => n + v, 0);
  if (total === 0) lines.push('skipped: none');
  else {
    lines.push(`skipped ${total}:`);
    for (const [reason, n] of skipped) lines.push(`  ${String(n).padStart(7)}  ${reason}`);
  }
  for (const note of s.notes) lines.push(`note: ${note}`);
  return lines;
}

/** Registers `flashback import har|gor|log`. */
export function registerImport(program: Command): void {
  const imp = program
    .command('import')
    .description('turn a HAR file, a GoReplay capture or an access log into a recording');

  addCommon(
    imp
      .command('har')
      .description('import a HAR 1.2 file (Chrome/Firefox devtools, Playwright recordHar, Charles), streamed')
      .argument('<file.har>', 'HAR file'),
    'auto',
  )
    .addHelpText('after', '\nExample:\n  flashback import har session.har --out rec.db --filter-host shop.example\n')
    .action(async (file: string, flags: CommonFlags) => {
      const options = importOptions(flags, 'import:har', 'auto');
      await run(file, options, (stats) => readHarExchanges(file, stats));
    });

  addCommon(
    imp
      .command('gor')
      .description("import a GoReplay capture (--output-file; gzipped too): requests paired with responses by id")
      .argument('<file.gor>', 'GoReplay file'),
    'auto',
  )
    .addHelpText('after', '\nExample:\n  flashback import gor requests_0.gor --out rec.db --session-key client\n')
    .action(async (file: string, flags: CommonFlags) => {
      const options = importOptions(flags, 'import:gor', 'auto');
      await run(file, options, (stats) => readGor(file, stats));
    });

  addCommon(
    imp
      .command('log')
      .description('import an nginx/Apache combined or JSON-lines access log (no bodies: GET and HEAD only)')
      .argument('<access.log>', 'access log (gzipped too)')
      .option('--format <format>', 'combined | json (default: guessed from the first line)')
      .option('--skip-bad', 'skip and count lines that cannot be parsed instead of stopping'),
    'auto+client',
  )
    .addHelpText('after', '\nExample:\n  flashback import log /var/log/nginx/access.log --out rec.db --skip-bad\n')
    .action(async (file: string, flags: LogFlags) => {
      const format = flags.format === undefined ? undefined : parseLogFormat(flags.format);
      const options = importOptions(flags, 'import:log', 'auto+client');
      await run(file, options, (stats) =>
        readAccessLog(file, { ...(format ? { format } : {}), skipBad: flags.skipBad === true }, stats),
      );
    });
}
