import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestFigures, parseBenchLines } from './guest-figures.js';

const SERIAL = [
  'FLX-KERNEL 6.1.0-50-cloud-amd64',
  'FLX-BENCH none 1 sends=400 busy=4.00 agent=0.00 calls=0 runs=0 run_ns=0',
  'FLX-BENCH kprobe 1 sends=400 busy=6.50 agent=0.50 calls=24000 runs=48000 run_ns=240000000',
  'FLX-BENCH fentry 1 sends=400 busy=5.30 agent=0.30 calls=24000 runs=48000 run_ns=192000000',
  'FLX-BENCH none 2 sends=400 busy=4.40 agent=0.00 calls=0 runs=0 run_ns=0',
  'FLX-BENCH-ERROR kprobe not ready: ...',
  'FLX-BENCH fentry 2 sends=400 busy=5.50 agent=0.30 calls=24000 runs=48000 run_ns=216000000',
  'FLX-BENCH none 3 sends=400 busy=4.20 agent=0.00 calls=0 runs=0 run_ns=0',
  'FLX-BENCH none 4 sends=400 busy=x agent=0.00 calls=0 runs=0 run_ns=0',
].join('\n');

test('reads the FLX-BENCH lines, skipping malformed ones', () => {
  const runs = parseBenchLines(SERIAL);
  assert.equal(runs.length, 6);
  assert.deepEqual(runs[1], { tracer: 'kprobe', round: 1, sends: 400, busy: 6.5, agent: 0.5, calls: 24000, runs: 48000, runNs: 240000000 });
});

test('a call costs the kernel CPU added over none, per call; the programs\' share from bpf_stats', () => {
  const figures = new Map(guestFigures(parseBenchLines(SERIAL)).map((f) => [f.tracer, f]));
  const none = figures.get('none')!;
  // 4.0, 4.4, 4.2 s over 400 sends: median 10,500 µs per send
  assert.deepEqual(none.usPerSend.map((x) => Math.round(x)), [10500, 10000, 11000]);
  assert.equal(none.addedNsPerCall, undefined);
  const kprobe = figures.get('kprobe')!;
  // (6.5 - 0.5) s / 400 = 15,000 µs per send; 4,500 µs more than none over 60 calls: 75,000 ns a call
  assert.equal(kprobe.callsPerSend, 60);
  assert.equal(kprobe.addedUsPerSend, 4500);
  assert.equal(Math.round(kprobe.addedNsPerCall!), 75000);
  assert.equal(kprobe.programNsPerCall, 10000);
  assert.equal(Math.round(kprobe.callsPerCpuSecond!), 4000);
  const fentry = figures.get('fentry')!;
  // 12,500 and 13,000 µs per send: median 12,750; 2,250 µs over none / 60 calls
  assert.equal(Math.round(fentry.addedNsPerCall!), 37500);
  assert.equal(fentry.programNsPerCall, 8500);
  assert.equal(fentry.rounds, 2);
});
