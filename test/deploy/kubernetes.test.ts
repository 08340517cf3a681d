// The Kubernetes package: the Helm chart rendered with its defaults and with
// every value set, each object validated against the Kubernetes and
// prometheus-operator schemas; the PrometheusRule equal to the plain rule file
// and accepted by promtool; the plain manifests equal to the chart's defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse, stringify } from 'yaml';
import { RULE_COUNT, DEFAULT_SETTINGS } from '../../deploy/alerts.js';
import { serveConfig } from '../../src/config.js';
import { leafPaths, parseYamlObjects, renderChart, validateObject, type K8sObject } from '../helpers/kubernetes.js';
import { root } from '../helpers/repo.js';

const chartValues = parse(readFileSync(root + 'deploy/helm/fraglist-exporter/values.yaml', 'utf8')) as Record<string, any>;
const allValues = parse(readFileSync(root + 'test/deploy/all-values.yaml', 'utf8')) as Record<string, any>;
const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: K8sObject[], kind: string) => { const [o, ...rest] = byKind(objects, kind); assert.ok(o && !rest.length, `one ${kind}`); return o; };
const container = (objects: K8sObject[]) => one(objects, 'DaemonSet').spec.template.spec.containers[0];
const plainRules = () => (parse(readFileSync(root + 'deploy/prometheus/fraglist-exporter.rules.yml', 'utf8')) as { groups: unknown }).groups;

test('default render: a ServiceAccount, DaemonSet, PodMonitor and PrometheusRule, each valid against its schema', async () => {
  const objects = await renderChart();
  assert.deepEqual(objects.map((o) => o.kind).sort(), ['DaemonSet', 'PodMonitor', 'PrometheusRule', 'ServiceAccount']);
  for (const o of objects) await validateObject(o);
  const c = container(objects);
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['SYS_ADMIN', 'SYSLOG', 'SYS_RESOURCE'] });
  assert.equal(c.securityContext.privileged, false);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(one(objects, 'DaemonSet').spec.template.spec.hostNetwork, false);
  assert.deepEqual(one(objects, 'DaemonSet').spec.template.spec.tolerations, [{ operator: 'Exists' }]);
  // the flags the chart writes are ones the agent accepts
  assert.equal(c.args[0], 'serve');
  const config = serveConfig(c.args.slice(1), {});
  assert.equal(config.listen.port, c.ports[0].containerPort);
});

test('the validator is not a rubber stamp: a malformed DaemonSet and PodMonitor are rejected', async () => {
  const objects = await renderChart();
  const ds = structuredClone(one(objects, 'DaemonSet'));
  ds.spec.template.spec.containers[0].ports[0].containerPort = 'metrics';
  await assert.rejects(validateObject(ds), /containerPort must be integer/);
  const pm = structuredClone(one(objects, 'PodMonitor'));
  pm.spec.podMetricsEndpoints[0].interval = '30 seconds';
  await assert.rejects(validateObject(pm), /interval must match pattern/);
});

test('deploy/kubernetes/fraglist-exporter.yaml is the chart rendered with its defaults', async () => {
  const committed = parseYamlObjects(readFileSync(root + 'deploy/kubernetes/fraglist-exporter.yaml', 'utf8'));
  assert.deepEqual(committed, await renderChart(), 'stale: run npm run manifests');
});

