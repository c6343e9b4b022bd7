#!/usr/bin/env bash
# The demo command (README): set everything up, start the local two-region cloud, make a small
# VHD in RegionOne and transfer it to RegionTwo with the region_transfer role, once through the
# vendor tasks API with an API key and once through upstream Glance; each twice, the second run
# changing nothing. Then a third path on a second cloud whose RegionTwo Glance converts what it
# imports (its image_conversion plugin): the vendor's VHD converted to qcow2 on the way. The cloud keeps running afterwards; stop it with `make cloud-stop`.
set -euo pipefail
# shellcheck source=hacking/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO"

dev_env

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

say "transfer it RegionOne -> RegionTwo: the vendor path, then the upstream path; each run twice"
collections=$work/collections/ansible_collections/cloudimages
mkdir -p "$collections" && ln -s "$REPO" "$collections/transfer"
ANSIBLE_COLLECTIONS_PATH=$work/collections "$DEV/bin/python" "$REPO/hacking/demo_transfer.py" "$work/disk.vhd"

say "a third path: vendor -> a Glance running the image_conversion plugin (a cloud of its own, stopped afterwards)"
converting=$work/converting-cloud
trap 'LOCALCLOUD_DIR="$converting" localcloud stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
LOCALCLOUD_DIR=$converting LOCALCLOUD_IMAGE_CONVERSION=raw localcloud start
LOCALCLOUD_DIR=$converting OS_CLIENT_CONFIG_FILE=$converting/clouds.yaml ANSIBLE_COLLECTIONS_PATH=$work/collections \
  "$DEV/bin/python" "$REPO/hacking/demo_transfer.py" "$work/disk.vhd" converting
LOCALCLOUD_DIR=$converting localcloud stop

say "done; the cloud is still running (make cloud-status, make cloud-stop)"
echo "export OS_CLIENT_CONFIG_FILE=$OS_CLIENT_CONFIG_FILE"
