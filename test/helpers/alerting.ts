// The alerting path as fleets run it: a real Prometheus loading the shipped
// rules and scraping the agent, a real Alertmanager, and a webhook here that
// records every notification.
import { execa } from 'execa';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, until } from './agent.js';
import { query } from './prometheus.js';

export const SHIPPED_RULES = fileURLToPath(new URL('../../../deploy/prometheus/fraglist-exporter.rules.yml', import.meta.url));
export const JOB = 'fraglist-exporter';

export interface Alert { status: string; labels: Record<string, string>; annotations: Record<string, string> }
export interface Notification { receiver: string; status: string; alerts: Alert[] }

export interface AlertingStack {
  promUrl: string;
  /** every notification the webhook got, with when */
  received: Array<{ at: number; body: Notification }>;
  stop(): Promise<void>;
}

export interface AlertmanagerStack {
  url: string;
  /** every notification the webhook got, with when */
  received: Array<{ at: number; body: Notification }>;
  stop(): Promise<void>;
}

/** the test's own routing: every alert to the webhook at once, a group per alert, host and hook */
const TEST_ROUTING = (receivers: string[]) => `
route: { receiver: hook, group_by: [alertname, instance, hook], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }
receivers: [{ name: hook, webhook_configs: [${receivers.map((url) => `{ url: '${url}', send_resolved: false }`).join(', ')}] }]
`;

/**
 * A webhook here and a real Alertmanager notifying it. `config(webhookUrl)`
 * is its configuration (by default the test's own routing); `webhooks`: more
 * receivers of the default routing (a guest's, which prints to its console).
 */
export async function startAlertmanager(o: { config?: (webhookUrl: string) => string; webhooks?: string[] } = {}): Promise<AlertmanagerStack> {
  const dir = mkdtempSync(join(tmpdir(), 'flx-alertmanager-'));
  const received: AlertmanagerStack['received'] = [];
  const [hookPort, amPort] = [await freePort(), await freePort()];
  const webhook: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push({ at: Date.now(), body: JSON.parse(body) }); res.end(); });
  });
  await new Promise<void>((r) => webhook.listen(hookPort, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${hookPort}/`;
  writeFileSync(join(dir, 'alertmanager.yml'), o.config ? o.config(hookUrl) : TEST_ROUTING([hookUrl, ...(o.webhooks ?? [])]));
  const proc = execa('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`,
    `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], { reject: false, all: true });
  const url = `http://127.0.0.1:${amPort}`;
  const stop = async () => {
    proc.kill('SIGTERM'); await proc;
    webhook.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('Alertmanager ready', async () => (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) || undefined, 30_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}: ${proc.all ?? ''}`);
  }
  return { url, received, stop };
}

/**
 * Starts the webhook, Alertmanager and Prometheus (1 s scrapes and rule
 * evaluations); resolves once Prometheus scrapes every target as up (unless
 * `waitForTargets` is false: targets that come up later, a guest's agent).
 * `webhooks`: more receivers Alertmanager also notifies (a guest's, which prints to its console).
 * `extraRules` is YAML of rule groups that are not shipped (a test's controls).
 */
export async function startAlerting(targets: string[], extraRules?: string, o: { waitForTargets?: boolean; webhooks?: string[] } = {}): Promise<AlertingStack> {
  const dir = mkdtempSync(join(tmpdir(), 'flx-alerting-'));
  const am = await startAlertmanager({ webhooks: o.webhooks });
  const promPort = await freePort();
  const rules = [SHIPPED_RULES];
  if (extraRules) { writeFileSync(join(dir, 'extra.rules.yml'), extraRules); rules.push(join(dir, 'extra.rules.yml')); }
  writeFileSync(join(dir, 'prometheus.yml'), `
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${rules.map((r) => `'${r}'`).join(', ')}]
alerting: { alertmanagers: [{ static_configs: [{ targets: ['${new URL(am.url).host}'] }] }] }
scrape_configs: [{ job_name: ${JOB}, static_configs: [{ targets: [${targets.map((t) => `'${t}'`).join(', ')}] }] }]
`);
  const prom = execa('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom')}`,
    `--web.listen-address=127.0.0.1:${promPort}`], { reject: false, all: true });
  const promUrl = `http://127.0.0.1:${promPort}`;
  const stop = async () => {
    prom.kill('SIGTERM'); await prom;
    await am.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (o.waitForTargets !== false) await until('Prometheus to scrape every target', async () => {
      const r = await query(promUrl, `up{job="${JOB}"} == 1`).catch(() => []);
      return r.length === targets.length ? true : undefined;
    }, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { promUrl, received: am.received, stop };
}

/** The notifications' alerts, flattened. */
export const alertsOf = (s: AlertingStack): Alert[] => s.received.flatMap((n) => n.body.alerts);
