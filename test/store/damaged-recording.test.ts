import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderInspect } from '../../src/cli/commands/inspect.js';
import { exportHar } from '../../src/export/har-export.js';
import { exportK6 } from '../../src/export/k6-export.js';
import { InputError } from '../../src/model/errors.js';
import { openRecordingSource } from '../../src/replay/open-recording.js';
import { startReplay } from '../../src/replay/replay.js';
import { RecordingReader } from '../../src/store/recording-reader.js';
import { mutations, useDamageFixture, writeMutation } from './damage-helpers.js';

// Issue 9: a recording whose bytes were damaged (cut, partly overwritten) is
// bad input: every reading path (open, first query, the middle of a stream,
// the replay's read-ahead) ends in one InputError naming the file, and no
// half-written output is left behind. A mutation that hit unused bytes may
// leave a readable file: then the output must be sane. Seeded: a failure
// names its seed and mutation, and reproduces.

const SEED = Number(process.env['DAMAGE_SEED'] ?? 9009);
const COUNT = 300;

const fx = useDamageFixture();

type Outcome = 'ok' | 'damaged';

/** Runs `fn`; an InputError naming `file`, with no hint (one line), is 'damaged'; anything else thrown fails. */
async function outcome(file: string, fn: () => Promise<void> | void): Promise<Outcome | string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (!(e instanceof InputError)) return `threw ${(e as Error)?.name}: ${(e as Error)?.message}`;
    if (e.exitCode !== 2 || !e.message.includes(file) || e.hint !== undefined) return `bad InputError: ${e.message} (hint ${e.hint})`;
    return 'damaged';
  }
}

function inspect(file: string): void {
  const reader = RecordingReader.open(file);
  try {
    const s = reader.summary();
    const json = JSON.parse(JSON.stringify(s)) as { exchanges: number; routes: unknown[] };
    if (typeof json.exchanges !== 'number' || !Array.isArray(json.routes)) throw new Error('insane summary');
    renderInspect(s);
  } finally {
    reader.close();
  }
}

async function har(file: string, out: string): Promise<void> {
  const reader = RecordingReader.open(file);
  try {
    const { entries } = await exportHar(reader, out, 'test');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { log: { entries: unknown[] } };
    if (doc.log.entries.length !== entries) throw new Error('HAR entries do not match the count');
  } finally {
    reader.close();
  }
}

function k6(file: string, out: string): void {
  const reader = RecordingReader.open(file);
  try {
    exportK6(reader, out, 'test');
    if (!readFileSync(out, 'utf8').includes('export function replaySession()')) throw new Error('k6 script incomplete');
  } finally {
    reader.close();
  }
}

async function replay(file: string): Promise<void> {
  const source = openRecordingSource(file, { digest: false });
  try {
    const running = startReplay({
      source,
      nodeVersion: process.version,
      target: fx.target,
      plan: {
        scale: 1, speed: 10, durationUs: 30_000, rampUs: 0, jitterUs: 0, seed: 1, methods: null, routes: null,
        concurrency: 16, timeoutUs: 2_000_000, workers: 1, shard: { index: 1, count: 1 }, windowUs: 1_000_000, plannedUs: 30_000,
      },
      headers: [],
      label: 'damage',
      toolVersion: 'test',
      maxSendLagUs: 10_000_000,
    });
    const result = await running.result;
    if (typeof result.totals.requests !== 'number' || result.totals.requests < 0) throw new Error('insane totals');
  } finally {
    source.close();
  }
}

describe(`damaged recordings (seed ${SEED}, ${COUNT} mutations)`, () => {
  it('the undamaged base is readable by every command', async () => {
    expect(statSync(fx.base).size).toBeGreaterThan(3 * 65_536);
    expect(await outcome(fx.base, () => inspect(fx.base))).toBe('ok');
    expect(await outcome(fx.base, () => har(fx.base, join(fx.dir, 'base.har')))).toBe('ok');
    expect(await outcome(fx.base, () => k6(fx.base, join(fx.dir, 'base.js')))).toBe('ok');
    expect(await outcome(fx.base, () => replay(fx.base))).toBe('ok');
  });

  it('every mutation ends in exit 2 naming the file, or a sane result; no half-written output', async () => {
    const list = mutations(SEED, COUNT, statSync(fx.base).size);
    const problems: string[] = [];
    const tally = { inspect: { ok: 0, damaged: 0 }, har: { ok: 0, damaged: 0 }, k6: { ok: 0, damaged: 0 }, replay: { ok: 0, damaged: 0 } };
    for (const [i, m] of list.entries()) {
      const file = join(fx.dir, `m${i}.db`);
      writeMutation(fx.base, m, file);
      const harOut = join(fx.dir, `m${i}.har`);
      const k6Out = join(fx.dir, `m${i}.js`);
      const results: Record<keyof typeof tally, Outcome | string> = {
        inspect: await outcome(file, () => inspect(file)),
        har: await outcome(file, () => har(file, harOut)),
        k6: await outcome(file, () => k6(file, k6Out)),
        replay: await outcome(file, () => replay(file)),
      };
      for (const [cmd, r] of Object.entries(results) as Array<[keyof typeof tally, Outcome | string]>) {
        if (r === 'ok' || r === 'damaged') tally[cmd][r]++;
        else problems.push(`seed ${SEED} #${i} (${m.name}) ${cmd}: ${r}`);
      }
      if (results.har !== 'ok' && (existsSync(harOut) || existsSync(`${harOut}.partial`))) problems.push(`#${i} (${m.name}) har: output left behind`);
      if (results.k6 !== 'ok' && (existsSync(k6Out) || existsSync(`${k6Out}.partial`))) problems.push(`#${i} (${m.name}) k6: output left behind`);
    }
    console.info(`damaged recordings, ${COUNT} mutations (seed ${SEED}): ${JSON.stringify(tally)}`);
    expect(problems).toEqual([]);
    // The mutations must mostly be noticed, or this test tests nothing.
    expect(tally.inspect.damaged).toBeGreaterThan(COUNT / 5);
  }, 120_000);
});
