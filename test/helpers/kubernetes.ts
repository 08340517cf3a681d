// The Helm chart rendered by the real Helm (scripts/helm-template.sh) and each
// object validated against the Kubernetes and prometheus-operator schemas,
// offline.
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseAllDocuments, stringify } from 'yaml';
import { root } from './repo.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels: Record<string, string> }; [k: string]: any };

/** Renders the chart; values are objects written to files. Rejects with Helm's error. */
export async function renderChart(values: object[] = [], release = 'fraglist-exporter', namespace = 'monitoring'): Promise<K8sObject[]> {
  const dir = mkdtempSync(tmpdir() + '/flx-values-');
  try {
    const files = values.map((v, i) => { const f = `${dir}/values-${i}.yaml`; writeFileSync(f, stringify(v)); return f; });
    const r = await execa('bash', [root + 'scripts/helm-template.sh', release, namespace, ...files], { reject: false });
    if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `helm-template.sh exited ${r.exitCode}`);
    return parseYamlObjects(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseYamlObjects(text: string): K8sObject[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(d.errors[0].message);
    return d.toJS() as K8sObject | null;
  }).filter((o): o is K8sObject => o !== null);
}

/** Throws unless the object validates against its kind's schema; an unknown kind throws too. */
export async function validateObject(o: K8sObject): Promise<void> {
  const module = o.apiVersion.startsWith('monitoring.coreos.com/')
    ? `@kubernetes-models/prometheus-operator/${o.apiVersion}`
    : `kubernetes-models/${o.apiVersion}`;
  const models = await import(module) as Record<string, new (data: object) => { validate(): void }>;
  const Model = models[o.kind];
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

/** Leaf paths of a values tree (["filters", "srcIp"]); lists and empty maps are leaves. */
export function leafPaths(v: unknown, prefix: string[] = []): string[][] {
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
    return Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...prefix, k]));
  }
  return [prefix];
}
