// The fleet benchmark (npm run bench:fleet; not a test: it prints figures).
// For each fleet size (--hosts, default 1000,5000,10000): N simulated hosts
// in every probe mode and state (test/fleet/: the agent's own metrics code),
// --hours of history backfilled (promtool tsdb create-blocks-from openmetrics
// for the series the rules read, then create-blocks-from rules for the
// recordings, in two passes: a recording read by another one must exist
// first), then a real Prometheus with the shipped rules scraping every host
// every 30 s for --live-minutes. It prints the head series and series per
// host, Prometheus' RSS, each rule group's evaluation time, and every
// fleet-dashboard query at 1 h and at the backfilled range: its time and the
// series it returns. Removes what it made; stops only what it started.
import { execa, type ResultPromise } from 'execa';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ruleGroups, type RuleGroup } from '../../deploy/alerts.js';
import { DASHBOARD_SPECS } from '../../grafana/dashboards.js';
import { freePort, sleep, until } from '../helpers/agent.js';
import { SHIPPED_RULES } from '../helpers/alerting.js';
import { startFleetServer, instanceOf, type FleetHost } from '../fleet/fleet-server.js';
import { simulatedHost, type HostState } from '../fleet/simulated-host.js';
import type { ModeName } from '../../src/modes.js';
import { benchOptions, refuse } from './options.js';

const opt = await benchOptions('bench:fleet', {
  numbers: {
    hours: { default: 6, min: 1, help: 'hours of history backfilled' },
    'live-minutes': { default: 3, min: 1, help: 'minutes Prometheus scrapes the fleet and evaluates the rules before the queries' },
  },
  strings: { hosts: { default: '1000,5000,10000' } },
  tools: ['prometheus', 'promtool'],
});
const SIZES = opt.hosts!.split(',').map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n < 1)) refuse('bench:fleet', `--hosts ${opt.hosts}: fleet sizes, comma-separated (1000,5000,10000)`);
const HOURS = opt.hours, LIVE_MINUTES = opt['live-minutes'];
const SCRAPE_SECONDS = 30;
/** the backfilled recordings' step (promtool's default); the live rules run every SCRAPE_SECONDS */
const BACKFILL_EVAL_SECONDS = 60;
const JOB = 'fraglist-exporter';

/** a fleet's share of each mode and state (a bad day: 2 % paging, 3 % tracers down) */
const MODES: Array<[ModeName, number]> = [['tracepoint', 60], ['kprobe', 25], ['fentry', 15]];
const STATES: Array<[HostState, number]> = [['idle', 70], ['receive-inconsistent', 18], ['paging', 2], ['paged-before', 2], ['losing-events', 3], ['tracer-down', 3], ['crashed', 2]];
const pick = <T>(shares: Array<[T, number]>, i: number): T => {
  let at = i % 100;
  for (const [v, share] of shares) { if (at < share) return v; at -= share; }
  return shares[0][0];
};
const fleetOf = (n: number): FleetHost[] => Array.from({ length: n }, (_, i) => ({ mode: pick(MODES, i), state: pick(STATES, i * 37 + Math.floor(i / 100)) }));

/** what the rules read (the rest of a host's series are not backfilled: no rule or fleet panel reads their history) */
const RULE_INPUTS = new Set(ruleGroups().flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/(?<![\w:])(frag_list_\w+|process_start_time_seconds)(?![\w:])/g)].map((m) => m[1]))));

interface KindSeries { name: string; labels: string; value: number; slope: number }
/**
 * A kind's series the rules read, each with its value at `end` and its rise per second, from the agent's metrics code
 * (a counter's traffic; a last-rise timestamp's 1 s a second while its state keeps rising).
 */
async function kindSeries(mode: ModeName, state: HostState, end: number): Promise<KindSeries[]> {
  const host = simulatedHost(mode, state, { bornMs: (end - 120) * 1000 });
  const read = async () => new Map((await host.registries.text.metrics()).split('\n').filter((l) => l && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))] as const));
  host.advance(59);
  const a = await read();
  host.advance(60);
  const b = await read();
  const out: KindSeries[] = [{ name: 'up', labels: '', value: 1, slope: 0 }];
  for (const [series, v] of b) {
    const name = series.replace(/\{.*$/, '');
    if (!RULE_INPUTS.has(name)) continue;
    out.push({ name, labels: series.slice(name.length).replace(/^\{|\}$/g, ''), value: v, slope: (v - (a.get(series) ?? v)) / 60 });
  }
  return out;
}

