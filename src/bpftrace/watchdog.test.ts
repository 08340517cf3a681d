import { test } from 'node:test';
import assert from 'node:assert/strict';
import { staleAfterMs, Watchdog } from './watchdog.js';

test('a tracer that stops reporting is healthy until the bound, then called stalled once', () => {
  let now = 10_000;
  const tracer = { up: true, lastReportMs: 10_000, attachingSinceMs: 0 };
  const stalls: number[] = [];
  const w = new Watchdog(tracer, staleAfterMs(1), (ms) => stalls.push(ms), () => now);
  assert.equal(w.staleAfterMs, 10_000, 'the floor: a busy host\'s first heartbeat can be seconds late');
  now += 10_000;
  assert.equal(w.healthy(), true);
  assert.equal(w.check(), false);
  now += 1;
  assert.equal(w.healthy(), false);
  assert.equal(w.check(), true);
  assert.deepEqual(stalls, [10_001]);
  now += 3000;
  assert.equal(w.check(), false, 'the same stall is acted on once');
  tracer.lastReportMs = now;  // a heartbeat: reporting again
  assert.equal(w.healthy(), true);
  now += 11_000;
  assert.equal(w.check(), true, 'a later stall is a new one');
  assert.equal(stalls.length, 2);
});

test('a tracer that is not attached is not healthy, and not a stall (the supervisor owns restarts)', () => {
  const w = new Watchdog({ up: false, lastReportMs: 0, attachingSinceMs: 0 }, 5000, () => assert.fail('no stall'), () => 1e9);
  assert.equal(w.healthy(), false);
  assert.equal(w.check(), false);
});

test('the bound grows with the print interval', () => {
  assert.equal(staleAfterMs(10), 32_000);
});

test('a tick the agent itself ran late (its event loop blocked) is skipped: the heartbeats may be unread in the pipe', () => {
  let now = 0;
  const stalls: number[] = [];
  const w = new Watchdog({ up: true, lastReportMs: 0, attachingSinceMs: 0 }, 10_000, (ms) => stalls.push(ms), () => now);
  assert.equal(w.tick(1000), false, 'the first tick has nothing to be late against, and 0 ms is no stall');
  now = 30_000; // the next tick comes 29 s late
  assert.equal(w.tick(1000), false);
  assert.deepEqual(stalls, [], 'not called a stall after a blocked loop');
  now += 1000; // on time: a real silence
  assert.equal(w.tick(1000), true);
  assert.deepEqual(stalls, [31_000]);
});

test('a run that announced its probes and never reports is a stall after the attach deadline, once', () => {
  let now = 1000;
  const stalls: number[] = [];
  const w = new Watchdog({ up: false, lastReportMs: 0, attachingSinceMs: 1000 }, 10_000, (ms) => stalls.push(ms), () => now, 60_000);
  now += 60_000;
  assert.equal(w.check(), false, 'still within the deadline (slow attaches are normal under emulation)');
  now += 1;
  assert.equal(w.check(), true);
  assert.equal(w.check(), false, 'acted on once');
  assert.deepEqual(stalls, [60_001]);
  assert.equal(w.healthy(), false);
});
