// Whether this process may load and attach BPF tracing programs: CAP_SYS_ADMIN,
// or CAP_BPF with CAP_PERFMON (5.8+). A uid-0 process in a container can lack both.

const CAP_SYS_ADMIN = 21n, CAP_PERFMON = 38n, CAP_BPF = 39n;

/** From the CapEff line of /proc/self/status (hex). */
export function missingBpfCapabilities(capEffHex: string): string[] {
  const caps = BigInt(`0x${capEffHex.trim() || '0'}`);
  const has = (bit: bigint) => ((caps >> bit) & 1n) === 1n;
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return [];
  return has(CAP_BPF) ? ['CAP_PERFMON'] : has(CAP_PERFMON) ? ['CAP_BPF'] : ['CAP_BPF', 'CAP_PERFMON'];
}

export function capEffOf(procStatus: string): string {
  return /^CapEff:\s*([0-9a-f]+)$/m.exec(procStatus)?.[1] ?? '0';
}
