// The one source of the alert rules. deploy/generate.ts renders it into the
// plain Prometheus rule file (and the Kubernetes PrometheusRule); a test fails
// when a committed file differs from what this produces. What pages is
// src/state/danger.ts: INCONSISTENT at a crash point, OVERRUN anywhere,
// FRAGLIST without a list at list segmentation, or anywhere on a kernel not
// known to have the 2024 fraglist fix; each page names its culprit.
import { CRASHING_STATES } from '../src/kernel/fraglist-fix.js';
import { lastRiseGauge } from '../src/outputs/metrics.js';
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

/** The crash-state counters: labelled by hook and culprit, each series born with its first skb. */
const CULPRIT_COUNTERS = ['frag_list_inconsistent_total', 'frag_list_overrun_total', 'frag_list_fraglist_without_list_total'] as const;
type CulpritCounter = (typeof CULPRIT_COUNTERS)[number];

/** how long a page holds after its last skb */
const PAGE_WINDOW_SECONDS = 600;
/** the fleet recordings' window: their rates, and "rose lately" for the host counts */
const FLEET_WINDOW_SECONDS = 300;
const FLEET_WINDOW = `${FLEET_WINDOW_SECONDS / 60}m`;

/** how long the crash page fires: the first hour of the agent run that read the record */
export const CRASH_PAGE_SECONDS = 3600;

