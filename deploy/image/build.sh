#!/usr/bin/env bash
# Builds the fraglist-exporter container image from Debian's packages and the
# agent bundle (scripts/bundle.sh), with no registry pull:
#   deploy/image/build.sh [OUT_DIR]            (default: build/)
# writes
#   OUT_DIR/fraglist-exporter-VERSION-rootfs.tar   the root filesystem (mmdebstrap)
#   OUT_DIR/fraglist-exporter-VERSION.oci.tar      an OCI image archive (buildah), for
#       `skopeo copy oci-archive:FILE docker://REGISTRY/fraglist-exporter:VERSION`
#       or `podman load -i FILE`
# Pinned: the Debian suite, bpftrace's version (the one the tests run) and
# Node's (in the bundle). The packages come from the sources in
# FRAGLIST_IMAGE_SOURCES (default: this host's apt sources for the suite, else
# deb.debian.org); the list of what went in is /usr/share/fraglist-exporter/packages.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "${1:-$root/build}" && cd "${1:-$root/build}" && pwd)
SUITE=bookworm
BPFTRACE_VERSION=0.17.0-1
sources=${FRAGLIST_IMAGE_SOURCES:-}
if [ -z "$sources" ] && grep -qs "^Suites:.*\b$SUITE\b" /etc/apt/sources.list.d/debian.sources; then
  sources=/etc/apt/sources.list.d/debian.sources
fi
for tool in mmdebstrap buildah; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is not installed (apt-get install -y $tool)" >&2; exit 1; }
done

version=$(node -p "require('$root/package.json').version")
bundle=$(bash "$root/scripts/bundle.sh" | tail -1)
rootfs=$out/fraglist-exporter-$version-rootfs.tar
image=$out/fraglist-exporter-$version.oci.tar

# --customize-hook runs on the host with the new root as $1
BUNDLE=$bundle mmdebstrap --mode=root --variant=minbase --format=tar \
  --include="bpftrace=$BPFTRACE_VERSION,iproute2,procps" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='tar -xzf "$BUNDLE" -C "$1/opt"' \
  --customize-hook='ln -s /opt/fraglist-exporter/bin/fraglist-exporter "$1/usr/local/bin/fraglist-exporter"' \
  --customize-hook='mkdir -p "$1/usr/share/fraglist-exporter" && chroot "$1" dpkg-query -W -f "\${Package} \${Version}\n" > "$1/usr/share/fraglist-exporter/packages.txt"' \
  --customize-hook='"$1/opt/fraglist-exporter/node/bin/node" --version >> "$1/usr/share/fraglist-exporter/packages.txt"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
  "$SUITE" "$rootfs.tmp" ${sources:+"$sources"} >&2
mv "$rootfs.tmp" "$rootfs"

# The OCI image: one layer, the root filesystem; run as the DaemonSet runs it
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add --quiet "$ctr" "$rootfs" / >&2
buildah config \
  --entrypoint '["/opt/fraglist-exporter/bin/fraglist-exporter"]' --cmd serve \
  --port 10045/tcp --user 0 --workingdir / \
  --label org.opencontainers.image.title=fraglist-exporter \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.description="exact sk_buff frag_list counters for Prometheus (bpftrace $BPFTRACE_VERSION, Debian $SUITE)" \
  "$ctr"
rm -f "$image"
buildah commit --quiet --format oci "$ctr" "oci-archive:$image:fraglist-exporter:$version" >&2
echo "$rootfs"
echo "$image"
