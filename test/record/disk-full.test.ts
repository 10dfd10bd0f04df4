import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import { FLASHBACK_BIN, startServer } from './helpers.js';

/**
 * A full disk under a real `flashback record`: a 2 MiB tmpfs (root can mount
 * one), else a file-size limit (`ulimit -f`, SIGXFSZ ignored so writes fail
 * with EFBIG). The proxy must keep answering, stop recording, and count
 * what it did not record exactly.
 */

let dir: string;
let full: string;
/** How the recorder is started: plain (tmpfs) or under a bash file-size limit; null when neither works. */
let mode: 'tmpfs' | 'ulimit' | null = null;
let why = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-diskfull-'));
  full = join(dir, 'full');
  mkdirSync(full);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', full], { stdio: 'pipe' });
    mode = 'tmpfs';
    return;
  } catch (e) {
    why = `tmpfs mount failed (${String(e).split('\n')[0]})`;
  }
  try {
    execFileSync('bash', ['-c', "trap '' XFSZ; ulimit -f 4096; exit 0"], { stdio: 'pipe' });
    mode = 'ulimit';
  } catch (e) {
    why += `; bash ulimit -f failed (${String(e).split('\n')[0]})`;
  }
});

afterAll(() => {
  if (mode === 'tmpfs') execFileSync('umount', [full]);
  rmSync(dir, { recursive: true, force: true });
});

describe('record: the disk fills', () => {
  it('keeps forwarding, stops recording, keeps what it committed, and counts the rest', async (ctx) => {
    if (mode === null) {
      console.log(`disk-full test skipped: no way to fill a disk here: ${why}`);
      ctx.skip();
    }
    // Bodies SQLite cannot shrink: 2 MiB hold about 120 of them.
    let n = 0;
    const upstream = await startServer((_req, res) => {
      const body = Buffer.alloc(16 * 1024);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7919 + n * 104729) % 251;
      n++;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    });
    const out = join(full, 'rec.db');
    const args = [FLASHBACK_BIN, 'record', '--listen', '127.0.0.1:0', '--target', upstream.url, '--out', out, '--no-redact'];
    // 1 KiB blocks: 2 MiB per file, as the tmpfs.
    const child =
      mode === 'tmpfs'
        ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 2048; exec "${process.execPath}" "$@"`, 'bash', ...args], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    let text = '';
    child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 1500 && !/recording (http:\/\/127\.0\.0\.1:\d+)/.test(text); i++) await new Promise((r) => setTimeout(r, 10));
      const url = /recording (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      expect(url, text).toBeDefined();
      let answered = 0;
      // Until the recorder says it stopped recording (bounded), then 50 more.
      for (let i = 0; i < 2000 && !/recording stopped/.test(text); i++) {
        const res = await fetch(`${url}/blob/${i}`);
        expect(res.status).toBe(200);
        expect((await res.arrayBuffer()).byteLength).toBe(16 * 1024);
        answered++;
      }
      expect(text).toMatch(/recording stopped: the writer failed/);
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`${url}/after/${i}`);
        expect(res.status).toBe(200);
        expect((await res.arrayBuffer()).byteLength).toBe(16 * 1024);
        answered++;
      }
      child.kill('SIGINT');
      expect(await exited).toBe(3);
      const notRecorded = Number(/not recorded: (\d+) exchanges/.exec(text)?.[1]);
      expect(text).toMatch(/finish it with flashback record --recover /);
      expect(existsSync(`${out}.partial`)).toBe(true);
      // Recover a copy where there is room (what a user does after freeing space).
      const roomy = join(dir, 'roomy');
      mkdirSync(roomy);
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(`${out}.partial${suffix}`)) copyFileSync(`${out}.partial${suffix}`, join(roomy, `rec.db.partial${suffix}`));
      }
      const recovered = await RecordingWriter.recover(join(roomy, 'rec.db.partial'), join(roomy, 'rec.db'));
      const reader = RecordingReader.open(join(roomy, 'rec.db'));
      const rows = [...reader.exchanges()].length;
      reader.close();
      expect(rows).toBe(recovered.exchanges);
      expect(rows).toBeGreaterThan(0);
      expect(notRecorded).toBeGreaterThanOrEqual(50);
      expect(rows + notRecorded).toBe(answered);
      // Every request is its own session here (no cookies): sessions are counted as exactly.
      expect(text).toMatch(new RegExp(`not recorded: ${notRecorded} exchanges \\(${notRecorded} sessions not recorded at all, 0 cut`));
    } finally {
      child.kill('SIGKILL');
      await upstream.close();
    }
  }, 60_000);
});
