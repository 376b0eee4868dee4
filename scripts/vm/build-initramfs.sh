#!/usr/bin/env bash
# Build the small initramfs that boots a QEMU guest on the host's Debian kernel and runs the
# host's own files (vigild included) from its root shared read-only over 9p (docs/VM.md).
#
#   scripts/vm/build-initramfs.sh [--out DIR]      (default DIR: .run/vm)
#
# Writes DIR/initramfs.gz and DIR/kernel (a copy of /boot/vmlinuz-VERSION) and prints VERSION.
# Needs the Debian packages linux-image-amd64 and busybox-static. Idempotent: rebuilds only when
# the kernel, busybox or this script changed. The guest's /init (vm-init.sh, beside this script)
# mounts proc/sys/dev, loads the modules, mounts the host's root (tag hostroot) and the run
# directory (tag vmrun, read-write), then runs the command named by vigil.run= on the kernel
# command line chrooted into the host's root, and powers off.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/.run/vm
while (($#)); do
	case $1 in
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "build-initramfs: unknown option '$1'" >&2; exit 2 ;;
	esac
done

# The newest Debian kernel package in /boot, not the running kernel (a container's may not be
# Debian's, and its modules are not on disk).
kernel=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z $kernel ]]; then
	echo "build-initramfs: no /boot/vmlinuz-*-amd64; install linux-image-amd64" >&2
	exit 1
fi
version=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$version
busybox=/bin/busybox
[[ -d $moddir ]] || { echo "build-initramfs: $moddir missing" >&2; exit 1; }
if ! file -L "$busybox" 2>/dev/null | grep -q "statically linked" &&
	! ldd "$busybox" 2>&1 | grep -q "not a dynamic"; then
	echo "build-initramfs: $busybox is not static; install busybox-static" >&2
	exit 1
fi

# Loaded in this order by /init (each after the modules it depends on, from modules.dep).
# The Debian kernel has no CONFIG_VFIO_NOIOMMU, so without a virtual IOMMU the NICs go to
# uio_pci_generic; vfio-pci is included for a guest with a vIOMMU (-device intel-iommu).
wanted=(virtio_pci virtio_net 9pnet_virtio 9p uio_pci_generic vfio-pci vfio_iommu_type1)

mkdir -p "$out"
stamp=$out/initramfs.stamp
want_stamp="$version $(stat -c %Y "$busybox") $(md5sum "$0" "$here/vm-init.sh" | cut -c1-32 | tr '\n' ' ')"
if [[ -f $out/initramfs.gz && -f $out/kernel && -f $stamp && $(cat "$stamp") == "$want_stamp" ]]; then
	echo "$version"
	exit 0
fi

stage=$(mktemp -d "$out/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,host,lib/modules,etc}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 755 "$here/vm-init.sh" "$stage/init"

# Resolve dependencies from modules.dep, depth first, so that each module follows its deps.
declare -A seen=()
order=()
resolve() {
	local rel=$1 dep
	[[ -n ${seen[$rel]:-} ]] && return
	seen[$rel]=1
	for dep in $(awk -F': *' -v m="$rel" '$1 == m { print $2 }' "$moddir/modules.dep"); do
		resolve "$dep"
	done
	order+=("$rel")
}
for m in "${wanted[@]}"; do
	rel=$(awk -F: -v m="$m" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n);
		gsub(/-/, "_", n); t = m; gsub(/-/, "_", t); if (n == t) { print $1; exit } }' \
		"$moddir/modules.dep")
	[[ -n $rel ]] || { echo "build-initramfs: module $m not in $moddir" >&2; exit 1; }
	resolve "$rel"
done
: >"$stage/lib/modules/load-order"
for rel in "${order[@]}"; do
	name=$(basename "$rel")
	case $name in
	*.ko.xz) xz -dc "$moddir/$rel" >"$stage/lib/modules/${name%.xz}"; name=${name%.xz} ;;
	*.ko.zst) zstd -qdc "$moddir/$rel" >"$stage/lib/modules/${name%.zst}"; name=${name%.zst} ;;
	*.ko.gz) gzip -dc "$moddir/$rel" >"$stage/lib/modules/${name%.gz}"; name=${name%.gz} ;;
	*) cp "$moddir/$rel" "$stage/lib/modules/$name" ;;
	esac
	echo "$name" >>"$stage/lib/modules/load-order"
done

(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) | gzip -9 >"$out/initramfs.gz.tmp"
mv "$out/initramfs.gz.tmp" "$out/initramfs.gz"
cp "$kernel" "$out/kernel"
echo "$want_stamp" >"$stamp"
echo "$version"
