#!/usr/bin/env bash
# Configure (once) and build a build directory. Used by demo.sh and test.sh.
#   scripts/build.sh [BUILD_DIR [meson options...]]     default: build
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
ninja -C "$dir" >/dev/null || ninja -C "$dir"
echo "build: $dir ok"
