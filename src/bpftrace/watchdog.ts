// A bpftrace that stops reporting (stopped, wedged, printing only garbage)
// leaves every counter frozen while it still looks alive. The programs print a
// heartbeat map every print interval; the watchdog calls a tracer stalled when
// none arrived for three intervals and two seconds, and has it killed, so that
// the supervisor restarts it.

export interface Reporting {
  /** attached probes, in this run */
  readonly up: boolean;
  /** last attach or heartbeat, ms */
  readonly lastReportMs: number;
}

export const staleAfterMs = (printIntervalSeconds: number): number => 3 * printIntervalSeconds * 1000 + 2000;

export class Watchdog {
  private timer?: NodeJS.Timeout;
  /** the lastReportMs already acted on, so one stall kills once */
  private actedOn = -1;

  constructor(
    private readonly tracer: Reporting,
    readonly staleAfterMs: number,
    private readonly onStall: (silentForMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** attached and reporting on time: what tracer_up and /readyz say */
  healthy(): boolean {
    return this.tracer.up && this.now() - this.tracer.lastReportMs <= this.staleAfterMs;
  }

  /** One look; returns true when it called a stall. */
  check(): boolean {
    const t = this.tracer;
    if (!t.up || this.healthy() || this.actedOn === t.lastReportMs) return false;
    this.actedOn = t.lastReportMs;
    this.onStall(this.now() - t.lastReportMs);
    return true;
  }

  start(everyMs = 1000): void {
    this.timer = setInterval(() => this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }
}
