#!/usr/bin/env bash
# Run every libFuzzer target for a bounded time. New inputs go to a scratch corpus, never to
# the seed corpus in the repo; crashes are kept in the scratch directory and fail the run.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]      (BUILD_DIR configured with -Dfuzz=true)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
secs=${2:-20}
src=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d /tmp/vigil-fuzz.XXXXXX)
status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
	[[ -x $bin && -f $bin ]] || continue
	name=$(basename "$bin")
	seeds=$src/corpus/${name#fuzz_}
	work=$scratch/$name
	mkdir -p "$work/corpus" "$work/artifacts"
	echo "fuzz: $name for ${secs}s (seeds: ${seeds#"$src"/})"
	if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$work/log" 2>&1; then
		echo "fuzz: $name FAILED; input and log kept in $work" >&2
		tail -n 40 "$work/log" >&2
		status=1
		continue
	fi
	grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | sed "s/^/fuzz: $name: /" || true
done
[[ $status -eq 0 ]] && rm -rf "$scratch"
exit $status
