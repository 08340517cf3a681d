// The crash records of this host, read on start and on each host re-check:
// found (./record-files.ts), parsed once (./oops.ts) and joined once with the
// last words written before them (./join.ts). What was seen, by a hash of its
// content, is kept in the state directory, so a record is parsed and joined
// once across restarts (the last words may have rotated away since).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crashSummary, lastWordBefore, UNKNOWN_CULPRIT } from './join.js';
import { parseLastWords, syncDir, type LastWord } from './last-words.js';
import { parseOops, type Oops, type ParsedRecord, type SkipReason } from './oops.js';
import { findRecordFiles } from './record-files.js';

export const SEEN_FILE = 'crash-records.json';
/** records remembered; the oldest are forgotten (and would be parsed again) */
const SEEN_MAX = 512;

export interface CrashRecord extends Omit<Oops, 'trace'> {
  path: string;
  /** sha256 of the text read */
  hash: string;
  /** the record's time (its file's mtime: pstore sets it to the crash's) */
  time: string;
  timeSeconds: number;
  /** the first frames of the call trace */
  trace: string[];
  /** the culprit of the last critical event before the crash, or "unknown" */
  culprit: string;
  lastWord?: LastWord;
  summary: string;
}

/** `duplicate`: another record of a crash already listed (ramoops keeps the oops and the panic after it; kdump and pstore may both keep one) */
export type Skipped = Record<SkipReason | 'unreadable' | 'duplicate', number>;

export interface CrashReport {
  dirs: readonly string[];
  missingDirs: string[];
  /** newest first */
  records: CrashRecord[];
  skipped: Skipped;
}

interface Seen { parsed: ParsedRecord; lastWord?: LastWord; summary?: string }

export const emptyReport = (dirs: readonly string[]): CrashReport => ({
  dirs, missingDirs: [], records: [], skipped: { 'not-an-oops': 0, warning: 0, truncated: 0, unreadable: 0, duplicate: 0 },
});

export class CrashRecords {
  report: CrashReport;
  private readonly seen = new Map<string, Seen>();
  private readonly seenFile?: string;

  /** `lastWordsFile`: the ring file of last words, read with any pmsg-* records found */
  constructor(readonly dirs: readonly string[], stateDir?: string, private readonly lastWordsFile?: string, private readonly o: { readOnly?: boolean } = {}) {
    this.report = emptyReport(dirs);
    this.seenFile = stateDir ? join(stateDir, SEEN_FILE) : undefined;
    if (this.seenFile && existsSync(this.seenFile)) {
      try {
        for (const [hash, s] of Object.entries(JSON.parse(readFileSync(this.seenFile, 'utf8')) as Record<string, Seen>)) this.seen.set(hash, s);
      } catch { /* a torn or foreign file: parse again */ }
    }
  }

  refresh(): CrashReport {
    const found = findRecordFiles(this.dirs);
    const report = emptyReport(this.dirs);
    report.missingDirs = found.missingDirs;
    report.skipped.unreadable = found.unreadable;
    let words: LastWord[] | undefined;
    const lastWords = () => (words ??= [
      ...found.files.filter((f) => f.kind === 'pmsg').flatMap((f) => parseLastWords(f.text)),
      ...(this.lastWordsFile && existsSync(this.lastWordsFile) ? parseLastWords(readFileSync(this.lastWordsFile, 'utf8')) : []),
    ]);
    let changed = false;
    for (const file of found.files) {
      if (file.kind !== 'dmesg') continue;
      const hash = createHash('sha256').update(file.text).digest('hex');
      let s = this.seen.get(hash);
      if (!s) {
        s = { parsed: parseOops(file.text) };
        if (s.parsed.ok) {
          s.lastWord = s.parsed.oops.class === 'segmentation' ? lastWordBefore(file.mtimeMs, lastWords()) : undefined;
          s.summary = crashSummary(s.parsed.oops, file.mtimeMs, s.lastWord);
        }
        this.seen.set(hash, s);
        changed = true;
      }
      if (!s.parsed.ok) { report.skipped[s.parsed.reason]++; continue; }
      const { trace, ...oops } = s.parsed.oops;
      report.records.push({
        ...oops, trace: trace.slice(0, 8), path: file.path, hash,
        time: new Date(file.mtimeMs).toISOString(), timeSeconds: Math.floor(file.mtimeMs / 1000),
        culprit: s.lastWord?.culprit ?? UNKNOWN_CULPRIT, ...(s.lastWord ? { lastWord: s.lastWord } : {}), summary: s.summary!,
      });
    }
    report.records.sort((a, b) => b.timeSeconds - a.timeSeconds);
    report.records = report.records.filter((r, i) => {
      const same = report.records.slice(0, i).some((k) => sameCrash(k, r));
      if (same) report.skipped.duplicate++;
      return !same;
    });
    if (changed) this.save();
    this.report = report;
    return report;
  }

  private save(): void {
    if (!this.seenFile || this.o.readOnly) return;
    const entries = [...this.seen].slice(-SEEN_MAX);
    try {
      const tmp = `${this.seenFile}.tmp`;
      const fd = openSync(tmp, 'w', 0o600);
      writeSync(fd, JSON.stringify(Object.fromEntries(entries)));
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, this.seenFile);
      syncDir(join(this.seenFile, '..'));
    } catch { /* a read-only state directory: parsed again next time */ }
  }
}

/** Two records of one crash: the same oops (headline, RIP, task, release, first frames), written within DUPLICATE_SECONDS. */
const DUPLICATE_SECONDS = 120;
function sameCrash(a: CrashRecord, b: CrashRecord): boolean {
  const key = (r: CrashRecord) => JSON.stringify([r.headline, r.rip, r.comm, r.pid, r.release, r.trace.slice(0, 4)]);
  return Math.abs(a.timeSeconds - b.timeSeconds) <= DUPLICATE_SECONDS && key(a) === key(b);
}

/** The latest record of a class, or undefined. */
export const latestOf = (report: CrashReport, cls: Oops['class']): CrashRecord | undefined => report.records.find((r) => r.class === cls);
