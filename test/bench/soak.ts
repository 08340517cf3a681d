// The fault-and-soak benchmark (npm run soak; not a test: it prints figures).
//   phase 1: a steady storm of injected INCONSISTENT skbs while bpftrace is
//            killed with SIGKILL, again and again (--kills, default 20)
//   phase 2: the same storm for --minutes (default 30) with /metrics scraped
//            at 10/s, nothing killed: every skb must be counted
// It prints injected vs counted, restarts, the tracer's downtime, the agent's
// CPU and RSS (node and bpftrace) at start and end, scrape latency p50/p99.
// Root only; it makes and removes its own network namespace and stops only
// the processes it started.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { childBpftrace, CLI, fetchMetrics, sleep, until } from '../helpers/agent.js';
import { cleanup, tapHost } from '../helpers/net.js';
import { cpuSeconds, mb, pct, rss } from './measure.js';
import { serveArgs, startNode } from './node.js';
import { benchOptions } from './options.js';
import { TeardownBegun, teardownOnce } from './teardown.js';

const INJECT = fileURLToPath(new URL('../../../test/helpers/tap_inject.py', import.meta.url));
const { minutes, kills, rate } = await benchOptions('soak', {
  numbers: {
    minutes: { default: 30, min: 0, help: 'minutes of the scraped storm (phase 2)' },
    kills: { default: 20, min: 0, help: 'SIGKILLs of bpftrace under the storm (phase 1)' },
    rate: { default: 1000, min: 1, help: 'INCONSISTENT skbs a second' },
  },
  tools: ['bpftrace', 'python3', 'ip'],
});

// every process a step starts is the teardown's (teardown.own): Ctrl-C or the end stops them, then this
const teardown = teardownOnce(cleanup);

try {
  const tap = await tapHost();
  const agent = await startNode(teardown, serveArgs(CLI));
  const { base } = agent;
  const total = async () => (await fetchMetrics(base)).sum('frag_list_inconsistent_total');
  const startStorm = (seconds: number) => {
    teardown.check('a storm');
    return teardown.own(execa('ip', ['netns', 'exec', tap.ns, 'python3', INJECT, tap.dev, '198.18.0.2', '198.18.0.1',
      String(Math.ceil(seconds * rate)), '--rate', String(rate)], { reject: false }));
  };
  const settle = async (injected: number, before: number) => {
    // counted when the counter stops moving for three print intervals
    let last = -1;
    for (let still = 0; still < 3; await sleep(1000)) { const t = await total(); still = t === last ? still + 1 : 0; last = t; }
    return last - before;
  };
  const agentPid = agent.pid;
  const start = { node: rss(agentPid), bpftrace: rss(await childBpftrace(agentPid)) };
  process.stdout.write(`soak: agent pid ${agentPid}, storm ${rate} INCONSISTENT skbs/s, ${kills} kills, then ${minutes} min\n`);
  process.stdout.write(`start RSS: node ${mb(start.node.rss)}, bpftrace ${mb(start.bpftrace.rss)}\n`);

  // phase 1: kill -9 bpftrace under the storm, waiting for it to come back each time
  let downMs = 0;
  if (kills > 0) {
    const before = await total();
    const m0 = await fetchMetrics(base);
    const storm = startStorm(3600 * 24);
    const t0 = Date.now();
    for (let i = 0; i < kills; i++) {
      await sleep(2000);
      const pid = await childBpftrace(agentPid);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await until('bpftrace back', async () => {
        const r = await fetch(`${base}/readyz`).catch(() => undefined);
        return r?.ok && (await childBpftrace(agentPid)) !== pid ? true : undefined;
      }, 120_000);
      downMs += Date.now() - killedAt;
      process.stdout.write(`  kill ${i + 1}: back after ${((Date.now() - killedAt) / 1000).toFixed(1)} s\n`);
    }
    storm.kill('SIGTERM');
    const injected = Number(String((await storm).stdout).trim());
    const counted = await settle(injected, before);
    const m1 = await fetchMetrics(base);
    const seconds = (Date.now() - t0) / 1000;
    process.stdout.write(`phase 1 (${seconds.toFixed(0)} s): injected ${injected}, counted ${counted}, missed ${injected - counted}; ` +
      `restarts ${m1.sum('frag_list_tracer_restarts_total') - m0.sum('frag_list_tracer_restarts_total')}; tracer down ${(downMs / 1000).toFixed(1)} s ` +
      `(at ${rate}/s that is about ${Math.round(downMs / 1000 * rate)} skbs nobody was attached to see)\n`);
  }

  // phase 2: the storm, scrapes at 10/s, no faults
  if (minutes > 0) {
    const before = await total();
    const m0 = await fetchMetrics(base);
    const cpu0 = cpuSeconds(agentPid), t0 = Date.now();
    const storm = startStorm(minutes * 60);
    const latencies: number[] = [];
    let scrapeErrors = 0;
    while (storm.exitCode === null) {
      const s = performance.now();
      const ok = await fetch(`${base}/metrics`).then((r) => r.text().then(() => r.ok), () => false);
      if (ok) latencies.push(performance.now() - s); else scrapeErrors++;
      await sleep(Math.max(0, 100 - (performance.now() - s)));
    }
    const injected = Number(String((await storm).stdout).trim());
    const cpu = (cpuSeconds(agentPid) - cpu0) / ((Date.now() - t0) / 1000);
    const counted = await settle(injected, before);
    const m1 = await fetchMetrics(base);
    const d = (n: string) => m1.sum(n) - m0.sum(n);
    latencies.sort((a, b) => a - b);
    const end = { node: rss(agentPid), bpftrace: rss(await childBpftrace(agentPid)) };
    process.stdout.write(`phase 2 (${minutes} min): injected ${injected}, counted ${counted}${counted === injected ? ' (exact)' : ` (MISSED ${injected - counted})`}; ` +
      `sampled ${d('frag_list_events_sampled_total')} + suppressed ${d('frag_list_events_suppressed_total')}; restarts ${d('frag_list_tracer_restarts_total')}, ` +
      `lost ${d('frag_list_events_lost_total')}, unparsable ${d('frag_list_tracer_unparsable_lines_total')}\n`);
    process.stdout.write(`  scrapes ${latencies.length} (errors ${scrapeErrors}): p50 ${pct(latencies, 0.5).toFixed(1)} ms, p99 ${pct(latencies, 0.99).toFixed(1)} ms; agent CPU ${(cpu * 100).toFixed(1)} % of a core\n`);
    process.stdout.write(`end RSS: node ${mb(end.node.rss)} (peak ${mb(end.node.peak)}), bpftrace ${mb(end.bpftrace.rss)} (peak ${mb(end.bpftrace.peak)})\n`);
    if (counted !== injected) process.exitCode = 1;
  }
} catch (err) {
  // a step that ran into the teardown (Ctrl-C) stopped itself: that is no failure of the run
  if (!teardown.interrupted && !(err instanceof TeardownBegun)) throw err;
} finally {
  await teardown.run();
}
