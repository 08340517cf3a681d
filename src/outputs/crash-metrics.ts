// The crash records as metrics, read from the latest report at scrape time.
// Every label is a closed set (class, function: ../crash/segmentation.ts,
// culprit: the hook labels or "unknown", reason), but for summary, which the
// one series of the latest segmentation crash carries for the page to quote.
import { Gauge, type Registry } from 'prom-client';
import { latestOf, type CrashReport } from '../crash/crash-records.js';

export interface CrashView {
  report(): CrashReport;
  /** the previous run's start, ms (undefined: none known) */
  previousStartMs?: number;
}

export function registerCrashMetrics(registry: Registry, crash: CrashView): void {
  const registers = [registry];
  new Gauge({
    name: 'frag_list_kernel_crash_records', help: 'Kernel crash records this host keeps (--kernel.crash-dirs), by class (segmentation: in GSO segmentation) and the segmentation function ("other" for class other).',
    labelNames: ['class', 'function'], registers,
    collect() {
      this.reset();
      for (const r of crash.report().records) this.inc({ class: r.class, function: r.function });
    },
  });
  new Gauge({
    name: 'frag_list_kernel_last_crash_timestamp_seconds', help: 'When the newest kernel crash record of each class was written (the crash).',
    labelNames: ['class'], registers,
    collect() {
      this.reset();
      for (const cls of ['segmentation', 'other'] as const) {
        const r = latestOf(crash.report(), cls);
        if (r) this.set({ class: cls }, r.timeSeconds);
      }
    },
  });
  new Gauge({
    name: 'frag_list_kernel_last_segmentation_crash_info', help: 'The newest crash in GSO segmentation: its function, the culprit of the last critical skb the agent heard before it ("unknown": none), and a one-line summary with the flow.',
    labelNames: ['function', 'culprit', 'summary'], registers,
    collect() {
      this.reset();
      const r = latestOf(crash.report(), 'segmentation');
      if (r) this.set({ function: r.function, culprit: r.culprit, summary: r.summary }, 1);
    },
  });
  new Gauge({
    name: 'frag_list_kernel_crash_records_skipped', help: 'Files in the crash directories not read as crashes: not-an-oops, warning (not a crash), truncated, unreadable, duplicate (another record of a crash already counted: ramoops keeps the oops and the panic).',
    labelNames: ['reason'], registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(crash.report().skipped)) if (n > 0) this.set({ reason }, n);
    },
  });
  new Gauge({
    name: 'frag_list_agent_previous_start_timestamp_seconds', help: 'When the agent\'s previous run on this host started (0: none known): a crash newer than it is one no run has reported.',
    registers, collect() { this.set(crash.previousStartMs ? Math.floor(crash.previousStartMs / 1000) : 0); },
  });
}
