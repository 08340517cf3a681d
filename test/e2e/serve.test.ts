// serve, end to end: real kernel skbs -> real bpftrace -> the agent -> HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { assertNoCounterDecreased, childBpftrace, CLI, isAlive, startAgent, until, sleep, type Agent, type Metrics } from '../helpers/agent.js';
import { cleanup, inject, tapHost, vethPair } from '../helpers/net.js';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { fraglistFix } from '../../src/kernel/fraglist-fix.js';

const RATE = 20;
const HOOK = 'netif_receive_skb_entry';

describe('serve on this kernel', () => {
  let agent: Agent;
  let tap: Awaited<ReturnType<typeof tapHost>>;

  before(async () => {
    tap = await tapHost();
    agent = await startAgent([`--sample.rate=${RATE}`]);
  });
  after(async () => {
    if (agent) assert.equal((await agent.stop()).code, 0);
    await cleanup();
  });

  /** Waits until the kernel counters printed after an action include it. */
  const settle = async (check: (m: Metrics) => boolean) => until('counters to settle', async () => {
    const m = await agent.metrics();
    return check(m) ? m : undefined;
  });

  test('every injected seed-INCONSISTENT skb is counted exactly once; sampling stays in budget', async () => {
    const m0 = await agent.metrics();
    const N = 1000;
    const t0 = Date.now();
    await inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', N);
    const injectSeconds = (Date.now() - t0) / 1000;
    const incBefore = m0.sum('frag_list_inconsistent_total');
    const m1 = await settle((m) => m.sum('frag_list_inconsistent_total') >= incBefore + N);
    await sleep(2500); // two more print intervals: nothing more may arrive
    const m2 = await agent.metrics();
    const d = (name: string, labels = {}) => m2.sum(name, labels) - m0.sum(name, labels);
    assert.equal(d('frag_list_inconsistent_total'), N);
    assert.equal(d('frag_list_inconsistent_total', { hook: HOOK }), N);
    assert.equal(d('frag_list_overrun_total'), 0);
    assert.equal(d('frag_list_events_total', { event: 'inconsistent' }), N);
    const sampled = d('frag_list_events_sampled_total'), suppressed = d('frag_list_events_suppressed_total');
    assert.equal(sampled + suppressed, N, 'every event is either sampled or counted as suppressed');
    assert.ok(sampled >= 1 && sampled <= RATE + Math.ceil(RATE * injectSeconds) + 1, `sampled ${sampled} within the budget of ${RATE}/s`);
    assert.ok(m1.sum('frag_list_last_inconsistent_timestamp_seconds', { hook: HOOK, culprit: 'unseen' }) > Date.now() / 1000 - 60, 'when the counter last rose');
    process.stdout.write(`# injected ${N}, counted ${d('frag_list_inconsistent_total')}, sampled ${sampled}, suppressed ${suppressed} (${injectSeconds.toFixed(2)} s)\n`);

    const body = await (await agent.get('/events')).json() as { events: Array<Record<string, unknown>> };
    const e = body.events.find((x) => x.src === '198.18.0.2');
    assert.ok(e, 'a sampled event of the injected flow');
    assert.equal(e.kind, 'inconsistent');
    assert.equal(e.hook, HOOK);
    assert.equal(e.gso_size, 1348);
    assert.equal(e.gso_type_names, 'TCPV4|DODGY');
    assert.equal(e.len, 3040);
    assert.equal(e.data_len, 0);
    assert.equal(e.dev, tap.dev);
    assert.equal(e.dport, 5201);
    assert.ok((e.stack as string[]).length > 0, 'kernel stack');
  });

  test('IPv6 and other sizes: linear GSO skbs count, paged ones do not', async () => {
    const m0 = await agent.metrics();
    await inject(tap.ns, tap.dev, '2001:db8::2', '2001:db8::1', 37, { payload: 1200, gsoSize: 500 });
    await inject(tap.ns, tap.dev, '198.18.0.3', '198.18.0.1', 25, { payload: 9000 }); // beyond a page: tun builds frags
    const gsoBefore = m0.sum('frag_list_gso_skbs_total', { hook: HOOK });
    await settle((m) => m.sum('frag_list_gso_skbs_total', { hook: HOOK }) >= gsoBefore + 62);
    await sleep(1500);
    const m2 = await agent.metrics();
    assert.equal(m2.sum('frag_list_gso_skbs_total', { hook: HOOK }) - gsoBefore, 62);
    assert.equal(m2.sum('frag_list_inconsistent_total') - m0.sum('frag_list_inconsistent_total'), 37);
    assert.equal(m2.sum('frag_list_overrun_total') - m0.sum('frag_list_overrun_total'), 0);
    const body = await (await agent.get('/events?kind=inconsistent')).json() as { events: Array<Record<string, unknown>> };
    const e = body.events.find((x) => x.src === '2001:db8::2');
    assert.ok(e, 'a sampled IPv6 event');
    assert.equal(e.l3, 'ipv6');
    assert.equal(e.gso_type_names, 'DODGY|TCPV6');
    assert.equal(e.gso_size, 500);
    assert.equal(e.len, 40 + 20 + 1200);
  });

  test('--filter.dst-ip (IPv6) and --filter.gso-only: a filtered agent counts only its flow, exactly', async () => {
    const filtered = await startAgent(['--filter.dst-ip=2001:db8::7', '--filter.gso-only=true']);
    try {
      const f0 = await filtered.metrics();
      await inject(tap.ns, tap.dev, '2001:db8::2', '2001:db8::7', 23, { payload: 1400, gsoSize: 700 });
      await inject(tap.ns, tap.dev, '2001:db8::2', '2001:db8::8', 17, { payload: 1400, gsoSize: 700 });
      await inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', 11);
      const before = f0.sum('frag_list_filtered_total');
      await until('the other flows to be filtered', async () => {
        const m = await filtered.metrics();
        return m.sum('frag_list_filtered_total') - before >= 28 ? m : undefined;
      });
      await sleep(1500);
      const f1 = await filtered.metrics();
      assert.equal(f1.sum('frag_list_inconsistent_total') - f0.sum('frag_list_inconsistent_total'), 23);
      assert.equal(f1.sum('frag_list_skbs_inspected_total', { hook: HOOK }) - f0.sum('frag_list_skbs_inspected_total', { hook: HOOK }), 23);
    } finally {
      assert.equal((await filtered.stop()).code, 0);
    }
  });

  test('a TCP stream across a veth pair is inspected and never INCONSISTENT or OVERRUN', async () => {
    const { a, b } = await vethPair();
    const m0 = await agent.metrics();
    const server = execa('ip', ['netns', 'exec', b, 'iperf3', '-s', '-1', '-B', '198.18.1.2'], { reject: false });
    try {
      await sleep(500);
      await execa('ip', ['netns', 'exec', a, 'iperf3', '-c', '198.18.1.2', '-t', '2', '-B', '198.18.1.1'], { timeout: 20_000 });
    } finally {
      server.kill('SIGTERM');
      await server;
    }
    await sleep(2500);
    const m1 = await agent.metrics();
    const d = (name: string, labels = {}) => m1.sum(name, labels) - m0.sum(name, labels);
    assert.ok(d('frag_list_skbs_inspected_total', { hook: 'net_dev_start_xmit' }) > 1000, 'transmitted skbs inspected');
    assert.ok(d('frag_list_gso_skbs_total') > 100, `GSO skbs seen: ${d('frag_list_gso_skbs_total')}`);
    assert.equal(d('frag_list_inconsistent_total'), 0);
    assert.equal(d('frag_list_overrun_total'), 0);
    process.stdout.write(`# veth TCP: inspected ${d('frag_list_skbs_inspected_total')}, gso ${d('frag_list_gso_skbs_total')}\n`);
  });

  test('/metrics passes promtool check metrics, in both formats', async () => {
    const text = await (await agent.get('/metrics')).text();
    const r = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    for (const name of ['frag_list_inconsistent_total', 'frag_list_last_inconsistent_timestamp_seconds', 'frag_list_tracer_up', 'frag_list_build_info', 'frag_list_probe_attached']) {
      assert.match(text, new RegExp(`^${name}`, 'm'));
    }
    // no OVERRUN here: its families are declared, their series born with the first skb
    for (const name of ['frag_list_overrun_total', 'frag_list_last_overrun_timestamp_seconds']) {
      assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'));
      assert.doesNotMatch(text, new RegExp(`^${name}`, 'm'));
    }
    // the fraglist fix the rules join on, judged from this host's version text
    const fix = fraglistFix({ release: release(), procVersion: readFileSync('/proc/version', 'utf8') });
    assert.match(text, new RegExp(`^frag_list_kernel_fraglist_fix_info\\{state="${fix.state}",upstream="${fix.upstream ?? 'unknown'}"\\} 1$`, 'm'));
    const om = await agent.get('/metrics', { accept: 'application/openmetrics-text; version=1.0.0' });
    assert.match(om.headers.get('content-type') ?? '', /application\/openmetrics-text/);
    assert.match(await om.text(), /# EOF\n$/);
  });

  test('readiness, health, landing page', async () => {
    assert.equal((await agent.get('/healthz')).status, 200);
    assert.equal((await agent.get('/readyz')).status, 200);
    const page = await (await agent.get('/')).text();
    assert.match(page, /tracepoint/);
    assert.match(page, /netif_receive_skb_entry/);
  });
});

describe('supervision', () => {
  after(cleanup);

  test('kill -9 of bpftrace: it comes back, restarts are counted, no counter decreases', async () => {
    const tap = await tapHost();
    const agent = await startAgent();
    try {
      await inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', 100);
      await until('first batch counted', async () => ((await agent.metrics()).sum('frag_list_inconsistent_total') >= 100 ? true : undefined));
      const tracer = await childBpftrace(agent.proc.pid!);
      let previous = await agent.metrics();
      process.kill(tracer, 'SIGKILL');
      let sawDown = false;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const m = await agent.metrics();
        assertNoCounterDecreased(previous, m);
        previous = m;
        if (m.sum('frag_list_tracer_up') === 0) sawDown = true;
        if (m.sum('frag_list_tracer_restarts_total') >= 1 && m.sum('frag_list_tracer_up') === 1) break;
        assert.ok(Date.now() < deadline, 'bpftrace came back');
        await sleep(100);
      }
      assert.ok(sawDown, 'frag_list_tracer_up dropped to 0 while bpftrace was gone');
      assert.notEqual(await childBpftrace(agent.proc.pid!), tracer);
      await inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', 100);
      const m = await until('second batch counted', async () => {
        const x = await agent.metrics();
        assertNoCounterDecreased(previous, x);
        previous = x;
        return x.sum('frag_list_inconsistent_total') >= 200 ? x : undefined;
      });
      assert.equal(m.sum('frag_list_inconsistent_total'), 200, 'the first run\'s counts carried over');
    } finally {
      await agent.stop();
    }
  });

  test('kill -9 of the agent: its bpftrace is gone within 5 s', async () => {
    const agent = await startAgent();
    const tracer = await childBpftrace(agent.proc.pid!);
    process.kill(agent.proc.pid!, 'SIGKILL');
    await agent.proc;
    const t0 = Date.now();
    await until('bpftrace to die', async () => (isAlive(tracer) ? undefined : true), 5000);
    process.stdout.write(`# bpftrace ${tracer} gone ${Date.now() - t0} ms after the agent was killed\n`);
  });

  test('SIGTERM: exit 0 within 5 s, bpftrace stopped', async () => {
    const agent = await startAgent();
    const tracer = await childBpftrace(agent.proc.pid!);
    const { code, ms } = await agent.stop();
    assert.equal(code, 0);
    assert.ok(ms < 5000, `stopped in ${ms} ms`);
    assert.equal(isAlive(tracer), false);
  });
});

