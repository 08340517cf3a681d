// serve's side of crash reporting, at the edge: the state directory, this
// run's start, the last words of critical events, and the crash records read
// on start and on each host re-check (new ones logged once).
import { mkdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { UsageError } from '../config.js';
import type { CrashView } from '../outputs/crash-metrics.js';
import type { Judge } from '../state/danger.js';
import type { DecodedEvent } from '../state/decoded-event.js';
import { CrashRecords } from './crash-records.js';
import { crashState, flowOf, lastWordsTarget, LastWordsWriter } from './last-words.js';
import { recordRun } from './previous-run.js';

export interface CrashWatch {
  /** undefined with --kernel.crash-dirs="" */
  view?: CrashView;
  /** a sampled event: a critical one becomes a last word */
  heard(e: DecodedEvent, danger: Judge): void;
  refresh(): void;
  close(): void;
}

export function openCrashWatch(config: { crashDirs: string[]; stateDir?: string }, log: Logger): CrashWatch {
  const { stateDir } = config;
  const startMs = Date.now();
  let previousStartMs: number | undefined;
  if (stateDir) {
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      previousStartMs = recordRun(stateDir, startMs);
    } catch (err) {
      throw new UsageError(`--state.dir: cannot write to ${stateDir}: ${(err as Error).message} (--state.dir="" keeps nothing)`);
    }
  }
  const boot = bootId();
  const target = lastWordsTarget(stateDir);
  let writer: LastWordsWriter | undefined;
  if (target.kind !== 'none') {
    try {
      writer = new LastWordsWriter({ kind: target.kind, path: target.path! });
      writer.write({ t: startMs, boot, kind: 'start' });
    } catch (err) {
      log.warn({ path: target.path, error: (err as Error).message }, 'cannot write last words: a crash will be reported without what the agent saw before it');
    }
  }
  const records = config.crashDirs.length ? new CrashRecords(config.crashDirs, stateDir, target.kind === 'file' ? target.path : undefined) : undefined;
  const logged = new Set<string>();
  const refresh = () => {
    if (!records) return;
    const report = records.refresh();
    for (const r of report.records) {
      if (logged.has(r.hash)) continue;
      logged.add(r.hash);
      const fresh = previousStartMs === undefined || r.timeSeconds * 1000 > previousStartMs;
      const fields = { crash_class: r.class, function: r.function, culprit: r.culprit, time: r.time, path: r.path, rip: r.rip, comm: r.comm, release: r.release, new_since_last_run: fresh };
      // a record an earlier run reported is history: info
      const level = !fresh ? 'info' : r.class === 'segmentation' ? 'error' : 'warn';
      log[level](fields, `kernel crash record: ${r.summary}`);
    }
  };
  refresh();
  log.info({ crash_dirs: config.crashDirs, missing: records?.report.missingDirs, last_words: target.kind === 'none' ? 'none' : target.path, state_dir: stateDir ?? null }, 'crash records read');
  return {
    view: records ? { report: () => records.report, previousStartMs } : undefined,
    heard(e, danger) {
      if (!writer || danger(e).level !== 'critical') return;
      writer.write({ t: Date.now(), boot, kind: crashState(e), hook: e.hook, culprit: e.culprit, flow: flowOf(e) });
    },
    refresh,
    close() { writer?.close(); writer = undefined; },
  };
}

/** the kernel's id of this boot: a crash's last words are the ones of the boot it ended */
function bootId(): string {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return /^[0-9a-f-]{1,36}$/.test(id) ? id : '0';
  } catch {
    return '0';
  }
}
