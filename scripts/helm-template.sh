#!/usr/bin/env bash
# `helm template` of deploy/helm/fraglist-exporter where Helm is installed;
# elsewhere the same rendering by scripts/helm-render (Go's text/template with
# Sprig and Helm's own functions), built once from Debian's Go packages.
#   helm-template.sh RELEASE NAMESPACE [VALUES.yaml ...]
# FRAGLIST_HELM_RENDER=1 uses helm-render even where Helm is installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
chart=$root/deploy/helm/fraglist-exporter
[ $# -ge 2 ] || { echo "usage: helm-template.sh RELEASE NAMESPACE [VALUES.yaml ...]" >&2; exit 2; }
release=$1 namespace=$2
shift 2
if command -v helm >/dev/null && [ -z "${FRAGLIST_HELM_RENDER:-}" ]; then
  values=()
  for f in "$@"; do values+=(-f "$f"); done
  exec helm template "$release" "$chart" --namespace "$namespace" "${values[@]}"
fi
bin=${XDG_CACHE_HOME:-$HOME/.cache}/fraglist-exporter/helm-render
src=$root/scripts/helm-render/main.go
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
  command -v go >/dev/null || { echo "helm-template.sh: neither helm nor go is installed (apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev golang-github-xeipuuv-gojsonschema-dev)" >&2; exit 1; }
  mkdir -p "$(dirname "$bin")"
  (cd "$root/scripts/helm-render" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
fi
exec "$bin" "$chart" "$release" "$namespace" "$@"
