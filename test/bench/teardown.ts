// The benches' one way out: Ctrl-C and the end of a run share one teardown,
// which runs once, whoever asks first; the process leaves only when it is
// done. (Two teardowns at once let the process exit while the first was still
// deleting a namespace: a Ctrl-C during the storm left one behind.)
export interface Teardown {
  /** stops what runs and removes what was made; the same promise for every caller */
  run(): Promise<void>;
  /** Ctrl-C was pressed: errors of the run it cut short are its echoes, not failures */
  readonly interrupted: boolean;
}

export function teardownOnce(stop: () => Promise<void>): Teardown {
  let done: Promise<void> | undefined;
  const t = {
    interrupted: false,
    run: () => (done ??= stop()),
  };
  process.on('SIGINT', () => {
    t.interrupted = true;
    void t.run().then(() => process.exit(130));
  });
  return t;
}
