// HAProxy as the peer of the recorder benches: an HTTP proxy written in C,
// recording nothing (apt-get install haproxy). One thread, HTTP mode,
// keep-alive on both sides.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';

/**
 * Starts HAProxy in front of `target` on a free port, its config in `dir`;
 * with `pin`, on core 1 (taskset). Resolves once it accepts connections.
 * `reuse`: HAProxy's `http-reuse` for connections to the target.
 */
export async function startHaproxy(target, dir, { pin = false, reuse = 'safe' } = {}) {
  const probe = createNetServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const cfg = join(dir, 'haproxy.cfg');
  const t = new URL(target);
  writeFileSync(
    cfg,
    ['global', '  nbthread 1', '  maxconn 4000', 'defaults', '  mode http', '  timeout connect 5s', '  timeout client 30s', '  timeout server 30s',
      '  option http-keep-alive', 'frontend f', `  bind 127.0.0.1:${port}`, '  default_backend b', 'backend b', `  http-reuse ${reuse}`,
      `  server s1 ${t.hostname}:${t.port}`, ''].join('\n'),
  );
  const [file, list] = pin ? ['taskset', ['-c', '1', 'haproxy', '-db', '-f', cfg]] : ['haproxy', ['-db', '-f', cfg]];
  const child = spawn(file, list, { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => {
      const s = netConnect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `http://127.0.0.1:${port}`, exited };
}
