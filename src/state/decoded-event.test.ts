import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GSO_TABLE_4_14 } from '../kernel/gso.js';
import type { SampledEvent } from '../bpftrace/sampled-event.js';
import { decodeEvent } from './decoded-event.js';

const event = (more: Partial<SampledEvent>) => ({
  kind: 'clear', hookKey: '3', gso_type: 1027, gso_type_before: 3, ktime_ns: 12n, comm: 'x',
  culpritKey: '255', culprit_ktime_ns: 0n, culprit_stack: ['stale+1'], ...more,
}) as unknown as SampledEvent;

test('the hook by its label, GSO flags by name, times as strings; the printed keys are gone', () => {
  const d = decodeEvent(event({}), '__skb_linearize', 'unseen', GSO_TABLE_4_14, Date.UTC(2026, 10, 27));
  assert.equal(d.hook, '__skb_linearize');
  assert.equal(d.gso_type_names, 'TCPV4|DODGY|UDP_TUNNEL');
  assert.equal(d.gso_type_before_names, 'TCPV4|DODGY');
  assert.equal(d.ktime_ns, '12');
  assert.equal(d.time, '2026-11-27T00:00:00.000Z');
  assert.equal('hookKey' in d, false);
  assert.equal('culpritKey' in d, false);
  assert.doesNotThrow(() => JSON.stringify(d), 'no BigInt left for JSON');
});

test('a culprit comes with its age and stack; an unseen one with neither (the stack printed then is another skb\'s)', () => {
  const seen = decodeEvent(event({ culpritKey: '9', culprit_ktime_ns: 2n, culprit_stack: ['bpf_skb_pull_data+5'] }), 'skb_segment', 'bpf_skb_pull_data', GSO_TABLE_4_14, 0);
  assert.equal(seen.culprit, 'bpf_skb_pull_data');
  assert.equal(seen.culprit_age_ns, '10');
  assert.deepEqual(seen.culprit_stack, ['bpf_skb_pull_data+5']);
  const unseen = decodeEvent(event({}), 'skb_segment', 'unseen', GSO_TABLE_4_14, 0);
  assert.equal(unseen.culprit, 'unseen');
  assert.equal('culprit_stack' in unseen, false);
  assert.equal('culprit_age_ns' in unseen, false);
});

test('the culprit\'s age across the 2^56 ns wrap of the time the program keeps', () => {
  const ts = (1n << 56n) + 5n;
  const d = decodeEvent(event({ ktime_ns: ts, culpritKey: '9', culprit_ktime_ns: (1n << 56n) - 5n }), 'skb_segment', 'bpf_skb_pull_data', GSO_TABLE_4_14, 0);
  assert.equal(d.culprit_age_ns, '10');
});
