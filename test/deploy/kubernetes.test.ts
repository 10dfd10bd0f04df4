import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim, Pod } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseStartAt, parseTarget, resolveShard, SHARD_ENV } from '../../src/replay/replay-options.js';
import { parseGates } from '../../src/report/gates.js';
import { fencedBlocks } from '../docs/repo-files.js';
import { parseFlashback, type ParsedCommand } from './flashback-cli.js';
import {
  cpuCores,
  expandKubernetes,
  KUBERNETES_DIR,
  kubernetesManifests,
  kubernetesRefs,
  memoryBytes,
  onVolume,
  podSpecOf,
  type Container,
  type K8sObject,
  type PodSpec,
} from './manifests.js';
import { flashbackCommands, shellCommands } from './shell-words.js';

/**
 * The schema classes of kubernetes-models (the Kubernetes OpenAPI schema,
 * compiled): `validate()` checks types, required fields, enums and formats
 * such as quantities. It does not reject unknown field names (the schema
 * leaves objects open; the API server's strict field validation does that),
 * so the fields the shards depend on are also read back by name below.
 */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'batch/v1 Job': Job,
  'v1 Pod': Pod,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
  'v1 ConfigMap': ConfigMap,
};

const README = readFileSync(join(KUBERNETES_DIR, 'README.md'), 'utf8');
const manifests = kubernetesManifests();
const jobs = manifests.map((m) => m.object).filter((o) => o.kind === 'Job');

/** Every container of a pod, init containers first (the order they run in). */
const containersOf = (pod: PodSpec): Container[] => [...(pod.initContainers ?? []), ...pod.containers];

/** The flashback command a container runs: its args, when the image's entrypoint (flashback) is kept. */
function flashbackArgs(c: Container): string[] | null {
  return c.command === undefined && c.image.startsWith('flashback') && c.args ? c.args : null;
}

/** The shards' Job: the one whose container runs `replay`. */
function replayJob(): { job: K8sObject; pod: PodSpec; container: Container } {
  const found = jobs.flatMap((job) => containersOf(podSpecOf(job)).filter((c) => flashbackArgs(c)?.[0] === 'replay').map((container) => ({ job, pod: podSpecOf(job), container })));
  expect(found, 'exactly one container runs flashback replay').toHaveLength(1);
  return found[0]!;
}

/** The ConfigMap that README.md creates: `kubectl create configmap NAME --from-literal=key=value …`, `$(date …)` read as now. */
function readmeConfigMap(nowIso: string): { name: string; data: Record<string, string> } {
  const command = fencedBlocks(README)
    .flatMap((b) => shellCommands(b.text))
    .find((w) => w[0] === 'kubectl' && w[1] === 'create' && w[2] === 'configmap');
  if (!command) throw new Error('README.md has no kubectl create configmap command');
  const data: Record<string, string> = {};
  for (const w of command) {
    const m = /^--from-literal=([^=]+)=(.*)$/.exec(w);
    if (m) data[m[1]!] = m[2]!.replace(/\$\(date -u \+%FT%TZ\)/g, nowIso);
  }
  return { name: command[3]!, data };
}

/** A container's environment on the pod of completion index `index`, as Kubernetes would set it. */
function envFor(c: Container, index: number, configMap: { name: string; data: Record<string, string> }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = expandKubernetes(v.value, env);
    else if (v.valueFrom?.fieldRef?.fieldPath === "metadata.annotations['batch.kubernetes.io/job-completion-index']") env[v.name] = String(index);
    else if (v.valueFrom?.configMapKeyRef) {
      const { name, key } = v.valueFrom.configMapKeyRef;
      if (name !== configMap.name || !(key in configMap.data)) throw new Error(`${v.name} reads ${name}/${key}, which the README's ConfigMap ${configMap.name} does not hold`);
      env[v.name] = configMap.data[key]!;
    } else throw new Error(`env ${v.name}: a source this test does not know`);
  }
  return env;
}

