#!/usr/bin/env bash
# Builds the self-contained agent bundle that the systemd install script and
# the container image both install:
#   build/fraglist-exporter-VERSION-linux-ARCH.tar.gz
#     fraglist-exporter/bin/fraglist-exporter   the command (runs the bundled Node)
#     fraglist-exporter/node/bin/node           Node.js, pinned: npm's node-linux-ARCH@NODE_VERSION
#     fraglist-exporter/{dist/src,probes,node_modules,package.json}
#     fraglist-exporter/install.sh, deploy/systemd/, scripts/install-deps.sh
# Hosts need no Node of their own (Debian 12 and RHEL 8 ship older ones).
# Needs the npm registry; run after `npm ci`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
NODE_VERSION=${NODE_VERSION:-24.21.0}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "bundle.sh: no Node.js build for $(uname -m)" >&2; exit 1 ;;
esac
version=$(node -p "require('$root/package.json').version")
# Node's flags for the agent (package.json's config.nodeOptions), written into the command below
node_options=$(node -p "require('$root/package.json').config.nodeOptions")
out=$root/build/fraglist-exporter-$version-linux-$arch.tar.gz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/fraglist-exporter

# compiled apart from the repository's dist/, which a running test suite reads
(cd "$root" && npx --no-install tsc -p tsconfig.json --outDir "$work/dist" --sourceMap false)
mkdir -p "$stage/bin" "$stage/node/bin" "$stage/dist" "$stage/deploy" "$stage/scripts"
cp -a "$work/dist/src" "$stage/dist/src"
find "$stage/dist/src" -name '*.test.js' -delete
cp -a "$root/probes" "$root/package.json" "$root/package-lock.json" "$stage/"
cp -a "$root/deploy/systemd" "$stage/deploy/systemd"
cp -a "$root/scripts/install-deps.sh" "$stage/scripts/"
cp -a "$root/deploy/systemd/install.sh" "$stage/install.sh"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
rm "$stage/package-lock.json"

(cd "$work" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null)
tar -xzf "$work"/node-linux-"$arch"-"$NODE_VERSION".tgz -C "$work" package/bin/node
mv "$work/package/bin/node" "$stage/node/bin/node"
"$stage/node/bin/node" --version | grep -qx "v$NODE_VERSION"

cat > "$stage/bin/fraglist-exporter" <<SH
#!/bin/sh
# fraglist-exporter with the Node.js bundled beside it
here=\$(dirname "\$(readlink -f "\$0")")/..
exec "\$here/node/bin/node" $node_options "\$here/dist/src/cli.js" "\$@"
SH
chmod 755 "$stage/bin/fraglist-exporter"

mkdir -p "$(dirname "$out")"
tar -C "$work" --owner=0 --group=0 -czf "$out.tmp" fraglist-exporter
mv "$out.tmp" "$out"
echo "$out"
