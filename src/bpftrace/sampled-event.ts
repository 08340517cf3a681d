// Decodes the sampled-event line that probes/*.bt printf: a "FLE1" header of
// key=value pairs on the first line, then the kernel stack, one frame a line.
// Pure; returns undefined for any text that is not such an event.

export type EventKind = 'inconsistent' | 'overrun';
const KINDS: Record<string, EventKind> = { '1': 'inconsistent', '2': 'overrun' };
const NUMERIC = ['ifindex', 'len', 'data_len', 'nr_frags', 'gso_size', 'gso_segs', 'gso_type', 'cloned', 'proto', 'sport', 'dport', 'cpu', 'pid'] as const;

export interface SampledEvent {
  kind: EventKind;
  /** the probe as bpftrace names it, e.g. tracepoint:net:netif_receive_skb_entry */
  probe: string;
  dev: string;
  skb: string;
  shinfo: string;
  frag_list: string;
  l3: string;
  src?: string;
  dst?: string;
  comm: string;
  /** kernel monotonic time of the event, ns (bpftrace nsecs) */
  ktime_ns: bigint;
  stack: string[];
  ifindex: number; len: number; data_len: number; nr_frags: number; gso_size: number; gso_segs: number;
  gso_type: number; cloned: number; proto: number; sport: number; dport: number; cpu: number; pid: number;
}

export function parseSampledEvent(text: string): SampledEvent | undefined {
  const [header, ...stackLines] = text.split('\n');
  if (!header.startsWith('FLE1 ')) return undefined;
  const f = new Map<string, string>();
  // comm is last but one and may contain spaces: take "comm=... ts=N" by position.
  const m = /^(.*) comm=(.*) ts=(\d+)$/.exec(header.slice(5));
  if (!m) return undefined;
  for (const pair of m[1].split(' ')) {
    const eq = pair.indexOf('=');
    if (eq > 0) f.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const kind = KINDS[f.get('kind') ?? ''];
  const probe = f.get('hook');
  if (!kind || !probe) return undefined;
  const nums = {} as Record<(typeof NUMERIC)[number], number>;
  for (const k of NUMERIC) {
    const v = Number(f.get(k) ?? 0);
    if (!Number.isFinite(v)) return undefined;
    nums[k] = v;
  }
  return {
    kind, probe,
    dev: f.get('dev') ?? '', skb: f.get('skb') ?? '', shinfo: f.get('shinfo') ?? '', frag_list: f.get('frag_list') ?? '',
    l3: f.get('l3') ?? 'other', src: f.get('src'), dst: f.get('dst'),
    comm: m[2], ktime_ns: BigInt(m[3]),
    stack: stackLines.map((s) => s.trim()).filter(Boolean),
    ...nums,
  };
}
