import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hookOf, tracepointHooks, TRACEPOINT_MODE } from './modes.js';

test('hook names drop the probe type and category', () => {
  assert.equal(hookOf('tracepoint:net:netif_receive_skb_entry'), 'netif_receive_skb_entry');
  assert.equal(hookOf('kretprobe:pskb_expand_head'), 'pskb_expand_head');
});

test('tracepoint hooks follow what the kernel has', () => {
  // 6.x: netif_receive_skb_list_entry exists, netif_rx_ni_entry is gone
  assert.deepEqual(tracepointHooks(TRACEPOINT_MODE, ['napi_gro_frags_entry', 'napi_gro_receive_entry', 'napi_gro_receive_exit',
    'net_dev_queue', 'net_dev_start_xmit', 'net_dev_xmit', 'netif_receive_skb', 'netif_receive_skb_entry',
    'netif_receive_skb_list_entry', 'netif_rx', 'netif_rx_entry', 'netif_rx_exit']),
  ['napi_gro_frags_entry', 'napi_gro_receive_entry', 'net_dev_start_xmit', 'netif_receive_skb_entry', 'netif_receive_skb_list_entry', 'netif_rx_entry']);
  // 4.18: netif_rx_ni_entry, no list entry
  assert.deepEqual(tracepointHooks(TRACEPOINT_MODE, ['netif_receive_skb_entry', 'netif_rx_entry', 'netif_rx_ni_entry', 'net_dev_start_xmit']),
    ['net_dev_start_xmit', 'netif_receive_skb_entry', 'netif_rx_entry', 'netif_rx_ni_entry']);
});
