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
# One clang-format for every file (a process per file took half a minute): each file that
# differs is named in a "code should be clang-formatted" diagnostic.
rc=0
out=$(clang-format --dry-run --Werror "${files[@]}" 2>&1 >/dev/null) || rc=$?
mapfile -t bad < <(grep -E '^[^:]+:[0-9]+:[0-9]+: (error|warning): code should be clang-formatted' \
	<<<"$out" | cut -d: -f1 | sort -u)
if ((rc != 0 && ${#bad[@]} == 0)); then
	printf '%s\n' "$out" >&2
	echo "format: clang-format failed (status $rc)" >&2
	exit 1
fi
if ((${#bad[@]})); then
	echo "format: ${#bad[@]} of ${#files[@]} files are not clang-format clean:" >&2
	printf '  %s\n' "${bad[@]}" >&2
	echo "format: run scripts/check-format.sh --fix" >&2
	exit 1
fi
echo "format: ${#files[@]} files clean"
