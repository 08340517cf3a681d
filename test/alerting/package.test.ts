// The alerting package as files: in sync with its sources, accepted by the real
// promtool and amtool, dashboards passing the linter's rules, a runbook per alert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { renderedFiles } from '../../deploy/rendered.js';
import { ALERT_NAMES, RECORDING_NAMES, RULE_COUNT } from '../../deploy/alerts.js';
import { lintDashboard } from '../helpers/dashboard-lint.js';
import { DASHBOARD_SPECS } from '../../grafana/dashboards.js';
import { root } from '../helpers/repo.js';

test('committed generated files are what their sources produce', () => {
  for (const [path, text] of renderedFiles()) {
    assert.equal(readFileSync(root + path, 'utf8'), text, `${path} is stale: run npm run generate`);
  }
});

test('promtool accepts the rules and every alert passes its unit tests', async () => {
  const check = await execa('promtool', ['check', 'rules', 'deploy/prometheus/fraglist-exporter.rules.yml'], { cwd: root, reject: false });
  assert.equal(check.exitCode, 0, check.stdout + check.stderr);
  assert.equal(RULE_COUNT, ALERT_NAMES.length + RECORDING_NAMES.length);
  assert.match(check.stdout, new RegExp(`SUCCESS: ${RULE_COUNT} rules found`));
  const unit = await execa('promtool', ['test', 'rules', 'fraglist-exporter.rules.test.yml'], { cwd: root + 'deploy/prometheus', reject: false });
  assert.equal(unit.exitCode, 0, unit.stdout + unit.stderr);
  const tested = readFileSync(root + 'deploy/prometheus/fraglist-exporter.rules.test.yml', 'utf8');
  for (const name of ALERT_NAMES) assert.match(tested, new RegExp(`alertname: ${name}\\b[\\s\\S]*?exp_labels`), `${name} has a test where it fires`);
  for (const name of RECORDING_NAMES) assert.match(tested, new RegExp(`- expr: ${name}\\n\\s+eval_time: \\S+\\n\\s+exp_samples:\\s*(\\n\\s+- )?\\[?\\{`), `${name} has a test with a sample`);
});

test('the Prometheus and Alertmanager examples are valid configuration', async () => {
  const prom = await execa('promtool', ['check', 'config', 'deploy/prometheus/prometheus.example.yml'], { cwd: root, reject: false });
  assert.equal(prom.exitCode, 0, prom.stdout + prom.stderr);
  const am = await execa('amtool', ['check-config', 'deploy/alertmanager/alertmanager.example.yml'], { cwd: root, reject: false });
  assert.equal(am.exitCode, 0, am.stdout + am.stderr);
  JSON.parse(readFileSync(root + 'deploy/prometheus/file_sd/fraglist-exporter.example.json', 'utf8'));
});

test('every alert has its runbook section, and its runbook_url points there', () => {
  const runbooks = readFileSync(root + 'deploy/runbooks.md', 'utf8');
  const rules = readFileSync(root + 'deploy/prometheus/fraglist-exporter.rules.yml', 'utf8');
  for (const name of ALERT_NAMES) {
    assert.match(runbooks, new RegExp(`^## ${name}$`, 'm'), `runbook section for ${name}`);
    assert.ok(rules.includes(`runbooks.md#${name.toLowerCase()}`), `runbook_url of ${name}`);
  }
});

test('dashboards pass the dashboard linter\'s rules, but those a dashboard is excluded from, with its reason', () => {
  for (const [path, text] of renderedFiles()) {
    if (!path.startsWith('grafana/dashboards/')) continue;
    const d = JSON.parse(text);
    const spec = DASHBOARD_SPECS.find((s) => s.uid === d.uid)!;
    assert.deepEqual(lintDashboard(d, Object.keys(spec.lintExclusions ?? {})), [], path);
  }
  // the fleet dashboard's exclusions are the instance rules only: every selector still has its job
  const fleet = renderedFiles().get('grafana/dashboards/fraglist-fleet.json')!;
  const problems = lintDashboard(JSON.parse(fleet));
  assert.ok(problems.length > 0 && problems.every((p) => /^(template|target)-instance-rule:/.test(p)), problems.join('\n'));
});

test('the lint check catches what it is for', () => {
  const bad = {
    templating: { list: [{ name: 'job', type: 'query', label: 'job', datasource: { uid: 'prom' }, query: 'label_values(up, job)', multi: false }] },
    panels: [{ title: 'p', type: 'timeseries', datasource: { uid: 'prom' }, targets: [{ datasource: { uid: '$datasource' }, expr: 'rate(frag_list_inconsistent_total{job=~"$job"}[5m])' }] }],
  };
  const problems = lintDashboard(bad).join('\n');
  for (const rule of ['template-datasource-rule', 'template-job-rule: "job" does not use', 'template-job-rule: "job" is not multi', 'template-instance-rule', 'panel-datasource-rule', 'target-rate-interval-rule', 'target-instance-rule']) {
    assert.ok(problems.includes(rule), `${rule} in:\n${problems}`);
  }
});
