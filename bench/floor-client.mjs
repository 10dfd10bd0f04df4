// The floor for per-clone connections: the least a Node client can do for
// the replay-timing shape (sessions of N GETs on their own connection, T ms
// of think time between them, sessions arriving at a steady rate), with
// nothing flashback does besides (no schedule precision beyond the 1 ms
// timer, no histograms, no plan, a response taken as done when its bytes
// end with the trivial server's body). bench/replay-timing.mjs runs it beside
// flashback per-clone, so the CPU per request that is Node's own socket
// lifecycle can be told from flashback's.
//
//   node bench/floor-client.mjs <url> <requests per second> <seconds> [requests per session 4] [think ms 100]
// prints JSON: { requests, errors, connections }
import { connect } from 'node:net';

const [url, rateArg, secondsArg, perArg = '4', thinkArg = '100'] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const rate = Number(rateArg);
const perSession = Number(perArg);
const thinkMs = Number(thinkArg);
const endMs = Number(secondsArg) * 1000;
const sessionGapMs = (1000 * perSession) / rate;
const request = Buffer.from(`GET / HTTP/1.1\r\nhost: ${hostname}:${port}\r\nconnection: keep-alive\r\n\r\n`, 'latin1');
let requests = 0;
let errors = 0;
let connections = 0;
let open = 0;

function session() {
  let left = perSession;
  connections++;
  open++;
  const s = connect({ host: hostname, port: Number(port), noDelay: true });
  const send = () => s.write(request);
  s.on('connect', send);
  s.on('data', (chunk) => {
    // the trivial server's whole response arrives as one chunk on loopback and ends with its body
    if (chunk[chunk.length - 1] !== 0x64 /* "d" of "hello world" */) return;
    requests++;
    if (--left > 0) setTimeout(send, thinkMs);
    else s.destroy();
  });
  s.on('error', () => errors++);
  s.on('close', () => open--);
}

const t0 = performance.now();
let started = 0;
const tick = () => {
  const now = performance.now() - t0;
  if (now >= endMs) return;
  while (started * sessionGapMs <= now) {
    started++;
    session();
  }
  setTimeout(tick, 1);
};
tick();
const done = setInterval(() => {
  if (performance.now() - t0 >= endMs && open === 0) {
    clearInterval(done);
    process.stdout.write(`${JSON.stringify({ requests, errors, connections })}\n`);
  }
}, 50);
