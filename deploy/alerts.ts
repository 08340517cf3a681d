// The one source of the alert rules. deploy/generate.ts renders it into the
// plain Prometheus rule file (and the Kubernetes PrometheusRule); a test fails
// when a committed file differs from what this produces. What pages is
// src/state/danger.ts: INCONSISTENT at a crash point, OVERRUN anywhere,
// FRAGLIST without a list at list segmentation, or anywhere on a kernel not
// known to have the 2024 fraglist fix; each page names its culprit.
import { CRASHING_STATES } from '../src/kernel/fraglist-fix.js';
import { CRASH_POINT_HOOKS, hookIn, hookNotIn, LIST_CRASH_POINT_HOOKS } from '../src/state/danger.js';

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
export interface RecordingRule { record: string; expr: string }
export interface RuleGroup { name: string; rules: Array<Rule | RecordingRule> }

/** The crash-state counters: labelled by hook and culprit. */
const CULPRIT_COUNTERS = ['frag_list_inconsistent_total', 'frag_list_overrun_total', 'frag_list_fraglist_without_list_total'] as const;
type CulpritCounter = (typeof CULPRIT_COUNTERS)[number];

/**
 * A crash-state counter summed over its culprits, per host and hook. The pages
 * watch this sum: a culprit's series is born when its first skb is counted,
 * with that count as its first sample, which increase() cannot see; the sum
 * already exists (the agent starts every hook's "unseen" series at 0) and
 * rises. All series of a host reset together (one agent process), so the sum
 * resets only when they do.
 */
export const perHookTotal = (counter: CulpritCounter) => `instance_hook:${counter}:sum`;

/** how long the crash page fires: the first hour of the agent run that read the record */
export const CRASH_PAGE_SECONDS = 3600;

