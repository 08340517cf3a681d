// A scheduled task (node-cron) whose failure is one JSON log line: node-cron
// would print it with console, as plain text inside the pino stream.
//
// node-cron 3, not 4: 4 works out every run through Intl.DateTimeFormat, and
// the first one loads ICU's locale data into the agent: 8 MB of its 66 MB RSS.
// 3 reads the local clock (Intl only for a timezone, which the agent never
// sets) and checks once a second; a check that comes late can step over a
// second, so missed runs are recovered, else a run could be lost now and then.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

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
  return cron.schedule(expression, guarded(log, name, fn), { recoverMissedExecutions: true });
}
