#!/usr/bin/env bash
# Build vg-latprobe (scripts/bench/latency/vg_latprobe.c) against the installed DPDK and
# libpcap, with the project's warnings as errors, into a scratch directory outside the
# repository. Prints the binary's path on its last line; rebuilds only when the source changed.
#
#   scripts/bench/latency/build.sh [SCRATCH_DIR]   (default: $VG_BENCH_SCRATCH or
#                                                   /var/tmp/vigil-bench-peers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scratch=${1:-${VG_BENCH_SCRATCH:-/var/tmp/vigil-bench-peers}}
src=$here/vg_latprobe.c
out=$scratch/latprobe
bin=$out/vg-latprobe
stamp="$(pkg-config --modversion libdpdk) $(cat "$src" "$0" | sha256sum | cut -c1-16)"
if [[ -x $bin && -f $out/stamp && $(cat "$out/stamp") == "$stamp" ]]; then
	echo "$bin"
	exit 0
fi
mkdir -p "$out"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
if ! cc -std=gnu11 -O2 -march=native -Wall -Wextra -Werror -DALLOW_EXPERIMENTAL_API \
	$(pkg-config --cflags libdpdk libpcap) "$src" -o "$bin" \
	$(pkg-config --libs libdpdk libpcap) 2>"$out/build.log"; then
	echo "latency/build.sh: cc failed:" >&2
	cat "$out/build.log" >&2
	exit 1
fi
echo "$stamp" >"$out/stamp"
echo "$bin"
