// Whether the running bpftrace has its probes attached, and when it last
// proved that it reports. bpftrace announces "attached_probes" when it *starts*
// attaching (seen on a slow guest: ready with 1 of 16 programs loaded); its
// heartbeat map reaches us only from its event loop, after every probe is
// attached. So a run is up from its first heartbeat after the announcement.
// Read by the watchdog, /readyz and tracer_up.
export class AttachStatus {
  up = false;
  /** probes bpftrace announced for this run */
  attachedProbes = 0;
  /** ms; 0 before the first attach */
  lastReportMs = 0;
  /** ms; while announced and not yet up (0 otherwise): the watchdog's attach deadline */
  attachingSinceMs = 0;

  /** bpftrace said how many probes it is attaching */
  announced(probes: number, nowMs: number): void {
    this.attachedProbes = probes;
    this.attachingSinceMs = nowMs;
  }

  /** A heartbeat; true when it is the one that completes the attach. */
  heartbeat(nowMs: number): boolean {
    this.lastReportMs = nowMs;
    if (this.up || this.attachedProbes === 0) return false;
    this.up = true;
    this.attachingSinceMs = 0;
    return true;
  }

  /** a run started or ended: nothing attached until it says so */
  detached(): void {
    this.up = false;
    this.attachedProbes = 0;
    this.attachingSinceMs = 0;
  }
}
