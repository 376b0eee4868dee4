#!/usr/bin/env bash
# Set everything up and run Vigil's whole test suite:
#   packages, hugepages (falls back to --no-huge), three builds warning free (-Werror): release
#   (-O3, the suite's main run: pcap cases at burst sizes 1 and 32, suricata-verify, end to end
#   in network namespaces, multi-worker, benchmark smoke tests), debug (-O0, the programs only)
#   and ASan/UBSan (clang, the default -O2 -g: unit, fuzz corpora, REST API, the pcap cases with
#   four workers, multi-worker, and bounded libFuzzer runs of its fuzz targets); vigild in and in
#   front of a QEMU guest (the short VM tests, on the release build), and the format check.
#
#   sudo scripts/test.sh                 everything
#   VIGIL_FUZZ_SECONDS=60 scripts/test.sh   longer fuzzing (default 4 s per target)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n=== %s (%ds)\n' "$*" $(($(date +%s) - start)); }

if [[ $EUID -ne 0 ]]; then
	echo "test: needs root (packages, hugepages, network namespaces); try: sudo $0" >&2
	exit 1
fi

step "packages"
scripts/deps.sh

step "hugepages"
if ! scripts/hugepages/setup.sh "${VIGIL_HUGEPAGES:-1024}"; then
	echo "test: no hugepages; the suites run with --no-huge"
fi

step "build: release (gcc -O3, -Werror)"
scripts/build.sh build-release --buildtype=release
step "build: debug (gcc -O0, -Werror), the programs"
scripts/build.sh build-debug --buildtype=debug -Dtests=disabled
step "tests (release): pcap cases at two burst sizes, verify, end to end, multi-worker, bench smoke"
# The suite 'cases' (every case at the default burst, with and without hugepages, with
# several workers) runs in part under ASan below; here 'cases-bursts' runs every case at
# bursts 1 and 32 (32 is the default) with each case's own checks at each size, so 'cases'
# would repeat it. The unit, fuzz-corpus and api suites run once, under ASan/UBSan below.
meson test -C build-release --print-errorlogs --num-processes 2 \
	--no-suite cases --no-suite unit --no-suite fuzz-corpus --no-suite api
step "VMs: vigild in a QEMU guest on virtio-net (reduced form), and in front of one on vhost-user (TCG: 1 to 2 min each)"
# Suite 'vm' is left out of the default test setup; these are its short tests (docs/VM.md).
# The full forms of the first (vm-guest-vfio, vm-guest-mq: about 2 min each) run by hand.
meson test -C build-release --print-errorlogs --suite vm vm-guest vm-vhost

step "build with ASan and UBSan (clang, with the libFuzzer targets)"
# One sanitizer build serves the suites below and the fuzzing after them: clang, so that the
# fuzz targets are libFuzzer binaries (their corpus tests replay the seeds with -runs=0).
CC=clang scripts/build.sh build-sanitize -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fno-sanitize-recover=all -Dfuzz=true
step "tests under ASan/UBSan: unit, fuzz corpora, REST API, pcap cases with four workers, multi-worker"
# The pcap cases run once here, with four workers on one-queue ports (the software dispatch
# hands frames between them), two cases at a time on the capture's clock; above they ran with
# one worker at two burst sizes. (Without hugepages: meson test cases-no-huge-parallel; on the
# TSC clock, one at a time: cases-no-huge; the end-to-end tests run without hugepages.)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
meson test -C build-sanitize --print-errorlogs --num-processes 2 \
	--suite unit --suite fuzz-corpus --suite api
meson test -C build-sanitize --print-errorlogs cases-workers
# Several workers on net_vgsynth's RSS queues (issue 16): the same decisions as one worker.
meson test -C build-sanitize --print-errorlogs cases-multiworker e2e-multiworker-control
unset ASAN_OPTIONS UBSAN_OPTIONS

step "fuzzing (libFuzzer, ${VIGIL_FUZZ_SECONDS:-4}s per target)"
tests/fuzz/run.sh build-sanitize "${VIGIL_FUZZ_SECONDS:-4}"

step "format"
scripts/check-format.sh

step "all passed"
