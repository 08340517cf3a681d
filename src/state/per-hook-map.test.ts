import { test } from 'node:test';
import assert from 'node:assert/strict';
import { perHookMap } from '../probes/program.js';
import { splitPerHookMap } from './per-hook-map.js';

test('a per-hook map name splits into its counter and tracepoint, as the generator writes it', () => {
  for (const counter of ['inspected', 'gso', 'with_frag_list'] as const) {
    for (const tp of ['net_dev_start_xmit', 'netif_receive_skb_list_entry', 'napi_gro_frags_entry']) {
      assert.deepEqual(splitPerHookMap(perHookMap(counter, tp)), { counter, hook: tp });
    }
  }
});

test('names that are not a counter of passing skbs and a hook are not per-hook maps', () => {
  for (const name of ['inspected', 'inspected__', '__net_dev_start_xmit', 'inconsistent__net_dev_start_xmit', 'seen', 'ticks', 'with_frag__list_x', 'x__y', '']) {
    assert.equal(splitPerHookMap(name), undefined, name);
  }
});
