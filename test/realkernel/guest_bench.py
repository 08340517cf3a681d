#!/usr/bin/env python3
"""The kernel-function modes' cost per hooked call, inside the real-kernel
guest (test-only; guest-init.sh runs it when flx_bench=ROUNDS is on the kernel
command line, test/bench/guest-bench.ts reads what it prints).

The workload is the tc pull phase's path without its delay: A sends UDP_SEGMENT
datagrams with UDP segmentation off (skb_segment), R receives them on an
rx-gro-list veth (skb_gro_receive_list; where the kernel cannot hook it, 6.1,
plain UDP GRO forwarding: skb_gro_receive), a tc program pulls all their data
(bpf_skb_pull_data, pskb_expand_head, __pskb_pull_tail) and R forwards them out
a veth without tx-gso-list (software GSO again). B drops them: the address is
not its own.

Rounds interleave no tracer, `serve --mode kprobe` and `serve --mode fentry`,
the order rotating each round. The sender is started before the measured
window (python's own start is not the workload) and sends on a word from
stdin. Each run prints one line:

  FLX-BENCH <tracer> <round> sends=N busy=S agent=S calls=C runs=R run_ns=T

busy: the guest's CPU seconds in the kernel over the sends (/proc/stat:
system, irq, softirq); agent: the agent's own (node and bpftrace) system time
in that window (its user space is not the hooked calls' cost, and under
emulation it is the noisiest part); calls: hooked calls
the agent counted (skbs inspected, every hook); runs, run_ns: its per-event BPF
programs' runs and run time (bpf_stats).
"""
import json, os, re, socket, subprocess, sys, time, urllib.request

