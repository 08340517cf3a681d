// Whether this process may run bpftrace: CAP_SYS_ADMIN. CAP_BPF with
// CAP_PERFMON (5.8+) loads and attaches the programs, but bpftrace (0.17,
// measured) also lists the kernel's BTF with bpf(BPF_BTF_GET_NEXT_ID), which
// only CAP_SYS_ADMIN may call; without it bpftrace knows no kernel type. A
// uid-0 process in a container or a hardened unit can lack it.

const CAP_SYS_ADMIN = 21n;

/** From the CapEff line of /proc/self/status (hex). */
export function missingBpfCapabilities(capEffHex: string): string[] {
  const caps = BigInt(`0x${capEffHex.trim() || '0'}`);
  return ((caps >> CAP_SYS_ADMIN) & 1n) === 1n ? [] : ['CAP_SYS_ADMIN'];
}

export function capEffOf(procStatus: string): string {
  return /^CapEff:\s*([0-9a-f]+)$/m.exec(procStatus)?.[1] ?? '0';
}
