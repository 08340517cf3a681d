// The event loop's delay as gauges: how late a once-a-second timer ran, as
// min, max and mean since the last scrape. prom-client has a set of these in
// collectDefaultMetrics, but samples every 10 ms (1 % of a core at idle, by the
// timer alone), walks its whole histogram at each scrape for a standard
// deviation (a fifth of the agent's CPU per scrape, npm run bench), and node's
// histogram drops the first sample after each reset, so a stall just after a
// scrape went unseen. A stall shorter than the period shows only if the timer
// falls due inside it; the watchdog reports a tracer gone silent.
import { Gauge, type Registry } from 'prom-client';

export const EVENT_LOOP_SAMPLE_MS = 1000;

/** the names prom-client gives its own set, which must not be registered as well */
export const PROM_CLIENT_EVENT_LOOP = /^nodejs_eventloop_lag_/;

/** Delays of a periodic timer, summarised since the last take(). Pure: the caller passes the clock. */
export class LoopDelay {
  private last: number;
  private min = Infinity;
  private max = 0;
  private sum = 0;
  private count = 0;

  constructor(startMs: number, private readonly periodMs = EVENT_LOOP_SAMPLE_MS) { this.last = startMs; }

  /** the timer ran at nowMs */
  sample(nowMs: number): void {
    const late = Math.max(0, nowMs - this.last - this.periodMs);
    this.last = nowMs;
    this.min = Math.min(this.min, late);
    this.max = Math.max(this.max, late);
    this.sum += late;
    this.count++;
  }

  /** min, max and mean delay in seconds since the last take (zeros if the timer has not run) */
  take(): { min: number; max: number; mean: number } {
    const out = this.count ? { min: this.min / 1000, max: this.max / 1000, mean: this.sum / this.count / 1000 } : { min: 0, max: 0, mean: 0 };
    this.min = Infinity; this.max = 0; this.sum = 0; this.count = 0;
    return out;
  }
}

export function registerEventLoopDelay(registry: Registry): void {
  const delay = new LoopDelay(performance.now());
  setInterval(() => delay.sample(performance.now()), EVENT_LOOP_SAMPLE_MS).unref();
  const gauge = (stat: string, help: string, collect?: () => void) => new Gauge({
    name: `nodejs_eventloop_lag_${stat}_seconds`, help: `${help} of a timer run every ${EVENT_LOOP_SAMPLE_MS} ms, since the last scrape.`,
    registers: [registry], collect,
  });
  // the first gauge rendered takes the summary for all three
  const min = gauge('min', 'The smallest delay', () => {
    const s = delay.take();
    min.set(s.min); max.set(s.max); mean.set(s.mean);
  });
  const max = gauge('max', 'The largest delay');
  const mean = gauge('mean', 'The mean delay');
}
