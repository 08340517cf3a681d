import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventLines, header, statistics, clock, printable } from './rows.js';
import { Counters } from '../state/counters.js';
import type { DecodedEvent } from '../state/decoded-event.js';
import { judgeFor } from '../state/danger.js';

const event: DecodedEvent = {
  kind: 'inconsistent', inconsistent: true, overrun: false, fraglist_nolist: false, hook: 'netif_receive_skb_entry', dev: 'tap0',
  skb: '0xffff888abc123000', shinfo: '0xffff888102a0eec0', frag_list_before: '0x0', frag_list: '0x0', gso_size_before: 0, gso_type_before: 0,
  gso_type_before_names: 'NONE', ethertype: 0x0800, l3: 'ipv4', src: '198.18.0.2', dst: '198.18.0.1',
  comm: 'python3', ktime_ns: '1', time: new Date(2026, 10, 26, 14, 23, 45, 123).toISOString(), stack: ['netif_receive_skb+142', 'tun_get_user+3464'],
  ifindex: 2, len: 3040, data_len: 0, nr_frags: 0, gso_size: 1348, gso_segs: 0, gso_type: 3, cloned: 0, proto: 6, sport: 40000, dport: 5201, cpu: 1, pid: 3494,
  gso_type_names: 'TCPV4|DODGY', culprit: 'unseen',
};
const style = { verbose: false, stackTrace: false, color: false, functionWidth: 24, danger: judgeFor('fixed') };

test('default row: the guide\'s columns and marker, greppable; [CRITICAL] only at the crash point', () => {
  const [row] = eventLines(event, style);
  // a linear GSO skb on receive is legal (virtio delivers them): INCONSISTENT, but a warning
  assert.equal(row, '14:23:45.123       1   INCONSISTENT    netif_receive_skb_entry  | 0xffff888abc123000 | 0x0 (no change) [WARNING]');
  assert.equal(eventLines({ ...event, hook: 'skb_segment' }, style)[0],
    '14:23:45.123       1   INCONSISTENT    skb_segment              | 0xffff888abc123000 | 0x0 (no change) [CRITICAL]');
  assert.match(header(style)[0], /^TIME {15}CPU EVENT {11}FUNCTION {16} \| SKB {15} \| CHANGE$/);
  // every label, the longest (FRAGLIST_NOLIST) too, leaves FUNCTION in the header's column, in both tables
  for (const verbose of [false, true]) {
    const at = header({ ...style, verbose })[0].indexOf('FUNCTION');
    for (const kind of ['fraglist_nolist', 'inconsistent', 'gso_change'] as const) {
      const [first] = eventLines({ ...event, kind, fraglist_nolist: kind === 'fraglist_nolist' }, { ...style, verbose });
      assert.equal(first.indexOf('netif_receive_skb_entry'), at, `${kind}, verbose ${verbose}: ${first}`);
    }
  }
});

test('verbose: decoded GSO flags, the flow line and why the marker; IPv6 in brackets', () => {
  const lines = eventLines(event, { ...style, verbose: true });
  assert.match(lines[0], /python3 +3494 +INCONSISTENT +netif_receive_skb_entry .*\| type=TCPV4\|DODGY size=1348 segs=0 \[WARNING\]$/);
  assert.equal(lines[1], '  -> Flow: 198.18.0.2:40000 -> 198.18.0.1:5201 | dev=tap0 len=3040 data_len=0 nr_frags=0 cloned=0');
  assert.match(lines[2], /^  -> WARNING: INCONSISTENT at netif_receive_skb_entry, not at a crash point: /);
  assert.match(eventLines({ ...event, hook: 'skb_segment' }, { ...style, verbose: true })[2], /^  -> CRITICAL: INCONSISTENT at skb_segment, the crash point/);
  const v6 = eventLines({ ...event, l3: 'ipv6', src: '2001:db8::2', dst: '2001:db8::1' }, { ...style, verbose: true });
  assert.match(v6[1], /Flow: \[2001:db8::2\]:40000 -> \[2001:db8::1\]:5201/);
});

