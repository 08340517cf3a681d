// The fault-and-soak benchmark (npm run soak; not a test: it prints figures).
//   phase 1: a steady storm of injected INCONSISTENT skbs while bpftrace is
//            killed with SIGKILL, again and again (--kills, default 20)
//   phase 2: the same storm for --minutes (default 30) with /metrics scraped
//            at 10/s, nothing killed: every skb must be counted
// It prints injected vs counted, restarts, the tracer's downtime, the agent's
// CPU and RSS (node and bpftrace) at start and end, scrape latency p50/p99.
// Root only; it makes and removes its own network namespace and stops only
// the processes it started.
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { childBpftrace, CLI, fetchMetrics, freePort, sleep, until, waitReady } from '../helpers/agent.js';
import { cleanup, tapHost } from '../helpers/net.js';
import { cpuSeconds, mb, pct, rss } from './measure.js';
import { teardownOnce } from './teardown.js';

const INJECT = fileURLToPath(new URL('../../../test/helpers/tap_inject.py', import.meta.url));
const { values: opt } = parseArgs({ options: {
  minutes: { type: 'string', default: '30' }, kills: { type: 'string', default: '20' }, rate: { type: 'string', default: '1000' },
} });
const minutes = Number(opt.minutes), kills = Number(opt.kills), rate = Number(opt.rate);

function refuse(why: string): never {
  process.stderr.write(`soak: ${why}\n`);
  process.exit(1);
}
if (!(minutes >= 0) || !(kills >= 0) || !(rate > 0)) refuse('--minutes, --kills and --rate take numbers (--rate above 0)');
if (process.getuid?.() !== 0) refuse('needs root (network namespaces, bpftrace)');
for (const tool of ['bpftrace', 'python3', 'ip']) {
  if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) refuse(`${tool} is not installed (bash scripts/install-deps.sh --test)`);
}
if (!existsSync(CLI)) refuse('the agent is not built (npm run build)');

let agent: ResultPromise | undefined;
let storm: ResultPromise | undefined;
const teardown = teardownOnce(async () => {
  storm?.kill('SIGTERM');
  await storm?.catch(() => undefined);
  agent?.kill('SIGTERM');
  await agent?.catch(() => undefined);
  await cleanup();
});

try {
  const tap = await tapHost();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  agent = execa(process.execPath, [CLI, 'serve', `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { reject: false, buffer: false, stdout: 'ignore', stderr: 'ignore' });
  await waitReady(base, agent, 120_000);
  const total = async () => (await fetchMetrics(base)).sum('frag_list_inconsistent_total');
  const startStorm = (seconds: number) => execa('ip', ['netns', 'exec', tap.ns, 'python3', INJECT, tap.dev, '198.18.0.2', '198.18.0.1',
    String(Math.ceil(seconds * rate)), '--rate', String(rate)], { reject: false });
  const settle = async (injected: number, before: number) => {
    // counted when the counter stops moving for three print intervals
    let last = -1;
    for (let still = 0; still < 3; await sleep(1000)) { const t = await total(); still = t === last ? still + 1 : 0; last = t; }
    return last - before;
  };
  const agentPid = agent.pid!;
  const start = { node: rss(agentPid), bpftrace: rss(await childBpftrace(agentPid)) };
  process.stdout.write(`soak: agent pid ${agentPid}, storm ${rate} INCONSISTENT skbs/s, ${kills} kills, then ${minutes} min\n`);
  process.stdout.write(`start RSS: node ${mb(start.node.rss)}, bpftrace ${mb(start.bpftrace.rss)}\n`);

  // phase 1: kill -9 bpftrace under the storm, waiting for it to come back each time
  let downMs = 0;
  if (kills > 0) {
    const before = await total();
    const m0 = await fetchMetrics(base);
    storm = startStorm(3600 * 24);
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
    storm = undefined;
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
    storm = startStorm(minutes * 60);
    const latencies: number[] = [];
    let scrapeErrors = 0;
    while (storm.exitCode === null) {
      const s = performance.now();
      const ok = await fetch(`${base}/metrics`).then((r) => r.text().then(() => r.ok), () => false);
      if (ok) latencies.push(performance.now() - s); else scrapeErrors++;
      await sleep(Math.max(0, 100 - (performance.now() - s)));
    }
    const injected = Number(String((await storm).stdout).trim());
    storm = undefined;
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
  if (!teardown.interrupted) throw err;
} finally {
  await teardown.run();
}
