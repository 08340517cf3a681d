// What is dangerous, in one place: the pager (deploy/alerts.ts), watch's
// markers and serve's log level all ask here. The seed's INCONSISTENT state
// (a GSO skb with no frag_list, frags or paged data) is legal and routine on
// receive (virtio_net delivers linear GSO skbs on every download) and after
// every linearize; it crashes only where skb_segment runs on it. OVERRUN
// (data_len beyond frags and frag_list) is what skb_segment dereferences NULL
// on, wherever it is seen.

/** The hooks where INCONSISTENT means "about to crash": the seed's crash point. */
export const CRASH_POINT_HOOKS: readonly string[] = ['skb_segment'];

export type DangerLevel = 'critical' | 'warning' | 'none';

export interface Danger { level: DangerLevel; why: string }

export interface Observation {
  kind: string;
  hook: string;
  /** the skb is in the INCONSISTENT state (whatever the event kind) */
  inconsistent: boolean;
  overrun: boolean;
}

export function danger(o: Observation): Danger {
  if (o.kind === 'overrun' || o.overrun) {
    return { level: 'critical', why: 'data_len claims more than the frags and frag_list hold: skb_segment dereferences NULL on it' };
  }
  if (o.kind === 'inconsistent' || o.inconsistent) {
    return CRASH_POINT_HOOKS.includes(o.hook)
      ? { level: 'critical', why: `INCONSISTENT at ${o.hook}, the crash point of the skb_segment reports` }
      : { level: 'warning', why: `INCONSISTENT at ${o.hook}, not at a crash point: a linear GSO skb is legal here (virtio NICs deliver them, linearizing makes them); it matters only if it reaches skb_segment` };
  }
  return { level: 'none', why: '' };
}
