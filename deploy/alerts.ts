// The one source of the alert rules. deploy/generate.ts renders it into the
// plain Prometheus rule file (and the Kubernetes PrometheusRule); a test fails
// when a committed file differs from what this produces. What pages is
// src/state/danger.ts: INCONSISTENT at a crash point, OVERRUN anywhere.
import { CRASH_POINT_HOOKS, LIST_CRASH_POINT_HOOKS } from '../src/state/danger.js';

export interface AlertSettings {
  /** label matchers selecting the exporter's scrape job */
  jobSelector: string;
  /** severity label of the pages (INCONSISTENT, OVERRUN) */
  pageSeverity: string;
  warningSeverity: string;
  /** where deploy/runbooks.md is published; each alert links to its anchor */
  runbookBaseUrl: string;
}

export const DEFAULT_SETTINGS: AlertSettings = {
  jobSelector: 'job="fraglist-exporter"',
  pageSeverity: 'critical',
  warningSeverity: 'warning',
  runbookBaseUrl: 'https://github.com/fraglist-exporter/fraglist-exporter/blob/main/deploy/runbooks.md',
};

export interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroup { name: string; rules: Rule[] }

export function ruleGroups(s: AlertSettings = DEFAULT_SETTINGS): RuleGroup[] {
  const sel = (metric: string, more = '') => `${metric}{${s.jobSelector}${more ? `,${more}` : ''}}`;
  const atCrashPoint = `hook=~"${CRASH_POINT_HOOKS.join('|')}"`;
  const atListCrashPoint = `hook=~"${LIST_CRASH_POINT_HOOKS.join('|')}"`, notAtListCrashPoint = `hook!~"${LIST_CRASH_POINT_HOOKS.join('|')}"`;
  const rule = (alert: string, severity: string, expr: string, forDuration: string | undefined, summary: string, description: string): Rule => ({
    alert, expr, ...(forDuration ? { for: forDuration } : {}),
    labels: { severity },
    annotations: { summary, description, runbook_url: `${s.runbookBaseUrl}#${alert.toLowerCase()}` },
  });
  return [
    {
      name: 'fraglist-exporter.pages',
      rules: [
        // only at the crash point: the same state on receive and after a linearize is legal (graphed, never paged)
        rule('FragListInconsistentSkb', s.pageSeverity, `increase(${sel('frag_list_inconsistent_total', atCrashPoint)}[10m]) > 0`, undefined,
          'INCONSISTENT skb at {{ $labels.hook }} on {{ $labels.instance }}',
          'About {{ $value | humanize }} GSO skbs with a NULL frag_list, no frags and no paged data reached {{ $labels.hook }} on {{ $labels.instance }} in the last 10 minutes: the state of the skb_segment crash reports, at the crash point.'),
        rule('FragListOverrunSkb', s.pageSeverity, `increase(${sel('frag_list_overrun_total')}[10m]) > 0`, undefined,
          'OVERRUN skbs on {{ $labels.instance }} at {{ $labels.hook }}: skb_segment would crash on them',
          'About {{ $value | humanize }} skbs claimed more paged data (data_len) than their frags and frag_list hold, at hook {{ $labels.hook }} on {{ $labels.instance }} in the last 10 minutes. skb_segment dereferences a NULL frag_list on such an skb.'),
        rule('FragListFraglistWithoutListSkb', s.pageSeverity, `increase(${sel('frag_list_fraglist_without_list_total', atListCrashPoint)}[10m]) > 0`, undefined,
          'FRAGLIST skb without a frag_list at {{ $labels.hook }} on {{ $labels.instance }}',
          'About {{ $value | humanize }} skbs with SKB_GSO_FRAGLIST and a NULL frag_list reached {{ $labels.hook }} on {{ $labels.instance }} in the last 10 minutes: list segmentation dereferences the missing list; kernels without the 2024 fraglist fixes crash here.'),
      ],
    },
    {
      name: 'fraglist-exporter.health',
      rules: [
        rule('FragListExporterAbsent', s.warningSeverity, `absent(up{${s.jobSelector}} == 1)`, '10m',
          'No fraglist-exporter is being scraped',
          `Prometheus has no target of ${s.jobSelector} that is up: INCONSISTENT and OVERRUN skbs cannot be seen on any host.`),
        rule('FragListExporterDown', s.warningSeverity, `up{${s.jobSelector}} == 0`, '5m',
          'fraglist-exporter on {{ $labels.instance }} is not answering',
          'Prometheus cannot scrape the exporter on {{ $labels.instance }}: INCONSISTENT/OVERRUN on that host would go unseen.'),
        rule('FragListTracerDown', s.warningSeverity, `${sel('frag_list_tracer_up')} == 0`, '5m',
          'bpftrace is not running on {{ $labels.instance }}',
          'The exporter on {{ $labels.instance }} answers but its bpftrace tracer is down: the counters on that host are not moving.'),
        // a hook this kernel simply lacks is reported (frag_list_probe_in_kernel 0), not alerted
        rule('FragListProbeDetached', s.warningSeverity,
          `${sel('frag_list_probe_attached')} == 0 and on (job, instance, hook, mode) ${sel('frag_list_probe_in_kernel')} == 1`
          + ` and on (job, instance) ${sel('frag_list_tracer_up')} == 1`, '15m',
          'Hook {{ $labels.hook }} is not attached on {{ $labels.instance }}',
          'The tracer on {{ $labels.instance }} runs in {{ $labels.mode }} mode without hook {{ $labels.hook }}, which this kernel has: skbs passing there are not counted.'),
        rule('FragListFraglistWithoutListSeen', s.warningSeverity, `increase(${sel('frag_list_fraglist_without_list_total', notAtListCrashPoint)}[10m]) > 0`, undefined,
          'FRAGLIST skbs without a frag_list at {{ $labels.hook }} on {{ $labels.instance }}',
          'About {{ $value | humanize }} skbs with SKB_GSO_FRAGLIST and a NULL frag_list were seen at {{ $labels.hook }} on {{ $labels.instance }} in the last 10 minutes (typically a BPF program pulling all data of a fraglist-GRO skb). Harmless on this kernel unless list segmentation gets them; kernels without the 2024 fraglist fixes crash on them.'),
        rule('FragListEventsLost', s.warningSeverity, `increase(${sel('frag_list_events_lost_total')}[10m]) > 0`, undefined,
          'Sampled events are being lost on {{ $labels.instance }}',
          'bpftrace reported about {{ $value | humanize }} lost events on {{ $labels.instance }} in 10 minutes. Counters stay exact; sampled event details are missing.'),
        rule('FragListTracerRestarting', s.warningSeverity, `increase(${sel('frag_list_tracer_restarts_total')}[30m]) > 3`, undefined,
          'bpftrace keeps restarting on {{ $labels.instance }}',
          'The tracer on {{ $labels.instance }} restarted about {{ $value | humanize }} times in 30 minutes: see the exporter logs for bpftrace errors.'),
      ],
    },
  ];
}

/** Every alert name, for tests and the runbook check. */
export const ALERT_NAMES = ruleGroups().flatMap((g) => g.rules.map((r) => r.alert));