test('the PrometheusRule holds exactly the plain rule file\'s groups, and promtool accepts them', async () => {
  const rule = one(await renderChart(), 'PrometheusRule');
  assert.deepEqual(rule.spec.groups, plainRules());
  assert.deepEqual(chartValues.alerts, DEFAULT_SETTINGS, 'the chart\'s alert defaults are deploy/alerts.ts\'s');
  const dir = mkdtempSync(tmpdir() + '/flx-rules-');
  try {
    writeFileSync(`${dir}/rules.yml`, stringify({ groups: rule.spec.groups }));
    const check = await execa('promtool', ['check', 'rules', `${dir}/rules.yml`], { reject: false });
    assert.equal(check.exitCode, 0, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`SUCCESS: ${RULE_COUNT} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every value of values.yaml, set to a non-default, lands where it should', async () => {
  const covered = new Set<string>();
  const check = (path: string, ok: () => void) => { ok(); covered.add(path); };
  const objects = await renderChart([allValues], 'edge', 'netops');
  for (const o of objects) await validateObject(o);
  const ds = one(objects, 'DaemonSet'), pod = ds.spec.template.spec, c = container(objects);
  const pm = one(objects, 'PodMonitor'), pr = one(objects, 'PrometheusRule'), sa = one(objects, 'ServiceAccount');
  const v = allValues;

  check('image.repository', () => assert.equal(c.image.split(':')[0], v.image.repository));
  check('image.tag', () => assert.equal(c.image, `${v.image.repository}:${v.image.tag}`));
  check('image.pullPolicy', () => assert.equal(c.imagePullPolicy, v.image.pullPolicy));
  check('imagePullSecrets', () => assert.deepEqual(pod.imagePullSecrets, v.imagePullSecrets));
  const config = serveConfig(c.args.slice(1), {});
  check('port', () => { assert.equal(config.listen.port, v.port); assert.equal(c.ports[0].containerPort, v.port); });
  check('mode', () => assert.equal(config.mode, v.mode));
  check('sampleRate', () => assert.equal(config.sampleRate, v.sampleRate));
  check('logLevel', () => assert.equal(config.logLevel, v.logLevel));
  check('filters.srcIp', () => assert.equal(config.filters.srcIp, v.filters.srcIp));
  check('filters.dstIp', () => assert.equal(config.filters.dstIp, v.filters.dstIp));
  check('filters.interface', () => assert.equal(config.filters.interface, v.filters.interface));
  check('filters.gsoOnly', () => assert.equal(config.filters.gsoOnly, true));
  check('extraArgs', () => { assert.equal(config.printInterval, 2); assert.equal(config.eventsBuffer, 64); });
  check('webConfig.secretName', () => {
    assert.equal(config.webConfigFile, '/etc/fraglist-exporter/web/web-config.yml');
    assert.deepEqual(pod.volumes.find((x: any) => x.name === 'web-config').secret, { secretName: v.webConfig.secretName });
    assert.deepEqual(c.volumeMounts.find((m: any) => m.name === 'web-config'), { name: 'web-config', mountPath: '/etc/fraglist-exporter/web', readOnly: true });
  });
  check('webConfig.tls', () => {
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) assert.equal(probe.httpGet.scheme, 'HTTPS');
    assert.equal(pm.spec.podMetricsEndpoints[0].scheme, 'https');
  });
  check('resources', () => assert.deepEqual(c.resources, v.resources));
  check('securityContext.capabilities', () => assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: v.securityContext.capabilities }));
  check('securityContext.seccompProfile', () => assert.deepEqual(pod.securityContext.seccompProfile, { type: v.securityContext.seccompProfile }));
  const own = (name: string) => name === 'web-config' || name === 'state' || name.startsWith('crash-');
  check('hostPaths', () => {
    const paths = Object.fromEntries(pod.volumes.filter((x: any) => x.hostPath && !own(x.name)).map((x: any) => [x.name, x.hostPath.path]));
    assert.deepEqual(paths, v.hostPaths);
    for (const m of c.volumeMounts.filter((x: any) => !own(x.name))) { assert.equal(m.mountPath, v.hostPaths[m.name]); assert.equal(m.readOnly, true); }
  });
  check('crashDirs', () => {
    assert.deepEqual([...config.crashDirs].sort(), Object.values(v.crashDirs as Record<string, string>).sort());
    for (const [name, path] of Object.entries(v.crashDirs as Record<string, string>)) {
      assert.equal(pod.volumes.find((x: any) => x.name === `crash-${name}`).hostPath.path, path);
      assert.deepEqual(c.volumeMounts.find((m: any) => m.name === `crash-${name}`), { name: `crash-${name}`, mountPath: path, readOnly: true });
    }
  });
  check('stateDir', () => {
    assert.equal(config.stateDir, v.stateDir);
    assert.deepEqual(pod.volumes.find((x: any) => x.name === 'state').hostPath, { path: v.stateDir, type: 'DirectoryOrCreate' });
    assert.deepEqual(c.volumeMounts.find((m: any) => m.name === 'state'), { name: 'state', mountPath: v.stateDir }, 'read-write: the agent keeps its state there');
  });
  check('hostNetwork', () => { assert.equal(pod.hostNetwork, true); assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet'); });
  check('nodeSelector', () => assert.deepEqual(pod.nodeSelector, { ...chartValues.nodeSelector, ...v.nodeSelector }, 'maps merge, as in Helm'));
  check('tolerations', () => assert.deepEqual(pod.tolerations, v.tolerations));
  check('affinity', () => assert.deepEqual(pod.affinity, v.affinity));
  check('priorityClassName', () => assert.equal(pod.priorityClassName, v.priorityClassName));
  check('updateStrategy.type', () => assert.deepEqual(ds.spec.updateStrategy, { type: 'OnDelete' }, 'no rollingUpdate with OnDelete: the API server refuses it'));
  check('podLabels', () => assert.equal(ds.spec.template.metadata.labels.team, 'netops'));
  check('podAnnotations', () => assert.deepEqual(ds.spec.template.metadata.annotations, v.podAnnotations));
  check('serviceAccount.name', () => { assert.equal(sa.metadata.name, v.serviceAccount.name); assert.equal(pod.serviceAccountName, v.serviceAccount.name); });
  check('podMonitor.labels', () => assert.equal(pm.metadata.labels.release, 'kube-prometheus-stack'));
  check('podMonitor.interval', () => assert.equal(pm.spec.podMetricsEndpoints[0].interval, v.podMonitor.interval));
  check('podMonitor.scrapeTimeout', () => assert.equal(pm.spec.podMetricsEndpoints[0].scrapeTimeout, v.podMonitor.scrapeTimeout));
  check('podMonitor.tlsConfig', () => assert.deepEqual(pm.spec.podMetricsEndpoints[0].tlsConfig, v.podMonitor.tlsConfig));
  check('podMonitor.basicAuth', () => assert.deepEqual(pm.spec.podMetricsEndpoints[0].basicAuth, v.podMonitor.basicAuth));
  check('podMonitor.jobName', () => assert.deepEqual(pm.spec.podMetricsEndpoints[0].relabelings[0], { targetLabel: 'job', replacement: v.podMonitor.jobName }));
  check('prometheusRule.labels', () => { assert.equal(pr.metadata.labels.role, 'alert-rules'); assert.equal(pr.metadata.labels.release, 'kube-prometheus-stack'); });
  // read from the rendered rules themselves, not compared with the generator that wrote the template
  const rules: Array<{ alert?: string; record?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }> =
    pr.spec.groups.flatMap((g: any) => g.rules);
  const alerts = rules.filter((r) => r.alert);
  assert.ok(alerts.length >= 10, `${alerts.length} alerts rendered`);
  check('alerts.jobSelector', () => {
    const selectors = rules.flatMap((r) => [...r.expr.matchAll(/\b((?:[a-z_]+:)?frag_list_[\w:]+|up)\{([^}]*)\}/g)].map((m) => `${r.alert ?? r.record}: ${m[0]}`));
    assert.ok(selectors.length >= alerts.length, 'the rules select series');
    for (const s of selectors) assert.ok(s.includes(`{${v.alerts.jobSelector}`), `${s} does not start with the jobSelector given`);
    assert.doesNotMatch(JSON.stringify(rules), /job=\\"fraglist-exporter\\"/, 'no default selector left');
  });
  const PAGES = ['FragListInconsistentSkb', 'FragListOverrunSkb', 'FragListFraglistWithoutListSkb', 'FragListKernelCrashedInSegmentation'];
  check('alerts.pageSeverity', () => {
    for (const a of alerts.filter((r) => PAGES.includes(r.alert!))) assert.equal(a.labels?.severity, v.alerts.pageSeverity, a.alert);
    assert.equal(alerts.filter((r) => r.labels?.severity === v.alerts.pageSeverity).length, PAGES.length);
  });
  check('alerts.warningSeverity', () => {
    for (const a of alerts.filter((r) => !PAGES.includes(r.alert!))) assert.equal(a.labels?.severity, v.alerts.warningSeverity, a.alert);
  });
  check('alerts.runbookBaseUrl', () => {
    for (const a of alerts) assert.equal(a.annotations?.runbook_url, `${v.alerts.runbookBaseUrl}#${a.alert!.toLowerCase()}`);
  });
  for (const o of objects) assert.equal(o.metadata.namespace, 'netops');
  assert.equal(pm.spec.namespaceSelector.matchNames[0], 'netops');

  // the switches, each rendered on its own
  const privileged = await renderChart([{ securityContext: { privileged: true } }]);
  for (const o of privileged) await validateObject(o);
  check('securityContext.privileged', () => assert.deepEqual(container(privileged).securityContext, { privileged: true, readOnlyRootFilesystem: true }));
  const off = await renderChart([{ serviceAccount: { create: false, name: 'existing' }, podMonitor: { enabled: false }, prometheusRule: { enabled: false }, updateStrategy: { rollingUpdate: { maxUnavailable: 2 } } }]);
  check('updateStrategy.rollingUpdate.maxUnavailable', () => assert.deepEqual(one(off, 'DaemonSet').spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } }));
  check('serviceAccount.create', () => { assert.equal(byKind(off, 'ServiceAccount').length, 0); assert.equal(container(off) && one(off, 'DaemonSet').spec.template.spec.serviceAccountName, 'existing'); });
  check('podMonitor.enabled', () => assert.equal(byKind(off, 'PodMonitor').length, 0));
  check('prometheusRule.enabled', () => assert.equal(byKind(off, 'PrometheusRule').length, 0));

  // a check covers a value and everything under it: 'resources' covers resources.limits.memory
  const missing = leafPaths(chartValues).map((p) => p.join('.')).filter((p) => ![...covered].some((c) => p === c || p.startsWith(`${c}.`)));
  assert.deepEqual(missing, [], 'values with no check here');
  const switches = ['securityContext.privileged', 'serviceAccount.create', 'podMonitor.enabled', 'prometheusRule.enabled'];
  const at = (tree: unknown, path: string[]) => JSON.stringify(path.reduce((o: any, k) => o?.[k], tree));
  const unchanged = leafPaths(chartValues).filter((p) => !switches.includes(p.join('.')) && at(allValues, p) === at(chartValues, p))
    .map((p) => p.join('.')).filter((p) => p !== 'nodeSelector.kubernetes.io/os'); // kept by Helm's map merge, checked above
  assert.deepEqual(unchanged, [], 'all-values.yaml sets every other value to a non-default');
});

