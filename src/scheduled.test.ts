import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { guarded, LATE_MS, onTime, schedule } from './scheduled.js';

function logger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c))); cb(); } }));
  return { log, lines };
}

test('a throwing or rejecting task is one JSON line, with no stack, and does not throw', async () => {
  const { log, lines } = logger();
  await guarded(log, 'summary', () => { throw new RangeError('boom'); })();
  await guarded(log, 'recheck', () => Promise.reject(new Error('later')))();
  await guarded(log, 'odd', () => { throw 'a string'; })(); // eslint-disable-line no-throw-literal
  assert.deepEqual(lines.map((l) => [l.task, l.msg, (l.error as { type: string }).type, (l.error as { message: string }).message]), [
    ['summary', 'scheduled task failed', 'RangeError', 'boom'],
    ['recheck', 'scheduled task failed', 'Error', 'later'],
    ['odd', 'scheduled task failed', undefined, 'a string'],
  ]);
  assert.ok(lines.every((l) => !JSON.stringify(l).includes('    at ')), 'no stack trace');
});

test('under node-cron: the failure reaches the log, nothing reaches the console, the schedule goes on', async () => {
  const { log, lines } = logger();
  const printed: unknown[] = [];
  const original = { error: console.error, log: console.log, warn: console.warn };
  Object.assign(console, { error: (...a: unknown[]) => printed.push(a), log: (...a: unknown[]) => printed.push(a), warn: (...a: unknown[]) => printed.push(a) });
  let runs = 0;
  const task = schedule(log, '* * * * * *', 'every-second', () => { runs++; throw new Error(`run ${runs}`); });
  try {
    await new Promise((r) => setTimeout(r, 2500));
  } finally {
    await task.stop();
    Object.assign(console, original);
  }
  assert.ok(runs >= 2, `ran ${runs} times`);
  assert.equal(lines.filter((l) => l.msg === 'scheduled task failed').length, runs);
  assert.deepEqual(printed, []);
});

test('a run due more than LATE_MS ago is dropped; one due a step ago, or run by hand, is not', async () => {
  const now = 1_800_000_000_000;
  const ran: string[] = [];
  const run = (label: string) => onTime(async () => { ran.push(label); }, () => now);
  await run('on time')(new Date(now - 5));
  await run('a step late')(new Date(now - 1_001));
  await run('stalled')(new Date(now - LATE_MS - 1));
  await run('an hour ago')(new Date(now - 3_600_000));
  await run('by hand')('manual');
  assert.deepEqual(ran, ['on time', 'a step late', 'by hand']);
});

test('under node-cron: after a stall the missed runs are not run at once', async () => {
  const { log } = logger();
  const runs: number[] = [];
  const task = schedule(log, '* * * * * *', 'every-second', () => { runs.push(Date.now()); });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    // the event loop stalls for 6 s: six runs come due meanwhile
    const stall = Date.now();
    while (Date.now() - stall < 6_000) { /* stalled */ }
    const resumed = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    const burst = runs.filter((t) => t >= resumed).length;
    assert.ok(burst >= 1 && burst <= 3, `${burst} runs right after the stall (without onTime: 6 or 7)`);
  } finally {
    task.stop();
  }
});
