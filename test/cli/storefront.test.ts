import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStorefront } from '../../src/storefront/index.js';

const BIN = resolve(import.meta.dirname, '../../bin/flashback.js');
const tmp = mkdtempSync(join(tmpdir(), 'flashback-storefront-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `flashback storefront`, resolves with its URL once it printed the ready line. */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'storefront', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<string>((resolveUrl, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /^storefront \((naive|tuned)\) listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (m) resolveUrl(m[2]!);
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe('flashback storefront', () => {
  it('prints one ready line with its URL, serves, and exits 0 on SIGTERM', async () => {
    const sf = startCli(['--profile', 'tuned', '--seed', '4']);
    const url = await sf.ready;
    const health = await (await fetch(`${url}/healthz`)).json();
    expect(health).toEqual({ status: 'ok', profile: 'tuned' });
    sf.child.kill('SIGTERM');
    expect(await sf.exited).toBe(0);
    expect(sf.output().stdout.trim().split('\n')).toHaveLength(1);
  });

  it('shuts down cleanly on SIGINT too, keeping a --db file that restarts with the same seed', async () => {
    const db = join(tmp, 'shop.db');
    const first = startCli(['--db', db, '--seed', '8']);
    const url = await first.ready;
    const cart = await (await fetch(`${url}/cart`, { method: 'POST' })).json() as { cartId: string };
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    const second = startCli(['--db', db, '--seed', '8']);
    const url2 = await second.ready;
    expect((await fetch(`${url2}/cart/${cart.cartId}`)).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const other = run(['storefront', '--port', '0', '--db', db, '--seed', '9']);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain('seeded with 8, not 9');
  });

  it.each([
    [['--profile', 'fast'], '--profile must be naive or tuned'],
    [['--port', 'http'], '--port must be a whole number'],
    [['--port', '70000'], '--port must be a whole number'],
    [['--seed', '-1'], '--seed'],
    [['--fault', 'disk-on-fire'], '--fault must be one of'],
    [['--fault', 'payment-errors=150%'], 'percentage'],
  ])('exits 2 with one line for %j', (args, message) => {
    const r = run(['storefront', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});

describe('flashback shop', () => {
  it('runs seeded shoppers against a storefront and prints what they did', async () => {
    const store = await startStorefront({ port: 0, profile: 'tuned', seed: 2 });
    try {
      const r = spawn(process.execPath, [BIN, 'shop', '--target', store.url, '--shoppers-per-second', '10', '--duration', '1.5s', '--think', '20ms', '--checkout-share', '0.5', '--seed', '3'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      r.stdout.on('data', (d) => (stdout += d));
      const code = await new Promise<number | null>((res) => r.once('exit', res));
      expect(code).toBe(0);
      expect(stdout).toMatch(/^shop: \d+ shoppers \(\d+ finished\), \d+ requests, \d+ orders, \d+ errors in \d+\.\ds/m);
      expect(stdout).toMatch(/^status: .*200 \d+/m);
      expect(stdout).toContain('GET /products/:id');
    } finally {
      await store.close();
    }
  });

  it('prints the summary as JSON with --json', async () => {
    const store = await startStorefront({ port: 0, profile: 'naive', seed: 2 });
    try {
      const r = spawn(process.execPath, [BIN, 'shop', '--target', store.url, '--shoppers-per-second', '5', '--duration', '1s', '--think', '10ms', '--json'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      r.stdout.on('data', (d) => (stdout += d));
      expect(await new Promise((res) => r.once('exit', res))).toBe(0);
      const summary = JSON.parse(stdout);
      expect(summary.shoppers).toBeGreaterThan(0);
      expect(summary.requests).toBe(Object.values(summary.byRoute as Record<string, { requests: number }>).reduce((n, r) => n + r.requests, 0));
    } finally {
      await store.close();
    }
  });

  it('exits 3 when the target cannot be reached', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const r = run(['shop', '--target', `http://127.0.0.1:${port}`, '--shoppers-per-second', '5', '--duration', '500ms', '--think', '10ms']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`Failed to reach http://127.0.0.1:${port}`);
  });

  it.each([
    [[], 'required option'],
    [['--target', 'nowhere'], '--target must be an http:// URL'],
    [['--target', 'http://127.0.0.1:9', '--duration', 'ten'], '--duration must be a duration'],
    [['--target', 'http://127.0.0.1:9', '--shoppers-per-second', '-3'], '--shoppers-per-second must be a positive number'],
    [['--target', 'http://127.0.0.1:9', '--seed', 'x'], '--seed must be a whole number'],
    [['--target', 'http://127.0.0.1:9', '--checkout-share', '2'], '--checkout-share must be a fraction'],
  ])('exits 2 for bad flags %j', (args, message) => {
    const r = run(['shop', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});
