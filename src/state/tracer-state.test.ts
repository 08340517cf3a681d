import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { TracerState } from './tracer-state.js';
import { parseRecord } from '../bpftrace/records.js';
import { GSO_TABLE_4_14 } from '../kernel/gso.js';
import { MODES } from '../modes.js';

const plan = (hooks: string[]) => ({ mode: MODES.tracepoint, program: { text: '' }, hooks, unattached: [] });

const feed = (s: TracerState, lines: string[], now = 1_000_000) => lines.map((l) => s.apply(parseRecord(l), now));

test('kernel maps become per-hook counters that survive a restart', () => {
  const s = new TracerState(plan(['netif_receive_skb_entry', 'net_dev_start_xmit']), GSO_TABLE_4_14, 8);
  assert.deepEqual(s.counters.series('inconsistent'), [], 'a crash-state series is born with its first skb');
  assert.deepEqual(s.counters.series('inspected'), [['netif_receive_skb_entry', 0], ['net_dev_start_xmit', 0]]);
  feed(s, ['{"type": "attached_probes", "data": {"probes": 8}}', '{"type": "map", "data": {"@ticks": 1}}',
    '{"type": "map", "data": {"@inconsistent": {"tracepoint:net:netif_receive_skb_entry,255": 1000}}}',
    '{"type": "map", "data": {"@tb_tokens": 5}}']);
  assert.equal(s.status.up, true);
  assert.deepEqual(s.lastRise.series('inconsistent'), [['netif_receive_skb_entry\tunseen', 1000]]);
  feed(s, ['{"type": "map", "data": {"@inconsistent": {"tracepoint:net:netif_receive_skb_entry,255": 1000}}}'], 1_060_000);
  assert.deepEqual(s.lastRise.series('inconsistent'), [['netif_receive_skb_entry\tunseen', 1000]], 'the same count again is no rise');
  s.runStarted();
  feed(s, ['{"type": "map", "data": {"@inconsistent": {"tracepoint:net:netif_receive_skb_entry,255": 3}}}'], 1_120_000);
  assert.equal(s.counters.get('inconsistent', 'netif_receive_skb_entry\tunseen'), 1003);
  assert.deepEqual(s.lastRise.series('inconsistent'), [['netif_receive_skb_entry\tunseen', 1120]], 'the new run\'s skbs are a rise');
  assert.equal(s.counters.get('tb_tokens'), 0);
});

test('@seen (kernel-function modes) becomes inspected, gso and with_frag_list per hook; a bad key counts once', () => {
  // hook ids as the program prints them: 7 skb_segment, 5 pskb_expand_head
  const s = new TracerState({ ...plan(['pskb_expand_head', 'skb_segment']), mode: MODES.kprobe }, GSO_TABLE_4_14, 8);
  const [ok] = feed(s, ['{"type": "map", "data": {"@seen": {"7,1": 10, "7,0": 5, "5,3": 2}}}']);
  assert.equal(ok.kind, 'none');
  assert.equal(s.counters.get('inspected', 'skb_segment'), 15);
  assert.equal(s.counters.get('gso', 'skb_segment'), 10);
  assert.equal(s.counters.get('with_frag_list', 'skb_segment'), 0);
  assert.equal(s.counters.get('with_frag_list', 'pskb_expand_head'), 2);
  s.runStarted();
  const [bad] = feed(s, ['{"type": "map", "data": {"@seen": {"7,1": 1, "11,3": 7}}}']);
  assert.equal(bad.kind, 'problem');
  assert.equal(s.counters.get('unparsable_lines'), 1);
  assert.equal(s.counters.get('inspected', 'skb_segment'), 16);
  assert.equal(s.counters.get('gso', 'skb_segment'), 11);
  assert.deepEqual(s.counters.series('inspected').map(([l]) => l), ['pskb_expand_head', 'skb_segment']);
  // per-hook maps are tracepoint mode's: a kprobe run that printed one would count nothing
  feed(s, ['{"type": "map", "data": {"@shape1__skb_segment": 99}}']);
  assert.equal(s.counters.get('inspected', 'skb_segment'), 16);
});

