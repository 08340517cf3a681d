// /metrics: a projection of TracerState through prom-client. Values are read
// from the state at scrape time; nothing here counts.
import { Counter, Gauge, Registry } from 'prom-client';
import { CULPRIT_KEYED_MAPS } from '../probes/program.js';
import { perHook, splitLabel } from '../state/hook-culprit.js';
import type { FraglistFix } from '../kernel/fraglist-fix.js';
import type { Counters } from '../state/counters.js';
import type { TracerState } from '../state/tracer-state.js';
import { registerCrashMetrics, type CrashView } from './crash-metrics.js';
import { registerRuntimeMetrics, type RuntimeMetrics } from './runtime-metrics.js';

/** What the agent knows beyond the counters: the tracer reporting on time (src/bpftrace/watchdog.ts), the filtered interface present. */
export interface Health {
  healthy(): boolean;
  /** undefined without --filter.interface */
  interfacePresent?(): boolean | undefined;
}

export interface BuildInfo { version: string; bpftraceVersion: string; kernel: string; gsoNamesSource: string; fraglistFix: FraglistFix }

/** metric name -> help, per-hook counters from kernel maps */
const HOOK_COUNTERS: Record<string, [counter: string, help: string]> = {
  inconsistent: ['frag_list_inconsistent_total', 'GSO skbs in the seed\'s INCONSISTENT state: frag_list NULL, gso_size > 0, nr_frags 0, data_len 0.'],
  overrun: ['frag_list_overrun_total', 'skbs claiming more paged bytes than their frags and frag_list hold (data_len > sum): what crashes skb_segment.'],
  fraglist_nolist: ['frag_list_fraglist_without_list_total', 'skbs whose gso_type has SKB_GSO_FRAGLIST while frag_list is NULL: list segmentation dereferences the missing list.'],
  overrun_unverified: ['frag_list_overrun_unverified_total', 'skbs whose OVERRUN check could not finish (more than 17 frags or a frag_list longer than the bounded walk).'],
  inspected: ['frag_list_skbs_inspected_total', 'skbs evaluated at each hook (after filters).'],
  gso: ['frag_list_gso_skbs_total', 'Inspected skbs with gso_size > 0.'],
  with_frag_list: ['frag_list_skbs_with_frag_list_total', 'Inspected skbs carrying a frag_list.'],
  filtered: ['frag_list_filtered_total', 'skbs rejected by the in-kernel filters, at all hooks.'],
  sampled: ['frag_list_events_sampled_total', 'Events sent to the agent with full context (within the sampling budget), at all hooks.'],
  suppressed: ['frag_list_events_suppressed_total', 'Events counted but not sent, over the in-kernel rate limit, at all hooks.'],
  gso_change: ['frag_list_gso_changes_total', 'Kernel functions that changed gso_size or gso_type (bpf_skb_adjust_room makes the reported 1027).'],
};

/** the gauge of when a crash-state counter last rose: frag_list_inconsistent_total -> frag_list_last_inconsistent_timestamp_seconds */
export const lastRiseGauge = (counter: string): string => counter.replace(/^frag_list_/, 'frag_list_last_').replace(/_total$/, '_timestamp_seconds');

/**
 * Counters exported as one series, summed over hooks: the filters and the
 * sampling budget are the whole program's, so a series per hook would be paid
 * for by every host of a fleet and read by nobody (docs/fleet.md).
 */
const SUMMED_OVER_HOOKS = ['filtered', 'sampled', 'suppressed'];

/**
 * One registry per exposition format, each with metric objects of its own:
 * prom-client renames a counter object in place (drops `_total`) when an
 * OpenMetrics registry renders it, so an object shared with the text registry
 * would lose its `_total` there after the first OpenMetrics scrape.
 */
export function createRegistries(state: TracerState, health: Health, build: BuildInfo, crash?: CrashView, runtime: RuntimeMetrics = 'essential'): { text: Registry; openMetrics: Registry } {
  const text = new Registry();
  const openMetrics = new Registry();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as typeof Registry.PROMETHEUS_CONTENT_TYPE);
  for (const r of [text, openMetrics]) {
    registerMetrics(r, state, health, build, runtime);
    if (crash) registerCrashMetrics(r, crash);
  }
  return { text, openMetrics };
}

/**
 * A counter's collect() that refills it from the state only when the state
 * changed since it last did: the counters move once per bpftrace print, and
 * refilling (a label hash per series) was about 6 % of a scrape's CPU.
 */
function whenChanged(c: Counters, fill: (this: Counter<string>) => void): (this: Counter<string>) => void {
  let seen = -1;
  return function () {
    if (seen === c.version) return;
    seen = c.version;
    this.reset();
    fill.call(this);
  };
}

