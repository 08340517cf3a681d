// The Grafana dashboards, built with the Grafana Foundation SDK from the panel
// list below; deploy/generate.ts writes them to grafana/dashboards/*.json.
import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { CRASHING_STATES } from '../src/kernel/fraglist-fix.js';
import { CRASH_POINT_HOOKS, hookIn, hookNotIn, LIST_CRASH_POINT_HOOKS } from '../src/state/danger.js';

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
}
export interface DashboardSpec { uid: string; title: string; description: string; rows: Array<{ title: string; panels: PanelSpec[] }> }

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
const CRASHED_30D = `frag_list_kernel_last_crash_timestamp_seconds{${F},class="segmentation"} > time() - 30 * 86400`;

const FLEET: DashboardSpec = {
  uid: 'fraglist-fleet', title: 'frag_list / Fleet overview',
  description: 'Hosts seeing skbs in the states that crash skb_segment, and the health of the tracers that look for them.',
  rows: [
    { title: 'Now', panels: [
      { title: 'Hosts with INCONSISTENT at skb_segment (paged)', kind: 'stat', unit: 'none', expectsData: false, width: 4,
        description: 'Hosts where a linear GSO skb reached skb_segment in the selected range: the crash state at the crash point. This pages.',
        targets: [{ expr: `count(sum by (instance) (increase(frag_list_inconsistent_total{${F},${CRASH}}[$__range])) > 0)`, instant: true }] },
      { title: 'Hosts with INCONSISTENT elsewhere (not paged)', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'Hosts that saw linear GSO skbs at receive hooks or after a writer: legal and routine (every virtio host that downloads shows some). Counted, never paged.',
        targets: [{ expr: `count(sum by (instance) (increase(frag_list_inconsistent_total{${F},${NOT_CRASH}}[$__range])) > 0)`, instant: true }] },
      { title: 'Hosts with OVERRUN skbs', kind: 'stat', unit: 'none', expectsData: false, width: 4,
        description: 'Hosts that saw an skb claiming more paged data than it holds: what crashes skb_segment.',
        targets: [{ expr: `count(sum by (instance) (increase(frag_list_overrun_total{${F}}[$__range])) > 0)`, instant: true }] },
      { title: 'Tracers up', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'Hosts whose bpftrace runs with its probes attached, of the hosts scraped.',
        targets: [{ expr: `sum(frag_list_tracer_up{${F}})`, instant: true }] },
      { title: 'Probe mode across the fleet', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'How many hosts run each probe mode (tracepoint sees less than kprobe/fentry).',
        targets: [{ expr: `count by (mode) (frag_list_build_info{${F}})`, legend: '{{mode}}', instant: true }] },
      { title: 'Hosts blind to skb_segment', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'Hosts without skb_segment attached (tracepoint mode, or the hook failed): they cannot raise the INCONSISTENT page. OVERRUN still pages from them.',
        targets: [{ expr: `count(frag_list_build_info{${F}} unless on (job, instance) frag_list_probe_attached{${F},${CRASH}} == 1) or vector(0)`, instant: true }] },
      { title: 'Hosts whose kernel lacks the fraglist fix', kind: 'stat', unit: 'none', expectsData: true, width: 4,
        description: 'Hosts whose kernel lacks the 2024 fix "gso: fix udp gso fraglist segmentation after pull from frag_list", or is not known to have it: on them FRAGLIST without a list pages wherever it is seen (list segmentation crashes on it).',
        targets: [{ expr: `count(frag_list_kernel_fraglist_fix_info{${F},state=~"${CRASHING_STATES.join('|')}"}) or vector(0)`, instant: true }] },
    ] },
    { title: 'Over time', panels: [
      ...INCONSISTENT_PANELS,
      { title: 'OVERRUN skbs per second, by host and hook', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12,
        description: 'skbs whose data_len exceeds their frags plus frag_list.',
        targets: [{ expr: rate('frag_list_overrun_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] },
      FRAGLIST_PANEL,
      CULPRIT_PANEL,
      { title: 'Top hosts by INCONSISTENT skbs', kind: 'table', unit: 'none', expectsData: true, width: 12,
        description: 'INCONSISTENT skbs per host and hook over the selected range (only skb_segment pages).',
        targets: [{ expr: `topk(10, sum by (instance, hook) (increase(frag_list_inconsistent_total{${F}}[$__range])))`, instant: true }] },
      { title: 'Sampled, suppressed and lost events per second', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12,
        description: 'Sampled events carry full context; suppressed ones are counted only (in-kernel rate limit); lost ones never reached the agent.',
        targets: [
          { expr: `sum(rate(frag_list_events_sampled_total{${F}}[$__rate_interval]))`, legend: 'sampled' },
          { expr: `sum(rate(frag_list_events_suppressed_total{${F}}[$__rate_interval]))`, legend: 'suppressed' },
          { expr: `sum(rate(frag_list_events_lost_total{${F}}[$__rate_interval]))`, legend: 'lost' },
        ] },
    ] },
    { title: 'Kernel crashes', panels: [
      { title: 'Hosts that crashed in GSO segmentation (30 days)', kind: 'stat', unit: 'none', expectsData: true, width: 6,
        description: 'Hosts whose kernel crash record (pstore, kdump), read by the agent after the reboot, is in GSO segmentation and less than 30 days old: the crash no page could beat.',
        targets: [{ expr: `count(${CRASHED_30D}) or vector(0)`, instant: true }] },
      { title: 'Hosts that crashed in GSO segmentation: function and culprit', kind: 'table', unit: 'dateTimeAsIso', expectsData: false, width: 18,
        description: 'The newest segmentation crash of each host (30 days): when, the function, and the culprit of the last critical skb the agent heard before it ("unknown": the kernel died first); the summary has the flow. The record, parsed: the agent\'s /crashes.',
        targets: [{ expr: `topk(20, ${CRASHED_30D}) * on (job, instance) group_left (function, culprit, summary) frag_list_kernel_last_segmentation_crash_info{${F}}`, instant: true }] },
    ] },
    { title: 'Tracer health', panels: [
      { title: 'Tracer restarts', kind: 'timeseries', unit: 'none', expectsData: true, width: 12,
        description: 'bpftrace restarts per host in each interval.',
        targets: [{ expr: `sum by (instance) (increase(frag_list_tracer_restarts_total{${F}}[$__rate_interval]))`, legend: '{{instance}}' }] },
      { title: 'Hooks not attached', kind: 'table', unit: 'none', expectsData: false, width: 12,
        description: 'Hooks of the probe mode that this kernel has and that are not attached, by host (a hook the kernel lacks is not a fault).',
        targets: [{ expr: `frag_list_probe_attached{${F}} == 0 and on (job, instance, hook, mode) frag_list_probe_in_kernel{${F}} == 1`, instant: true }] },
    ] },
  ],
};

const HOST: DashboardSpec = {
  uid: 'fraglist-host', title: 'frag_list / Host',
  description: 'Every counter of one host (choose it in the instance variable), per hook, with the tracer\'s attach status and restarts.',
  rows: [
    { title: 'Predicates', panels: [
      ...INCONSISTENT_PANELS,
      { title: 'OVERRUN skbs per second', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12, description: 'By hook.',
        targets: [{ expr: rate('frag_list_overrun_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] },
      FRAGLIST_PANEL,
      CULPRIT_PANEL,
      { title: 'OVERRUN checks not finished', kind: 'timeseries', unit: 'ops', expectsData: true, width: 12,
        description: 'skbs with more frags, or a longer frag_list, than the probe walks.',
        targets: [{ expr: rate('frag_list_overrun_unverified_total', 'instance, hook'), legend: '{{instance}} {{hook}}' }] },
      { title: 'Last INCONSISTENT / OVERRUN', kind: 'stat', unit: 'dateTimeFromNow', expectsData: true, width: 12,
        description: 'When each counter last rose (0: not since the agent started).',
        targets: [
          { expr: `max(frag_list_last_inconsistent_timestamp_seconds{${F}}) * 1000`, legend: 'INCONSISTENT', instant: true },
          { expr: `max(frag_list_last_overrun_timestamp_seconds{${F}}) * 1000`, legend: 'OVERRUN', instant: true },
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
    .withVariable(variable('job', 'label_values(frag_list_build_info, job)'))
    .withVariable(variable('instance', 'label_values(frag_list_build_info{job=~"$job"}, instance)'));
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

function panel(p: PanelSpec) {
  const b = p.kind === 'stat' ? new StatBuilder() : p.kind === 'table' ? new TableBuilder() : new TimeseriesBuilder();
  b.title(p.title).description(p.description).unit(p.unit).datasource(DS);
  p.targets.forEach((t, i) => {
    const q = new DataqueryBuilder().expr(t.expr).refId(String.fromCharCode(65 + i)).datasource(DS);
    if (t.legend) q.legendFormat(t.legend);
    if (t.instant) q.instant(); else q.range();
    b.withTarget(q);
  });
  return b;
}
