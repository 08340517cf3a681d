import { test } from 'node:test';
import assert from 'node:assert/strict';
import { perHookMap, SEEN_SHAPES } from '../probes/program.js';
import { PerHookSeen, splitPerHookMap } from './per-hook-map.js';

test('a per-hook map name splits into its shape and tracepoint, as the generator writes it', () => {
  for (const shape of SEEN_SHAPES) {
    for (const tp of ['net_dev_start_xmit', 'netif_receive_skb_list_entry', 'napi_gro_frags_entry']) {
      assert.deepEqual(splitPerHookMap(perHookMap(shape, tp)), { shape, hook: tp });
    }
  }
});

test('names that are not a shape the programs count and a hook are not per-hook maps', () => {
  for (const name of ['shape1', 'shape1__', '__net_dev_start_xmit', 'shape4__net_dev_start_xmit', 'shape01__net_dev_start_xmit', 'shape__x',
    'inspected__net_dev_start_xmit', 'inconsistent__net_dev_start_xmit', 'seen', 'ticks', 'x__y', '']) {
    assert.equal(splitPerHookMap(name), undefined, name);
  }
});

test('per-hook values come back by hook, keyed as @seen is; a new run starts empty', () => {
  const seen = new PerHookSeen();
  seen.set({ hook: 'net_dev_start_xmit', shape: 1 }, 5);
  seen.set({ hook: 'netif_rx_entry', shape: 0 }, 9);
  assert.deepEqual([...seen.set({ hook: 'net_dev_start_xmit', shape: 3 }, 2)], [['net_dev_start_xmit,1', 5], ['net_dev_start_xmit,3', 2]]);
  assert.deepEqual([...seen.set({ hook: 'net_dev_start_xmit', shape: 1 }, 7)], [['net_dev_start_xmit,1', 7], ['net_dev_start_xmit,3', 2]]);
  seen.clear();
  assert.deepEqual([...seen.set({ hook: 'net_dev_start_xmit', shape: 0 }, 1)], [['net_dev_start_xmit,0', 1]]);
});
