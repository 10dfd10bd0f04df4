#!/usr/bin/env node
// Regenerates recordings/storefront.db: `flashback record` in front of a fresh
// `flashback storefront` (default catalogue, seed 1) while `flashback shop`
// drives seeded shoppers through it. Every piece is the real CLI in its own
// process, as a user would run it (see recordings/README.md).
//
//   npm run recording:storefront                 # build, then write recordings/storefront.db
//   node scripts/record-storefront.mjs --out /tmp/x.db [--quiet]
//
// The settings are fixed (below) so a regeneration gives the same sessions,
// routes and request counts: shoppers arrive for ARRIVE_FOR and the run ends
// when the last one has finished (--duration is only a cap), so no shopper is
// cut short by the clock. Latencies, ids and redaction tokens differ per run.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/flashback.js');

/** The settings of the checked-in recording (recordings/README.md quotes them). */
export const SETTINGS = {
  seed: 1, // shoppers; the storefront's catalogue uses its default seed (1) too
  shoppersPerSecond: 3,
  arriveFor: '12s',
  duration: '120s', // a cap: the run ends when the last shopper has finished
  think: '500ms',
  checkoutShare: 0.2,
  // Responses kept up to 1 KiB: the ones replay correlates (cart, checkout, order,
  // sign-in) are smaller and kept whole; catalogue pages are cut (flagged truncated).
  maxBody: '1KiB',
  // What replay sends for the redacted request-body fields (recorded values stay
  // redacted): the storefront signs in any non-empty password, and charges any
  // token but tok_decline. Public demo values, stored in the recording's meta.
  replaySecrets: ['password=demo-shopper-password', 'token=tok_visa'],
};

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : join(root, 'recordings/storefront.db');
const quiet = args.includes('--quiet');
const log = (line) => {
  if (!quiet) process.stdout.write(`${line}\n`);
};

/** Spawns `flashback <args>`; resolves `ready` with the first match of `pattern` on stdout. */
function flashback(argv, pattern) {
  const child = spawn(process.execPath, [bin, ...argv], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let text = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      text += chunk;
      const m = pattern ? pattern.exec(text) : null;
      if (m) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      text += chunk;
    });
    void exited.then((code) => reject(new Error(`flashback ${argv[0]} exited (${code}) before it was ready:\n${text}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, exited, output: () => text };
}

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const shown = (path) => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path));

const children = [];
try {
  const storefront = flashback(['storefront', '--port', '0'], /listening on (http:\/\/\S+)/);
  children.push(storefront);
  const shopUrl = await storefront.ready;
  log(`storefront (default catalogue) at ${shopUrl}`);

  const recorder = flashback(
    ['record', '--target', shopUrl, '--listen', '127.0.0.1:0', '--out', out, '--force',
      '--scenario', join(root, 'scenarios/storefront.json'), '--max-body', SETTINGS.maxBody,
      ...SETTINGS.replaySecrets.flatMap((v) => ['--replay-secret', v])],
    /recording (http:\/\/127\.0\.0\.1:\d+)/,
  );
  children.push(recorder);
  const proxyUrl = await recorder.ready;
  log(`recording ${proxyUrl} -> ${shopUrl} into ${shown(out)}`);

  const s = SETTINGS;
  const shop = flashback(
    ['shop', '--target', proxyUrl, '--seed', String(s.seed), '--shoppers-per-second', String(s.shoppersPerSecond),
      '--arrive-for', s.arriveFor, '--duration', s.duration, '--think', s.think, '--checkout-share', String(s.checkoutShare)],
    null,
  );
  children.push(shop);
  const shopStatus = await shop.exited;
  log(shop.output().trimEnd());
  if (shopStatus !== 0) throw new Error(`flashback shop failed (${shopStatus})`);

  recorder.child.kill('SIGINT');
  const recStatus = await recorder.exited;
  log(recorder.output().trimEnd().split('\n').slice(-2).join('\n'));
  if (recStatus !== 0) throw new Error(`flashback record failed (${recStatus})`);
  // The recorder writes 64 KiB SQLite pages (fast to write, but each table and index
  // takes at least one): repack with 4 KiB pages. Rows and meta are untouched.
  const before = statSync(out).size;
  const db = new Database(out);
  db.pragma('page_size = 4096');
  db.exec('VACUUM');
  db.close();
  log(`repacked with 4 KiB pages: ${kib(before)} -> ${kib(statSync(out).size)}`);
} catch (e) {
  process.stderr.write(`record-storefront: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGTERM');
  await Promise.all(children.map((c) => c.exited));
}
