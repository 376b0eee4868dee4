#!/usr/bin/env bash
# Undo scripts/hugepages/setup.sh: restore the page count it found and unmount hugetlbfs if it
# mounted it. Idempotent: without a saved state it does nothing.
set -euo pipefail

mnt=/dev/hugepages
state=/run/vigil-hugepages.state
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

if [[ ! -e $state ]]; then
	echo "hugepages: nothing to undo (no $state)"
	exit 0
fi
# shellcheck disable=SC1090
source "$state"
if [[ ${mounted_by_us:-0} == 1 ]] && grep -qs " $mnt hugetlbfs " /proc/mounts; then
	if ls "$mnt"/*map_* >/dev/null 2>&1; then
		echo "hugepages: $mnt still holds DPDK files (a process is running?); not unmounting" >&2
		exit 1
	fi
	umount "$mnt"
	echo "hugepages: unmounted $mnt"
fi
echo "${pages_before:-0}" >"$sysfs"
echo "hugepages: restored $(cat "$sysfs") reserved pages (was set by setup.sh)"
rm -f "$state"
