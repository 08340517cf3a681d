// The kprobe and fentry modes, for real: Debian's kernels booted under qemu
// (this machine's own kernel has neither), the agent running inside it, real
// traffic, and the agent's /metrics and /events read back. See
// test/realkernel/ and shared/reference/real-kernel-testing.md.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, type Metrics } from '../helpers/agent.js';
import { alertsOf, startAlerting, type Alert } from '../helpers/alerting.js';
import { debianBpftrace } from '../helpers/debian-bpftrace.js';
import { debianKernel, debianKernelHeaders, GUEST_PORT, INJECTED, MODES, parseSerial, runGuest, SEGMENTS, UDP_SENDS, type ModeResult } from '../helpers/guest.js';
import { otherBpftraceTests } from './real-kernel-other-bpftrace.js';

/** Debian suites whose cloud kernel runs the whole scenario (bookworm 6.1, trixie 6.12). */
const KERNELS = ['bookworm', 'trixie'];
/** seconds the guest holds after its tc pull and OVERRUN phases, for the pages to travel */
const HOLD_SECONDS = 20;
/** suites whose kernel this host's gcc builds modules for (the OVERRUN module); the others say why not */
const MODULE_SUITES = ['bookworm'];
const OVERRUN_SKBS = 50;   // count= of overrun_skb.ko in guest-scenario.sh
/** the netem delay on the router's egress in the tc pull phase: how long a pulled skb waits before software GSO */
const PULL_DELAY_MS = 2000;
/**
 * Suites whose guest also runs the kernel-function modes with that suite's own
 * bpftrace (trixie's 0.23), in a PID namespace of its own as in a pod without
 * hostPID: the version matrix on a kernel that has kprobes and fentry.
 */
const OTHER_BPFTRACE_SUITES: Record<string, RegExp> = { trixie: /^v0\.23\./ };
const OTHER_PHASES = ['tcp', 'udpgro', 'tap'];
/** functions whose presence decides what a test expects: read from the guest's /proc/kallsyms, not from the agent */
const LIST_GRO = 'skb_gro_receive_list';

