// A crash record joined with the agent's last words: the last critical event
// the agent heard in the boot that crashed, shortly before the crash. Pure.
import { WRITER_CALLS } from '../probes/program.js';
import { CRASH_STATE_NAMES, type CrashState, type LastWord } from './last-words.js';
import type { Oops } from './oops.js';

/** A word older than this before the crash is not its cause (a delay queue holds skbs seconds, not minutes). */
export const JOIN_WINDOW_MS = 5 * 60_000;
/** The culprit of a crash the agent heard nothing before. */
export const UNKNOWN_CULPRIT = 'unknown';

/** Words this close to the newest are one burst: the same skbs seen at nested writers' returns. */
export const BURST_MS = 1000;

/**
 * The boot that crashed is the one of the newest word written before the
 * crash (each run writes a start word, so a boot whose agent heard nothing is
 * still known); its critical words within JOIN_WINDOW_MS are the candidates.
 * Of the last burst, the word of the outermost writer is the one: a helper a
 * BPF program called (bpf_skb_pull_data) rather than the pull inside it
 * (__skb_linearize), whichever of the two sampling let through last.
 */
export function lastWordBefore(crashMs: number, words: readonly LastWord[]): LastWord | undefined {
  const before = words.filter((w) => w.t <= crashMs).sort((a, b) => a.t - b.t);
  const crashedBoot = before.at(-1)?.boot;
  const heard = before.filter((w) => w.boot === crashedBoot && w.kind !== 'start' && crashMs - w.t <= JOIN_WINDOW_MS);
  const newest = heard.at(-1);
  if (!newest) return undefined;
  const burst = heard.filter((w) => newest.t - w.t <= BURST_MS);
  const calledByAnother = (w: LastWord) => burst.some((o) => o.culprit !== w.culprit && WRITER_CALLS.get(o.culprit ?? '')?.has(w.culprit ?? ''));
  return burst.filter((w) => !calledByAnother(w)).at(-1) ?? newest;
}

/**
 * One line for a page and a dashboard, e.g. "crashed in __udp_gso_segment 1.6 s after
 * FRAGLIST without a list at bpf_skb_pull_data (culprit bpf_skb_pull_data, 198.18.14.1:40000 -> 198.18.15.2:6001)".
 */
export function crashSummary(oops: Pick<Oops, 'class' | 'function' | 'rip'>, crashMs: number, word: LastWord | undefined): string {
  if (oops.class === 'other') return `crashed in ${oops.rip?.function ?? 'an unknown function'}, not in GSO segmentation`;
  if (!word) return `crashed in ${oops.function}; the agent heard no critical skb before it (culprit ${UNKNOWN_CULPRIT})`;
  const after = ((crashMs - word.t) / 1000).toFixed(1);
  const flow = word.flow ? `, ${word.flow}` : '';
  return `crashed in ${oops.function} ${after} s after ${CRASH_STATE_NAMES[word.kind as CrashState]} at ${word.hook} (culprit ${word.culprit}${flow})`;
}
