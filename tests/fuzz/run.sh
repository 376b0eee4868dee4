#!/usr/bin/env bash
# Run every libFuzzer target for a bounded time, JOBS targets at a time (default: the number of
# CPUs; each libFuzzer run is one thread). New inputs go to a scratch corpus, never to the seed
# corpus in the repo; crashes are kept in the scratch directory and fail the run.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET [JOBS]]   (BUILD_DIR configured with -Dfuzz=true)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS [JOBS]]}
secs=${2:-20}
jobs=${3:-$(nproc)}
src=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d /tmp/vigil-fuzz.XXXXXX)

# One target: its lines at the end, its status in $work/status.
fuzz_one() {
	local bin=$1 name work seeds
	name=$(basename "$bin")
	seeds=$src/corpus/${name#fuzz_}
	work=$scratch/$name
	mkdir -p "$work/corpus" "$work/artifacts"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$work/log" 2>&1; then
		echo "fuzz: $name for ${secs}s (seeds: ${seeds#"$src"/}): $(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" || echo "no DONE line")"
		echo 0 >"$work/status"
	else
		{
			echo "fuzz: $name FAILED; input and log kept in $work"
			tail -n 40 "$work/log"
		} >&2
		echo 1 >"$work/status"
	fi
}

# fuzz_bpf_need runs what rte_bpf's validator accepts, and that validator lets some faulting
# programs through: it is run by hand (its corpus is replayed in the fuzz-corpus suite).
targets=()
for bin in "$build"/tests/fuzz/fuzz_*; do
	[[ $(basename "$bin") == fuzz_bpf_need && -z ${VIGIL_FUZZ_ALL:-} ]] && continue
	[[ -x $bin && -f $bin ]] && targets+=("$bin")
done
if [[ ${#targets[@]} -eq 0 ]]; then
	echo "fuzz: no fuzz_* targets in $build/tests/fuzz (configure it with -Dfuzz=true)" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${secs}s each, $jobs at a time"
running=0
for bin in "${targets[@]}"; do
	if ((running >= jobs)); then
		wait -n || true
		running=$((running - 1))
	fi
	fuzz_one "$bin" &
	running=$((running + 1))
done
wait || true

status=0
for bin in "${targets[@]}"; do
	name=$(basename "$bin")
	if [[ $(cat "$scratch/$name/status" 2>/dev/null) != 0 ]]; then
		[[ -f $scratch/$name/status ]] || echo "fuzz: $name left no status (killed?)" >&2
		status=1
	fi
done
[[ $status -eq 0 ]] && rm -rf "$scratch"
exit $status