/** Writes the history of hosts [from, to) as OpenMetrics, family by family (OpenMetrics does not interleave them). */
async function writeHistory(file: string, hosts: FleetHost[], from: number, to: number, kinds: Map<string, KindSeries[]>, start: number, end: number): Promise<number> {
  const out = createWriteStream(file);
  let samples = 0, buf = '';
  const flush = async () => { if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r())); buf = ''; };
  const families = [...new Set([...kinds.values()].flatMap((k) => k.map((s) => s.name)))];
  for (const family of families) {
    for (let i = from; i < to; i++) {
      const h = hosts[i];
      for (const s of kinds.get(`${h.mode}/${h.state}`)!.filter((x) => x.name === family)) {
        const labels = `{job="${JOB}",instance="${instanceOf(i)}"${s.labels ? `,${s.labels}` : ''}}`;
        for (let t = start; t <= end; t += SCRAPE_SECONDS) {
          // counters rise from 0 at the start of the history; a gauge keeps its value, or moves as it did at the end
          const value = s.name.endsWith('_total') ? Math.floor(s.slope * (t - start)) : s.value - s.slope * (end - t);
          // a timestamp is not reported before its time (a crash-state count made an hour ago, a crash)
          if (s.name.endsWith('_timestamp_seconds') && value > t) continue;
          buf += `${s.name}${labels} ${value} ${t}\n`;
          samples++;
        }
        if (buf.length > 4 << 20) await flush();
      }
    }
  }
  buf += '# EOF\n';
  await flush();
  await new Promise<void>((r) => out.end(r));
  return samples;
}

/** a Prometheus on `data`; resolves once it answers */
async function prometheus(dir: string, data: string, config: string, more: string[] = []): Promise<{ url: string; file: string; proc: ResultPromise; stop(): Promise<void> }> {
  const port = await freePort();
  const file = join(dir, `prometheus-${port}.yml`);
  writeFileSync(file, config);
  const proc = execa('prometheus', [`--config.file=${file}`, `--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${port}`, ...more], { reject: false, all: true });
  const url = `http://127.0.0.1:${port}`;
  await until('Prometheus ready', async () => (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) || undefined, 600_000);
  return { url, file, proc, async stop() { proc.kill('SIGTERM'); await proc; } };
}

/** the rule groups' recordings, in two files: those reading only scraped series, then those reading recordings */
function recordingPasses(dir: string): string[] {
  const recorded = new Set(ruleGroups().flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [r.record] : []))));
  const readsRecording = (expr: string) => [...recorded].some((r) => expr.includes(r));
  return [false, true].map((second, n) => {
    const groups: RuleGroup[] = ruleGroups().map((g) => ({ name: g.name, rules: g.rules.filter((r) => 'record' in r && readsRecording(r.expr) === second) }))
      .filter((g) => g.rules.length);
    const file = join(dir, `recordings-${n + 1}.yml`);
    writeFileSync(file, stringify({ groups }));
    return file;
  });
}

const metricOf = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

interface QueryFigure { panel: string; ref: string; seconds: number; series: number; samples?: number }
async function timeQuery(url: string, expr: string, instant: boolean, rangeSeconds: number, now = Math.floor(Date.now() / 1000)): Promise<{ seconds: number; series: number; samples?: number }> {
  const step = Math.max(SCRAPE_SECONDS, Math.ceil(rangeSeconds / 500));
  const q = instant ? `${url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${now}&stats=all`
    : `${url}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${now - rangeSeconds}&end=${now}&step=${step}&stats=all`;
  const t0 = performance.now();
  const body = await (await fetch(q)).json() as { status: string; error?: string; data: { result: unknown[]; stats?: { samples?: { totalQueryableSamples?: number } } } };
  const seconds = (performance.now() - t0) / 1000;
  if (body.status !== 'success') return { seconds, series: -1 };
  return { seconds, series: body.data.result.length, samples: body.data.stats?.samples?.totalQueryableSamples };
}

