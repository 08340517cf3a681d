// Decodes the sampled-event line the probe programs printf (src/probes/program.ts):
// a "FLE2" header of key=value pairs on the first line, then the kernel stack,
// one frame a line. Pure; returns undefined for any text that is not such an event.
import { KIND } from '../probes/program.js';

export type EventKind = keyof typeof KIND;
const KIND_BY_NUMBER = new Map(Object.entries(KIND).map(([k, v]) => [String(v), k as EventKind]));
const NUMERIC = ['ifindex', 'len', 'data_len', 'nr_frags', 'gso_size', 'gso_segs', 'gso_type', 'cloned', 'ethertype', 'proto', 'sport', 'dport', 'cpu', 'pid'] as const;

export interface SampledEvent {
  kind: EventKind;
  /** the skb is also in the INCONSISTENT / OVERRUN state */
  inconsistent: boolean;
  overrun: boolean;
  /** the hook as printed: a tracepoint's probe name, or a kernel-function hook id */
  hook: string;
  dev: string;
  skb: string;
  shinfo: string;
  /** frag_list before (at a writer's entry) and after (now) */
  frag_list_before: string;
  frag_list: string;
  /** gso_size and gso_type before a writer ran */
  gso_size_before: number;
  gso_type_before: number;
  l3: 'ipv4' | 'ipv6' | 'other';
  src?: string;
  dst?: string;
  comm: string;
  /** kernel monotonic time of the event, ns (bpftrace nsecs) */
  ktime_ns: bigint;
  stack: string[];
  ifindex: number; len: number; data_len: number; nr_frags: number; gso_size: number; gso_segs: number;
  gso_type: number; cloned: number; ethertype: number; proto: number; sport: number; dport: number; cpu: number; pid: number;
}

export function parseSampledEvent(text: string): SampledEvent | undefined {
  const [header, ...stackLines] = text.split('\n');
  if (!header.startsWith('FLE2 ')) return undefined;
  // comm is last but one and may contain spaces: take "comm=... ts=N" by position.
  const m = /^(.*) comm=(.*) ts=(\d+)$/.exec(header.slice(5));
  if (!m) return undefined;
  const f = new Map<string, string>();
  for (const pair of m[1].split(' ')) {
    const eq = pair.indexOf('=');
    if (eq > 0) f.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const kind = KIND_BY_NUMBER.get(f.get('kind') ?? '');
  const hook = f.get('hook');
  if (!kind || !hook) return undefined;
  const nums = {} as Record<(typeof NUMERIC)[number], number>;
  for (const k of NUMERIC) {
    const v = Number(f.get(k) ?? NaN);
    if (!Number.isFinite(v)) return undefined;
    nums[k] = v;
  }
  const crit = Number(f.get('crit') ?? 0);
  const gsoBefore = BigInt(f.get('gso_before') ?? '0');
  const l3 = nums.ethertype === 0x0800 ? 'ipv4' : nums.ethertype === 0x86dd ? 'ipv6' : 'other';
  return {
    kind, hook, inconsistent: (crit & 1) !== 0, overrun: (crit & 2) !== 0,
    dev: f.get('dev') ?? '', skb: f.get('skb') ?? '', shinfo: f.get('shinfo') ?? '',
    frag_list_before: f.get('before') ?? '0x0', frag_list: f.get('after') ?? '0x0',
    gso_size_before: Number(gsoBefore >> 32n), gso_type_before: Number(gsoBefore & 0xffffffffn),
    l3, ...(l3 === 'other' ? {} : { src: address(l3, f.get('a')), dst: address(l3, f.get('b')) }),
    comm: m[2], ktime_ns: BigInt(m[3]),
    stack: stackLines.map((s) => s.trim()).filter(Boolean),
    ...nums,
  };
}

/**
 * An address from the words the probe read from the packet on a little-endian
 * host ("lo:hi" in hex): IPv4 is the low 32 bits of lo; IPv6 is lo then hi.
 */
export function address(l3: 'ipv4' | 'ipv6', words: string | undefined): string | undefined {
  const [lo, hi] = (words ?? '').split(':').map((w) => BigInt(`0x${w || '0'}`));
  if (lo === undefined) return undefined;
  const bytes = (v: bigint, n: number) => Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  if (l3 === 'ipv4') return bytes(lo, 4).join('.');
  const b = [...bytes(lo, 8), ...bytes(hi ?? 0n, 8)];
  const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
  // the longest run of two or more zero groups becomes "::" (RFC 5952)
  let best = [-1, 0], run = [-1, 0];
  groups.forEach((g, i) => {
    if (g === '0') { run = run[0] < 0 ? [i, 1] : [run[0], run[1] + 1]; if (run[1] > best[1]) best = [...run]; }
    else run = [-1, 0];
  });
  if (best[1] < 2) return groups.join(':');
  return `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0] + best[1]).join(':')}`;
}
