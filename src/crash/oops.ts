// Reads a kernel crash record (a pstore dmesg record, systemd-pstore's
// dmesg.txt, kdump's dmesg or vmcore-dmesg.txt): the oops headline, the
// faulting function, the call trace, the task, the release; and classes it
// `segmentation` or `other` (./segmentation.ts). Pure; never throws.
//
// The text is hostile in one place: a task's name (Comm:) is any 15 bytes a
// process chose, newlines included, so it can print what looks like another
// line of the oops ("\nRIP: 0010:x+0x1/0x2"). The CPU line is read with its
// name's possible continuation lines, which are then not read as fields.
import { isSegmentationFunction, OTHER_FUNCTION, SEGMENTATION_FRAMES } from './segmentation.js';

export type CrashClass = 'segmentation' | 'other';

export interface Oops {
  class: CrashClass;
  /** the segmentation function it crashed in, or "other" (the metric's closed label set) */
  function: string;
  /** the first line of the crash: BUG:, general protection fault, kernel BUG at, Oops:, or Kernel panic */
  headline: string;
  /** the faulting function as RIP names it, with its offset ("0x35a/0x550") */
  rip?: { function: string; offset: string };
  /** the call trace's certain frames (no "?" guesses), function names only, first 64 */
  trace: string[];
  comm?: string;
  pid?: number;
  release?: string;
  /** the kernel panicked (not only oopsed) */
  panic: boolean;
}

export type SkipReason = 'not-an-oops' | 'warning' | 'truncated';
export type ParsedRecord = { ok: true; oops: Oops } | { ok: false; reason: SkipReason };

/** how far an oops reaches; a longer block is not one oops */
const BLOCK_LINES = 400;
const MAX_FRAMES = 64;
/** TASK_COMM_LEN - 1 */
const COMM_MAX = 15;
/** a field value kept from a line (the line itself may be as long as the record) */
const FIELD_MAX = 200;

// <level>, [seconds], and 5.10+'s caller id ([T123] / [C1]) before each line
const PREFIX = /^(?:<\d{1,3}>)?(?:\[\s*\d{1,10}\.\d{1,9}\](?:\[\s*[TC]\d{1,10}\])?\s?)?/;
const CRASH_ANCHOR = /^(?:Oops: |kernel BUG at |general protection fault|Kernel panic - not syncing)/;
const HEADLINE = /^(?:BUG: |kernel BUG at |general protection fault)/;
const RIP = /^RIP: (?:[0-9a-f]{4}:)?(?:\[<[0-9a-f]{1,16}>\]\s+){0,2}([A-Za-z_][\w.]{0,127})\+(0x[0-9a-f]{1,16}\/0x[0-9a-f]{1,16})/;
const FRAME = /^(\?\s+)?(?:\[<[0-9a-f]{1,16}>\]\s+)?([A-Za-z_][\w.]{0,127})\+0x[0-9a-f]{1,16}\/0x[0-9a-f]{1,16}(?:\s+\[[\w-]{1,64}\])?\s*$/;
const TRACE_MARKER = /^<\/?(?:IRQ|TASK|EOI|NMI|#DF)>$/;
const CPU_LINE = /^CPU: \d{1,5} (?:UID: \d{1,10} )?PID: (\d{1,10}) Comm: (.*)$/;
// what follows the name: RHEL's kdump note, the taint (RHEL adds "--------- -  -"), the release, "#<build>"
const AFTER_COMM = /^ (?:Kdump: loaded )?(?:Not tainted|Tainted:)[A-Z -]*? ?(\d[\w.+~-]{0,63}) #/;

export function parseOops(text: string): ParsedRecord {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '').replace(PREFIX, ''));
  const anchor = lines.findIndex((l) => CRASH_ANCHOR.test(l));
  if (anchor < 0) return { ok: false, reason: lines.some((l) => /^(?:WARNING: |BUG: )/.test(l)) ? 'warning' : 'not-an-oops' };
  // the BUG:/GPF line just before "Oops:" heads it
  let start = anchor;
  for (let i = anchor - 1; i >= Math.max(0, anchor - 6); i--) if (HEADLINE.test(lines[i])) { start = i; break; }
  const block = oopsBlock(lines, start);
  const fields = readFields(block);
  if (!fields.rip && fields.trace.length === 0) return { ok: false, reason: 'truncated' };
  const release = /^Linux version (\S{1,64})/.exec(lines.find((l) => l.startsWith('Linux version ')) ?? '')?.[1] ?? fields.release;
  const candidates = [fields.rip?.function, ...fields.trace.slice(0, SEGMENTATION_FRAMES)].filter((f): f is string => Boolean(f)).map(baseName);
  const fn = candidates.find(isSegmentationFunction);
  return {
    ok: true,
    oops: {
      class: fn ? 'segmentation' : 'other', function: fn ?? OTHER_FUNCTION, headline: lines[start].slice(0, FIELD_MAX),
      ...(fields.rip ? { rip: fields.rip } : {}), trace: fields.trace,
      ...(fields.comm !== undefined ? { comm: fields.comm, pid: fields.pid } : {}),
      ...(release ? { release } : {}),
      panic: lines.some((l) => l.startsWith('Kernel panic - not syncing')),
    },
  };
}