test('tracepoint mode: per-hook maps without a key, one per shape, sum into inspected, gso and with_frag_list; an unknown hook or a keyed body is reported, not counted', () => {
  const s = new TracerState(plan(['netif_receive_skb_entry', 'net_dev_start_xmit']), GSO_TABLE_4_14, 8);
  const map = (name: string, body: string) => `{"type": "map", "data": {"@${name}": ${body}}}`;
  const ok = feed(s, [map('shape1__net_dev_start_xmit', '10'), map('shape0__net_dev_start_xmit', '5'), map('shape3__net_dev_start_xmit', '0'),
    map('shape2__netif_receive_skb_entry', '2')]);
  assert.deepEqual(ok.map((r) => r.kind), ['none', 'none', 'none', 'none']);
  assert.equal(s.counters.get('inspected', 'net_dev_start_xmit'), 15);
  assert.equal(s.counters.get('gso', 'net_dev_start_xmit'), 10);
  assert.equal(s.counters.get('with_frag_list', 'net_dev_start_xmit'), 0);
  assert.equal(s.counters.get('inspected', 'netif_receive_skb_entry'), 2);
  assert.equal(s.counters.get('with_frag_list', 'netif_receive_skb_entry'), 2);
  assert.equal(s.counters.get('gso', 'netif_receive_skb_entry'), 0);
  // the next print of one shape moves its hook's sums, and only those that hold it
  feed(s, [map('shape0__net_dev_start_xmit', '10')]);
  assert.equal(s.counters.get('inspected', 'net_dev_start_xmit'), 20);
  assert.equal(s.counters.get('gso', 'net_dev_start_xmit'), 10);
  assert.equal(s.counters.get('inspected', 'netif_receive_skb_entry'), 2);
  // carried across a restart; the new run's sums do not hold the old run's shapes
  s.runStarted();
  feed(s, [map('shape1__net_dev_start_xmit', '1')]);
  assert.equal(s.counters.get('inspected', 'net_dev_start_xmit'), 21);
  assert.equal(s.counters.get('gso', 'net_dev_start_xmit'), 11);
  const bad = feed(s, [map('shape1__nope', '7'), map('shape1__net_dev_start_xmit', '{"x": 3}'), map('shape1__net_dev_start_xmit', '{"": 3, "y": 4}')]);
  assert.deepEqual(bad.map((r) => r.kind), ['problem', 'problem', 'problem']);
  assert.equal(s.counters.get('unparsable_lines'), 4, 'one per bad key');
  feed(s, [map('shape0__nope', '1')]);
  assert.equal(s.counters.get('unparsable_lines'), 5, 'an unknown hook\'s other shape: one bad key more');
  assert.equal(s.counters.get('gso', 'net_dev_start_xmit'), 11);
  assert.deepEqual(s.counters.series('inspected').map(([l]) => l), ['netif_receive_skb_entry', 'net_dev_start_xmit'], 'no series for a made-up hook');
  // a shape no program counts is not a per-hook map; nor were the per-counter maps of earlier builds
  feed(s, [map('shape4__net_dev_start_xmit', '50'), map('inspected__net_dev_start_xmit', '50')]);
  assert.equal(s.counters.get('inspected', 'net_dev_start_xmit'), 21);
  // @seen is the kernel-function modes' map: tracepoint mode's program never prints it
  feed(s, [map('seen', '{"tracepoint:net:net_dev_start_xmit,1": 50}')]);
  assert.equal(s.counters.get('inspected', 'net_dev_start_xmit'), 21);
});

test('counters come only from the maps the program prints: an @inspected map (which none prints) counts nothing', () => {
  const s = new TracerState(plan(['net_dev_start_xmit']), GSO_TABLE_4_14, 8);
  const [r] = feed(s, ['{"type": "map", "data": {"@inspected": {"tracepoint:net:net_dev_start_xmit": 9}}}',
    '{"type": "map", "data": {"@filtered": {"tracepoint:net:net_dev_start_xmit": 4}}}']);
  assert.equal(r.kind, 'none');
  assert.equal(s.counters.get('inspected', 'net_dev_start_xmit'), 0);
  assert.equal(s.counters.get('filtered', 'net_dev_start_xmit'), 4);
});

