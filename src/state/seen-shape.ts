// @seen[hook, shape] -> the counters inspected, gso and with_frag_list, each
// by hook key. The programs make one map update per skb (the hot path); the
// three counters are sums over the shape bits here.
import { SEEN_SHAPE, type SEEN_COUNTERS } from '../probes/program.js';

export type SeenCounter = (typeof SEEN_COUNTERS)[number];

export interface SeenSplit {
  /** counter -> hook key as printed -> value */
  counters: Record<SeenCounter, Map<string, number>>;
  /** keys that are not "hook,shape" with a shape the programs print */
  rejected: string[];
}

const ALL_SHAPE_BITS = SEEN_SHAPE.gso | SEEN_SHAPE.withFragList;

export function splitSeen(values: ReadonlyMap<string, number>): SeenSplit {
  const out: SeenSplit = { counters: { inspected: new Map(), gso: new Map(), with_frag_list: new Map() }, rejected: [] };
  const add = (m: Map<string, number>, hook: string, v: number) => m.set(hook, (m.get(hook) ?? 0) + v);
  for (const [key, v] of values) {
    const comma = key.lastIndexOf(',');
    const digits = comma < 0 ? '' : key.slice(comma + 1);
    // the range check first: the bit test alone would read 4294967297 as 1 (bitwise operators take 32 bits)
    const shape = /^\d+$/.test(digits) ? Number(digits) : NaN;
    if (!(shape <= ALL_SHAPE_BITS) || (shape & ~ALL_SHAPE_BITS) !== 0) {
      out.rejected.push(key);
      continue;
    }
    const hook = key.slice(0, comma);
    add(out.counters.inspected, hook, v);
    if (shape & SEEN_SHAPE.gso) add(out.counters.gso, hook, v);
    if (shape & SEEN_SHAPE.withFragList) add(out.counters.with_frag_list, hook, v);
  }
  return out;
}