export function ruleGroups(s: AlertSettings = DEFAULT_SETTINGS): RuleGroup[] {
  const sel = (metric: string, more = '') => `${metric}{${s.jobSelector}${more ? `,${more}` : ''}}`;
  /**
   * The counter's series (hook, culprit) that rose in the last 10 minutes: its
   * last-rise gauge, by the host's clock, is newer than that. An instant read of
   * the few series that exist (one per hook and culprit a crash state was ever
   * counted at), where increase() would read every host's series over a window;
   * and the same in PromQL and MetricsQL (no first-sample or extrapolation rules).
   */
  const rose = (counter: CulpritCounter, more = '') => `${sel(lastRiseGauge(counter), more)} > time() - ${PAGE_WINDOW_SECONDS}`;
  /**
   * A page per host and hook, labelled with its culprit: of the culprits that
   * rose there (`roseWhere`), the one with the most skbs since the agent
   * started. A label, not an annotation, so that Alertmanager groups one
   * culprit's pages across a fleet into one notification
   * (deploy/alertmanager/alertmanager.example.yml); one per hook, so that a
   * rollout that brings two writers into the path is still one incident.
   */
  const page = (counter: CulpritCounter, roseWhere: string) =>
    `topk by (job, instance, hook) (1, ${sel(counter)} and on (job, instance, hook, culprit) (${roseWhere}))`;
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
  const cleared = ' its frag_list was cleared (or its GSO fields changed) by ';
  // hosts whose kernel crashes in list segmentation on FRAGLIST without a list (src/kernel/fraglist-fix.ts)
  const listSegmentationCrashes = `on (job, instance) ${sel('frag_list_kernel_fraglist_fix_info', `state=~"${CRASHING_STATES.join('|')}"`)}`;
  const fixState = `{{ with query (printf \`${sel('frag_list_kernel_fraglist_fix_info', 'instance=%q')}\` $labels.instance) }}{{ . | first | label "state" }}{{ else }}not reported{{ end }}`;
  const INCONSISTENT = 'frag_list_inconsistent_total', OVERRUN = 'frag_list_overrun_total', WITHOUT_LIST = 'frag_list_fraglist_without_list_total';
  /** what pages, per crash state (src/state/danger.ts), each a page() expression: the alerts and the paging hosts' recording read them */
  const pages: Record<CulpritCounter, string> = {
    // only at the crash point: the same state on receive and after a linearize is legal (graphed, never paged)
    [INCONSISTENT]: page(INCONSISTENT, rose(INCONSISTENT, atCrashPoint)),
    [OVERRUN]: page(OVERRUN, rose(OVERRUN)),
    // at list segmentation on any kernel; anywhere on a kernel without the fix, before the skb gets there
    [WITHOUT_LIST]: page(WITHOUT_LIST, `${rose(WITHOUT_LIST, atListCrashPoint)} or (${rose(WITHOUT_LIST, notAtListCrashPoint)} and ${listSegmentationCrashes})`),
  };
  const since = 'since its agent started, the latest in the last 10 minutes';
  return [
    {
      name: 'fraglist-exporter.skbs',
      rules: [
        rule('FragListInconsistentSkb', s.pageSeverity, pages[INCONSISTENT], undefined,
          `INCONSISTENT skb at {{ $labels.hook }} on {{ $labels.instance }}${culprit(`;${cleared}`)}`,
          `{{ $value | humanize }} GSO skbs with a NULL frag_list, no frags and no paged data reached {{ $labels.hook }} on {{ $labels.instance }} ${since}: the state of the skb_segment crash reports, at the crash point.`,
          culpritAnnotation),
        rule('FragListOverrunSkb', s.pageSeverity, pages[OVERRUN], undefined,
          `OVERRUN skbs on {{ $labels.instance }} at {{ $labels.hook }}: skb_segment would crash on them${culprit(`;${cleared}`)}`,
          `{{ $value | humanize }} skbs claimed more paged data (data_len) than their frags and frag_list hold, at hook {{ $labels.hook }} on {{ $labels.instance }}, ${since}. skb_segment dereferences a NULL frag_list on such an skb.`,
          culpritAnnotation),
        rule('FragListFraglistWithoutListSkb', s.pageSeverity, pages[WITHOUT_LIST], undefined,
          `FRAGLIST skb without a frag_list at {{ $labels.hook }} on {{ $labels.instance }}: skb_segment_list crashes kernels without the 2024 fraglist fix on it${culprit(`;${cleared}`)}`,
          `{{ $value | humanize }} skbs with SKB_GSO_FRAGLIST and a NULL frag_list were seen at {{ $labels.hook }} on {{ $labels.instance }}, ${since}. When the kernel segments such an skb, skb_segment_list dereferences the missing list; state of this host's kernel as to the 2024 fraglist fix (frag_list_kernel_fraglist_fix_info): ${fixState}.`,
          { ...culpritAnnotation, crash_point: 'skb_segment_list' }),
        rule('FragListFraglistWithoutListSeen', s.warningSeverity,
          page(WITHOUT_LIST, `${rose(WITHOUT_LIST, notAtListCrashPoint)} unless ${listSegmentationCrashes}`), undefined,
          `FRAGLIST skbs without a frag_list at {{ $labels.hook }} on {{ $labels.instance }}${culprit(`;${cleared}`)}`,
          `{{ $value | humanize }} skbs with SKB_GSO_FRAGLIST and a NULL frag_list were seen at {{ $labels.hook }} on {{ $labels.instance }}, ${since} (typically a BPF program pulling all data of a fraglist-GRO skb). This host's kernel has the 2024 fraglist fix (or its agent does not say: frag_list_kernel_fraglist_fix_info), so they are harmless here; kernels without it crash on them in skb_segment_list.`,
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
    ...fleetGroups(sel, pages),
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
        // a hook this kernel simply lacks is reported (frag_list_probe_in_kernel 0), not alerted; the agent exports the
        // fault itself, sparse (read per hook, attached and in_kernel are every host's 8 to 12 series twice)
        rule('FragListProbeDetached', s.warningSeverity, `${sel('frag_list_probe_detached')} == 1`, '15m',
          'Hook {{ $labels.hook }} is not attached on {{ $labels.instance }}',
          'The tracer on {{ $labels.instance }} runs in {{ $labels.mode }} mode without hook {{ $labels.hook }}, which this kernel has: skbs passing there are not counted.'),
      ],
    },
    {
      // a group of its own: the two read every host's counter over a window (Prometheus evaluates groups in parallel)
      name: 'fraglist-exporter.tracer',
      rules: [
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
/** hosts whose `state` rose at each hook (in the last 5 minutes) */
export const hostsRecording = (counter: CulpritCounter) => `job_hook:frag_list_${STATE_OF[counter]}_hosts:count`;
/** the recorded series that lists the hosts paging now, with their paging skbs (the host dashboard's instance variable) */
export const PAGING_HOSTS = 'instance:frag_list_paging_skbs:sum';

/**
 * The recordings the fleet dashboard reads (named level:metric:operations, as
 * the Prometheus docs and the node and kubernetes mixins do): per host and
 * hook, sparse (only where a crash state rose), then per hook, per culprit
 * and per state across the fleet, so that no fleet panel reads every host's
 * series. Several groups: Prometheus evaluates groups in parallel, each within
 * its interval (docs/fleet.md has their evaluation times at 10,000 hosts).
 * `pages`: what pages, per crash state.
 */
function fleetGroups(sel: (metric: string, more?: string) => string, pages: Record<CulpritCounter, string>): RuleGroup[] {
  const perHost = (c: CulpritCounter) => fleetRecording('instance_hook', c, 'rate5m');
  // a state label before `or`: MetricsQL drops the metric names, and two states' series would collide
  const state = (c: CulpritCounter, expr: string) => `label_replace(${expr}, "state", "${STATE_OF[c]}", "", "")`;
  return [
    {
      name: 'fraglist-exporter.fleet.skbs',
      rules: [
        // summed over culprits; only where the state rose (> 0): the fleet panels read the hosts that have it, not all.
        // A series born in the window (its first skbs are its first sample, which rate() cannot see) counts from 0.
        ...CULPRIT_COUNTERS.map((c) => ({ record: perHost(c), expr: `sum without (culprit) ((${sel(c)} unless ${sel(c)} offset ${FLEET_WINDOW}) / ${FLEET_WINDOW_SECONDS} or rate(${sel(c)}[${FLEET_WINDOW}])) > 0` })),
        // recorded series are read with the job selector too: a custom one (a cluster label, say) keeps its fleet apart
        ...CULPRIT_COUNTERS.map((c) => ({ record: fleetRecording('job_hook', c, 'rate5m'), expr: `sum by (job, hook) (${sel(perHost(c))})` })),
        // from when each series last rose, not from a rate: a state born in one burst has no rate, and the host has it
        ...CULPRIT_COUNTERS.map((c) => ({ record: hostsRecording(c), expr: `count by (job, hook) (count by (job, instance, hook) (${sel(lastRiseGauge(c))} > time() - ${FLEET_WINDOW_SECONDS}))` })),
        // a culprit's series is born at its first count, which rate() misses: counted from 0 instead
        ...CULPRIT_COUNTERS.map((c) => {
          const m = sel(c, 'culprit!~"unseen|"');
          return { record: fleetRecording('job_hook_culprit', c, 'increase10m'), expr: `sum by (job, hook, culprit) ((${m} - (${m} offset 10m or ${m} * 0)) > 0)` };
        }),
        // the hosts paging now (the pages' own expressions), with their skbs in those states
        { record: PAGING_HOSTS, expr: `sum by (job, instance) (${CULPRIT_COUNTERS.map((c) => state(c, pages[c])).join(' or ')})` },
      ],
    },
    // every host's series, a few families a group: each read costs the fleet's size (docs/fleet.md has the times)
    {
      name: 'fraglist-exporter.fleet.events',
      rules: ['frag_list_events_sampled_total', 'frag_list_events_suppressed_total', 'frag_list_events_lost_total']
        .map((m) => ({ record: `job:${m}:rate5m`, expr: `sum by (job) (rate(${sel(m)}[5m]))` })),
    },
    {
      name: 'fraglist-exporter.fleet.hosts',
      rules: [
        { record: 'job_mode:frag_list_build_info:count', expr: `count by (job, mode) (${sel('frag_list_build_info')})` },
        { record: 'job_state:frag_list_kernel_fraglist_fix_info:count', expr: `count by (job, state) (${sel('frag_list_kernel_fraglist_fix_info')})` },
        { record: 'job:frag_list_hosts_crashed_in_segmentation_30d:count',
          expr: `count by (job) (${sel('frag_list_kernel_last_crash_timestamp_seconds', 'class="segmentation"')} > time() - 30 * 86400)` },
      ],
    },
    {
      name: 'fraglist-exporter.fleet.tracers',
      rules: [
        { record: 'job:frag_list_tracer_up:sum', expr: `sum by (job) (${sel('frag_list_tracer_up')})` },
        { record: 'job:frag_list_tracer_restarts_total:rate5m', expr: `sum by (job) (rate(${sel('frag_list_tracer_restarts_total')}[5m]))` },
        { record: 'job:frag_list_hosts_blind_to_skb_segment:count',
          expr: `count by (job) (${sel('frag_list_build_info')} unless on (job, instance) ${sel('frag_list_probe_attached', hookIn(CRASH_POINT_HOOKS))} == 1)` },
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
