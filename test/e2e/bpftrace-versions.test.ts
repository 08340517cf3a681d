// The bpftrace versions fleets run, for real, on this kernel in tracepoint
// mode: Debian's packages of bookworm (0.17), trixie (0.23), forky (0.27.0)
// and sid (0.27.1), each in its own root filesystem and PID namespace (as in
// a pod without hostPID). Every injected skb is counted, nothing bpftrace
// prints is unparsable, no helper fails, and the sampled events decode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgent, sleep, until, type Agent, type Metrics } from '../helpers/agent.js';
import { debianBpftrace, type DebianBpftrace } from '../helpers/debian-bpftrace.js';
import { cleanup, inject, tapHost } from '../helpers/net.js';

const SUITES: Array<[suite: string, version: RegExp]> = [
  ['bookworm', /^v0\.17\./], ['trixie', /^v0\.23\./], ['forky', /^v0\.27\.0/], ['sid', /^v0\.27\./],
];
const HOOK = 'netif_receive_skb_entry';
const INJECTED = 500;
const RATE = 20;
/** one row per version, printed at the end: the closing note's table */
const table: string[] = [];

describe('bpftrace versions, tracepoint mode, each in its own PID namespace', { timeout: 600_000 }, () => {
  let tap: Awaited<ReturnType<typeof tapHost>>;
  before(async () => { tap = await tapHost(); });
  after(async () => {
    await cleanup();
    process.stdout.write(`# version | injected | counted | sampled | unparsable | helper errors\n${table.map((r) => `# ${r}\n`).join('')}`);
  });

  for (const [suite, expected] of SUITES) {
    describe(`Debian ${suite}'s bpftrace`, () => {
      let bt: DebianBpftrace;
      let agent: Agent;
      before(async () => {
        bt = await debianBpftrace(suite);
        process.stdout.write(`# Debian ${suite}: bpftrace ${bt.version}, package ${bt.package} (the suite's current${bt.rebuilt ? '; its root was built for it now' : ''})\n`);
        assert.match(bt.version, expected);
        agent = await startAgent([`--bpftrace.path=${bt.launcher}`, '--mode=tracepoint', `--sample.rate=${RATE}`], 120_000);
      });
      after(async () => {
        if (agent) assert.equal((await agent.stop()).code, 0, 'the agent stops cleanly');
      });

      test('every injected skb counted once; no unparsable line, no helper error; sampled events decode', async () => {
        const m0 = await agent.metrics();
        assert.equal(m0.sum('frag_list_tracer_up'), 1);
        assert.match([...m0.samples.keys()].find((k) => k.startsWith('frag_list_build_info{')) ?? '', new RegExp(`bpftrace_version="${bt.version.replace(/\./g, '\\.')}"`));
        const writer = await inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', INJECTED);
        const before = m0.sum('frag_list_inconsistent_total', { hook: HOOK });
        await until('counters to settle', async () => ((await agent.metrics()).sum('frag_list_inconsistent_total', { hook: HOOK }) >= before + INJECTED ? true : undefined));
        await sleep(2500); // two more print intervals: nothing more may arrive
        const m: Metrics = await agent.metrics();
        const d = (name: string, labels = {}) => m.sum(name, labels) - m0.sum(name, labels);
        const counted = d('frag_list_inconsistent_total', { hook: HOOK });
        const sampled = d('frag_list_events_sampled_total');
        const unparsable = m.sum('frag_list_tracer_unparsable_lines_total');
        const helperErrors = m.sum('frag_list_tracer_helper_errors_total');
        table.push(`${bt.version} (${suite}, package ${bt.package}) | ${INJECTED} | ${counted} | ${sampled} | ${unparsable} | ${helperErrors}`);
        assert.equal(counted, INJECTED);
        assert.equal(sampled + d('frag_list_events_suppressed_total'), INJECTED);
        assert.equal(unparsable, 0, 'every line bpftrace printed after attaching is a record');
        assert.equal(helperErrors, 0, 'no helper failed (pid in a PID namespace is one that does on 0.23+)');
        assert.equal(m.sum('frag_list_tracer_restarts_total'), 0);
        const body = await (await agent.get('/events?kind=inconsistent')).json() as { events: Array<Record<string, any>> };
        const e = body.events.find((x) => x.src === '198.18.0.2');
        assert.ok(e, 'a sampled event of the injected flow');
        assert.equal(e.hook, HOOK);
        assert.equal(e.gso_type_names, 'TCPV4|DODGY');
        assert.equal(e.gso_size, 1348);
        assert.equal(e.dev, tap.dev);
        assert.equal(e.dport, 5201);
        // bpftrace runs in a PID namespace of its own: the pid must be the writer's as the host sees it, not 0 or another
        assert.equal(e.pid, writer, 'the injecting process\'s host pid');
        assert.ok(e.stack.length > 0, 'kernel stack');
      });
    });
  }
});