async function runSize(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flx-bench-fleet-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const stops: Array<() => Promise<void>> = [];
  try {
    const hosts = fleetOf(n);
    const end = Math.floor(Date.now() / 1000 / SCRAPE_SECONDS) * SCRAPE_SECONDS - SCRAPE_SECONDS;
    const start = end - HOURS * 3600;
    const kinds = new Map<string, KindSeries[]>();
    for (const h of hosts) { const k = `${h.mode}/${h.state}`; if (!kinds.has(k)) kinds.set(k, await kindSeries(h.mode, h.state, end)); }
    // 1. the scraped history, in shards of hosts, two converted at once while the next is written (each text file
    //    removed once converted)
    let t0 = performance.now(), samples = 0;
    const shard = 500;
    const converting: Array<Promise<void>> = [];
    for (let from = 0; from < n; from += shard) {
      const file = join(dir, `shard-${from}.om`);
      samples += await writeHistory(file, hosts, from, Math.min(n, from + shard), kinds, start, end);
      converting.push(execa('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, data]).then(() => rmSync(file)));
      if (converting.length >= 2) await converting.shift();
    }
    await Promise.all(converting);
    const scrapedSeconds = (performance.now() - t0) / 1000;
    // 2. the recordings over that history, two passes
    t0 = performance.now();
    for (const [i, rules] of recordingPasses(dir).entries()) {
      const p = await prometheus(dir, data, 'global: {}\n', ['--query.max-samples=2000000000', '--query.timeout=30m']);
      const out = join(dir, `recorded-${i + 1}`);
      await execa('promtool', ['tsdb', 'create-blocks-from', 'rules', `--start=${start}`, `--end=${end}`, `--url=${p.url}`, `--output-dir=${out}`,
        `--eval-interval=${BACKFILL_EVAL_SECONDS}s`, '--quiet', rules]);
      await p.stop();
      for (const b of readdirSync(out)) renameSync(join(out, b), join(data, b));
    }
    const recordedSeconds = (performance.now() - t0) / 1000;
    process.stdout.write(`\n## ${n.toLocaleString('en')} hosts\nhistory: ${HOURS} h backfilled at ${SCRAPE_SECONDS} s, ${(samples / 1e6).toFixed(1)} M samples of the series the rules read `
      + `(${scrapedSeconds.toFixed(0)} s), recordings at ${BACKFILL_EVAL_SECONDS} s (${recordedSeconds.toFixed(0)} s)\n`);

    // 3. live: the fleet scraped, the shipped rules evaluated
    const fleet = await startFleetServer(hosts, { historySeconds: HOURS * 3600 });
    stops.push(() => fleet.stop());
    writeFileSync(join(dir, 'targets.json'), fleet.fileSd());
    const p = await prometheus(dir, data, `
global: { scrape_interval: ${SCRAPE_SECONDS}s, evaluation_interval: ${SCRAPE_SECONDS}s }
rule_files: ['${SHIPPED_RULES}']
scrape_configs: [{ job_name: ${JOB}, file_sd_configs: [{ files: ['${join(dir, 'targets.json')}'] }] }]
`);
    stops.push(() => p.stop());
    // each group's evaluation time, read once an interval after the first minute: the median and the worst
    const evaluations = new Map<string, number[]>();
    /** each rule's evaluation times, by group and rule (alert or record name) */
    const ruleEvaluations = new Map<string, number[]>();
    const liveEnd = Date.now() + LIVE_MINUTES * 60_000;
    // the CPU the two share, over the live minutes: Prometheus and this process (the simulated fleet's server)
    const promCpu = () => readFileSync(`/proc/${p.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).reduce((a, t) => a + Number(t), 0) / 100;
    const cpuAt = { prom: promCpu(), self: process.cpuUsage(), ms: Date.now() };
    await sleep(60_000);
    while (Date.now() < liveEnd) {
      const r = await (await fetch(`${p.url}/api/v1/rules`)).json() as { data: { groups: Array<{ name: string; evaluationTime: number; rules: Array<{ name: string; evaluationTime: number }> }> } };
      for (const g of r.data.groups) {
        evaluations.set(g.name, [...(evaluations.get(g.name) ?? []), g.evaluationTime]);
        for (const rule of g.rules) {
          const k = `${g.name}: ${rule.name}`;
          ruleEvaluations.set(k, [...(ruleEvaluations.get(k) ?? []), rule.evaluationTime]);
        }
      }
      await sleep(SCRAPE_SECONDS * 1000);
    }
    const liveSeconds = (Date.now() - cpuAt.ms) / 1000;
    const selfCpu = process.cpuUsage(cpuAt.self);
    process.stdout.write(`CPU over the live minutes (2 cores here): Prometheus ${((promCpu() - cpuAt.prom) / liveSeconds).toFixed(2)} cores, `
      + `the simulated fleet's server ${((selfCpu.user + selfCpu.system) / 1e6 / liveSeconds).toFixed(2)} cores\n`);
    const self = await (await fetch(`${p.url}/metrics`)).text();
    const head = metricOf(self, 'prometheus_tsdb_head_series');
    const up = Number((await (await fetch(`${p.url}/api/v1/query?query=${encodeURIComponent(`count(up{job="${JOB}"} == 1)`)}`)).json() as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1] ?? 0);
    process.stdout.write(`head series: ${head.toLocaleString('en')} (${(head / n).toFixed(0)} a host; ${up} of ${n} hosts up, ${fleet.scrapes} scrapes in ${LIVE_MINUTES} min); `
      + `Prometheus RSS ${(metricOf(self, 'process_resident_memory_bytes') / 2 ** 30).toFixed(2)} GiB\n`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    process.stdout.write(`rule group evaluations (median / worst of ${[...evaluations.values()][0]?.length ?? 0} read): `
      + `${[...evaluations].map(([g, xs]) => `${g} ${median(xs).toFixed(3)} / ${Math.max(...xs).toFixed(3)} s`).join(', ')}\n`);
    const slowRules = [...ruleEvaluations].map(([k, xs]) => [k, median(xs)] as const).filter(([, m]) => m >= 0.05).sort((a, b) => b[1] - a[1]);
    process.stdout.write(`rules taking 0.05 s or more (median): ${slowRules.map(([k, m]) => `${k} ${m.toFixed(3)} s`).join('; ') || 'none'}\n`);

    // 4. every fleet-dashboard query, at 1 h and at the backfilled range
    const fleetDashboard = DASHBOARD_SPECS.find((d) => d.uid === 'fraglist-fleet')!;
    const figures: Array<[QueryFigure, QueryFigure]> = [];
    for (const panel of fleetDashboard.rows.flatMap((r) => r.panels)) {
      for (const [i, t] of panel.targets.entries()) {
        const at = async (hours: number): Promise<QueryFigure> => {
          const expr = t.expr.replaceAll('$job', JOB).replaceAll('$__range', `${hours}h`).replaceAll('$__rate_interval', '2m');
          return { panel: panel.title, ref: String.fromCharCode(65 + i), ...(await timeQuery(p.url, expr, t.instant === true, hours * 3600)) };
        };
        figures.push([await at(1), await at(HOURS)]);
      }
    }
    process.stdout.write(`\n| fleet panel | query | 1 h: seconds | series | ${HOURS} h: seconds | series | samples read |\n|---|---|---|---|---|---|---|\n`);
    for (const [a, b] of figures) process.stdout.write(`| ${a.panel} | ${a.ref} | ${a.seconds.toFixed(3)} | ${a.series} | ${b.seconds.toFixed(3)} | ${b.series} | ${b.samples?.toLocaleString('en') ?? ''} |\n`);
    const slowest = figures.flat().reduce((x, y) => (y.seconds > x.seconds ? y : x));
    const widest = figures.flat().reduce((x, y) => (y.series > x.series ? y : x));
    const failed = figures.flat().filter((f) => f.series < 0);
    process.stdout.write(`slowest: ${slowest.seconds.toFixed(3)} s (${slowest.panel} ${slowest.ref}); most series: ${widest.series} (${widest.panel} ${widest.ref})`
      + `${failed.length ? `; FAILED: ${failed.map((f) => `${f.panel} ${f.ref}`).join(', ')}` : ''}\n`);

    // 5. each rule group alone: its rules' queries at a time of the live minutes, once the scraping has stopped (the
    //    live evaluation times above share 2 cores with every scrape of the fleet and with the fleet's server)
    const at = Math.floor(Date.now() / 1000) - SCRAPE_SECONDS;
    writeFileSync(p.file, `global: { evaluation_interval: ${SCRAPE_SECONDS}s }\nrule_files: ['${SHIPPED_RULES}']\n`);
    p.proc.kill('SIGHUP');
    await until('the scraping to stop', async () => ((await (await fetch(`${p.url}/api/v1/targets`)).json() as { data: { activeTargets: unknown[] } })
      .data.activeTargets.length === 0 ? true : undefined), 120_000);
    const alone: string[] = [];
    for (const g of ruleGroups()) {
      let total = 0, series = 0;
      for (const r of g.rules) {
        const runs = [];
        for (let i = 0; i < 3; i++) runs.push(await timeQuery(p.url, r.expr, true, 0, at));
        if (runs.some((x) => x.series < 0)) throw new Error(`${g.name}: ${'alert' in r ? r.alert : r.record} failed`);
        total += median(runs.map((x) => x.seconds));
        series += runs[0].series;
      }
      alone.push(`${g.name} ${total.toFixed(3)} s (${series} series out)`);
    }
    process.stdout.write(`rule groups alone (their rules' queries, median of 3, summed): ${alone.join(', ')}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`# bench:fleet: ${SIZES.join(', ')} simulated hosts (${MODES.map(([m, s]) => `${s} % ${m}`).join(', ')}; ${STATES.map(([st, s]) => `${s} % ${st}`).join(', ')}), `
  + `${HOURS} h of history, ${LIVE_MINUTES} min live at ${SCRAPE_SECONDS} s scrapes; ${(await execa('prometheus', ['--version'])).stdout.split('\n')[0]}\n`);
for (const n of SIZES) await runSize(n);
