// Runs bpftrace as a child and keeps it running: restarts it with backoff when
// it exits, stops it with an escalation (bpftrace has been seen to ignore
// SIGINT), and makes sure it cannot outlive the agent.
import { execa, type ResultPromise } from 'execa';
import { createInterface } from 'node:readline';

export interface SupervisorHooks {
  /** a new bpftrace process is running */
  started(pid: number): void;
  stdoutLine(line: string): void;
  stderrLine(line: string): void;
  /** it exited on its own; a restart follows after `restartInMs` */
  exited(info: { code?: number; signal?: string; ranMs: number; restartInMs: number }): void;
}

export interface SupervisorOptions {
  bpftracePath: string;
  args: string[];
  /** wrap in `setpriv --pdeathsig KILL` so a kill -9 of the agent takes bpftrace with it */
  pdeathsig: boolean;
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  /** SIGINT, then SIGTERM, then SIGKILL, this far apart */
  stopStepMs?: number;
}

export class Supervisor {
  private child?: ResultPromise;
  private stopping = false;
  private delayMs: number;
  private timer?: NodeJS.Timeout;
  private readonly backoff;
  private readonly stopStepMs: number;

  constructor(private readonly opts: SupervisorOptions, private readonly hooks: SupervisorHooks) {
    this.backoff = opts.backoff ?? { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };
    this.stopStepMs = opts.stopStepMs ?? 1500;
    this.delayMs = this.backoff.initialMs;
  }

  get pid(): number | undefined { return this.child?.pid; }

  start(): void {
    const [file, args] = this.opts.pdeathsig
      ? ['setpriv', ['--pdeathsig', 'KILL', '--', this.opts.bpftracePath, ...this.opts.args]]
      : [this.opts.bpftracePath, this.opts.args];
    const startedAt = Date.now();
    const child = execa(file, args, { buffer: false, reject: false, stdin: 'ignore', cleanup: true });
    this.child = child;
    if (child.pid !== undefined) this.hooks.started(child.pid);
    createInterface({ input: child.stdout! }).on('line', (l) => this.hooks.stdoutLine(l));
    createInterface({ input: child.stderr! }).on('line', (l) => this.hooks.stderrLine(l));
    void child.then((result) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      const ranMs = Date.now() - startedAt;
      if (ranMs >= this.backoff.resetAfterMs) this.delayMs = this.backoff.initialMs;
      const restartInMs = this.delayMs;
      this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
      this.hooks.exited({ code: result.exitCode, signal: result.signal, ranMs, restartInMs });
      this.timer = setTimeout(() => this.start(), restartInMs);
    });
  }

  /** Stops bpftrace and waits for it; resolves once it is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = child.then(() => true);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      child.kill(signal);
      const ended = await Promise.race([gone, sleep(this.stopStepMs).then(() => false)]);
      if (ended) return;
    }
    await gone;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
