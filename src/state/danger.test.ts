import { test } from 'node:test';
import assert from 'node:assert/strict';
import { danger, hookIn, hookNotIn, judgeFor } from './danger.js';

const seen = (kind: string, hook: string, inconsistent = false, overrun = false, fraglist_nolist = false) => danger({ kind, hook, inconsistent, overrun, fraglist_nolist }).level;

test('INCONSISTENT is critical at skb_segment only; at receive hooks and writers it is a warning', () => {
  assert.equal(seen('inconsistent', 'skb_segment', true), 'critical');
  for (const hook of ['napi_gro_receive_entry', 'netif_receive_skb_entry', 'net_dev_start_xmit', '__skb_linearize', 'pskb_expand_head']) {
    assert.equal(seen('inconsistent', hook, true), 'warning', hook);
  }
  // a transition that leaves the skb INCONSISTENT follows the same rule
  assert.equal(seen('clear', 'pskb_expand_head', true), 'warning');
  assert.equal(seen('access', 'skb_segment', true), 'critical');
});

test('OVERRUN is critical wherever it is seen', () => {
  for (const hook of ['netif_receive_skb_entry', 'skb_segment', '___pskb_trim']) assert.equal(seen('overrun', hook, false, true), 'critical');
  assert.equal(seen('modify', 'pskb_expand_head', true, true), 'critical');
});

test('ordinary transitions are not dangerous; the reason is given when they are', () => {
  assert.deepEqual(danger({ kind: 'create', hook: 'skb_gro_receive', inconsistent: false, overrun: false, fraglist_nolist: false }), { level: 'none', alert: 'none', why: '' });
  assert.match(danger({ kind: 'inconsistent', hook: 'napi_gro_receive_entry', inconsistent: true, overrun: false, fraglist_nolist: false }).why, /not at a crash point/);
});

test('FRAGLIST without a list pages at the entry of list segmentation; elsewhere it warns, unless the skb is dangerous there for another reason', () => {
  assert.equal(seen('fraglist_nolist', 'skb_segment_list_entry', true, false, true), 'critical');
  assert.equal(seen('clear', 'bpf_skb_pull_data', true, false, true), 'warning', 'the pull that makes it: a warning with its culprit');
  // a fixed kernel routes the pulled skb to skb_segment: INCONSISTENT there pages
  assert.equal(seen('fraglist_nolist', 'skb_segment', true, false, true), 'critical');
  assert.match(danger({ kind: 'fraglist_nolist', hook: 'skb_segment', inconsistent: true, overrun: false, fraglist_nolist: true }).why, /INCONSISTENT at skb_segment/);
});

test('on a kernel not known to have the 2024 fraglist fix, FRAGLIST without a list pages wherever it is seen: skb_segment_list will crash on it', () => {
  const d = danger({ kind: 'clear', hook: 'bpf_skb_pull_data', inconsistent: true, overrun: false, fraglist_nolist: true }, true);
  assert.equal(d.level, 'critical');
  assert.match(d.why, /crashes in skb_segment_list/);
  assert.equal(danger({ kind: 'fraglist_nolist', hook: 'skb_segment_list_entry', inconsistent: true, overrun: false, fraglist_nolist: true }, true).level, 'critical');
  // the seed's INCONSISTENT state is unaffected by the kernel's fraglist fix
  assert.equal(danger({ kind: 'inconsistent', hook: 'napi_gro_receive_entry', inconsistent: true, overrun: false, fraglist_nolist: false }, true).level, 'warning');
});

test('hook matchers select exactly the crash points, or everything else', () => {
  assert.equal(hookIn(['skb_segment']), 'hook=~"skb_segment"');
  assert.equal(hookNotIn(['skb_segment_list_entry', 'x']), 'hook!~"skb_segment_list_entry|x"');
});

test('what the shipped rules raise: a page at the crash points and for OVERRUN, no alert for INCONSISTENT elsewhere (legal there)', () => {
  const alert = (kind: string, hook: string, o: { inconsistent?: boolean; overrun?: boolean; fraglist_nolist?: boolean } = {}, fix = 'fixed' as const) =>
    judgeFor(fix)({ kind, hook, inconsistent: false, overrun: false, fraglist_nolist: false, ...o }).alert;
  assert.equal(alert('inconsistent', 'skb_segment', { inconsistent: true }), 'page');
  assert.equal(alert('inconsistent', 'napi_gro_receive_entry', { inconsistent: true }), 'none');
  assert.equal(alert('overrun', 'netif_receive_skb_entry', { overrun: true }), 'page');
  assert.equal(alert('clear', 'bpf_skb_pull_data', { fraglist_nolist: true }), 'warning');
  assert.equal(judgeFor('lacking')({ kind: 'clear', hook: 'bpf_skb_pull_data', inconsistent: false, overrun: false, fraglist_nolist: true }).alert, 'page',
    'a kernel without the fix: the judge bound to it pages wherever FRAGLIST without a list is seen');
  assert.equal(judgeFor('unknown')({ kind: 'clear', hook: 'bpf_skb_pull_data', inconsistent: false, overrun: false, fraglist_nolist: true }).level, 'critical');
});
