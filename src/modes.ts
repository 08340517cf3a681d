// A probe mode is one bpftrace program in probes/ plus what it can see.
// The hooks a mode has on this kernel are read from the program's own attach
// lines, so the program stays the one source of truth.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type ModeName = 'tracepoint' | 'kprobe' | 'fentry';
export const MODE_NAMES: readonly ModeName[] = ['fentry', 'kprobe', 'tracepoint'];

/** Which of frag_list_events_total{event} a hook can produce. */
export type EventName = 'create' | 'clear' | 'modify' | 'access' | 'inconsistent';

export interface Mode {
  name: ModeName;
  programPath: string;
  /** events each hook of this mode can produce */
  events: readonly EventName[];
  /** what this mode cannot see, for doctor and the landing page */
  blindSpots: string;
}

export const PROBES_DIR = fileURLToPath(new URL('../../probes/', import.meta.url));

export const TRACEPOINT_MODE: Mode = {
  name: 'tracepoint',
  programPath: `${PROBES_DIR}tracepoint.bt`,
  events: ['inconsistent'],
  blindSpots:
    'sees skbs only as they enter the stack and at transmit after software GSO: no frag_list transitions ' +
    '(CREATE/CLEAR/MODIFY/ACCESS), and never the skb that reaches skb_segment',
};

/** The modes this version has programs for, best first. */
export const IMPLEMENTED_MODES: readonly Mode[] = [TRACEPOINT_MODE];

/** "tracepoint:net:netif_receive_skb_entry" -> "netif_receive_skb_entry" */
export function hookOf(probe: string): string {
  return probe.slice(probe.lastIndexOf(':') + 1);
}

/** The tracepoint attach patterns of a program, e.g. ["net:netif_rx*_entry", ...]. */
export function tracepointPatterns(programText: string): string[] {
  const text = programText.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...text.matchAll(/tracepoint:([\w*]+:[\w*]+)/g)].map((m) => m[1]);
}

/** Hooks of a tracepoint program on a kernel with these net tracepoints. */
export function tracepointHooks(mode: Mode, netTracepoints: readonly string[]): string[] {
  const regexes = tracepointPatterns(readFileSync(mode.programPath, 'utf8'))
    .filter((p) => p.startsWith('net:'))
    .map((p) => new RegExp(`^${p.slice(4).replace(/\*/g, '.*')}$`));
  return netTracepoints.filter((tp) => regexes.some((r) => r.test(tp))).sort();
}
