// Capability masks as /proc/PID/status prints them, computed from what the
// unit or the chart grants, less what this host can give (its bounding set):
// no host's mask is written into a test.
import { readFileSync } from 'node:fs';

/** The capabilities we grant or test, by number (linux/capability.h). */
const CAP_NUMBERS: Record<string, number> = {
  NET_ADMIN: 12, SYS_ADMIN: 21, SYS_RESOURCE: 24, SYSLOG: 34, PERFMON: 38, BPF: 39,
};

const bit = (name: string): bigint => {
  const n = CAP_NUMBERS[name.replace(/^CAP_/, '')];
  if (n === undefined) throw new Error(`unknown capability ${name}`);
  return 1n << BigInt(n);
};

/** This host's bounding set: what any process started here can hold at most. */
export function hostBoundingSet(): bigint {
  return BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
}

/** "0000000400200000" for [CAP_SYS_ADMIN, CAP_SYSLOG], intersected with the bounding set. */
export function capMask(names: readonly string[], bounding = hostBoundingSet()): string {
  return (names.reduce((m, name) => m | bit(name), 0n) & bounding).toString(16).padStart(16, '0');
}

/** The names of a mask's capabilities that we know by name, for messages. */
export function capNames(mask: string): string[] {
  const m = BigInt(`0x${mask}`);
  return Object.keys(CAP_NUMBERS).filter((n) => (m & bit(n)) !== 0n).map((n) => `CAP_${n}`);
}
