#!/usr/bin/env python3
"""For fault injection only: runs the real bpftrace under a real seccomp
filter that kills the process on bpf(2), as systemd's SystemCallFilter= or a
container runtime's seccomp profile does (SECCOMP_RET_KILL_PROCESS: SIGSYS).
Calls that run no program (--info, --version, -l) go to bpftrace unfiltered,
so that the agent sees a usable bpftrace until it starts one.
"""
import ctypes, os, struct, sys

REAL = os.environ.get("FLX_REAL_BPFTRACE", "bpftrace")
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
AUDIT_ARCH_X86_64, NR_BPF = 0xC000003E, 321
LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06
KILL_PROCESS, ALLOW = 0x80000000, 0x7FFF0000

args = sys.argv[1:]
if not any(a in ("--info", "--version", "-l", "-V") for a in args):
    program = [
        (LD_W_ABS, 0, 0, 4),                  # seccomp_data.arch
        (JEQ_K, 0, 3, AUDIT_ARCH_X86_64),     # another arch: allow
        (LD_W_ABS, 0, 0, 0),                  # seccomp_data.nr
        (JEQ_K, 0, 1, NR_BPF),
        (RET_K, 0, 0, KILL_PROCESS),
        (RET_K, 0, 0, ALLOW),
    ]
    filters = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *f) for f in program))
    fprog = struct.pack("HxxxxxxQ", len(program), ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_char_p(fprog), 0, 0) != 0:
        sys.exit(f"seccomp_bpftrace: prctl failed: {os.strerror(ctypes.get_errno())}")
os.execvp(REAL, [REAL] + args)
