import { test } from 'node:test';
import assert from 'node:assert/strict';
import { staleAfterMs, Watchdog } from './watchdog.js';

test('a tracer that stops reporting is healthy until the bound, then called stalled once', () => {
  let now = 10_000;
  const tracer = { up: true, lastReportMs: 10_000 };
  const stalls: number[] = [];
  const w = new Watchdog(tracer, staleAfterMs(1), (ms) => stalls.push(ms), () => now);
  assert.equal(w.staleAfterMs, 5000);
  now += 5000;
  assert.equal(w.healthy(), true);
  assert.equal(w.check(), false);
  now += 1;
  assert.equal(w.healthy(), false);
  assert.equal(w.check(), true);
  assert.deepEqual(stalls, [5001]);
  now += 3000;
  assert.equal(w.check(), false, 'the same stall is acted on once');
  tracer.lastReportMs = now;  // a heartbeat: reporting again
  assert.equal(w.healthy(), true);
  now += 6000;
  assert.equal(w.check(), true, 'a later stall is a new one');
  assert.equal(stalls.length, 2);
});

test('a tracer that is not attached is not healthy, and not a stall (the supervisor owns restarts)', () => {
  const w = new Watchdog({ up: false, lastReportMs: 0 }, 5000, () => assert.fail('no stall'), () => 1e9);
  assert.equal(w.healthy(), false);
  assert.equal(w.check(), false);
});

test('the bound grows with the print interval', () => {
  assert.equal(staleAfterMs(10), 32_000);
});