export function ruleGroups(s: AlertSettings = DEFAULT_SETTINGS): RuleGroup[] {
  const sel = (metric: string, more = '') => `${metric}{${s.jobSelector}${more ? `,${more}` : ''}}`;
  /**
   * A page on the per-hook sum (`rose`), labelled with its culprit: of the
   * culprits named (not "unseen"), the one whose count rose most in 10 minutes
   * (a series born in that window counts from 0), else "unseen". A label, not
   * an annotation, so that Alertmanager groups one culprit's pages across a
   * fleet into one notification (deploy/alertmanager/alertmanager.example.yml).
   */
  const withCulprit = (counter: CulpritCounter, rose: string) => {
    const m = sel(counter, 'culprit!~"unseen|"');
    const named = `topk by (job, instance, hook) (1, (${m} - (${m} offset 10m or ${m} * 0)) > 0)`;
    // "unseen" for every host and hook, from the per-hook totals as they are (no range read: the page's own is the cost)
    const unseen = `label_replace(${sel(perHookTotal(counter))} * 0 + 1, "culprit", "unseen", "", "")`;
    return `(${rose}) * on (job, instance, hook) group_left (culprit) (${named} * 0 + 1 or on (job, instance, hook) ${unseen})`;
  };
  const culprit = (phrase: string) => `{{ if ne $labels.culprit "unseen" }}${phrase}{{ $labels.culprit }}{{ end }}`;
  const culpritAnnotation = { culprit: '{{ $labels.culprit }}' };
  /** a label of the host's newest segmentation crash (its info series), for an annotation */
  const crashInfo = (label: string, otherwise: string) => `{{ with query (printf \`${sel('frag_list_kernel_last_segmentation_crash_info', 'instance=%q')}\` $labels.instance) }}{{ . | first | label "${label}" }}{{ else }}${otherwise}{{ end }}`;
  const atCrashPoint = hookIn(CRASH_POINT_HOOKS);
  const atListCrashPoint = hookIn(LIST_CRASH_POINT_HOOKS), notAtListCrashPoint = hookNotIn(LIST_CRASH_POINT_HOOKS);
  const rule = (alert: string, severity: string, expr: string, forDuration: string | undefined, summary: string, description: string,
    more: Record<string, string> = {}): Rule => ({
    alert, expr, ...(forDuration ? { for: forDuration } : {}),
    labels: { severity },
    annotations: { summary, description, ...more, runbook_url: `${s.runbookBaseUrl}#${alert.toLowerCase()}` },
  });
  /**
   * The per-hook sum rose in 10 minutes: it is above its lowest value of the
   * window, by the skbs since. Not increase(): a sum first recorded already above 0 (rules first
   * deployed, a new rule engine) has risen by its first value to VictoriaMetrics'
   * increase() (and to its changes()), not to Prometheus'; min_over_time reads the same samples in both
   * (test/e2e/victoria-metrics.test.ts). A reset (the agent restarted) lowers the
   * minimum to 0, so the skbs after it count.
   */
  const rose = (counter: CulpritCounter, hooks = '') => {
    const m = sel(perHookTotal(counter), hooks);
    return `${m} - min_over_time(${m}[10m]) > 0`;
  };
  const cleared = ' its frag_list was cleared (or its GSO fields changed) by ';
  // hosts whose kernel crashes in list segmentation on FRAGLIST without a list (src/kernel/fraglist-fix.ts)
  const listSegmentationCrashes = `on (job, instance) ${sel('frag_list_kernel_fraglist_fix_info', `state=~"${CRASHING_STATES.join('|')}"`)}`;
  const fixState = `{{ with query (printf \`${sel('frag_list_kernel_fraglist_fix_info', 'instance=%q')}\` $labels.instance) }}{{ . | first | label "state" }}{{ else }}not reported{{ end }}`;
  return [
    {
      // what the skbs' state raises: the per-hook totals first (a group's rules run in order, so the
      // alerts read this evaluation's totals), then the pages and the FRAGLIST warning
      name: 'fraglist-exporter.skbs',
      rules: [
        // INCONSISTENT only where it pages (the crash point): a total per host and hook is paid for at every evaluation
        ...CULPRIT_COUNTERS.map((c) => ({ record: perHookTotal(c), expr: `sum without (culprit) (${sel(c, c === 'frag_list_inconsistent_total' ? atCrashPoint : '')})` })),
        // only at the crash point: the same state on receive and after a linearize is legal (graphed, never paged)
        rule('FragListInconsistentSkb', s.pageSeverity, withCulprit('frag_list_inconsistent_total', rose('frag_list_inconsistent_total', atCrashPoint)), undefined,
          `INCONSISTENT skb at {{ $labels.hook }} on {{ $labels.instance }}${culprit(`;${cleared}`)}`,
          'About {{ $value | humanize }} GSO skbs with a NULL frag_list, no frags and no paged data reached {{ $labels.hook }} on {{ $labels.instance }} in the last 10 minutes: the state of the skb_segment crash reports, at the crash point.',
          culpritAnnotation),
        rule('FragListOverrunSkb', s.pageSeverity, withCulprit('frag_list_overrun_total', rose('frag_list_overrun_total')), undefined,
          `OVERRUN skbs on {{ $labels.instance }} at {{ $labels.hook }}: skb_segment would crash on them${culprit(`;${cleared}`)}`,
          'About {{ $value | humanize }} skbs claimed more paged data (data_len) than their frags and frag_list hold, at hook {{ $labels.hook }} on {{ $labels.instance }} in the last 10 minutes. skb_segment dereferences a NULL frag_list on such an skb.',
          culpritAnnotation),
        // at list segmentation on any kernel; anywhere on a kernel without the fix, before the skb gets there
        rule('FragListFraglistWithoutListSkb', s.pageSeverity, withCulprit('frag_list_fraglist_without_list_total',
          `${rose('frag_list_fraglist_without_list_total', atListCrashPoint)} or (${rose('frag_list_fraglist_without_list_total', notAtListCrashPoint)} and ${listSegmentationCrashes})`), undefined,
          `FRAGLIST skb without a frag_list at {{ $labels.hook }} on {{ $labels.instance }}: skb_segment_list crashes kernels without the 2024 fraglist fix on it${culprit(`;${cleared}`)}`,
          `About {{ $value | humanize }} skbs with SKB_GSO_FRAGLIST and a NULL frag_list were seen at {{ $labels.hook }} on {{ $labels.instance }} in the last 10 minutes. When the kernel segments such an skb, skb_segment_list dereferences the missing list; state of this host's kernel as to the 2024 fraglist fix (frag_list_kernel_fraglist_fix_info): ${fixState}.`,
          { ...culpritAnnotation, crash_point: 'skb_segment_list' }),
        rule('FragListFraglistWithoutListSeen', s.warningSeverity,
          withCulprit('frag_list_fraglist_without_list_total', `${rose('frag_list_fraglist_without_list_total', notAtListCrashPoint)} unless ${listSegmentationCrashes}`), undefined,
          `FRAGLIST skbs without a frag_list at {{ $labels.hook }} on {{ $labels.instance }}${culprit(`;${cleared}`)}`,
          'About {{ $value | humanize }} skbs with SKB_GSO_FRAGLIST and a NULL frag_list were seen at {{ $labels.hook }} on {{ $labels.instance }} in the last 10 minutes (typically a BPF program pulling all data of a fraglist-GRO skb). This host\'s kernel has the 2024 fraglist fix (or its agent does not say: frag_list_kernel_fraglist_fix_info), so they are harmless here; kernels without it crash on them in skb_segment_list.',
          culpritAnnotation),
      ],
    },
    {
      // after the reboot: the crash no page could beat (the kernel died in the softirq that made the skb)
      name: 'fraglist-exporter.crashes',
      rules: [
        // newer than the previous run's start: no run has reported it; for the first hour of the run that found it
        rule('FragListKernelCrashedInSegmentation', s.pageSeverity,
          `(${sel('frag_list_kernel_last_crash_timestamp_seconds', 'class="segmentation"')} > on (job, instance) ${sel('frag_list_agent_previous_start_timestamp_seconds')})`
          + ` * on (job, instance) group_left (function, culprit) ${sel('frag_list_kernel_last_segmentation_crash_info')}`
          + ` and on (job, instance) time() - ${sel('process_start_time_seconds')} < ${CRASH_PAGE_SECONDS}`, undefined,
          `The kernel of {{ $labels.instance }} ${crashInfo('summary', 'crashed in GSO segmentation ({{ $labels.function }})')}`,
          'The kernel of {{ $labels.instance }} crashed in {{ $labels.function }} (GSO segmentation) at {{ $value | humanizeTimestamp }} and the host rebooted;'
          + ' its crash record (pstore or kdump) was read by the agent after the reboot. Culprit: {{ $labels.culprit }} (the writer of the last critical skb the agent heard before the crash;'
          + ' "unknown" when the kernel died before the agent heard any). The record, parsed: the agent\'s /crashes.',
          { culprit: '{{ $labels.culprit }}', function: '{{ $labels.function }}' }),
      ],
    },
    ...fleetGroups(sel),
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
        // 2 minutes: a host's warnings reach Alertmanager after its page (which waits for nothing), so the page inhibits them
        rule('FragListEventsLost', s.warningSeverity, `increase(${sel('frag_list_events_lost_total')}[10m]) > 0`, '2m',
          'Sampled events are being lost on {{ $labels.instance }}',
          'bpftrace reported about {{ $value | humanize }} lost events on {{ $labels.instance }} in 10 minutes. Counters stay exact; sampled event details are missing.'),
        rule('FragListTracerRestarting', s.warningSeverity, `increase(${sel('frag_list_tracer_restarts_total')}[30m]) > 3`, '2m',
          'bpftrace keeps restarting on {{ $labels.instance }}',
          'The tracer on {{ $labels.instance }} restarted about {{ $value | humanize }} times in 30 minutes: see the exporter logs for bpftrace errors.'),
      ],
    },
  ];
}

