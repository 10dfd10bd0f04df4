// Shared by bench/replay-*.mjs: generated recordings (cached under /tmp) and a
// way to measure a child process's CPU time (utime+stime of reaped children).
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CLK_TCK = 100;

/** CPU seconds of this process's reaped children so far (/proc/self/stat cutime + cstime). */
export function childrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); cutime/cstime are fields 16/17
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

/**
 * Runs a command to completion; returns wall seconds, CPU seconds of the
 * child (and its threads) and its peak RSS in MiB (from /proc, sampled).
 */
export function measureChild(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const cpu0 = childrenCpuSeconds();
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', options.stdout ?? 'ignore', 'pipe'], ...options.spawn });
    options.onSpawn?.(child);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    // options.stdout 'pipe': the child's stdout is returned (e.g. --trace-gc lines)
    let stdout = '';
    child.stdout?.on('data', (c) => (stdout += c));
    let peakRssMiB = 0;
    let peakFds = 0;
    const rssSamples = [];
    /** [RssAnon, RssFile] MiB per sample: heap and buffers vs mapped files (the recording, via SQLite mmap). */
    const splitSamples = [];
    const sampler = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const m = /VmRSS:\s+(\d+) kB/.exec(status);
        if (m) {
          const mib = Number(m[1]) / 1024;
          rssSamples.push(mib);
          const anon = /RssAnon:\s+(\d+) kB/.exec(status);
          const file = /RssFile:\s+(\d+) kB/.exec(status);
          if (anon && file) splitSamples.push([Number(anon[1]) / 1024, Number(file[1]) / 1024]);
          if (mib > peakRssMiB) peakRssMiB = mib;
        }
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        if (hwm && Number(hwm[1]) / 1024 > peakRssMiB) peakRssMiB = Number(hwm[1]) / 1024;
        if (options.fds) peakFds = Math.max(peakFds, readdirSync(`/proc/${child.pid}/fd`).length);
      } catch {
        // exited between samples
      }
    }, options.sampleMs ?? 200);
    child.on('close', (code) => {
      clearInterval(sampler);
      resolve({ code, wallSeconds: (performance.now() - t0) / 1000, cpuSeconds: childrenCpuSeconds() - cpu0, peakRssMiB, peakFds, rssSamples, splitSamples, stderr, stdout });
    });
  });
}

/**
 * Writes (once) a recording of `sessions` sessions of `perSession` GETs each;
 * inside a session each request starts `gapUs` after the previous one ended
 * (each took `durationUs`), sessions start `sessionGapUs` apart.
 */
export async function ensureRecording(path, { sessions, perSession, durationUs = 100, gapUs = 0, sessionGapUs = 0, bodyBytes = 0 }) {
  if (existsSync(path)) return path;
  const { RecordingWriter } = await import('../dist/store/recording-writer.js');
  const partial = `${path}.gen`;
  rmSync(partial, { force: true });
  const w = await RecordingWriter.create(partial, { source: 'generated', upstream: null, toolVersion: 'bench', redacted: false });
  const body = bodyBytes > 0 ? Buffer.alloc(bodyBytes, 120) : null;
  for (let s = 0; s < sessions; s++) {
    let t = s * sessionGapUs;
    for (let i = 0; i < perSession; i++) {
      w.add(
        {
          sessionKey: `s${s}`, seq: i, startOffsetUs: t, durationUs, method: 'GET', target: `/item/${s}?i=${i}`,
          host: null, scheme: 'http', route: 'GET /item/:id', requestHeaders: [['accept', '*/*']],
          requestBody: null, requestBodyBytes: 0, requestBodyTruncated: false, status: 200,
          responseHeaders: [['content-type', 'text/plain']], responseBody: body, responseBodyBytes: bodyBytes,
          responseBodyTruncated: false, responseEncoding: null, error: null, errorDetail: null,
        },
        { device: s % 2 ? 'mobile' : 'desktop' },
      );
      t += durationUs + gapUs;
    }
    if (w.queued - w.written > 50_000) await w.flush();
  }
  await w.close();
  renameSync(partial, path);
  return path;
}

/** Starts the trivial keep-alive server in a child process (pinned to `cpu` when taskset exists). */
export function startTrivialServer(cpu = '0') {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello world'); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const args = ['-c', cpu, process.execPath, '-e', code];
  const child = existsSync('/usr/bin/taskset') ? spawn('taskset', args, { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    child.stdout.once('data', (d) => resolve({ url: `http://127.0.0.1:${String(d).trim()}`, close: () => child.kill() }));
  });
}

/** `taskset -c cpu cmd args` when taskset exists. */
export function pinned(cpu, cmd, args) {
  return existsSync('/usr/bin/taskset') ? ['taskset', ['-c', cpu, cmd, ...args]] : [cmd, args];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * A trivial keep-alive server (pinned to `cpu`) that counts connections:
 * `counts()` gives those accepted so far and the most open at once since the
 * previous call. `close()` ends it.
 */
export async function startCountingServer(cpu = '0') {
  const code = `
    const http = require('node:http');
    let accepted = 0, open = 0, peak = 0;
    const s = http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello world'); });
    s.on('connection', (c) => { accepted++; open++; if (open > peak) peak = open; c.on('close', () => open--); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));
    process.stdin.on('data', () => { console.log(accepted + ' ' + peak); peak = open; });
    process.stdin.on('end', () => process.exit(0));`;
  const [cmd, args] = pinned(cpu, process.execPath, ['-e', code]);
  const server = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let waiting = null;
  server.stdout.on('data', (d) => {
    for (const l of String(d).split('\n').filter(Boolean)) {
      lines.push(l);
      waiting?.();
    }
  });
  const nextLine = () => new Promise((r) => (lines.length ? r(lines.shift()) : (waiting = () => { waiting = null; r(lines.shift()); })));
  const url = `http://127.0.0.1:${(await nextLine()).trim()}`;
  return {
    url,
    async counts() {
      server.stdin.write('?\n');
      const [accepted, peak] = (await nextLine()).split(' ').map(Number);
      return { accepted, peak };
    },
    close: () => server.stdin.end(),
  };
}

/**
 * Send lag percentiles over every segment of a run.json, µs. `decodeHistogram`
 * is the built `measure/histogram` one (after `initHistograms()`).
 */
export function sendLagOf(decodeHistogram, run) {
  let h = null;
  for (const s of run.segments) {
    const x = decodeHistogram(s.histograms.sendLag);
    if (h === null) h = x;
    else {
      h.add(x);
      x.destroy();
    }
  }
  const r = { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue };
  h.destroy();
  return r;
}

/** Requests per second of {@link timingRecording} at --scale 1. */
export const TIMING_BASE_RATE = 1000;

/**
 * The recording of bench/replay-timing.mjs (and replay-paired.mjs): 1,000
 * sessions 4 ms apart (250 sessions/s), 4 requests each 1 ms long with 100 ms
 * of think time between them: 1,000 req/s at --scale 1, a 4.3 s recording
 * that --duration loops. Returns its path under `dir`.
 */
export function timingRecording(dir) {
  return ensureRecording(join(dir, 'timing-1000x4.db'), {
    sessions: 1000, perSession: 4, durationUs: 1_000, gapUs: 100_000, sessionGapUs: 4_000,
  });
}
