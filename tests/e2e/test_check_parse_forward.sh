#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vigild checks the names in parse.forward with the parser's own list (the dataplane registers
# dp_parse_reason_known with the config loader, which is in common): an unknown name, and
# "none", are refused by --check-config at their line and column; known names pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${VIGILD:=$root/build/app/vigild}"
work=$(mktemp -d /tmp/vigil-check-parse-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "test_check_parse_forward: $*" >&2
	exit 1
}

ports='ports:
  - name: a
    device: net_null0
  - name: b
    device: net_null1
pairs:
  - [a, b]
parse:'
printf '%s\n  forward: [tcp_bad_flags, nope, none]\n' "$ports" >"$work/bad.yaml"
printf '%s\n  forward: [tcp_bad_flags, ipv4_bad_checksum]\n' "$ports" >"$work/good.yaml"

"$VIGILD" --check-config -c "$work/good.yaml" >"$work/good.out" 2>&1 ||
	fail "known reasons were refused: $(cat "$work/good.out")"
if "$VIGILD" --check-config -c "$work/bad.yaml" >"$work/bad.out" 2>&1; then
	fail "unknown reasons were accepted"
fi
msg="is not a parse error reason (see docs/PARSER.md, e.g. tcp_bad_flags, ipv4_bad_checksum)"
grep -qxF "$work/bad.yaml:9:28: error: 'forward': 'nope' $msg" "$work/bad.out" ||
	fail "no error for 'nope' at 9:28: $(cat "$work/bad.out")"
grep -qxF "$work/bad.yaml:9:34: error: 'forward': 'none' $msg" "$work/bad.out" ||
	fail "no error for 'none' at 9:34: $(cat "$work/bad.out")"
echo "test_check_parse_forward: ok"
