// Tracepoint mode's counters of passing skbs arrive as maps without a key, one
// per counter and tracepoint (@inspected__net_dev_start_xmit): the map's name
// carries the counter and the hook (src/probes/program.ts, perHookMap).
import { PER_HOOK_SEPARATOR, SEEN_COUNTERS } from '../probes/program.js';
import type { SeenCounter } from './seen-shape.js';

/** A map's name (without @) -> its counter and hook; undefined for a name no program gives a per-hook map. */
export function splitPerHookMap(name: string): { counter: SeenCounter; hook: string } | undefined {
  const at = name.indexOf(PER_HOOK_SEPARATOR);
  if (at < 0) return undefined;
  const counter = name.slice(0, at);
  const hook = name.slice(at + PER_HOOK_SEPARATOR.length);
  if (!(SEEN_COUNTERS as readonly string[]).includes(counter) || !hook) return undefined;
  return { counter: counter as SeenCounter, hook };
}
