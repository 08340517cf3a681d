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
  /** it exited on its own (all its output read); a restart follows after `restartInMs` unless restarts are off */
  exited(info: { code?: number; signal?: string; ranMs: number; restartInMs?: number }): void;
}

export interface SupervisorOptions {
  bpftracePath: string;
  args: string[];
  /** added to bpftrace's environment (BPFTRACE_BTF where bpftrace finds no kernel BTF by itself) */
  env?: Record<string, string>;
  /** wrap in `setpriv --pdeathsig KILL` so a kill -9 of the agent takes bpftrace with it */
  pdeathsig: boolean;
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  /** SIGINT, then SIGTERM, then SIGKILL, this far apart */
  stopStepMs?: number;
  /** restart bpftrace when it exits (serve); watch reports and ends instead */
  restart?: boolean;
}

export class Supervisor {
  private child?: ResultPromise;
  /** resolves once the current child's stdout has been read to the end */
  private drained: Promise<void> = Promise.resolve();
  /** the current child is being stopped on purpose: its exit is no failure */
  private stopping = false;
  /** stop() was called: nothing starts again */
  private ended = false;
  private delayMs: number;
  private timer?: NodeJS.Timeout;
  private readonly backoff;
  private readonly stopStepMs: number;
  private args: string[];

  constructor(private readonly opts: SupervisorOptions, private readonly hooks: SupervisorHooks) {
    this.backoff = opts.backoff ?? { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };
    this.stopStepMs = opts.stopStepMs ?? 1500;
    this.delayMs = this.backoff.initialMs;
    this.args = opts.args;
  }

  get pid(): number | undefined { return this.child?.pid; }

  start(): void {
    if (this.ended) return;
    const [file, args] = this.opts.pdeathsig
      ? ['setpriv', ['--pdeathsig', 'KILL', '--', this.opts.bpftracePath, ...this.args]]
      : [this.opts.bpftracePath, this.args];
    const startedAt = Date.now();
    const child = execa(file, args, { buffer: false, reject: false, stdin: 'ignore', cleanup: true, env: this.opts.env });
    this.child = child;
    if (child.pid !== undefined) this.hooks.started(child.pid);
    const out = createInterface({ input: child.stdout! }).on('line', (l) => this.hooks.stdoutLine(l));
    const err = createInterface({ input: child.stderr! }).on('line', (l) => this.hooks.stderrLine(l));
    const closed = (rl: typeof out) => new Promise<void>((r) => rl.once('close', r));
    this.drained = Promise.all([closed(out), closed(err)]).then(() => undefined);
    void Promise.all([child, this.drained]).then(([result]) => {
      if (this.child !== child) return; // a newer run has replaced it
      this.child = undefined;
      if (this.stopping) return;
      const ranMs = Date.now() - startedAt;
      if (this.opts.restart === false) {
        this.hooks.exited({ code: result.exitCode, signal: result.signal, ranMs });
        return;
      }
      if (ranMs >= this.backoff.resetAfterMs) this.delayMs = this.backoff.initialMs;
      const restartInMs = this.delayMs;
      this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
      this.hooks.exited({ code: result.exitCode, signal: result.signal, ranMs, restartInMs });
      this.timer = setTimeout(() => this.start(), restartInMs);
    });
  }

  /** SIGKILL for a bpftrace that stopped answering; it is restarted as after any exit. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Stops bpftrace and starts it at once with other arguments (not a restart after a failure). */
  async restartWith(args: string[]): Promise<void> {
    await this.halt();
    if (this.ended) return;
    this.args = args;
    this.stopping = false;
    this.start();
  }

  /** Stops bpftrace for good; resolves once it is gone and all it printed has been read. */
  async stop(): Promise<void> {
    this.ended = true;
    await this.halt();
  }

  private async halt(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null) return this.drained;
    const gone = child.then(() => true);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      child.kill(signal);
      if (await Promise.race([gone, sleep(this.stopStepMs).then(() => false)])) break;
    }
    await gone;
    await this.drained;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
