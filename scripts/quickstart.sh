#!/usr/bin/env bash
# Fresh machine to running agent: system packages, npm packages, build, serve.
# Flags are passed to `fraglist-exporter serve` (default listen address :10045).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build
# Node's flags for the agent: package.json's config.nodeOptions (a young generation of 1 MB, V8's interpreter only: see docs/performance.md)
exec node $(node -p "require('./package.json').config.nodeOptions") dist/src/cli.js serve "$@"
