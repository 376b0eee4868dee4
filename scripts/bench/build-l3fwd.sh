#!/usr/bin/env bash
# Build DPDK's l3fwd example (the stateless ACL peer of the benchmarks) from the sources that
# Debian's dpdk-doc ships, against the installed libdpdk-dev through pkg-config, in a scratch
# directory outside the repository. Prints the path of the binary on its last line.
#
#   scripts/bench/build-l3fwd.sh [SCRATCH_DIR]      (default: $VG_BENCH_SCRATCH or
#                                                    /var/tmp/vigil-bench-peers)
#
# Rebuilds only when the example sources, this script or the DPDK version changed. The example
# is built as Debian ships it (-O3 from its Makefile) with one change: l3fwd asks every port for
# RX checksum offload and exits when a port cannot do it, which net_pcap and net_null cannot.
# The copy requests only the offloads the port has (as l3fwd already does for RSS); its ACL path
# never reads the offload flags, so the per-packet work is unchanged.
set -euo pipefail

src=${VG_L3FWD_SRC:-/usr/share/dpdk/examples}
scratch=${1:-${VG_BENCH_SCRATCH:-/var/tmp/vigil-bench-peers}}

if [[ ! -f $src/l3fwd/l3fwd_acl.c || ! -d $src/common ]]; then
	echo "build-l3fwd: no l3fwd sources in $src; install them with: apt-get install dpdk-doc" >&2
	exit 1
fi
if ! pkg-config --exists libdpdk; then
	echo "build-l3fwd: pkg-config does not know libdpdk; install libdpdk-dev" >&2
	exit 1
fi
dpdk_version=$(pkg-config --modversion libdpdk)
sum=$(cat "$src"/l3fwd/*.[ch] "$src"/l3fwd/Makefile "$0" | sha256sum | cut -c1-16)
stamp="dpdk $dpdk_version $sum"

dir=$scratch/examples
bin=$dir/l3fwd/build/l3fwd
if [[ -x $bin && -f $dir/stamp && $(cat "$dir/stamp") == "$stamp" ]]; then
	echo "$bin"
	exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
# The Makefile includes ../common: copy both folders side by side, as in the source tree.
cp -r "$src/l3fwd" "$src/common" "$dir/"
main=$dir/l3fwd/main.c
mask='dev_info.rx_offload_capa'
port_rss='local_port_conf.rx_adv_conf.rss_conf.rss_hf &='
port_off="local_port_conf.rxmode.offloads \\&= $mask;"
queue_off='rxq_conf.offloads = port_conf.rxmode.offloads'
sed -i -e "s/^\(\t*\)\($port_rss\)\$/\1$port_off\n\1\2/" \
	-e "s/^\(\t*$queue_off\);\$/\1 \\& $mask;/" "$main"
if [[ $(grep -c 'rx_offload_capa' "$main") -ne 2 ]]; then
	echo "build-l3fwd: $src/l3fwd/main.c is not the one this script adapts to vdevs" \
		"(the RX offload lines moved); see the comment at the top" >&2
	exit 1
fi
log=$dir/build.log
# CFLAGS from the environment: the Makefile appends its own flags to it.
if ! CFLAGS="-march=native" make -C "$dir/l3fwd" -j2 shared \
	>"$log" 2>&1; then
	echo "build-l3fwd: make failed; the last lines of $log:" >&2
	tail -20 "$log" >&2
	exit 1
fi
echo "$stamp" >"$dir/stamp"
echo "$bin"
