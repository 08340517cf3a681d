// A real Prometheus (Debian's) on loopback, in a folder of its own, for tests
// that need a scraper as fleets run it.
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './agent.js';
import { DASHBOARD_SPECS } from '../../grafana/dashboards.js';

export interface Prometheus { url: string; proc: ResultPromise; dir: string; stop(): Promise<void> }

/** Starts Prometheus with this configuration (YAML; {{dir}} is its folder). */
export async function startPrometheus(config: string): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'flx-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), config.replaceAll('{{dir}}', dir));
  const port = await freePort();
  const proc = execa('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`], { reject: false, all: true });
  return {
    url: `http://127.0.0.1:${port}`, proc, dir,
    async stop() { proc.kill('SIGTERM'); await proc; rmSync(dir, { recursive: true, force: true }); },
  };
}

export async function query(promUrl: string, expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = await r.json() as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

/**
 * Runs every query of the shipped dashboards against a Prometheus API (Prometheus or VictoriaMetrics), with the
 * dashboard variables as a test sets them; throws on a query error. Returns the panels that should show data and did not.
 */
export async function panelsWithoutData(url: string, job: string): Promise<string[]> {
  const vars: Record<string, string> = { $job: job, $instance: '.+', $__rate_interval: '1m', $__range: '10m' };
  const empty: string[] = [];
  for (const d of DASHBOARD_SPECS) {
    for (const p of d.rows.flatMap((r) => r.panels)) {
      let rows = 0;
      for (const t of p.targets) rows += (await query(url, t.expr.replace(/\$(job|instance|__rate_interval|__range)\b/g, (v) => vars[v]))).length;
      if (p.expectsData && rows === 0) empty.push(`${d.uid}: ${p.title}`);
    }
  }
  return empty;
}
