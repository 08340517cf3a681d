// The steps serve and watch share before bpftrace can start: look at the host,
// pick the mode, build bpftrace's arguments. Fails with the one line to print.
import { bpftraceArgs, type Filters } from './bpftrace/args.js';
import { inspectHost, type HostFacts } from './kernel/host.js';
import type { Mode, ModeName } from './modes.js';
import { assess, type Verdict } from './preflight.js';

export interface TracerPlan {
  facts: HostFacts;
  verdict: Verdict;
  mode: Mode;
  hooks: string[];
  args: string[];
}

export interface TracerRequest {
  bpftracePath: string;
  mode: ModeName | 'auto';
  printIntervalSeconds: number;
  sampleRatePerSecond: number;
  filters: Filters;
}

export async function planTracer(req: TracerRequest): Promise<TracerPlan | { error: string }> {
  const facts = await inspectHost(req.bpftracePath, { mountTracefs: true });
  const verdict = assess(facts, req.mode);
  if (!verdict.mode || !facts.layout) {
    const problems = verdict.problems.map((p) => `${p.what} (fix: ${p.fix})`).join('; ');
    return { error: `cannot start: ${problems}. Run \`fraglist-exporter doctor\` for every check.` };
  }
  const args = bpftraceArgs({
    programPath: verdict.mode.programPath, printIntervalSeconds: req.printIntervalSeconds,
    sampleRatePerSecond: req.sampleRatePerSecond, layout: facts.layout, filters: req.filters,
  });
  return { facts, verdict, mode: verdict.mode, hooks: verdict.hooks, args };
}
