// Where bpftrace records land, as a registry ties its metrics: each record
// goes to the one part it concerns (counters, the event ring, the attach
// status), and the outputs (metrics, /events, logs, terminal) read those
// parts. A bpftrace map @x becomes counter x.
import type { BpftraceRecord } from '../bpftrace/records.js';
import { parseSampledEvent } from '../bpftrace/sampled-event.js';
import type { GsoTable } from '../kernel/gso.js';
import { culpritName, hookName, type Mode, type ModePlan } from '../modes.js';
import { canCount, CULPRIT_KEYED_MAPS, HEARTBEAT_MAP, printedMaps, SEEN_COUNTERS, SEEN_COUNTING, SEEN_MAP } from '../probes/program.js';
import { AttachStatus } from './attach-status.js';
import { Counters } from './counters.js';
import { decodeEvent, type DecodedEvent } from './decoded-event.js';
import { EventRing } from './event-ring.js';
import { hookCulpritLabel } from './hook-culprit.js';
import { LastRise } from './last-rise.js';
import { PerHookSeen, splitPerHookMap } from './per-hook-map.js';
import { splitSeen } from './seen-shape.js';

/** Counters the agent keeps. */
const AGENT_COUNTERS = ['lost_events', 'unparsable_lines', 'helper_errors', 'tracer_restarts', 'tracer_stalls'] as const;

/** What applying a record did, for the logger. */
export type Applied =
  | { kind: 'event'; event: DecodedEvent }
  | { kind: 'attached'; probes: number }
  | { kind: 'lost'; events: number }
  | { kind: 'problem'; message: string; detail: Record<string, unknown> }
  /** a line of bpftrace's own diagnostics (a compiler warning) on stdout, before it attached: bpftrace 0.24+ prints them there */
  | { kind: 'diagnostic'; line: string }
  | { kind: 'none' };

export class TracerState {
  readonly counters = new Counters();
  readonly events: EventRing<DecodedEvent>;
  readonly status = new AttachStatus();
  /** when each crash-state series last rose (the pages' input) */
  readonly lastRise = new LastRise();
  readonly mode: Mode;
  /** hooks attached on this kernel, and those the mode has but the kernel lacks */
  readonly hooks: readonly string[];
  readonly unattached: ModePlan['unattached'];
  private readonly knownHooks: ReadonlySet<string>;
  /** the keyed counter maps this mode's program prints: a map by another name is not counted, even if named like a counter */
  private readonly counterMaps: ReadonlySet<string>;
  /** where the program counts passing skbs: @seen, or per-hook maps */
  private readonly seenCounting: (typeof SEEN_COUNTING)[keyof typeof SEEN_COUNTING];
  /** this run's per-hook maps so far (tracepoint mode): a hook's counters are sums over its shapes */
  private readonly perHookSeen = new PerHookSeen();
  /** this run has not announced its probes yet: what it prints that is not JSON is diagnostics, not output */
  private compiling = true;

  constructor(plan: ModePlan, readonly gsoNames: GsoTable, eventsCapacity: number) {
    this.mode = plan.mode;
    this.hooks = plan.hooks;
    this.unattached = plan.unattached;
    this.knownHooks = new Set(plan.hooks);
    this.counterMaps = new Set(printedMaps(plan.mode.name));
    this.seenCounting = SEEN_COUNTING[plan.mode.name];
    this.events = new EventRing(eventsCapacity);
    // a crash-state series is born with its first skb, not at 0: on most hosts of a fleet it never is, and the pages
    // read when it last rose (lastRise), not increase()
    for (const name of this.mode.counters.filter((n) => !CULPRIT_KEYED_MAPS.includes(n))) {
      for (const hook of this.hooks.filter((h) => canCount(name, h))) this.counters.ensure(name, hook);
    }
    for (const name of AGENT_COUNTERS) this.counters.ensure(name);
  }

  /** A bpftrace process was started: its maps begin at zero. */
  runStarted(): void {
    this.counters.newRun();
    this.perHookSeen.clear();
    this.status.detached();
    this.compiling = true;
  }

