// Starting the tracer, shared by serve and watch: look at the host, try the
// usable modes best first, and fall back when bpftrace is refused at attach
// time (as fentry is on kernels without BPF trampolines). Returns the running
// tracer, or the one line to print.
import { bpftraceArgs, type KernelFilters } from './bpftrace/args.js';
import { parseRecord } from './bpftrace/records.js';
import { refusalReason, type EndBeforeAttach } from './bpftrace/refusal.js';
import { Supervisor } from './bpftrace/supervisor.js';
import { ATTACH_TIMEOUT_MS } from './bpftrace/watchdog.js';
import { withOverride, type FraglistFix, type FraglistFixOverride } from './kernel/fraglist-fix.js';
import { gsoMask } from './kernel/gso.js';
import { inspectHost, type HostFacts } from './kernel/host.js';
import type { ModeName, ModePlan } from './modes.js';
import { assess, type Verdict } from './preflight.js';
import { judgeFor, type Judge } from './state/danger.js';
import { TracerState, type Applied } from './state/tracer-state.js';

export interface TracerRequest {
  bpftracePath: string;
  printIntervalSeconds: number;
  sampleRatePerSecond: number;
  filters: KernelFilters;
  eventsCapacity: number;
  /** serve restarts bpftrace when it exits; watch ends */
  restart: boolean;
}

export interface TracerHandlers {
  applied(a: Applied): void;
  stderr(line: string): void;
  /** bpftrace exited after it had attached */
  exited(info: { code?: number; signal?: string; ranMs: number; restartInMs?: number }, stderrTail: string[], state: TracerState): void;
  /** a mode was refused at attach time (`why`: refusal.ts); the next is tried */
  refused(mode: ModeName, next: ModeName | undefined, why: string, stderrTail: string[]): void;
}

/**
 * The host as the tracer and its outputs see it: its facts, the modes it offers, and the configuration applied
 * to them once (--kernel.fraglist-fix over what the version text says, and so what is dangerous here).
 */
export interface PreparedHost { facts: HostFacts; verdict: Verdict; fraglistFix: FraglistFix; danger: Judge }

export async function prepareHost(config: { bpftracePath: string; mode: ModeName | 'auto'; fraglistFix: FraglistFixOverride }): Promise<PreparedHost> {
  const facts = await inspectHost(config.bpftracePath, { mountTracefs: true });
  const fraglistFix = withOverride(facts.fraglistFix, config.fraglistFix);
  return { facts, verdict: assess(facts, config.mode), fraglistFix, danger: judgeFor(fraglistFix.state) };
}

export interface Tracer {
  plan: ModePlan; state: TracerState; supervisor: Supervisor; args: string[];
  /** restarts bpftrace with other filters (an interface that came back with a new ifindex); counters carry over */
  retarget(filters: KernelFilters): Promise<void>;
}

const HARMLESS_STDERR = [/couldn't set RLIMIT_MEMLOCK/, /Addrspace is not set/, /^\s*$/];
const isHarmlessStderr = (line: string) => HARMLESS_STDERR.some((r) => r.test(line));

export async function startTracer({ facts, verdict }: PreparedHost, req: TracerRequest, handlers: TracerHandlers): Promise<Tracer | { error: string }> {
  if (!verdict.plans.length || !facts.layout) {
    const problems = verdict.problems.map((p) => `${p.what} (fix: ${p.fix})`).join('; ');
    return { error: `cannot start: ${problems}. Run \`fraglist-exporter doctor\` for every check.` };
  }
  const refusals: string[] = [];
  const layout = facts.layout;
  for (const [i, plan] of verdict.plans.entries()) {
    const argsFor = (filters: KernelFilters) => bpftraceArgs({
      program: plan.program, printIntervalSeconds: req.printIntervalSeconds, sampleRatePerSecond: req.sampleRatePerSecond, layout, filters,
      fraglistGsoMask: gsoMask(facts.gsoNames, 'FRAGLIST'),
    });
    const args = argsFor(req.filters);
    const state = new TracerState(plan, facts.gsoNames, req.eventsCapacity);
    const tail: string[] = [];
    let attached = false;
    let end: EndBeforeAttach | undefined;
    let settle!: (ok: boolean) => void;
    const settled = new Promise<boolean>((r) => { settle = r; });
    /** bpftrace's own messages: stderr, and (0.24+) compiler warnings on stdout before it attaches */
    const diagnostic = (line: string) => {
      if (isHarmlessStderr(line)) return;
      tail.push(line);
      if (tail.length > 8) tail.shift();
      handlers.stderr(line);
    };
    const supervisor = new Supervisor({ bpftracePath: req.bpftracePath, args, env: facts.bpftrace.env, pdeathsig: facts.setprivPdeathsig, restart: req.restart }, {
      started() { state.runStarted(); },
      stdoutLine(line) {
        const a = state.apply(parseRecord(line), Date.now());
        if (a.kind === 'diagnostic') { diagnostic(a.line); return; }
        if (a.kind === 'attached' && !attached) { attached = true; settle(true); }
        handlers.applied(a);
      },
      stderrLine: diagnostic,
      exited(info) {
        if (!attached) { end = { ...end, code: info.code, signal: info.signal }; settle(false); return; }
        handlers.exited(info, [...tail], state);
      },
    });
    supervisor.start();
    // a bpftrace that hangs while attaching is given up on, like one that exits: the next mode is tried
    const attachDeadline = setTimeout(() => { if (!attached) { end = { timedOutMs: ATTACH_TIMEOUT_MS }; supervisor.kill(); } }, ATTACH_TIMEOUT_MS);
    const ok = await settled;
    clearTimeout(attachDeadline);
    if (ok) return { plan, state, supervisor, args, retarget: async (filters) => {
      // not counting until the new run attaches: /readyz and tracer_up say so from the first moment
      state.status.detached();
      await supervisor.restartWith(argsFor(filters));
    } };
    await supervisor.stop();
    const next = verdict.plans[i + 1]?.mode.name;
    const why = refusalReason(tail, end);
    refusals.push(`${plan.mode.name}: ${why}`);
    handlers.refused(plan.mode.name, next, why, [...tail]);
  }
  const headers = refusals.some((r) => /linux\/[\w/]+\.h' file not found/.test(r))
    ? ' bpftrace needs this kernel\'s headers here (fix: apt-get install -y linux-headers-$(uname -r)   # RHEL/Fedora: dnf install -y kernel-devel-$(uname -r)).'
    : '';
  return { error: `cannot start: every probe mode was refused when attaching (${refusals.join('; ')}).${headers} Run \`fraglist-exporter doctor\`.` };
}
