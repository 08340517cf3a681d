// Every probe program compiles on this machine, with every filter combination
// (bpftrace --emit-elf compiles without attaching). fentry programs cannot be
// compiled here: bpftrace 0.17 refuses kfunc on a kernel without BPF
// trampolines; the real-kernel stage compiles and runs them in a guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bpftraceArgs, type KernelFilters } from '../../src/bpftrace/args.js';
import { kernelFunctionPlan, tracepointPlan } from '../../src/modes.js';
import { FUNCTION_HOOKS } from '../../src/probes/program.js';

const layout = { fragsOffset: 48, fragStride: 16, fragLenOffset: 8, fragLenField: 'skb_frag.len' };
const FILTERS: KernelFilters[] = [
  { gsoOnly: false },
  { gsoOnly: true },
  { gsoOnly: false, srcIp: '198.18.0.2' },
  { gsoOnly: false, dstIp: '2001:db8::1' },
  { gsoOnly: true, srcIp: '2001:db8::2', dstIp: '198.18.0.1', interfaceId: { ifindex: 2, netnsInode: 4026531833 } },
];
const all = FUNCTION_HOOKS.map((h) => ({ name: h.fn, inKallsyms: true, traceable: true }));
const PROGRAMS = {
  tracepoint: tracepointPlan(['netif_receive_skb_entry', 'net_dev_start_xmit']).program,
  kprobe: kernelFunctionPlan('kprobe', all).program,
  'kprobe, a 4.18-like kernel': kernelFunctionPlan('kprobe', all.filter((f) => !['skb_gro_receive_list', 'skb_segment_list'].includes(f.name))).program,
};

for (const [name, program] of Object.entries(PROGRAMS)) {
  test(`${name} program compiles with every filter combination`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flx-elf-'));
    try {
      for (const [i, filters] of FILTERS.entries()) {
        const elf = join(dir, `${i}.o`);
        const args = bpftraceArgs({ program, printIntervalSeconds: 1, sampleRatePerSecond: 10, layout, filters, fraglistGsoMask: 1 << 18 }).slice(2); // no -f json
        const r = await execa('bpftrace', ['--emit-elf', elf, ...args], { reject: false });
        assert.equal(r.exitCode, 0, `${JSON.stringify(filters)}: ${r.stderr.split('\n').filter((l) => /ERROR/.test(l)).join('\n')}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
