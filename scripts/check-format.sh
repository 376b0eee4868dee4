#!/usr/bin/env bash
# Check that every C file tracked by git is clang-format clean (the repo's .clang-format).
#   scripts/check-format.sh          report files that differ, exit 1 if any
#   scripts/check-format.sh --fix    rewrite them in place
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
if [[ ${1:-} == --fix ]]; then
	clang-format -i "${files[@]}"
	echo "format: rewrote ${#files[@]} files"
	exit 0
fi
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
	echo "format: ${#bad[@]} of ${#files[@]} files are not clang-format clean:" >&2
	printf '  %s\n' "${bad[@]}" >&2
	echo "format: run scripts/check-format.sh --fix" >&2
	exit 1
fi
echo "format: ${#files[@]} files clean"
