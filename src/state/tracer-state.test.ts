import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TracerState } from './tracer-state.js';
import { parseRecord } from '../bpftrace/records.js';
import { GSO_TABLE_4_14 } from '../kernel/gso.js';
import { MODES } from '../modes.js';

const plan = (hooks: string[]) => ({ mode: MODES.tracepoint, program: { path: 'x' }, hooks, unattached: [] });

const feed = (s: TracerState, lines: string[], now = 1_000_000) => lines.map((l) => s.apply(parseRecord(l), now));

test('kernel maps become per-hook counters that survive a restart', () => {
  const s = new TracerState(plan(['netif_receive_skb_entry', 'net_dev_start_xmit']), GSO_TABLE_4_14, 8);
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
  const s = new TracerState(plan([]), GSO_TABLE_4_14, 8);
  const [ev, bad, lost] = feed(s, [
    JSON.stringify({ type: 'printf', data: 'FLE2 kind=1 crit=1 hook=tracepoint:net:netif_receive_skb_entry dev=tap0 ifindex=2 skb=0x1 shinfo=0x2 before=0x0 after=0x0 len=3040 data_len=0 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=1027 gso_before=0x0 cloned=0 ethertype=2048 proto=6 a=20012c6:0 b=10012c6:0 sport=1 dport=2 cpu=0 pid=1 comm=x ts=9\n' }),
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

test('kernel-function modes: numeric hook keys become labels, with transition counters', () => {
  const s = new TracerState({ mode: MODES.kprobe, program: { text: '' }, hooks: ['skb_segment', '__skb_linearize'], unattached: [{ hook: 'skb_gro_receive_list', why: 'absent' }] }, GSO_TABLE_4_14, 8);
  assert.deepEqual(s.counters.series('access'), [['skb_segment', 0], ['__skb_linearize', 0]]);
  feed(s, ['{"type": "map", "data": {"@access": {"7": 12}}}', '{"type": "map", "data": {"@clear": {"3": 2}}}']);
  assert.equal(s.counters.get('access', 'skb_segment'), 12);
  assert.equal(s.counters.get('clear', '__skb_linearize'), 2);
});
