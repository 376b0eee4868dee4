#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A policy whose `inspect` names a signature group (rule file) that the configured signature
# paths do not have is refused with its position: by --check-policy, and by vigild at start
# before anything is started. The shipped policy, whose groups exist, passes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${VIGILD:=$root/build/app/vigild}"
work=$(mktemp -d /tmp/vigil-check-policy-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "test_check_policy: $*" >&2
	exit 1
}

"$VIGILD" -c "$root/conf/vigil.yaml" --check-policy "$root/conf/policy.yaml" >"$work/ok.out" ||
	fail "the shipped policy was refused: $(cat "$work/ok.out")"

line=$(grep -n 'inspect: \[vigil-exploit\]' "$root/conf/policy.yaml" | cut -d: -f1)
[[ -n $line ]] || fail "the shipped policy no longer inspects with vigil-exploit"
sed 's/inspect: \[vigil-exploit\]/inspect: [vigil-exploitz]/' "$root/conf/policy.yaml" >"$work/policy.yaml"
rc=0
"$VIGILD" -c "$root/conf/vigil.yaml" --check-policy "$work/policy.yaml" >"$work/check.out" 2>&1 || rc=$?
((rc == 1)) || fail "--check-policy exited $rc, expected 1: $(cat "$work/check.out")"
grep -q "policy.yaml:$line:[0-9]*: error: .*no signature group is named 'vigil-exploitz'" \
	"$work/check.out" || fail "no positioned error: $(cat "$work/check.out")"

# At start: the same error, and vigild stops before EAL (no port, no hugepage touched). The
# shipped config, copied next to the policy with what it names relative to itself.
mkdir -p "$work/conf"
cp "$root/conf/vigil.yaml" "$work/conf/"
cp "$work/policy.yaml" "$work/conf/policy.yaml"
ln -s "$root/conf/signatures" "$work/conf/signatures"
ln -s "$root/mgmt" "$work/mgmt"
rc=0
"$VIGILD" -c "$work/conf/vigil.yaml" >"$work/start.out" 2>&1 || rc=$?
((rc != 0)) || fail "vigild started with an unknown signature group"
grep -q "no signature group is named 'vigil-exploitz'" "$work/start.out" ||
	fail "no error at start: $(cat "$work/start.out")"
if grep -q "EAL\|port in\|forwarding" "$work/start.out"; then
	fail "vigild went past the policy check: $(cat "$work/start.out")"
fi
echo "test_check_policy: ok"
