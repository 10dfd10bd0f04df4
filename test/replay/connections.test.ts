import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConnections } from '../../src/replay/replay-options.js';
import { ex, replaySessions, session, startServer } from './helpers.js';

/** Four sessions 80 ms apart, each three sequential GETs 5 ms apart (steps wait for the previous response). */
function sessions(): ReturnType<typeof session>[] {
  return ['a', 'b', 'c', 'd'].map((k, i) =>
    session(k, [0, 1, 2].map((j) => ex({ sessionKey: k, seq: j, target: `/${k}/${j}`, startOffsetUs: i * 80_000 + j * 5_000 }))),
  );
}

/** A server that notes, per connection, the sessions it carried and when it closed. */
async function connectionServer(): Promise<{
  srv: Awaited<ReturnType<typeof startServer>>;
  conns: Map<Socket, { keys: Set<string>; closedAtMs: number | null; firstAtMs: number }>;
}> {
  const conns = new Map<Socket, { keys: Set<string>; closedAtMs: number | null; firstAtMs: number }>();
  const srv = await startServer((req, res) => {
    const sock = req.socket;
    let c = conns.get(sock);
    if (!c) {
      c = { keys: new Set(), closedAtMs: null, firstAtMs: performance.now() };
      conns.set(sock, c);
      const entry = c;
      sock.on('close', () => (entry.closedAtMs = performance.now()));
    }
    c.keys.add(req.url!.split('/')[1]!);
    res.end('ok');
  });
  return { srv, conns };
}

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

describe('connections', () => {
  it('per-clone (the default): every clone opens its own connection, carries only its own requests, and closes it when it ends', async () => {
    const { srv, conns } = await connectionServer();
    close = srv.close;
    const r = await replaySessions(sessions(), srv.url, { scale: 2, jitterUs: 0 });
    expect(r.totals.requests).toBe(24);
    expect(conns.size).toBe(8);
    const byKey = new Map<string, number>();
    for (const c of conns.values()) {
      expect(c.keys.size).toBe(1);
      const k = [...c.keys][0]!;
      byKey.set(k, (byKey.get(k) ?? 0) + 1);
    }
    expect(Object.fromEntries(byKey)).toEqual({ a: 2, b: 2, c: 2, d: 2 });
    // session a's connections were closed by the client before session d (240 ms later) began
    const a = [...conns.values()].filter((c) => c.keys.has('a'));
    const dFirst = Math.min(...[...conns.values()].filter((c) => c.keys.has('d')).map((c) => c.firstAtMs));
    for (const c of a) expect(c.closedAtMs).not.toBeNull();
    for (const c of a) expect(c.closedAtMs!).toBeLessThan(dFirst);
  });

  it('shared: clones reuse one keep-alive pool, so connections carry several sessions', async () => {
    const { srv, conns } = await connectionServer();
    close = srv.close;
    const r = await replaySessions(sessions(), srv.url, { scale: 2, jitterUs: 0, connections: 'shared' });
    expect(r.totals.requests).toBe(24);
    expect(conns.size).toBeLessThan(8);
    expect(Math.max(...[...conns.values()].map((c) => c.keys.size))).toBeGreaterThan(1);
  });

  it('parses --connections', () => {
    expect(parseConnections('shared')).toBe('shared');
    expect(parseConnections(' per-clone ')).toBe('per-clone');
    expect(() => parseConnections('pooled')).toThrow(/--connections must be per-clone or shared \(got "pooled"\)/);
  });
});