/** the crash states, as the fleet recordings name them */
const STATE_OF: Record<CulpritCounter, string> = {
  frag_list_inconsistent_total: 'inconsistent', frag_list_overrun_total: 'overrun', frag_list_fraglist_without_list_total: 'fraglist_without_list',
};
/** a fleet recording of a crash-state counter, at a level (labels kept) and with its operations */
export const fleetRecording = (level: string, counter: CulpritCounter, operations: string) => `${level}:${counter}:${operations}`;
/** hosts whose `state` rose at each hook (over 5 minutes) */
export const hostsRecording = (counter: CulpritCounter) => `job_hook:frag_list_${STATE_OF[counter]}_hosts:count`;
/** the recorded series that lists the hosts paging now (the host dashboard's instance variable) */
export const PAGING_HOSTS = 'instance:frag_list_paging_skbs:rate5m';

/**
 * The recordings the fleet dashboard reads (named level:metric:operations, as
 * the Prometheus docs and the node and kubernetes mixins do): per host and
 * hook, sparse (only where a crash state rose), then per hook, per culprit
 * and per state across the fleet, so that no fleet panel reads every host's
 * series. Three groups: Prometheus evaluates groups in parallel, each within
 * its interval (docs/fleet.md has their evaluation times at 10,000 hosts).
 */
