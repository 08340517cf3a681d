// A sampled event as people read it (/events, logs, watch rows): the hook by
// its label, GSO flags by name, the time it arrived. Pure.
import type { SampledEvent } from '../bpftrace/sampled-event.js';
import { decodeGsoType, type GsoTable } from '../kernel/gso.js';
import { UNSEEN } from '../modes.js';

export interface DecodedEvent extends Omit<SampledEvent, 'hookKey' | 'ktime_ns' | 'culpritKey' | 'culprit_ktime_ns' | 'culprit_stack'> {
  /** the hook label: the kernel function (or __skb_linearize), or the tracepoint */
  hook: string;
  /** the hooked writer that last cleared its frag_list or changed its GSO fields, or "unseen"; with when and its stack then */
  culprit: string;
  /** ns between the culprit's write and this event (absent when unseen) */
  culprit_age_ns?: string;
  culprit_stack?: string[];
  gso_type_names: string;
  gso_type_before_names: string;
  /** when the agent received it (bpftrace prints as it happens) */
  time: string;
  ktime_ns: string;
}

const CULPRIT_TIME_MASK = (1n << 56n) - 1n;

export function decodeEvent(e: SampledEvent, hook: string, culprit: string, gsoNames: GsoTable, nowMs: number): DecodedEvent {
  const { hookKey: _printed, culpritKey: _culprit, culprit_ktime_ns: culpritNs, culprit_stack: culpritStack, ...fields } = e;
  // the program prints some slot's stack whatever the culprit: only a culprit's own is kept;
  // it keeps the culprit's time modulo 2^56 ns
  const age = (e.ktime_ns - culpritNs) & CULPRIT_TIME_MASK;
  return {
    ...fields, hook, culprit,
    ...(culprit !== UNSEEN ? { culprit_age_ns: age.toString(), culprit_stack: culpritStack } : {}),
    gso_type_names: decodeGsoType(e.gso_type, gsoNames), gso_type_before_names: decodeGsoType(e.gso_type_before, gsoNames),
    time: new Date(nowMs).toISOString(), ktime_ns: e.ktime_ns.toString(),
  };
}
