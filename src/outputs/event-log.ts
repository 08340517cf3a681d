// How serve logs a sampled event: at the level of its danger (src/state/danger.ts),
// so a log alert on "error" means what a page means. Pure.
import type { Judge } from '../state/danger.js';
import type { DecodedEvent } from '../state/decoded-event.js';

export interface EventLogLine { level: 'error' | 'warn' | 'debug'; msg: string }

/** `danger`: this host's judge (danger.ts) */
export function eventLogLine(e: DecodedEvent, danger: Judge): EventLogLine {
  const d = danger(e);
  const what = `sampled ${e.kind.toUpperCase()} at ${e.hook}`;
  if (d.level === 'none') return { level: 'debug', msg: what };
  const culprit = e.culprit === 'unseen' ? '' : `; culprit ${e.culprit}`;
  return { level: d.level === 'critical' ? 'error' : 'warn', msg: `${what}${culprit}: ${d.why}` };
}
