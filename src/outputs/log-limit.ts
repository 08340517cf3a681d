// Keeps repeated log lines from flooding the log (a bpftrace printing garbage,
// a storm of sampled events): per key, `burst` lines per window, and the next
// line that passes says how many were held back. The counters stay exact; only
// the log is thinned.
const MAX_KEYS = 256;

export class LogLimiter {
  private readonly keys = new Map<string, { start: number; used: number; held: number }>();
  constructor(private readonly burst: number, private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /** undefined: hold this line back; else log it, with this many held back before it. */
  take(key: string): number | undefined {
    const t = this.now();
    let k = this.keys.get(key);
    if (!k || t - k.start >= this.windowMs) {
      if (!k && this.keys.size >= MAX_KEYS) this.forgetExpired(t);
      k = { start: t, used: 0, held: k?.held ?? 0 };
      this.keys.set(key, k);
    }
    if (k.used >= this.burst) { k.held++; return undefined; }
    k.used++;
    const held = k.held;
    k.held = 0;
    return held;
  }

  private forgetExpired(t: number): void {
    for (const [key, k] of this.keys) if (t - k.start >= this.windowMs && k.held === 0) this.keys.delete(key);
    if (this.keys.size >= MAX_KEYS) this.keys.clear();
  }
}
