// When each crash-state series last rose, by the agent's clock. The pages read
// these (deploy/alerts.ts): "rose in the last 10 minutes" is then one instant
// comparison of the few series that exist, the same in every rule engine,
// where a counter's rise needs a window read of every host's series.
// A series exists from its first rise: no entry, no rise since the agent started.
export class LastRise {
  private readonly byName = new Map<string, Map<string, number>>();

  /** `labels` of counter `name` rose at `seconds` */
  rose(name: string, labels: readonly string[], seconds: number): void {
    if (!labels.length) return;
    let m = this.byName.get(name);
    if (!m) this.byName.set(name, (m = new Map()));
    for (const label of labels) m.set(label, seconds);
  }

  /** the series of counter `name` that have risen, with when they last did */
  series(name: string): Array<[label: string, seconds: number]> {
    return [...(this.byName.get(name) ?? [])];
  }
}
