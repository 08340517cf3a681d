// A probe mode is one bpftrace program in probes/ plus what it can see. What a
// mode attaches on this kernel comes from the kernel: the tracepoints it has,
// the functions it has.
import type { FunctionStatus } from './kernel/host.js';
import {
  COUNTER_MAPS, CULPRIT_UNSEEN, FUNCTION_HOOKS, HEADER_INCLUDES, HOOK_LABELS, kernelFunctionProgram, TRACEPOINT_HOOK, tracepointProgram,
} from './probes/program.js';

export type ModeName = 'tracepoint' | 'kprobe' | 'fentry';
/** best first: what `--mode auto` tries */
export const MODE_NAMES: readonly ModeName[] = ['fentry', 'kprobe', 'tracepoint'];

/** Which of frag_list_events_total{event} a mode can produce. */
export type EventName = 'create' | 'clear' | 'modify' | 'access' | 'inconsistent';

export interface Mode {
  name: ModeName;
  events: readonly EventName[];
  /** the counter maps its program keeps */
  counters: readonly string[];
  /** what this mode cannot see, for doctor, logs and the landing page */
  blindSpots: string;
  /** hook ids as the program prints them -> labels (kernel-function modes) */
  hookLabels?: readonly string[];
}

/** What a mode attaches on this kernel, and the program text that does it. */
export interface ModePlan {
  mode: Mode;
  /** generated for this kernel's tracepoints or functions */
  program: { text: string };
  hooks: string[];
  /** hooks of the mode that are not attached; inKernel: the kernel has the function (a failure) or not (nothing to see) */
  unattached: Array<{ hook: string; why: string; inKernel: boolean }>;
}

const KERNEL_FUNCTION_EVENTS: readonly EventName[] = ['create', 'clear', 'modify', 'access', 'inconsistent'];
const KERNEL_FUNCTION_BLIND =
  'sees frag_list change inside the kernel functions that write it, and the skb at skb_segment; skbs that never pass these functions are not inspected';

export const MODES: Record<ModeName, Mode> = {
  fentry: { name: 'fentry', events: KERNEL_FUNCTION_EVENTS, counters: COUNTER_MAPS.fentry, blindSpots: KERNEL_FUNCTION_BLIND, hookLabels: HOOK_LABELS },
  kprobe: { name: 'kprobe', events: KERNEL_FUNCTION_EVENTS, counters: COUNTER_MAPS.kprobe, blindSpots: KERNEL_FUNCTION_BLIND, hookLabels: HOOK_LABELS },
  tracepoint: {
    name: 'tracepoint', events: ['inconsistent'], counters: COUNTER_MAPS.tracepoint,
    blindSpots: 'sees skbs only as they enter the stack and at transmit after software GSO: no frag_list transitions ' +
      '(CREATE/CLEAR/MODIFY/ACCESS), and never the skb that reaches skb_segment',
  },
};

/** A map key as the program printed it -> hook label. */
export function hookName(mode: Mode, key: string): string {
  if (mode.hookLabels && /^\d+$/.test(key)) return mode.hookLabels[Number(key)] ?? key;
  return key.slice(key.lastIndexOf(':') + 1); // "tracepoint:net:netif_rx_entry" -> "netif_rx_entry"
}

/** The culprit label of an skb no hooked writer was seen changing (tracepoint mode hooks no writers: always this). */
export const UNSEEN = 'unseen';

/** A culprit id as the program printed it -> its hook label, UNSEEN, or undefined for an id no program prints. */
export function culpritName(mode: Mode, key: string): string | undefined {
  if (key === String(CULPRIT_UNSEEN)) return UNSEEN;
  return mode.hookLabels && /^\d{1,3}$/.test(key) ? mode.hookLabels[Number(key)] : undefined;
}

/**
 * The tracepoint program for the net tracepoints this kernel has
 * (probes/tracepoint.bt is the same program for bookworm's and trixie's).
 * `typesFromHeaders`: bpftrace reads kernel types from the kernel's headers (no usable BTF), so the program includes them.
 */
export function tracepointPlan(netTracepoints: readonly string[], typesFromHeaders = false): ModePlan {
  const hooks = netTracepoints.filter((tp) => TRACEPOINT_HOOK.test(tp)).sort();
  const text = (typesFromHeaders ? HEADER_INCLUDES : '') + tracepointProgram(hooks);
  return { mode: MODES.tracepoint, program: { text }, hooks, unattached: [] };
}

/** The kprobe or fentry program less the functions this kernel lacks. */
export function kernelFunctionPlan(name: 'kprobe' | 'fentry', functions: readonly FunctionStatus[], typesFromHeaders = false): ModePlan {
  const status = new Map(functions.map((f) => [f.name, f]));
  const missing = new Map<string, { why: string; inKernel: boolean }>();
  for (const h of FUNCTION_HOOKS) {
    const f = status.get(h.fn);
    if (!f || !f.inKallsyms) missing.set(h.fn, { why: 'not in this kernel (absent or inlined)', inKernel: false });
    else if (f.traceable === false) missing.set(h.fn, { why: 'not traceable (notrace)', inKernel: true });
  }
  // generated for this kernel's functions (probes/NAME.bt is the same program with every hook, for reading)
  const text = kernelFunctionProgram(name, (fn) => !missing.has(fn), typesFromHeaders);
  const hooks: string[] = [], unattached: ModePlan['unattached'] = [];
  for (const h of FUNCTION_HOOKS) {
    for (const label of h.labels) {
      const m = missing.get(h.fn);
      if (m) unattached.push({ hook: label, why: `${h.fn}: ${m.why}`, inKernel: m.inKernel }); else hooks.push(label);
    }
  }
  return { mode: MODES[name], program: { text }, hooks, unattached };
}
