import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { EVENT_LOOP_SAMPLE_MS, LoopDelay, registerEventLoopDelay } from './event-loop.js';

test('delay is how late the timer ran, summarised since the last take', () => {
  const d = new LoopDelay(0, 1000);
  assert.deepEqual(d.take(), { min: 0, max: 0, mean: 0 }, 'nothing sampled yet');
  d.sample(1000); d.sample(2300); d.sample(3300);
  assert.deepEqual(d.take(), { min: 0, max: 0.3, mean: 0.1 });
  d.sample(4300);
  assert.deepEqual(d.take(), { min: 0, max: 0, mean: 0 }, 'afresh after a take');
  d.sample(5200); // early (a timer may be): not negative
  assert.deepEqual(d.take(), { min: 0, max: 0, mean: 0 });
});

test('a blocked event loop shows on the next scrape, then is gone', async () => {
  const registry = new Registry();
  registerEventLoopDelay(registry);
  const value = async (stat: string) => (await registry.getSingleMetric(`nodejs_eventloop_lag_${stat}_seconds`)!.get()).values[0]?.value;
  await registry.metrics();
  // longer than a period, so that the timer falls due inside it
  const until = Date.now() + EVENT_LOOP_SAMPLE_MS + 400;
  while (Date.now() < until) { /* block the loop */ }
  await new Promise((r) => setTimeout(r, EVENT_LOOP_SAMPLE_MS * 1.5));
  await registry.metrics();
  const max = await value('max');
  assert.ok(max! >= 0.35 && max! < 2, `max delay ${max} s after a block of ${EVENT_LOOP_SAMPLE_MS + 400} ms`);
  await registry.metrics();
  assert.ok((await value('max'))! < 0.1, 'the next scrape has only the samples since');
});
