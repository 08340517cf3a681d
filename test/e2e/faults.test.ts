// The fault matrix: a bpftrace that hangs, floods stdout, prints only garbage,
// or exits at once on every start. For each, the agent's metrics and /readyz
// say so within a bounded time, counters never decrease, and the agent stays
// up. The hang is the real bpftrace stopped with SIGSTOP; the other three use
// test/helpers/faulty_bpftrace.py, a stand-in for fault injection only, which
// wraps the real bpftrace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { assertNoCounterDecreased, childBpftrace, CLI, freePort, inconsistentCounted, sleep, startAgent, until, type Agent, type Metrics } from '../helpers/agent.js';
import { cleanup, inject, tapHost } from '../helpers/net.js';

const FAULTY = fileURLToPath(new URL('../../../test/helpers/faulty_bpftrace.py', import.meta.url));
const SECCOMP = fileURLToPath(new URL('../../../test/helpers/seccomp_bpftrace.py', import.meta.url));
/** src/bpftrace/watchdog.ts at --print.interval=1: 10 s (its floor), checked each second */
const STALL_BOUND_MS = 10_000 + 1000 + 1000; // staleAfterMs(1), a check interval, a scrape

/** Polls the agent in the background: every counter stays monotonic; records readiness. */
function watchAgent(agent: Agent) {
  let last: Metrics | undefined;
  let stopped = false;
  const ready: Array<[ms: number, ok: boolean]> = [];
  const failures: string[] = [];
  const done = (async () => {
    while (!stopped) {
      try {
        const m = await agent.metrics();
        if (last) assertNoCounterDecreased(last, m);
        last = m;
        ready.push([Date.now(), (await agent.get('/readyz')).ok]);
      } catch (err) {
        failures.push((err as Error).message);
      }
      await sleep(200);
    }
  })();
  return {
    ready,
    async end() { stopped = true; await done; assert.deepEqual(failures, [], 'every poll answered and no counter decreased'); },
  };
}

const log = async (agent: Agent) => String((await agent.proc).stdout).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

