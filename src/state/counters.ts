// The one owner of counters. Each bpftrace process starts its maps at zero;
// the totals of earlier processes are carried forward here so that every
// exported counter is monotonic across restarts.

const keyOf = (name: string, label: string) => `${name}\u0000${label}`;

export class Counters {
  /** totals of finished bpftrace runs, plus agent-side increments */
  private readonly carried = new Map<string, number>();
  /** the running bpftrace's latest map values */
  private readonly running = new Map<string, number>();
  private readonly labelsByName = new Map<string, Set<string>>();
  /** rises with every change to a value or a series; readers re-read only when it moved */
  version = 0;

  /** Makes a series exist at 0, so that increase() sees its first event. */
  ensure(name: string, label = ''): void {
    let labels = this.labelsByName.get(name);
    if (!labels) this.labelsByName.set(name, (labels = new Set()));
    if (!labels.has(label)) { labels.add(label); this.version++; }
  }

  /**
   * Takes a bpftrace map's current values. A value below the last one seen means
   * the map restarted within the run (cleared): carry the old value forward.
   * Returns the labels whose total rose.
   */
  observe(name: string, values: ReadonlyMap<string, number>): string[] {
    const rose: string[] = [];
    for (const [label, value] of values) {
      this.ensure(name, label);
      const k = keyOf(name, label);
      const before = this.running.get(k) ?? 0;
      if (value < before) this.carried.set(k, (this.carried.get(k) ?? 0) + before);
      if (value !== before) { this.running.set(k, value); this.version++; }
      if (value > before || (value < before && value > 0)) rose.push(label);
    }
    return rose;
  }

  /** Adds to a counter the agent itself keeps (lost events, restarts, ...). */
  add(name: string, label = '', n = 1): void {
    this.ensure(name, label);
    const k = keyOf(name, label);
    this.carried.set(k, (this.carried.get(k) ?? 0) + n);
    this.version++;
  }

  /** A new bpftrace run starts from zero: fold what the last one counted. */
  newRun(): void {
    for (const [k, v] of this.running) this.carried.set(k, (this.carried.get(k) ?? 0) + v);
    this.running.clear();
    this.version++;
  }

  get(name: string, label = ''): number {
    const k = keyOf(name, label);
    return (this.carried.get(k) ?? 0) + (this.running.get(k) ?? 0);
  }

  /** Every known series of a counter, zeros included. */
  series(name: string): Array<[label: string, total: number]> {
    return [...(this.labelsByName.get(name) ?? [])].map((label) => [label, this.get(name, label)]);
  }

  sum(name: string): number {
    return this.series(name).reduce((s, [, v]) => s + v, 0);
  }
}
