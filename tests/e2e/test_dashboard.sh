#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, the dashboard in a real browser: vigild joins two network namespaces, with a
# policy, a signature, a store and the management API serving mgmt/www. Traffic flows (a UDP
# stream the policy allows, UDP it denies, an HTTP request that matches the signature), then
# Debian's Chromium, driven by playwright-core (tests/e2e/dashboard/drive.mjs), checks what a
# user would: the ports and rising counters, the eBPF programs with their maps and uploads
# (two made through the API), the alert and its explanation, a viewer refused the mode
# switch, an operator switching to dry-run (checked with curl too), a block added and
# removed, the flow filter, learning (global, then one pair of two alone), and a failing
# endpoint confined to its panel. The full-page screenshot is left in $DASHBOARD_SHOT_DIR
# when set (the scratch folder goes on exit).
#
# Skipped (77) when Chromium is not installed or does not start, or when playwright-core cannot
# be installed from the npm registry (it goes to $VIGIL_PLAYWRIGHT_DIR, outside the repository,
# and is reused while tests/e2e/dashboard/package-lock.json is unchanged).
E2E_HUGEPAGES=${E2E_HUGEPAGES:-off}
source "$(dirname "$0")/lib.sh"
e2e_require
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PW_DIR=${VIGIL_PLAYWRIGHT_DIR:-/var/tmp/vigil-e2e-playwright}

skip() {
	echo "e2e: $*; skipped"
	exit 77
}

# The browser: installed, and able to render a page headless.
[[ -x $CHROMIUM ]] || skip "$CHROMIUM is not installed (scripts/deps.sh installs chromium)"
command -v node >/dev/null || skip "node is not installed"
command -v npm >/dev/null || skip "npm is not installed"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || skip "node $(node --version) is too old for playwright-core (20 or later)"
profile=$WORK/chromium-check
mkdir -p "$profile"
chromium_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
	--disable-background-networking --disable-component-update --disable-sync)
dom=$(timeout 60 "$CHROMIUM" "${chromium_flags[@]}" --user-data-dir="$profile" \
	--dump-dom 'data:text/html,<p id=x>chromium-runs</p>' 2>"$WORK/chromium.log" || true)
[[ $dom == *chromium-runs* ]] || {
	tail -n 5 "$WORK/chromium.log" >&2
	skip "$CHROMIUM does not run headless here"
}

# playwright-core, pinned by the lock file; no browser is downloaded (it drives $CHROMIUM).
lock_sum=$(sha256sum "$here/dashboard/package-lock.json" | cut -d' ' -f1)
mkdir -p "$PW_DIR"
(
	flock 9
	if [[ $(cat "$PW_DIR/.lock-sha256" 2>/dev/null) != "$lock_sum" ||
		! -f $PW_DIR/node_modules/playwright-core/package.json ]]; then
		rm -rf "$PW_DIR/node_modules" "$PW_DIR/.lock-sha256"
		cp "$here/dashboard/package.json" "$here/dashboard/package-lock.json" "$PW_DIR/"
		(cd "$PW_DIR" && timeout 180 npm ci --no-audit --no-fund --ignore-scripts) \
			>"$WORK/npm.log" 2>&1 || exit 1
		echo "$lock_sum" >"$PW_DIR/.lock-sha256"
	fi
) 9>"$PW_DIR.lock" || {
	tail -n 5 "$WORK/npm.log" >&2
	skip "playwright-core could not be installed with npm ci"
}
# Node resolves drive.mjs's import from the folder the script is in: run a copy in $WORK, next
# to a link to the installed modules.
cp "$here/dashboard/drive.mjs" "$WORK/drive.mjs"
ln -s "$PW_DIR/node_modules" "$WORK/node_modules"

# Tokens known to this run only; vigild gets their SHA-256.
VIEWER_TOKEN=viewer-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
OPERATOR_TOKEN=operator-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
ADMIN_TOKEN=admin-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
API_PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: nd, proto: icmpv6, action: allow}
  - {name: ping, proto: icmp, action: allow}
  - {name: web, proto: tcp, dport: 8080, action: allow}
  - {name: stream, proto: udp, dport: 9001, action: allow}
YAML
# eBPF programs (when built): a pre-filter on outside and the stream rule's program, both
# pass.o (every packet goes on), and a rule that drops the knock ports with port_knock.o and
# its two hash maps (port_knock.maps.yaml next to it), for the eBPF panel and its maps table.
BPF=0
if [[ -f ${BPF_DIR:-}/pass.o && -f $BPF_DIR/port_knock.o ]]; then
	BPF=1
	sed -i "s|dport: 9001, action: allow}|dport: 9001, action: allow, bpf: $BPF_DIR/pass.o}|" \
		"$WORK/policy.yaml"
	printf '  - {name: knock, proto: tcp, dport: [7001, 7002, 7003, 22], action: drop, bpf: %s}\n' \
		"$BPF_DIR/port_knock.o" >>"$WORK/policy.yaml"
	printf 'prefilter:\n  - {name: outside-pass, in: outside, bpf: %s}\n' "$BPF_DIR/pass.o" \
		>>"$WORK/policy.yaml"
