#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, learning one port pair (PUT /api/v1/mode {"mode": "learn", "pair": PORT}) with
# real traffic between two namespaces:
#  1. the policy in force allows only ICMPv6; the pair learns while the global mode stays
#     enforce: a ping, a TCP echo on 9000 and UDP on 9001 get through, and the candidates show
#     them with the port they came in on;
#  2. vigild restarts: the pair learns on (the store kept it), the global mode is enforce;
#  3. a preview for the pair names its ports and finds the learnt traffic denied by the policy
#     in force;
#  4. the proposal (rules with `in:`, learned-rest for the pair's other traffic) is applied and
#     the pair set to enforce: the same traffic still flows, TCP to 9002 and a ping the other
#     way are denied.
source "$(dirname "$0")/lib.sh"
e2e_require

PORT=$((18000 + E2E_ID % 1000))
TOKEN=e2e-learn-pair-$E2E_ID
source "$(dirname "$0")/learn_setup.sh"

# 1. Learn the pair (named by either of its ports).
e2e_start_vigild
wait_api
servers
[[ $(tcp_echo 9000) == fail ]] || fail "the policy in force should deny TCP 9000"
api -X PUT -H 'Content-Type: application/json' -d '{"mode": "learn", "pair": "nosuch"}' \
	-o /dev/null -w '%{http_code}' "$BASE/mode" >"$WORK/code"
[[ $(cat "$WORK/code") == 400 ]] || fail "a pair of no port: $(cat "$WORK/code")"
api -X PUT -H 'Content-Type: application/json' -d '{"mode": "learn", "pair": "inside"}' \
	"$BASE/mode" >"$WORK/mode.json"
pair_mode() { json '" ".join([d["mode"]] + [p["mode"] for p in d["pairs"]])'; }
[[ $(pair_mode <"$WORK/mode.json") == "enforce learn" ]] ||
	fail "mode learn for the pair: $(cat "$WORK/mode.json")"
traffic_ok "learning the pair"
log "learning the pair: ping, TCP 9000 and UDP 9001 forwarded; the global mode is enforce"
# One session at a time: learning globally meanwhile is a conflict, and changes nothing.
api -X PUT -H 'Content-Type: application/json' -d '{"mode": "learn"}' \
	-o "$WORK/conflict.json" -w '%{http_code}' "$BASE/mode" >"$WORK/code"
[[ $(cat "$WORK/code") == 409 ]] || fail "global learn during the pair's: $(cat "$WORK/code") $(cat "$WORK/conflict.json")"
[[ $(api "$BASE/mode" | pair_mode) == "enforce learn" ]] || fail "the refused call changed the mode"
learnt() { # waits until the candidates cover tcp/9000, udp/9001 and icmp from A to B on 'outside'
	for _ in $(seq 100); do
		api "$BASE/learn" >"$WORK/learn.json"
		/usr/bin/python3 - "$WORK/learn.json" $IP_A $IP_B <<'PY' && return 0
import json, sys
d = json.load(open(sys.argv[1]))
assert d["state"]["pair"] == ["outside", "inside"], d["state"]
want = {(6, "9000"), (17, "9001"), (1, None)}
got = set()
for c in d.get("candidates", []):
    if sys.argv[2] in c["from"] and sys.argv[3] in c["to"] and c["in_port"] == "outside":
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
log "candidates: $(json 'len(d["candidates"])' <"$WORK/learn.json"), each with its ingress port"

# 2. Restart: the pair still learns.
e2e_stop_vigild
ip netns del "$NS_A" 2>/dev/null || true
ip netns del "$NS_B" 2>/dev/null || true
e2e_start_vigild
wait_api
[[ $(api "$BASE/mode" | pair_mode) == "enforce learn" ]] ||
	fail "the pair's session did not survive the restart: $(api "$BASE/mode")"
learnt
servers
traffic_ok "learning the pair after the restart"
log "restart: the pair learns on, the candidates came back from the store"

# 3. Preview the policy in force's text for the pair: the learnt traffic is what it denies.
api -X POST -H 'Content-Type: application/yaml' --data-binary @"$WORK/policy.yaml" \
	"$BASE/policy/preview?since=-1h&pair=outside" >"$WORK/preview.json"
/usr/bin/python3 - "$WORK/preview.json" <<'PY' || fail "preview: $(head -c 2000 "$WORK/preview.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ports"] == ["outside", "inside"], d["ports"]
assert d["totals"]["aggregates"] > 0, d["totals"]
for g in d["changes"]:
    for s in g["samples"]:
        assert s["in_port"] in ("outside", "inside"), s
PY
api -X POST -H 'Content-Type: application/yaml' --data-binary @"$WORK/policy.yaml" \
	-o /dev/null -w '%{http_code}' "$BASE/policy/preview?pair=nosuch" >"$WORK/code"
[[ $(cat "$WORK/code") == 400 ]] || fail "a preview for a pair of no port: $(cat "$WORK/code")"
log "preview for the pair: $(json 'd["totals"]["aggregates"]' <"$WORK/preview.json") aggregates of its ports"

# 4. Propose, apply, enforce the pair.
api "$BASE/learn/proposal" >"$WORK/proposal.json"
/usr/bin/python3 - "$WORK/proposal.json" <<'PY' || fail "proposal: $(head -c 3000 "$WORK/proposal.json")"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["check"]
assert c["observed"] > 0 and c["allowed"] == c["observed"] and c["not_allowed"] == 0, c
assert 'in: "outside"' in d["text"] and "name: learned-rest" in d["text"], d["text"]
open(sys.argv[1] + ".yaml", "w").write(d["text"])
PY
log "proposal: $(json 'd["rules"]' <"$WORK/proposal.json") rules with in:, every observed aggregate allowed"
api -X PUT -H 'Content-Type: application/yaml' --data-binary @"$WORK/proposal.json.yaml" \
	"$BASE/policy" >"$WORK/put.json"
[[ $(json 'd["unchanged"]' <"$WORK/put.json") == False ]] || fail "PUT policy: $(cat "$WORK/put.json")"
api -X PUT -H 'Content-Type: application/json' -d '{"mode": "enforce", "pair": "outside"}' \
	"$BASE/mode" >"$WORK/mode.json"
[[ $(pair_mode <"$WORK/mode.json") == "enforce enforce" ]] ||
	fail "mode enforce for the pair: $(cat "$WORK/mode.json")"
[[ $(api "$BASE/learn" | json 'd["state"]["active"]') == False ]] || fail "learning did not stop"
traffic_ok "enforcing the proposal"
log "enforcing the proposal on the pair: the learnt traffic still flows"
[[ $(tcp_echo 9002) == fail ]] || fail "TCP 9002 (never seen) got through"
in_b ping -c 1 -W 1 $IP_A >/dev/null && fail "a ping B -> A (never seen) got through"
log "new kinds of traffic (TCP 9002, ping B -> A) are denied"

e2e_stop_vigild
log "PASS"
