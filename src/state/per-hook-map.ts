// Tracepoint mode's counts of passing skbs arrive as maps without a key, one
// per shape and tracepoint (@shape1__net_dev_start_xmit): the map's name
// carries what @seen (the kernel-function modes) carries in its key, the hook
// and the shape (src/probes/program.ts, perHookMap).
import { PER_HOOK_SEPARATOR, SEEN_SHAPES } from '../probes/program.js';

const SHAPE_NAMES: ReadonlyMap<string, number> = new Map(SEEN_SHAPES.map((shape) => [`shape${shape}`, shape]));

/** A map's name (without @) -> its hook and shape; undefined for a name no program gives a per-hook map. */
export function splitPerHookMap(name: string): { hook: string; shape: number } | undefined {
  const at = name.indexOf(PER_HOOK_SEPARATOR);
  const shape = at < 0 ? undefined : SHAPE_NAMES.get(name.slice(0, at));
  const hook = name.slice(at + PER_HOOK_SEPARATOR.length);
  return shape !== undefined && hook ? { hook, shape } : undefined;
}

/**
 * The latest value of each per-hook map in this bpftrace run. A hook's values
 * come back keyed as @seen's are ("hook,shape"), so that one function
 * (splitSeen) sums both into the counters. A new run starts empty: its maps
 * start at zero.
 */
export class PerHookSeen {
  private readonly byHook = new Map<string, Map<string, number>>();

  /** Records one map's value; returns its hook's values so far. */
  set(map: { hook: string; shape: number }, value: number): ReadonlyMap<string, number> {
    let values = this.byHook.get(map.hook);
    if (!values) this.byHook.set(map.hook, (values = new Map()));
    values.set(`${map.hook},${map.shape}`, value);
    return values;
  }

  clear(): void {
    this.byHook.clear();
  }
}