for (const suite of KERNELS) describe(`kernel-function modes on Debian ${suite}'s kernel under qemu`, { timeout: 800_000 }, () => {
  let result: ReturnType<typeof parseSerial>;
  let release = '';
  /** what a real Prometheus (the shipped rules, scraping the guest's agents through forwarded ports) sent through Alertmanager */
  let alerts: Alert[] = [];
  const instance: Record<string, string> = {};
  let otherVersion: string | undefined;

  before(async () => {
    const kernel = await debianKernel(suite);
    release = kernel.release;
    const forward: Array<[number, number]> = [];
    for (const mode of MODES) {
      const port = await freePort();
      forward.push([port, GUEST_PORT[mode]]);
      instance[mode] = `127.0.0.1:${port}`;
    }
    const headers = await debianKernelHeaders(suite, kernel);
    if (headers.modules !== true) {
      assert.ok(!MODULE_SUITES.includes(suite), `the OVERRUN module builds for ${suite}: ${headers.modules}`);
      process.stdout.write(`# ${kernel.release}: no OVERRUN module (${headers.modules})\n`);
    }
    const stack = await startAlerting(Object.values(instance), undefined, { waitForTargets: false });
    let run;
    try {
      const other = OTHER_BPFTRACE_SUITES[suite] ? await debianBpftrace(suite) : undefined;
      if (other) assert.match(other.version, OTHER_BPFTRACE_SUITES[suite]);
      run = await runGuest(kernel, [...MODES, ...(other ? MODES.map((m) => `${m}@other`) : [])], 720_000,
        { forward, holdSeconds: HOLD_SECONDS, headers, delayMs: PULL_DELAY_MS, otherBpftraceRoot: other?.root, otherPhases: OTHER_PHASES });
      otherVersion = other?.version;
    } finally {
      alerts = alertsOf(stack);
      await stack.stop();
    }
    result = parseSerial(run.serial);
    process.stdout.write(`# guest ${kernel.release}: ${run.seconds.toFixed(0)} s for ${MODES.join(' + ')}${run.attempts > 1 ? ` (boot ${run.attempts})` : ''}\n`);
    assert.ok(result.done, `the guest finished its scenario:\n${run.serial.split('\n').slice(-30).join('\n')}`);
  });

  for (const mode of MODES) {
    describe(`${mode} mode`, () => {
      let r: ModeResult;
      const delta = (phase: string, prev: string, name: string, labels: Record<string, string> = {}) =>
        sum(r.snapshots.get(phase)!, name, labels) - r.snapshots.get(prev)!.sum(name, labels, true);
      /** a counter's rise between two phases, for each hook that rose */
      const byHook = (phase: string, prev: string, name: string) => Object.fromEntries([...new Set([...r.snapshots.get(phase)!.samples.keys()]
        .map((k) => /^([^{]+)\{.*hook="([^"]+)"/.exec(k))
        .filter((m) => m?.[1] === name)
        .map((m) => m![2]))]
        .map((hook) => [hook, delta(phase, prev, name, { hook })] as const)
        .filter(([, d]) => d !== 0));

      before(() => {
        r = result.modes.get(mode)!;
        assert.ok(r?.ready, `the agent became ready in ${mode} mode: ${r?.log.join('\n')}`);
      });

      test('hooks: every hook is attached or reported unattached, none silently missing', () => {
        const m = r.snapshots.get('start')!;
        const attached = [...m.samples].filter(([k]) => k.startsWith('frag_list_probe_attached{'));
        assert.ok(attached.length >= 8, 'attach status for each hook');
        assert.ok(attached.every(([k]) => k.includes(`mode="${mode}"`)));
        const status = attached.map(([k, v]) => `${/hook="([^"]+)"/.exec(k)![1]}=${v}`).join(' ');
        process.stdout.write(`# ${release} ${mode}: ready in ${r.readySeconds} s; attached: ${status}\n`);
        assert.equal(sum(m, 'frag_list_tracer_up'), 1);
        assert.match(r.typesFrom ?? '', /bpftrace reads kernel types from BTF$/, 'doctor: BTF on this kernel');
        assert.equal(sum(m, 'frag_list_probe_attached', { hook: 'skb_segment' }), 1);
        // the 2024 fraglist fix: judged from the kernel's version text, and what the pager joins on
        assert.equal(sum(m, 'frag_list_kernel_fraglist_fix_info', { state: 'fixed' }), 1, 'this kernel has the fraglist fix');
        // a hook is unattached on these kernels only because the kernel lacks it: reported, and not what FragListProbeDetached alerts on
        for (const [k, v] of attached) {
          const hook = /hook="([^"]+)"/.exec(k)![1];
          assert.equal(sum(m, 'frag_list_probe_in_kernel', { hook }), v, `${hook}: attached ${v}, in_kernel must agree`);
        }
        assert.deepEqual([...m.samples.keys()].filter((k) => k.startsWith('frag_list_probe_detached')), [], 'no hook detached');
      });

      test('TCP over veth with TSO off: skb_segment ACCESS rises; no INCONSISTENT, no OVERRUN', () => {
        const access = delta('tcp', 'start', 'frag_list_events_total', { event: 'access', hook: 'skb_segment' });
        assert.ok(access > 0, `ACCESS at skb_segment: ${access}`);
        assert.equal(delta('tcp', 'start', 'frag_list_inconsistent_total'), 0);
        assert.equal(delta('tcp', 'start', 'frag_list_overrun_total'), 0);
        process.stdout.write(`# ${release} ${mode} tcp: skb_segment ACCESS +${access}\n`);
      });

      test('UDP_SEGMENT into an rx-gro-list veth: CREATE at skb_gro_receive_list, CLEAR at skb_segment_list, with pointers', () => {
        const clear = delta('udpgro', 'tcp', 'frag_list_events_total', { event: 'clear', hook: 'skb_segment_list' });
        // GRO may flush a list early (NAPI budget), so lists >= sends; each holds at least 2 segments
        assert.ok(clear >= UDP_SENDS / 2 && clear <= UDP_SENDS * SEGMENTS / 2, `CLEAR ${clear}`);
        assert.equal(delta('udpgro', 'tcp', 'frag_list_overrun_total'), 0);
        const events = r.events.get('udpgro')!;
        // some builds inline skb_gro_receive_list (6.1.0-50 has no such symbol): the guest's kallsyms says which, and the
        // agent must agree: attached where the kernel has it, reported unattached where it has not
        assert.ok(result.kallsyms, 'the guest printed its kallsyms line');
        const inKernel = result.kallsyms.has(LIST_GRO);
        const listHook = sum(r.snapshots.get('start')!, 'frag_list_probe_attached', { hook: LIST_GRO });
        assert.equal(listHook, inKernel ? 1 : 0, `${LIST_GRO} is ${inKernel ? '' : 'not '}in the guest's kallsyms`);
        assert.equal(sum(r.snapshots.get('start')!, 'frag_list_probe_in_kernel', { hook: LIST_GRO }), inKernel ? 1 : 0);
        let create = 0, modify = 0;
        if (inKernel) {
          create = delta('udpgro', 'tcp', 'frag_list_events_total', { event: 'create', hook: 'skb_gro_receive_list' });
          modify = delta('udpgro', 'tcp', 'frag_list_events_total', { event: 'modify', hook: 'skb_gro_receive_list' });
          assert.equal(create, clear, 'every list GRO built was cleared by segmentation');
          const c = events.find((e) => e.kind === 'create' && e.hook === 'skb_gro_receive_list');
          assert.ok(c, 'a sampled CREATE');
          assert.equal(c.frag_list_before, '0x0');
          assert.match(c.frag_list, /^0xf[0-9a-f]+$/);
          assert.equal(c.src, '198.18.11.1');
          assert.equal(c.dport, 6000);
        } else {
          assert.ok(!r.snapshots.get('start')!.samples.has(`frag_list_events_total{event="create",hook="skb_gro_receive_list"}`), 'no counter for an unattached hook');
        }
        const x = events.find((e) => e.kind === 'clear' && e.hook === 'skb_segment_list');
        assert.ok(x, 'a sampled CLEAR');
        assert.match(x.frag_list_before, /^0xf[0-9a-f]+$/);
        assert.equal(x.frag_list, '0x0');
        // the type GRO completion set, as it was when segmentation started (it resets it)
        assert.equal(x.gso_type_before_names, 'UDP_L4|FRAGLIST');
        assert.ok(x.stack.length > 0, 'CLEAR carries a kernel stack');
        process.stdout.write(`# ${release} ${mode} udpgro (${r.udpSink}): ${inKernel ? `CREATE +${create}, MODIFY +${modify}` : 'skb_gro_receive_list unattached'}, CLEAR +${clear}\n`);
      });

      test('TAP IFF_VNET_HDR GSO frames forwarded out a TSO-off veth: one INCONSISTENT at skb_segment per frame', () => {
        const inconsistent = delta('tap', 'pull', 'frag_list_inconsistent_total', { hook: 'skb_segment' });
        assert.equal(inconsistent, INJECTED);
        // linear from the tap on: no hooked writer made them so
        assert.equal(delta('tap', 'pull', 'frag_list_inconsistent_total', { hook: 'skb_segment', culprit: 'unseen' }), INJECTED);
        assert.equal(delta('tap', 'pull', 'frag_list_overrun_total'), 0);
        const e = r.events.get('tap')!.find((x) => x.kind === 'inconsistent' && x.hook === 'skb_segment');
        assert.ok(e, 'a sampled INCONSISTENT at skb_segment');
        assert.equal(e.gso_size, 1348);
        assert.equal(e.gso_type_names, 'TCPV4|DODGY');
        assert.equal(e.data_len, 0);
        assert.equal(e.src, '198.18.12.2');
        assert.equal(e.dst, '198.18.13.2');
        process.stdout.write(`# ${release} ${mode} tap: injected ${INJECTED}, INCONSISTENT at skb_segment +${inconsistent}\n`);
      });

      test('a tc program pulls all of a UDP fraglist-GRO skb: FRAGLIST without a list at bpf_skb_pull_data; this fixed kernel segments it in skb_segment, never in skb_segment_list', () => {
        assert.match(r.tcFilter ?? '', /pull_all/, 'the tc program is attached');
        assert.match(r.xdp ?? '', /^prog\/xdp id \d+$/, 'the XDP program is attached (the same scenario that crashes 5.10)');
        const pulled = delta('pull', 'udpgro', 'frag_list_fraglist_without_list_total', { hook: 'bpf_skb_pull_data' });
        assert.ok(pulled > 0, `FRAGLIST without a list at bpf_skb_pull_data: ${pulled}`);
        const atSegment = delta('pull', 'udpgro', 'frag_list_inconsistent_total', { hook: 'skb_segment' });
        assert.ok(atSegment > 0, `INCONSISTENT at skb_segment (the fixed kernel's route): ${atSegment}`);
        assert.equal(delta('pull', 'udpgro', 'frag_list_fraglist_without_list_total', { hook: 'skb_segment_list_entry' }), 0, 'no FRAGLIST page: list segmentation never saw it');
        // the helper's return sees the list go: a CLEAR, with the skb now FRAGLIST without a list
        const e = r.events.get('pull')!.find((x) => x.hook === 'bpf_skb_pull_data' && x.fraglist_nolist);
        assert.ok(e, `a sampled event at bpf_skb_pull_data flagged FRAGLIST without a list: ${JSON.stringify(r.events.get('pull')!.map((x) => [x.kind, x.hook]))}`);
        assert.equal(e.kind, 'clear');
        assert.match(e.gso_type_names, /FRAGLIST/);
        assert.equal(e.frag_list, '0x0');
        assert.notEqual(e.frag_list_before, '0x0', 'the helper is what cleared the list');
        // the culprit: the helper names itself at its return, and is remembered to the crash point
        assert.equal(delta('pull', 'udpgro', 'frag_list_fraglist_without_list_total', { hook: 'bpf_skb_pull_data', culprit: 'bpf_skb_pull_data' }), pulled);
        const byCulprit = delta('pull', 'udpgro', 'frag_list_inconsistent_total', { hook: 'skb_segment', culprit: 'bpf_skb_pull_data' });
        assert.ok(byCulprit > 0, `INCONSISTENT at skb_segment with culprit bpf_skb_pull_data: ${byCulprit} of ${atSegment}`);
        const seg = r.events.get('pull')!.find((x) => x.hook === 'skb_segment' && x.culprit === 'bpf_skb_pull_data');
        assert.ok(seg, `a sampled event at skb_segment naming its culprit: ${JSON.stringify(r.events.get('pull')!.map((x) => [x.kind, x.hook, x.culprit]))}`);
        assert.ok(seg.culprit_stack.length > 0 && seg.stack.length > 0, 'the crash point\'s stack and the culprit\'s');
        assert.ok(Number(seg.culprit_age_ns) > 0 && Number(seg.culprit_age_ns) < 10e9, `culprit age ${seg.culprit_age_ns} ns`);
        process.stdout.write(`# ${release} ${mode} culprit at skb_segment: bpf_skb_pull_data ${byCulprit} of ${atSegment}, ${(Number(seg.culprit_age_ns) / 1e3).toFixed(0)} us before; its stack: ${seg.culprit_stack.slice(0, 4).join(' < ')}\n`);
        // routine list GRO and segmentation (the udpgro phase) raise nothing of this
        assert.equal(delta('udpgro', 'tcp', 'frag_list_fraglist_without_list_total', { hook: 'skb_segment_list_entry' }), 0);
        process.stdout.write(`# ${release} ${mode} tc pull: FRAGLIST_NOLIST at bpf_skb_pull_data +${pulled}, INCONSISTENT at skb_segment +${atSegment}, at skb_segment_list_entry +0; udpgro phase by hook: ${
          JSON.stringify(byHook('udpgro', 'tcp', 'frag_list_fraglist_without_list_total'))}\n`);
      });

      test('a real Prometheus with the shipped rules pages on INCONSISTENT at skb_segment naming bpf_skb_pull_data, warns on the pull, and sends no FRAGLIST page', () => {
        const mine = alerts.filter((a) => a.labels.instance === instance[mode] && a.status === 'firing');
        const show = mine.map((a) => `${a.labels.alertname}{hook=${a.labels.hook}} culprit=${a.annotations.culprit}`).join('; ');
        const page = mine.find((a) => a.labels.alertname === 'FragListInconsistentSkb' && a.labels.hook === 'skb_segment');
        assert.ok(page, `the INCONSISTENT page reached the webhook: ${show}`);
        assert.equal(page.labels.severity, 'critical');
        assert.equal(page.annotations.culprit, 'bpf_skb_pull_data');
        assert.match(page.annotations.summary, /^INCONSISTENT skb at skb_segment on .*; its frag_list was cleared \(or its GSO fields changed\) by bpf_skb_pull_data$/);
        const warning = mine.find((a) => a.labels.alertname === 'FragListFraglistWithoutListSeen' && a.labels.hook === 'bpf_skb_pull_data');
        assert.ok(warning, `the FRAGLIST warning at bpf_skb_pull_data: ${show}`);
        assert.equal(warning.labels.severity, 'warning');
        assert.equal(warning.annotations.culprit, 'bpf_skb_pull_data');
        // this kernel has the 2024 fixes: nothing reached list segmentation, so no FRAGLIST page; and no OVERRUN anywhere
        assert.deepEqual(mine.filter((a) => a.labels.alertname === 'FragListFraglistWithoutListSkb'
          || (a.labels.alertname === 'FragListOverrunSkb' && a.labels.hook !== 'pskb_expand_head')), [], 'no FRAGLIST page, and OVERRUN only from the module');
        process.stdout.write(`# ${release} ${mode} webhook: ${show}\n#   page: ${JSON.stringify({ labels: page.labels, annotations: page.annotations })}\n`);
      });

      test('the same pull on a fixed kernel leaves no crash record: ramoops is loaded and empty, and the crash page stays quiet', () => {
        assert.equal(result.pstoreBackend, 'ramoops', 'the guest kept a pstore backend, as the bullseye crash test does');
        assert.deepEqual(r.crashes?.records, [], 'no crash record');
        assert.ok(result.done, 'the kernel survived the pull');
        assert.deepEqual(alerts.filter((a) => a.labels.alertname === 'FragListKernelCrashedInSegmentation'), []);
      });

      // only where this host's gcc builds the kernel's modules (MODULE_SUITES): elsewhere the before hook says why, and there is no such test
      if (MODULE_SUITES.includes(suite)) test('a kernel module\'s skbs claiming paged data they do not have: OVERRUN at pskb_expand_head, one per skb, and the OVERRUN page', () => {
        assert.match(r.module ?? '', new RegExp(`overrun_skb: ${OVERRUN_SKBS} skbs with data_len 2000`), 'the module ran');
        const overrun = delta('overrun', 'tap', 'frag_list_overrun_total', { hook: 'pskb_expand_head' });
        assert.equal(overrun, OVERRUN_SKBS);
        assert.equal(delta('overrun', 'tap', 'frag_list_overrun_total'), OVERRUN_SKBS, 'nowhere else');
        const e = r.events.get('overrun')!.find((x) => x.hook === 'pskb_expand_head' && x.overrun);
        assert.ok(e, 'a sampled event flagged OVERRUN at pskb_expand_head');
        assert.equal(e.data_len, 2000);
        assert.equal(e.nr_frags, 0);
        assert.equal(e.frag_list, '0x0');
        assert.equal(e.src, '198.18.16.1');
        assert.equal(e.dport, 7001);
        // the module's init: bpftrace names frames from /proc/kallsyms as it was at its start, before the
        // module was loaded, so the module's own frame carries another symbol's name; its caller does not
        assert.ok(e.stack.some((f: string) => f.startsWith('do_init_module+')), `a module's init in the stack: ${e.stack.slice(0, 6).join(' < ')}`);
        const page = alerts.find((a) => a.labels.instance === instance[mode] && a.labels.alertname === 'FragListOverrunSkb');
        assert.ok(page, 'the OVERRUN page reached the webhook');
        assert.equal(page.labels.hook, 'pskb_expand_head');
        assert.equal(page.labels.severity, 'critical');
        assert.equal(page.annotations.culprit, 'unseen', 'the module set data_len itself: no hooked writer did');
        process.stdout.write(`# ${release} ${mode} overrun module: OVERRUN at pskb_expand_head +${overrun}; page: ${JSON.stringify({ labels: page.labels, annotations: page.annotations })}\n`);
      });

      test('the agent stopped cleanly', () => {
        assert.equal(r.exitCode, 0);
        const last = r.snapshots.get('overrun') ?? r.snapshots.get('tap')!;
        assert.equal(sum(last, 'frag_list_tracer_restarts_total'), 0);
        assert.equal(sum(last, 'frag_list_tracer_unparsable_lines_total'), 0);
      });
    });
  }

  if (OTHER_BPFTRACE_SUITES[suite]) otherBpftraceTests(() => ({ result, release, otherVersion: otherVersion! }));
});

