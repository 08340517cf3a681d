import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRing } from './event-ring.js';

test('keeps the newest items up to its capacity', () => {
  const r = new EventRing<number>(3);
  for (let i = 1; i <= 5; i++) r.push(i);
  assert.deepEqual(r.list(), [3, 4, 5]);
});
