// SKB_GSO_* bit names. The layout changed before 4.14 and again in 6.18, so
// the running kernel's BTF is the source; the tables are for kernels without it.
import type { Btf } from './btf.js';

/** bit number -> name, e.g. 0 -> "TCPV4" */
export type GsoTable = ReadonlyMap<number, string>;

const table = (names: string[]): GsoTable => new Map(names.map((n, bit) => [bit, n] as [number, string]).filter(([, n]) => n));

/** v4.14 .. 6.17 (include/linux/skbuff.h) */
export const GSO_TABLE_4_14 = table([
  'TCPV4', 'DODGY', 'TCP_ECN', 'TCP_FIXEDID', 'TCPV6', 'FCOE', 'GRE', 'GRE_CSUM', 'IPXIP4', 'IPXIP6',
  'UDP_TUNNEL', 'UDP_TUNNEL_CSUM', 'PARTIAL', 'TUNNEL_REMCSUM', 'SCTP', 'ESP', 'UDP', 'UDP_L4', 'FRAGLIST',
]);

/** before v4.14: UFO's SKB_GSO_UDP sat at bit 1 and everything above shifted */
export const GSO_TABLE_PRE_4_14 = table([
  'TCPV4', 'UDP', 'DODGY', 'TCP_ECN', 'TCP_FIXEDID', 'TCPV6', 'FCOE', 'GRE', 'GRE_CSUM', 'IPXIP4',
  'IPXIP6', 'UDP_TUNNEL', 'UDP_TUNNEL_CSUM', 'PARTIAL', 'TUNNEL_REMCSUM', 'SCTP', 'ESP',
]);

/** Reads the anonymous enum that holds SKB_GSO_TCPV4. */
export function gsoTableFromBtf(btf: Btf): GsoTable | undefined {
  const values = btf.enumContaining('SKB_GSO_TCPV4');
  if (!values) return undefined;
  const out = new Map<number, string>();
  for (const { name, value } of values) {
    if (value <= 0n || (value & (value - 1n)) !== 0n) continue;
    out.set(value.toString(2).length - 1, name.replace(/^(__)?SKB_GSO_/, '$1'));
  }
  return out;
}

/** The table for a kernel without BTF, by its release ("4.9.0-...", "5.10.0-..."). */
export function gsoTableForRelease(release: string): GsoTable {
  const m = /^(\d+)\.(\d+)/.exec(release);
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  return major < 4 || (major === 4 && minor < 14) ? GSO_TABLE_PRE_4_14 : GSO_TABLE_4_14;
}

/** 1027 -> "TCPV4|DODGY|UDP_TUNNEL"; unknown bits as hex; 0 -> "NONE". */
export function decodeGsoType(value: number, names: GsoTable): string {
  if (value === 0) return 'NONE';
  const parts: string[] = [];
  let unknown = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (((value >>> bit) & 1) === 0) continue;
    const name = names.get(bit);
    if (name) parts.push(name); else unknown |= 1 << bit;
  }
  if (unknown) parts.push(`0x${(unknown >>> 0).toString(16)}`);
  return parts.join('|');
}

/** The mask of one GSO bit by name (FRAGLIST -> 1 << 18), 0 when this kernel has no such bit. */
export function gsoMask(names: GsoTable, name: string): number {
  for (const [bit, n] of names) if (n === name) return 2 ** bit;
  return 0;
}
