#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A disk stall (docs/STORE.md, "Failure behaviour"): the store and the EVE log on a loop-mounted
# ext4 image, frozen with fsfreeze for 5 s while traffic runs and API calls are made; control
# keeps answering, the backlog is written after the thaw. The checks are in store_disk.py.
# The file system is always thawed and unmounted on exit, also on failure or interruption: a
# frozen file system left behind would hang whatever touches it. Bounded: about 25 s.
set -euo pipefail

: "${VIGILD:?VIGILD must point at the vigild binary}"
PKTGEN=${PKTGEN:-$(dirname "$VIGILD")/../tools/pktgen/vg-pktgen}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/vigil-stall.XXXXXX)
MNT=$WORK/mnt
LOOP=

fail() {
	printf 'store-stall: FAIL: %s\n' "$*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	fsfreeze -u "$MNT" 2>/dev/null || true
	if mountpoint -q "$MNT"; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	fi
	[[ -n $LOOP ]] && losetup -d "$LOOP" 2>/dev/null || true
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $EUID -eq 0 ]] || fail "needs root (mount, fsfreeze, EAL)"
for c in mkfs.ext4 losetup fsfreeze mountpoint; do
	command -v "$c" >/dev/null || fail "$c is not installed"
done
[[ -x $PKTGEN ]] || fail "vg-pktgen not found at $PKTGEN"

mkdir -p "$MNT" "$WORK/scratch"
truncate -s 64M "$WORK/disk.img"
mkfs.ext4 -q -F "$WORK/disk.img"
LOOP=$(losetup -f --show "$WORK/disk.img")
mount -t ext4 "$LOOP" "$MNT"

"$PYTHON" "$HERE/store_disk.py" --mode stall --vigild "$VIGILD" --pktgen "$PKTGEN" \
	--mnt "$MNT" --work "$WORK/scratch"
