import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GSO_TABLE_4_14 } from '../kernel/gso.js';
import type { SampledEvent } from '../bpftrace/sampled-event.js';
import { decodeEvent } from './decoded-event.js';

test('the hook by its label, GSO flags by name, times as strings; the printed key is gone', () => {
  const e = { kind: 'clear', hookKey: '3', gso_type: 1027, gso_type_before: 3, ktime_ns: 12n, comm: 'x' } as unknown as SampledEvent;
  const d = decodeEvent(e, '__skb_linearize', GSO_TABLE_4_14, Date.UTC(2026, 10, 27));
  assert.equal(d.hook, '__skb_linearize');
  assert.equal(d.gso_type_names, 'TCPV4|DODGY|UDP_TUNNEL');
  assert.equal(d.gso_type_before_names, 'TCPV4|DODGY');
  assert.equal(d.ktime_ns, '12');
  assert.equal(d.time, '2026-11-27T00:00:00.000Z');
  assert.equal('hookKey' in d, false);
  assert.doesNotThrow(() => JSON.stringify(d), 'no BigInt left for JSON');
});
