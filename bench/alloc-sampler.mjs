// Preload for finding what a process allocates (including what the scavenger
// collects, which `--heap-prof` leaves out): V8's sampling heap profiler from
// start to exit, then the top allocation sites by bytes to stderr.
//
//   node --import ./bench/alloc-sampler.mjs bin/flashback.js replay ...
//
// ALLOC_MINOR=0 counts only objects that survived into old space (promoted).
// ALLOC_TOP=40 sets how many sites; ALLOC_INTERVAL=4096 the sampling interval in bytes.
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: Number(process.env.ALLOC_INTERVAL ?? 8192),
  includeObjectsCollectedByMajorGC: true,
  // ALLOC_MINOR=0: leave out what scavenges collect, so only what was promoted (or is live) counts
  includeObjectsCollectedByMinorGC: process.env.ALLOC_MINOR !== '0',
});

process.on('exit', () => {
  session.post('HeapProfiler.stopSampling', (err, { profile } = {}) => {
    if (err || !profile) return;
    const bySite = new Map();
    let total = 0;
    const walk = (node, stack) => {
      const f = node.callFrame;
      const here = `${f.functionName || '(anon)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${f.lineNumber + 1}`;
      const chain = [here, ...stack].slice(0, 3);
      if (node.selfSize > 0) {
        const key = chain.join(' < ');
        bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
        total += node.selfSize;
      }
      for (const c of node.children) walk(c, chain);
    };
    walk(profile.head, []);
    const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.ALLOC_TOP ?? 40));
    const lines = [`allocation sampling: ${(total / 2 ** 20).toFixed(0)} MiB sampled in total`];
    for (const [k, v] of top) lines.push(`${(v / 2 ** 20).toFixed(1).padStart(7)} MiB ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
    process.stderr.write(lines.join('\n') + '\n');
  });
});
