#!/usr/bin/env bash
# Fresh machine to running agent: system packages, npm packages, build, serve.
# Flags are passed to `fraglist-exporter serve` (default listen address :10045).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build
exec node dist/src/cli.js serve "$@"