function fleetGroups(sel: (metric: string, more?: string) => string): RuleGroup[] {
  const perHost = (c: CulpritCounter) => fleetRecording('instance_hook', c, 'rate5m');
  // recorded series are read with the job selector too: a custom one (a cluster label, say) keeps its fleet apart
  const state = (c: CulpritCounter, hooks?: string) => `label_replace(${sel(perHost(c), hooks)}, "state", "${STATE_OF[c]}", "", "")`;
  return [
    {
      name: 'fraglist-exporter.fleet.skbs',
      rules: [
        // summed over culprits; only where the state rose (> 0): the fleet panels read the hosts that have it, not all
        ...CULPRIT_COUNTERS.map((c) => ({ record: perHost(c), expr: `sum without (culprit) (rate(${sel(c)}[5m])) > 0` })),
        ...CULPRIT_COUNTERS.map((c) => ({ record: fleetRecording('job_hook', c, 'rate5m'), expr: `sum by (job, hook) (${sel(perHost(c))})` })),
        ...CULPRIT_COUNTERS.map((c) => ({ record: hostsRecording(c), expr: `count by (job, hook) (${sel(perHost(c))})` })),
        // a culprit's series is born at its first count, which rate() misses: counted from 0 instead
        ...CULPRIT_COUNTERS.map((c) => {
          const m = sel(c, 'culprit!~"unseen|"');
          return { record: fleetRecording('job_hook_culprit', c, 'increase10m'), expr: `sum by (job, hook, culprit) ((${m} - (${m} offset 10m or ${m} * 0)) > 0)` };
        }),
        // the hosts with skbs in a state that pages (INCONSISTENT at the crash point, OVERRUN, FRAGLIST without a list)
        { record: PAGING_HOSTS, expr: `sum by (job, instance) (${state('frag_list_inconsistent_total', hookIn(CRASH_POINT_HOOKS))} or ${state('frag_list_overrun_total')} or ${state('frag_list_fraglist_without_list_total')})` },
      ],
    },
    {
      name: 'fraglist-exporter.fleet.traffic',
      rules: [
        { record: 'job_hook:frag_list_skbs_inspected_total:rate5m', expr: `sum by (job, hook) (rate(${sel('frag_list_skbs_inspected_total')}[5m]))` },
        ...['frag_list_events_sampled_total', 'frag_list_events_suppressed_total', 'frag_list_events_lost_total', 'frag_list_tracer_restarts_total']
          .map((m) => ({ record: `job:${m}:rate5m`, expr: `sum by (job) (rate(${sel(m)}[5m]))` })),
      ],
    },
    {
      name: 'fraglist-exporter.fleet.hosts',
      rules: [
        { record: 'job_mode:frag_list_build_info:count', expr: `count by (job, mode) (${sel('frag_list_build_info')})` },
        { record: 'job_state:frag_list_kernel_fraglist_fix_info:count', expr: `count by (job, state) (${sel('frag_list_kernel_fraglist_fix_info')})` },
        { record: 'job:frag_list_tracer_up:sum', expr: `sum by (job) (${sel('frag_list_tracer_up')})` },
        { record: 'job:frag_list_hosts_blind_to_skb_segment:count',
          expr: `count by (job) (${sel('frag_list_build_info')} unless on (job, instance) ${sel('frag_list_probe_attached', hookIn(CRASH_POINT_HOOKS))} == 1)` },
        { record: 'job:frag_list_hosts_crashed_in_segmentation_30d:count',
          expr: `count by (job) (${sel('frag_list_kernel_last_crash_timestamp_seconds', 'class="segmentation"')} > time() - 30 * 86400)` },
      ],
    },
  ];
}

/** Every alert name, for tests and the runbook check. */
export const ALERT_NAMES = ruleGroups().flatMap((g) => g.rules.flatMap((r) => ('alert' in r ? [r.alert] : [])));
/** Every recording rule's name. */
export const RECORDING_NAMES = ruleGroups().flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [r.record] : [])));
/** Every rule, alerts and recordings, as promtool counts them. */
export const RULE_COUNT = ruleGroups().flatMap((g) => g.rules).length;
