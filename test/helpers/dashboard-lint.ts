// The rules of Grafana's dashboard-linter (github.com/grafana/dashboard-linter)
// that our dashboards must pass, checked here because the linter (a Go tool)
// cannot be installed on these machines. Returns one message per violation.

type Json = Record<string, any>;

/** `exclusions`: rules this dashboard is excluded from, as the linter's .lint file lists them */
export function lintDashboard(d: Json, exclusions: readonly string[] = []): string[] {
  const all: string[] = [];
  const problems = { push: (m: string) => { if (!exclusions.some((rule) => m.startsWith(`${rule}:`))) all.push(m); } };
  const vars: Json[] = d.templating?.list ?? [];
  const byName = (n: string) => vars.find((v) => v.name === n);

  // template-datasource-rule
  const ds = byName('datasource');
  if (!ds || ds.type !== 'datasource' || ds.query !== 'prometheus') problems.push('template-datasource-rule: no "datasource" variable of type datasource querying prometheus');

  // template-job-rule, template-instance-rule
  for (const name of ['job', 'instance']) {
    const v = byName(name);
    const rule = `template-${name}-rule`;
    if (!v) { problems.push(`${rule}: no "${name}" variable`); continue; }
    if (v.type !== 'query') problems.push(`${rule}: "${name}" is not a query variable`);
    if (v.label !== name) problems.push(`${rule}: "${name}" is labelled "${v.label}"`);
    if (v.datasource?.uid !== '$datasource') problems.push(`${rule}: "${name}" does not use $datasource`);
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (!/^label_values\(/.test(q ?? '')) problems.push(`${rule}: "${name}" is not a label_values() query`);
    if (v.multi !== true) problems.push(`${rule}: "${name}" is not multi-select`);
    if (v.allValue !== '.+') problems.push(`${rule}: "${name}" allValue is not ".+"`);
  }

  for (const p of (d.panels ?? []) as Json[]) {
    if (p.type === 'row') continue;
    // panel-datasource-rule
    if (p.datasource?.uid !== '$datasource') problems.push(`panel-datasource-rule: panel "${p.title}" does not use $datasource`);
    for (const [i, t] of ((p.targets ?? []) as Json[]).entries()) {
      const where = `panel "${p.title}" target ${i}`;
      if (t.datasource?.uid !== '$datasource') problems.push(`panel-datasource-rule: ${where} does not use $datasource`);
      const expr: string = t.expr ?? '';
      // target-rate-interval-rule
      for (const m of expr.matchAll(/\b(i?rate)\s*\([^[]*\[([^\]]+)\]/g)) {
        if (m[2] !== '$__rate_interval') problems.push(`target-rate-interval-rule: ${where} uses ${m[1]}(...[${m[2]}])`);
      }
      // target-job-rule, target-instance-rule: every selector of our metrics and of their recordings (level:metric:operations)
      for (const m of expr.matchAll(/(?<![\w:"])([\w:]*frag_list_[\w:]*|up|ALERTS)(?![\w:])(\{[^}]*\})?/g)) {
        const matchers = m[2] ?? '';
        if (!matchers.includes('job=~"$job"')) problems.push(`target-job-rule: ${where}: ${m[1]} has no job=~"$job"`);
        if (!matchers.includes('instance=~"$instance"')) problems.push(`target-instance-rule: ${where}: ${m[1]} has no instance=~"$instance"`);
      }
    }
  }
  return all;
}
