import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../..');
export const KUBERNETES_DIR = join(ROOT, 'deploy/kubernetes');

/** The parts of a Kubernetes object these tests read (the schema check covers the rest). */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string } };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}
export interface PodSpec {
  restartPolicy?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    backoffLimit?: number;
    podFailurePolicy?: { rules: Array<{ action: string; onExitCodes?: { containerName?: string; operator: string; values: number[] } }> };
    template?: { spec: PodSpec };
  } & Partial<PodSpec>;
}

export interface Manifest {
  /** File name under deploy/kubernetes/, and the document's place in it. */
  file: string;
  doc: number;
  object: K8sObject;
}

/** Every YAML document under deploy/kubernetes/, parsed; a YAML error fails the caller. */
export function kubernetesManifests(): Manifest[] {
  const files = readdirSync(KUBERNETES_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(KUBERNETES_DIR, file), 'utf8')).flatMap((d, doc) => {
      if (d.errors.length > 0) throw new Error(`${file} document ${doc + 1}: ${d.errors.map((e) => e.message).join('; ')}`);
      const object = d.toJS() as K8sObject | null;
      return object === null ? [] : [{ file, doc, object }];
    }),
  );
}

/** The pod spec of a Pod, or of a Job's template. */
export function podSpecOf(o: K8sObject): PodSpec {
  if (o.kind === 'Pod') return o.spec as PodSpec;
  const spec = o.spec?.template?.spec;
  if (!spec) throw new Error(`${o.kind} ${o.metadata.name} has no pod template`);
  return spec;
}

/**
 * Kubernetes' `$(NAME)` expansion of command and args: a reference to a
 * variable of `env` is replaced, `$$` escapes, and an unknown reference is
 * left as it is (the way the kubelet does it).
 */
export function expandKubernetes(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m));
}

/** `$(NAME)` references in a string. */
export function kubernetesRefs(text: string): string[] {
  return [...text.replace(/\$\$/g, '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1]!);
}

/** A Kubernetes CPU quantity (`500m`, `2`, 0.5) in cores. */
export function cpuCores(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(q));
  if (!m) throw new Error(`not a CPU quantity: ${q}`);
  return Number(m[1]) / (m[2] === 'm' ? 1000 : 1);
}

/** A Kubernetes memory quantity (`256Mi`, `1Gi`, `512M`) in bytes. */
export function memoryBytes(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const unit: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * unit[m[2] ?? '']!;
}

/** Where a path inside a container lives: the claim mounted at the longest matching mountPath, and the path under it. */
export function onVolume(pod: PodSpec, container: Container, path: string): { claim: string; path: string } | null {
  const mounts = (container.volumeMounts ?? []).filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/?$/, '/')));
  const mount = mounts.sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) return null;
  const claim = pod.volumes?.find((v) => v.name === mount.name)?.persistentVolumeClaim?.claimName;
  if (!claim) return null;
  const rest = path.slice(mount.mountPath.replace(/\/$/, '').length).replace(/^\//, '');
  return { claim, path: [mount.subPath, rest].filter((p) => p).join('/') };
}
