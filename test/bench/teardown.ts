// The benches' one way out: Ctrl-C and the end of a run share one teardown,
// which runs once, whoever asks first; the process leaves only when it is
// done. (Two teardowns at once let the process exit while the first was still
// deleting a namespace: a Ctrl-C during the storm left one behind.)
// It owns every process a step starts: the teardown stops them all, newest
// first, and once it has begun a step that would start another is refused,
// and what it had just started is stopped, so that nothing outlives the run.
import type { ResultPromise } from 'execa';

export interface Teardown {
  /** stops what runs and removes what was made; the same promise for every caller */
  run(): Promise<void>;
  /** Ctrl-C was pressed: errors of the run it cut short are its echoes, not failures */
  readonly interrupted: boolean;
  /** Hands a started process to the teardown; after the teardown has begun, stops it and throws. */
  own<P extends ResultPromise>(p: P, signal?: NodeJS.Signals): P;
  /** Throws once the teardown has begun: a step checks before it starts anything. */
  check(step: string): void;
}

export class TeardownBegun extends Error {}

export function teardownOnce(removeMade: () => Promise<void>): Teardown {
  let done: Promise<void> | undefined;
  const owned: Array<{ p: ResultPromise; signal: NodeJS.Signals }> = [];
  const stop = async ({ p, signal }: { p: ResultPromise; signal: NodeJS.Signals }) => { if (p.exitCode === null) p.kill(signal); await p.catch(() => undefined); };
  const t: Teardown = {
    interrupted: false,
    run: () => (done ??= (async () => {
      for (const o of owned.reverse()) await stop(o);
      await removeMade();
    })()),
    own(p, signal = 'SIGTERM') {
      if (done) {
        void stop({ p, signal });
        throw new TeardownBegun('stopping: a step started a process after the teardown began; stopped it');
      }
      owned.push({ p, signal });
      return p;
    },
    check(step) {
      if (done) throw new TeardownBegun(`stopping: ${step} was not started`);
    },
  };
  process.on('SIGINT', () => {
    (t as { interrupted: boolean }).interrupted = true;
    void t.run().then(() => process.exit(130));
  });
  return t;
}
