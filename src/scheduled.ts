// A scheduled task (node-cron) whose failure is one JSON log line: node-cron
// would print it with console, as plain text inside the pino stream.
//
// node-cron 3, not 4: 4 works out every run through Intl.DateTimeFormat, and
// the first one loads ICU's locale data into the agent: 8 MB of its 66 MB RSS.
// 3 reads the local clock (Intl only for a timezone, which the agent never
// sets) and checks once a second. A check that comes late can step over a
// second, and the run due in it would be lost: so node-cron recovers missed
// runs, and onTime drops those that are late by more than a step.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

/** a late check steps over one second; a longer delay is a stall (a suspended host, a stopped process) */
export const LATE_MS = 2_500;

/**
 * `fn` for the runs due within LATE_MS: after a stall node-cron would run
 * every match it missed, all at once (an hour's stall: twelve summaries and
 * six re-checks); cron skips them, and so does the agent.
 */
export function onTime(fn: () => Promise<void>, nowMs: () => number = Date.now): (due: Date | 'manual' | 'init') => Promise<void> {
  return async (due) => {
    if (due instanceof Date && nowMs() - due.getTime() > LATE_MS) return;
    await fn();
  };
}

/** `fn`, never throwing or rejecting: a failure is logged and the schedule goes on. */
export function guarded(log: Logger, name: string, fn: () => void | Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (err) {
      log.error({ task: name, error: { type: (err as Error)?.name, message: (err as Error)?.message ?? String(err) } }, 'scheduled task failed');
    }
  };
}

export function schedule(log: Logger, expression: string, name: string, fn: () => void | Promise<void>): ScheduledTask {
  return cron.schedule(expression, onTime(guarded(log, name, fn)), { recoverMissedExecutions: true });
}
