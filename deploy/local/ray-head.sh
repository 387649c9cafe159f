#!/usr/bin/env bash
# Start (or stop) a Ray head node on loopback. Then: export SANDBOX_RAY_ADDRESS=127.0.0.1:6380
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-start}" in
  start) .venv/bin/ray start --head --node-ip-address=127.0.0.1 --port=6380 --include-dashboard=false --disable-usage-stats ;;
  stop) .venv/bin/ray stop ;;
esac
