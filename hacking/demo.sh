#!/usr/bin/env bash
# The demo command (README): set everything up, start the local two-region cloud, show it
# working. The cloud keeps running afterwards; stop it with `make cloud-stop`.
set -euo pipefail
# shellcheck source=hacking/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO"

ensure_debian_packages
PY=$(find_controller_python)
DEV=$(pinned_venv dev "$PY" "$REPO/hacking/requirements-dev.lock")

say "starting the local cloud"
localcloud start
# shellcheck disable=SC1091
source "$REPO/.localcloud/env.sh"
localcloud status

say "a small real disk image: 8 MiB of data in a dynamic VHD made by qemu-img"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 8388608 /dev/urandom > "$work/disk.raw"
qemu-img convert -f raw -O vpc "$work/disk.raw" "$work/disk.vhd"
qemu-img info "$work/disk.vhd" | sed 's/^/  /'

say "the vendor path: API-key login, upload to RegionOne, export task into RegionOne's object store"
"$DEV/bin/python" "$REPO/hacking/demo_cloud.py" "$work/disk.vhd"

say "done; the cloud is still running (make cloud-status, make cloud-stop)"
echo "export OS_CLIENT_CONFIG_FILE=$OS_CLIENT_CONFIG_FILE"
