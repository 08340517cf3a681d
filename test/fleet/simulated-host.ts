// A host of a simulated fleet: the agent's own state and metrics code
// (TracerState, createRegistries), its counters set as a host in one of the
// states a fleet has would have them. The series budget test counts what it
// exposes; the fleet benchmark (test/bench/fleet.ts) serves and backfills it.
import { GSO_TABLE_4_14 } from '../../src/kernel/gso.js';
import { MODES, UNSEEN, type ModeName } from '../../src/modes.js';
import { emptyReport, type CrashRecord } from '../../src/crash/crash-records.js';
import { createRegistries } from '../../src/outputs/metrics.js';
import type { RuntimeMetrics } from '../../src/outputs/runtime-metrics.js';
import { CULPRIT_UNSEEN, CURRENT_TRACEPOINTS, HOOK_LABELS } from '../../src/probes/program.js';
import { TracerState } from '../../src/state/tracer-state.js';

/**
 * idle: traffic, nothing critical. receive-inconsistent: virtio's receive side
 * makes INCONSISTENT skbs (legal there: graphed, never paged). paging: a crash
 * state at its crash point with a culprit. tracer-down: bpftrace not attached.
 * paged-before: crash-state skbs counted before the scraper or rule engine
 * started, none since (no page: nothing rose). losing-events: sampled events lost between kernel and agent (a warning).
 * crashed: rebooted after a crash in GSO segmentation (the crash page).
 */
export const HOST_STATES = ['idle', 'receive-inconsistent', 'paging', 'paged-before', 'losing-events', 'tracer-down', 'crashed'] as const;
export type HostState = (typeof HOST_STATES)[number];

/** where each state shows, per mode: tracepoint mode sees receive and transmit only */
const SITES: Record<'tracepoint' | 'function', { receive: string; page: { map: string; hook: string; culprit: string; other: string } }> = {
  tracepoint: { receive: 'napi_gro_receive_entry', page: { map: 'overrun', hook: 'net_dev_start_xmit', culprit: 'unseen', other: 'unseen' } },
  function: { receive: 'skb_gro_receive', page: { map: 'inconsistent', hook: 'skb_segment', culprit: 'bpf_skb_adjust_room', other: 'pskb_expand_head' } },
};

export interface SimulatedHost {
  state: TracerState;
  /** the agent's two registries, as /metrics serves them */
  registries: ReturnType<typeof createRegistries>;
  /** counts `seconds` more of this host's traffic (exact counters: they only rise) */
  advance(seconds: number): void;
}

/** a crash an hour before the host was simulated (the crash page fires for it); the agent's previous run started before it */
const crashRecord = (timeSeconds: number): CrashRecord => ({
  path: '/sys/fs/pstore/dmesg-ramoops-0', hash: '0'.repeat(64), time: new Date(timeSeconds * 1000).toISOString(), timeSeconds,
  class: 'segmentation', function: 'skb_segment', headline: 'BUG: kernel NULL pointer dereference, address: 0000000000000070',
  rip: { function: 'skb_segment', offset: '0x5b1/0xd40' }, trace: ['tcp_gso_segment', 'inet_gso_segment'], panic: true, release: '6.1.0-50-cloud-amd64',
  culprit: 'bpf_skb_adjust_room', summary: 'crashed in skb_segment: culprit bpf_skb_adjust_room (198.18.0.1:7000 -> 198.18.1.1:7001)',
});

/**
 * `bornMs`: when the simulated host's clock starts (its crash-state counts are stamped by it, as the agent stamps
 * them when they rise); a fleet that continues a backfilled history starts it that long ago.
 */
