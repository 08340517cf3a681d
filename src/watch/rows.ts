// The watch terminal output: the original watcher's table, rows and
// statistics, as pure functions of events and counters.
import type { DecodedEvent } from '../state/decoded-event.js';
import type { Counters } from '../state/counters.js';
import { CRASH_POINT_HOOKS, type Judge } from '../state/danger.js';
import { splitLabel } from '../state/hook-culprit.js';
import { UNSEEN } from '../modes.js';

export interface RowStyle {
  verbose: boolean; stackTrace: boolean; color: boolean; functionWidth: number;
  /** this host's judge: on a kernel not known to have the 2024 fraglist fix, FRAGLIST without a list is [CRITICAL] wherever seen (danger.ts) */
  danger: Judge;
}

const RED = '\x1b[31;1m', YELLOW = '\x1b[33m', RESET = '\x1b[0m';
const MARKER_COLORS: Record<string, string> = { '[CRITICAL]': RED, '[WARNING]': YELLOW, '[!!]': YELLOW };

/** The guide's event names; OVERRUN, GSO_CHANGE and FRAGLIST_NOLIST are ours. */
const EVENT_LABEL: Record<DecodedEvent['kind'], string> = {
  inconsistent: 'INCONSISTENT', overrun: 'OVERRUN', create: 'CREATE', clear: 'CLEAR', modify: 'MODIFY', access: 'ACCESS', gso_change: 'GSO_CHANGE',
  fraglist_nolist: 'FRAGLIST_NOLIST',
};

/** The EVENT column: wide enough for the longest label and a space, so that every row's FUNCTION starts in one column. */
const EVENT_WIDTH = Math.max(...Object.values(EVENT_LABEL).map((l) => l.length)) + 1;

export function header(s: RowStyle): string[] {
  const fn = 'FUNCTION'.padEnd(s.functionWidth);
  const line = s.verbose
    ? `${'TIME'.padEnd(19)}${'CPU'.padEnd(4)}${'COMM'.padEnd(17)}${'PID'.padEnd(8)}${'EVENT'.padEnd(EVENT_WIDTH)}${fn} | ${'SKB'.padEnd(18)} | ${'FRAG_LIST'.padEnd(37)} | GSO_INFO`
    : `${'TIME'.padEnd(19)}${'CPU'.padEnd(4)}${'EVENT'.padEnd(EVENT_WIDTH)}${fn} | ${'SKB'.padEnd(18)} | CHANGE`;
  return [line, '-'.repeat(line.length)];
}

