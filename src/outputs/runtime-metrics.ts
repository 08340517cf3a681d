// The agent's own process and Node.js runtime, as metrics. By default only
// what an operator of the agent reads (CPU, resident memory, open fds, start
// time, event-loop delay, heap used): prom-client's full set is about 60
// series more per host (per heap space, per garbage-collection kind), paid
// for by every host of a fleet (docs/fleet.md). --metrics.runtime=full
// turns it back on.
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { PROM_CLIENT_EVENT_LOOP, registerEventLoopDelay } from './event-loop.js';

export const RUNTIME_METRICS = ['essential', 'full'] as const;
export type RuntimeMetrics = (typeof RUNTIME_METRICS)[number];

/** prom-client's metrics kept by default (the event-loop delay is ./event-loop.ts's own) */
export const ESSENTIAL_RUNTIME = new Set([
  'process_cpu_seconds_total',
  'process_resident_memory_bytes', 'process_open_fds', 'process_max_fds', 'process_start_time_seconds',
  'nodejs_heap_size_used_bytes',
]);

/**
 * prom-client's process and runtime metrics, less the three gauges it names
 * *_total (nodejs_active_*_total), which promtool check metrics rejects, and
 * its event-loop delay, which ./event-loop.ts measures for a fraction of the
 * cost. Its histogram cannot be left out, so its timer is set to a period
 * (24 days) that costs nothing.
 */
export function registerRuntimeMetrics(registry: Registry, set: RuntimeMetrics): void {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults, eventLoopMonitoringPrecision: 2 ** 31 - 1 });
  for (const { name } of defaults.getMetricsAsArray()) {
    const m = defaults.getSingleMetric(name)!;
    if (name.endsWith('_total') && !(m instanceof Counter)) continue;
    if (PROM_CLIENT_EVENT_LOOP.test(name)) continue;
    if (set === 'essential' && !ESSENTIAL_RUNTIME.has(name)) continue;
    registry.registerMetric(m);
  }
  registerEventLoopDelay(registry);
}
