#!/usr/bin/env python3
"""Traffic for the real-kernel test guest (test-only).

  tcp-sink ADDR PORT            accept one connection, read to EOF
  tcp-send ADDR PORT BYTES      connect and send BYTES
  udp-sink ADDR PORT SECONDS    count datagrams and bytes for SECONDS, print them
  udp-gso-send ADDR PORT SENDS SEGS SEGSIZE
                                SENDS sends of SEGS*SEGSIZE bytes with UDP_SEGMENT=SEGSIZE
"""
import socket, sys, time

UDP_SEGMENT = 103


def main(cmd, addr, port, *rest):
    port = int(port)
    if cmd == "tcp-sink":
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port)); s.listen(1)
        c, _ = s.accept()
        while c.recv(1 << 16):
            pass
    elif cmd == "tcp-send":
        total = int(rest[0])
        c = socket.create_connection((addr, port))
        chunk = b"x" * 65536
        while total > 0:
            c.sendall(chunk[:total]); total -= len(chunk)
        c.close()
    elif cmd == "udp-sink":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, port)); s.settimeout(0.2)
        end, n, size = time.time() + float(rest[0]), 0, 0
        while time.time() < end:
            try:
                size += len(s.recv(1 << 16)); n += 1
            except socket.timeout:
                pass
        print(f"datagrams={n} bytes={size}")
    elif cmd == "udp-gso-send":
        sends, segs, seg = map(int, rest)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, seg)
        payload = b"u" * (segs * seg)
        for _ in range(sends):
            s.sendto(payload, (addr, port))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(*sys.argv[1:])
