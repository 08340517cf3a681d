// Why bpftrace did not attach, in one phrase for the refusal line: its own
// error where it printed one, else how it ended. A seccomp filter that kills
// it (systemd's SystemCallFilter=, a container runtime's profile) leaves no
// message at all, only SIGSYS: named here, with where such filters come from.
// Pure.

export interface EndBeforeAttach {
  code?: number;
  signal?: string;
  /** the agent gave up waiting for it to attach, and killed it */
  timedOutMs?: number;
}

export function refusalReason(stderrTail: readonly string[], end: EndBeforeAttach | undefined): string {
  if (end?.signal === 'SIGSYS') {
    return 'bpftrace was killed by SIGSYS: a seccomp filter forbids a system call it needs (bpf, perf_event_open); '
      + 'allow them (systemd: SystemCallFilter=, containers: the seccomp profile) or run without the filter';
  }
  if (end?.timedOutMs !== undefined) return `bpftrace did not attach within ${end.timedOutMs / 1000} s`;
  const error = stderrTail.filter((l) => /ERROR|rror/.test(l)).at(-1) ?? stderrTail.at(-1);
  if (error) return error;
  if (end?.signal) return `bpftrace was killed by ${end.signal} before attaching`;
  return `bpftrace exited${end?.code !== undefined ? ` with code ${end.code}` : ''} before attaching`;
}
