import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashSummary, lastWordBefore } from './join.js';
import type { LastWord } from './last-words.js';

const A = 'aaaaaaaa-0000-0000-0000-000000000001', B = 'bbbbbbbb-0000-0000-0000-000000000002';
const start = (t: number, boot: string): LastWord => ({ t, boot, kind: 'start' });
const heard = (t: number, boot: string, culprit = 'bpf_skb_pull_data'): LastWord =>
  ({ t, boot, kind: 'fraglist_nolist', hook: 'bpf_skb_pull_data', culprit, flow: '198.18.14.1:40000 -> 198.18.15.2:6001' });
const oops = { class: 'segmentation' as const, function: '__udp_gso_segment' };

test('the crash of a boot whose agent heard a FRAGLIST skb 1.6 s before: joined', () => {
  const words = [start(1_000, A), heard(50_000, A, 'older'), heard(98_400, A)];
  const w = lastWordBefore(100_000, words);
  assert.equal(w?.culprit, 'bpf_skb_pull_data');
  assert.equal(crashSummary(oops, 100_000, w),
    'crashed in __udp_gso_segment 1.6 s after FRAGLIST without a list at bpf_skb_pull_data (culprit bpf_skb_pull_data, 198.18.14.1:40000 -> 198.18.15.2:6001)');
});

test('the crash of a boot whose agent heard nothing: not joined with an earlier boot\'s words', () => {
  // boot A heard a FRAGLIST skb and crashed; boot B's agent started and the kernel died before it heard any
  const words = [start(1_000, A), heard(9_000, A), start(60_000, B)];
  assert.equal(lastWordBefore(70_000, words), undefined);
  assert.equal(crashSummary(oops, 70_000, undefined), 'crashed in __udp_gso_segment; the agent heard no critical skb before it (culprit unknown)');
});

test('words after the crash, or long before it, are not its cause', () => {
  assert.equal(lastWordBefore(100_000, [start(0, A), heard(100_001, A)]), undefined);
  assert.equal(lastWordBefore(1_000_000, [start(0, A), heard(1_000, A)]), undefined);
  assert.equal(lastWordBefore(100_000, []), undefined);
});

test('a crash elsewhere is summarised by its RIP, never joined', () => {
  assert.equal(crashSummary({ class: 'other', function: 'other', rip: { function: 'ext4_foo', offset: '0x1/0x2' } }, 1, undefined),
    'crashed in ext4_foo, not in GSO segmentation');
});

test('a helper and the pull inside it heard in the last burst: the helper is blamed, whichever was heard last', () => {
  const words = [start(0, A), heard(98_000, A), heard(98_400, A, '__skb_linearize')];
  assert.equal(lastWordBefore(100_000, words)?.culprit, 'bpf_skb_pull_data');
  // only the inner one heard: it is named
  assert.equal(lastWordBefore(100_000, [start(0, A), heard(98_400, A, '__skb_linearize')])?.culprit, '__skb_linearize');
  // the helper heard long before the last burst: not part of it
  assert.equal(lastWordBefore(100_000, [start(0, A), heard(90_000, A), heard(98_400, A, '__skb_linearize')])?.culprit, '__skb_linearize');
});
