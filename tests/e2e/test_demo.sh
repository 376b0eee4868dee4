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
rm -f "$root/.run/demo/client.log"
vigilctl=${VIGILCTL:-$(dirname "$VIGILD")/vigilctl}
VIGIL_DEMO_SKIP_SETUP=1 VIGILD=${VIGILD:?} timeout 90 "$root/scripts/demo.sh" --duration 12 >"$log" 2>&1 &
demo=$!
fail() {
	cat "$log"
	echo "test_demo: $*" >&2
	kill "$demo" 2>/dev/null
	wait "$demo"
	exit 1
}

# While it runs: the API answers, and the client's traversal request raised its signature alert
# (the store keeps earlier demos' alerts; only those from this run count).
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for _ in $(seq 300); do
	grep -q '^attack' "$root/.run/demo/client.log" 2>/dev/null && break
	sleep 0.1
done
grep -q '^attack' "$root/.run/demo/client.log" || fail "the client sent no attack request"
"$vigilctl" status | grep -E 'mode|flows' || fail "vigilctl status failed"
alerts=
for _ in $(seq 30); do
	alerts=$("$vigilctl" -j alerts --sid 9000107 --since "$since")
	grep -q '"sid": *9000107' <<<"$alerts" && break
	sleep 0.2
done
grep -q '"sid": *9000107' <<<"$alerts" || fail "no alert for sid 9000107 through the API: $alerts"
echo "test_demo: the API reports the demo's signature alert (sid 9000107)"
curl -sf -o /dev/null http://127.0.0.1:8080/ || fail "the dashboard is not served"
# The shipped config lets loopback read without a token, never change: a local process of any
# user cannot turn enforcement off; a page whose name was rebound to 127.0.0.1 is not answered.
out=$(env -u VIGIL_TOKEN "$vigilctl" mode dry-run 2>&1) &&
	fail "a token-less mode change was accepted: $out"
grep -q "403 forbidden" <<<"$out" || fail "a token-less mode change: $out"
[[ $("$vigilctl" mode) == enforce ]] || fail "the mode changed without a token"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: rebound.example:8080' \
	http://127.0.0.1:8080/api/v1/status)
[[ $code == 421 ]] || fail "a request for another host name answered $code, not 421"
echo "test_demo: token-less loopback reads only; a foreign Host is refused"
# The shipped config drops root: the API says which user the kernel has vigild run as.
proc=$(curl -sf http://127.0.0.1:8080/api/v1/status | /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)["process"]
print(p["user"], p["root"], p["seccomp"], p["capabilities"])')
[[ $proc == "vigil False filter 0000000000000000" ]] || fail "vigild is not running unprivileged: $proc"
echo "test_demo: vigild runs as user vigil, no capabilities, seccomp filter"

wait "$demo" || { cat "$log"; echo "test_demo: demo.sh failed" >&2; exit 1; }
ok=$(grep -c '^200 262144B' "$root/.run/demo/client.log" || true)
echo "test_demo: $ok successful downloads of 256 KiB through vigild"
((ok >= 3)) || { cat "$log" "$root/.run/demo/client.log"; exit 1; }
grep -q 'telnet refused' "$root/.run/demo/client.log" || { cat "$root/.run/demo/client.log"; echo "test_demo: telnet was not refused" >&2; exit 1; }
grep -q 'removed namespaces' "$log" || { cat "$log"; exit 1; }
! ip netns list | grep -qw vigil-client || { echo "namespace left behind" >&2; exit 1; }
grep -E '^ +(outside|inside) ' "$log"
