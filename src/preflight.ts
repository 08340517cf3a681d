// From host facts to a verdict: which mode serve would run, and for each
// missing prerequisite the command that fixes it. Pure, so doctor and serve
// say the same thing.
import type { HostFacts } from './kernel/host.js';
import { IMPLEMENTED_MODES, tracepointHooks, type Mode, type ModeName } from './modes.js';

export interface Problem { what: string; fix: string }
export interface ModeCheck { mode: ModeName; usable: boolean; why: string }
export interface Verdict {
  mode?: Mode;
  hooks: string[];
  /** blocking problems: serve cannot run while any is present */
  problems: Problem[];
  modes: ModeCheck[];
}

const install = (pkg: { apt: string; dnf: string }) => `apt-get install -y ${pkg.apt}   # RHEL/Fedora: dnf install -y ${pkg.dnf}`;

export function assess(h: HostFacts, requested: ModeName | 'auto'): Verdict {
  const problems: Problem[] = [];
  if (!h.isRoot) problems.push({ what: 'not running as root (bpftrace requires uid 0)', fix: 'run as root: sudo fraglist-exporter ...' });
  else if (h.missingCapabilities.length) problems.push({ what: `running without ${h.missingCapabilities.join(' and ')} (needed to load BPF programs; CAP_SYS_ADMIN also does)`, fix: 'grant CAP_BPF and CAP_PERFMON (Kubernetes: securityContext.capabilities.add), or run privileged' });
  if (h.bpftrace.error) problems.push({ what: `bpftrace unavailable: ${h.bpftrace.error}`, fix: install({ apt: 'bpftrace', dnf: 'bpftrace' }) });
  if (!h.btf) problems.push({ what: 'no kernel BTF at /sys/kernel/btf/vmlinux (this version reads skb layouts from BTF)', fix: 'boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (RHEL >= 8.2, Debian >= 11, Ubuntu >= 20.10 ship one)' });
  else if (h.layoutError) problems.push({ what: `cannot read skb_shared_info from BTF: ${h.layoutError}`, fix: 'report this kernel release with `fraglist-exporter doctor --json`' });

  const modes: ModeCheck[] = [
    { mode: 'fentry', usable: false, why: `no fentry program in this version (bpftrace kfunc support: ${yesNo(h.bpftrace.probeTypes.kfunc)})` },
    { mode: 'kprobe', usable: false, why: `no kprobe program in this version (kernel kprobes: ${yesNo(h.kprobePmu)})` },
  ];
  const hooks = tracepointHooks(IMPLEMENTED_MODES[0], h.netTracepoints);
  const tpWhy = !h.tracefs ? `tracefs not mounted${h.tracefsMountError ? ` (${h.tracefsMountError})` : ''}`
    : h.bpftrace.probeTypes.tracepoint === false ? 'bpftrace reports no tracepoint support'
    : hooks.length === 0 ? 'the kernel has none of the net tracepoints' : `${hooks.length} hooks`;
  const tpUsable = !!h.tracefs && h.bpftrace.probeTypes.tracepoint !== false && hooks.length > 0;
  modes.push({ mode: 'tracepoint', usable: tpUsable, why: tpWhy });
  if (!h.tracefs) problems.push({ what: 'tracefs is not mounted', fix: 'mount -t tracefs nodev /sys/kernel/tracing' });

  let mode: Mode | undefined;
  if (requested === 'auto' || requested === 'tracepoint') {
    if (tpUsable) mode = IMPLEMENTED_MODES[0];
    else if (h.tracefs) problems.push({ what: `tracepoint mode cannot run: ${tpWhy}`, fix: 'run `fraglist-exporter doctor` for details' });
  } else {
    problems.push({ what: `--mode ${requested}: ${modes.find((m) => m.mode === requested)!.why}`, fix: 'use --mode auto or --mode tracepoint' });
  }
  return { mode: problems.length === 0 ? mode : undefined, hooks: mode ? hooks : [], problems, modes };
}

const yesNo = (b: boolean | undefined) => (b === undefined ? 'unknown' : b ? 'yes' : 'no');
