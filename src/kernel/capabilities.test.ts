import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capEffOf, missingBpfCapabilities } from './capabilities.js';

test('full root and CAP_SYS_ADMIN alone are enough; CAP_BPF+CAP_PERFMON without it are not', () => {
  assert.deepEqual(missingBpfCapabilities('000001ffffffffff'), []);
  assert.deepEqual(missingBpfCapabilities((1n << 21n).toString(16)), []);
  assert.deepEqual(missingBpfCapabilities(((1n << 38n) | (1n << 39n) | (1n << 34n)).toString(16)), ['CAP_SYS_ADMIN']);
  assert.deepEqual(missingBpfCapabilities('0000000000000000'), ['CAP_SYS_ADMIN']);
});

test('reads CapEff from /proc/self/status text', () => {
  assert.equal(capEffOf('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n'), '000001ffffffffff');
});
