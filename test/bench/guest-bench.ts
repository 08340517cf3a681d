// The kernel-function modes' cost per hooked call (npm run bench:guests; not a
// test: it prints figures). Debian's kernels under qemu, as the real-kernel
// stage boots them; in each, test/realkernel/guest_bench.py drives UDP GSO
// through software segmentation, fraglist GRO and a tc pull (skb_segment,
// skb_gro_receive_list, pskb_expand_head, __pskb_pull_tail), in rounds that
// interleave no tracer, kprobe mode and fentry mode.
// The guests run under TCG (this VM's KVM cannot run them), so figures are in
// emulated time: compare the modes with each other and with none, not with a
// host. Root only; refuses (one line) where a prerequisite is missing.
import { debianKernel, runGuest } from '../helpers/guest.js';
import { guestFigures, parseBenchLines } from './guest-figures.js';
import { benchOptions, refuse as refuseWith } from './options.js';

const opt = await benchOptions('bench:guests', {
  numbers: {
    rounds: { default: 3, min: 1, help: 'rounds per tracer' },
    sends: { default: 1000, min: 1, help: 'UDP_SEGMENT sends a round' },
  },
  strings: { suites: { default: 'bookworm,trixie' } },
  tools: ['qemu-system-x86_64', 'clang', 'cpio', 'bpftrace', 'python3', 'apt-get'],
});
const { rounds, sends } = opt;
const suites = opt.suites!.split(',');
const refuse = (why: string): never => refuseWith('bench:guests', why);
// bullseye's 5.10 crashes on this path (the tc pull of a fraglist skb): that is the crash test's job
const unknown = suites.filter((s) => !['bookworm', 'trixie'].includes(s));
if (unknown.length) refuse(`--suites: ${unknown.join(', ')}: bookworm and trixie only (bullseye's 5.10 panics on the workload's path)`);

process.stdout.write(`bench:guests: ${rounds} rounds of ${sends} UDP_SEGMENT sends (60 x 1000 bytes) per tracer, in ${suites.join(', ')} under qemu (TCG: emulated time)\n`);
let failed = false;
for (const suite of suites) {
  const kernel = await debianKernel(suite);
  const run = await runGuest(kernel, [], 600_000 + rounds * 360_000, { bench: { rounds, sends } });
  for (const line of run.serial.split('\n').filter((l) => l.startsWith('FLX-BENCH'))) process.stdout.write(`  ${line}\n`);
  const figures = guestFigures(parseBenchLines(run.serial));
  if (!figures.some((f) => f.tracer !== 'none' && f.callsPerSend)) {
    failed = true;
    process.stdout.write(`${kernel.release}: no figures (console tail:)\n${run.serial.split('\n').slice(-30).join('\n')}\n`);
    continue;
  }
  process.stdout.write(`\n${kernel.release} (${suite}), ${run.seconds.toFixed(0)} s in qemu\n`);
  process.stdout.write('| tracer | rounds | kernel CPU µs per send (median, spread) | added µs per send | hooked calls per send | calls per kernel CPU-second | added ns per call | of which BPF programs (bpf_stats) |\n|---|---|---|---|---|---|---|---|\n');
  const none = figures.find((f) => f.tracer === 'none');
  for (const f of figures) {
    const [med, lo, hi] = f.usPerSend;
    const callsNone = f.callsPerSend && none ? ` (none: ${Math.round(f.callsPerSend / (none.usPerSend[0] / 1e6))})` : '';
    process.stdout.write(`| ${f.tracer} | ${f.rounds} | ${med.toFixed(0)} (${lo.toFixed(0)}–${hi.toFixed(0)}) | ${f.addedUsPerSend?.toFixed(0) ?? '–'} | ${f.callsPerSend?.toFixed(1) ?? '–'} | ` +
      `${f.callsPerCpuSecond ? `${Math.round(f.callsPerCpuSecond)}${callsNone}` : '–'} | ${f.addedNsPerCall?.toFixed(0) ?? '–'} | ${f.programNsPerCall?.toFixed(0) ?? '–'} |\n`);
  }
}
if (failed) process.exitCode = 1;