  apply(record: BpftraceRecord, nowMs: number): Applied {
    switch (record.type) {
      case 'attached_probes':
        this.compiling = false;
        this.status.announced(record.probes, nowMs);
        return { kind: 'none' };
      case 'map': {
        const name = record.name.replace(/^@/, '');
        if (name === HEARTBEAT_MAP) {
          return this.status.heartbeat(nowMs) ? { kind: 'attached', probes: this.status.attachedProbes } : { kind: 'none' };
        }
        if (name === SEEN_MAP && this.seenCounting === 'seen-map') return this.observeSeen(name, record.values, record.rejected, nowMs);
        const perHook = this.seenCounting === 'per-hook-maps' ? splitPerHookMap(name) : undefined;
        if (perHook) {
          // a map without a key prints one value, under the key ''
          const keys = [...record.rejected, ...record.values.keys()];
          const value = record.values.get('');
          if (value === undefined || keys.length !== 1) return this.badKeys(name, keys.length ? keys : ['']);
          // refused before it is kept: the per-hook store holds only this plan's hooks, whatever names a broken bpftrace prints
          if (!this.knownHooks.has(hookName(this.mode, perHook.hook))) return this.badKeys(name, [perHook.hook]);
          return this.observeSeen(name, this.perHookSeen.set(perHook, value), [], nowMs);
        }
        if (!this.counterMaps.has(name)) return { kind: 'none' };
        const rejected = [...record.rejected, ...this.observe(name, record.values, CULPRIT_KEYED_MAPS.includes(name), nowMs)];
        return rejected.length ? this.badKeys(name, rejected) : { kind: 'none' };
      }
      case 'printf': {
        const parsed = parseSampledEvent(record.text);
        if (!parsed.ok) return this.unparsable(`printf text is not a sampled event: ${parsed.reason}`, { text: record.text.slice(0, 200) });
        const e = parsed.event;
        const hook = hookName(this.mode, e.hookKey);
        if (!this.knownHooks.has(hook)) return this.unparsable('sampled event from an unknown hook', { hook: e.hookKey });
        const culprit = culpritName(this.mode, e.culpritKey);
        if (!culprit) return this.unparsable('sampled event with an unknown culprit', { culprit: e.culpritKey });
        const event = decodeEvent(e, hook, culprit, this.gsoNames, nowMs);
        this.events.push(event);
        return { kind: 'event', event };
      }
      case 'lost_events':
        this.counters.add('lost_events', '', record.events);
        return { kind: 'lost', events: record.events };
      case 'helper_error':
        this.counters.add('helper_errors');
        return { kind: 'problem', message: 'bpftrace helper error', detail: { ...record } };
      case 'unparsable':
        if (this.compiling && record.reason === 'not JSON') return { kind: 'diagnostic', line: record.line };
        return this.unparsable(`bpftrace output line not understood: ${record.reason}`, { line: record.line.slice(0, 200) });
      default:
        return { kind: 'none' };
    }
  }

  /**
   * A map's values into a counter. Only this plan's hooks (and culprits) become
   * labels: a key the program cannot print is not a new series. Returns those keys.
   */
  private observe(name: string, values: ReadonlyMap<string, number>, culpritKeyed: boolean, nowMs: number): string[] {
    const rejected: string[] = [];
    const byLabel = new Map<string, number>();
    for (const [key, v] of values) {
      const label = this.seriesLabel(key, culpritKeyed);
      if (label !== undefined) byLabel.set(label, v); else rejected.push(key);
    }
    const rose = this.counters.observe(name, byLabel);
    if (culpritKeyed) this.lastRise.rose(name, rose, nowMs / 1000);
    return rejected;
  }

  /** @seen's values, or a hook's per-hook maps keyed as @seen's are: summed over the shapes into the counters */
  private observeSeen(name: string, values: ReadonlyMap<string, number>, rejectedByParser: readonly string[], nowMs: number): Applied {
    const split = splitSeen(values);
    const rejected = new Set([...rejectedByParser, ...split.rejected]);
    for (const counter of SEEN_COUNTERS) for (const k of this.observe(counter, split.counters[counter], false, nowMs)) rejected.add(k);
    return rejected.size ? this.badKeys(name, [...rejected]) : { kind: 'none' };
  }

  private badKeys(name: string, rejected: string[]): Applied {
    return this.unparsable(`bpftrace map @${name}: keys with a bad value or an unknown hook`, { keys: rejected.slice(0, 4).map((k) => k.slice(0, 64)) }, rejected.length);
  }

  /** A map key as the program printed it ("hook" or "hook,culprit") -> the counter's series label; undefined if unknown. */
  private seriesLabel(key: string, culpritKeyed: boolean): string | undefined {
    if (!culpritKeyed) {
      const hook = hookName(this.mode, key);
      return this.knownHooks.has(hook) ? hook : undefined;
    }
    const comma = key.lastIndexOf(',');
    if (comma < 0) return undefined;
    const hook = hookName(this.mode, key.slice(0, comma));
    const culprit = culpritName(this.mode, key.slice(comma + 1));
    return this.knownHooks.has(hook) && culprit ? hookCulpritLabel(hook, culprit) : undefined;
  }

  private unparsable(message: string, detail: Record<string, unknown>, n = 1): Applied {
    this.counters.add('unparsable_lines', '', n);
    return { kind: 'problem', message, detail };
  }
}
