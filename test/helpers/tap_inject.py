#!/usr/bin/env python3
"""Write GSO frames into a TAP device opened with IFF_VNET_HDR.

Each write is a virtio_net_hdr followed by an Ethernet/IP/TCP frame addressed
to the tap itself. The kernel receives it as a real skb whose GSO fields come
from the header: with a payload that fits one page this is the seed's
INCONSISTENT signature (linear, frag_list NULL, gso_size > 0). Test-only.

usage: tap_inject.py DEV SRC DST COUNT [--payload N] [--gso-size N] [--sport N] [--dport N] [--comm HEX]
                     [--rate PER_S]
(--gso-size 0 writes plain, non-GSO frames; --comm names this process with the
bytes given in hex, up to 15, any byte but NUL: the hostile-name tests;
--rate paces the writes and stops early, cleanly, at SIGTERM; the number
written is printed at the end: the storms of the soak benchmark)
"""
import argparse, ctypes, fcntl, ipaddress, os, signal, struct, time

TUNSETIFF = 0x400454CA
PR_SET_NAME = 15
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6 = 1, 4


def ip_checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(dev_mac, src, dst, payload, sport, dport):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 65535, 0, 0)
    body = tcp + b"\xab" * payload
    if src.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0x4000, 64, 6, 0,
                         src.packed, dst.packed)
        # a valid header checksum, so that the skb also survives ip_rcv (forwarding tests)
        ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
        ethertype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(body), 6, 64, src.packed, dst.packed)
        ethertype = 0x86DD
    eth = dev_mac + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", ethertype)
    return eth + ip + body, len(eth) + len(ip)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dev"); ap.add_argument("src"); ap.add_argument("dst")
    ap.add_argument("count", type=int)
    ap.add_argument("--payload", type=int, default=3000)
    ap.add_argument("--gso-size", type=int, default=1348)
    ap.add_argument("--sport", type=int, default=40000)
    ap.add_argument("--dport", type=int, default=5201)
    ap.add_argument("--comm", default="")
    ap.add_argument("--rate", type=int, default=0)
    a = ap.parse_args()
    if a.comm:
        name = bytes.fromhex(a.comm)
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")
    src, dst = ipaddress.ip_address(a.src), ipaddress.ip_address(a.dst)
    with open(f"/sys/class/net/{a.dev}/address") as f:
        dev_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.dev.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    pkt, l4_start = frame(dev_mac, src, dst, a.payload, a.sport, a.dport)
    gso_type = VIRTIO_NET_HDR_GSO_TCPV4 if src.version == 4 else VIRTIO_NET_HDR_GSO_TCPV6
    if a.gso_size == 0:
        gso_type = 0  # VIRTIO_NET_HDR_GSO_NONE: a plain frame
    # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset (little endian)
    vnet = struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, gso_type, l4_start + 20,
                       a.gso_size, l4_start, 16)
    if not a.rate:
        for _ in range(a.count):
            os.write(fd, vnet + pkt)
        os.close(fd)
        return
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    written, t0 = 0, time.monotonic()
    while written < a.count and not stop:
        due = int((time.monotonic() - t0) * a.rate) + 1
        while written < min(due, a.count):
            os.write(fd, vnet + pkt)
            written += 1
        time.sleep(0.005)
    os.close(fd)
    print(written, flush=True)


if __name__ == "__main__":
    main()
