import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capMask, capNames } from './capabilities.js';

test('a mask is what is granted, less what the bounding set lacks', () => {
  const all = (1n << 41n) - 1n;
  assert.equal(capMask(['CAP_SYS_ADMIN', 'CAP_SYSLOG', 'CAP_SYS_RESOURCE'], all), '0000000401200000');
  assert.equal(capMask(['SYS_ADMIN', 'SYSLOG', 'SYS_RESOURCE'], all & ~(1n << 24n)), '0000000400200000');
  assert.deepEqual(capNames('0000000400200000'), ['CAP_SYS_ADMIN', 'CAP_SYSLOG']);
  assert.throws(() => capMask(['CAP_FROBNICATE'], all), /unknown capability/);
});
