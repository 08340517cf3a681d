import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttachStatus } from './attach-status.js';

test('announced, then up at the first heartbeat; a new run detaches until it attaches again', () => {
  const s = new AttachStatus();
  assert.deepEqual([s.up, s.attachedProbes, s.lastReportMs], [false, 0, 0]);
  s.announced(8, 500);
  assert.deepEqual([s.up, s.attachedProbes, s.attachingSinceMs], [false, 8, 500], 'bpftrace announces before it attaches: not up yet');
  assert.equal(s.heartbeat(1000), true, 'the first heartbeat completes the attach');
  assert.deepEqual([s.up, s.attachedProbes, s.lastReportMs, s.attachingSinceMs], [true, 8, 1000, 0]);
  assert.equal(s.heartbeat(2000), false);
  assert.equal(s.lastReportMs, 2000);
  s.detached();
  assert.deepEqual([s.up, s.attachedProbes], [false, 0]);
  assert.equal(s.lastReportMs, 2000, 'the last report stays: the watchdog looks at it only while attached');
  assert.equal(s.heartbeat(3000), false, 'a heartbeat of a run that announced nothing (its last words) does not make it up');
  assert.equal(s.up, false);
});
