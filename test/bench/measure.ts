// What the benchmarks read from /proc, and how they print it.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * a process's resident set now and at its peak, in MB; and now, what is its
 * own (anon) and what is mapped from files (for node, mostly its binary's code:
 * clean pages shared with every other node process and reclaimable)
 */
export const rss = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
};

/** BPF program types that run per hooked event: kprobe, tracepoint, tracing (fentry/fexit) */
const EVENT_PROG_TYPES = new Set([2, 5, 26]);

/**
 * Runs and run time of a process's BPF programs that fire per event (not its
 * interval and END programs), from /proc/PID/fdinfo: the kernel counts them
 * while kernel.bpf_stats_enabled is 1. The in-kernel cost of a tracer, without
 * the machine's noise.
 */
export const bpfRuns = (pid: number) => {
  let runs = 0, ns = 0;
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try { info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'); } catch { continue; }
    const field = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
    if (!EVENT_PROG_TYPES.has(field('prog_type'))) continue;
    runs += field('run_cnt');
    ns += field('run_time_ns');
  }
  return { runs, ns };
};

/**
 * a process's CPU seconds so far, to the nanosecond: the sum of its threads'
 * time on a CPU (/proc/PID/task/TID/schedstat). /proc/PID/stat counts in
 * ticks of 10 ms, and an idle agent uses 8 or 9 of them in 30 s: one tick
 * was 0.03 points of its idle figure. Threads that end between two reads take
 * their time with them; node's and bpftrace's threads live as long as they do.
 */
export const cpuSeconds = (pid: number) => {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* the thread ended */ }
  }
  return ns / 1e9;
};

/** the whole machine's busy CPU seconds so far (/proc/stat: all but idle and iowait) */
export const busySeconds = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
};

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
export const mb = (x: number) => `${x.toFixed(0)} MB`;
