// The one place that builds a bpftrace command line. Every value reaches the
// program as a positional parameter ($1, $2, ...; see the table at the top of
// probes/*.bt), never pasted into program text.
import { isIP } from 'node:net';
import type { InterfaceId } from '../kernel/interface.js';
import type { FragLayout } from '../kernel/layout.js';

/**
 * The filters as the probes compare them: the interface resolved to its
 * ifindex and network namespace (config.ts's ServeFilters names it).
 */
export interface KernelFilters {
  gsoOnly: boolean;
  srcIp?: string;
  dstIp?: string;
  interfaceId?: InterfaceId;
}

export interface TracerArgs {
  /** a program file, or a program's text (kernel-function modes leave out what the kernel lacks) */
  program: { path: string } | { text: string };
  printIntervalSeconds: number;
  sampleRatePerSecond: number;
  layout: FragLayout;
  filters: KernelFilters;
  /** SKB_GSO_FRAGLIST on this kernel (src/kernel/gso.ts gsoMask), 0 where it has none */
  fraglistGsoMask: number;
}

const FILTER = { gsoOnly: 1, src4: 2, dst4: 4, src6: 8, dst6: 16, ifindex: 32 } as const;

/** bpftrace's own arguments after the binary: `-f json PROGRAM $1 $2 ...` */
export function bpftraceArgs(a: TracerArgs): string[] {
  const f = a.filters;
  const src = f.srcIp ? ipWords(f.srcIp) : undefined;
  const dst = f.dstIp ? ipWords(f.dstIp) : undefined;
  let bits = 0;
  if (f.gsoOnly) bits |= FILTER.gsoOnly;
  if (src) bits |= src.length === 1 ? FILTER.src4 : FILTER.src6;
  if (dst) bits |= dst.length === 1 ? FILTER.dst4 : FILTER.dst6;
  if (f.interfaceId) bits |= FILTER.ifindex;
  const v4 = (w?: number[]) => (w?.length === 1 ? w[0] : 0);
  const v6 = (w?: number[]) => (w?.length === 4 ? w : [0, 0, 0, 0]);
  const positional = [
    a.printIntervalSeconds, a.sampleRatePerSecond,
    a.layout.fragsOffset, a.layout.fragStride, a.layout.fragLenOffset,
    bits, f.interfaceId?.ifindex ?? 0, v4(src), v4(dst), ...v6(src), ...v6(dst), f.interfaceId?.netnsInode ?? 0,
    a.fraglistGsoMask,
  ];
  const program = 'path' in a.program ? [a.program.path] : ['-e', a.program.text];
  return ['-f', 'json', ...program, ...positional.map(String)];
}

/**
 * An address as the u32 words a probe reads from the packet on a
 * little-endian host: 198.18.0.2 -> [0x020012c6]. IPv6 gives four words.
 */
export function ipWords(addr: string): number[] {
  const bytes = ipBytes(addr);
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    words.push((bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0);
  }
  return words;
}

function ipBytes(addr: string): number[] {
  const family = isIP(addr);
  if (family === 4) return addr.split('.').map(Number);
  if (family !== 6) throw new Error(`not an IP address: ${addr}`);
  let text = addr;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail) {
    const [a, b, c, d] = v4tail[1].split('.').map(Number);
    text = text.slice(0, -v4tail[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const groups = (s?: string) => (s ? s.split(':') : []);
  const h = groups(head), t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => { const v = parseInt(g, 16); return [v >> 8, v & 0xff]; });
}