test('stack frames are indented under the row; colour only when asked', () => {
  const lines = eventLines(event, { ...style, stackTrace: true, color: true });
  assert.deepEqual(lines.slice(1), ['        netif_receive_skb+142', '        tun_get_user+3464']);
  assert.match(lines[0], /\x1b\[33m\[WARNING\]\x1b\[0m/);
  assert.match(eventLines({ ...event, hook: 'skb_segment' }, { ...style, color: true })[0], /\x1b\[31;1m\[CRITICAL\]\x1b\[0m/);
});

test('an OVERRUN row says how much data_len claims', () => {
  const [row] = eventLines({ ...event, kind: 'overrun', inconsistent: false, overrun: true, data_len: 9000 }, style);
  assert.match(row, /OVERRUN {6}.*0x0 \(no change\) data_len=9000 beyond frags \[CRITICAL\]$/);
});

test('the guide\'s transitions: CREATE, CLEAR [!!], ACCESS [WARNING], GSO changes', () => {
  const k = { ...event, inconsistent: false, hook: 'skb_gro_receive_list' };
  assert.match(eventLines({ ...k, kind: 'create', frag_list: '0xffff888def456000' }, style)[0],
    /CREATE {10}skb_gro_receive_list {5}\| 0xffff888abc123000 \| NULL -> 0xffff888def456000$/);
  assert.match(eventLines({ ...k, kind: 'clear', hook: 'skb_segment_list', frag_list_before: '0xffff888def456000' }, style)[0],
    /CLEAR .*\| 0xffff888def456000 -> NULL \[!!\]$/);
  assert.match(eventLines({ ...k, kind: 'clear', hook: 'pskb_expand_head', frag_list_before: '0xffff888def456000', inconsistent: true }, style)[0],
    /0xffff888def456000 -> NULL now INCONSISTENT \[!!\] \[WARNING\]$/);
  assert.match(eventLines({ ...k, kind: 'access', hook: 'skb_segment' }, style)[0], /ACCESS .*\| 0x0 \(no change\) \[WARNING\]$/);
  assert.match(eventLines({ ...k, kind: 'gso_change', hook: 'bpf_skb_adjust_room', gso_size_before: 1398, gso_type_before_names: 'TCPV4', gso_size: 1348, gso_type_names: 'TCPV4|DODGY|UDP_TUNNEL' }, style)[0],
    /GSO_CHANGE .*gso 1398\/TCPV4 -> 1348\/TCPV4\|DODGY\|UDP_TUNNEL$/);
});

test('statistics come from the counters, and say what the mode cannot see', () => {
  const c = new Counters();
  c.observe('inconsistent', new Map([['a', 30]]));
  c.observe('filtered', new Map([['a', 20], ['b', 5]]));
  c.observe('suppressed', new Map([['a', 10]]));
  const lines = statistics({ counters: c, rowsShown: 20, sampleRate: 20, modeName: 'tracepoint', modeCounters: ['inconsistent', 'overrun', 'filtered', 'suppressed'], hooks: ['a', 'b'] });
  assert.equal(lines[0], '--- Statistics ---');
  assert.ok(lines.includes('Total events:       30'));
  assert.ok(lines.includes('  INCONSISTENT:     30    (tracepoint mode cannot see skb_segment, where they would crash)'), lines.join('\n'));
  assert.ok(lines.includes('  Filtered out:     25'));
  assert.ok(lines.includes('  CREATE events:    n/a (tracepoint mode cannot see it)'));
  assert.ok(lines.some((l) => l.startsWith('Rows suppressed:    10')));
});

test('clock is HH:MM:SS.mmm', () => {
  assert.equal(clock(new Date(2026, 0, 1, 3, 4, 5, 6)), '03:04:05.006');
});

test('in a kernel-function mode every kind is counted', () => {
  const c = new Counters();
  c.observe('create', new Map([['skb_gro_receive_list', 25]]));
  c.observe('clear', new Map([['skb_segment_list', 24]]));
  c.observe('access', new Map([['skb_segment', 1]]));
  const modeCounters = ['create', 'clear', 'modify', 'access', 'inconsistent', 'overrun', 'gso_change'];
  const hooks = ['skb_gro_receive_list', 'skb_segment_list', 'skb_segment', '__skb_linearize'];
  const lines = statistics({ counters: c, rowsShown: 0, sampleRate: 20, modeName: 'kprobe', modeCounters, hooks });
  assert.ok(lines.includes('Total events:       50'));
  c.observe('inconsistent', new Map([['__skb_linearize\tunseen', 7]]));
  assert.ok(statistics({ counters: c, rowsShown: 0, sampleRate: 20, modeName: 'kprobe', modeCounters, hooks })
    .includes('  INCONSISTENT:     7    (none at skb_segment: linear GSO skbs, legal where they were seen)'));
  c.observe('inconsistent', new Map([['__skb_linearize\tunseen', 7], ['skb_segment\tunseen', 2], ['skb_segment\tpskb_expand_head', 3]]));
  const problem = statistics({ counters: c, rowsShown: 0, sampleRate: 20, modeName: 'kprobe', modeCounters, hooks });
  assert.ok(problem.includes('  INCONSISTENT:     12    <- This is the problem! (5 at skb_segment; culprits: pskb_expand_head 3, unseen 2)'), problem.join('\n'));
  assert.ok(lines.includes('  CREATE events:    25'));
  assert.ok(lines.includes('  MODIFY events:    0'));
});

test('a dangerous row names its culprit (verbose), and --stack-trace prints the culprit\'s stack after the row\'s', () => {
  const found = { ...event, hook: 'skb_segment', culprit: 'bpf_skb_pull_data', culprit_age_ns: '1204000', culprit_stack: ['bpf_skb_pull_data+5', 'tcf_classify+90'] };
  const verbose = eventLines(found, { ...style, verbose: true });
  assert.equal(verbose[3], '  -> Culprit: bpf_skb_pull_data, 1.204 ms before');
  assert.match(eventLines(event, { ...style, verbose: true })[3], /^  -> Culprit: unseen \(no hooked function/);
  assert.deepEqual(eventLines(found, { ...style, stackTrace: true }).slice(1), [
    '        netif_receive_skb+142', '        tun_get_user+3464',
    '      culprit bpf_skb_pull_data, when it wrote this skb:', '        bpf_skb_pull_data+5', '        tcf_classify+90',
  ]);
  assert.equal(eventLines(event, { ...style, stackTrace: true }).length, 3, 'no culprit, no culprit stack');
});

test('hostile names cannot forge a row or drive the terminal', () => {
  assert.equal(printable('x\n14:00:00.000 1 INCONSISTENT'), 'x\\x0a14:00:00.000 1 INCONSISTENT');
  assert.equal(printable('\u001b]0;pwned\u0007a\\b'), '\\x1b]0;pwned\\x07a\\x5cb');
  assert.equal(printable('\u00e9t\u00e9 kworker/0:1'), '\u00e9t\u00e9 kworker/0:1');
  const lines = eventLines({ ...event, comm: 'a\nb\u001b[2J', dev: 'd\re' }, { ...style, verbose: true });
  assert.equal(lines.length, 4);
  assert.ok(lines.every((l) => !/[\u0000-\u001f]/.test(l)), 'no control character reaches the terminal');
  assert.match(lines[0], /a\\x0ab\\x1b\[2J/);
  assert.match(lines[1], /dev=d\\x0de /);
});
