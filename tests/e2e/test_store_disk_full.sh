#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A full disk (docs/STORE.md, "Failure behaviour"): the store and the EVE log on a small tmpfs
# that is filled while traffic runs and API writes are made; failures are counted and logged
# once per episode; once space is freed the store and EVE catch up and the pending block and
# versions are written with ids from the store. The checks are in store_disk.py. The tmpfs is
# always unmounted on exit. Bounded: about 25 s.
set -euo pipefail

: "${VIGILD:?VIGILD must point at the vigild binary}"
PKTGEN=${PKTGEN:-$(dirname "$VIGILD")/../tools/pktgen/vg-pktgen}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/vigil-full.XXXXXX)
MNT=$WORK/mnt

fail() {
	printf 'store-full: FAIL: %s\n' "$*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	if mountpoint -q "$MNT"; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $EUID -eq 0 ]] || fail "needs root (mount, EAL)"
[[ -x $PKTGEN ]] || fail "vg-pktgen not found at $PKTGEN"

mkdir -p "$MNT" "$WORK/scratch"
mount -t tmpfs -o size=8m tmpfs "$MNT"

"$PYTHON" "$HERE/store_disk.py" --mode full --vigild "$VIGILD" --pktgen "$PKTGEN" \
	--mnt "$MNT" --work "$WORK/scratch"
