import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DecodedEvent } from '../state/decoded-event.js';
import { judgeFor } from '../state/danger.js';
import { eventLogLine } from './event-log.js';

const fixed = judgeFor('fixed'), lacking = judgeFor('lacking');

const e = (more: Partial<DecodedEvent>) => ({ kind: 'inconsistent', hook: 'napi_gro_receive_entry', inconsistent: true, overrun: false, fraglist_nolist: false, culprit: 'unseen', ...more }) as DecodedEvent;

test('the log level follows the danger: error where it pages, warn where it warns, debug otherwise', () => {
  assert.equal(eventLogLine(e({}), fixed).level, 'warn', 'routine receive-side INCONSISTENT: a warning, not an error');
  const page = eventLogLine(e({ hook: 'skb_segment', culprit: 'bpf_skb_pull_data' }), fixed);
  assert.equal(page.level, 'error');
  assert.match(page.msg, /^sampled INCONSISTENT at skb_segment; culprit bpf_skb_pull_data: INCONSISTENT at skb_segment/);
  // a pull that leaves FRAGLIST without a list: a CLEAR flagged so, which the old test logged at debug
  const pull = eventLogLine(e({ kind: 'clear', hook: 'bpf_skb_pull_data', inconsistent: false, fraglist_nolist: true, culprit: 'bpf_skb_pull_data' }), fixed);
  assert.equal(pull.level, 'warn');
  // the same pull on a kernel without the 2024 fraglist fix: list segmentation will crash on it
  const unfixed = eventLogLine(e({ kind: 'clear', hook: 'bpf_skb_pull_data', inconsistent: false, fraglist_nolist: true, culprit: 'bpf_skb_pull_data' }), lacking);
  assert.equal(unfixed.level, 'error');
  assert.match(unfixed.msg, /culprit bpf_skb_pull_data: .*crashes in skb_segment_list/);
  assert.equal(eventLogLine(e({ kind: 'fraglist_nolist', hook: 'skb_segment_list_entry', inconsistent: false, fraglist_nolist: true }), fixed).level, 'error');
  assert.equal(eventLogLine(e({ kind: 'create', hook: 'skb_gro_receive_list', inconsistent: false }), fixed).level, 'debug');
  assert.equal(eventLogLine(e({ kind: 'overrun', hook: 'pskb_expand_head', inconsistent: false, overrun: true }), fixed).level, 'error');
});