fi
mkdir -p "$WORK/sigs"
cat >"$WORK/sigs/dashboard.rules" <<'RULES'
alert tcp any any -> any 8080 (msg:"VIGIL TEST dashboard canary in a request"; flow:to_server,established; content:"dashboard-canary"; classtype:web-application-attack; sid:9999001; rev:1;)
RULES
e2e_write_config \
	"policy: {file: $WORK/policy.yaml}" \
	"signatures: {paths: [$WORK/sigs]}" \
	"inspection: {flows: all}" \
	"flows: {update_interval: 1s}" \
	"store: {path: $WORK/vigil.db, batch_interval: 100ms}" \
	"mgmt:" \
	"  listen: 127.0.0.1" \
	"  port: $API_PORT" \
	"  www: $root/mgmt/www" \
	"  tokens:" \
	"    - {name: dash-viewer, role: viewer, sha256: $(sha "$VIEWER_TOKEN")}" \
	"    - {name: dash-operator, role: operator, sha256: $(sha "$OPERATOR_TOKEN")}" \
	"    - {name: dash-admin, role: admin, sha256: $(sha "$ADMIN_TOKEN")}"
# A second pair, east and west, taps left in this namespace (no traffic of the test's): the
# learning view learns one pair alone, and the other must keep the global mode.
/usr/bin/python3 - "$CFG" "$E2E_ID" <<'PY'
import sys
cfg, eid = sys.argv[1], sys.argv[2]
s = open(cfg).read()
old = "pairs: [[outside, inside]]\n"
assert s.count(old) == 1, "the config has no single pair to extend"
s = s.replace(old,
    f'  - {{name: east, device: "net_tap2,iface=vgc{eid}"}}\n'
    f'  - {{name: west, device: "net_tap3,iface=vgd{eid}"}}\n'
    "pairs: [[outside, inside], [east, west]]\n")
open(cfg, "w").write(s)
PY
e2e_start_vigild

API=http://127.0.0.1:$API_PORT
for _ in $(seq 100); do
	curl -sf "$API/api/v1/health" >/dev/null && break
	sleep 0.1
done
curl -sf "$API/api/v1/health" >/dev/null || fail "the management API did not answer on port $API_PORT"
index=$(curl -sf "$API/") || fail "GET / failed"
[[ $index == *'<title>Vigil dashboard</title>'* ]] || fail "GET / does not serve the dashboard from mgmt/www"

# Traffic: a server for the signature's request, a steady allowed UDP stream (rising counters,
# a flow with bytes) and UDP to a port the policy denies (drops).
bg_in "$NS_B" /usr/bin/python3 -c '
import socket
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8080))
srv.listen(16)
while True:
    c, _ = srv.accept()
    c.settimeout(2)
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    except OSError:
        pass
    c.close()
'
bg_in "$NS_A" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 120
n = 0
while time.time() < end:
    s.sendto(b"x" * 200, (sys.argv[1], 9001))
    if n % 10 == 0:
        s.sendto(b"denied", (sys.argv[1], 9999))
    n += 1
    time.sleep(0.005)
' $IP_B
for _ in $(seq 50); do
	in_a curl -s -m 1 -o /dev/null "http://$IP_B:8080/" && break
	sleep 0.1
done
in_a curl -sf -m 2 -o /dev/null "http://$IP_B:8080/?q=dashboard-canary" ||
	fail "the request that matches the signature did not get through vigild"
# One knock (a SYN to the first knock port, which the knock rule drops): its program reads
# knock_config and writes the source's state in knock_state, for the maps table.
if ((BPF)); then
	in_a /usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(0.5)
try:
    s.connect((sys.argv[1], 7001))
except OSError:
    pass
' "$IP_B"
fi
log "traffic flowing; dashboard at $API/"

shot=$WORK/dashboard.png
mkdir -p "$WORK/chromium-profile"
DASH_URL=$API/ VIEWER_TOKEN=$VIEWER_TOKEN OPERATOR_TOKEN=$OPERATOR_TOKEN ADMIN_TOKEN=$ADMIN_TOKEN \
	CHROMIUM=$CHROMIUM \
	PROFILE_DIR=$WORK/chromium-profile SHOT=$shot SHOT_NARROW=$WORK/dashboard-narrow.png \
	CLIENT_IP=$IP_A NS_A=$NS_A SERVER_IP=$IP_B BPF=$BPF BPF_DIR=${BPF_DIR:-} \
	timeout 150 node "$WORK/drive.mjs" &
node_pid=$!
PIDS+=("$node_pid")
rc=0
wait "$node_pid" || rc=$?
if [[ -n ${DASHBOARD_SHOT_DIR:-} && -f $shot ]]; then
	mkdir -p "$DASHBOARD_SHOT_DIR"
	cp "$shot" "$WORK/dashboard-narrow.png" "$DASHBOARD_SHOT_DIR/" 2>/dev/null || true
	log "screenshots copied to $DASHBOARD_SHOT_DIR"
fi
((rc == 0)) || fail "the browser checks failed (status $rc)"

# The operator's writes are in the daemon's audit trail.
grep -q "audit: PUT /api/v1/mode by dash-operator -> 200" "$WORK/vigild.log" ||
	fail "the mode switch is not in vigild's audit log"
grep -q "audit: PUT /api/v1/mode by dash-viewer -> 403" "$WORK/vigild.log" ||
	fail "the viewer's refused mode switch is not in vigild's audit log"
e2e_stop_vigild
log "PASS"
