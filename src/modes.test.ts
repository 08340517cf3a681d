import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hookName, kernelFunctionPlan, MODES, tracepointPlan } from './modes.js';
import { CURRENT_TRACEPOINTS, FUNCTION_HOOKS, kernelFunctionProgram, printedMaps, SEEN_COUNTING, tracepointProgram } from './probes/program.js';

test('hook names: tracepoint probes lose their prefix', () => {
  assert.equal(hookName(MODES.tracepoint, 'tracepoint:net:netif_receive_skb_entry'), 'netif_receive_skb_entry');
});

test('every id a kernel-function program prints for a hook reads back as that hook\'s labels', () => {
  for (const mode of ['kprobe', 'fentry'] as const) {
    const text = kernelFunctionProgram(mode);
    for (const fn of new Set(FUNCTION_HOOKS.map((h) => h.fn))) {
      // the function's own entry blocks: a writer's entry, a segmenter's (skb_segment_list is both)
      const blocks = [...text.matchAll(new RegExp(`^(?:kprobe|kfunc):${fn}\\n\\{\\n([\\s\\S]*?)^\\}`, 'gm'))].map((m) => m[1]);
      const ids = blocks.flatMap((b) => (/^\s*\$hook = ([^;]+);/m.exec(b)?.[1] ?? '').split(/[?:]/).map((x) => x.trim()).filter((x) => /^\d+$/.test(x)));
      const labels = new Set(ids.map((n) => hookName(MODES[mode], n)));
      const want = FUNCTION_HOOKS.filter((h) => h.fn === fn).flatMap((h) => h.labels);
      assert.deepEqual([...labels].sort(), want.sort(), `${mode} ${fn}: printed ids ${ids.join(',')}`);
    }
  }
});

test('tracepoint hooks follow what the kernel has', () => {
  // 6.x: netif_receive_skb_list_entry exists, netif_rx_ni_entry is gone
  assert.deepEqual(tracepointPlan(['napi_gro_frags_entry', 'napi_gro_receive_entry', 'napi_gro_receive_exit',
    'net_dev_queue', 'net_dev_start_xmit', 'net_dev_xmit', 'netif_receive_skb', 'netif_receive_skb_entry',
    'netif_receive_skb_list_entry', 'netif_rx', 'netif_rx_entry', 'netif_rx_exit']).hooks,
  ['napi_gro_frags_entry', 'napi_gro_receive_entry', 'net_dev_start_xmit', 'netif_receive_skb_entry', 'netif_receive_skb_list_entry', 'netif_rx_entry']);
  // 4.18: netif_rx_ni_entry, no list entry
  const old = tracepointPlan(['netif_receive_skb_entry', 'netif_rx_entry', 'netif_rx_ni_entry', 'net_dev_start_xmit']);
  assert.deepEqual(old.hooks, ['net_dev_start_xmit', 'netif_receive_skb_entry', 'netif_rx_entry', 'netif_rx_ni_entry']);
  // its program: one block per hook, each counting into its own maps, all printed
  const text = old.program.text;
  assert.deepEqual([...text.matchAll(/^tracepoint:net:(\w+)$/gm)].map((m) => m[1]), old.hooks);
  for (const hook of old.hooks) {
    for (const shape of [0, 1, 2, 3]) {
      assert.equal(text.split(`@shape${shape}__${hook} = count();`).length, 2, `shape${shape}__${hook} counted in one block`);
      assert.match(text, new RegExp(`print\\(@shape${shape}__${hook}\\);`));
    }
  }
  assert.doesNotMatch(text, /netif_receive_skb_list_entry|@seen/);
});

test('probes/tracepoint.bt\'s tracepoints are all tracepoint hooks, in the order a plan gives them', () => {
  assert.deepEqual(tracepointPlan([...CURRENT_TRACEPOINTS]).hooks, [...CURRENT_TRACEPOINTS]);
});

test('each mode\'s program counts passing skbs where SEEN_COUNTING says, and prints those maps', () => {
  for (const mode of ['tracepoint', 'kprobe', 'fentry'] as const) {
    const text = mode === 'tracepoint' ? tracepointProgram() : kernelFunctionProgram(mode);
    const perHook = /@shape\d__\w+ = count\(\);/.test(text), seen = /@seen\[\$hook, [^\]]+\] = count\(\);/.test(text);
    assert.deepEqual({ perHook, seen }, SEEN_COUNTING[mode] === 'seen-map' ? { perHook: false, seen: true } : { perHook: true, seen: false }, mode);
    assert.equal(printedMaps(mode).includes('seen'), seen, mode);
    assert.equal(/print\(@seen\);/.test(text), seen, mode);
  }
});

test('a kernel without skb_gro_receive_list/skb_segment_list (before 5.6): those hooks are left out and reported', () => {
  const present = (name: string) => ({ name, inKallsyms: true, traceable: true });
  const plan = kernelFunctionPlan('kprobe', [present('skb_gro_receive'), present('__pskb_pull_tail'), present('pskb_expand_head'),
    present('___pskb_trim'), present('skb_segment'), { name: 'bpf_skb_adjust_room', inKallsyms: true, traceable: false },
    present('bpf_skb_pull_data'), present('bpf_skb_change_proto')]);
  assert.deepEqual(plan.hooks, ['skb_gro_receive', '__skb_linearize', '__pskb_pull_tail', 'pskb_expand_head', '___pskb_trim', 'skb_segment',
    'bpf_skb_pull_data', 'bpf_skb_change_proto']);
  assert.deepEqual(plan.unattached.map((u) => u.hook), ['skb_gro_receive_list', 'skb_segment_list', 'bpf_skb_adjust_room', 'skb_segment_list_entry']);
  assert.match(plan.unattached[2].why, /not traceable/);
  // absent functions are nothing to attach; a notrace function is one the kernel has and we cannot see (the alert's case)
  assert.deepEqual(plan.unattached.map((u) => u.inKernel), [false, false, true, false]);
  const text = plan.program.text;
  assert.doesNotMatch(text, /kprobe:skb_gro_receive_list|kprobe:skb_segment_list|kprobe:bpf_skb_adjust_room/);
  assert.match(text, /^kprobe:skb_gro_receive$/m);
  assert.match(text, /^kretprobe:___pskb_trim,$/m);
  assert.match(text, /^kretprobe:bpf_skb_change_proto$/m, "the last writer closes the shared return block's list");
  assert.match(text, /^interval:s:\$1$/m);
});

test('where bpftrace reads kernel types from headers (no usable BTF), every program includes the structs it casts to; with BTF none does', () => {
  const all = FUNCTION_HOOKS.map((h) => ({ name: h.fn, inKallsyms: true, traceable: true }));
  for (const plan of [kernelFunctionPlan('kprobe', all, true), kernelFunctionPlan('fentry', all, true), tracepointPlan(['net_dev_start_xmit'], true)]) {
    assert.ok(plan.program.text.startsWith('#include <linux/sched.h>\n#include <linux/skbuff.h>\n#include <linux/netdevice.h>\n'), plan.mode.name);
  }
  for (const plan of [kernelFunctionPlan('kprobe', all), tracepointPlan(['net_dev_start_xmit'])]) {
    assert.doesNotMatch(plan.program.text, /#include/, plan.mode.name);
  }
});
