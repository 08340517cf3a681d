import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GSO_TABLE_4_14 } from './kernel/gso.js';
import type { HostFacts } from './kernel/host.js';
import { assess, bpftraceMinor } from './preflight.js';

const host = (version: string): HostFacts => ({
  kernelRelease: '6.1.0-50-cloud-amd64', isRoot: true, missingCapabilities: [], btf: true, kernelHeaders: false, typesFrom: 'btf',
  bpftrace: { path: 'bpftrace', version, probeTypes: { tracepoint: true } }, kprobePmu: false, tracefs: '/sys/kernel/tracing',
  netTracepoints: ['netif_receive_skb_entry'], functions: [], setprivPdeathsig: true,
  layout: { fragsOffset: 48, fragStride: 16, fragLenOffset: 8, fragLenField: 'skb_frag.len' },
  gsoNames: GSO_TABLE_4_14, gsoNamesSource: 'btf', fraglistFix: { state: 'fixed', upstream: '6.1.176', why: '' },
});

test('bpftrace versions as --version prints them', () => {
  assert.deepEqual(bpftraceMinor('v0.17.0'), [0, 17]);
  assert.deepEqual(bpftraceMinor('v0.27.1'), [0, 27]);
  assert.deepEqual(bpftraceMinor('0.14.0'), [0, 14]);
  assert.equal(bpftraceMinor('garbage'), undefined);
});

test('a bpftrace older than 0.17 is refused with one line naming the version and the fix; 0.17 and later run', () => {
  const old = assess(host('v0.14.0'), 'auto');
  assert.equal(old.plans.length, 0);
  assert.deepEqual(old.problems.map((p) => p.what), ['bpftrace v0.14.0 is older than 0.17, the oldest this agent supports']);
  assert.match(old.problems[0].fix, /install bpftrace 0\.17 or later/);
  for (const v of ['v0.17.0', 'v0.23.2', 'v0.27.1', 'v1.0.0']) assert.equal(assess(host(v), 'auto').plans[0]?.mode.name, 'tracepoint', v);
  // a version string it cannot read is not a reason to refuse
  assert.equal(assess(host('unknown'), 'auto').problems.length, 0);
});
