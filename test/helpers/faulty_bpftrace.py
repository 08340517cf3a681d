#!/usr/bin/env python3
"""A stand-in for fault injection only: wraps the real bpftrace and misbehaves
as the file named by FLX_FAULT_FILE says, read at each start of a program:

  none      the real bpftrace (exec'd: same pid, same output)
  exit      exits 1 at once, as a bpftrace that cannot start
  garbage   says its probes are attached, one heartbeat, then only garbage, forever
  flood     the real bpftrace, with junk lines (FLX_FLOOD_PER_S a second) mixed
            into its output: non-JSON, unknown records, maps with bad values,
            forged sampled events

Calls that run no program (--info, --version, -l) go to the real bpftrace.
The real bpftrace it starts dies with it (PR_SET_PDEATHSIG).
"""
import ctypes, os, random, signal, subprocess, sys, threading, time

REAL = os.environ.get("FLX_REAL_BPFTRACE", "bpftrace")
PR_SET_PDEATHSIG = 1
JUNK = [
    "Attaching 8 probes...",
    '{"type": "map", "data": {"@inconsistent": {"tracepoint:net:made_up,255": 5}}}',
    '{"type": "map", "data": {"@seen": {"tracepoint:net:netif_receive_skb_entry,1": -3}}}',
    '{"type": "map", "data": {"@seen": {"tracepoint:net:netif_receive_skb_entry,9": 4}}}',
    '{"type": "printf", "data": "FLE4 kind=1 crit=1 hook=x comm=evil"}',
    '{"type": "nonsense", "data": 1}',
    '{"type": "map", "data": {"@x": {"a": 1',
    "\x00\x01\x02 binary",
]


def fault():
    try:
        with open(os.environ["FLX_FAULT_FILE"]) as f:
            return f.read().strip() or "none"
    except (KeyError, OSError):
        return "none"


def real_child(args):
    def die_with_parent():
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    child = subprocess.Popen([REAL] + args, stdout=subprocess.PIPE, preexec_fn=die_with_parent)
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda n, _f: child.send_signal(n))
    return child


def main():
    args = sys.argv[1:]
    if "-f" not in args:
        os.execvp(REAL, [REAL] + args)
    what = fault()
    if what == "none":
        os.execvp(REAL, [REAL] + args)
    if what == "exit":
        sys.stderr.write("ERROR: faulty_bpftrace: exiting at once (fault injection)\n")
        sys.exit(1)
    out = sys.stdout
    lock = threading.Lock()
    if what == "garbage":
        print('{"type": "attached_probes", "data": {"probes": 8}}', flush=True)
        print('{"type": "map", "data": {"@ticks": 1}}', flush=True)  # attached and reporting, once
        while True:
            out.write(random.choice(JUNK) + "\n")
            out.flush()
            time.sleep(0.01)
    if what == "flood":
        per_s = int(os.environ.get("FLX_FLOOD_PER_S", "20000"))
        child = real_child(args)

        def junk():
            while child.poll() is None:
                t0 = time.monotonic()
                with lock:
                    out.write("\n".join(random.choice(JUNK) for _ in range(per_s // 10)) + "\n")
                    out.flush()
                time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))

        threading.Thread(target=junk, daemon=True).start()
        for line in child.stdout:
            with lock:
                out.write(line.decode("utf-8", "replace"))
                out.flush()
        sys.exit(child.wait())
    sys.stderr.write(f"faulty_bpftrace: unknown fault {what!r}\n")
    sys.exit(2)


if __name__ == "__main__":
    main()