// bullseye's 5.10 with the bpftrace 0.17 of these hosts: the kernel has BTF,
// but bpftrace 0.17 finds vmlinux BTF through bpf_btf_info fields that Linux
// 5.11 added, so it sees none and asks for headers; the agent hands it the file
// (BPFTRACE_BTF) and kprobe mode runs from BTF. bpftrace finds no kfunc
// support on this kernel: fentry mode says so in one line.
// Phases: TCP and the tap (the tc pull phase panics this kernel: the next describe).
describe('Debian bullseye\'s kernel (5.10): kprobe mode from the kernel\'s BTF; fentry refused with the reason', { timeout: 400_000 }, () => {
  test('kprobe counts exactly at skb_segment; fentry exits with bpftrace\'s reason', async () => {
    const kernel = await debianKernel('bullseye');
    const run = await runGuest(kernel, MODES, 360_000, { phases: ['tcp', 'tap'] });
    const result = parseSerial(run.serial);
    // readiness first: a guest that did not finish because the agent hung has its log here, not in the console's tail
    const k = result.modes.get('kprobe');
    assert.ok(k?.ready, `kprobe mode became ready: ${k?.log.join('\n')}\n${run.serial.split('\n').slice(-30).join('\n')}`);
    assert.ok(result.done, `the guest finished:\n${run.serial.split('\n').slice(-30).join('\n')}`);
    const start = k.snapshots.get('start')!, tcp = k.snapshots.get('tcp')!, tap = k.snapshots.get('tap')!;
    const attached = [...start.samples].filter(([key]) => key.startsWith('frag_list_probe_attached{'))
      .map(([key, v]) => `${/hook="([^"]+)"/.exec(key)![1]}=${v}`).join(' ');
    assert.equal(start.sum('frag_list_probe_attached', { hook: 'skb_segment' }), 1);
    const access = tcp.sum('frag_list_events_total', { event: 'access', hook: 'skb_segment' }) - start.sum('frag_list_events_total', { event: 'access', hook: 'skb_segment' });
    assert.ok(access > 0, `ACCESS at skb_segment: ${access}`);
    const inconsistent = tap.sum('frag_list_inconsistent_total', { hook: 'skb_segment', culprit: 'unseen' }) - tcp.sum('frag_list_inconsistent_total', { hook: 'skb_segment', culprit: 'unseen' });
    assert.equal(inconsistent, INJECTED);
    assert.equal(tap.sum('frag_list_tracer_unparsable_lines_total'), 0);
    assert.equal(k.exitCode, 0);
    process.stdout.write(`# ${kernel.release} kprobe: ready in ${k.readySeconds} s; attached: ${attached}; tcp ACCESS +${access}; tap INCONSISTENT at skb_segment +${inconsistent} of ${INJECTED}\n`);
    assert.match(k.typesFrom ?? '', /\[ok \] bpftrace reads kernel types from BTF, given as BPFTRACE_BTF=\/sys\/kernel\/btf\/vmlinux/, 'doctor says where and why');
    process.stdout.write(`# ${kernel.release} doctor: ${k.typesFrom}\n`);
    const f = result.modes.get('fentry')!;
    assert.equal(f.ready, false);
    assert.match(f.log.join('\n'), /fraglist-exporter: cannot start: .*no kfunc \(fentry\) support/);
    process.stdout.write(`# ${kernel.release} fentry: ${f.log.find((l) => l.startsWith('fraglist-exporter: cannot start'))}\n`);
  });
});

function sum(m: Metrics, name: string, labels: Record<string, string> = {}): number {
  return m.sum(name, labels);
}
