#!/usr/bin/env bash
# `helm template` of deploy/helm/fraglist-exporter with the real Helm
# (scripts/k8s-tools.sh fetches the pinned one).
#   helm-template.sh RELEASE NAMESPACE [VALUES.yaml ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: helm-template.sh RELEASE NAMESPACE [VALUES.yaml ...]" >&2; exit 2; }
release=$1 namespace=$2
shift 2
values=()
for f in "$@"; do values+=(-f "$f"); done
helm=$(bash "$root/scripts/k8s-tools.sh" helm)
exec "$helm" template "$release" "$root/deploy/helm/fraglist-exporter" --namespace "$namespace" "${values[@]}"
