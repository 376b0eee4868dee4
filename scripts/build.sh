#!/usr/bin/env bash
# Configure (once) and build a build directory. Used by demo.sh and test.sh.
#   scripts/build.sh [BUILD_DIR [meson options...]]     default: build
#   VIGIL_BUILD_ONLY=fuzz_,bpf_ scripts/build.sh DIR ... only the targets whose names start with
#                                                        one of these (and what they link)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [[ ! -f $dir/build.ninja ]]; then
	meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
		cat "$dir.setup.log" >&2
		exit 1
	}
	rm -f "$dir.setup.log"
fi
targets=()
if [[ -n ${VIGIL_BUILD_ONLY:-} ]]; then
	mapfile -t targets < <(meson introspect "$dir" --targets | /usr/bin/python3 -c '
import json, os, sys
d = os.path.realpath(sys.argv[1])
for t in json.load(sys.stdin):
    if t["name"].startswith(tuple(sys.argv[2].split(","))):
        print(os.path.relpath(t["filename"][0], d))' "$dir" "$VIGIL_BUILD_ONLY")
	((${#targets[@]} > 0)) || {
		echo "build: no target of $dir starts with $VIGIL_BUILD_ONLY" >&2
		exit 1
	}
fi
ninja -C "$dir" "${targets[@]}" >/dev/null || ninja -C "$dir" "${targets[@]}"
echo "build: $dir ok"
