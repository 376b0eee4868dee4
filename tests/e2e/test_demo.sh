#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's first command works: scripts/demo.sh runs the shipped config with traffic, the
# client's requests succeed through vigild, and Ctrl-C-style shutdown leaves nothing behind.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [[ $EUID -ne 0 ]]; then
	echo "needs root; skipped"
	exit 77
fi
if ip netns list | grep -qw vigil-client || ip link show vigil-a >/dev/null 2>&1; then
	echo "test_demo: a demo is already running here; skipped"
	exit 77
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
VIGIL_DEMO_SKIP_SETUP=1 VIGILD=${VIGILD:?} timeout 90 "$root/scripts/demo.sh" --duration 8 >"$log" 2>&1 ||
	{ cat "$log"; echo "test_demo: demo.sh failed" >&2; exit 1; }
ok=$(grep -c '^200 262144B' "$root/.run/demo/client.log" || true)
echo "test_demo: $ok successful downloads of 256 KiB through vigild"
((ok >= 3)) || { cat "$log" "$root/.run/demo/client.log"; exit 1; }
grep -q 'removed namespaces' "$log" || { cat "$log"; exit 1; }
! ip netns list | grep -qw vigil-client || { echo "namespace left behind" >&2; exit 1; }
grep -E '^ +(outside|inside) ' "$log"
