import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpsServer } from 'node:https';
import { certForHost, createCa } from '../../src/record/ca.js';
import { RecordingReader } from '../../src/store/recording-reader.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/flashback.js');

let dir: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fb-record-cli-'));
  busy = createServer((_req, res) => res.end('busy'));
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => busy.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [BIN, 'record', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `flashback record` and resolves with the URL it prints. */
function start(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }> {
  const child = spawn('node', [BIN, 'record', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`record did not start: ${text}`)), 15_000);
    const check = (): void => {
      const m = /recording (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve({ child, url: m[1]!, output: () => text, exited });
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`record exited early: ${text}`)));
  });
}

/** A target answering every request `200 ok <path>` (with `headers`), listening on 127.0.0.1. */
async function okTarget(headers: Record<string, string> = {}): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { ...headers, 'content-type': 'text/plain' });
    res.end(`ok ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function leftovers(prefix: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(prefix));
}

describe('flashback record: bad input gives one line, exit 2, and no file', () => {
  const cases: Array<[string, (out: string) => string[], RegExp]> = [
    ['a target that is not a URL', (o) => ['--target', 'not a url', '--out', o], /--target must be a URL/],
    ['a target that is not http(s)', (o) => ['--target', 'ftp://example.com', '--out', o], /--target must be an http/],
    ['a target with a path', (o) => ['--target', 'http://127.0.0.1:1/api', '--out', o], /--target must be an origin/],
    ['a bad --max-body', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-body', 'lots'], /--max-body must be a size/],
    ['a bad --session-key', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--session-key', 'bogus:x'], /--session-key must be/],
    ['a bad --listen', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--listen', 'nope:99999'], /--listen must be/],
    ['a missing scenario file', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--scenario', join(dir, 'nope.json')], /Failed to load scenario .*no such file/],
    ['a scenario that is not JSON', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--scenario', join(dir, 'bad.json')], /Failed to load scenario .*not valid JSON/],
    ['an --out in a missing directory', () => ['--target', 'http://127.0.0.1:1', '--out', join(dir, 'missing-dir', 'x.db')], /Failed to create recording .*does not exist/],
    ['an --out that is a directory', () => ['--target', 'http://127.0.0.1:1', '--out', dir], /Failed to create recording .*directory/],
    ['a port already in use', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--listen', `127.0.0.1:${busyPort}`], /Failed to listen on 127\.0\.0\.1:\d+: address already in use/],
    ['a --replay-secret without a value', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--replay-secret', 'password'], /--replay-secret must look like name=value/],
    ['a --replay-secret with an empty value', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--replay-secret', 'password='], /--replay-secret must look like name=value/],
    ['--sample 0%', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--sample', '0%'], /--sample must be a share of sessions above 0% and at most 100%, like 10% \(got "0%"\)/],
    ['--sample 150%', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--sample', '150%'], /--sample must be a share .*\(got "150%"\)/],
    ['--sample ten', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--sample', 'ten'], /--sample must be a share .*\(got "ten"\)/],
    ['--sample-seed without --sample', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--sample-seed', '3'], /--sample-seed is only used with --sample/],
    ['a bad --sample-seed', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--sample', '10%', '--sample-seed', '-1'], /--sample-seed must be a whole number/],
    ['--max-size ten', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-size', 'ten'], /--max-size must be a size/],
    ['--max-size 0', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-size', '0'], /--max-size must be more than 0 bytes/],
    ['--max-exchanges 0', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-exchanges', '0'], /--max-exchanges must be a positive whole number/],
    ['--max-exchanges 2.5', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-exchanges', '2.5'], /--max-exchanges must be a positive whole number/],
    ['--max-duration soon', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-duration', 'soon'], /--max-duration/],
    ['--max-header-size 512', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-header-size', '512'], /--max-header-size must be from 1KiB to 1MiB \(got "512"\)/],
    ['--max-header-size 2GiB', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-header-size', '2GiB'], /--max-header-size must be from 1KiB to 1MiB/],
    ['--max-header-size big', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-header-size', 'big'], /--max-header-size must be a size/],
    ['--max-queue-memory 10KiB', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-queue-memory', '10KiB'], /--max-queue-memory must be at least 1MiB \(got "10KiB"\)/],
    ['--max-queue-memory lots', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-queue-memory', 'lots'], /--max-queue-memory must be a size/],
    ['--max-headers 0', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-headers', '0'], /--max-headers must be a positive whole number/],
    ['--max-headers 20000', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--max-headers', '20000'], /--max-headers must be at most 10000/],
    ['--headers-timeout 0', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--headers-timeout', '0'], /--headers-timeout must be at least 1ms/],
    ['--client-timeout later', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--client-timeout', 'later'], /--client-timeout/],
    ['no --out', () => ['--target', 'http://127.0.0.1:1'], /--out <file.db> is required/],
    ['neither --target nor --forward', (o) => ['--out', o], /--target <url> is required/],
    ['--mitm without --forward', (o) => ['--target', 'http://127.0.0.1:1', '--out', o, '--mitm'], /--mitm needs --forward/],
    ['--mitm with no CA in --ca-dir', (o) => ['--forward', '--mitm', '--ca-dir', join(dir, 'no-ca'), '--out', o], /Failed to load CA from .*no-ca/],
  ];

  it.each(cases)('%s', (name, argsFor, message) => {
    writeFileSync(join(dir, 'bad.json'), '{ "routes": [ ');
    const prefix = `bad-${name.replace(/\W+/g, '-')}`;
    const out = join(dir, `${prefix}.db`);
    const r = run(argsFor(out));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('  hint:'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(leftovers(prefix)).toEqual([]);
  });

  it('refuses to overwrite an existing recording without --force', () => {
    const out = join(dir, 'exists.db');
    writeFileSync(out, 'keep me');
    const r = run(['--target', 'http://127.0.0.1:1', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
    expect(leftovers('exists.db')).toEqual(['exists.db']);
  });
});

describe('flashback record: running', () => {
  it('warns about an unreachable target, listens anyway, and records once it comes up', async () => {
    const target = createServer((_req, res) => res.end('up now'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const port = (target.address() as AddressInfo).port;
    await new Promise<void>((r) => target.close(() => r()));
    const out = join(dir, 'later.db');
    const rec = await start(['--target', `http://127.0.0.1:${port}`, '--out', out]);
    const agent = new Agent();
    try {
      const first = await request(`${rec.url}/a`, { dispatcher: agent });
      expect(first.statusCode).toBe(502);
      expect(((await first.body.json()) as { error: string }).error).toBe('upstream_unreachable');
      target.listen(port, '127.0.0.1');
      await new Promise((r) => target.once('listening', r));
      const second = await request(`${rec.url}/b`, { dispatcher: agent });
      expect(await second.body.text()).toBe('up now');
    } finally {
      await agent.close();
      rec.child.kill('SIGINT');
    }
    expect(await rec.exited).toBe(0);
    target.close();
    expect(rec.output()).toMatch(/warning: target http:\/\/127\.0\.0\.1:\d+ is not reachable/);
    expect(rec.output()).toMatch(/recorded 2 exchanges in \d+ sessions \(1 upstream errors/);
    const reader = RecordingReader.open(out);
    const rows = [...reader.exchanges()];
    reader.close();
    expect(rows.map((e) => [e.target, e.error])).toEqual([
      ['/a', 'refused'],
      ['/b', null],
    ]);
    expect(existsSync(`${out}.key`)).toBe(true);
  });

  it('SIGTERM during traffic loses no completed exchange', async () => {
    const { server: target, url: targetUrl } = await okTarget({ 'x-upstream': 'yes' });
    const out = join(dir, 'sigterm.db');
    const rec = await start(['--target', targetUrl, '--out', out]);
    const agent = new Agent({ connections: 20 });
    const completed = new Set<string>();
    let stopAfter = 400;
    let signalled = false;
    let failures = 0;
    const loop = async (c: number): Promise<void> => {
      for (let i = 0; failures < 200 && i < 5000; i++) {
        const rid = `${c}-${i}`;
        try {
          const res = await request(`${rec.url}/t?rid=${rid}`, { dispatcher: agent });
          const text = await res.body.text();
          if (res.statusCode === 200 && res.headers['x-upstream'] === 'yes' && text === `ok /t?rid=${rid}`) completed.add(rid);
          if (!signalled && completed.size >= stopAfter) {
            signalled = true;
            rec.child.kill('SIGTERM');
          }
        } catch {
          failures++;
          if (!signalled) throw new Error('request failed before SIGTERM');
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, c) => loop(c)));
    stopAfter = 0;
    expect(await rec.exited).toBe(0);
    await agent.close();
    target.close();
    expect(signalled).toBe(true);
    const reader = RecordingReader.open(out);
    const recorded = new Set<string>();
    for (const e of reader.exchanges()) if (e.status === 200 && e.error === null) recorded.add(/rid=(\d+-\d+)/.exec(e.target)![1]!);
    reader.close();
    const missing = [...completed].filter((rid) => !recorded.has(rid));
    expect(completed.size).toBeGreaterThanOrEqual(400);
    expect(missing).toEqual([]);
    expect(rec.output()).toMatch(/stopping \(SIGTERM\)/);
    expect(rec.output()).toMatch(/recorded \d+ exchanges/);
  }, 60_000);

  it('--max-exchanges with --sample: recording stops, the file is finished, traffic flows on; summary and inspect say what was left out', async () => {
    const { server: target, url: targetUrl } = await okTarget();
    const out = join(dir, 'limits.db');
    const rec = await start([
      '--target', targetUrl, '--out', out,
      '--max-exchanges', '20', '--sample', '50%', '--sample-seed', '3',
    ]);
    try {
      // The banner's later lines may arrive just after the one start() waits for.
      for (let i = 0; i < 500 && !/keeps forwarding/.test(rec.output()); i++) await new Promise((r) => setTimeout(r, 10));
      expect(rec.output()).toMatch(/sampling 50% of sessions, whole \(seed 3\)/);
      expect(rec.output()).toMatch(/recording stops at --max-exchanges 20; the proxy then keeps forwarding/);
      // No cookies: each request is its own session, so about half are sampled in; 200 reach the limit for sure.
      let answered = 0;
      for (let i = 0; i < 200; i++) {
        const res = await request(`${rec.url}/r/${i}`);
        expect(await res.body.text()).toBe(`ok /r/${i}`);
        answered++;
      }
      for (let i = 0; i < 500 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 10));
      expect(existsSync(out)).toBe(true);
      expect(rec.output()).toMatch(/recording stopped: --max-exchanges 20 reached after .*; still forwarding as a plain proxy, unrecorded/);
      expect(rec.output()).toMatch(/finished .*limits\.db: 20 exchanges in 20 sessions/);
      rec.child.kill('SIGINT');
      expect(await rec.exited).toBe(0);
      const sampledOut = Number(/sampled out: (\d+) exchanges in \1 sessions/.exec(rec.output())?.[1]);
      const notRecorded = Number(/not recorded: (\d+) exchanges/.exec(rec.output())?.[1]);
      expect(20 + sampledOut + notRecorded).toBe(answered);
      expect(rec.output()).toMatch(/recording stopped: --max-exchanges 20 reached/);
      const inspect = spawnSync('node', [BIN, 'inspect', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(inspect.status).toBe(0);
      expect(inspect.stdout).toMatch(/Sampled\s+50% of sessions \(seed 3\); left out \d+ exchanges in \d+ sessions/);
      expect(inspect.stdout).toMatch(/Stopped\s+recording stopped early: --max-exchanges 20 reached after /);
      expect(inspect.stdout).toMatch(/Traffic\s+20 exchanges in 20 sessions/);
    } finally {
      rec.child.kill('SIGKILL');
      target.close();
    }
  }, 60_000);

  it('--max-headers, --max-header-size and --headers-timeout set what a client may send', async () => {
    const { server: target, url: targetUrl } = await okTarget();
    const out = join(dir, 'client-limits.db');
    const rec = await start(['--target', targetUrl, '--out', out, '--max-headers', '4', '--max-header-size', '2KiB', '--headers-timeout', '300ms']);
    const port = Number(new URL(rec.url).port);
    /** Sends `head` on a new connection and resolves with the status of the answer (0 if the connection closed without one). */
    const statusOf = (head: string): Promise<number> =>
      new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(head));
        let text = '';
        socket.on('data', (c: Buffer) => {
          text += c.toString('latin1');
          const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
          if (m) {
            socket.destroy();
            resolve(Number(m[1]));
          }
        });
        socket.on('close', () => resolve(0));
        socket.on('error', () => resolve(0));
      });
    const headers = (n: number): string => Array.from({ length: n }, (_, i) => `x-h${i}: ${i}\r\n`).join('');
    expect(await statusOf(`GET /four HTTP/1.1\r\nhost: a\r\n${headers(3)}connection: close\r\n\r\n`)).toBe(431); // 5 fields
    expect(await statusOf(`GET /three HTTP/1.1\r\nhost: a\r\n${headers(2)}\r\n`)).toBe(200); // 3 fields
    expect(await statusOf(`GET /big HTTP/1.1\r\nhost: a\r\nx-big: ${'b'.repeat(3000)}\r\n\r\n`)).toBe(431);
    const t0 = performance.now();
    expect(await statusOf('GET /slow HTTP/1.1\r\nhost: a\r\n')).toBe(408); // the head never ends
    expect(performance.now() - t0).toBeLessThan(15_000); // the default would be 30 s
    rec.child.kill('SIGTERM');
    expect(await rec.exited).toBe(0);
    target.close();
    const reader = RecordingReader.open(out);
    expect([...reader.exchanges()].map((e) => e.target)).toEqual(['/three']);
    reader.close();
  }, 30_000);

  it('uses a scenario file for routes, cohorts and the session key', async () => {
    const { server: target, url: targetUrl } = await okTarget();
    const scenario = join(dir, 'scenario.json');
    writeFileSync(
      scenario,
      JSON.stringify({ routes: ['/cart/:cartId/items'], sessionKey: 'header:x-user', cohorts: [{ name: 'plan', header: ['x-plan'], default: 'free' }] }),
    );
    const out = join(dir, 'scenario.db');
    const rec = await start(['--target', targetUrl, '--out', out, '--scenario', scenario]);
    const agent = new Agent();
    try {
      for (const [user, cart] of [['ann', 'c-aa11'], ['bob', 'c-bb22'], ['ann', 'c-aa11']]) {
        const res = await request(`${rec.url}/cart/${cart}/items`, { dispatcher: agent, headers: { 'x-user': user!, 'x-plan': user === 'ann' ? 'pro' : 'free' } });
        await res.body.dump();
      }
    } finally {
      await agent.close();
      rec.child.kill('SIGINT');
    }
    expect(await rec.exited).toBe(0);
    target.close();
    const reader = RecordingReader.open(out);
    const sessions = [...reader.sessions()];
    reader.close();
    expect(sessions.map((s) => s.exchanges.length).sort()).toEqual([1, 2]);
    expect(sessions.flatMap((s) => s.exchanges.map((e) => e.route))).toEqual(Array(3).fill('GET /cart/:cartId/items'));
    const ann = sessions.find((s) => s.exchanges.length === 2)!;
    expect(ann.cohort['plan']).toBe('pro');
    expect(ann.key).not.toContain('ann'); // the header value is tokenized in the key
  });

  it('records HTTPS through --forward --mitm end to end', async () => {
    const ca = createCa(join(dir, 'mitm-ca'));
    const staging = createCa(join(dir, 'staging-ca'));
    const target = createHttpsServer(await certForHost(staging, '127.0.0.1'), (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`secret page ${req.url}`);
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const authority = `127.0.0.1:${(target.address() as AddressInfo).port}`;
    const out = join(dir, 'mitm.db');
    const rec = await start(['--forward', '--mitm', '--ca-dir', join(dir, 'mitm-ca'), '--insecure', '--out', out]);
    const client = new ProxyAgent({ uri: rec.url, requestTls: { ca: ca.certPem } });
    try {
      const res = await request(`https://${authority}/account?id=7`, { dispatcher: client });
      expect(await res.body.text()).toBe('secret page /account?id=7');
    } finally {
      await client.close();
      rec.child.kill('SIGINT');
    }
    expect(await rec.exited).toBe(0);
    target.closeAllConnections();
    target.close();
    expect(rec.output()).toMatch(/as a forward proxy, HTTPS decrypted with the local CA/);
    const reader = RecordingReader.open(out);
    const rows = [...reader.exchanges({ withBodies: true })];
    reader.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.scheme).toBe('https');
    expect(rows[0]!.host).toBe(authority);
    expect(rows[0]!.target).toBe('/account?id=7');
    expect(Buffer.from(rows[0]!.responseBody!).toString()).toBe('secret page /account?id=7');
  });
});
