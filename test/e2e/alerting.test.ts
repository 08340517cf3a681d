// What pages, end to end: real skbs -> agent -> a real Prometheus loading the
// shipped rules -> a real Alertmanager -> a webhook run here. This host runs
// tracepoint mode: the linear GSO skbs it can be sent are INCONSISTENT at a
// receive hook, which is counted and must not page. A test-only control rule
// on the same counter proves the pipeline delivers, so the page's silence is
// the rule's doing. And every dashboard query, run against that Prometheus.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startAgent, until, type Agent } from '../helpers/agent.js';
import { alertsOf, JOB, startAlerting, type AlertingStack } from '../helpers/alerting.js';
import { cleanup, inject, tapHost } from '../helpers/net.js';
import { panelsWithoutData, query } from '../helpers/prometheus.js';

const INJECTED = 50;
const HOOK = 'netif_receive_skb_entry';
/**
 * not shipped: a positive control on the series the page reads, tied to the injection: only the tap's skbs reach
 * this hook here (this VM's NIC delivers through GRO, at napi_gro_receive_entry and the list hooks), and it
 * fires only once all of them are counted; its annotation carries the count it saw
 */
const CONTROL = `
groups: [{ name: test-control, rules: [{ alert: TestControlInconsistentSeen, expr: 'sum(frag_list_inconsistent_total{job="${JOB}",hook="${HOOK}"}) >= ${INJECTED}', labels: { severity: none }, annotations: { counted: '{{ $value }}' } }] }]
`;

describe('alerting with a real Prometheus and Alertmanager', () => {
  let agent: Agent, tap: Awaited<ReturnType<typeof tapHost>>, stack: AlertingStack;
  let promUrl: string;

  before(async () => {
    tap = await tapHost();
    agent = await startAgent(['--sample.rate=5']);
    stack = await startAlerting([new URL(agent.base).host], CONTROL);
    promUrl = stack.promUrl;
  });

  after(async () => {
    await stack?.stop();
    if (agent) await agent.stop();
    await cleanup();
  });

  test('with no INCONSISTENT skbs there is no page', async () => {
    await sleep(6000); // several scrapes and rule evaluations
    const firing = await (await fetch(`${promUrl}/api/v1/alerts`)).json() as { data: { alerts: Array<{ labels: Record<string, string> }> } };
    assert.deepEqual(firing.data.alerts.map((a) => a.labels.alertname), [], 'nothing fires, the control neither: it waits for the injection');
    assert.deepEqual(alertsOf(stack), []);
  });

  test('INCONSISTENT at a receive hook (linear GSO skbs, legal): counted exactly, graphed, and no page', async () => {
    const t0 = Date.now();
    const before = await query(promUrl, `sum(frag_list_inconsistent_total{job="${JOB}",hook="${HOOK}"})`);
    assert.deepEqual(before, [], `nothing at ${HOOK} before the injection (its series is born with the first skb)`);
    await inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', INJECTED);
    const control = await until('the control alert at the webhook', async () =>
      stack.received.find((n) => n.body.alerts.some((a) => a.labels.alertname === 'TestControlInconsistentSeen')), 60_000);
    assert.ok(control.at > t0, 'the control was delivered after the injection');
    assert.equal(control.body.alerts.find((a) => a.labels.alertname === 'TestControlInconsistentSeen')!.annotations.counted, String(INJECTED),
      'the control saw exactly the injected skbs');
    const counted = await until('Prometheus to hold the count', async () => {
      const r = await query(promUrl, `sum(frag_list_inconsistent_total{job="${JOB}",hook="${HOOK}"})`);
      const n = Number(r[0]?.value[1] ?? 0);
      return n >= INJECTED ? n : undefined;
    }, 30_000);
    assert.equal(counted, INJECTED, 'every injected skb counted at the receive hook');
    await sleep(8000); // many more rule evaluations (1 s) and Alertmanager group waits (1 s) after the control fired
    const pages = alertsOf(stack).filter((a) => a.labels.severity === 'critical');
    assert.deepEqual(pages, [], 'no page');
    const firing = await (await fetch(`${promUrl}/api/v1/alerts`)).json() as { data: { alerts: Array<{ labels: Record<string, string> }> } };
    assert.deepEqual(firing.data.alerts.map((a) => a.labels.alertname), ['TestControlInconsistentSeen'], 'only the control fires in Prometheus');
    const nic = await query(promUrl, `sum by (hook) (frag_list_inconsistent_total{job="${JOB}",hook!="${HOOK}"})`);
    process.stdout.write(`# other hooks meanwhile (this VM's own traffic): ${nic.map((r) => `${r.metric.hook}=${r.value[1]}`).join(' ') || 'none'}\n`);
    process.stdout.write(`# receive-side INCONSISTENT: ${counted} of ${INJECTED} counted at ${HOOK}; control alert at the webhook ${((control.at - t0) / 1000).toFixed(1)} s after injection; pages: 0\n`);
  });

  test('every dashboard query runs; the panels that should show data do', async () => {
    const empty = await panelsWithoutData(promUrl, JOB);
    assert.deepEqual(empty, [], 'panels without data');
  });
});
