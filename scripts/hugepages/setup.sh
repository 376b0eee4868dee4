#!/usr/bin/env bash
# Reserve 2 MiB hugepages and mount hugetlbfs at /dev/hugepages. Idempotent: running it again
# changes nothing when enough pages are reserved and the mount exists. Prints what it did.
#
#   scripts/hugepages/setup.sh [PAGES]     reserve at least PAGES (default 1024 = 2 GiB)
#   scripts/hugepages/teardown.sh          undo what this script did
#
# The reservation is remembered in /run/vigil-hugepages.state so that teardown restores the
# previous page count and unmounts only a mount this script made.
set -euo pipefail

pages=${1:-${VIGIL_HUGEPAGES:-1024}}
mnt=/dev/hugepages
state=/run/vigil-hugepages.state
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

if [[ ! $pages =~ ^[0-9]+$ ]]; then
	echo "hugepages: '$pages' is not a page count" >&2
	exit 2
fi
if [[ $EUID -ne 0 ]]; then
	echo "hugepages: must run as root (try: sudo $0 $pages)" >&2
	exit 1
fi
if [[ ! -w $sysfs ]]; then
	echo "hugepages: $sysfs is not writable; this kernel or container offers no 2 MiB pages." >&2
	echo "hugepages: vigild and the tests will run with --no-huge." >&2
	exit 1
fi

before=$(cat "$sysfs")
if [[ ! -e $state ]]; then
	printf 'pages_before=%s\nmounted_by_us=0\n' "$before" >"$state"
fi

if ((before >= pages)); then
	echo "hugepages: $before pages of 2 MiB already reserved (wanted $pages), unchanged"
else
	echo "$pages" >"$sysfs"
	now=$(cat "$sysfs")
	echo "hugepages: reserved $now pages of 2 MiB (was $before, wanted $pages)"
	if ((now < pages)); then
		echo "hugepages: the kernel could only find $now contiguous pages; memory is fragmented" >&2
	fi
fi

if grep -qs " $mnt hugetlbfs " /proc/mounts; then
	echo "hugepages: hugetlbfs already mounted at $mnt, unchanged"
else
	mkdir -p "$mnt"
	mount -t hugetlbfs -o pagesize=2M nodev "$mnt"
	sed -i 's/^mounted_by_us=.*/mounted_by_us=1/' "$state"
	echo "hugepages: mounted hugetlbfs at $mnt"
fi
grep -E '^HugePages_(Total|Free)' /proc/meminfo | sed 's/^/hugepages: /'
