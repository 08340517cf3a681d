// Golden tests of what the generator writes for kernels other than the
// committed probes/*.bt (which have every hook): a kernel without the list
// functions (before 5.6, RHEL 8's 4.18), one without skb_gro_receive_list
// (bookworm's 6.1.0-50), and the bpftrace command lines that carry the filters
// (filters are positional parameters, never program text). A change to the
// generator shows up here as a diff a reviewer reads.
//   FRAGLIST_UPDATE_GOLDEN=1 node --test dist/src/probes/program.golden.test.js   rewrites them
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bpftraceArgs, type KernelFilters } from '../bpftrace/args.js';
import { kernelFunctionProgram } from './program.js';

const GOLDEN = fileURLToPath(new URL('../../../test/golden/', import.meta.url));

function golden(name: string, text: string): void {
  if (process.env.FRAGLIST_UPDATE_GOLDEN) writeFileSync(GOLDEN + name, text);
  assert.equal(text, readFileSync(GOLDEN + name, 'utf8'), `${name} differs from its golden file (FRAGLIST_UPDATE_GOLDEN=1 to accept)`);
}

test('kprobe program for a kernel without skb_gro_receive_list and skb_segment_list (4.18)', () => {
  golden('kprobe-4.18.bt', kernelFunctionProgram('kprobe', (fn) => !['skb_gro_receive_list', 'skb_segment_list'].includes(fn)));
});

test('fentry program for a kernel without skb_gro_receive_list (6.1.0-50)', () => {
  golden('fentry-6.1.0-50.bt', kernelFunctionProgram('fentry', (fn) => fn !== 'skb_gro_receive_list'));
});

test('bpftrace command lines for filter combinations', () => {
  const layout = { fragsOffset: 48, fragStride: 16, fragLenOffset: 8, fragLenField: 'skb_frag.len' };
  const filters: Array<[string, KernelFilters]> = [
    ['none', { gsoOnly: false }],
    ['--gso-only', { gsoOnly: true }],
    ['--src-ip 198.18.0.2', { gsoOnly: false, srcIp: '198.18.0.2' }],
    ['--dst-ip 2001:db8::1', { gsoOnly: false, dstIp: '2001:db8::1' }],
    ['all: gso-only, IPv6 source, IPv4 destination, ifindex 2', { gsoOnly: true, srcIp: '2001:db8::2', dstIp: '198.18.0.1', interfaceId: { ifindex: 2, netnsInode: 4026531833 } }],
  ];
  const lines = filters.map(([what, f]) => `# ${what}\nbpftrace ${bpftraceArgs({ program: { path: 'probes/tracepoint.bt' }, printIntervalSeconds: 1, sampleRatePerSecond: 10, layout, filters: f, fraglistGsoMask: 1 << 18 }).join(' ')}\n`);
  golden('command-lines.txt', lines.join(''));
});
