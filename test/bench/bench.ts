// The cost benchmark (npm run bench; not a test: it prints figures).
//   1. CPU per GB of TCP over a veth pair between two namespaces (iperf3), in
//      interleaved rounds, for: no tracer, a bare in-kernel counter (the
//      reference cost of a bpftrace agent), the seed's design (one printf per
//      skb to user space) and the agent (tracepoint mode, its defaults).
//      CPU is the whole machine's busy time from /proc/stat: throughput swings
//      on these VMs, CPU per GB is the figure. Medians, spread, ratio to none.
//   2. Storms of injected INCONSISTENT skbs (--storm, default 1,000,000)
//      into the agent, one quiet and three with /metrics fetched 100 times a
//      second: counted exactly?, sampled within the rate, events lost, the
//      agent's CPU, the scrapes' latency (pooled over the three).
//   3. RSS of node and bpftrace at start, peak and steady, beside node's
//      floor: the agent's chosen stack with none of its code (stack-floor.ts);
//      idle CPU, and the periodic host re-check's.
// Root only; refuses (one line) where a prerequisite is missing; makes and
// removes its own namespaces and stops only the processes it started.
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AGENT_NODE_OPTIONS, childBpftrace, CLI, fetchMetrics, sleep } from '../helpers/agent.js';
import { cleanup, tapHost, vethPair } from '../helpers/net.js';
import { bpfRuns, busySeconds, cpuSeconds, mb, median, pct, rss } from './measure.js';
import { serveArgs, startNode } from './node.js';
import { benchOptions, refuse as refuseWith } from './options.js';
import { TeardownBegun, teardownOnce } from './teardown.js';

const INJECT = fileURLToPath(new URL('../../../test/helpers/tap_inject.py', import.meta.url));
const STACK_FLOOR = fileURLToPath(new URL('./stack-floor.js', import.meta.url));
const opt = await benchOptions('bench', {
  numbers: {
    rounds: { default: 8, min: 0, help: 'rounds of the CPU-per-GB comparison (0 skips them)' },
    gb: { default: 4, min: 0.001, help: 'GB of TCP a round' },
    storm: { default: 1_000_000, min: 0, help: 'INCONSISTENT skbs a storm (0 skips the storms)' },
  },
  // another build's dist/src/cli.js, run as one more tracer in the same rounds: a change measured before and after, side by side
  strings: { baseline: {} },
  tools: ['bpftrace', 'python3', 'ip', 'iperf3'],
});
const { rounds, gb, storm: stormSkbs } = opt;
const refuse = (why: string): never => refuseWith('bench', why);

/** pids of the bpftrace processes running now (not those exited and not yet reaped) */
function runningBpftrace(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try { return /^Name:\tbpftrace\n[^]*^State:\t[^Z]/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
  }).map(Number);
}

// another tracer on the same tracepoints would run with every skb of every round and of the storms
const others = runningBpftrace();
if (others.length) refuse(`bpftrace is already running (pid ${others.join(', ')}): its programs would run on every skb measured; stop it first`);
if (opt.baseline !== undefined && !existsSync(opt.baseline)) refuse(`--baseline ${opt.baseline}: no such file (another build's dist/src/cli.js)`);

// --- the tracers compared -----------------------------------------------------------
const HOOKS = 'tracepoint:net:netif_receive_skb,\ntracepoint:net:net_dev_start_xmit,\ntracepoint:net:napi_gro_receive_entry';
const SKB = `  $skb = (struct sk_buff *)args->skbaddr;
  $sh = (struct skb_shared_info *)($skb->head + $skb->end);`;
/** the seed's predicate at three tracepoints, two global counters: what any in-kernel counter costs */
const BARE = `${HOOKS}\n{\n${SKB}\n  @inspected = count();\n  if ($sh->gso_size > 0 && $sh->frag_list == 0 && $sh->nr_frags == 0 && $skb->data_len == 0) { @inconsistent = count(); }\n}\n`;
/** the seed's design: every skb to user space */
const PRINTF = `${HOOKS}\n{\n${SKB}\n  printf("%s %d %llx %d %d %d\\n", probe, cpu, (uint64)$skb, $skb->len, $sh->gso_size, $skb->data_len);\n}\n`;

interface Running { stop(): Promise<void>; pids(): Promise<{ node?: number; bpftrace?: number }> }
type Tracer = { name: string; start(): Promise<Running> };