describe('refusals', () => {
  test('bad flags exit 2 naming the flag, and start nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--web.listen-address=:0'], /--web\.listen-address/],
      [['--web.listen-address=300.1.1.1:80'], /--web\.listen-address/],
      [['--sample.rate=lots'], /--sample\.rate/],
      [['--mode=ebpf'], /--mode/],
      [['--frobnicate'], /--frobnicate: unknown flag/],
    ];
    for (const [args, re] of cases) {
      const r = await execa(process.execPath, [CLI, 'serve', ...args], { reject: false });
      assert.equal(r.exitCode, 2, args.join(' '));
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
  });

  test('missing prerequisites exit 1 with one line that says how to fix it', async () => {
    const noBpftrace = await execa(process.execPath, [CLI, 'serve', '--bpftrace.path=/nonexistent/bpftrace'], { reject: false });
    assert.equal(noBpftrace.exitCode, 1);
    assert.match(noBpftrace.stderr, /bpftrace unavailable.*apt-get install -y bpftrace.*doctor/);
    assert.equal(noBpftrace.stderr.trim().split('\n').length, 1);
    // uid 0 with every capability dropped, as in an unprivileged container
    const noCaps = await execa('setpriv', ['--bounding-set=-all', '--inh-caps=-all', process.execPath, CLI, 'serve'], { reject: false });
    assert.equal(noCaps.exitCode, 1, noCaps.stderr);
    assert.match(noCaps.stderr, /running without CAP_SYS_ADMIN.*fix: grant CAP_SYS_ADMIN/);
    assert.equal(noCaps.stderr.trim().split('\n').length, 1);
    // CAP_BPF and CAP_PERFMON load programs, but bpftrace 0.17 cannot list the kernel's BTF without CAP_SYS_ADMIN
    const bpfOnly = await execa('setpriv', ['--bounding-set=-all,+bpf,+perfmon,+syslog', process.execPath, CLI, 'serve'], { reject: false });
    assert.equal(bpfOnly.exitCode, 1, bpfOnly.stderr);
    assert.match(bpfOnly.stderr, /running without CAP_SYS_ADMIN/);
  });

  test('a port already in use exits 1 naming the flag', async () => {
    const agent = await startAgent();
    try {
      const port = new URL(agent.base).port;
      const r = await execa(process.execPath, [CLI, 'serve', `--web.listen-address=127.0.0.1:${port}`], { reject: false, timeout: 30_000 });
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /--web\.listen-address.*EADDRINUSE/);
    } finally {
      await agent.stop();
    }
  });
});