IP = "/usr/sbin/ip"
APP = "/app"
PORT = 10045
URL = f"http://127.0.0.1:{PORT}"
SEGS, SEG = 60, 1000
UDP_SEGMENT = 103


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def network():
    for ns in ("pa", "pr", "pb"):
        sh(IP, "netns", "add", ns)
    sh(IP, "link", "add", "pa0", "netns", "pa", "type", "veth", "peer", "name", "pr0", "netns", "pr")
    sh(IP, "link", "add", "pr1", "netns", "pr", "type", "veth", "peer", "name", "pb0", "netns", "pb")
    for ns, dev, addr in (("pa", "pa0", "198.18.14.1/24"), ("pr", "pr0", "198.18.14.2/24"),
                          ("pr", "pr1", "198.18.15.1/24"), ("pb", "pb0", "198.18.15.2/24")):
        sh(IP, "-n", ns, "addr", "add", addr, "dev", dev)
        sh(IP, "-n", ns, "link", "set", dev, "up")
    sh(IP, "-n", "pa", "route", "add", "198.18.15.0/24", "via", "198.18.14.2")
    sh(IP, "netns", "exec", "pr", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
    sh(IP, "netns", "exec", "pa", "ethtool", "-K", "pa0", "tso", "off", "tx-udp-segmentation", "off")
    sh(IP, "netns", "exec", "pr", "ethtool", "-K", "pr0", "gro", "off")
    gro = "rx-gro-list" if gro_list_hookable() else "rx-udp-gro-forwarding"
    sh(IP, "netns", "exec", "pr", "ethtool", "-K", "pr0", "gro", "on", gro, "on")
    print(f"FLX-BENCH-PATH GRO on R: {gro}", flush=True)
    subprocess.run([IP, "netns", "exec", "pr", "ethtool", "-K", "pr1", "tx-gso-list", "off"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mac = re.search(r"link/ether (\S+)", subprocess.run([IP, "-n", "pb", "link", "show", "pb0"], capture_output=True, text=True).stdout).group(1)
    # B's MAC with an address B does not have: delivered, then dropped by B's IP layer (no socket, no ICMP)
    sh(IP, "-n", "pr", "neigh", "add", "198.18.15.3", "lladdr", mac, "dev", "pr1", "nud", "permanent")
    sh(IP, "-n", "pr", "link", "set", "dev", "pr0", "xdpdrv", "obj", f"{APP}/test/realkernel/xdp_pass.bpf.o", "sec", "xdp")
    sh(IP, "netns", "exec", "pr", "tc", "qdisc", "add", "dev", "pr0", "clsact")
    sh(IP, "netns", "exec", "pr", "tc", "filter", "add", "dev", "pr0", "ingress", "bpf", "da",
       "obj", f"{APP}/test/realkernel/pull_all.bpf.o", "sec", "tc")


def kernel_busy():
    """the guest's CPU seconds in the kernel (system, irq, softirq): where the hooked calls run"""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (f[2] + f[5] + f[6]) / 100


def kernel_cpu(pid):
    """a process's CPU seconds in the kernel (stime): the agent's own system calls, left out of the workload's"""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return 0.0
    return int(stat[stat.rindex(")") + 2:].split()[12]) / 100


def gro_list_hookable():
    """6.1 cannot hook skb_gro_receive_list (not in available_filter_functions): plain UDP GRO there, whose skb_gro_receive it hooks"""
    try:
        return any(l.split()[0] == "skb_gro_receive_list" for l in open("/sys/kernel/tracing/available_filter_functions"))
    except OSError:
        return False


def bpftrace_pids():
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if open(f"/proc/{p}/comm").read().strip() == "bpftrace":
                    pids.append(int(p))
            except OSError:
                pass
    return pids


def bpf_runs(pid):
    """runs and run time of the tracer's per-event programs: test/bench/measure.ts's bpfRuns, the one reader of them (node's start is outside the measured window)"""
    out = subprocess.run(["node", "--input-type=module", "-e",
                          f"import {{ bpfRuns }} from '{APP}/dist/test/bench/measure.js'; const r = bpfRuns({pid}); console.log(r.runs, r.ns)"],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


def inspected():
    text = urllib.request.urlopen(f"{URL}/metrics", timeout=30).read().decode()
    return sum(float(m.group(1)) for m in re.finditer(r"^frag_list_skbs_inspected_total\{[^}]*\} (\S+)$", text, re.M))


def start_agent(mode):
    # node's flags as the agent's launchers pass them (package.json's config.nodeOptions)
    node_options = json.load(open(f"{APP}/package.json"))["config"]["nodeOptions"].split()
    with open(f"/tmp/bench-agent-{mode}.log", "w") as log:
        agent = subprocess.Popen(["node", *node_options, "dist/src/cli.js", "serve", "--mode", mode, f"--web.listen-address=:{PORT}", "--log.level=warn"],
                                 cwd=APP, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        if agent.poll() is not None:
            break
        try:
            urllib.request.urlopen(f"{URL}/readyz", timeout=5)
            return agent
        except OSError:
            time.sleep(1)
    agent.kill()
    agent.wait()
    print(f"FLX-BENCH-ERROR {mode} not ready: " + open(f"/tmp/bench-agent-{mode}.log").read().replace("\n", " | ")[-600:], flush=True)
    return None


def sender():
    """Started in A's namespace before a run, so that python's start is outside the measured window: sends on a line from stdin."""
    proc = subprocess.Popen([IP, "netns", "exec", "pa", "python3", os.path.abspath(__file__), "send", "198.18.15.3", "6001"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def send(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, SEG)
    payload = b"u" * (SEGS * SEG)
    print("ready", flush=True)
    for line in sys.stdin:
        for _ in range(int(line)):
            s.sendto(payload, (addr, int(port)))
        print("done", flush=True)


def run(tracer, rnd, sends):
    agent = start_agent(tracer) if tracer != "none" else None
    if tracer != "none" and agent is None:
        return
    pids = ([agent.pid] + bpftrace_pids()) if agent else []
    tracer_pid = pids[1] if len(pids) > 1 else None
    src = sender()
    time.sleep(3)  # past the agent's start
    before = inspected() if agent else 0
    runs0 = bpf_runs(tracer_pid) if tracer_pid else (0, 0)
    b0, a0 = kernel_busy(), sum(kernel_cpu(p) for p in pids)
    src.stdin.write(f"{sends}\n"); src.stdin.flush()
    assert src.stdout.readline().strip() == "done"
    time.sleep(0.5)  # softirq work the sender left behind
    b1, a1 = kernel_busy(), sum(kernel_cpu(p) for p in pids)
    runs1 = bpf_runs(tracer_pid) if tracer_pid else (0, 0)
    src.stdin.close(); src.wait()
    calls = 0
    if agent:
        # the kernel's counts reach the agent each print interval: counted when the total holds still for two
        last, still = -1, 0
        while still < 2:
            time.sleep(1.5)
            now = inspected()
            still, last = (still + 1 if now == last else 0), now
        calls = last - before
        agent.terminate()
        agent.wait()
    print(f"FLX-BENCH {tracer} {rnd} sends={sends} busy={b1 - b0:.2f} agent={a1 - a0:.2f} calls={calls:.0f} "
          f"runs={runs1[0] - runs0[0]} run_ns={runs1[1] - runs0[1]}", flush=True)


def main(rounds, sends):
    network()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    tracers = ["none", "kprobe", "fentry"]
    for rnd in range(1, rounds + 1):
        order = tracers[rnd % 3:] + tracers[:rnd % 3]
        for tracer in order:
            run(tracer, rnd, sends)
    for ns in ("pa", "pr", "pb"):
        subprocess.run([IP, "netns", "del", ns])


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(*sys.argv[2:])
    else:
        main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
