import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GSO_TABLE_4_14 } from '../kernel/gso.js';
import { MODES } from '../modes.js';
import { TracerState } from '../state/tracer-state.js';
import { createRegistries } from './metrics.js';

const BUILD = { version: 't', bpftraceVersion: 'v0.17.0', kernel: 'k', gsoNamesSource: 'btf', fraglistFix: { state: 'fixed' as const, upstream: '6.1.115', why: 'w' } };

test('frag_list_probe_detached: a series only for a hook this kernel has and the running tracer did not attach', async () => {
  const state = new TracerState({ mode: MODES.kprobe, program: { text: '' }, hooks: ['skb_segment'],
    unattached: [{ hook: 'bpf_skb_pull_data', why: 'refused', inKernel: true }, { hook: 'skb_gro_receive_list', why: 'absent', inKernel: false }] }, GSO_TABLE_4_14, 4);
  let healthy = true;
  const { text } = createRegistries(state, { healthy: () => healthy }, BUILD);
  const detached = async () => (await text.metrics()).split('\n').filter((l) => l.startsWith('frag_list_probe_detached'));
  assert.deepEqual(await detached(), ['frag_list_probe_detached{hook="bpf_skb_pull_data",mode="kprobe"} 1']);
  // the tracer down: that is FragListTracerDown's, not a hook's
  healthy = false;
  assert.deepEqual(await detached(), []);
  assert.match(await text.metrics(), /^# TYPE frag_list_probe_detached gauge$/m);
});
