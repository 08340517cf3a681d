import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LastRise } from './last-rise.js';

test('a series exists from its first rise and keeps the time of its latest one', () => {
  const r = new LastRise();
  assert.deepEqual(r.series('overrun'), []);
  r.rose('overrun', [], 10);
  assert.deepEqual(r.series('overrun'), [], 'nothing rose: no series');
  r.rose('overrun', ['skb_segment\tunseen'], 10);
  r.rose('overrun', ['skb_segment\tunseen', 'net_dev_start_xmit\tunseen'], 25);
  r.rose('inconsistent', ['skb_segment\tunseen'], 30);
  assert.deepEqual(r.series('overrun'), [['skb_segment\tunseen', 25], ['net_dev_start_xmit\tunseen', 25]]);
  assert.deepEqual(r.series('inconsistent'), [['skb_segment\tunseen', 30]]);
});
