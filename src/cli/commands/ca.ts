import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CA_CERT_FILE, createCa, defaultCaDir, loadCa, trustInstructions, type LocalCa } from '../../record/ca.js';
import { out } from '../output.js';

function printCa(ca: LocalCa, created: boolean): void {
  out(`${created ? 'created' : 'using existing'} CA in ${ca.dir}`);
  out(`  certificate  ${ca.certPath}`);
  out(`  private key  ${ca.keyPath} (mode 0600: keep it secret)`);
  out(`  SHA-256      ${ca.fingerprint}`);
  out('');
  out('Trust it in the clients whose HTTPS traffic `flashback record --forward --mitm` should see:');
  for (const line of trustInstructions(ca)) out(`  ${line}`);
}

/** Registers `flashback ca init|show`. */
export function registerCa(program: Command): void {
  const ca = program.command('ca').description('the local certificate authority used by record --forward --mitm');

  ca.command('init')
    .description('create the local CA (RSA 2048, 10 years) and print how to trust it')
    .option('--dir <dir>', 'directory for the CA files', defaultCaDir())
    .option('--force', 'replace an existing CA')
    .addHelpText('after', '\nExample:\n  flashback ca init --dir ~/.flashback/ca\n')
    .action((flags: { dir: string; force?: boolean }) => {
      const exists = existsSync(join(flags.dir, CA_CERT_FILE));
      if (exists && !flags.force) printCa(loadCa(flags.dir), false);
      else printCa(createCa(flags.dir, { force: flags.force === true }), true);
    });

  ca.command('show')
    .description('print the CA certificate path, fingerprint and trust instructions')
    .option('--dir <dir>', 'directory of the CA files', defaultCaDir())
    .action((flags: { dir: string }) => printCa(loadCa(flags.dir), false));
}
