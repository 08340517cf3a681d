// The crash-state counters are kept per hook and culprit (CULPRIT_KEYED_MAPS
// in src/probes/program.ts); Counters names a series by one label string.
// This joins and splits that string, and sums a counter per hook. Pure.
import type { Counters } from './counters.js';

/** Hook and culprit labels are words (kernel symbols, tracepoint names): a tab is in neither. */
const SEP = '\t';

export const hookCulpritLabel = (hook: string, culprit: string): string => `${hook}${SEP}${culprit}`;

/** A series label -> its hook, and its culprit for a crash-state counter. */
export function splitLabel(label: string): { hook: string; culprit?: string } {
  const at = label.indexOf(SEP);
  return at < 0 ? { hook: label } : { hook: label.slice(0, at), culprit: label.slice(at + 1) };
}

/** A counter's totals per hook, whatever else its series are split by. */
export function perHook(counters: Counters, name: string): Array<[hook: string, total: number]> {
  const totals = new Map<string, number>();
  for (const [label, v] of counters.series(name)) {
    const { hook } = splitLabel(label);
    totals.set(hook, (totals.get(hook) ?? 0) + v);
  }
  return [...totals];
}
