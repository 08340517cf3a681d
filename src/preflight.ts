// From host facts to a verdict: the modes serve could run, best first, and for
// each missing prerequisite the command that fixes it. Shared, so doctor,
// serve and watch say the same thing. Not pure: a mode's plan reads its
// probe program from probes/ (src/modes.ts).
import type { HostFacts } from './kernel/host.js';
import { kernelFunctionPlan, tracepointPlan, type ModeName, type ModePlan } from './modes.js';

export interface Problem { what: string; fix: string }
export interface ModeCheck { mode: ModeName; usable: boolean; why: string }
export interface Verdict {
  /** usable plans, best first: the first runs, the others are fallbacks if it is refused at attach time */
  plans: ModePlan[];
  /** blocking problems: nothing can run while any is present */
  problems: Problem[];
  modes: ModeCheck[];
}

/**
 * The oldest bpftrace the programs are tested with (test/e2e/bpftrace-versions.test.ts:
 * 0.17, 0.23, 0.27). The programs avoid what is known to break 0.14 (bswap,
 * unbracketed products), but nothing older than 0.17 runs in the tests.
 */
export const MIN_BPFTRACE: readonly [number, number] = [0, 17];

/** "v0.17.0" -> [0, 17]; undefined if it does not look like a version */
export const bpftraceMinor = (version: string): [number, number] | undefined => {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
};

const install = (pkg: { apt: string; dnf: string }) => `apt-get install -y ${pkg.apt}   # RHEL/Fedora: dnf install -y ${pkg.dnf}`;

export function assess(h: HostFacts, requested: ModeName | 'auto'): Verdict {
  const problems: Problem[] = [];
  if (!h.isRoot) problems.push({ what: 'not running as root (bpftrace requires uid 0)', fix: 'run as root: sudo fraglist-exporter ...' });
  else if (h.missingCapabilities.length) problems.push({ what: `running without ${h.missingCapabilities.join(' and ')} (bpftrace needs it to read the kernel's BTF and load its programs)`, fix: 'grant CAP_SYS_ADMIN (Kubernetes: securityContext.capabilities.add: [SYS_ADMIN]; systemd: CapabilityBoundingSet=CAP_SYS_ADMIN)' });
  if (h.bpftrace.error) problems.push({ what: `bpftrace unavailable: ${h.bpftrace.error}`, fix: install({ apt: 'bpftrace', dnf: 'bpftrace' }) });
  else {
    const v = bpftraceMinor(h.bpftrace.version ?? '');
    if (v && (v[0] < MIN_BPFTRACE[0] || (v[0] === MIN_BPFTRACE[0] && v[1] < MIN_BPFTRACE[1]))) {
      problems.push({ what: `bpftrace ${h.bpftrace.version} is older than ${MIN_BPFTRACE.join('.')}, the oldest this agent supports`,
        fix: `install bpftrace ${MIN_BPFTRACE.join('.')} or later (Debian 12 and later, Ubuntu 24.04 and later), or point --bpftrace.path at one` });
    }
  }
  if (!h.btf) problems.push({ what: 'no kernel BTF at /sys/kernel/btf/vmlinux (this version reads skb layouts from BTF)', fix: 'boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (RHEL >= 8.2, Debian >= 11, Ubuntu >= 20.10 ship one)' });
  else if (h.layoutError) problems.push({ what: `cannot read skb_shared_info from BTF: ${h.layoutError}`, fix: 'report this kernel release with `fraglist-exporter doctor --json`' });
  if (!h.tracefs) problems.push({ what: 'tracefs is not mounted', fix: 'mount -t tracefs nodev /sys/kernel/tracing' });
  if (h.typesFrom === 'none') problems.push({ what: `bpftrace ${h.bpftrace.version ?? ''} finds no usable BTF on this kernel (its --info says btf: no) and the kernel's headers are not installed`.replace('  ', ' '), fix: install({ apt: 'linux-headers-$(uname -r)', dnf: 'kernel-devel-$(uname -r)' }) });
  const fromHeaders = h.typesFrom === 'headers';

  const functionsPresent = h.functions.filter((f) => f.inKallsyms && f.traceable !== false).length;
  const checks: Array<{ mode: ModeName; why?: string; plan: () => ModePlan }> = [
    { mode: 'fentry', plan: () => kernelFunctionPlan('fentry', h.functions, fromHeaders),
      why: h.bpftrace.probeTypes.kfunc !== true ? 'bpftrace reports no kfunc (fentry) support on this kernel'
        : functionsPresent === 0 ? 'none of the watched kernel functions is present' : undefined },
    { mode: 'kprobe', plan: () => kernelFunctionPlan('kprobe', h.functions, fromHeaders),
      why: !h.kprobePmu ? 'the kernel has no kprobes (no kprobe PMU: CONFIG_KPROBES is off)'
        : h.bpftrace.probeTypes.kprobe === false ? 'bpftrace reports no kprobe support'
        : functionsPresent === 0 ? 'none of the watched kernel functions is present' : undefined },
    { mode: 'tracepoint', plan: () => tracepointPlan(h.netTracepoints, fromHeaders),
      why: !h.tracefs ? 'tracefs not mounted' : h.bpftrace.probeTypes.tracepoint === false ? 'bpftrace reports no tracepoint support' : undefined },
  ];
  const modes: ModeCheck[] = [];
  const plans: ModePlan[] = [];
  for (const c of checks) {
    let why = c.why;
    let plan: ModePlan | undefined;
    if (!why) {
      plan = c.plan();
      if (plan.hooks.length === 0) why = 'no hook of this mode exists on this kernel';
    }
    modes.push({ mode: c.mode, usable: !why, why: why ?? `${plan!.hooks.length} hooks${plan!.unattached.length ? `, ${plan!.unattached.length} missing` : ''}` });
    if (!why && (requested === 'auto' || requested === c.mode)) plans.push(plan!);
  }
  if (plans.length === 0 && problems.length === 0) {
    const why = requested === 'auto' ? 'no probe mode can run here' : `--mode ${requested}: ${modes.find((m) => m.mode === requested)!.why}`;
    problems.push({ what: why, fix: requested === 'auto' ? 'run `fraglist-exporter doctor` for details' : 'use --mode auto' });
  }
  return { plans: problems.length ? [] : plans, problems, modes };
}
