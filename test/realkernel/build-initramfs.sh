#!/usr/bin/env bash
# Builds the initramfs of the real-kernel test guest from this host's own
# binaries: busybox, bpftrace, node with the built agent, python3 for traffic,
# ip, tc, ethtool, setpriv, the tc program pull_all.bpf.c and the XDP program
# xdp_pass.bpf.c (built here with clang), plus veth, tun, sch_ingress,
# cls_bpf, sch_netem and the virtio NIC from the guest kernel package.
#   build-initramfs.sh OUT.cpio KERNEL_ROOT REPO
# KERNEL_ROOT is a `dpkg-deb -x` of a linux-image package; REPO has dist/ built.
#   FLX_MODULE_HEADERS=DIR   that kernel's headers and kbuild: the test module
#                            overrun_skb.ko is built against them
#   FLX_BPFTRACE_ROOT=DIR    a root filesystem with another bpftrace (Debian trixie's):
#                            it goes to /opt/bpftrace-other with its own libraries and
#                            loader, and /opt/bpftrace-other/launch.sh runs it in a PID
#                            namespace of its own (as in a pod without hostPID)
set -euo pipefail
out=$1 kroot=${2%/} repo=${3%/}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,app,lib/modules,usr/bin,usr/sbin,var}
ln -s ../run "$root/var/run"
cp /bin/busybox "$root/bin/busybox"
for app in $(/bin/busybox --list); do [ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"; done

copy_with_libs() {
  local bin=$1 dest=${2:-$1}
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$bin" "$root$dest"
  ldd "$bin" | awk '/=>/ {print $3} /^\s*\/lib/ {print $1}' | while read -r lib; do
    if [ -n "$lib" ] && [ ! -e "$root$lib" ]; then mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; fi
  done
}
copy_with_libs "$(command -v bpftrace)" /usr/bin/bpftrace
copy_with_libs "$(readlink -f "$(command -v node)")" /usr/bin/node
copy_with_libs /usr/bin/python3.11 /usr/bin/python3
copy_with_libs /usr/sbin/ip /usr/sbin/ip
copy_with_libs /usr/sbin/ethtool /usr/sbin/ethtool
copy_with_libs /usr/sbin/tc /usr/sbin/tc
copy_with_libs /usr/bin/setpriv /usr/bin/setpriv
copy_with_libs /usr/bin/unshare /usr/bin/unshare
mkdir -p "$root/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
# bpftrace's clang needs its builtin headers
if [ -d /usr/lib/llvm-14/lib/clang ]; then mkdir -p "$root/usr/lib/llvm-14/lib"; cp -a /usr/lib/llvm-14/lib/clang "$root/usr/lib/llvm-14/lib/"; fi
tar -C / --exclude='python3.11/test' --exclude='python3.11/idlelib' --exclude='python3.11/tkinter' --exclude='python3.11/ensurepip' \
  --exclude='python3.11/lib2to3' --exclude='python3.11/config-*' --exclude='__pycache__' --exclude='python3.11/site-packages' --exclude='python3.11/dist-packages' \
  -cf - usr/lib/python3.11 | tar -C "$root" -xf -

# modules live in lib/ or usr/lib/ (trixie), plain or xz-compressed; busybox insmod wants them plain
# (and the virtio NIC's chain, for a Prometheus on the host to scrape the agent through user networking;
# ramoops and the virtio disk, for crash records and the agent's state over a reboot)
find "$kroot" -path '*/modules/*' \( -name 'veth.ko*' -o -name 'tun.ko*' -o -name 'sch_ingress.ko*' -o -name 'cls_bpf.ko*' -o -name 'sch_netem.ko*' \
  -o -name 'virtio.ko*' -o -name 'virtio_ring.ko*' -o -name 'virtio_pci*.ko*' -o -name 'failover.ko*' -o -name 'net_failover.ko*' -o -name 'virtio_net.ko*' \
  -o -name 'virtio_blk.ko*' -o -name 'reed_solomon.ko*' -o -name 'ramoops.ko*' \) | while read -r ko; do
  # ramoops is loaded apart, with its memory region (guest-init.sh): loaded without one it takes no device
  dest=$root/lib/modules; case "$ko" in */ramoops.ko*) dest=$root/lib/modules/pstore; mkdir -p "$dest" ;; esac
  case "$ko" in
    *.xz) xz -dc "$ko" > "$dest/$(basename "$ko" .xz)" ;;
    *.zst) zstd -qdc "$ko" > "$dest/$(basename "$ko" .zst)" ;;
    *) cp "$ko" "$dest/" ;;
  esac
done

# the agent: built code, probes, production dependencies only
cp -a "$repo/dist" "$repo/probes" "$repo/package.json" "$root/app/"
(cd "$repo" && npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2) | while read -r dir; do
  rel=${dir#"$repo"/}
  if [ ! -e "$root/app/$rel" ]; then mkdir -p "$root/app/$(dirname "$rel")"; cp -a "$dir" "$root/app/$rel"; fi
done
mkdir -p "$root/app/test/helpers" "$root/app/test/realkernel"
cp "$repo/test/helpers/tap_inject.py" "$root/app/test/helpers/"
cp "$repo/test/realkernel/guest-scenario.sh" "$repo/test/realkernel/traffic.py" "$repo/test/realkernel/guest_bench.py" "$root/app/test/realkernel/"
for prog in pull_all xdp_pass; do
  clang -O2 -g -target bpf -I/usr/include/"$(gcc -dumpmachine)" -c "$repo/test/realkernel/$prog.bpf.c" -o "$root/app/test/realkernel/$prog.bpf.o"
done
if [ -n "${FLX_MODULE_HEADERS:-}" ]; then
  mod=$(mktemp -d)
  cp "$repo"/test/realkernel/overrun_skb/{Kbuild,overrun_skb.c} "$mod/"
  make -s -C "$FLX_MODULE_HEADERS" M="$mod" modules >/dev/null
  cp "$mod/overrun_skb.ko" "$root/app/test/realkernel/"
  rm -rf "$mod"
fi
if [ -n "${FLX_BPFTRACE_ROOT:-}" ]; then
  other=$root/opt/bpftrace-other
  mkdir -p "$other/lib"
  cp -L "$FLX_BPFTRACE_ROOT/usr/bin/bpftrace" "$other/"
  chroot "$FLX_BPFTRACE_ROOT" ldd /usr/bin/bpftrace | awk '/=>/ {print $3}' | while read -r lib; do cp -L "$FLX_BPFTRACE_ROOT$lib" "$other/lib/"; done
  cp -L "$FLX_BPFTRACE_ROOT/lib64/ld-linux-x86-64.so.2" "$other/"
  # its own loader and libraries: the guest's are this host's (another glibc)
  printf '%s\n' '#!/bin/sh' \
    'exec /usr/bin/unshare --pid --fork --kill-child=SIGTERM /opt/bpftrace-other/ld-linux-x86-64.so.2 --library-path /opt/bpftrace-other/lib /opt/bpftrace-other/bpftrace "$@"' \
    > "$other/launch.sh"
  chmod +x "$other/launch.sh"
fi
cp "$repo/test/realkernel/guest-init.sh" "$root/init"
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet) > "$out"
