// What is dangerous, in one place: the pager (deploy/alerts.ts), watch's
// markers and serve's log level all ask here. The seed's INCONSISTENT state
// (a GSO skb with no frag_list, frags or paged data) is legal and routine on
// receive (virtio_net delivers linear GSO skbs on every download) and after
// every linearize; it crashes only where skb_segment runs on it. OVERRUN
// (data_len beyond frags and frag_list) is what skb_segment dereferences NULL
// on, wherever it is seen. SKB_GSO_FRAGLIST with a NULL frag_list crashes list
// segmentation on kernels without the 2024 fixes ("gso: fix udp/tcp fraglist
// segmentation after pull from frag_list"): at its entry it pages; seen
// elsewhere it pages on a kernel not known to have the fix (the skb is on its
// way to list segmentation, and a delay queue may hold it there for a while),
// and warns on a fixed one (something on this host makes what crashes others).

/** The hooks where INCONSISTENT means "about to crash": the seed's crash point. */
export const CRASH_POINT_HOOKS: readonly string[] = ['skb_segment'];
/** Where FRAGLIST without a list is about to be dereferenced (entry of the list segmenters). */
export const LIST_CRASH_POINT_HOOKS: readonly string[] = ['skb_segment_list_entry'];

/** PromQL label matchers on hook: at (or not at) the given hooks (the pager and the dashboards select by them). */
export const hookIn = (hooks: readonly string[]) => `hook=~"${hooks.join('|')}"`;
export const hookNotIn = (hooks: readonly string[]) => `hook!~"${hooks.join('|')}"`;

import { crashesOnFraglistWithoutList, type FraglistFixState } from '../kernel/fraglist-fix.js';

export type DangerLevel = 'critical' | 'warning' | 'none';

/**
 * `level`: how a person should read it (watch's markers, serve's log level). `alert`: what the shipped rules
 * raise for it (deploy/alerts.ts): a linear GSO skb away from the crash point is worth a [WARNING] marker to
 * someone watching, and no alert: it is legal there.
 */
export interface Danger { level: DangerLevel; alert: 'page' | 'warning' | 'none'; why: string }

export interface Observation {
  kind: string;
  hook: string;
  /** the skb is in the INCONSISTENT state (whatever the event kind) */
  inconsistent: boolean;
  overrun: boolean;
  fraglist_nolist: boolean;
}

/**
 * The most severe of what the skb's state means at this hook.
 * `listSegmentationCrashes`: this kernel is not known to have the 2024 fraglist
 * fix (src/kernel/fraglist-fix.ts), so FRAGLIST without a list is about to
 * crash it wherever it is seen: it will be segmented by skb_segment_list.
 */
export function danger(o: Observation, listSegmentationCrashes = false): Danger {
  const found: Danger[] = [];
  if (o.kind === 'overrun' || o.overrun) {
    found.push({ level: 'critical', alert: 'page', why: 'data_len claims more than the frags and frag_list hold: skb_segment dereferences NULL on it' });
  }
  if (o.kind === 'fraglist_nolist' || o.fraglist_nolist) {
    found.push(LIST_CRASH_POINT_HOOKS.includes(o.hook)
      ? { level: 'critical', alert: 'page', why: `SKB_GSO_FRAGLIST with a NULL frag_list at ${o.hook}: list segmentation dereferences the missing list (kernels without the 2024 fraglist fixes crash)` }
      : listSegmentationCrashes
        ? { level: 'critical', alert: 'page', why: `SKB_GSO_FRAGLIST with a NULL frag_list at ${o.hook}: this kernel is not known to have the 2024 fraglist fix, and crashes in skb_segment_list when it segments this skb` }
        : { level: 'warning', alert: 'warning', why: `SKB_GSO_FRAGLIST with a NULL frag_list at ${o.hook}: harmless on this kernel (it has the 2024 fraglist fix), a crash on one without it if it reaches list segmentation` });
  }
  if (o.kind === 'inconsistent' || o.inconsistent) {
    found.push(CRASH_POINT_HOOKS.includes(o.hook)
      ? { level: 'critical', alert: 'page', why: `INCONSISTENT at ${o.hook}, the crash point of the skb_segment reports` }
      : { level: 'warning', alert: 'none', why: `INCONSISTENT at ${o.hook}, not at a crash point: a linear GSO skb is legal here (virtio NICs deliver them, linearizing makes them); it matters only if it reaches skb_segment` });
  }
  return found.find((d) => d.level === 'critical') ?? found[0] ?? { level: 'none', alert: 'none', why: '' };
}

/** danger() of one host: what its kernel does with FRAGLIST without a list is known once, when the host is inspected. */
export type Judge = (o: Observation) => Danger;

export function judgeFor(fix: FraglistFixState): Judge {
  const listSegmentationCrashes = crashesOnFraglistWithoutList(fix);
  return (o) => danger(o, listSegmentationCrashes);
}
