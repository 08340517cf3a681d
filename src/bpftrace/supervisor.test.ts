// The supervisor with stand-ins for bpftrace (fault injection only): shell
// one-liners that exit at once, run a while, or ignore SIGINT and SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Supervisor, type SupervisorHooks } from './supervisor.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function record() {
  const seen = { started: [] as number[], exited: [] as Array<{ code?: number; signal?: string; restartInMs?: number; ranMs: number }>, out: [] as string[] };
  const hooks: SupervisorHooks = {
    started: (pid) => seen.started.push(pid),
    stdoutLine: (l) => seen.out.push(l),
    stderrLine: () => undefined,
    exited: (i) => seen.exited.push(i),
  };
  return { seen, hooks };
}

const sh = (script: string) => ({ bpftracePath: 'sh', args: ['-c', script], pdeathsig: false });

/** Runs `script` as the tracer until it has exited `n` times; the exits, in order. */
async function exits(script: string, backoff: { initialMs: number; maxMs: number; resetAfterMs: number }, n: number) {
  const { seen, hooks } = record();
  const s = new Supervisor({ ...sh(script), backoff }, hooks);
  s.start();
  while (seen.exited.length < n) await sleep(10);
  await s.stop();
  return seen.exited.slice(0, n);
}

test('a tracer that exits at once is restarted with doubling delays, capped', async () => {
  const e = await exits('exit 3', { initialMs: 20, maxMs: 80, resetAfterMs: 10_000 }, 5);
  assert.deepEqual(e.map((x) => x.restartInMs), [20, 40, 80, 80, 80]);
  assert.ok(e.every((x) => x.code === 3));
});

test('a run longer than resetAfterMs starts the backoff over', async () => {
  const e = await exits('sleep 0.3; exit 1', { initialMs: 10, maxMs: 1000, resetAfterMs: 200 }, 3);
  assert.deepEqual(e.map((x) => x.restartInMs), [10, 10, 10]);
});

test('stop escalates SIGINT, SIGTERM, SIGKILL for a tracer that ignores the first two; its output is read to the end', async () => {
  const { seen, hooks } = record();
  const s = new Supervisor({ ...sh('trap "" INT TERM; echo up; while :; do sleep 0.05; done'), stopStepMs: 150 }, hooks);
  s.start();
  while (!seen.out.includes('up')) await sleep(10);
  const t0 = Date.now();
  await s.stop();
  const ms = Date.now() - t0;
  assert.ok(ms >= 300 && ms < 2000, `stopped after ${ms} ms: two ignored signals, then SIGKILL`);
  assert.equal(s.pid, undefined);
  assert.deepEqual(seen.exited, [], 'a stop is not a failure');
});

test('restart off (watch): one exit is reported, nothing restarts', async () => {
  const { seen, hooks } = record();
  const s = new Supervisor({ ...sh('echo a; exit 0'), restart: false }, hooks);
  s.start();
  while (!seen.exited.length) await sleep(10);
  await sleep(100);
  assert.equal(seen.started.length, 1);
  assert.deepEqual(seen.out, ['a']);
  assert.equal(seen.exited[0].code, 0);
  assert.equal(seen.exited[0].restartInMs, undefined);
});

test('kill() is a failure that restarts; restartWith() replaces the arguments and is not', async () => {
  const { seen, hooks } = record();
  const s = new Supervisor({ ...sh('echo first; exec sleep 30'), backoff: { initialMs: 10, maxMs: 10, resetAfterMs: 60_000 } }, hooks);
  s.start();
  while (!seen.out.includes('first')) await sleep(10);
  s.kill();
  while (seen.started.length < 2) await sleep(10);
  assert.equal(seen.exited[0].signal, 'SIGKILL');
  await s.restartWith(['-c', 'echo second; exec sleep 30']);
  while (!seen.out.includes('second')) await sleep(10);
  assert.equal(seen.exited.length, 1, 'the replaced run is not reported as an exit');
  await s.stop();
  await s.restartWith(['-c', 'echo third']);
  await sleep(100);
  assert.ok(!seen.out.includes('third'), 'nothing starts after stop()');
});

test('the tracer gets the environment the host needs (BPFTRACE_BTF on 5.10), on top of the agent\'s', async () => {
  const { seen, hooks } = record();
  const s = new Supervisor({ ...sh('echo "$BPFTRACE_BTF $HOME"; sleep 5'), env: { BPFTRACE_BTF: '/sys/kernel/btf/vmlinux' } }, hooks);
  s.start();
  while (seen.out.length < 1) await sleep(10);
  await s.stop();
  assert.equal(seen.out[0], `/sys/kernel/btf/vmlinux ${process.env.HOME}`);
});
