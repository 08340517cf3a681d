// When the agent's previous run on this host started, kept in its state
// directory: a crash record newer than that start is one no run has reported
// yet (FragListKernelCrashedInSegmentation fires on it once: a later run
// started after the crash).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_FILE = 'agent-run.json';

/** Reads the previous run's start and records this one's; undefined: no previous run known (or no state directory). */
export function recordRun(stateDir: string | undefined, startMs: number): number | undefined {
  if (!stateDir) return undefined;
  const file = join(stateDir, RUN_FILE);
  let previous: number | undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { startMs?: unknown };
    if (typeof v.startMs === 'number' && Number.isFinite(v.startMs) && v.startMs > 0) previous = v.startMs;
  } catch { /* the first run, or a torn file */ }
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try { writeSync(fd, JSON.stringify({ startMs })); fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, file);
  return previous;
}