/** "14:23:45.123" in local time */
export function clock(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

const ptr = (p: string) => (p === '0x0' ? 'NULL' : p);

/** The frag_list change as the guide writes it: "NULL -> 0x...", "0x... -> NULL", "0x0 (no change)". */
function fragListChange(e: DecodedEvent): string {
  switch (e.kind) {
    case 'create': case 'clear': case 'modify': return `${ptr(e.frag_list_before)} -> ${ptr(e.frag_list)}`;
    default: return `${e.frag_list} (no change)`;
  }
}

/** The guide's markers: [CRITICAL] only where the agent pages (src/state/danger.ts). */
function markers(e: DecodedEvent, s: RowStyle): string[] {
  const m: string[] = [];
  if (e.kind === 'clear') m.push('[!!]');
  const level = s.danger(e).level;
  if (level === 'critical') m.push('[CRITICAL]');
  else if (level === 'warning' || (e.kind === 'access' && e.gso_size > 0)) m.push('[WARNING]');
  return m;
}

/** What else the row says: a GSO change, an OVERRUN's data_len, the state after a transition. */
function detail(e: DecodedEvent): string {
  const parts: string[] = [];
  if (e.kind === 'gso_change') parts.push(`gso ${e.gso_size_before}/${e.gso_type_before_names} -> ${e.gso_size}/${e.gso_type_names}`);
  if (e.overrun) parts.push(`data_len=${e.data_len} beyond frags`);
  if (e.inconsistent && e.kind !== 'inconsistent') parts.push('now INCONSISTENT');
  return parts.join(' ');
}

const paint = (text: string, s: RowStyle) =>
  s.color ? text.replace(/\[(CRITICAL|WARNING|!!)\]/g, (m) => `${MARKER_COLORS[m]}${m}${RESET}`) : text;

/**
 * A name users chose (process, device), safe to print to a terminal: control
 * characters (a newline would forge a row, an escape sequence would drive the
 * terminal) and backslashes are written as \xNN.
 */
export const printable = (name: string) =>
  name.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

const hostPort = (addr: string | undefined, port: number, l3: string) => (l3 === 'ipv6' ? `[${addr}]:${port}` : `${addr}:${port}`);

export function eventLines(e: DecodedEvent, s: RowStyle): string[] {
  const time = clock(new Date(e.time)).padEnd(19);
  const cpu = String(e.cpu).padEnd(4);
  const event = EVENT_LABEL[e.kind].padEnd(EVENT_WIDTH);
  const fn = e.hook.padEnd(s.functionWidth);
  const tail = [detail(e), ...markers(e, s)].filter(Boolean).join(' ');
  const lines: string[] = [];
  if (s.verbose) {
    const gso = `type=${e.gso_type_names} size=${e.gso_size} segs=${e.gso_segs}`;
    lines.push(`${time}${cpu}${printable(e.comm).padEnd(16)} ${String(e.pid).padEnd(8)}${event}${fn} | ${e.skb.padEnd(18)} | ${fragListChange(e).padEnd(37)} | ${gso}${tail ? ` ${tail}` : ''}`);
    const flow = e.l3 === 'other'
      ? `non-IP (ethertype 0x${e.ethertype.toString(16).padStart(4, '0')})`
      : `${hostPort(e.src, e.sport, e.l3)} -> ${hostPort(e.dst, e.dport, e.l3)}`;
    lines.push(`  -> Flow: ${flow} | dev=${printable(e.dev)} len=${e.len} data_len=${e.data_len} nr_frags=${e.nr_frags} cloned=${e.cloned}`);
    const d = s.danger(e);
    if (d.level !== 'none') lines.push(`  -> ${d.level === 'critical' ? 'CRITICAL' : 'WARNING'}: ${d.why}`);
    if (d.level !== 'none') lines.push(`  -> Culprit: ${culpritText(e)}`);
  } else {
    lines.push(`${time}${cpu}${event}${fn} | ${e.skb.padEnd(18)} | ${fragListChange(e)}${tail ? ` ${tail}` : ''}`);
  }
  if (s.stackTrace) {
    for (const frame of e.stack) lines.push(`        ${frame}`);
    if (e.culprit_stack?.length) {
      lines.push(`      culprit ${e.culprit}, when it wrote this skb:`);
      for (const frame of e.culprit_stack) lines.push(`        ${frame}`);
    }
  }
  return lines.map((l) => paint(l, s));
}

/** "bpf_skb_pull_data, 1.204 ms before" or why there is none. */
function culpritText(e: DecodedEvent): string {
  if (e.culprit === UNSEEN) return 'unseen (no hooked function cleared its frag_list or changed its GSO fields while remembered)';
  return e.culprit_age_ns === undefined ? e.culprit : `${e.culprit}, ${(Number(e.culprit_age_ns) / 1e6).toFixed(3)} ms before`;
}

export interface StatisticsInput {
  counters: Counters; rowsShown: number; sampleRate: number; modeName: string; modeCounters: readonly string[];
  /** the hooks this run attached */
  hooks: readonly string[];
}

/** The guide's exit block, exact from the kernel counters. */
export function statistics(x: StatisticsInput): string[] {
  const c = x.counters;
  const has = (name: string) => x.modeCounters.includes(name);
  const value = (name: string) => (has(name) ? String(c.sum(name)) : `n/a (${x.modeName} mode cannot see it)`);
  const total = ['create', 'clear', 'modify', 'access', 'inconsistent', 'overrun'].filter(has).reduce((n, k) => n + c.sum(k), 0);
  const inconsistent = c.sum('inconsistent'), overrun = c.sum('overrun');
  // at the crash point, by culprit: "bpf_skb_pull_data 5, unseen 2"
  const culprits = new Map<string, number>();
  for (const [label, v] of c.series('inconsistent')) {
    const { hook, culprit = UNSEEN } = splitLabel(label);
    if (v > 0 && CRASH_POINT_HOOKS.includes(hook)) culprits.set(culprit, (culprits.get(culprit) ?? 0) + v);
  }
  const atCrashPoints = [...culprits.values()].reduce((n, v) => n + v, 0);
  const byCulprit = [...culprits].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  const seesCrashPoint = x.hooks.some((h) => CRASH_POINT_HOOKS.includes(h));
  const inconsistentNote = atCrashPoints > 0 ? `    <- This is the problem! (${atCrashPoints} at ${CRASH_POINT_HOOKS.join(', ')}; culprits: ${byCulprit})`
    : inconsistent === 0 ? ''
      : seesCrashPoint ? `    (none at ${CRASH_POINT_HOOKS.join(', ')}: linear GSO skbs, legal where they were seen)`
        : `    (${x.modeName} mode cannot see ${CRASH_POINT_HOOKS.join(', ')}, where they would crash)`;
  return [
    '--- Statistics ---',
    `Total events:       ${total}`,
    `  CREATE events:    ${value('create')}`,
    `  CLEAR events:     ${value('clear')}`,
    `  MODIFY events:    ${value('modify')}`,
    `  ACCESS events:    ${value('access')}`,
    `  INCONSISTENT:     ${inconsistent}${inconsistentNote}`,
    `  OVERRUN:          ${overrun}${overrun > 0 ? '    <- data_len beyond the skb: skb_segment would crash' : ''}`,
    ...(has('fraglist_nolist') ? [`  FRAGLIST_NOLIST:  ${c.sum('fraglist_nolist')}${c.sum('fraglist_nolist') > 0 ? '    <- FRAGLIST with a NULL frag_list: crashes list segmentation on kernels without the 2024 fixes' : ''}`] : []),
    ...(has('gso_change') ? [`  GSO changes:      ${c.sum('gso_change')}`] : []),
    `  Filtered out:     ${c.sum('filtered')}`,
    `Skbs inspected:     ${c.sum('inspected')} (GSO ${c.sum('gso')}, with frag_list ${c.sum('with_frag_list')})`,
    `Rows shown:         ${x.rowsShown}`,
    `Rows suppressed:    ${c.sum('suppressed')} (in-kernel rate limit ${x.sampleRate}/s; counted above)`,
    `Events lost:        ${c.get('lost_events')}`,
  ];
}