export function simulatedHost(mode: ModeName, hostState: HostState, o: { runtime?: RuntimeMetrics; bornMs?: number } = {}): SimulatedHost {
  const bornMs = o.bornMs ?? Date.now();
  const hooks = mode === 'tracepoint' ? [...CURRENT_TRACEPOINTS] : [...HOOK_LABELS];
  const state = new TracerState({ mode: MODES[mode], program: { text: '' }, hooks, unattached: [] }, GSO_TABLE_4_14, 8);
  const up = hostState !== 'tracer-down';
  if (up) { state.status.announced(hooks.length, 0); state.status.heartbeat(1); }
  const site = SITES[mode === 'tracepoint' ? 'tracepoint' : 'function'];
  const crashedAt = Math.floor(Date.now() / 1000) - 3600;
  const crash = hostState === 'crashed' ? { ...emptyReport(['/sys/fs/pstore']), records: [crashRecord(crashedAt)] } : emptyReport(['/sys/fs/pstore']);
  const registries = createRegistries(state, { healthy: () => up }, {
    version: '0.1.0', bpftraceVersion: 'v0.17.0', kernel: mode === 'tracepoint' ? '6.12.57+deb13-cloud-amd64' : '6.1.0-50-cloud-amd64',
    gsoNamesSource: 'btf', fraglistFix: { state: mode === 'tracepoint' ? 'fixed' : 'lacking', upstream: '6.1.115', why: 'simulated' },
  }, { report: () => crash, previousStartMs: hostState === 'crashed' ? (crashedAt - 3600) * 1000 : undefined }, o.runtime);

  let t = 0;
  const totals = new Map<string, Map<string, number>>();
  const set = (map: string, label: string, v: number) => {
    const m = totals.get(map) ?? new Map<string, number>();
    totals.set(map, m.set(label, v));
    state.counters.observe(map, m);
  };
  /** a crash state's count as bpftrace prints it (program keys), through the agent's own parsing of maps */
  const count = (map: string, hook: string, culprit: string, v: number, nowMs: number) => {
    const key = mode === 'tracepoint' ? `tracepoint:net:${hook},${CULPRIT_UNSEEN}`
      : `${HOOK_LABELS.indexOf(hook as (typeof HOOK_LABELS)[number])},${culprit === UNSEEN ? CULPRIT_UNSEEN : HOOK_LABELS.indexOf(culprit as (typeof HOOK_LABELS)[number])}`;
    const applied = state.apply({ type: 'map', name: `@${map}`, values: new Map([[key, v]]), rejected: [] }, nowMs);
    if (applied.kind !== 'none') throw new Error(`simulated ${map} at ${hook} by ${culprit} not counted: ${JSON.stringify(applied)}`);
  };
  function advance(seconds: number): void {
    if (!up) return;
    t += seconds;
    const nowMs = bornMs + t * 1000;
    for (const hook of hooks) {
      set('inspected', hook, Math.floor(t * 900));
      set('gso', hook, Math.floor(t * 300));
      set('with_frag_list', hook, Math.floor(t * 20));
    }
    if (mode !== 'tracepoint') {
      set('create', 'skb_gro_receive', Math.floor(t * 20));
      set('clear', '__skb_linearize', Math.floor(t * 3));
      set('access', 'skb_segment', Math.floor(t * 2));
    }
    if (hostState === 'receive-inconsistent') count('inconsistent', site.receive, UNSEEN, Math.floor(t * 5), nowMs);
    if (hostState === 'paging') {
      // two culprits: a rollout seldom has only one writer in the path
      count(site.page.map, site.page.hook, site.page.culprit, Math.floor(t * 2), nowMs);
      count(site.page.map, site.page.hook, site.page.other, Math.floor(t / 10), nowMs);
      set('sampled', site.page.hook, Math.floor(t * 2));
    }
    // counted an hour before the host was simulated (before its scraper started), never since
    if (hostState === 'paged-before') count(site.page.map, site.page.hook, site.page.culprit, 5, bornMs - 3_600_000);
    // a bad rollout overwhelms the event stream as well: its warning waits behind the page
    if (hostState === 'paging' || hostState === 'losing-events') state.counters.add('lost_events', '', Math.ceil(seconds));
  }
  advance(1);
  return { state, registries, advance };
}

/** The series of one exposition (text format): one per sample line. */
export const seriesOf = (text: string): string[] => text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.slice(0, l.lastIndexOf(' ')));
