// The version matrix on kernels that have kprobes and fentry: a real-kernel
// guest (real-kernel.test.ts, trixie) also runs both modes with that suite's
// own bpftrace, in a PID namespace of its own as in a pod without hostPID.
// These tests read that guest's serial log; they live here so that the
// kernel tests and the bpftrace matrix each read as one thing, while the
// kernel boots once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Metrics } from '../helpers/agent.js';
import { INJECTED, MODES, UDP_SENDS, type parseSerial } from '../helpers/guest.js';

export interface GuestRun { result: ReturnType<typeof parseSerial>; release: string; otherVersion: string }

export function otherBpftraceTests(run: () => GuestRun): void {
  for (const mode of MODES) {
    test(`${mode} mode with the guest suite's own bpftrace, in a PID namespace of its own: exact counts, no unparsable line, no helper error`, () => {
      const { result, release, otherVersion } = run();
      const r = result.modes.get(`${mode}@other`);
      assert.ok(r?.ready, `the agent became ready with ${otherVersion}: ${r?.log.join('\n')}`);
      const start = r.snapshots.get('start')!, tcp = r.snapshots.get('tcp')!, udp = r.snapshots.get('udpgro')!, tap = r.snapshots.get('tap')!;
      const info = [...start.samples.keys()].find((k) => k.startsWith('frag_list_build_info{')) ?? '';
      assert.ok(info.includes(`bpftrace_version="${otherVersion}"`) && info.includes(`mode="${mode}"`), info);
      const d = (to: Metrics, from: Metrics, name: string, labels: Record<string, string> = {}) => to.sum(name, labels) - from.sum(name, labels, true);
      const access = d(tcp, start, 'frag_list_events_total', { event: 'access', hook: 'skb_segment' });
      assert.ok(access > 0, `ACCESS at skb_segment: ${access}`);
      const clear = d(udp, tcp, 'frag_list_events_total', { event: 'clear', hook: 'skb_segment_list' });
      assert.ok(clear >= UDP_SENDS / 2, `CLEAR at skb_segment_list: ${clear}`);
      const inconsistent = d(tap, udp, 'frag_list_inconsistent_total', { hook: 'skb_segment', culprit: 'unseen' });
      assert.equal(inconsistent, INJECTED);
      assert.equal(tap.sum('frag_list_tracer_unparsable_lines_total'), 0);
      assert.equal(tap.sum('frag_list_tracer_helper_errors_total'), 0, 'no helper error (pid in a PID namespace fails on 0.23+)');
      const e = r.events.get('tap')!.find((x) => x.kind === 'inconsistent' && x.hook === 'skb_segment');
      assert.ok(e, 'a sampled INCONSISTENT at skb_segment');
      assert.equal(e.src, '198.18.12.2');
      // the agent and its bpftrace run in a PID namespace of their own; the injector in the guest's: its pid, not 0 or bpftrace's view
      assert.equal(e.pid, r.injectorPid, 'the injecting process\'s pid, as the host sees it');
      assert.equal(r.exitCode, 0);
      process.stdout.write(`# ${release} ${mode} with ${otherVersion} in its own PID namespace: ready in ${r.readySeconds} s; tcp ACCESS +${access}; udpgro CLEAR +${clear}; tap INCONSISTENT at skb_segment +${inconsistent} of ${INJECTED}; unparsable 0, helper errors 0\n`);
    });
  }
}