const bpftraceTracer = (name: string, program: string): Tracer => ({
  name,
  async start() {
    teardown.check(name);
    // stdout read and dropped here: the user-space end of the seed's design
    const p = teardown.own(execa('bpftrace', ['-e', program], { reject: false, stdout: 'pipe', stderr: 'ignore', buffer: false }), 'SIGINT');
    // attached when bpftrace says so ("Attaching 3 probes...")
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${name}: bpftrace did not attach`)), 60_000);
      let attached = false;
      p.stdout!.on('data', (d: Buffer) => { if (!attached && /Attaching/.test(String(d))) { attached = true; clearTimeout(t); setTimeout(resolve, 500); } });
      void p.then(() => { clearTimeout(t); reject(new Error(`${name}: bpftrace exited`)); });
    });
    return { stop: async () => { p.kill('SIGINT'); await p; }, pids: async () => ({ bpftrace: p.pid }) };
  },
});

const agentTracer = (name: string, args: string[], cli = CLI): Tracer => ({
  name,
  async start() {
    const agent = await startNode(teardown, serveArgs(cli, ...args));
    return { stop: agent.stop, pids: async () => ({ node: agent.pid, bpftrace: await childBpftrace(agent.pid) }) };
  },
});

const TRACERS: Tracer[] = [
  { name: 'none', start: async () => ({ stop: async () => undefined, pids: async () => ({}) }) },
  bpftraceTracer('bare counter', BARE),
  agentTracer('agent (tracepoint)', ['--mode=tracepoint']),
  bpftraceTracer('printf per skb', PRINTF),
  ...(opt.baseline ? [agentTracer('agent baseline (tracepoint)', ['--mode=tracepoint'], opt.baseline)] : []),
];

// the kernel counts each BPF program's runs and run time while this is 1; restored on the way out
const BPF_STATS = '/proc/sys/kernel/bpf_stats_enabled';
if (!existsSync(BPF_STATS)) refuse(`${BPF_STATS} is missing: this kernel cannot count BPF program runs (5.1 or later has it)`);
const bpfStatsWas = readFileSync(BPF_STATS, 'utf8').trim();

// every process a step starts is the teardown's (teardown.own): Ctrl-C or the end stops them, then this
const teardown = teardownOnce(async () => {
  await cleanup();
  writeFileSync(BPF_STATS, bpfStatsWas);
});

/** --gb GB of TCP from namespace a to b (iperf3); the bytes sent */
async function transfer(a: string, b: string): Promise<number> {
  teardown.check('a transfer');
  const server = teardown.own(execa('ip', ['netns', 'exec', b, 'iperf3', '-s', '-1', '-B', '198.18.1.2'], { reject: false }));
  await sleep(300);
  const client = await teardown.own(execa('ip', ['netns', 'exec', a, 'iperf3', '-c', '198.18.1.2', '-n', `${gb}G`, '-J'], { reject: false }));
  await server;
  return JSON.parse(client.stdout || '{}').end?.sum_sent?.bytes ?? gb * 2 ** 30;
}

/**
 * node's floor: stack-floor.ts with the agent's node flags, its RSS at start,
 * and at its peak and steady after `scrapes` scrapes and 10 s. It has stopped
 * before the agent starts, so that it is not in the agent's figures.
 */
async function stackFloorRss(scrapes: number) {
  const floor = await startNode(teardown, (port) => [STACK_FLOOR, String(port)], 60_000);
  const start = rss(floor.pid);
  for (let i = 0; i < scrapes; i++) await fetchMetrics(floor.base);
  await sleep(10_000);
  const steady = rss(floor.pid);
  await floor.stop();
  return { start, steady };
}

/**
 * CPU of one periodic host re-check (--recheck.schedule, every 10 minutes by
 * default), in ms, which the idle window misses unless it crosses a multiple
 * of 10 minutes: the build's own inspectHost in a node with the agent's flags,
 * three calls after a first (the agent's start-up one); node's CPU and its
 * children's (bpftrace --info and the like).
 */
async function recheckMs(cli: string): Promise<number> {
  const host = new URL('kernel/host.js', pathToFileURL(cli)).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const { inspectHost } = await import(${JSON.stringify(host)});
    const children = () => { const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' '); return (Number(f[13]) + Number(f[14])) * 10; };
    await inspectHost('bpftrace', { mountTracefs: false });
    const c = process.cpuUsage(), k = children();
    for (let i = 0; i < 3; i++) await inspectHost('bpftrace', { mountTracefs: false });
    const d = process.cpuUsage(c);
    console.log(((d.user + d.system) / 1000 + children() - k) / 3);`;
  return Number((await execa(process.execPath, [...AGENT_NODE_OPTIONS, '--input-type=module', '-e', script])).stdout);
}

/** 2 and 3 for one build of the agent: the storm, quiet and scraped; RSS; idle CPU */
async function stormFigures(label: string, cli: string, tap: { ns: string; dev: string }, withFloor: boolean): Promise<void> {
  const RATE = 10;
  // scrapes back to back: node's CPU per scrape without a storm's noise, and what the floor is given
  const SCRAPES = 1000;
  const floor = withFloor ? await stackFloorRss(SCRAPES) : undefined;
  const agent = await startNode(teardown, serveArgs(cli, '--mode=tracepoint', `--sample.rate=${RATE}`));
  const { base, pid: nodePid } = agent;
  const btPid = await childBpftrace(nodePid);
  const start = { node: rss(nodePid), bpftrace: rss(btPid) };
  // the first 10 s after ready: idle, but the agent's start-up work (first prints, first runs of its code) may still show
  const early0 = cpuSeconds(nodePid) + cpuSeconds(btPid);
  await sleep(10_000);
  const earlyIdle = (cpuSeconds(nodePid) + cpuSeconds(btPid) - early0) / 10;
  const scrape0 = cpuSeconds(nodePid);
  for (let i = 0; i < SCRAPES; i++) await fetchMetrics(base);
  const msPerScrape = (cpuSeconds(nodePid) - scrape0) * 1000 / SCRAPES;
  /** one storm of stormSkbs; with `scrape`, /metrics is fetched 100 times a second meanwhile */
  const storm = async (scrape: boolean) => {
    const m0 = await fetchMetrics(base);
    const cpu0 = cpuSeconds(nodePid) + cpuSeconds(btPid), t0 = Date.now();
    teardown.check('a storm');
    const injector = teardown.own(execa('ip', ['netns', 'exec', tap.ns, 'python3', INJECT, tap.dev, '198.18.0.2', '198.18.0.1', String(stormSkbs)], { reject: false }));
    const latencies: number[] = [];
    while (injector.exitCode === null) {
      const s = performance.now();
      if (scrape && await fetch(`${base}/metrics`).then((r) => r.text().then(() => r.ok), () => false)) latencies.push(performance.now() - s);
      await sleep(Math.max(0, 10 - (performance.now() - s)));
    }
    await injector;
    const seconds = (Date.now() - t0) / 1000;
    const cpuUsed = cpuSeconds(nodePid) + cpuSeconds(btPid) - cpu0;
    const cpu = cpuUsed / seconds;
    // counted when the counter stops moving for three print intervals
    let last = -1;
    for (let still = 0; still < 3; await sleep(1000)) { const t = (await fetchMetrics(base)).sum('frag_list_inconsistent_total'); still = t === last ? still + 1 : 0; last = t; }
    const m1 = await fetchMetrics(base);
    const d = (n: string) => m1.sum(n) - m0.sum(n);
    latencies.sort((x, y) => x - y);
    return { seconds, cpu, cpuUsed, latencies, counted: d('frag_list_inconsistent_total'), sampled: d('frag_list_events_sampled_total'),
      suppressed: d('frag_list_events_suppressed_total'), lost: d('frag_list_events_lost_total') };
  };
  const quiet = await storm(false);
  // three scraped storms, their latencies pooled: one lasts about 2.5 s here, and the p99 of its
  // 250 scrapes (the third slowest) swung from 4 to 12 ms between runs of the same code
  const scrapedStorms = [await storm(true), await storm(true), await storm(true)];
  const latencies = scrapedStorms.flatMap((r) => r.latencies).sort((x, y) => x - y);
  await sleep(10_000);
  const steady = { node: rss(nodePid), bpftrace: rss(btPid) };
  // idle as it stays: 30 s once the storms have settled
  const idle0 = cpuSeconds(nodePid) + cpuSeconds(btPid), idleFrom = Date.now();
  await sleep(30_000);
  const idle = (cpuSeconds(nodePid) + cpuSeconds(btPid) - idle0) / 30;
  // the default schedule re-checks at minutes 0, 10, 20...: a window across one holds a re-check
  const idleHeldRecheck = Math.floor(idleFrom / 600_000) !== Math.floor(Date.now() / 600_000);
  const recheck = await recheckMs(cli);
  for (const [name, r] of [['storm', quiet], ...scrapedStorms.map((r, i) => [`storm ${i + 1} of 3 with /metrics at 100/s`, r] as const)] as const) {
    process.stdout.write(`\n${label}, ${name}: ${stormSkbs} INCONSISTENT skbs injected in ${r.seconds.toFixed(1)} s, counted ${r.counted}${r.counted === stormSkbs ? ' (exact)' : ` (MISSED ${stormSkbs - r.counted})`}; ` +
      `sampled ${r.sampled} (rate ${RATE}/s: at most ${Math.ceil(RATE * (r.seconds + 3)) + RATE}), suppressed ${r.suppressed}, lost ${r.lost}; agent CPU ${(r.cpu * 100).toFixed(1)} % of a core (node + bpftrace's user space; ` +
      `${(r.cpuUsed * 1000).toFixed(0)} ms in all, which does not depend on how fast the injector ran)\n`);
  }
  process.stdout.write(`  /metrics at 100/s during the three storms: ${latencies.length} scrapes, p50 ${pct(latencies, 0.5).toFixed(1)} ms, p99 ${pct(latencies, 0.99).toFixed(1)} ms ` +
    `(each storm's p99: ${scrapedStorms.map((r) => pct(r.latencies, 0.99).toFixed(1)).join(', ')} ms)\n`);
  process.stdout.write(`  idle: ${(idle * 100).toFixed(2)} % of a core (node + bpftrace, 30 s after the storms${idleHeldRecheck ? ', a window that held a re-check' : ''}; the first 10 s after ready: ${(earlyIdle * 100).toFixed(2)} %); ` +
    `node's CPU per scrape when idle: ${msPerScrape.toFixed(2)} ms (${SCRAPES} back to back)\n`);
  process.stdout.write(`  the periodic host re-check: ${recheck.toFixed(0)} ms of CPU each (node and its children); every 10 minutes, as by default, ` +
    `${(recheck / 6000).toFixed(3)} % of a core` + (idleHeldRecheck ? '\n' : `, so idle with it ${(idle * 100 + recheck / 6000).toFixed(2)} %\n`));
  process.stdout.write(`  RSS node: start ${mb(start.node.rss)}, peak ${mb(steady.node.peak)}, steady ${mb(steady.node.rss)} ` +
    `(steady: ${mb(steady.node.anon)} its own, ${mb(steady.node.file)} mapped from files: node's binary, shared and reclaimable); ` +
    `bpftrace: start ${mb(start.bpftrace.rss)}, peak ${mb(steady.bpftrace.peak)}, steady ${mb(steady.bpftrace.rss)}\n`);
  if (floor) {
    process.stdout.write(`  RSS of node's floor, the chosen stack with none of the agent's code (stack-floor.js, run alone before the agent, ${SCRAPES} scrapes): ` +
      `start ${mb(floor.start.rss)}, peak ${mb(floor.steady.peak)}, steady ${mb(floor.steady.rss)} (${mb(floor.steady.anon)} its own, ${mb(floor.steady.file)} from files); ` +
      `the agent's steady RSS is ${(steady.node.rss - floor.steady.rss).toFixed(1)} MB above it\n`);
  }
  // what deploy/helm's values.yaml requests: the pair's peak memory with a quarter on top, and the storm's CPU
  const peakMiB = (steady.node.peak + steady.bpftrace.peak) * 1.25;
  process.stdout.write(`  chart requests from these: memory ${Math.ceil(peakMiB / 32) * 32}Mi (node + bpftrace peak ${mb(steady.node.peak + steady.bpftrace.peak)}, +25 %), ` +
    `cpu ${Math.max(10, Math.ceil(quiet.cpu * 1000 / 10) * 10)}m (the quiet storm's agent CPU)\n`);
  const counted = Math.min(quiet.counted, ...scrapedStorms.map((r) => r.counted));
  if (counted !== stormSkbs) process.exitCode = 1;
  await agent.stop();
}

/**
 * 1b, with --baseline: the two builds' agents attached at once, so that both
 * programs run on the same skbs, one after the other: the difference of their
 * ns per run is the change's own cost, without the rounds' swings. The program
 * attached first runs first and pays for the skb's cold cache lines, so the
 * order alternates and the difference is the mean over an even number of rounds.
 */
async function bothAtOnce(a: string, b: string, baseline: string): Promise<void> {
  const pairs = Math.max(2, rounds - (rounds % 2));
  const builds = [agentTracer('this build', ['--mode=tracepoint']), agentTracer('baseline', ['--mode=tracepoint'], baseline)];
  const diffs: number[][] = [[], []];  // this build minus baseline, by which ran first
  const ns: number[][] = [[], []];
  for (let round = 0; round < pairs; round++) {
    const first = round % 2;
    const started: Running[] = [];
    try {
      for (const i of [first, 1 - first]) started[i] = await builds[i].start();
      await transfer(a, b);
      const perRun = await Promise.all(started.map(async (r) => {
        const bpf = bpfRuns((await r.pids()).bpftrace!);
        if (!bpf.runs) throw new Error('an agent\'s programs did not run during the transfer: are they attached to this traffic\'s tracepoints?');
        return bpf.ns / bpf.runs;
      }));
      perRun.forEach((x, i) => ns[i].push(x));
      diffs[first].push(perRun[0] - perRun[1]);
    } finally {
      for (const r of started) await r?.stop();
    }
  }
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const d = (mean(diffs[0]) + mean(diffs[1])) / 2;
  process.stdout.write(`\nboth agents attached at once (the same skbs), ${pairs} rounds of ${gb} GB, the first attached alternating: ` +
    `BPF ns per run, this build ${median(ns[0]).toFixed(0)} and baseline ${median(ns[1]).toFixed(0)} (medians); ` +
    `this build minus baseline ${d >= 0 ? '+' : ''}${d.toFixed(1)} ns per run (${mean(diffs[0]).toFixed(1)} when it ran first, ${mean(diffs[1]).toFixed(1)} when second; ` +
    `running first costs ${((mean(diffs[0]) - mean(diffs[1])) / 2).toFixed(1)} ns)\n`);
}

try {
  // --- 1. CPU per GB, interleaved (--rounds 0: skipped) ----------------------
  if (rounds > 0) {
    const { a, b } = await vethPair();
    const perGb = new Map<string, number[]>(TRACERS.map((t) => [t.name, []]));
    /** per round: ns per run of the tracer's per-event BPF programs, and their ms per GB */
    const nsPerRun = new Map<string, number[]>(TRACERS.map((t) => [t.name, []]));
    const bpfMsPerGb = new Map<string, number[]>(TRACERS.map((t) => [t.name, []]));
    writeFileSync(BPF_STATS, '1');
    process.stdout.write(`bench: ${rounds} rounds of ${gb} GB of TCP over a veth pair (offloads as created), tracers in rotating order\n`);
    for (let round = 0; round < rounds; round++) {
      const order = TRACERS.map((_, i) => TRACERS[(i + round) % TRACERS.length]);
      for (const t of order) {
        const running = await t.start();
        const busy0 = busySeconds();
        const bytes = await transfer(a, b);
        const busy = busySeconds() - busy0;
        const { bpftrace } = await running.pids();
        const bpf = bpftrace ? bpfRuns(bpftrace) : undefined;
        await running.stop();
        perGb.get(t.name)!.push(busy / (bytes / 1e9));
        if (bpf?.runs) { nsPerRun.get(t.name)!.push(bpf.ns / bpf.runs); bpfMsPerGb.get(t.name)!.push(bpf.ns / 1e6 / (bytes / 1e9)); }
      }
      process.stdout.write(`  round ${round + 1}: ${TRACERS.map((t) => `${t.name} ${perGb.get(t.name)!.at(-1)!.toFixed(3)}`).join(', ')} cpu-s/GB\n`);
    }
    const none = median(perGb.get('none')!);
    process.stdout.write('\n| tracer | cpu-s/GB (median) | spread (min–max) | ratio to none | BPF ns per run (median, spread) | BPF ms per GB |\n|---|---|---|---|---|---|\n');
    for (const t of TRACERS) {
      const xs = perGb.get(t.name)!, ns = nsPerRun.get(t.name)!, ms = bpfMsPerGb.get(t.name)!;
      const bpfCols = ns.length ? `${median(ns).toFixed(0)} (${Math.min(...ns).toFixed(0)}–${Math.max(...ns).toFixed(0)}) | ${median(ms).toFixed(1)}` : '– | –';
      process.stdout.write(`| ${t.name} | ${median(xs).toFixed(3)} | ${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)} | ${(median(xs) / none).toFixed(2)} | ${bpfCols} |\n`);
    }
    process.stdout.write('BPF columns: the kernel\'s own accounting (kernel.bpf_stats_enabled) of the tracer\'s per-event programs: their cost without the machine\'s noise\n');
    if (opt.baseline) await bothAtOnce(a, b, opt.baseline);
    await cleanup();
  }

  // --- 2 and 3. the storm, RSS, idle: this build, then --baseline's ---------------
  if (stormSkbs > 0) {
    const tap = await tapHost();
    await stormFigures('agent', CLI, tap, true);
    if (opt.baseline) await stormFigures('agent baseline', opt.baseline, tap, false);
  }
} catch (err) {
  // a step that ran into the teardown (Ctrl-C) stopped itself: that is no failure of the run
  if (!teardown.interrupted && !(err instanceof TeardownBegun)) throw err;
} finally {
  await teardown.run();
}