describe('bpftrace faults', () => {
  let dir: string;
  let faultFile: string;
  let tap: Awaited<ReturnType<typeof tapHost>>;
  const setFault = (f: string) => writeFileSync(faultFile, f);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flx-fault-'));
    faultFile = join(dir, 'fault');
    chmodSync(FAULTY, 0o755);
    tap = await tapHost();
  });
  after(async () => {
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The running (real) bpftrace is killed; the ones started after it misbehave as `fault` says. */
  const faultFromNowOn = async (agent: Agent, fault: string) => {
    setFault(fault);
    process.kill(await childBpftrace(agent.proc.pid!), 'SIGKILL');
  };
  /** Metrics once `check` holds. */
  const metricsWhen = (agent: Agent, what: string, check: (m: Metrics) => boolean) =>
    until(what, async () => { const x = await agent.metrics(); return check(x) ? x : undefined; }, 40_000);

  const faultyAgent = (extra: string[] = [], env: Record<string, string> = {}) =>
    startAgent([`--bpftrace.path=${FAULTY}`, '--print.interval=1', ...extra], 60_000, { FLX_FAULT_FILE: faultFile, ...env });

  test('hang: a stopped bpftrace is called stalled within the bound, killed and restarted; counting resumes', async () => {
    const agent = await startAgent(['--print.interval=1']);
    const w = watchAgent(agent);
    try {
      const pid = await childBpftrace(agent.proc.pid!);
      process.kill(pid, 'SIGSTOP');
      const t0 = Date.now();
      const m = await until('tracer_up 0', async () => { const x = await agent.metrics(); return x.sum('frag_list_tracer_up') === 0 ? x : undefined; });
      const detectedMs = Date.now() - t0;
      assert.ok(detectedMs <= STALL_BOUND_MS, `detected in ${detectedMs} ms`);
      assert.equal((await agent.get('/readyz')).status, 503);
      await until('the restart', async () => ((await agent.get('/readyz')).ok ? true : undefined), 30_000);
      const m2 = await agent.metrics();
      assert.equal(m2.sum('frag_list_tracer_stalls_total'), 1);
      assert.ok(m2.sum('frag_list_tracer_restarts_total') >= 1);
      assert.ok(m.sum('frag_list_tracer_stalls_total') <= 1);
      assert.equal(await inconsistentCounted(agent.base, 50, () => inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', 50)), 50);
      process.stdout.write(`# hang: SIGSTOP detected in ${detectedMs} ms; restarted and counted 50 of 50 after\n`);
    } finally {
      await w.end();
      assert.equal((await agent.stop()).code, 0);
    }
  });

  test('flood: junk mixed into real output is counted as unparsable, logged sparingly, and no skb is miscounted', async () => {
    setFault('flood');
    const agent = await faultyAgent(['--log.level=warn'], { FLX_FLOOD_PER_S: '20000' });
    const w = watchAgent(agent);
    const latencies: number[] = [];
    try {
      const t0 = Date.now();
      const counted = await inconsistentCounted(agent.base, 300, () => inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', 300));
      assert.equal(counted, 300);
      // scrapes at 10/s for 12 s: past one log window (10 s), so held-back lines get reported
      while (Date.now() - t0 < 12_000 || latencies.length < 50) {
        const s = performance.now();
        await agent.get('/metrics').then((r) => r.text());
        latencies.push(performance.now() - s);
        await sleep(100);
      }
      const m = await agent.metrics();
      const junk = m.sum('frag_list_tracer_unparsable_lines_total');
      assert.ok(junk > 10_000, `junk counted: ${junk}`);
      assert.equal(m.sum('frag_list_tracer_up'), 1, 'a flood with heartbeats is a live tracer');
      assert.ok(w.ready.every(([, ok]) => ok), 'ready throughout');
      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.floor(latencies.length * 0.99)];
      assert.ok(p99 < 1000, `/metrics p99 ${p99.toFixed(1)} ms during the flood`);
      const seconds = (Date.now() - t0) / 1000;
      await w.end();
      await agent.stop();
      const problems = (await log(agent)).filter((l) => l.level === 40 && /not understood|not a sampled event|keys with a bad value|unknown hook/.test(l.msg));
      const kinds = new Set(problems.map((l) => l.msg)).size;
      assert.ok(problems.length <= kinds * (Math.ceil(seconds / 10) + 1), `${problems.length} problem lines in ${seconds.toFixed(0)} s for ${kinds} kinds`);
      assert.ok(problems.some((l) => l.held_back > 0), 'a later line says how many were held back');
      process.stdout.write(`# flood: ${junk} junk lines in ${seconds.toFixed(0)} s counted; 300 of 300 skbs; /metrics p99 ${p99.toFixed(1)} ms; ${problems.length} log lines\n`);
    } finally {
      await w.end().catch(() => undefined);
      if (agent.proc.exitCode === null) await agent.stop();
    }
  });

  test('garbage: a tracer that prints only garbage is called stalled and restarted, again and again, and says so', async () => {
    setFault('none');
    const agent = await faultyAgent();
    const w = watchAgent(agent);
    try {
      const before = await agent.metrics();
      await faultFromNowOn(agent, 'garbage');
      const m = await metricsWhen(agent, 'two stalls', (x) => x.sum('frag_list_tracer_stalls_total') >= 2);
      assert.ok(m.sum('frag_list_tracer_unparsable_lines_total') > before.sum('frag_list_tracer_unparsable_lines_total'));
      assert.equal(m.sum('frag_list_tracer_up'), 0);
      assert.equal((await agent.get('/readyz')).status, 503);
      setFault('none');
      await until('the real tracer back', async () => ((await agent.get('/readyz')).ok ? true : undefined), 40_000);
      assert.equal(await inconsistentCounted(agent.base, 20, () => inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', 20)), 20);
      process.stdout.write(`# garbage: ${m.sum('frag_list_tracer_stalls_total')} stalls, ${m.sum('frag_list_tracer_unparsable_lines_total')} junk lines; back and counting\n`);
    } finally {
      await w.end();
      assert.equal((await agent.stop()).code, 0);
    }
  });

  test('exit at once on every start: restarts back off 1, 2, 4 s; tracer down and not ready meanwhile', async () => {
    setFault('none');
    const agent = await faultyAgent();
    const w = watchAgent(agent);
    try {
      await faultFromNowOn(agent, 'exit');
      const m = await metricsWhen(agent, 'three failed restarts', (x) => x.sum('frag_list_tracer_restarts_total') >= 4);
      assert.equal(m.sum('frag_list_tracer_up'), 0);
      assert.equal((await agent.get('/readyz')).status, 503);
      setFault('none');
      await until('the real tracer back', async () => ((await agent.get('/readyz')).ok ? true : undefined), 40_000);
    } finally {
      await w.end();
      assert.equal((await agent.stop()).code, 0);
    }
    const exits = (await log(agent)).filter((l) => l.msg === 'bpftrace exited; restarting');
    const delays = exits.map((l) => l.restartInMs);
    assert.deepEqual(delays.slice(0, 4), [1000, 2000, 4000, 8000]);
    const gaps = exits.slice(1).map((l, i) => l.time - exits[i].time);
    for (const [i, gap] of gaps.slice(0, 3).entries()) assert.ok(gap >= delays[i], `start ${i + 2} came ${gap} ms after the exit, not before ${delays[i]}`);
    assert.ok(w.ready.filter(([, ok]) => !ok).length > 10, 'not ready while failing');
    process.stdout.write(`# exit at once: restart delays ${delays.join(', ')} ms; gaps ${gaps.join(', ')} ms\n`);
  });
});

describe('a seccomp filter that forbids bpf()', () => {
  test('the refusal names SIGSYS and the filter, in one line, and nothing is left running', async () => {
    const bpftraces = async () => (await execa('pgrep', ['-x', 'bpftrace'], { reject: false })).stdout.split('\n').filter(Boolean);
    const before = await bpftraces();
    // test/helpers/seccomp_bpftrace.py: the real bpftrace under a real seccomp filter (SECCOMP_RET_KILL_PROCESS on bpf)
    const r = await execa(process.execPath, [CLI, 'serve', `--bpftrace.path=${SECCOMP}`, '--mode=tracepoint', `--web.listen-address=127.0.0.1:${await freePort()}`],
      { reject: false, timeout: 90_000 });
    assert.equal(r.exitCode, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^fraglist-exporter: cannot start: every probe mode was refused when attaching \(tracepoint: bpftrace was killed by SIGSYS: a seccomp filter forbids a system call it needs/);
    assert.match(lines[0], /SystemCallFilter=/);
    assert.deepEqual((await bpftraces()).filter((pid) => !before.includes(pid)), [], 'no bpftrace outlived the agent');
    process.stdout.write(`# seccomp: ${lines[0]}\n`);
  });
});
