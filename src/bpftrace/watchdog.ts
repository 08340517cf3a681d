// A bpftrace that stops reporting (stopped, wedged, printing only garbage)
// leaves every counter frozen while it still looks alive. The programs print a
// heartbeat map every print interval; the watchdog calls a tracer stalled when
// none arrived for three intervals and two seconds (10 s at least), and has it
// killed, so that the supervisor restarts it. A kill costs a restart's
// blindness, so silence that is not bpftrace's is not called a stall: the 10 s
// floor covers a host busy at boot (seen: a first heartbeat 5 s late on a
// Debian guest starting its services), and a check that runs late because the
// agent itself was blocked is skipped, since the heartbeats may be sitting
// unread in the pipe.

export interface Reporting {
  /** attached probes, in this run */
  readonly up: boolean;
  /** last attach or heartbeat, ms */
  readonly lastReportMs: number;
  /** when bpftrace announced its probes, while it is still attaching them (0: not attaching) */
  readonly attachingSinceMs: number;
}

/** Attaching a kernel-function program takes seconds here and tens of seconds under emulation; a run stuck longer is a stall. */
export const ATTACH_TIMEOUT_MS = 180_000;

export const staleAfterMs = (printIntervalSeconds: number): number => Math.max(3 * printIntervalSeconds * 1000 + 2000, 10_000);

export class Watchdog {
  private timer?: NodeJS.Timeout;
  /** the lastReportMs already acted on, so one stall kills once */
  private actedOn = -1;
  private lastTickMs?: number;

  constructor(
    private readonly tracer: Reporting,
    readonly staleAfterMs: number,
    private readonly onStall: (silentForMs: number) => void,
    private readonly now: () => number = Date.now,
    private readonly attachTimeoutMs = ATTACH_TIMEOUT_MS,
  ) {}

  /** attached and reporting on time: what tracer_up and /readyz say */
  healthy(): boolean {
    return this.tracer.up && this.now() - this.tracer.lastReportMs <= this.staleAfterMs;
  }

  /** One look; returns true when it called a stall. */
  check(): boolean {
    const t = this.tracer;
    if (!t.up) {
      // announced its probes, never reported: hung while attaching
      if (!t.attachingSinceMs || this.now() - t.attachingSinceMs <= this.attachTimeoutMs || this.actedOn === -t.attachingSinceMs) return false;
      this.actedOn = -t.attachingSinceMs;
      this.onStall(this.now() - t.attachingSinceMs);
      return true;
    }
    if (this.healthy() || this.actedOn === t.lastReportMs) return false;
    this.actedOn = t.lastReportMs;
    this.onStall(this.now() - t.lastReportMs);
    return true;
  }

  /** One timer tick: a check, unless the tick itself came a second late (then read what waits first, look next time). */
  tick(everyMs: number): boolean {
    const now = this.now(), late = this.lastTickMs !== undefined && now - this.lastTickMs - everyMs >= 1000;
    this.lastTickMs = now;
    return late ? false : this.check();
  }

  start(everyMs = 1000): void {
    this.lastTickMs = this.now();
    this.timer = setInterval(() => this.tick(everyMs), everyMs);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }
}
