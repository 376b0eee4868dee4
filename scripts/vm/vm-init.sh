#!/bin/sh
# /init of the guest's initramfs (scripts/vm/build-initramfs.sh copies it in). busybox sh.
# Mounts proc/sys/dev, loads the modules, mounts the host's root read-only (9p tag hostroot) on
# /host with tmpfs over /tmp, /run and /var/tmp, mounts the run directory (9p tag vmrun,
# read-write) on /host/tmp/vm, then runs vigil.run=PATH (a path inside the host's root, default
# /tmp/vm/guest.sh) with bash, chrooted into /host, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "[vm-init $(up)] $*"; }
say "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)"

while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/null || say "insmod $m failed"
done </lib/modules/load-order
ip link set lo up
say "modules loaded"

run=/tmp/vm/guest.sh
for a in $(cat /proc/cmdline); do
	case $a in vigil.run=*) run=${a#vigil.run=} ;; esac
done

if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /host; then
	say "FAIL: mount of the host's root (9p tag hostroot) failed"
	poweroff -f
fi
for d in tmp run var/tmp; do mount -t tmpfs tmpfs /host/$d; done
mkdir -p /host/tmp/vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmrun /host/tmp/vm ||
	say "FAIL: mount of the run directory (9p tag vmrun) failed"
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm /host/dev/hugepages
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t hugetlbfs nodev /host/dev/hugepages
say "host root mounted; running $run"

if [ -f "/host$run" ]; then
	chroot /host /bin/bash "$run"
	say "$run exited with $?"
else
	say "FAIL: no $run in the host's root"
fi
sync
poweroff -f
