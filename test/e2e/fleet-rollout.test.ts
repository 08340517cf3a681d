// One bad rollout, one notification: 500 simulated hosts (the agent's own
// metrics code, test/fleet/) start paging with the same hook and culprit
// within a minute; a real Prometheus with the shipped rules and a real
// Alertmanager with the shipped example's routing and inhibition send them to
// a webhook here. The example's timers are scaled by 1/10 (group_wait 30 s ->
// 3 s, group_interval 5 m -> 30 s) so that the test takes two minutes, not
// twenty: grouping does not depend on them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort, sleep, until } from '../helpers/agent.js';
import { SHIPPED_RULES, startAlertmanager, type AlertmanagerStack, type Notification } from '../helpers/alerting.js';
import { query } from '../helpers/prometheus.js';
import { root } from '../helpers/repo.js';
import { instanceOf, startFleetServer, type FleetHost, type FleetServer } from '../fleet/fleet-server.js';

const ROLLOUT_HOSTS = 500;
const ROLLOUT_SECONDS = 60;
/** not in the rollout: loses events (a warning), pages nothing */
const CONTROL = ROLLOUT_HOSTS;
const SCALE = 10;

/** a duration of the example ("30s", "5m", "1h") divided by SCALE */
const scaled = (d: string) => {
  const m = /^(\d+)([smh])$/.exec(d)!;
  return `${(Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h']) / SCALE}s`;
};

describe('a rollout paging 500 hosts within a minute', { timeout: 600_000 }, () => {
  let fleet: FleetServer, am: AlertmanagerStack, dir: string;
  let prom: ResultPromise;
  let promUrl = '';

  before(async () => {
    const hosts: FleetHost[] = Array.from({ length: ROLLOUT_HOSTS }, () => ({ mode: 'kprobe', state: 'idle' }));
    hosts.push({ mode: 'kprobe', state: 'losing-events' });
    fleet = await startFleetServer(hosts);
    dir = mkdtempSync(join(tmpdir(), 'flx-rollout-'));
    // the shipped example, its receivers pointed at the webhook (names kept), its timers scaled
    am = await startAlertmanager({ config: (webhookUrl) => {
      const c = parse(readFileSync(root + 'deploy/alertmanager/alertmanager.example.yml', 'utf8'));
      for (const r of c.receivers) { for (const k of Object.keys(r)) if (k !== 'name') delete r[k]; r.webhook_configs = [{ url: webhookUrl, send_resolved: false }]; }
      for (const route of [c.route, ...c.route.routes]) for (const k of ['group_wait', 'group_interval', 'repeat_interval']) if (route[k]) route[k] = scaled(route[k]);
      return stringify(c);
    } });
    writeFileSync(join(dir, 'targets.json'), fleet.fileSd());
    writeFileSync(join(dir, 'prometheus.yml'), `
global: { scrape_interval: 5s, evaluation_interval: 5s }
rule_files: ['${SHIPPED_RULES}']
alerting: { alertmanagers: [{ static_configs: [{ targets: ['${new URL(am.url).host}'] }] }] }
scrape_configs: [{ job_name: fraglist-exporter, file_sd_configs: [{ files: ['${join(dir, 'targets.json')}'] }] }]
`);
    const promPort = await freePort();
    prom = execa('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom')}`,
      `--web.listen-address=127.0.0.1:${promPort}`], { reject: false, all: true });
    promUrl = `http://127.0.0.1:${promPort}`;
    await until('Prometheus to scrape every simulated host', async () => {
      const r = await query(promUrl, 'count(up{job="fraglist-exporter"} == 1)').catch(() => []);
      return Number(r[0]?.value[1] ?? 0) === ROLLOUT_HOSTS + 1 ? true : undefined;
    }, 120_000);
  });

  after(async () => {
    if (prom) { prom.kill('SIGTERM'); await prom; }
    await am?.stop();
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a handful of notifications name every host; the paging hosts\' warnings are inhibited, the control host\'s is not', async () => {
    const t0 = Date.now();
    // the rollout: host i starts paging at i/500 of the minute
    for (let i = 0; i < ROLLOUT_HOSTS; i++) {
      const due = t0 + (i * ROLLOUT_SECONDS * 1000) / ROLLOUT_HOSTS;
      await sleep(Math.max(0, due - Date.now()));
      fleet.setState(i, 'paging');
    }
    const received = am.received as Array<{ at: number; body: Notification & { groupLabels: Record<string, string> } }>;
    const pagesOf = () => received.filter((n) => n.body.receiver === 'kernel-pager');
    const named = () => new Set(pagesOf().flatMap((n) => n.body.alerts.map((a) => a.labels.instance)));
    await until('every rollout host named in a page', async () => (named().size >= ROLLOUT_HOSTS ? true : undefined), 180_000);
    await sleep(5000);
    const pages = pagesOf();
    const last = pages.at(-1)!;
    const shown = pages.slice(0, 8);
    process.stdout.write(`# ${ROLLOUT_HOSTS} hosts paging within ${ROLLOUT_SECONDS} s: ${pages.length} notifications at +${shown.map((n) => ((n.at - t0) / 1000).toFixed(0)).join(', +')} s, `
      + `naming ${shown.map((n) => n.body.alerts.length).join(', ')} hosts${pages.length > shown.length ? ', ...' : ''}; the last one's group ${JSON.stringify(last.body.groupLabels)}\n`);
    assert.ok(pages.length <= 5, `at most 5 notifications: ${pages.length}`);
    assert.equal(named().size, ROLLOUT_HOSTS);
    for (let i = 0; i < ROLLOUT_HOSTS; i++) assert.ok(named().has(instanceOf(i)), `${instanceOf(i)} named`);
    assert.deepEqual(last.body.groupLabels, { alertname: 'FragListInconsistentSkb', hook: 'skb_segment', culprit: 'bpf_skb_adjust_room' });
    assert.ok(!named().has(instanceOf(CONTROL)), 'the control host does not page');
    // warnings: the rollout hosts lose events too (FragListEventsLost fires for them in Prometheus, 2 minutes on), but only the
    // control host's reaches the tickets; a group interval more, for any that was not inhibited to be sent
    const lost = await until('FragListEventsLost to fire for the rollout hosts', async () => {
      const r = await query(promUrl, 'count(ALERTS{alertname="FragListEventsLost",alertstate="firing"})');
      return Number(r[0]?.value[1] ?? 0) > ROLLOUT_HOSTS ? Number(r[0].value[1]) : undefined;
    }, 240_000);
    await sleep((5 * 60_000) / SCALE + 10_000);
    const tickets = received.filter((n) => n.body.receiver === 'tickets').flatMap((n) => n.body.alerts);
    assert.deepEqual([...new Set(tickets.map((a) => `${a.labels.alertname} ${a.labels.instance}`))], [`FragListEventsLost ${instanceOf(CONTROL)}`]);
    process.stdout.write(`# warnings: FragListEventsLost firing for ${lost} hosts in Prometheus; tickets received: ${tickets.length} alert(s), all the control host's\n`);
  });
});
