#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The shipped unit (dist/systemd/vigild.service) passes `systemd-analyze verify` with nothing to
# say: unknown keys, bad values and missing commands are reported as warnings there, so any
# output fails. ExecStart= and ExecStartPre= point at the binary under test (verify checks that
# the command exists). Skipped (77) when systemd-analyze is missing.
set -euo pipefail
UNIT=${1:?usage: test_systemd_unit.sh UNIT VIGILD}
VIGILD=${2:?usage: test_systemd_unit.sh UNIT VIGILD}
command -v systemd-analyze >/dev/null || {
	echo "systemd-unit: systemd-analyze is not installed (package systemd); skipped"
	exit 77
}
work=$(mktemp -d /tmp/vigil-unit.XXXXXX)
trap 'rm -rf "$work"' EXIT
grep -q '^ExecStart=/usr/local/bin/vigild ' "$UNIT" || {
	echo "systemd-unit: FAIL: ExecStart= does not run /usr/local/bin/vigild" >&2
	exit 1
}
sed "s#/usr/local/bin/vigild#$VIGILD#g" "$UNIT" >"$work/vigild.service"
rc=0
out=$(cd "$work" && systemd-analyze verify vigild.service 2>&1) || rc=$?
if ((rc != 0)) || [[ -n $out ]]; then
	echo "systemd-unit: FAIL: systemd-analyze verify (exit $rc):" >&2
	echo "$out" >&2
	exit 1
fi
grep -q '^Type=notify$' "$UNIT" || { echo "systemd-unit: FAIL: not Type=notify" >&2; exit 1; }
grep -q '^MemoryDenyWriteExecute' "$UNIT" && {
	echo "systemd-unit: FAIL: MemoryDenyWriteExecute breaks the eBPF and PCRE2 JITs" >&2
	exit 1
}
echo "systemd-unit: systemd-analyze verify $UNIT: no warning; PASS"