describe('deploy/kubernetes: every manifest is a valid Kubernetes object', () => {
  it('finds the volume, the data pod and the two Jobs', () => {
    expect(manifests.map((m) => `${m.file} ${m.object.kind}/${m.object.metadata.name}`)).toEqual([
      'data.yaml PersistentVolumeClaim/flashback-data',
      'data.yaml Pod/flashback-data',
      'merge-job.yaml Job/flashback-merge',
      'replay-job.yaml Job/flashback-replay',
    ]);
  });

  it.each(manifests.map((m) => [`${m.file} #${m.doc + 1} ${m.object.kind}/${m.object.metadata?.name}`, m] as const))('%s validates against the schema', (_, m) => {
    const Model = MODELS[`${m.object.apiVersion} ${m.object.kind}`];
    expect(Model, `no schema class for ${m.object.apiVersion} ${m.object.kind}`).toBeDefined();
    expect(() => new Model!(m.object as never).validate()).not.toThrow();
  });

  it('the schema check catches a wrong type, a bad enum value and a malformed quantity', () => {
    const { job } = replayJob();
    const broken = (edit: (o: K8sObject) => void): K8sObject => {
      const o = structuredClone(job);
      edit(o);
      return o;
    };
    const cases = [
      broken((o) => ((o.spec as Record<string, unknown>)['completions'] = 'three')),
      broken((o) => (o.spec!.completionMode = 'indexed')),
      broken((o) => (podSpecOf(o).containers[0]!.resources!.requests!['cpu'] = 'half a core')),
    ];
    for (const o of cases) expect(() => new Job(o as never).validate()).toThrow();
  });

  it('names no namespace, so they apply to whichever the user picks', () => {
    expect(manifests.filter((m) => m.object.metadata.namespace !== undefined).map((m) => m.file)).toEqual([]);
  });

  it('every flashback container uses the image name the README rewrites, and the same one', () => {
    const images = manifests.flatMap((m) => (m.object.kind === 'PersistentVolumeClaim' ? [] : containersOf(podSpecOf(m.object)).map((c) => c.image)));
    expect(new Set(images)).toEqual(new Set(['flashback:latest']));
    expect(README).toContain("sed -i 's|image: flashback:latest|");
  });
});

describe('deploy/kubernetes: the Indexed Job runs the shards', () => {
  const { job, pod, container } = replayJob();
  const shardCount = Number(container.env?.find((v) => v.name === SHARD_ENV.count)?.value);

  it('is Indexed, with completions = parallelism = FLASHBACK_SHARD_COUNT, never restarted in place, few retries', () => {
    expect(job.spec?.completionMode).toBe('Indexed');
    expect(shardCount).toBeGreaterThanOrEqual(2);
    expect(job.spec?.completions).toBe(shardCount);
    expect(job.spec?.parallelism).toBe(shardCount);
    expect(pod.restartPolicy).toBe('Never');
    expect(job.spec?.backoffLimit).toBeLessThanOrEqual(3);
  });

  it("fails at once on flashback's own exit statuses 1, 2 and 3, for the container that exists", () => {
    const rule = job.spec?.podFailurePolicy?.rules.find((r) => r.action === 'FailJob' && r.onExitCodes);
    expect(rule?.onExitCodes).toEqual({ containerName: container.name, operator: 'In', values: [1, 2, 3] });
  });

  it('every $(NAME) in its args is a variable the container declares (an unknown one would reach flashback as text)', () => {
    const declared = new Set((container.env ?? []).map((v) => v.name));
    const refs = (container.args ?? []).flatMap(kubernetesRefs);
    expect(refs).toEqual(expect.arrayContaining(['JOB_COMPLETION_INDEX', 'FLASHBACK_START_AT']));
    expect(refs.filter((r) => !declared.has(r))).toEqual([]);
  });

  it('each pod parses as replay --shard auto, is a different shard, and together they are all of them', async () => {
    const now = new Date();
    const configMap = readmeConfigMap(now.toISOString().replace(/\.\d+Z$/, 'Z'));
    const shards: number[] = [];
    const outs = new Set<string>();
    for (let index = 0; index < shardCount; index++) {
      const env = envFor(container, index, configMap);
      const parsed = await parseFlashback(flashbackArgs(container)!.map((a) => expandKubernetes(a, env)));
      expect(parsed.command).toBe('replay');
      expect(parsed.opts['shard']).toBe('auto');
      const shard = resolveShard(String(parsed.opts['shard']), env);
      expect(shard.count).toBe(shardCount);
      shards.push(shard.index);
      expect(() => parseTarget(String(parsed.opts['target']))).not.toThrow();
      // The README's start: the same epoch-plus-delay text on every pod, in the future when applied.
      const startMs = parseStartAt(String(parsed.opts['startAt']), now.getTime());
      expect(startMs - now.getTime()).toBeGreaterThanOrEqual(60_000);
      expect(onVolume(pod, container, parsed.args[0]!), 'the recording is read from the volume').not.toBeNull();
      outs.add(String(parsed.opts['out']));
    }
    expect(shards.sort()).toEqual(Array.from({ length: shardCount }, (_, i) => i + 1));
    expect(outs.size).toBe(shardCount);
  });

  it('asks for at least what the bench/ figures give at 2,000 req/s per shard (the arithmetic in its comments)', () => {
    const requests = container.resources!.requests!;
    const limits = container.resources!.limits!;
    // ~100 µs of CPU per request, per-clone connections, at 5,000 req/s (docs/replay.md).
    expect(cpuCores(requests['cpu']!)).toBeGreaterThanOrEqual(2000 * 100e-6);
    // 124 MiB for the replay itself, ~7 KiB per active session; 12,000 active at 2,000 req/s of 10-request, 60 s sessions.
    expect(memoryBytes(requests['memory']!)).toBeGreaterThanOrEqual(124 * 2 ** 20 + 12_000 * 7 * 2 ** 10);
    // 833 MiB measured with 100,000 sessions active at once: the limit leaves room for that.
    expect(memoryBytes(limits['memory']!)).toBeGreaterThan(833 * 2 ** 20);
    expect(cpuCores(limits['cpu']!)).toBeGreaterThanOrEqual(cpuCores(requests['cpu']!));
    // One worker thread: the default counts the node's cores, not the container's.
    expect(container.args).toEqual(expect.arrayContaining(['--workers', '1']));
  });
});

