import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { ex, replaySessions, session, startServer } from './helpers.js';

/** p99 of plain numbers (nearest rank). */
function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
}

const PERIOD_MS = 3000;
const STALL_MS = 1000;
const servers: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  while (servers.length) await servers.pop()!.close();
});

/** A server that answers at once, except that every 3 s it stalls for 1 s: requests arriving then wait until the stall ends. */
async function stallingServer(): Promise<{ url: string; served: number[]; close(): Promise<void> }> {
  const t0 = performance.now();
  const served: number[] = [];
  const srv = await startServer((_req, res) => {
    const arrived = performance.now();
    const phase = (arrived - t0) % PERIOD_MS;
    const wait = phase >= PERIOD_MS - STALL_MS ? PERIOD_MS - phase : 0;
    const reply = (): void => {
      res.end('ok');
      served.push((performance.now() - arrived) * 1000);
    };
    if (wait > 0) setTimeout(reply, wait);
    else reply();
  });
  servers.push(srv);
  return { url: srv.url, served, close: srv.close };
}

describe('honest timing', () => {
  it('against a server that stalls 1 s every 3 s, p99 response time shows the stall; a closed loop from actual send hides it', async () => {
    // 650 one-request sessions, 10 ms apart: 6.5 s, two stalls.
    const sessions = Array.from({ length: 650 }, (_, i) => session(`u${i}`, [ex({ target: `/x/${i}`, route: 'GET /x/:id', startOffsetUs: i * 10_000 })]));
    const open = await stallingServer();
    const run = await replaySessions(sessions, open.url, { concurrency: 1000 });
    const serverP99 = p99(open.served);
    const seg = run.segments[0]!;
    expect(seg.count).toBe(650);
    expect(serverP99).toBeGreaterThan(500_000);
    // every request's response time includes its server time, so its p99 is at least the server's
    expect(seg.p99).toBeGreaterThanOrEqual(serverP99 * 0.99);

    // A closed loop (4 connections, next request when the previous answers, timed from actual send)
    // against the same kind of server for the same 6.5 s: only 4 requests per stall see it.
    const closed = await stallingServer();
    const pool = new Pool(closed.url, { connections: 4 });
    const latencies: number[] = [];
    const until = performance.now() + 6500;
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        while (performance.now() < until) {
          const sent = performance.now();
          const r = await pool.request({ path: '/y', method: 'GET' });
          await r.body.dump();
          latencies.push((performance.now() - sent) * 1000);
        }
      }),
    );
    await pool.close();
    const closedP99 = p99(latencies);
    expect(latencies.length).toBeGreaterThan(650);
    expect(closedP99).toBeLessThan(seg.p99 / 2);
  });
});
