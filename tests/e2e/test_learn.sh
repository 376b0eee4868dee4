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
source "$(dirname "$0")/learn_setup.sh"

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
