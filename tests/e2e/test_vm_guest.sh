#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, vigild inside a QEMU guest (TCG) on two virtio-net PCI NICs (docs/VM.md):
# scripts/vm/run-guest.sh boots the host's Debian kernel with the project's busybox initramfs,
# the host's root over 9p, and the guest runs $VIGILD on the NICs (uio_pci_generic, or vfio-pci
# behind a virtual IOMMU with the argument 'vfio'); taps in two namespaces on the host send
# ping, UDP and TCP through it; the guest's policy drops UDP to port 9999, a signature alerts,
# and the API answers inside the guest and from the host (a forwarded management NIC).
# With 'vhost', scripts/vm/run-vhost.sh instead: vigild on the host in front of a guest on a
# vhost-user socket, checked again after vigild restarts and after the guest restarts.
#
#   test_vm_guest.sh [uio|vfio|vhost] [--quick] [--queues N] [--compare R] [--libvirt embed]
#
# The options after the mode go to the script (--compare R: R rounds each of dpdk-testpmd and
# vigild in the same spot, and the round trips through each; it skips (77) without dpdk-testpmd.
# vhost --libvirt embed: the guest as a libvirt domain, run by virt-qemu-run; it skips (77)
# without virt-qemu-run or the user and group libvirt-qemu).
#
# Bounded: run-guest.sh gives up after VM_TIMEOUT seconds (default 240), and this script kills
# it 30 s later. On failure the guest's whole console is printed. Skips (77) without root,
# qemu-system-x86_64, a Debian kernel in /boot with its modules, busybox-static or /dev/net/tun.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=${1:-uio}
shift || true
skip() {
	echo "vm: $*; skipped"
	exit 77
}
[[ $EUID -eq 0 ]] || skip "needs root (taps, namespaces)"
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
kernel=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1 || true)
[[ -n $kernel ]] || skip "no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)"
[[ -d /lib/modules/${kernel#/boot/vmlinuz-} ]] || skip "no /lib/modules for $kernel"
if ! file -L /bin/busybox 2>/dev/null | grep -q "statically linked" &&
	! ldd /bin/busybox 2>&1 | grep -q "not a dynamic"; then
	skip "no static /bin/busybox (apt-get install busybox-static)"
fi
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
if [[ " $* " == *" --compare "* ]] && ! command -v dpdk-testpmd >/dev/null; then
	skip "--compare needs dpdk-testpmd (apt-get install dpdk)"
fi
if [[ " $* " == *" --libvirt embed "* ]]; then
	command -v virt-qemu-run >/dev/null ||
		skip "--libvirt embed needs virt-qemu-run (apt-get install libvirt-daemon-driver-qemu)"
	# libvirt's QEMU driver resolves its user and group (Debian's libvirt-daemon-system creates
	# them) even when its qemu.conf names root.
	if ! getent passwd libvirt-qemu >/dev/null || ! getent group libvirt-qemu >/dev/null; then
		skip "--libvirt embed needs the user and group libvirt-qemu (docs/VM.md, \"With libvirt\")"
	fi
fi
[[ -x ${VIGILD:-} ]] || { echo "vm: VIGILD must point at the vigild binary" >&2; exit 1; }
args=()
script=$root/scripts/vm/run-guest.sh
case $mode in
uio) ;;
vfio) args+=(--vfio) ;;
vhost) script=$root/scripts/vm/run-vhost.sh ;;
*) echo "vm: unknown mode '$mode' (uio, vfio or vhost)" >&2; exit 2 ;;
esac

run=$(mktemp -d /tmp/vigil-vm.XXXXXX)
rg_pid=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# run-guest.sh cleans up after itself (QEMU by PID, namespaces, taps) on every exit; it is
	# signalled only if this script is interrupted or it overran.
	if [[ -n $rg_pid ]] && kill -0 "$rg_pid" 2>/dev/null; then
		kill -TERM "$rg_pid" 2>/dev/null || true
		timeout 20 tail --pid="$rg_pid" -f /dev/null || kill -KILL "$rg_pid" 2>/dev/null || true
	fi
	if ((rc != 0)); then
		echo "vm: FAIL (rc $rc); the guest's console ($run/console.log):" >&2
		[[ -s $run/console-1.log ]] && cat "$run/console-1.log" >&2 && echo "vm: (the guest restarted)" >&2
		cat "$run/console.log" >&2 2>/dev/null || echo "(none)" >&2
		for f in qemu.log vigild.log; do
			[[ -s $run/$f ]] || continue
			echo "vm: $f (last 60 lines):" >&2
			tail -n 60 "$run/$f" >&2
		done
	fi
	rm -rf "$run"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bound=${VM_TIMEOUT:-240}
"$script" --timeout "$bound" --run-dir "$run" --vigild "$VIGILD" \
	--api-port $((18480 + $$ % 400)) "${args[@]}" "$@" &
rg_pid=$!
# The guest's bound covers its boot and checks; the extra 30 s covers its shutdown.
timeout $((bound + 30)) tail --pid="$rg_pid" -f /dev/null || {
	echo "vm: run-guest.sh overran $((bound + 30)) s" >&2
	exit 1
}
wait "$rg_pid"
