import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttachStatus } from './attach-status.js';

test('attach, heartbeats, and a new run that detaches until it attaches again', () => {
  const s = new AttachStatus();
  assert.deepEqual([s.up, s.attachedProbes, s.lastReportMs], [false, 0, 0]);
  s.attached(8, 1000);
  assert.deepEqual([s.up, s.attachedProbes, s.lastReportMs], [true, 8, 1000]);
  s.heartbeat(2000);
  assert.equal(s.lastReportMs, 2000);
  s.detached();
  assert.deepEqual([s.up, s.attachedProbes], [false, 0]);
  assert.equal(s.lastReportMs, 2000, 'the last report stays: the watchdog looks at it only while attached');
});