test('sampled events are decoded; garbage is counted and reported', () => {
  const s = new TracerState(plan(['netif_receive_skb_entry']), GSO_TABLE_4_14, 8);
  feed(s, ['{"type": "attached_probes", "data": {"probes": 8}}']);
  const [ev, bad, lost] = feed(s, [
    JSON.stringify({ type: 'printf', data: 'FLE4 kind=1 crit=1 hook=tracepoint:net:netif_receive_skb_entry ifindex=2 skb=0x1 shinfo=0x2 before=0x0 after=0x0 len=3040 data_len=0 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=1027 gso_before=0x0 cloned=0 ethertype=2048 proto=6 a=20012c6:0 b=10012c6:0 sport=1 dport=2 cpu=0 pid=1 ts=9 culprit=255 culprit_ts=0 dev=tap0\n\nculprit_stack=\ncomm=x' }),
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
  const s = new TracerState({ mode: MODES.kprobe, program: { text: '' }, hooks: ['skb_segment', '__skb_linearize'], unattached: [{ hook: 'skb_gro_receive_list', why: 'absent', inKernel: false }] }, GSO_TABLE_4_14, 8);
  // each starts at 0 only where the program can count it (program.ts canCount): ACCESS at skb_segment, transitions at writers
  assert.deepEqual(s.counters.series('access'), [['skb_segment', 0]]);
  assert.deepEqual(s.counters.series('clear'), [['__skb_linearize', 0]]);
  assert.deepEqual(s.counters.series('inspected'), [['skb_segment', 0], ['__skb_linearize', 0]]);
  feed(s, ['{"type": "map", "data": {"@access": {"7": 12}}}', '{"type": "map", "data": {"@clear": {"3": 2}}}']);
  assert.equal(s.counters.get('access', 'skb_segment'), 12);
  assert.equal(s.counters.get('clear', '__skb_linearize'), 2);
});

test('crash states are counted per hook and culprit; a culprit id no program prints is rejected', () => {
  const s = new TracerState({ mode: MODES.kprobe, program: { text: '' }, hooks: ['skb_segment', 'bpf_skb_pull_data'], unattached: [] }, GSO_TABLE_4_14, 8);
  assert.deepEqual(s.counters.series('fraglist_nolist'), []);
  const [a] = feed(s, ['{"type": "map", "data": {"@inconsistent": {"7,9": 5, "7,255": 2, "7,200": 1, "7": 1}}}']);
  assert.equal(s.counters.get('inconsistent', 'skb_segment\tbpf_skb_pull_data'), 5);
  assert.equal(s.counters.get('inconsistent', 'skb_segment\tunseen'), 2);
  assert.deepEqual(s.lastRise.series('inconsistent').map(([l]) => l), ['skb_segment\tbpf_skb_pull_data', 'skb_segment\tunseen'], 'rejected keys never rise');
  assert.equal(s.counters.get('unparsable_lines'), 2, 'culprit 200 and a key without a culprit');
  assert.equal(a.kind, 'problem');
  const [e] = feed(s, [JSON.stringify({ type: 'printf', data: 'FLE4 kind=1 crit=1 hook=7 ifindex=2 skb=0x1 shinfo=0x2 before=0x0 after=0x0 len=3040 data_len=0 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=3 gso_before=0x0 cloned=0 ethertype=2048 proto=17 a=20012c6:0 b=10012c6:0 sport=1 dport=2 cpu=0 pid=1 ts=90 culprit=9 culprit_ts=40 dev=pr1\n        skb_segment+5\nculprit_stack=\n        bpf_skb_pull_data+5\ncomm=x' })]);
  assert.equal(e.kind, 'event');
  assert.equal(e.kind === 'event' && e.event.culprit, 'bpf_skb_pull_data');
  assert.equal(e.kind === 'event' && e.event.culprit_age_ns, '50');
  assert.deepEqual(e.kind === 'event' && e.event.culprit_stack, ['bpf_skb_pull_data+5']);
});

test('a bad value or an unknown hook costs its own key, not the record: counted as unparsable', () => {
  const s = new TracerState(plan(['netif_receive_skb_entry', 'net_dev_start_xmit']), GSO_TABLE_4_14, 8);
  const [a] = feed(s, ['{"type": "map", "data": {"@inconsistent": {"tracepoint:net:netif_receive_skb_entry,255": 7, "tracepoint:net:net_dev_start_xmit,255": -1, "tracepoint:net:made_up,255": 3}}}']);
  assert.equal(s.counters.get('inconsistent', 'netif_receive_skb_entry\tunseen'), 7);
  assert.equal(s.counters.get('inconsistent', 'net_dev_start_xmit\tunseen'), 0);
  assert.deepEqual(s.counters.series('inconsistent').map(([h]) => h), ['netif_receive_skb_entry\tunseen'], 'no series for a bad value or a made-up hook');
  assert.equal(s.counters.get('unparsable_lines'), 2);
  assert.equal(a.kind, 'problem');
});

test('a sampled event from a hook this plan does not have is unparsable, not an event', () => {
  const s = new TracerState(plan(['net_dev_start_xmit']), GSO_TABLE_4_14, 8);
  const text = 'FLE4 kind=1 crit=1 hook=tracepoint:net:netif_receive_skb_entry ifindex=2 skb=0x1 shinfo=0x2 before=0x0 after=0x0 len=3040 data_len=0 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=3 gso_before=0x0 cloned=0 ethertype=2048 proto=6 a=20012c6:0 b=10012c6:0 sport=1 dport=2 cpu=0 pid=1 ts=9 culprit=255 culprit_ts=0 dev=tap0\n\nculprit_stack=\ncomm=x';
  const [a] = feed(s, [JSON.stringify({ type: 'printf', data: text })]);
  assert.equal(a.kind, 'problem');
  assert.equal(s.events.list().length, 0);
});

test('attached at the first heartbeat after the announcement (bpftrace announces before it attaches); heartbeats mark it reporting', () => {
  const s = new TracerState(plan(['net_dev_start_xmit']), GSO_TABLE_4_14, 8);
  assert.equal(s.status.lastReportMs, 0);
  assert.deepEqual(feed(s, ['{"type": "attached_probes", "data": {"probes": 8}}'], 5000), [{ kind: 'none' }]);
  assert.equal(s.status.up, false, 'announced, still attaching');
  assert.deepEqual(feed(s, ['{"type": "map", "data": {"@ticks": 1}}'], 5500), [{ kind: 'attached', probes: 8 }]);
  assert.equal(s.status.up, true);
  assert.deepEqual(feed(s, ['{"type": "map", "data": {"@ticks": 3}}'], 6000), [{ kind: 'none' }]);
  assert.equal(s.status.lastReportMs, 6000);
  feed(s, ['{"type": "map", "data": {"@inconsistent": {}}}', 'garbage'], 9000);
  assert.equal(s.status.lastReportMs, 6000, 'only the heartbeat counts as reporting');
});

test('property: no sequence of bpftrace lines, however malformed, throws or lowers a counter', () => {
  const s = new TracerState(plan(['netif_receive_skb_entry']), GSO_TABLE_4_14, 4);
  const maps = fc.record({ name: fc.constantFrom('@inconsistent', '@inspected', '@ticks', '@x', ''), key: fc.constantFrom('tracepoint:net:netif_receive_skb_entry,255', 'tracepoint:net:netif_receive_skb_entry', 'x', '', ','), v: fc.oneof(fc.integer(), fc.string(), fc.double(), fc.constant(null)) })
    .map(({ name, key, v }) => JSON.stringify({ type: 'map', data: { [name]: { [key]: v } } }));
  const line = fc.oneof(maps, fc.string({ unit: 'binary' }), fc.json(), fc.constantFrom('{"type": "printf", "data": "FLE4 kind=1"}', '{"type": "lost_events", "data": {"events": 1e400}}'));
  fc.assert(fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
    let before = s.counters.get('inconsistent', 'netif_receive_skb_entry\tunseen');
    for (const l of lines) {
      s.apply(parseRecord(l), 1);
      if (Math.random() < 0.1) s.runStarted();
      const now = s.counters.get('inconsistent', 'netif_receive_skb_entry\tunseen');
      assert.ok(now >= before);
      before = now;
    }
  }), { numRuns: 500 });
});

