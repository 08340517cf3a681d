// The series budget (docs/fleet.md): what one host costs a fleet's
// Prometheus, per probe mode, in every state a host of a fleet is in, from the
// agent's own metrics code with every hook of the mode attached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModeName } from '../../src/modes.js';
import { SPARSE_FAMILIES } from '../helpers/agent.js';
import { HOST_STATES, seriesOf, simulatedHost } from './simulated-host.js';

/** per host: what the agent exposes plus the 5 series Prometheus adds per target (up, scrape_*) */
export const SERIES_BUDGET: Record<ModeName, number> = { tracepoint: 120, kprobe: 200, fentry: 200 };
const PER_TARGET = 5;

/** every frag_list_* family, whatever the mode (those of one mode only: kernel-function modes' transitions) */
const FAMILIES = [
  'frag_list_inconsistent_total', 'frag_list_overrun_total', 'frag_list_fraglist_without_list_total', 'frag_list_overrun_unverified_total',
  'frag_list_skbs_inspected_total', 'frag_list_gso_skbs_total', 'frag_list_skbs_with_frag_list_total', 'frag_list_filtered_total',
  'frag_list_events_sampled_total', 'frag_list_events_suppressed_total', 'frag_list_events_total', 'frag_list_events_lost_total',
  'frag_list_tracer_unparsable_lines_total', 'frag_list_tracer_helper_errors_total', 'frag_list_tracer_restarts_total', 'frag_list_tracer_stalls_total',
  'frag_list_tracer_up', 'frag_list_probe_attached', 'frag_list_probe_in_kernel', 'frag_list_probe_detached', 'frag_list_last_inconsistent_timestamp_seconds',
  'frag_list_last_overrun_timestamp_seconds', 'frag_list_last_fraglist_without_list_timestamp_seconds', 'frag_list_build_info',
  'frag_list_kernel_fraglist_fix_info', 'frag_list_agent_previous_start_timestamp_seconds',
];
for (const mode of ['tracepoint', 'kprobe', 'fentry'] as const) {
  test(`${mode} mode: every state of a host within ${SERIES_BUDGET[mode]} series, every frag_list_* family there`, async () => {
    const counts: string[] = [];
    for (const hostState of HOST_STATES) {
      const host = simulatedHost(mode, hostState);
      host.advance(60);
      const text = await host.registries.text.metrics();
      const series = seriesOf(text);
      const total = series.length + PER_TARGET;
      counts.push(`${hostState} ${total}`);
      assert.ok(total <= SERIES_BUDGET[mode], `${mode} ${hostState}: ${total} series (${series.filter((s) => s.startsWith('frag_list_')).length} frag_list_*) over the budget of ${SERIES_BUDGET[mode]}`);
      const families = new Set(series.map((s) => s.replace(/\{.*$/, '')));
      const declared = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
      // a sparse family is declared (# TYPE) on a host that has nothing to say in it
      for (const f of FAMILIES) assert.ok(SPARSE_FAMILIES.test(f) ? declared.has(f) : families.has(f), `${mode} ${hostState}: ${f} is exported`);
      if (mode !== 'tracepoint') assert.ok(families.has('frag_list_gso_changes_total'));
    }
    process.stdout.write(`# ${mode}: series per host (with Prometheus's ${PER_TARGET}): ${counts.join(', ')}\n`);
  });
}

test('--metrics.runtime=full brings prom-client\'s whole set back; essential keeps what an operator reads', async () => {
  const names = async (set: 'essential' | 'full') => new Set(seriesOf(await simulatedHost('tracepoint', 'idle', { runtime: set }).registries.text.metrics())
    .filter((s) => !s.startsWith('frag_list_')).map((s) => s.replace(/\{.*$/, '')));
  const essential = await names('essential'), full = await names('full');
  assert.deepEqual([...essential].sort(), [
    'nodejs_eventloop_lag_max_seconds', 'nodejs_eventloop_lag_mean_seconds', 'nodejs_eventloop_lag_min_seconds', 'nodejs_heap_size_used_bytes',
    'process_cpu_seconds_total', 'process_max_fds', 'process_open_fds',
    'process_resident_memory_bytes', 'process_start_time_seconds',
  ]);
  for (const n of ['nodejs_heap_space_size_used_bytes', 'nodejs_version_info', 'process_virtual_memory_bytes', 'process_cpu_user_seconds_total']) assert.ok(full.has(n), `full has ${n}`);
  assert.ok(full.size > essential.size + 10, `full: ${full.size} families, essential: ${essential.size}`);
});
