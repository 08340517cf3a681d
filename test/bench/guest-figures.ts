// What test/realkernel/guest_bench.py prints, summed into the figures of
// `npm run bench:guests`: pure, so the arithmetic is tested on its own.
import { median } from './measure.js';

export interface BenchRun { tracer: string; round: number; sends: number; busy: number; agent: number; calls: number; runs: number; runNs: number }

/** the FLX-BENCH lines of a guest's console */
export function parseBenchLines(serial: string): BenchRun[] {
  const runs: BenchRun[] = [];
  for (const m of serial.matchAll(/^FLX-BENCH (\S+) (\d+) sends=(\d+) busy=([\d.]+) agent=([\d.]+) calls=(\d+) runs=(\d+) run_ns=(\d+)\s*$/gm)) {
    runs.push({ tracer: m[1], round: Number(m[2]), sends: Number(m[3]), busy: Number(m[4]), agent: Number(m[5]),
      calls: Number(m[6]), runs: Number(m[7]), runNs: Number(m[8]) });
  }
  return runs;
}

export interface TracerFigures {
  tracer: string;
  rounds: number;
  /** the kernel's CPU per send (system, irq, softirq), the agent's own system time left out: median, min, max (µs) */
  usPerSend: [number, number, number];
  /** hooked calls per send, as the agent counted them */
  callsPerSend?: number;
  /** hooked calls per second of the kernel's CPU, with this tracer (without: the same calls over none's CPU) */
  callsPerCpuSecond?: number;
  /** what the tracer adds to the kernel's CPU per send, against none's (µs): the same workload, so the modes compare directly */
  addedUsPerSend?: number;
  /** what the tracer adds to each hooked call, from the CPU against none's (ns) */
  addedNsPerCall?: number;
  /** of which its BPF programs' own run time (bpf_stats), per hooked call (ns) */
  programNsPerCall?: number;
}

/**
 * Per tracer: medians over rounds. A call's added cost is the kernel's CPU per
 * send with the tracer less that with none, over the calls per send; the
 * programs' own part of it comes from bpf_stats; the rest is the way in and
 * out (kprobe's ftrace/int3 path, fentry's trampoline) and map work outside.
 */
export function guestFigures(runs: BenchRun[]): TracerFigures[] {
  const tracers = [...new Set(runs.map((r) => r.tracer))];
  const kernelUs = (r: BenchRun) => ((r.busy - r.agent) / r.sends) * 1e6;
  const none = runs.filter((r) => r.tracer === 'none');
  const noneUs = none.length ? median(none.map(kernelUs)) : undefined;
  return tracers.map((tracer) => {
    const mine = runs.filter((r) => r.tracer === tracer);
    const us = mine.map(kernelUs);
    const f: TracerFigures = { tracer, rounds: mine.length, usPerSend: [median(us), Math.min(...us), Math.max(...us)] };
    if (noneUs !== undefined && tracer !== 'none') f.addedUsPerSend = f.usPerSend[0] - noneUs;
    const counted = mine.filter((r) => r.calls > 0);
    if (counted.length) {
      const calls = median(counted.map((r) => r.calls / r.sends));
      f.callsPerSend = calls;
      f.callsPerCpuSecond = calls / (f.usPerSend[0] / 1e6);
      if (noneUs !== undefined) f.addedNsPerCall = ((f.usPerSend[0] - noneUs) * 1e3) / calls;
      f.programNsPerCall = median(counted.map((r) => r.runNs / r.calls));
    }
    return f;
  });
}
