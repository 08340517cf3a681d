// The agent's last words: each critical sampled event as one short line where
// it survives a kernel crash, read back after the reboot and joined with the
// crash record (./join.ts). Where the kernel has pstore's user-message device
// (/dev/pmsg0, ramoops with a pmsg area) the lines go there and come back as
// pmsg-* records; else to a ring file in the state directory, fsynced per
// write and bounded. Debian's cloud kernels have no pmsg: the file is what runs.
import { closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DecodedEvent } from '../state/decoded-event.js';

export const PMSG_DEVICE = '/dev/pmsg0';
export const LAST_WORDS_FILE = 'last-words.log';

/** One line: a run's start, or a critical event (the crash state, where, who wrote it, the flow). */
export interface LastWord {
  /** ms since the epoch */
  t: number;
  /** the kernel's boot_id: a crash is joined only with words of the boot it ended */
  boot: string;
  kind: 'start' | CrashState;
  hook?: string;
  culprit?: string;
  flow?: string;
}
export type CrashState = 'fraglist_nolist' | 'overrun' | 'inconsistent';
export const CRASH_STATE_NAMES: Record<CrashState, string> = {
  fraglist_nolist: 'FRAGLIST without a list', overrun: 'OVERRUN', inconsistent: 'INCONSISTENT',
};

/** The crash state a critical event's skb was in (the most severe), for its last word. */
export function crashState(e: Pick<DecodedEvent, 'kind' | 'overrun' | 'fraglist_nolist' | 'inconsistent'>): CrashState {
  if (e.kind === 'overrun' || e.overrun) return 'overrun';
  if (e.kind === 'fraglist_nolist' || e.fraglist_nolist) return 'fraglist_nolist';
  return 'inconsistent';
}

/** "198.18.0.1:4000 -> 198.18.1.2:5000" (ASCII: it travels through consoles and logs), IPv6 in brackets; undefined for a non-IP skb */
export function flowOf(e: Pick<DecodedEvent, 'src' | 'dst' | 'sport' | 'dport'>): string | undefined {
  if (!e.src || !e.dst) return undefined;
  const at = (a: string, port: number) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  return `${at(e.src, e.sport)} -> ${at(e.dst, e.dport)}`;
}

export const lastWordLine = (w: LastWord): string => `${JSON.stringify(w)}\n`;

const FIELD = /^[\w.:[\]> -]{1,120}$/;
const BOOT = /^[0-9a-f-]{1,36}$/;
/** Lines back to words; a line that is not one (cut off by the crash, or not ours) is left out. Pure. */
export function parseLastWords(text: string): LastWord[] {
  const out: LastWord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let v: unknown;
    try { v = JSON.parse(line); } catch { continue; }
    if (!v || typeof v !== 'object') continue;
    const w = v as Record<string, unknown>;
    if (typeof w.t !== 'number' || !Number.isFinite(w.t) || typeof w.boot !== 'string' || !BOOT.test(w.boot)) continue;
    if (w.kind !== 'start' && !Object.hasOwn(CRASH_STATE_NAMES, w.kind as string)) continue;
    if (['hook', 'culprit', 'flow'].some((k) => w[k] !== undefined && (typeof w[k] !== 'string' || !FIELD.test(w[k] as string)))) continue;
    out.push({ t: w.t, boot: w.boot, kind: w.kind as LastWord['kind'], hook: w.hook as string | undefined, culprit: w.culprit as string | undefined, flow: w.flow as string | undefined });
  }
  return out;
}

/** Where this host's last words go: pmsg where the kernel has it, else the ring file (none without a state directory). */
export function lastWordsTarget(stateDir: string | undefined, pmsg = PMSG_DEVICE): { kind: 'pmsg' | 'file' | 'none'; path?: string } {
  if (existsSync(pmsg)) return { kind: 'pmsg', path: pmsg };
  return stateDir ? { kind: 'file', path: join(stateDir, LAST_WORDS_FILE) } : { kind: 'none' };
}

/**
 * Appends last words. A line is written and synced before write() returns: the
 * kernel may die a millisecond later. Sampled events are rate-limited in the
 * kernel already; this writes at most once per `minGapMs`, then the newest
 * word of each hook and culprit that waited (nested writers, a helper and the
 * pull inside it, both stay heard), so a storm costs a few syncs a second.
 * The file keeps the last `capacity` lines (rewritten whole, atomically, when
 * it holds twice that).
 */
export class LastWordsWriter {
  private fd: number;
  private lines: number;
  private lastWriteMs = 0;
  private readonly pending = new Map<string, LastWord>();
  private timer?: NodeJS.Timeout;
  /** lines not written: their write failed */
  failed = 0;

  constructor(readonly target: { kind: 'pmsg' | 'file'; path: string }, readonly capacity = 64, readonly minGapMs = 200) {
    this.lines = target.kind === 'file' && existsSync(target.path) ? readFileSync(target.path, 'utf8').split('\n').length - 1 : 0;
    this.fd = openSync(target.path, 'a', 0o600);
  }

  write(w: LastWord, nowMs = Date.now()): void {
    if (nowMs - this.lastWriteMs >= this.minGapMs && !this.timer) { this.writeNow([w], nowMs); return; }
    this.pending.set(`${w.hook}|${w.culprit}`, w);
    this.timer ??= setTimeout(() => this.flush(Date.now()), Math.max(0, this.minGapMs - (nowMs - this.lastWriteMs)));
  }

  close(): void {
    if (this.timer) this.flush(Date.now());
    closeSync(this.fd);
  }

  private flush(nowMs: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const words = [...this.pending.values()].sort((a, b) => a.t - b.t);
    this.pending.clear();
    if (words.length) this.writeNow(words, nowMs);
  }

  private writeNow(words: LastWord[], nowMs: number): void {
    this.lastWriteMs = nowMs;
    try {
      writeSync(this.fd, words.map(lastWordLine).join(''));
      if (this.target.kind === 'file') {
        fdatasyncSync(this.fd);
        this.lines += words.length;
        if (this.lines >= 2 * this.capacity) this.trim();
      }
    } catch {
      this.failed += words.length;
    }
  }

  private trim(): void {
    const { path } = this.target;
    const keep = readFileSync(path, 'utf8').split('\n').filter(Boolean).slice(-this.capacity);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    writeSync(fd, keep.map((l) => `${l}\n`).join(''));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    syncDir(dirname(path));
    closeSync(this.fd);
    this.fd = openSync(path, 'a', 0o600);
    this.lines = keep.length;
  }
}

export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}
