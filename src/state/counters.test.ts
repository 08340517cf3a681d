import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counters } from './counters.js';

const m = (o: Record<string, number>) => new Map(Object.entries(o));

test('totals carry across bpftrace restarts and never decrease', () => {
  const c = new Counters();
  c.ensure('inconsistent', 'rx');
  assert.deepEqual(c.series('inconsistent'), [['rx', 0]]);
  assert.deepEqual(c.observe('inconsistent', m({ rx: 5 })), ['rx']);
  assert.deepEqual(c.observe('inconsistent', m({ rx: 5 })), []);
  c.observe('inconsistent', m({ rx: 7 }));
  c.newRun();                                     // bpftrace restarted: maps at zero
  assert.equal(c.get('inconsistent', 'rx'), 7);
  c.observe('inconsistent', m({ rx: 2 }));
  assert.equal(c.get('inconsistent', 'rx'), 9);
  c.observe('inconsistent', m({ rx: 3, tx: 1 }));
  assert.deepEqual(c.series('inconsistent'), [['rx', 10], ['tx', 1]]);
  assert.equal(c.sum('inconsistent'), 11);
});

test('a map cleared inside a run is carried, not lost', () => {
  const c = new Counters();
  c.observe('x', m({ a: 10 }));
  assert.deepEqual(c.observe('x', m({ a: 4 })), ['a']);
  assert.equal(c.get('x', 'a'), 14);
});

test('agent-side counters add up', () => {
  const c = new Counters();
  c.add('lost'); c.add('lost', '', 4);
  c.newRun();
  assert.equal(c.get('lost'), 5);
});

test('version moves with every change a reader would see, and only then', () => {
  const c = new Counters();
  const moved = (f: () => void) => { const v = c.version; f(); return c.version !== v; };
  assert.equal(moved(() => c.ensure('x', 'a')), true);
  assert.equal(moved(() => c.ensure('x', 'a')), false);
  assert.equal(moved(() => c.observe('x', m({ a: 3 }))), true);
  assert.equal(moved(() => c.observe('x', m({ a: 3 }))), false, 'the same print again');
  assert.equal(moved(() => c.observe('x', m({ a: 1 }))), true, 'cleared within the run');
  assert.equal(moved(() => c.observe('x', m({ b: 0 }))), true, 'a new series at zero');
  assert.equal(moved(() => c.add('lost')), true);
  assert.equal(moved(() => c.newRun()), true);
});
