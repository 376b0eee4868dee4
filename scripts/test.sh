#!/usr/bin/env bash
# Set everything up and run Vigil's whole test suite:
#   packages, hugepages (falls back to --no-huge), three builds warning free (-Werror): release
#   (-O3, the suite's main run: pcap cases at burst sizes 1 and 32, suricata-verify, end to end
#   in network namespaces, multi-worker, benchmark smoke tests, and vigild in and in front of a
#   QEMU guest), debug (-O0, the programs only) and ASan/UBSan (clang, the default -O2 -g: unit,
#   fuzz corpora, REST API, the pcap cases with four workers, multi-worker control, and bounded
#   libFuzzer runs of its fuzz targets, two at a time), and the format check. The debug and
#   sanitizer builds compile in the background, niced, while the release build's tests run.
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

# The two other builds run in the background at the lowest CPU priority while the release
# build's tests run: most of those tests wait on timers, links and guests, and a niced
# compiler takes only the CPU time they leave (a nice-19 task gets about 1.5% of a core a
# nice-0 task wants). Their output goes to build-*.log; a failure fails the run below.
# - debug (gcc -O0, -Werror), the programs;
# - ASan and UBSan: one build serves the suites below and the fuzzing after them: clang, so
#   that the fuzz targets are libFuzzer binaries (their corpus tests replay the seeds with
#   -runs=0).
background_builds() {
	scripts/build.sh build-debug --buildtype=debug -Dtests=disabled &&
		CC=clang scripts/build.sh build-sanitize -Db_sanitize=address,undefined \
			-Db_lundef=false -Dc_args=-fno-sanitize-recover=all -Dfuzz=true
}
step "builds in the background: debug (gcc -O0), ASan/UBSan (clang); log: build-background.log"
setsid nice -n 19 bash -c "$(declare -f background_builds); background_builds" \
	>build-background.log 2>&1 &
builds_pid=$!
# Stop the background builds (their process group: setsid made one) when this script stops
# early.
trap 'kill -- "-$builds_pid" 2>/dev/null || true' EXIT

step "tests (release): pcap cases at two burst sizes, verify, end to end, multi-worker, bench smoke"
# The suite 'cases' (every case at the default burst, with and without hugepages, with
# several workers) runs in part under ASan below; here 'cases-bursts' runs every case at
# bursts 1 and 32 (32 is the default) with each case's own checks at each size, so 'cases'
# would repeat it. The unit, fuzz-corpus and api suites run once, under ASan/UBSan below.
# cases-multiworker (suite 'cases': several workers on net_vgsynth's RSS queues make the same
# decisions as one, issue 16) runs here by name; its memory errors would be those of the
# software dispatch's cases-workers, which runs under ASan below.
meson test -C build-release --print-errorlogs --num-processes 2 \
	--no-suite cases --no-suite unit --no-suite fuzz-corpus --no-suite api
meson test -C build-release --print-errorlogs cases-multiworker
step "VMs: vigild in a QEMU guest on virtio-net (reduced form), and in front of one on vhost-user (TCG: 1 to 2 min each)"
# Suite 'vm' is left out of the default test setup; these are its short tests (docs/VM.md).
# The full forms of the first (vm-guest-vfio, vm-guest-mq: about 2 min each) run by hand.
meson test -C build-release --print-errorlogs --suite vm vm-guest vm-vhost

step "waiting for the background builds"
if ! wait "$builds_pid"; then
	cat build-background.log >&2
	echo "test: a background build failed (build-background.log above)" >&2
	exit 1
fi
trap - EXIT
grep '^build: ' build-background.log
step "tests under ASan/UBSan: unit, fuzz corpora, REST API, pcap cases with four workers, multi-worker control"
# The pcap cases run once here, with four workers on one-queue ports (the software dispatch
# hands frames between them), two cases at a time on the capture's clock; above they ran with
# one worker at two burst sizes. (Without hugepages: meson test cases-no-huge-parallel; on the
# TSC clock, one at a time: cases-no-huge; the end-to-end tests run without hugepages.)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
meson test -C build-sanitize --print-errorlogs --num-processes 2 \
	--suite unit --suite fuzz-corpus --suite api
meson test -C build-sanitize --print-errorlogs cases-workers e2e-multiworker-control
unset ASAN_OPTIONS UBSAN_OPTIONS

step "fuzzing (libFuzzer, ${VIGIL_FUZZ_SECONDS:-4}s per target, two at a time)"
tests/fuzz/run.sh build-sanitize "${VIGIL_FUZZ_SECONDS:-4}" 2

step "format"
scripts/check-format.sh

step "all passed"
