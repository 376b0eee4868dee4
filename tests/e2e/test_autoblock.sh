#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, the closed loop (docs/STORE.md, "Closed loop"): the port scan detector is set to
# block its source for 4 s. A scanner namespace reaches the server, then scans 30 closed ports
# of it with real kernel TCP connects; once the alert fires, vigild drops every packet from and
# to the scanner (the server stays unreachable, the blocklist table in SQLite holds the entry),
# and when the TTL has passed on the wall clock (ctl_blocker_expire is called with wall time)
# the server is reachable again. Expiry is on wall time, hence a live test rather than a pcap
# case.
# Without hugepages unless asked: net_tap does not need them, and the control maps of the
# detectors do not have to compete for the machine's few free ones.
E2E_HUGEPAGES=${E2E_HUGEPAGES:-off}
source "$(dirname "$0")/lib.sh"
e2e_require
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (scripts/deps.sh installs it)"

TTL=4
# A refused connection is CLOSED after the server's RST: end it after 1 s instead of 10 s, so
# that the detector, which judges flow ends, sees the probes soon after the scan.
e2e_write_config \
	"flows: {timeouts: {tcp_closed: 1s}}" \
	"store: {path: $WORK/vigil.db, batch_interval: 100ms}" \
	"alerts: {eve_log: $WORK/eve.json}" \
	"detectors: {port_scan: {block: true, block_ttl: ${TTL}s}}"
e2e_start_vigild --stats-json "$WORK/stats.json"

bg_in "$NS_B" /usr/bin/python3 -c '
import socket
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8080))
srv.listen(64)
while True:
    c, _ = srv.accept()
    c.sendall(b"hello\n")
    c.close()
'

# One connection to the service from the scanner: prints "ok" or "no" (0.5 s to answer).
reach() {
	in_a /usr/bin/python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 8080), timeout=0.5)
    print("ok" if s.recv(16) == b"hello\n" else "no")
except OSError:
    print("no")
' $IP_B
}

for _ in $(seq 50); do
	[[ $(reach) == ok ]] && break
	sleep 0.1
done
[[ $(reach) == ok ]] || fail "the service is not reachable through vigild before the scan"
log "service reachable before the scan"

# The scan: 30 closed ports, each a SYN answered by RST from the server's kernel.
in_a /usr/bin/python3 -c '
import errno, socket, sys
refused = 0
for port in range(20001, 20031):
    s = socket.socket()
    s.settimeout(0.5)
    if s.connect_ex((sys.argv[1], port)) == errno.ECONNREFUSED:
        refused += 1
    s.close()
sys.exit(0 if refused == 30 else 1)
' $IP_B || fail "the scan did not get 30 refusals (vigild should forward it until the alert)"
scan_end=$(date +%s%3N)
log "scanned 30 closed ports of $IP_B from $IP_A"

blocked_at=
for _ in $(seq 100); do
	if grep -q "blocklist: $IP_A blocked" "$WORK/vigild.log"; then
		blocked_at=$(date +%s%3N)
		break
	fi
	sleep 0.05
done
[[ -n $blocked_at ]] || fail "no block of $IP_A within 5 s of the scan"
log "$IP_A blocked $((blocked_at - scan_end)) ms after the scan ended"

/usr/bin/python3 - "$WORK/eve.json" "$IP_A" "$IP_B" <<'PY' ||
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# the small-scan finding at five ports (low: no block), then the vertical scan that blocks
assert [a["alert"]["signature"] for a in alerts] == ["Small port scan", "Vertical port scan"], alerts
for a in alerts:
    assert a["src_ip"] == sys.argv[2] and a["dest_ip"] == sys.argv[3], a
    assert a["vigil"]["detector"] == "port_scan", a
assert alerts[0]["vigil"]["severity"] == "low", alerts[0]
PY
	fail "the EVE log does not hold the small and the vertical port scan alerts naming the scanner and the server"

# While blocked: the scanner cannot reach the server, nor the server the scanner.
[[ $(reach) == no ]] || fail "the scanner still reaches the server while blocked"
in_b ping -c 1 -W 1 $IP_A >/dev/null 2>&1 &&
	fail "the server still reaches the scanner while blocked"
stored() {
	sqlite3 -batch "$WORK/vigil.db" \
		"SELECT addr, source, reason, expires_ms - created_ms FROM blocklist" 2>/dev/null || true
}
want="$IP_A|port_scan|Vertical port scan|$((TTL * 1000))"
for _ in $(seq 20); do
	[[ $(stored) == "$want" ]] && break
	sleep 0.05
done
[[ $(stored) == "$want" ]] || fail "the blocklist table holds '$(stored)', not '$want'"
log "while blocked: no connection either way; blocklist table: $want"

# After the TTL: reachable again, not before.
back_at=
while (($(date +%s%3N) < blocked_at + (TTL + 3) * 1000)); do
	if [[ $(reach) == ok ]]; then
		back_at=$(date +%s%3N)
		break
	fi
	sleep 0.2
done
[[ -n $back_at ]] || fail "the scanner was still blocked $((TTL + 3)) s after the block"
held=$((back_at - blocked_at))
log "reachable again $held ms after the block was seen (TTL $TTL s)"
((held >= TTL * 1000 - 500)) || fail "the block was lifted after $held ms, before its TTL of $TTL s"
grep -q "blocklist: $IP_A released" "$WORK/vigild.log" || fail "no release in the log"
for _ in $(seq 20); do
	[[ -z $(stored) ]] && break
	sleep 0.05
done
[[ -z $(stored) ]] || fail "the expired entry is still in the blocklist table: $(stored)"

e2e_stop_vigild
blocked=$(/usr/bin/python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["policy"]["blocked"])' "$WORK/stats.json")
((blocked > 0)) || fail "the dataplane counted no blocked packet"
log "the dataplane dropped $blocked packets from or to the scanner"
log "PASS"
