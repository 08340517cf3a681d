// Whether the running bpftrace has its probes attached, and when it last
// proved that it reports (attach, then its heartbeat every print interval).
// Read by the watchdog, /readyz and tracer_up.
export class AttachStatus {
  up = false;
  attachedProbes = 0;
  /** ms; 0 before the first attach */
  lastReportMs = 0;

  attached(probes: number, nowMs: number): void {
    this.up = true;
    this.attachedProbes = probes;
    this.lastReportMs = nowMs;
  }

  heartbeat(nowMs: number): void { this.lastReportMs = nowMs; }

  /** a run started or ended: nothing attached until it says so */
  detached(): void {
    this.up = false;
    this.attachedProbes = 0;
  }
}
