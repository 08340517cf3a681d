import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TracerState } from './tracer-state.js';
import { parseRecord } from '../bpftrace/records.js';
import { GSO_TABLE_4_14 } from '../kernel/gso.js';
import { TRACEPOINT_MODE } from '../modes.js';

const feed = (s: TracerState, lines: string[], now = 1_000_000) => lines.map((l) => s.apply(parseRecord(l), now));

test('kernel maps become per-hook counters that survive a restart', () => {
  const s = new TracerState(TRACEPOINT_MODE, ['netif_receive_skb_entry', 'net_dev_start_xmit'], GSO_TABLE_4_14, 8);
  assert.deepEqual(s.counters.series('inconsistent'), [['netif_receive_skb_entry', 0], ['net_dev_start_xmit', 0]]);
  feed(s, ['{"type": "attached_probes", "data": {"probes": 8}}',
    '{"type": "map", "data": {"@inconsistent": {"tracepoint:net:netif_receive_skb_entry": 1000}}}',
    '{"type": "map", "data": {"@tb_tokens": 5}}']);
  assert.equal(s.up, true);
  assert.equal(s.lastSeenSeconds.inconsistent, 1000);
  s.runStarted();
  feed(s, ['{"type": "map", "data": {"@inconsistent": {"tracepoint:net:netif_receive_skb_entry": 3}}}']);
  assert.equal(s.counters.get('inconsistent', 'netif_receive_skb_entry'), 1003);
  assert.equal(s.counters.get('tb_tokens'), 0);
});

test('sampled events are decoded; garbage is counted and reported', () => {
  const s = new TracerState(TRACEPOINT_MODE, [], GSO_TABLE_4_14, 8);
  const [ev, bad, lost] = feed(s, [
    JSON.stringify({ type: 'printf', data: 'FLE1 kind=1 hook=tracepoint:net:netif_receive_skb_entry dev=tap0 ifindex=2 skb=0x1 shinfo=0x2 len=3040 data_len=0 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=1027 frag_list=0x0 cloned=0 l3=ipv4 proto=6 src=198.18.0.2 dst=198.18.0.1 sport=1 dport=2 cpu=0 pid=1 comm=x ts=9\n' }),
    '{"type": "map", "data": {"@x": {"a": 1',
    '{"type": "lost_events", "data": {"events": 3}}',
  ]);
  assert.equal(ev.kind, 'event');
  assert.equal(ev.kind === 'event' && ev.event.gso_type_names, 'TCPV4|DODGY|UDP_TUNNEL');
  assert.equal(ev.kind === 'event' && ev.event.hook, 'netif_receive_skb_entry');
  assert.equal(bad.kind, 'problem');
  assert.equal(lost.kind, 'lost');
  assert.equal(s.counters.get('unparsable_lines'), 1);
  assert.equal(s.counters.get('lost_events'), 3);
  assert.equal(s.events.list().length, 1);
});
