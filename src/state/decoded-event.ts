// A sampled event as people read it (/events, logs, watch rows): the hook by
// its label, GSO flags by name, the time it arrived. Pure.
import type { SampledEvent } from '../bpftrace/sampled-event.js';
import { decodeGsoType, type GsoTable } from '../kernel/gso.js';

export interface DecodedEvent extends Omit<SampledEvent, 'hookKey' | 'ktime_ns'> {
  /** the hook label: the kernel function (or __skb_linearize), or the tracepoint */
  hook: string;
  gso_type_names: string;
  gso_type_before_names: string;
  /** when the agent received it (bpftrace prints as it happens) */
  time: string;
  ktime_ns: string;
}

export function decodeEvent(e: SampledEvent, hook: string, gsoNames: GsoTable, nowMs: number): DecodedEvent {
  const { hookKey: _printed, ...fields } = e;
  return {
    ...fields, hook,
    gso_type_names: decodeGsoType(e.gso_type, gsoNames), gso_type_before_names: decodeGsoType(e.gso_type_before, gsoNames),
    time: new Date(nowMs).toISOString(), ktime_ns: e.ktime_ns.toString(),
  };
}
