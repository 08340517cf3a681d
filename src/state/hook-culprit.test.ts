import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counters } from './counters.js';
import { hookCulpritLabel, perHook, splitLabel } from './hook-culprit.js';

test('a series label splits back into its hook and culprit; a plain hook label has no culprit', () => {
  assert.deepEqual(splitLabel(hookCulpritLabel('skb_segment', 'bpf_skb_pull_data')), { hook: 'skb_segment', culprit: 'bpf_skb_pull_data' });
  assert.deepEqual(splitLabel('netif_receive_skb_entry'), { hook: 'netif_receive_skb_entry' });
});

test('per-hook totals add every culprit of a hook', () => {
  const c = new Counters();
  c.observe('inconsistent', new Map([
    [hookCulpritLabel('skb_segment', 'unseen'), 2], [hookCulpritLabel('skb_segment', 'pskb_expand_head'), 5],
    [hookCulpritLabel('pskb_expand_head', 'pskb_expand_head'), 1],
  ]));
  c.observe('access', new Map([['skb_segment', 4]]));
  assert.deepEqual(new Map(perHook(c, 'inconsistent')), new Map([['skb_segment', 7], ['pskb_expand_head', 1]]));
  assert.deepEqual(perHook(c, 'access'), [['skb_segment', 4]]);
});