describe('mode selection follows what doctor finds on this kernel', () => {
  interface ModeCheck { mode: string; usable: boolean; why: string }
  const doctorReport = async () => JSON.parse((await execa(process.execPath, [CLI, 'doctor', '--json'], { reject: false })).stdout) as
    { verdict: { mode: string; modes: ModeCheck[] } };

  test('every mode doctor calls unusable is refused with doctor\'s reason, exit 1', async () => {
    const { verdict } = await doctorReport();
    for (const m of verdict.modes.filter((x) => !x.usable)) {
      const r = await execa(process.execPath, [CLI, 'serve', `--mode=${m.mode}`], { reject: false, timeout: 60_000 });
      assert.equal(r.exitCode, 1, m.mode);
      assert.ok(r.stderr.includes(`--mode ${m.mode}: ${m.why}`), `${m.mode}: ${r.stderr}`);
    }
  });

  test('--mode auto runs the mode doctor picks and logs why the better ones are not used', async () => {
    const { verdict } = await doctorReport();
    const agent = await startAgent(['--mode=auto', '--log.level=info']);
    try {
      const page = await (await agent.get('/metrics')).text();
      assert.match(page, new RegExp(`frag_list_build_info\\{[^}]*mode="${verdict.mode}"`));
    } finally {
      await agent.stop();
    }
    const log = String((await agent.proc).stdout).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const serving = log.find((l) => l.msg === 'serving');
    assert.equal(serving.mode, verdict.mode);
    assert.deepEqual(serving.modes, verdict.modes);
    process.stdout.write(`# auto picked ${verdict.mode}; ${verdict.modes.map((m) => `${m.mode}: ${m.usable ? 'usable' : m.why}`).join('; ')}\n`);
  });
});

describe('doctor', () => {
  test('human and JSON reports agree that serve can run here, and in which mode', async () => {
    const human = await execa(process.execPath, [CLI, 'doctor'], { reject: false });
    assert.equal(human.exitCode, 0, human.stdout);
    const json = await execa(process.execPath, [CLI, 'doctor', '--json'], { reject: false });
    const report = JSON.parse(json.stdout);
    assert.equal(report.canServe, true);
    assert.ok(human.stdout.includes(`serve would run in ${report.verdict.mode} mode`), human.stdout);
    assert.ok(report.verdict.hooks.length > 0);
    for (const hook of report.verdict.hooks) assert.ok(human.stdout.includes(hook), hook);
    assert.match(human.stdout, /skb_segment/);
    assert.equal(report.gsoNames['0'], 'TCPV4');
  });

  test('exit 1 and the fix when serve cannot run', async () => {
    const r = await execa(process.execPath, [CLI, 'doctor', '--bpftrace.path=/nonexistent/bpftrace'], { reject: false });
    assert.equal(r.exitCode, 1);
    assert.match(r.stdout, /fix: apt-get install -y bpftrace/);
  });
});