function registerMetrics(registry: Registry, state: TracerState, health: Health, build: BuildInfo, runtime: RuntimeMetrics): void {
  const registers = [registry];
  const c = state.counters;
  const mode = state.mode.name;

  for (const [mapName, [name, help]] of Object.entries(HOOK_COUNTERS)) {
    if (!state.mode.counters.includes(mapName)) continue;
    if (SUMMED_OVER_HOOKS.includes(mapName)) {
      new Counter({ name, help, registers, collect: whenChanged(c, function () { this.inc(perHook(c, mapName).reduce((sum, [, v]) => sum + v, 0)); }) });
    } else if (CULPRIT_KEYED_MAPS.includes(mapName)) {
      new Counter({
        name, help: `${help} culprit: the hooked writer that last cleared its frag_list or changed its GSO fields, or "unseen".`,
        labelNames: ['hook', 'culprit'], registers,
        collect: whenChanged(c, function () { for (const [label, v] of c.series(mapName)) this.inc(splitLabel(label) as { hook: string; culprit: string }, v); }),
      });
    } else {
      new Counter({
        name, help, labelNames: ['hook'], registers,
        collect: whenChanged(c, function () { for (const [hook, v] of c.series(mapName)) this.inc({ hook }, v); }),
      });
    }
  }
  new Counter({
    name: 'frag_list_events_total', help: 'frag_list events by kind and hook (the kinds this probe mode can see).',
    labelNames: ['event', 'hook'], registers,
    collect: whenChanged(c, function () {
      for (const event of state.mode.events) for (const [hook, v] of perHook(c, event)) this.inc({ event, hook }, v);
    }),
  });
  const agentCounter = (name: string, help: string, counter: string) => new Counter({
    name, help, registers, collect: whenChanged(c, function () { this.inc(c.get(counter)); }),
  });
  agentCounter('frag_list_events_lost_total', 'Events lost between kernel and agent (bpftrace lost_events).', 'lost_events');
  agentCounter('frag_list_tracer_unparsable_lines_total', 'bpftrace output lines the agent could not parse.', 'unparsable_lines');
  agentCounter('frag_list_tracer_helper_errors_total', 'BPF helper errors bpftrace reported.', 'helper_errors');
  agentCounter('frag_list_tracer_restarts_total', 'Times bpftrace was restarted after it exited (or was killed for stalling).', 'tracer_restarts');
  agentCounter('frag_list_tracer_stalls_total', 'Times bpftrace stopped reporting (no interval output) and was killed to be restarted.', 'tracer_stalls');

  new Gauge({ name: 'frag_list_tracer_up', help: '1 while bpftrace runs with its probes attached and reports on time.', registers,
    collect() { this.set(health.healthy() ? 1 : 0); } });
  new Gauge({ name: 'frag_list_probe_attached', help: 'Whether each hook of the probe mode is attached (1) or not (0).',
    labelNames: ['hook', 'mode'], registers,
    collect() {
      this.reset();
      for (const hook of state.hooks) this.set({ hook, mode }, state.status.up ? 1 : 0);
      for (const { hook } of state.unattached) this.set({ hook, mode }, 0);
    } });
  new Gauge({ name: 'frag_list_probe_in_kernel', help: 'Whether this kernel has each hook\'s function or tracepoint (0: absent or inlined, nothing to attach; only a hook it has and that is not attached is a fault).',
    labelNames: ['hook', 'mode'], registers,
    collect() {
      this.reset();
      for (const hook of state.hooks) this.set({ hook, mode }, 1);
      for (const { hook, inKernel } of state.unattached) this.set({ hook, mode }, inKernel ? 1 : 0);
    } });
  // the fault the warning reads, as a series only while it holds: a fleet's rules then read the few hosts that have
  // it, not every host's attach status per hook (docs/fleet.md)
  new Gauge({ name: 'frag_list_probe_detached', help: 'A hook of the probe mode that this kernel has and that is not attached while the tracer runs: 1 (no series: none).',
    labelNames: ['hook', 'mode'], registers,
    collect() {
      this.reset();
      if (health.healthy()) for (const { hook, inKernel } of state.unattached) if (inKernel) this.set({ hook, mode }, 1);
    } });
  if (health.interfacePresent?.() !== undefined) {
    new Gauge({ name: 'frag_list_filter_interface_present', help: '1 while the --filter.interface device exists (0: it is gone and nothing is counted).', registers,
      collect() { this.set(health.interfacePresent?.() ? 1 : 0); } });
  }
  for (const mapName of CULPRIT_KEYED_MAPS.filter((m) => state.mode.counters.includes(m))) {
    const counter = HOOK_COUNTERS[mapName][0];
    new Gauge({ name: lastRiseGauge(counter), help: `When ${counter} last rose at this hook by this culprit, in seconds since the epoch (no series: not since the agent started).`,
      labelNames: ['hook', 'culprit'], registers,
      collect() {
        this.reset();
        for (const [label, seconds] of state.lastRise.series(mapName)) this.set(splitLabel(label) as { hook: string; culprit: string }, seconds);
      } });
  }
  new Gauge({ name: 'frag_list_build_info', help: 'Agent, tracer and kernel versions; the probe mode in use.',
    labelNames: ['version', 'mode', 'bpftrace_version', 'kernel', 'gso_names', 'nodejs_version'], registers })
    .set({ version: build.version, mode, bpftrace_version: build.bpftraceVersion, kernel: build.kernel, gso_names: build.gsoNamesSource, nodejs_version: process.version }, 1);
  // the alert rules join on it: FRAGLIST without a list pages wherever seen on a kernel whose state is lacking or unknown
  new Gauge({ name: 'frag_list_kernel_fraglist_fix_info', help: 'Whether this kernel has the 2024 fix "gso: fix udp gso fraglist segmentation after pull from frag_list" (state: fixed|lacking|unknown|no-fraglist-gso), and the upstream release it was judged by.',
    labelNames: ['state', 'upstream'], registers })
    .set({ state: build.fraglistFix.state, upstream: build.fraglistFix.upstream ?? 'unknown' }, 1);
  registerRuntimeMetrics(registry, runtime);
}
