import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capEffOf, missingBpfCapabilities } from './capabilities.js';

test('full root, CAP_SYS_ADMIN alone, CAP_BPF+CAP_PERFMON, and none', () => {
  assert.deepEqual(missingBpfCapabilities('000001ffffffffff'), []);
  assert.deepEqual(missingBpfCapabilities((1n << 21n).toString(16)), []);
  assert.deepEqual(missingBpfCapabilities(((1n << 38n) | (1n << 39n)).toString(16)), []);
  assert.deepEqual(missingBpfCapabilities((1n << 39n).toString(16)), ['CAP_PERFMON']);
  assert.deepEqual(missingBpfCapabilities('0000000000000000'), ['CAP_BPF', 'CAP_PERFMON']);
});

test('reads CapEff from /proc/self/status text', () => {
  assert.equal(capEffOf('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n'), '000001ffffffffff');
});
