// Decodes the sampled-event record the probe programs printf
// (src/probes/event-line.ts has the layout and why it cannot be forged). Every
// field is validated; pure, never throws: any text that is not such an event
// gives the reason it is not.
import { COMM_MARK, CULPRIT_STACK_MARK, EVENT_FIELDS, EVENT_MAGIC, type EventField, type FieldFormat } from '../probes/event-line.js';
import { KIND } from '../probes/program.js';

export type EventKind = keyof typeof KIND;
const KIND_BY_NUMBER = new Map(Object.entries(KIND).map(([k, v]) => [String(v), k as EventKind]));
const NUMERIC = ['ifindex', 'len', 'data_len', 'nr_frags', 'gso_size', 'gso_segs', 'gso_type', 'cloned', 'ethertype', 'proto', 'sport', 'dport', 'cpu', 'pid'] as const;

export interface SampledEvent {
  kind: EventKind;
  /** the skb is also in the INCONSISTENT / OVERRUN / FRAGLIST-without-list state */
  inconsistent: boolean;
  overrun: boolean;
  fraglist_nolist: boolean;
  /** the hook as the program printed it: a tracepoint's probe name, or a kernel-function hook id */
  hookKey: string;
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
  /** the writer remembered for this skb, as the program printed it (a hook id, or CULPRIT_UNSEEN) */
  culpritKey: string;
  /** when it wrote (kernel monotonic ns; 0 when unseen), and its stack then */
  culprit_ktime_ns: bigint;
  culprit_stack: string[];
  ifindex: number; len: number; data_len: number; nr_frags: number; gso_size: number; gso_segs: number;
  gso_type: number; cloned: number; ethertype: number; proto: number; sport: number; dport: number; cpu: number; pid: number;
}

const VALUE: Record<FieldFormat, RegExp> = {
  dec: /^\d{1,15}$/, ns: /^\d{1,20}$/, ptr: /^0x[0-9a-f]{1,16}$/, words: /^[0-9a-f]{1,16}:[0-9a-f]{1,16}$/, hook: /^[\w:.]{1,128}$/,
};
/** TASK_COMM_LEN - 1 bytes; a byte that is not UTF-8 arrives as one U+FFFD */
const COMM_MAX = 15;
/** IFNAMSIZ - 1 */
const DEV_MAX = 15;
/** "sym+off", "sym+off [module]" or a bare address, as bpftrace prints frames */
const FRAME = /^[^\s=]{1,256}(?: \[[^\s\]]{1,64}\])?$/;

export type ParsedEvent = { ok: true; event: SampledEvent } | { ok: false; reason: string };

export function parseSampledEvent(text: string): ParsedEvent {
  const headerEnd = text.indexOf('\n');
  const header = headerEnd < 0 ? text : text.slice(0, headerEnd);
  if (!header.startsWith(`${EVENT_MAGIC} `)) return fail('not a sampled event');
  const f = new Map<EventField, string>();
  let at = EVENT_MAGIC.length + 1;
  for (const [name, format] of EVENT_FIELDS) {
    const key = `${name}=`;
    if (!header.startsWith(key, at)) return fail(`expected ${name}= at column ${at}`);
    const space = header.indexOf(' ', at);
    if (space < 0) return fail(`truncated at ${name}`);
    const value = header.slice(at + key.length, space);
    if (!VALUE[format].test(value)) return fail(`bad ${name}`);
    f.set(name, value);
    at = space + 1;
  }
  if (!header.startsWith('dev=', at)) return fail('expected dev=');
  const dev = header.slice(at + 4);
  if (dev.length > DEV_MAX) return fail('bad dev');
  if (headerEnd < 0) return fail('no stack and comm');
  const commAt = text.indexOf(COMM_MARK, headerEnd);
  if (commAt < 0) return fail('no comm');
  const comm = text.slice(commAt + COMM_MARK.length);
  if ([...comm].length > COMM_MAX) return fail('bad comm');
  const culpritAt = text.indexOf(CULPRIT_STACK_MARK, headerEnd);
  if (culpritAt < 0 || culpritAt > commAt) return fail('no culprit stack');
  const stack = frames(text.slice(headerEnd + 1, culpritAt));
  const culpritStack = frames(text.slice(culpritAt + CULPRIT_STACK_MARK.length, commAt));
  if (!stack || !culpritStack) return fail('bad stack frame');

  const kind = KIND_BY_NUMBER.get(f.get('kind')!);
  if (!kind) return fail('unknown kind');
  const nums = {} as Record<(typeof NUMERIC)[number], number>;
  for (const k of NUMERIC) nums[k] = Number(f.get(k));
  const crit = Number(f.get('crit'));
  const gsoBefore = BigInt(f.get('gso_before')!);
  const l3 = nums.ethertype === 0x0800 ? 'ipv4' : nums.ethertype === 0x86dd ? 'ipv6' : 'other';
  return {
    ok: true,
    event: {
      kind, hookKey: f.get('hook')!, inconsistent: (crit & 1) !== 0, overrun: (crit & 2) !== 0, fraglist_nolist: (crit & 4) !== 0,
      dev, skb: f.get('skb')!, shinfo: f.get('shinfo')!, frag_list_before: f.get('before')!, frag_list: f.get('after')!,
      gso_size_before: Number(gsoBefore >> 32n), gso_type_before: Number(gsoBefore & 0xffffffffn),
      l3, ...(l3 === 'other' ? {} : { src: address(l3, f.get('a')!), dst: address(l3, f.get('b')!) }),
      comm, ktime_ns: BigInt(f.get('ts')!), stack, ...nums,
      culpritKey: f.get('culprit')!, culprit_ktime_ns: BigInt(f.get('culprit_ts')!), culprit_stack: culpritStack,
    },
  };
}

const fail = (reason: string): ParsedEvent => ({ ok: false, reason });

/** A kernel stack as bpftrace prints it, one frame a line; undefined if a line is not a frame. */
function frames(text: string): string[] | undefined {
  const lines = text.split('\n').map((s) => s.trim()).filter(Boolean);
  return lines.every((s) => FRAME.test(s)) ? lines : undefined;
}

/**
 * An address from the words the probe read from the packet on a little-endian
 * host ("lo:hi" in hex): IPv4 is the low 32 bits of lo; IPv6 is lo then hi.
 */
export function address(l3: 'ipv4' | 'ipv6', words: string): string {
  const [lo, hi] = words.split(':').map((w) => BigInt(`0x${w || '0'}`));
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
