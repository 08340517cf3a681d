// bpftrace `-f json` output: one JSON object a line (bpftrace src/output.cpp).
// Pure: a line in, a typed record out; never throws.

export type BpftraceRecord =
  | { type: 'attached_probes'; probes: number }
  | { type: 'printf'; text: string }
  /** a keyed map of integers, e.g. @inconsistent[probe] = count(); keys with a bad value are set apart */
  | { type: 'map'; name: string; values: Map<string, number>; rejected: string[] }
  | { type: 'lost_events'; events: number }
  | { type: 'helper_error'; helper: string; retcode: number; line: number; col: number }
  /** a valid record this agent has no use for (time, join, hist, ...) */
  | { type: 'other'; recordType: string }
  /** a line that is not a bpftrace record at all */
  | { type: 'unparsable'; line: string; reason: string };

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/** a count, or a count bpftrace 0.24+ prints as a string because it is above 2^53 (kept to the nearest double) */
const asCount = (v: unknown): number | undefined =>
  isCount(v) ? v : typeof v === 'string' && /^\d{1,20}$/.test(v) ? Number(v) : undefined;

export function parseRecord(line: string): BpftraceRecord {
  if (!line.trim()) return { type: 'other', recordType: 'blank' }; // bpftrace prints empty lines between some records
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return { type: 'unparsable', line, reason: 'not JSON' };
  }
  if (typeof obj !== 'object' || obj === null || typeof (obj as { type?: unknown }).type !== 'string') {
    return { type: 'unparsable', line, reason: 'no "type"' };
  }
  const rec = obj as { type: string; data?: unknown; [k: string]: unknown };
  const data = rec.data as Record<string, unknown> | undefined;
  switch (rec.type) {
    case 'attached_probes':
      return isCount(data?.probes) ? { type: 'attached_probes', probes: data.probes } : bad(line, 'probes');
    case 'lost_events':
      return isCount(data?.events) ? { type: 'lost_events', events: data.events } : bad(line, 'events');
    case 'printf':
      return typeof rec.data === 'string' ? { type: 'printf', text: highBytes(rec.data) } : bad(line, 'printf data');
    case 'helper_error':
      return typeof rec.helper === 'string' && typeof rec.retcode === 'number'
        ? { type: 'helper_error', helper: rec.helper, retcode: rec.retcode, line: Number(rec.line) || 0, col: Number(rec.col) || 0 }
        : bad(line, 'helper_error fields');
    case 'map':
      return parseMap(line, data);
    default:
      return { type: 'other', recordType: rec.type };
  }
}

function parseMap(line: string, data: Record<string, unknown> | undefined): BpftraceRecord {
  const names = data ? Object.keys(data) : [];
  if (!data || names.length !== 1) return bad(line, 'map data');
  const name = names[0];
  const body = data[name];
  const values = new Map<string, number>();
  const rejected: string[] = [];
  const whole = asCount(body);
  if (whole !== undefined) {
    values.set('', whole);
  } else if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    // one bad value costs its own key, not the others
    for (const [k, v] of Object.entries(body)) {
      const n = asCount(v);
      if (n === undefined) rejected.push(k);
      else values.set(k, n);
    }
  } else {
    return bad(line, `map ${name}`);
  }
  return { type: 'map', name, values, rejected };
}

/**
 * bpftrace 0.17's JSON writer escapes a byte >= 0x80 through a signed char, as
 * "\uffffffXX" (measured with process names that are not ASCII): JSON reads
 * that as U+FFFF and "ffXX". Put the bytes back and read them as UTF-8 (what
 * is not UTF-8 becomes U+FFFD), so names arrive as the kernel holds them.
 */
export function highBytes(text: string): string {
  if (!text.includes('\uffff')) return text;
  const parts = text.split(/\uffffff([0-9a-f]{2})/);
  const bytes = parts.map((p, i) => (i % 2 ? Buffer.from([parseInt(p, 16)]) : Buffer.from(p, 'utf8')));
  return Buffer.concat(bytes).toString('utf8');
}

const bad = (line: string, what: string): BpftraceRecord => ({ type: 'unparsable', line, reason: `bad ${what}` });
