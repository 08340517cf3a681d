// The Grafana dashboards, built with the Grafana Foundation SDK from the panel
// list below; deploy/generate.ts writes them to grafana/dashboards/*.json.
import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { CRASHING_STATES } from '../src/kernel/fraglist-fix.js';
import { CRASH_POINT_HOOKS, hookIn, hookNotIn, LIST_CRASH_POINT_HOOKS } from '../src/state/danger.js';
import { fleetRecording, hostsRecording, PAGING_HOSTS } from '../deploy/alerts.js';

const DS = { type: 'prometheus', uid: '$datasource' };
/** every selector carries these, as the dashboard linter wants */
const F = 'job=~"$job",instance=~"$instance"';

export interface PanelSpec {
  title: string;
  description: string;
  kind: 'stat' | 'timeseries' | 'table';
  unit: string;
  targets: Array<{ expr: string; legend?: string; instant?: boolean }>;
  /** shows data once the agent runs and has seen INCONSISTENT skbs (checked end to end) */
  expectsData: boolean;
  width?: number;
  /** a table of hosts: its instance column links to the host dashboard */
  linksToHost?: boolean;
}
export interface DashboardSpec {
  uid: string; title: string; description: string; rows: Array<{ title: string; panels: PanelSpec[] }>;
  /** the instance variable's query; none: a dashboard of the fleet, whose panels read job-level recordings */
  instanceVariable?: string;
  /** dashboard-linter rules this dashboard is excluded from, and why (as a .lint file says it) */
  lintExclusions?: Record<string, string>;
}

/** INCONSISTENT pages only at a crash point (src/state/danger.ts); elsewhere it is graphed */
const CRASH = hookIn(CRASH_POINT_HOOKS), NOT_CRASH = hookNotIn(CRASH_POINT_HOOKS);
const rate = (m: string, by: string, more = '') => `sum by (${by}) (rate(${m}{${F}${more ? `,${more}` : ''}}[$__rate_interval]))`;

/** The split both dashboards show: INCONSISTENT pages only at the crash point; elsewhere it is a baseline. */
const INCONSISTENT_PANELS: PanelSpec[] = [
  { title: 'INCONSISTENT at skb_segment per second (pages)', kind: 'timeseries', unit: 'ops', expectsData: false, width: 12,
    description: 'GSO skbs with a NULL frag_list, no frags and no paged data reaching skb_segment, by host.',
    targets: [{ expr: rate('frag_list_inconsistent_total', 'instance, hook', CRASH), legend: '{{instance}} {{hook}}' }] },
  { title: 'INCONSISTENT at receive hooks and writers per second (no page)', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12,
    description: 'The same state where it is legal: linear GSO skbs from virtio NICs (a virtio host shows a few per MB downloaded at napi_gro_receive) and after a linearize. A baseline; a change of it on hosts that run BPF encapsulation is worth a look.',
    targets: [{ expr: rate('frag_list_inconsistent_total', 'instance, hook', NOT_CRASH), legend: '{{instance}} {{hook}}' }] },
];

