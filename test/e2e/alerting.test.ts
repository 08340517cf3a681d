// The page, end to end: real skbs -> agent -> a real Prometheus loading the
// shipped rules -> a real Alertmanager -> a webhook run here. And every
// dashboard query, run against that Prometheus.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, startAgent, until, type Agent } from '../helpers/agent.js';
import { cleanup, inject, tapHost } from '../helpers/net.js';
import { query } from '../helpers/prometheus.js';
import { DASHBOARD_SPECS } from '../../grafana/dashboards.js';

const RULES = fileURLToPath(new URL('../../../deploy/prometheus/fraglist-exporter.rules.yml', import.meta.url));
const JOB = 'fraglist-exporter';

interface Notification { receiver: string; status: string; alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }> }

describe('alerting with a real Prometheus and Alertmanager', () => {
  let agent: Agent, tap: Awaited<ReturnType<typeof tapHost>>;
  let prometheus: ResultPromise, alertmanager: ResultPromise, webhook: Server;
  let dir: string, promUrl: string, agentTarget: string;
  const received: Array<{ at: number; body: Notification }> = [];

  before(async () => {
    tap = await tapHost();
    agent = await startAgent(['--sample.rate=5']);
    agentTarget = new URL(agent.base).host;
    const [hookPort, amPort, promPort] = [await freePort(), await freePort(), await freePort()];
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { received.push({ at: Date.now(), body: JSON.parse(body) }); res.end(); });
    });
    await new Promise<void>((r) => webhook.listen(hookPort, '127.0.0.1', r));

    dir = mkdtempSync(join(tmpdir(), 'flx-alerting-'));
    writeFileSync(join(dir, 'alertmanager.yml'), `
route: { receiver: hook, group_by: [alertname, instance, hook], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }
receivers: [{ name: hook, webhook_configs: [{ url: 'http://127.0.0.1:${hookPort}/', send_resolved: false }] }]
`);
    writeFileSync(join(dir, 'prometheus.yml'), `
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ['${RULES}']
alerting: { alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:${amPort}'] }] }] }
scrape_configs: [{ job_name: ${JOB}, static_configs: [{ targets: ['${agentTarget}'] }] }]
`);
    alertmanager = execa('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`,
      `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], { reject: false, all: true });
    prometheus = execa('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom')}`,
      `--web.listen-address=127.0.0.1:${promPort}`], { reject: false, all: true });
    promUrl = `http://127.0.0.1:${promPort}`;
    await until('Alertmanager ready', async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`).then((r) => r.ok, () => false)) || undefined, 30_000);
    await until('Prometheus to scrape the agent', async () => {
      const r = await query(promUrl, `up{job="${JOB}"} == 1`).catch(() => []);
      return r.length ? true : undefined;
    }, 30_000);
  });

  after(async () => {
    for (const p of [prometheus, alertmanager]) if (p) { p.kill('SIGTERM'); await p; }
    webhook?.close();
    if (agent) await agent.stop();
    await cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('with no INCONSISTENT skbs there is no page', async () => {
    await sleep(6000); // several scrapes and rule evaluations over the zero-initialised series
    const firing = await (await fetch(`${promUrl}/api/v1/alerts`)).json() as { data: { alerts: Array<{ labels: Record<string, string> }> } };
    assert.deepEqual(firing.data.alerts.map((a) => a.labels.alertname), []);
    assert.deepEqual(received, []);
  });

  test('INCONSISTENT skbs page: the webhook gets the alert with instance, hook, severity and runbook', async () => {
    const t0 = Date.now();
    await inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', 50);
    const page = await until('the page at the webhook', async () => received.find((n) => n.body.alerts.some((a) => a.labels.alertname === 'FragListInconsistentSkb')), 60_000);
    const alert = page.body.alerts.find((a) => a.labels.alertname === 'FragListInconsistentSkb')!;
    assert.equal(alert.status, 'firing');
    assert.equal(alert.labels.severity, 'critical');
    assert.equal(alert.labels.instance, agentTarget);
    assert.equal(alert.labels.job, JOB);
    assert.equal(alert.labels.hook, 'netif_receive_skb_entry');
    assert.match(alert.annotations.runbook_url, /runbooks\.md#fraglistinconsistentskb$/);
    assert.match(alert.annotations.summary, new RegExp(`INCONSISTENT skbs on ${agentTarget.replace(/\./g, '\\.')} at netif_receive_skb_entry`));
    assert.ok(received.every((n) => n.body.alerts.every((a) => a.labels.alertname === 'FragListInconsistentSkb')), 'no other alert');
    process.stdout.write(`# page at the webhook ${((page.at - t0) / 1000).toFixed(1)} s after injection: ${JSON.stringify(alert)}\n`);
  });

  test('every dashboard query runs; the panels that should show data do', async () => {
    const vars: Record<string, string> = { $job: JOB, $instance: '.+', $__rate_interval: '1m', $__range: '10m' };
    const empty: string[] = [];
    for (const d of DASHBOARD_SPECS) {
      for (const p of d.rows.flatMap((r) => r.panels)) {
        let rows = 0;
        for (const t of p.targets) {
          const expr = t.expr.replace(/\$(job|instance|__rate_interval|__range)\b/g, (v) => vars[v]);
          rows += (await query(promUrl, expr)).length; // throws on a PromQL error
        }
        if (p.expectsData && rows === 0) empty.push(`${d.uid}: ${p.title}`);
      }
    }
    assert.deepEqual(empty, [], 'panels without data');
  });
});
