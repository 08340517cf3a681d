import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogLimiter } from './log-limit.js';

test('burst lines per window per key; the next line carries the count held back', () => {
  let now = 0;
  const l = new LogLimiter(2, 10_000, () => now);
  assert.deepEqual([l.take('a'), l.take('a'), l.take('a'), l.take('a'), l.take('b')], [0, 0, undefined, undefined, 0]);
  now = 9_999;
  assert.equal(l.take('a'), undefined);
  now = 10_000;
  assert.equal(l.take('a'), 3, 'three held back in the last window');
  assert.equal(l.take('a'), 0);
  assert.equal(l.take('a'), undefined);
});

test('any number of distinct keys stays bounded and keeps working', () => {
  let now = 0;
  const l = new LogLimiter(1, 1000, () => now);
  for (let i = 0; i < 10_000; i++) assert.equal(l.take(`k${i}`), 0);
  now = 5000;
  assert.equal(l.take('k1'), 0);
  assert.equal((l as unknown as { keys: Map<string, unknown> }).keys.size <= 256, true);
});