const FRAGLIST_PANEL: PanelSpec = { title: 'FRAGLIST without a list per second, by host and hook', kind: 'timeseries', unit: 'ops', expectsData: false, width: 12,
  description: `SKB_GSO_FRAGLIST with a NULL frag_list. At ${LIST_CRASH_POINT_HOOKS.join(' / ')} it pages (kernels without the 2024 fraglist fixes crash there); elsewhere (a pulling BPF helper's return) it warns.`,
  targets: [{ expr: rate('frag_list_fraglist_without_list_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] };

/** skbs per culprit over the range; a culprit's series is born at its first count, which increase() would miss */
const sinceRange = (m: string) => {
  const x = `${m}{${F},culprit!~"unseen|"}`;
  return `sum by (instance, hook, culprit) (${x} - (${x} offset $__range or ${x} * 0)) > 0`;
};
const CULPRIT_PANEL: PanelSpec = { title: 'Culprits: who left skbs in a crash state', kind: 'table', unit: 'none', expectsData: false, width: 12,
  description: 'The hooked writer (kprobe and fentry modes) that last cleared the frag_list or changed the GSO fields of skbs later seen INCONSISTENT, OVERRUN or FRAGLIST without a list, by host and hook, over the selected range. The sampled events (/events) carry its stack.',
  targets: [
    { expr: sinceRange('frag_list_inconsistent_total'), legend: 'INCONSISTENT', instant: true },
    { expr: sinceRange('frag_list_overrun_total'), legend: 'OVERRUN', instant: true },
    { expr: sinceRange('frag_list_fraglist_without_list_total'), legend: 'FRAGLIST without a list', instant: true },
  ] };

/** hosts whose newest segmentation crash record is less than 30 days old, valued by its time */
const crashed30d = (f: string) => `frag_list_kernel_last_crash_timestamp_seconds{${f},class="segmentation"} > time() - 30 * 86400`;

/** the fleet dashboard's selector: job only (its recordings are per job, hook or culprit; a host is one click away) */
const J = 'job=~"$job"';
const CRASH_J = `${J},${CRASH}`, NOT_CRASH_J = `${J},${NOT_CRASH}`;
const atMost = 20;

/**
 * Every panel reads a recording of deploy/alerts.ts's fleet groups (a series
 * per job, hook or culprit) or a bounded query (topk of sparse series, one
 * sample per host): at 10,000 hosts each answers in under a second
 * (npm run bench:fleet, docs/fleet.md).
 */
const FLEET: DashboardSpec = {
  uid: 'fraglist-fleet', title: 'frag_list / Fleet overview',
  description: 'Hosts seeing skbs in the states that crash skb_segment, and the health of the tracers that look for them. Fleet-wide: per hook and culprit, never a line per host; each host in a table links to its own dashboard.',
  lintExclusions: {
    'template-instance-rule': 'a fleet dashboard: its panels read per-job recordings, which have no instance label; hosts are reached by the links in its tables',
    'target-instance-rule': 'the same: an instance matcher on a job-level recording would match nothing',
  },
  rows: [
    { title: 'Now', panels: [
      { title: 'Hosts paging now', kind: 'stat', unit: 'none', expectsData: false, width: 4,
        description: 'Hosts paging now: skbs in a state that pages (INCONSISTENT at skb_segment, OVERRUN anywhere, FRAGLIST without a list where it crashes) rose there in the last 10 minutes.',
        targets: [{ expr: `count(${PAGING_HOSTS}{${J}}) or vector(0)`, instant: true }] },
      { title: 'Hosts with INCONSISTENT elsewhere, by hook (not paged)', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'Hosts that saw linear GSO skbs at receive hooks or after a writer in the last 5 minutes: legal and routine (every virtio host that downloads shows some). Counted, never paged.',
        targets: [{ expr: `sum by (hook) (${hostsRecording('frag_list_inconsistent_total')}{${NOT_CRASH_J}})`, legend: '{{hook}}', instant: true }] },
      { title: 'Tracers up, of hosts reporting', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'Hosts whose bpftrace runs with its probes attached, and the hosts whose agent is scraped.',
        targets: [
          { expr: `sum(job:frag_list_tracer_up:sum{${J}})`, legend: 'up', instant: true },
          { expr: `sum(job_mode:frag_list_build_info:count{${J}})`, legend: 'reporting', instant: true },
        ] },
      { title: 'Probe mode across the fleet', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'How many hosts run each probe mode (tracepoint sees less than kprobe/fentry).',
        targets: [{ expr: `sum by (mode) (job_mode:frag_list_build_info:count{${J}})`, legend: '{{mode}}', instant: true }] },
      { title: 'Hosts blind to skb_segment', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'Hosts without skb_segment attached (tracepoint mode, or the hook failed): they cannot raise the INCONSISTENT page. OVERRUN still pages from them.',
        targets: [{ expr: `sum(job:frag_list_hosts_blind_to_skb_segment:count{${J}}) or vector(0)`, instant: true }] },
      { title: 'Hosts whose kernel lacks the fraglist fix', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'Hosts whose kernel lacks the 2024 fix "gso: fix udp gso fraglist segmentation after pull from frag_list", or is not known to have it: on them FRAGLIST without a list pages wherever it is seen (list segmentation crashes on it).',
        targets: [{ expr: `sum(job_state:frag_list_kernel_fraglist_fix_info:count{${J},state=~"${CRASHING_STATES.join('|')}"}) or vector(0)`, instant: true }] },
    ] },
    { title: 'Over time', panels: [
      { title: 'Hosts in each crash state', kind: 'timeseries', unit: 'none', expectsData: true, width: 12,
        description: 'Hosts whose skbs were in each state in the 5 minutes before each point, summed over hooks (a host seen at two hooks counts twice). INCONSISTENT at skb_segment, OVERRUN and FRAGLIST without a list page; INCONSISTENT elsewhere does not.',
        targets: [
          { expr: `sum(${hostsRecording('frag_list_inconsistent_total')}{${CRASH_J}})`, legend: 'INCONSISTENT at skb_segment' },
          { expr: `sum(${hostsRecording('frag_list_inconsistent_total')}{${NOT_CRASH_J}})`, legend: 'INCONSISTENT elsewhere' },
          { expr: `sum(${hostsRecording('frag_list_overrun_total')}{${J}})`, legend: 'OVERRUN' },
          { expr: `sum(${hostsRecording('frag_list_fraglist_without_list_total')}{${J}})`, legend: 'FRAGLIST without a list' },
        ] },
      { title: 'Crash-state skbs per second across the fleet, by hook', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12,
        description: 'One line per state and hook, whatever the number of hosts. INCONSISTENT pages only at skb_segment; elsewhere it is a baseline.',
        targets: [
          { expr: `sum by (hook) (${fleetRecording('job_hook', 'frag_list_inconsistent_total', 'rate5m')}{${J}})`, legend: 'INCONSISTENT {{hook}}' },
          { expr: `sum by (hook) (${fleetRecording('job_hook', 'frag_list_overrun_total', 'rate5m')}{${J}})`, legend: 'OVERRUN {{hook}}' },
          { expr: `sum by (hook) (${fleetRecording('job_hook', 'frag_list_fraglist_without_list_total', 'rate5m')}{${J}})`, legend: 'FRAGLIST without a list {{hook}}' },
        ] },
      { title: `Top ${atMost} hosts paging`, kind: 'table', unit: 'none', expectsData: false, width: 12, linksToHost: true,
        description: 'The hosts that paged in the range, with the most skbs in a paging state (counted since their agents started; the peak over the range). Each links to its host dashboard.',
        targets: [{ expr: `topk(${atMost}, max_over_time(${PAGING_HOSTS}{${J}}[$__range]))`, instant: true }] },
      { title: `Top ${atMost} culprits`, kind: 'table', unit: 'none', expectsData: false, width: 12,
        description: 'The hooked writers (kprobe and fentry modes) that last cleared the frag_list or changed the GSO fields of skbs later seen in a crash state, fleet-wide, by hook: the most skbs any 10 minutes of the range saw. The sampled events (/events of a host) carry its stack.',
        targets: [
          { expr: `topk(${atMost}, max_over_time(${fleetRecording('job_hook_culprit', 'frag_list_inconsistent_total', 'increase10m')}{${J}}[$__range]))`, legend: 'INCONSISTENT', instant: true },
          { expr: `topk(${atMost}, max_over_time(${fleetRecording('job_hook_culprit', 'frag_list_overrun_total', 'increase10m')}{${J}}[$__range]))`, legend: 'OVERRUN', instant: true },
          { expr: `topk(${atMost}, max_over_time(${fleetRecording('job_hook_culprit', 'frag_list_fraglist_without_list_total', 'increase10m')}{${J}}[$__range]))`, legend: 'FRAGLIST without a list', instant: true },
        ] },
      { title: `Top ${atMost} hosts by INCONSISTENT elsewhere (not paged)`, kind: 'table', unit: 'ops', expectsData: true, width: 12, linksToHost: true,
        description: 'The baseline\'s largest hosts: INCONSISTENT skbs per second at receive hooks and writers (their peak over the range). A change on hosts that run BPF encapsulation is worth a look.',
        targets: [{ expr: `topk(${atMost}, sum by (job, instance) (max_over_time(${fleetRecording('instance_hook', 'frag_list_inconsistent_total', 'rate5m')}{${NOT_CRASH_J}}[$__range])))`, instant: true }] },
      { title: 'Sampled, suppressed and lost events per second', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12,
        description: 'Sampled events carry full context; suppressed ones are counted only (in-kernel rate limit); lost ones never reached the agent.',
        targets: [
          { expr: `sum(job:frag_list_events_sampled_total:rate5m{${J}})`, legend: 'sampled' },
          { expr: `sum(job:frag_list_events_suppressed_total:rate5m{${J}})`, legend: 'suppressed' },
          { expr: `sum(job:frag_list_events_lost_total:rate5m{${J}})`, legend: 'lost' },
        ] },
    ] },
    { title: 'Kernel crashes', panels: [
      { title: 'Hosts that crashed in GSO segmentation (30 days)', kind: 'stat', unit: 'none', expectsData: true, width: 6,
        description: 'Hosts whose kernel crash record (pstore, kdump), read by the agent after the reboot, is in GSO segmentation and less than 30 days old: the crash no page could beat.',
        targets: [{ expr: `sum(job:frag_list_hosts_crashed_in_segmentation_30d:count{${J}}) or vector(0)`, instant: true }] },
      { title: 'Hosts that crashed in GSO segmentation: function and culprit', kind: 'table', unit: 'dateTimeAsIso', expectsData: false, width: 18, linksToHost: true,
        description: 'The newest segmentation crash of each host (30 days, the newest 20): when, the function, and the culprit of the last critical skb the agent heard before it ("unknown": the kernel died first); the summary has the flow. The record, parsed: the agent\'s /crashes. Only hosts that keep a crash record have these series.',
        targets: [{ expr: `topk(${atMost}, ${crashed30d(J)}) * on (job, instance) group_left (function, culprit, summary) frag_list_kernel_last_segmentation_crash_info{${J}}`, instant: true }] },
    ] },
    { title: 'Tracer health', panels: [
      { title: 'Tracer restarts per second, fleet', kind: 'timeseries', unit: 'ops', expectsData: true, width: 8,
        description: 'bpftrace restarts across the fleet.',
        targets: [{ expr: `sum(job:frag_list_tracer_restarts_total:rate5m{${J}})`, legend: 'restarts' }] },
      { title: `Hosts whose tracer is down (${atMost} of them)`, kind: 'table', unit: 'none', expectsData: false, width: 8, linksToHost: true,
        description: 'Hosts whose agent answers but whose bpftrace is not attached now (one sample per host).',
        targets: [{ expr: `topk(${atMost}, frag_list_tracer_up{${J}} == 0)`, instant: true }] },
      { title: `Hooks not attached (${atMost} of them)`, kind: 'table', unit: 'none', expectsData: false, width: 8, linksToHost: true,
        description: 'Hooks of the probe mode that the host\'s kernel has and that are not attached, from the firing FragListProbeDetached warnings (a hook the kernel lacks is not a fault).',
        targets: [{ expr: `topk(${atMost}, ALERTS{alertname="FragListProbeDetached",alertstate="firing",${J}})`, instant: true }] },
    ] },
  ],
};

const HOST: DashboardSpec = {
  uid: 'fraglist-host', title: 'frag_list / Host',
  description: 'Every counter of one host, per hook, with the tracer\'s attach status and restarts. Reached from the fleet dashboard\'s tables; the instance list offers the hosts paging in the range (a small recorded series, not a scan of the fleet); any other host can be typed in.',
  instanceVariable: `label_values(${PAGING_HOSTS}{job=~"$job"}, instance)`,
  rows: [
    { title: 'Predicates', panels: [
      ...INCONSISTENT_PANELS,
      { title: 'OVERRUN skbs per second', kind: 'timeseries', unit: 'ops', expectsData: false, width: 12, description: 'By hook. No data: none since the agent started (a crash state\'s series is born with its first skb).',
        targets: [{ expr: rate('frag_list_overrun_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] },
      FRAGLIST_PANEL,
      CULPRIT_PANEL,
      { title: 'OVERRUN checks not finished', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12,
        description: 'skbs with more frags, or a longer frag_list, than the probe walks.',
        targets: [{ expr: rate('frag_list_overrun_unverified_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] },
      { title: 'Last INCONSISTENT / OVERRUN / FRAGLIST without a list', kind: 'stat', unit: 'dateTimeFromNow', expectsData: true, width: 12,
        description: 'When each crash state last rose, at any hook (no value: not since the agent started). The pages fire for 10 minutes after it, where the state pages.',
        targets: [
          { expr: `max(frag_list_last_inconsistent_timestamp_seconds{${F}}) * 1000`, legend: 'INCONSISTENT', instant: true },
          { expr: `max(frag_list_last_overrun_timestamp_seconds{${F}}) * 1000`, legend: 'OVERRUN', instant: true },
          { expr: `max(frag_list_last_fraglist_without_list_timestamp_seconds{${F}}) * 1000`, legend: 'FRAGLIST without a list', instant: true },
        ] },
    ] },
    { title: 'Traffic', panels: [
      { title: 'skbs inspected per second', kind: 'timeseries', unit: 'ops', expectsData: true, width: 8, description: 'The denominator, by hook.',
        targets: [{ expr: rate('frag_list_skbs_inspected_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] },
      { title: 'GSO skbs per second', kind: 'timeseries', unit: 'ops', expectsData: true, width: 8, description: 'Inspected skbs with gso_size > 0.',
        targets: [{ expr: rate('frag_list_gso_skbs_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] },
      { title: 'skbs with a frag_list per second', kind: 'timeseries', unit: 'ops', expectsData: true, width: 8, description: 'By hook.',
        targets: [{ expr: rate('frag_list_skbs_with_frag_list_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] },
      { title: 'Events by kind', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12, description: 'frag_list events the probe mode can see.',
        targets: [{ expr: rate('frag_list_events_total', 'instance, event, hook'), legend: '{{instance}} {{event}} {{hook}}' }] },
      { title: 'Sampled vs suppressed events', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12, description: 'By hook.',
        targets: [
          { expr: rate('frag_list_events_sampled_total', 'instance, hook'), legend: 'sampled {{hook}}' },
          { expr: rate('frag_list_events_suppressed_total', 'instance, hook'), legend: 'suppressed {{hook}}' },
        ] },
    ] },
    { title: 'Kernel crashes', panels: [
      { title: 'Crash records on this host', kind: 'table', unit: 'none', expectsData: false, width: 8,
        description: 'Kernel crash records kept by pstore or kdump (--kernel.crash-dirs), by class (segmentation: in GSO segmentation) and function.',
        targets: [{ expr: `frag_list_kernel_crash_records{${F}}`, instant: true }] },
      { title: 'Newest crash in GSO segmentation', kind: 'table', unit: 'dateTimeAsIso', expectsData: false, width: 16,
        description: 'When, the function, the culprit of the last critical skb the agent heard before it, and the flow (summary). Every record, parsed: the agent\'s /crashes.',
        targets: [{ expr: `frag_list_kernel_last_crash_timestamp_seconds{${F},class="segmentation"} * on (job, instance) group_left (function, culprit, summary) frag_list_kernel_last_segmentation_crash_info{${F}}`, instant: true }] },
    ] },
    { title: 'Tracer', panels: [
      { title: 'Attach status per hook', kind: 'table', unit: 'none', expectsData: true, width: 12,
        description: 'attached: 1 or 0; in_kernel 0 means this kernel has no such function (absent or inlined), so there is nothing to attach.',
        targets: [
          { expr: `frag_list_probe_attached{${F}}`, legend: 'attached', instant: true },
          { expr: `frag_list_probe_in_kernel{${F}}`, legend: 'in_kernel', instant: true },
        ] },
      { title: 'Tracer up and restarts', kind: 'timeseries', unit: 'none', expectsData: true, width: 12,
        description: 'bpftrace up (1) and its restarts per interval.',
        targets: [
          { expr: `max by (instance) (frag_list_tracer_up{${F}})`, legend: 'up {{instance}}' },
          { expr: `sum by (instance) (increase(frag_list_tracer_restarts_total{${F}}[$__rate_interval]))`, legend: 'restarts {{instance}}' },
        ] },
      { title: 'Versions and mode', kind: 'table', unit: 'none', expectsData: true, width: 24,
        description: 'Agent, bpftrace and kernel versions, and the probe mode.',
        targets: [{ expr: `frag_list_build_info{${F}}`, instant: true }] },
    ] },
  ],
};

export const DASHBOARD_SPECS: readonly DashboardSpec[] = [FLEET, HOST];

export function dashboards(): Dashboard[] {
  return DASHBOARD_SPECS.map(build);
}

function build(spec: DashboardSpec): Dashboard {
  const variable = (name: string, query: string) => new QueryVariableBuilder(name).label(name).datasource(DS)
    .query(query).definition(query).multi(true).includeAll(true).allValue('.+')
    .refresh(VariableRefresh.OnTimeRangeChanged).sort(VariableSort.AlphabeticalAsc);
  const d = new DashboardBuilder(spec.title).uid(spec.uid).description(spec.description)
    .tags(['fraglist-exporter', 'generated']).refresh('30s').time({ from: 'now-6h', to: 'now' }).timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(variable('job', 'label_values(job_mode:frag_list_build_info:count, job)'));
  if (spec.instanceVariable) d.withVariable(variable('instance', spec.instanceVariable));
  let y = 0;
  for (const row of spec.rows) {
    d.withRow(new RowBuilder(row.title).gridPos({ h: 1, w: 24, x: 0, y: y++ }));
    let x = 0;
    for (const p of row.panels) {
      const w = p.width ?? 12;
      if (x + w > 24) { x = 0; y += 8; }
      d.withPanel(panel(p).gridPos({ h: 8, w, x, y }));
      x += w;
    }
    y += 8;
  }
  return d.build();
}

/** the host dashboard, for the host of a table's row */
const HOST_LINK = { title: 'Host dashboard', url: '/d/fraglist-host?var-job=${__data.fields.job}&var-instance=${__data.fields.instance}&${__url_time_range}' };

function panel(p: PanelSpec) {
  const b = p.kind === 'stat' ? new StatBuilder() : p.kind === 'table' ? new TableBuilder() : new TimeseriesBuilder();
  b.title(p.title).description(p.description).unit(p.unit).datasource(DS);
  if (p.linksToHost && b instanceof TableBuilder) b.overrideByName('instance', [{ id: 'links', value: [HOST_LINK] }]);
  p.targets.forEach((t, i) => {
    const q = new DataqueryBuilder().expr(t.expr).refId(String.fromCharCode(65 + i)).datasource(DS);
    if (t.legend) q.legendFormat(t.legend);
    if (t.instant) q.instant(); else q.range();
    b.withTarget(q);
  });
  return b;
}