/** A refusal names the value by its path: Helm's schema check writes /a/b, the chart's own checks a.b. */
const refusedAt = (path: string, more = '') => new RegExp(`(${path.replace(/\./g, '/')}|${path.replace(/\./g, '\\.')})\\b[^\\n]*${more}`);

test('bad values fail the render, naming the value', async () => {
  // the chart's own checks (templates/_helpers.tpl: fail)
  await assert.rejects(renderChart([{ filters: { interface: 'eth0' } }]), refusedAt('filters.interface', 'hostNetwork'));
  await assert.rejects(renderChart([{ webConfig: { tls: true } }]), refusedAt('webConfig.tls', 'webConfig\\.secretName'));
  // values.schema.json: Helm refuses these before rendering anything
  await assert.rejects(renderChart([{ image: { repository: '' } }]), refusedAt('image.repository'));
  await assert.rejects(renderChart([{ filters: { srcIP: '198.18.0.2' } }]), refusedAt('filters', 'srcIP'));
  await assert.rejects(renderChart([{ filters: { dstIp: '198.18.0.300' } }]), refusedAt('filters.dstIp'));
  await assert.rejects(renderChart([{ mode: 'kfunc' }]), refusedAt('mode', 'tracepoint'));
  await assert.rejects(renderChart([{ podMonitor: { interval: '30 seconds' } }]), refusedAt('podMonitor.interval'));
  await assert.rejects(renderChart([{ webConfig: { secretName: 'Not_A_Name' } }]), refusedAt('webConfig.secretName'));
});

test('helm lint --strict passes for the defaults, every value set, and the privileged variant', async () => {
  const helm = (await execa('bash', [root + 'scripts/k8s-tools.sh', 'helm'])).stdout;
  const dir = mkdtempSync(tmpdir() + '/flx-lint-');
  try {
    writeFileSync(`${dir}/all.yaml`, stringify(allValues));
    writeFileSync(`${dir}/privileged.yaml`, stringify({ securityContext: { privileged: true } }));
    for (const values of [[], ['-f', `${dir}/all.yaml`], ['-f', `${dir}/privileged.yaml`]]) {
      const r = await execa(helm, ['lint', '--strict', root + 'deploy/helm/fraglist-exporter', ...values], { reject: false });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
    // and it is not a rubber stamp
    writeFileSync(`${dir}/bad.yaml`, stringify({ mode: 'kfunc' }));
    const bad = await execa(helm, ['lint', '--strict', root + 'deploy/helm/fraglist-exporter', '-f', `${dir}/bad.yaml`], { reject: false });
    assert.notEqual(bad.exitCode, 0);
    process.stdout.write(`# ${(await execa(helm, ['version', '--short'])).stdout}: lint --strict clean on defaults, all values, privileged\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
