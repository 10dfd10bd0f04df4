import type { Command } from 'commander';
import { UsageError } from '../../model/errors.js';
import { exportHar } from '../../export/har-export.js';
import { exportK6 } from '../../export/k6-export.js';
import { RecordingReader } from '../../store/recording-reader.js';
import { out } from '../output.js';
import { TOOL_VERSION } from '../version.js';

function requireOut(flags: { out?: string }, example: string): string {
  if (!flags.out) throw new UsageError(`--out <${example}> is required`);
  return flags.out;
}

/** Registers `flashback export har|k6`. */
export function registerExport(program: Command): void {
  const exp = program.command('export').description('write a recording as a HAR file or a k6 script');

  exp
    .command('har')
    .description('write a HAR 1.2 file (Chrome/Firefox devtools can import it; flashback import har reads it back exactly)')
    .argument('<rec.db>', 'recording')
    .option('--out <file.har>', 'HAR file to write (required)')
    .addHelpText('after', '\nExample:\n  flashback export har rec.db --out rec.har\n')
    .action(async (file: string, flags: { out?: string }) => {
      const outPath = requireOut(flags, 'file.har');
      const reader = RecordingReader.open(file);
      try {
        const { entries } = await exportHar(reader, outPath, TOOL_VERSION);
        out(`exported ${file} → ${outPath}: ${entries} entries (HAR 1.2)`);
      } finally {
        reader.close();
      }
    });

  exp
    .command('k6')
    .description('write a k6 script: one shared-iterations scenario per cohort, sessions replayed with recorded think times')
    .argument('<rec.db>', 'recording')
    .option('--out <script.js>', 'script to write (required)')
    .addHelpText(
      'after',
      '\nExample:\n  flashback export k6 rec.db --out replay.js\n  k6 run -e BASE_URL=http://staging:3000 -e SCALE=10 replay.js\n',
    )
    .action((file: string, flags: { out?: string }) => {
      const outPath = requireOut(flags, 'script.js');
      const reader = RecordingReader.open(file);
      try {
        const r = exportK6(reader, outPath, TOOL_VERSION);
        out(`exported ${file} → ${outPath}: ${r.sessions} sessions, ${r.requests} requests in ${r.cohorts} cohort scenarios`);
        if (r.droppedRedacted > 0) out(`note: ${r.droppedRedacted} redacted header values (tokens, cookies) were left out of the script`);
        out(`run it: k6 run -e BASE_URL=<target> [-e SCALE=10] [-e VUS=50] ${outPath}`);
      } finally {
        reader.close();
      }
    });
}
