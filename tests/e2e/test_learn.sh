#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, learning mode with real traffic between two namespaces:
#  1. the policy in force allows only ICMPv6 (neighbour discovery); learning mode forwards
#     everything as dry-run, so a ping, a TCP echo on 9000 and UDP datagrams on 9001 get
#     through, and the candidates show them, with what the policy in force would deny;
#  2. vigild restarts: the session goes on (mode learn) and what it learnt is still there;
#  3. the proposal (checked: every observed aggregate allowed) is applied and the mode set to
#     enforce: the same traffic still flows, and a new kind (TCP to 9002, a ping the other
#     way) is denied.
source "$(dirname "$0")/lib.sh"
e2e_require

PORT=$((17000 + E2E_ID % 1000))
TOKEN=e2e-learn-$E2E_ID
SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
BASE=http://127.0.0.1:$PORT/api/v1
api() { curl -s -H "Authorization: Bearer $TOKEN" "$@"; }
json() { /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: nd, proto: icmpv6, action: allow}
YAML
e2e_write_config "policy: {file: $WORK/policy.yaml}" \
	"store: {path: $WORK/vigil.db, batch_interval: 100ms}" \
	"mgmt: {port: $PORT, tokens: [{name: ops, role: admin, sha256: $SHA}]}"

# Servers in B: a TCP echo on 9000 and on 9002, UDP on 9001 counting datagrams.
servers() {
	for p in 9000 9002; do
		bg_in "$NS_B" /usr/bin/python3 -c '
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(8)
def echo(c):
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
while True:
    c, _ = srv.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
' $p
	done
	bg_in "$NS_B" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9001))
while True:
    d, a = s.recvfrom(64)
    s.sendto(d, a)
'
	sleep 0.3
}
tcp_echo() { # $1: port; prints ok or fail
	in_a /usr/bin/python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.settimeout(2)
    s.sendall(b"hello\n")
    print("ok" if s.recv(64) == b"hello\n" else "fail")
except OSError:
    print("fail")
' $IP_B "$1"
}
udp_echo() {
	in_a /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
ok = 0
for i in range(5):
    s.sendto(b"%d" % i, (sys.argv[1], 9001))
    try:
        ok += s.recvfrom(64)[0] == b"%d" % i
    except OSError:
        pass
print("ok" if ok == 5 else "fail %d" % ok)
' $IP_B
}
traffic_ok() {
	in_a ping -c 2 -W 2 $IP_B >/dev/null || fail "$1: ping A -> B failed"
	[[ $(tcp_echo 9000) == ok ]] || fail "$1: TCP echo on 9000 failed"
	[[ $(udp_echo) == ok ]] || fail "$1: UDP echo on 9001 failed"
}
wait_api() {
	for _ in $(seq 100); do
		api "$BASE/mode" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "the API did not answer"
}

# 1. Learn.
e2e_start_vigild
wait_api
servers
[[ $(tcp_echo 9000) == fail ]] || fail "the policy in force should deny TCP 9000"
api -X PUT -H 'Content-Type: application/json' -d '{"mode": "learn"}' "$BASE/mode" >"$WORK/mode.json"
[[ $(json 'd["mode"]' <"$WORK/mode.json") == learn ]] || fail "mode learn: $(cat "$WORK/mode.json")"
traffic_ok "learning"
log "learning: ping, TCP 9000 and UDP 9001 forwarded although the policy denies them"
learnt() { # waits until the candidates cover tcp/9000, udp/9001 and icmp from A to B
	for _ in $(seq 100); do
		api "$BASE/learn" >"$WORK/learn.json"
		/usr/bin/python3 - "$WORK/learn.json" $IP_A $IP_B <<'PY' && return 0
import json, sys
d = json.load(open(sys.argv[1]))
want = {(6, "9000"), (17, "9001"), (1, None)}
got = set()
for c in d.get("candidates", []):
    if sys.argv[2] in c["from"] and sys.argv[3] in c["to"]:
        for p in c["ports"] or [None]:
            if (c["proto"], p) in want and c["denied_flows"] > 0:
                got.add((c["proto"], p))
sys.exit(0 if got == want else 1)
PY
		sleep 0.2
	done
	fail "the candidates do not show the traffic: $(head -c 2000 "$WORK/learn.json")"
}
learnt
log "candidates: $(json 'len(d["candidates"])' <"$WORK/learn.json"), each with what the policy in force would deny"

# 2. Restart: still learning, still knows.
e2e_stop_vigild
ip netns del "$NS_A" 2>/dev/null || true
ip netns del "$NS_B" 2>/dev/null || true
e2e_start_vigild
wait_api
[[ $(api "$BASE/mode" | json 'd["mode"]') == learn ]] || fail "the session did not survive the restart"
learnt
servers
log "restart: mode learn and the candidates came back from the store"

# 3. Propose, apply, enforce.
api "$BASE/learn/proposal" >"$WORK/proposal.json"
/usr/bin/python3 - "$WORK/proposal.json" <<'PY' || fail "proposal: $(head -c 3000 "$WORK/proposal.json")"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["check"]
assert c["observed"] > 0 and c["allowed"] == c["observed"] and c["not_allowed"] == 0, c
assert d["default"] == "drop" and d["rules"] > 0 and "rules" in d["summary"], d
open(sys.argv[1] + ".yaml", "w").write(d["text"])
PY
log "proposal: $(json 'd["rules"]' <"$WORK/proposal.json") rules, $(json 'd["check"]["allowed"]' <"$WORK/proposal.json") observed aggregates allowed, none left out"
api -X PUT -H 'Content-Type: application/yaml' --data-binary @"$WORK/proposal.json.yaml" \
	"$BASE/policy" >"$WORK/put.json"
[[ $(json 'd["unchanged"]' <"$WORK/put.json") == False ]] || fail "PUT policy: $(cat "$WORK/put.json")"
api -X PUT -H 'Content-Type: application/json' -d '{"mode": "enforce"}' "$BASE/mode" >"$WORK/mode.json"
[[ $(json 'd["mode"] + " " + d["previous"]' <"$WORK/mode.json") == "enforce learn" ]] ||
	fail "mode enforce: $(cat "$WORK/mode.json")"
[[ $(api "$BASE/learn" | json 'd["state"]["active"]') == False ]] || fail "learning did not stop"
traffic_ok "enforcing the proposal"
log "enforcing the proposal: the learnt traffic still flows"
[[ $(tcp_echo 9002) == fail ]] || fail "TCP 9002 (never seen) got through"
in_b ping -c 1 -W 1 $IP_A >/dev/null && fail "a ping B -> A (never seen) got through"
log "new kinds of traffic (TCP 9002, ping B -> A) are denied"

e2e_stop_vigild
log "PASS"
