// What pages, end to end: real skbs -> agent -> a real Prometheus loading the
// shipped rules -> a real Alertmanager -> a webhook run here. This host runs
// tracepoint mode: the linear GSO skbs it can be sent are INCONSISTENT at a
// receive hook, which is counted and must not page. A test-only control rule
// on the same counter proves the pipeline delivers, so the page's silence is
// the rule's doing. And every dashboard query, run against that Prometheus.
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
    // not shipped: a positive control on the same series the page reads
    writeFileSync(join(dir, 'control.rules.yml'), `
groups: [{ name: test-control, rules: [{ alert: TestControlInconsistentSeen, expr: 'increase(frag_list_inconsistent_total{job="${JOB}"}[10m]) > 0', labels: { severity: none } }] }]
`);
    writeFileSync(join(dir, 'prometheus.yml'), `
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ['${RULES}', '${join(dir, 'control.rules.yml')}']
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
    // the control may fire on this VM's own NIC traffic (linear GSO skbs at napi_gro_receive); nothing shipped may
    assert.deepEqual(firing.data.alerts.map((a) => a.labels.alertname).filter((n) => n !== 'TestControlInconsistentSeen'), []);
    assert.deepEqual(received.flatMap((n) => n.body.alerts).filter((a) => a.labels.alertname !== 'TestControlInconsistentSeen'), []);
  });

  test('INCONSISTENT at a receive hook (linear GSO skbs, legal): counted exactly, graphed, and no page', async () => {
    const t0 = Date.now();
    const before = await query(promUrl, `sum(frag_list_inconsistent_total{job="${JOB}",hook="netif_receive_skb_entry"})`);
    await inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', 50);
    const control = await until('the control alert at the webhook', async () =>
      received.find((n) => n.body.alerts.some((a) => a.labels.alertname === 'TestControlInconsistentSeen')), 60_000);
    const counted = await until('Prometheus to hold the count', async () => {
      const r = await query(promUrl, `sum(frag_list_inconsistent_total{job="${JOB}",hook="netif_receive_skb_entry"})`);
      const n = Number(r[0]?.value[1] ?? 0) - Number(before[0]?.value[1] ?? 0);
      return n >= 50 ? n : undefined;
    }, 30_000);
    assert.equal(counted, 50, 'every injected skb counted at the receive hook');
    await sleep(8000); // many more rule evaluations (1 s) and Alertmanager group waits (1 s) after the control fired
    const pages = received.flatMap((n) => n.body.alerts).filter((a) => a.labels.severity === 'critical');
    assert.deepEqual(pages, [], 'no page');
    const firing = await (await fetch(`${promUrl}/api/v1/alerts`)).json() as { data: { alerts: Array<{ labels: Record<string, string> }> } };
    assert.deepEqual(firing.data.alerts.map((a) => a.labels.alertname), ['TestControlInconsistentSeen'], 'only the control fires in Prometheus');
    const nic = await query(promUrl, `sum by (hook) (frag_list_inconsistent_total{job="${JOB}",hook!="netif_receive_skb_entry"})`);
    process.stdout.write(`# other hooks meanwhile (this VM's own traffic): ${nic.map((r) => `${r.metric.hook}=${r.value[1]}`).join(' ') || 'none'}\n`);
    process.stdout.write(`# receive-side INCONSISTENT: ${counted} of 50 counted at netif_receive_skb_entry; control alert at the webhook ${((control.at - t0) / 1000).toFixed(1)} s after injection; pages: 0\n`);
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
