#!/usr/bin/env bash
# Installs fraglist-exporter as a systemd service on a Debian/Ubuntu (apt) or
# RHEL-family (dnf/yum) host, from the bundle this script is in
# (scripts/bundle.sh builds it):
#   tar -xzf fraglist-exporter-*-linux-x64.tar.gz && sudo fraglist-exporter/install.sh
# Puts bpftrace in place (scripts/install-deps.sh), the agent in
# /opt/fraglist-exporter, the unit in /etc/systemd/system, the flags in
# /etc/fraglist-exporter/fraglist-exporter.env (kept if it exists), then
# enables and starts the service where systemd runs.
#   install.sh --uninstall [--purge]   removes it again (--purge: the env file too)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/fraglist-exporter
unit=/etc/systemd/system/fraglist-exporter.service
envfile=/etc/fraglist-exporter/fraglist-exporter.env
say() { echo "install.sh: $*" >&2; }
systemd_runs() { [ -d /run/systemd/system ]; }

[ "$(id -u)" = 0 ] || { say "run as root"; exit 1; }
case "${1:-}" in
  --uninstall)
    if systemd_runs; then systemctl disable --now fraglist-exporter.service 2>/dev/null || true; fi
    rm -rf "$unit" "$prefix"
    [ "${2:-}" = --purge ] && rm -rf /etc/fraglist-exporter
    if systemd_runs; then systemctl daemon-reload; fi
    say "removed fraglist-exporter"
    exit 0 ;;
  "") ;;
  *) say "$1: unknown option (none, or --uninstall [--purge])"; exit 2 ;;
esac
[ -x "$here/bin/fraglist-exporter" ] || { say "run the install.sh inside an unpacked bundle (scripts/bundle.sh)"; exit 1; }

bash "$here/scripts/install-deps.sh"

# replace the installed tree in one step: a running agent keeps its files
rm -rf "$prefix.new"
cp -a "$here" "$prefix.new"
rm -rf "$prefix.old"
[ -e "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"

install -D -m 0644 "$here/deploy/systemd/fraglist-exporter.service" "$unit"
if [ ! -e "$envfile" ]; then install -D -m 0644 "$here/deploy/systemd/fraglist-exporter.env" "$envfile"; fi

"$prefix/bin/fraglist-exporter" doctor || say "doctor found problems (above): the service may not start until they are fixed"

if systemd_runs; then
  systemctl daemon-reload
  systemctl enable fraglist-exporter.service
  systemctl restart fraglist-exporter.service
  say "started: systemctl status fraglist-exporter; flags in $envfile"
else
  say "installed; systemd is not running here, so nothing was started (ExecStart: $prefix/bin/fraglist-exporter serve)"
fi