/** "__die_body.cold" -> "__die_body": the compiler's clones are the same function */
const baseName = (fn: string) => fn.split('.')[0];

/** from the headline to the end of its trace: "---[ end trace", a panic after it, or BLOCK_LINES */
function oopsBlock(lines: string[], start: number): string[] {
  const end = Math.min(lines.length, start + BLOCK_LINES);
  for (let i = start + 1; i < end; i++) {
    if (lines[i].startsWith('---[ end trace') || lines[i].startsWith('Kernel panic - not syncing')) return lines.slice(start, i);
  }
  return lines.slice(start, end);
}

interface Fields { rip?: Oops['rip']; trace: string[]; comm?: string; pid?: number; release?: string }

function readFields(block: string[]): Fields {
  const out: Fields = { trace: [] };
  for (let i = 0; i < block.length; i++) {
    const line = block[i];
    const cpu = CPU_LINE.exec(line);
    if (cpu && out.comm === undefined) {
      const task = readComm(cpu[2], block.slice(i + 1, i + 1 + COMM_MAX));
      if (task) {
        Object.assign(out, { comm: task.comm, pid: Number(cpu[1]), release: task.release });
        i += task.continuationLines;   // the name's own lines are not fields
      }
      continue;
    }
    const rip = RIP.exec(line);
    if (rip && !out.rip) { out.rip = { function: rip[1], offset: rip[2] }; continue; }
    if (line === 'Call Trace:' && out.trace.length === 0) out.trace = readTrace(block, i + 1);
  }
  return out;
}

/**
 * The task name after "Comm: ", which may run over newlines it contains: the
 * name ends where the taint and release follow, at most COMM_MAX bytes in.
 * The last such place is the real one (a name cannot hold a whole fake tail).
 */
function readComm(rest: string, next: string[]): { comm: string; release: string; continuationLines: number } | undefined {
  let joined = rest;
  for (let extra = 0; ; extra++) {
    for (let at = Math.min(COMM_MAX, joined.length); at >= 0; at--) {
      const m = AFTER_COMM.exec(joined.slice(at));
      if (m) return { comm: joined.slice(0, at), release: m[1], continuationLines: extra };
    }
    // a newline at COMM_MAX or later would make the name too long
    if (extra >= next.length || joined.length >= COMM_MAX) return undefined;
    joined += `\n${next[extra]}`;
  }
}

function readTrace(block: string[], from: number): string[] {
  const frames: string[] = [];
  for (let i = from; i < block.length && frames.length < MAX_FRAMES; i++) {
    const line = block[i].trim();
    if (line === '' || TRACE_MARKER.test(line)) continue;
    const m = FRAME.exec(line);
    if (!m) break;
    if (!m[1]) frames.push(m[2]);
  }
  return frames;
}