describe('deploy/kubernetes: the merge Job reads exactly the shard files', () => {
  const shards = replayJob();
  const mergeJob = jobs.find((j) => j !== shards.job)!;
  const pod = podSpecOf(mergeJob);

  /** Each flashback command of the merge pod, parsed, with the container it runs in. */
  async function commands(): Promise<Array<{ container: Container; parsed: ParsedCommand }>> {
    return Promise.all(containersOf(pod).map(async (container) => ({ container, parsed: await parseFlashback(flashbackArgs(container)!) })));
  }

  /** The shard files as (claim, path) pairs: the Indexed Job's --out for every index. */
  async function shardFiles(): Promise<string[]> {
    const count = shards.job.spec!.completions!;
    const configMap = readmeConfigMap(new Date(Date.now() + 1000).toISOString());
    const files: string[] = [];
    for (let index = 0; index < count; index++) {
      const env = envFor(shards.container, index, configMap);
      const parsed = await parseFlashback(flashbackArgs(shards.container)!.map((a) => expandKubernetes(a, env)));
      const where = onVolume(shards.pod, shards.container, String(parsed.opts['out']));
      expect(where, 'a shard writes its run.json onto the claim').not.toBeNull();
      files.push(`${where!.claim}:${where!.path}`);
    }
    return files.sort();
  }

  it('runs report merge first (an init container), then report diff, never retried', async () => {
    const cmds = await commands();
    expect(cmds.map((c) => c.parsed.command)).toEqual(['report merge', 'report diff']);
    expect(pod.initContainers?.map((c) => c.name)).toEqual([cmds[0]!.container.name]);
    expect(pod.restartPolicy).toBe('Never');
    expect(mergeJob.spec?.backoffLimit).toBe(0);
  });

  it("report merge lists exactly the shards' files, on the same claim", async () => {
    const [merge] = await commands();
    const inputs = merge!.parsed.args.map((p) => onVolume(pod, merge!.container, p)).map((w) => (w ? `${w.claim}:${w.path}` : 'not on a volume'));
    expect(inputs.sort()).toEqual(await shardFiles());
  });

  it('report diff compares the baseline with the merge, with gates that parse, writing formats it knows', async () => {
    const [merge, diff] = await commands();
    const where = (c: Container, p: string): string => {
      const w = onVolume(pod, c, p);
      return w ? `${w.claim}:${w.path}` : `not on a volume: ${p}`;
    };
    expect(diff!.parsed.args).toHaveLength(2);
    expect(where(diff!.container, diff!.parsed.args[1]!)).toBe(where(merge!.container, String(merge!.parsed.opts['out'])));
    expect(README).toContain(`kubectl cp baselines/main.json flashback-data:${diff!.parsed.args[0]}`);
    const gates = diff!.parsed.opts['failOn'] as string[];
    expect(gates).toContain('p99:+10%');
    expect(() => parseGates(gates)).not.toThrow();
    const outs = diff!.parsed.opts['out'] as string[];
    expect(outs.map((o) => o.replace(/^.*\./, '.')).sort()).toEqual(['.html', '.md', '.xml']);
    for (const o of outs) expect(where(diff!.container, o)).toMatch(/^flashback-data:/);
  });
});

describe('deploy/kubernetes/README.md and docs/docker.md', () => {
  it('their flashback commands exist with the flags they use', async () => {
    const docker = readFileSync(join(KUBERNETES_DIR, '../../docs/docker.md'), 'utf8');
    const lines = flashbackCommands([README, docker].flatMap((doc) => fencedBlocks(doc).flatMap((b) => shellCommands(b.text))));
    expect(lines.map((l) => l.slice(0, 2).join(' '))).toEqual(['replay /data/rec.db', 'report diff']);
    for (const argv of lines) await expect(parseFlashback(argv)).resolves.toBeDefined();
  });

  it('applies the files that exist, and waits for the Job names the manifests give', () => {
    const applied = [...README.matchAll(/kubectl apply -f deploy\/kubernetes\/([\w.-]+)/g)].map((m) => m[1]!);
    expect(new Set(applied)).toEqual(new Set(['data.yaml', 'replay-job.yaml', 'merge-job.yaml']));
    for (const name of [...README.matchAll(/job[/ ](flashback-[\w-]+)/g)].map((m) => m[1]!)) {
      expect(jobs.map((j) => j.metadata.name)).toContain(name);
    }
  });
});
