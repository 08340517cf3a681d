// The watch terminal output: the original watcher's table, rows and
// statistics, as pure functions of events and counters.
import type { DecodedEvent } from '../state/tracer-state.js';
import type { Counters } from '../state/counters.js';

export interface RowStyle { verbose: boolean; stackTrace: boolean; color: boolean; functionWidth: number }

const RED = '\x1b[31;1m', YELLOW = '\x1b[33m', RESET = '\x1b[0m';
const MARKER_COLORS: Record<string, string> = { '[CRITICAL]': RED, '[WARNING]': YELLOW, '[!!]': YELLOW };

/** The guide's event names; OVERRUN is ours. */
export const EVENT_LABEL: Record<DecodedEvent['kind'], string> = { inconsistent: 'INCONSISTENT', overrun: 'OVERRUN' };

export function header(s: RowStyle): string[] {
  const fn = 'FUNCTION'.padEnd(s.functionWidth);
  const line = s.verbose
    ? `${'TIME'.padEnd(19)}${'CPU'.padEnd(4)}${'COMM'.padEnd(17)}${'PID'.padEnd(8)}${'EVENT'.padEnd(13)}${fn} | ${'SKB'.padEnd(18)} | ${'FRAG_LIST'.padEnd(20)} | GSO_INFO`
    : `${'TIME'.padEnd(19)}${'CPU'.padEnd(4)}${'EVENT'.padEnd(13)}${fn} | ${'SKB'.padEnd(18)} | CHANGE`;
  return [line, '-'.repeat(line.length)];
}

/** "14:23:45.123" in local time */
export function clock(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The frag_list cell: a transition (before -> after) or the unchanged value. */
function fragList(e: DecodedEvent): string {
  return `${e.frag_list} (no change)`;
}

function marker(e: DecodedEvent): string {
  return e.kind === 'inconsistent' || e.kind === 'overrun' ? '[CRITICAL]' : '';
}

const paint = (text: string, s: RowStyle) =>
  s.color ? text.replace(/\[(CRITICAL|WARNING|!!)\]/g, (m) => `${MARKER_COLORS[m]}${m}${RESET}`) : text;

const hostPort = (addr: string | undefined, port: number, l3: string) => (l3 === 'ipv6' ? `[${addr}]:${port}` : `${addr}:${port}`);

export function eventLines(e: DecodedEvent, s: RowStyle): string[] {
  const time = clock(new Date(e.time)).padEnd(19);
  const cpu = String(e.cpu).padEnd(4);
  const event = EVENT_LABEL[e.kind].padEnd(13);
  const fn = e.hook.padEnd(s.functionWidth);
  const overrun = e.kind === 'overrun' ? ` data_len=${e.data_len}` : '';
  const lines: string[] = [];
  if (s.verbose) {
    const gso = `type=${e.gso_type_names} size=${e.gso_size} segs=${e.gso_segs}`;
    lines.push(`${time}${cpu}${e.comm.slice(0, 16).padEnd(17)}${String(e.pid).padEnd(8)}${event}${fn} | ${e.skb.padEnd(18)} | ${fragList(e).padEnd(20)} | ${gso}${overrun} ${marker(e)}`);
    const flow = e.l3 === 'other'
      ? `non-IP (ethertype 0x${e.proto.toString(16).padStart(4, '0')})`
      : `${hostPort(e.src, e.sport, e.l3)} -> ${hostPort(e.dst, e.dport, e.l3)}`;
    lines.push(`  -> Flow: ${flow} | dev=${e.dev} len=${e.len} data_len=${e.data_len} nr_frags=${e.nr_frags} cloned=${e.cloned}`);
  } else {
    lines.push(`${time}${cpu}${event}${fn} | ${e.skb.padEnd(18)} | ${fragList(e)}${overrun} ${marker(e)}`);
  }
  if (s.stackTrace) for (const frame of e.stack) lines.push(`        ${frame}`);
  return lines.map((l) => paint(l, s));
}

export interface StatisticsInput { counters: Counters; rowsShown: number; sampleRate: number; modeName: string; modeEvents: readonly string[] }

/** The guide's exit block, exact from the kernel counters. */
export function statistics(x: StatisticsInput): string[] {
  const c = x.counters;
  const inconsistent = c.sum('inconsistent'), overrun = c.sum('overrun');
  const unseen = (event: string) => (x.modeEvents.includes(event) ? String(c.sum(event)) : `n/a (${x.modeName} mode cannot see it)`);
  return [
    '--- Statistics ---',
    `Total events:       ${inconsistent + overrun}`,
    `  CREATE events:    ${unseen('create')}`,
    `  CLEAR events:     ${unseen('clear')}`,
    `  MODIFY events:    ${unseen('modify')}`,
    `  ACCESS events:    ${unseen('access')}`,
    `  INCONSISTENT:     ${inconsistent}${inconsistent > 0 ? '    <- This is the problem!' : ''}`,
    `  OVERRUN:          ${overrun}${overrun > 0 ? '    <- data_len beyond the skb: skb_segment would crash' : ''}`,
    `  Filtered out:     ${c.sum('filtered')}`,
    `Skbs inspected:     ${c.sum('inspected')} (GSO ${c.sum('gso')}, with frag_list ${c.sum('with_frag_list')})`,
    `Rows shown:         ${x.rowsShown}`,
    `Rows suppressed:    ${c.sum('suppressed')} (in-kernel rate limit ${x.sampleRate}/s; counted above)`,
    `Events lost:        ${c.get('lost_events')}`,
  ];
}
