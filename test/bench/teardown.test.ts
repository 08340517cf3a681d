import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { TeardownBegun, teardownOnce } from './teardown.js';

test('the teardown stops what the run started, newest first, then removes what it made; once, whoever asks', async () => {
  const order: string[] = [];
  const t = teardownOnce(async () => { order.push('removed'); });
  const a = t.own(execa('sleep', ['30'], { reject: false }));
  const b = t.own(execa('sleep', ['30'], { reject: false }));
  void a.then(() => order.push('a')); void b.then(() => order.push('b'));
  const [first, second] = [t.run(), t.run()];
  assert.equal(first, second, 'one teardown for every caller');
  await first;
  assert.deepEqual(order, ['b', 'a', 'removed']);
  assert.equal(a.signalCode ?? (await a).signal, 'SIGTERM');
});

test('once the teardown has begun, a step is refused, and a process it had just started is stopped', async () => {
  const t = teardownOnce(async () => undefined);
  t.check('a step before');
  const done = t.run();
  assert.throws(() => t.check('a storm'), (e: Error) => e instanceof TeardownBegun && /a storm was not started/.test(e.message));
  const late = execa('sleep', ['30'], { reject: false });
  assert.throws(() => t.own(late), TeardownBegun);
  assert.equal((await late).signal, 'SIGTERM', 'the late process did not outlive the run');
  await done;
});
