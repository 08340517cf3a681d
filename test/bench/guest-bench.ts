// The kernel-function modes' cost per hooked call (npm run bench:guests; not a
// test: it prints figures). Debian's kernels under qemu, as the real-kernel
// stage boots them; in each, test/realkernel/guest_bench.py drives UDP GSO
// through software segmentation, fraglist GRO and a tc pull (skb_segment,
// skb_gro_receive_list, pskb_expand_head, __pskb_pull_tail), in rounds that
// interleave no tracer, kprobe mode and fentry mode.
// The guests run under TCG (this VM's KVM cannot run them), so figures are in
// emulated time: compare the modes with each other and with none, not with a
// host. Root only; refuses (one line) where a prerequisite is missing.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CLI } from '../helpers/agent.js';
import { debianKernel, runGuest } from '../helpers/guest.js';
import { guestFigures, parseBenchLines } from './guest-figures.js';

const { values: opt } = parseArgs({ options: {
  suites: { type: 'string', default: 'bookworm,trixie' }, rounds: { type: 'string', default: '3' }, sends: { type: 'string', default: '1000' },
} });
const rounds = Number(opt.rounds), sends = Number(opt.sends);
const suites = opt.suites.split(',');

function refuse(why: string): never {
  process.stderr.write(`bench:guests: ${why}\n`);
  process.exit(1);
}
if (!(rounds >= 1) || !(sends >= 1)) refuse('--rounds and --sends take numbers >= 1');
// bullseye's 5.10 crashes on this path (the tc pull of a fraglist skb): that is the crash test's job
const unknown = suites.filter((s) => !['bookworm', 'trixie'].includes(s));
if (unknown.length) refuse(`--suites: ${unknown.join(', ')}: bookworm and trixie only (bullseye's 5.10 panics on the workload's path)`);
if (process.getuid?.() !== 0) refuse('needs root (the initramfs, the kernel cache)');
for (const tool of ['qemu-system-x86_64', 'clang', 'cpio', 'bpftrace', 'python3', 'apt-get']) {
  if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) refuse(`${tool} is not installed (bash scripts/install-deps.sh --test)`);
}
if (!existsSync(CLI)) refuse('the agent is not built (npm run build)');

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
