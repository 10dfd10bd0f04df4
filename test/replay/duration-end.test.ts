import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ex, replaySessions, session, startServer } from './helpers.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

describe('the end of --duration', () => {
  it('a request due before the end but reached late (the loop was stalled) is sent late, not counted unsent', async () => {
    // The server lives on this thread: answering /stall blocks the replay's event loop for
    // 100 ms, so the tick for /late (due at 40 ms) only runs after the 45 ms duration is over.
    const srv = await startServer((req, res) => {
      if (req.url === '/stall') {
        const until = performance.now() + 100;
        while (performance.now() < until) {
          // block
        }
      }
      res.end('ok');
    });
    servers.push(srv);
    const r = await replaySessions(
      [
        session('a', [ex({ target: '/stall', startOffsetUs: 0 })]),
        session('b', [ex({ target: '/late', startOffsetUs: 40_000 })]),
        // after the end: never sent (and it makes the recording longer than the duration, so no loop)
        session('c', [ex({ target: '/after', startOffsetUs: 200_000 })]),
      ],
      srv.url,
      { durationUs: 45_000 },
    );
    expect(srv.hits.map((h) => h.url).sort()).toEqual(['/late', '/stall']);
    expect(r.totals.unsent).toBe(0);
    expect(r.totals.requests).toBe(2);
    // the lateness is not hidden: it is the send lag
    expect(r.totals.sendLagP99Us).toBeGreaterThan(40_000);
  });
});
