import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitSeen } from './seen-shape.js';

test('@seen sums into inspected, gso and with_frag_list per hook', () => {
  const s = splitSeen(new Map([
    ['tracepoint:net:net_dev_start_xmit,0', 5],
    ['tracepoint:net:net_dev_start_xmit,1', 7],
    ['tracepoint:net:net_dev_start_xmit,3', 2],
    ['tracepoint:net:netif_rx_entry,2', 4],
    ['7,1', 9],
  ]));
  assert.deepEqual([...s.counters.inspected], [['tracepoint:net:net_dev_start_xmit', 14], ['tracepoint:net:netif_rx_entry', 4], ['7', 9]]);
  assert.deepEqual([...s.counters.gso], [['tracepoint:net:net_dev_start_xmit', 9], ['7', 9]]);
  assert.deepEqual([...s.counters.with_frag_list], [['tracepoint:net:net_dev_start_xmit', 2], ['tracepoint:net:netif_rx_entry', 4]]);
  assert.deepEqual(s.rejected, []);
});

test('@seen keys without a shape the programs print are rejected, not counted', () => {
  const s = splitSeen(new Map([['7', 1], ['7,4', 1], ['7,-1', 1], ['7,1.5', 1], ['7,', 1], ['7,0x1', 1], ['7,4294967297', 1], ['7,0', 3]]));
  assert.deepEqual(s.rejected, ['7', '7,4', '7,-1', '7,1.5', '7,', '7,0x1', '7,4294967297']);
  assert.deepEqual([...s.counters.inspected], [['7', 3]]);
});
