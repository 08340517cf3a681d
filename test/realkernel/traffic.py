#!/usr/bin/env python3
"""Traffic for the real-kernel test guest (test-only).

  tcp-sink ADDR PORT            accept one connection, read to EOF
  (each sink creates /tmp/sink-PORT.ready once bound: on a slow guest python
  takes more than a second to start, and a sender must not race it)
  tcp-send ADDR PORT BYTES      connect and send BYTES
  udp-sink ADDR PORT SECONDS    count datagrams and bytes for SECONDS, print them
  udp-gso-send ADDR PORT SENDS SEGS SEGSIZE
                                SENDS sends of SEGS*SEGSIZE bytes with UDP_SEGMENT=SEGSIZE
  webhook ADDR PORT             an Alertmanager webhook receiver: prints each alert it
                                gets as a line "FLX-WEBHOOK <json>" (to the console, where
                                it lands in order with the kernel's own messages)
"""
import json, socket, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

UDP_SEGMENT = 103


def ready(port):
    open(f"/tmp/sink-{port}.ready", "w").close()


def main(cmd, addr, port, *rest):
    port = int(port)
    if cmd == "tcp-sink":
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port)); s.listen(1)
        ready(port)
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
        ready(port)
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
    elif cmd == "webhook":
        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                for alert in body.get("alerts", []):
                    line = json.dumps({k: alert.get(k) for k in ("status", "labels", "annotations")}, separators=(",", ":"))
                    print(f"FLX-WEBHOOK {line}", flush=True)
                self.send_response(200); self.end_headers()

            def log_message(self, *args):
                pass
        HTTPServer((addr, port), Receiver).serve_forever()
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(*sys.argv[1:])
