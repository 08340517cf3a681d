import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRing } from './event-ring.js';

test('keeps the newest items up to its capacity, oldest first', () => {
  const r = new EventRing<number>(3);
  assert.deepEqual(r.list(), []);
  r.push(1); r.push(2);
  assert.deepEqual(r.list(), [1, 2]);
  for (let i = 3; i <= 7; i++) r.push(i);
  assert.deepEqual(r.list(), [5, 6, 7]);
});

test('a capacity of one holds the last item', () => {
  const r = new EventRing<string>(1);
  r.push('a'); r.push('b');
  assert.deepEqual(r.list(), ['b']);
});

test('matches a plain array model for any sequence of pushes', () => {
  for (const capacity of [1, 2, 5, 16]) {
    const r = new EventRing<number>(capacity);
    const model: number[] = [];
    for (let i = 0; i < 100; i++) {
      r.push(i); model.push(i);
      assert.deepEqual(r.list(), model.slice(-capacity));
    }
  }
});
