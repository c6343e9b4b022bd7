#!/usr/bin/env bash
# The benchmark commands (README): pinned tools, Debian's rclone, then benchmarks/dlo_copy.py
# (make benchmark) or benchmarks/transfer.py (make benchmark-transfer).
set -euo pipefail
# shellcheck source=hacking/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO"
dev_env
if ! command -v rclone >/dev/null; then
  say "installing Debian's rclone (a peer in the benchmark)"
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq rclone >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y -qq rclone >/dev/null; }
fi
if [ "${1:-}" = transfer ]; then  # make benchmark-transfer: the whole playbook, phase by phase
  shift
  exec "$DEV/bin/python" benchmarks/transfer.py "$@"
fi
exec "$DEV/bin/python" benchmarks/dlo_copy.py "$@"