test('bpftrace 0.24+ prints compiler warnings on stdout before it attaches: diagnostics, not unparsable output; after attaching, the same line is unparsable', () => {
  const s = new TracerState(plan(['netif_receive_skb_entry']), GSO_TABLE_4_14, 8);
  // as bpftrace 0.27.0 printed them for probes/tracepoint.bt, measured on this host
  const warning = ['/work/main/probes/tracepoint.bt:142:18-22: WARNING: Expression of type: uint64 being cast to type: int64. This may cause unexpected results. Use an explicit cast to suppress this warning.',
    '  $t = (int64)$now;', '                 ~~~~~'];
  assert.deepEqual(feed(s, warning).map((a) => a.kind), ['diagnostic', 'diagnostic', 'diagnostic']);
  assert.equal(s.counters.get('unparsable_lines'), 0);
  feed(s, ['{"type": "attached_probes", "data": {"probes": 8}}']);
  assert.equal(feed(s, [warning[0]])[0].kind, 'problem');
  assert.equal(s.counters.get('unparsable_lines'), 1);
  // a restarted bpftrace compiles again
  s.runStarted();
  assert.equal(feed(s, [warning[0]])[0].kind, 'diagnostic');
  // a broken record is never a diagnostic, even before attaching
  assert.equal(feed(s, ['{"type": "map", "data": 5}'])[0].kind, 'problem');
  assert.equal(s.counters.get('unparsable_lines'), 2);
});
