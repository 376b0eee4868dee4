#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, an eBPF program's map changed through the API while traffic flows:
#  1. a rule runs allow_list.o (an lpm allow list of sources, bpf/examples) on UDP to port 9999;
#     its map allows 10.77.0.1 (A's address) from the file next to the object;
#  2. A sends a datagram every 2 ms, each from a new source port (a new flow, so the program runs
#     and looks the map up for every one), from before the test puts and deletes 100 other
#     prefixes 15 times through PUT and DELETE /api/v1/bpf/maps/allowed4/entries until after it
#     is done: B must get every datagram;
#  3. a second address of A (10.77.0.3) is dropped; PUT it: its new flows pass; DELETE it: they
#     are dropped again; without reloading the program (one policy version throughout);
#  4. a bad request is a 400 naming the member and changes nothing; the changes are audited;
#  5. SIGHUP compiles the policy again: the map keeps the API's entry, and takes the change made
#     to its file meanwhile (docs/BPF.md, "Maps across versions");
#  6. a pre-filter's map (allow_list.o on outside, maps gate4 and gate6) is changed through the
#     API like a rule's: what it drops follows;
#  7. vigild stops (SIGTERM), the map's file is edited, a state file is spoilt, vigild starts
#     again: each map holds what it held with the file's changes on top (docs/BPF.md, "Maps
#     across restarts"), 10.77.0.3 passes again on the API's entries alone, and the spoilt
#     file is set aside.
# The map's counters (lookups, hits) follow the traffic, in the status and GET /bpf/maps.
# Bounded: about 25 s (at most 40 s of traffic). BPF_DIR: the built objects (build/bpf).
E2E_ID=${E2E_ID:-bpfm$$}
source "$(dirname "$0")/lib.sh"
e2e_require
[[ -f ${BPF_DIR:-}/allow_list.o ]] || {
	echo "e2e: no eBPF objects in BPF_DIR (clang not found at build time); skipped"
	exit 77
}
PORT=$((19000 + $$ % 1000))
TOKEN=e2e-bpfmaps-$E2E_ID
SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
API=http://127.0.0.1:$PORT/api/v1
MAP=$API/bpf/maps/allowed4/entries

mkdir "$WORK/progs" "$WORK/state"
cp "$BPF_DIR"/allow_list.{o,maps.yaml} "$WORK/progs/"
cat >"$WORK/progs/allow_list.v4.yaml" <<YAML
entries:
  - {key: $IP_A/32, value: 1}
YAML
echo "entries: []" >"$WORK/progs/allow_list.v6.yaml"
cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: nd, proto: icmpv6, action: allow}
  - {name: ping, proto: icmp, action: allow}
  - {name: lan, proto: udp, dport: 9999, action: allow, bpf: progs/allow_list.o}
YAML
e2e_write_config "policy: {file: $WORK/policy.yaml}" \
	"store: {path: $WORK/state/vigil.db, batch_interval: 100ms}" \
	"mgmt: {port: $PORT, tokens: [{name: ops, role: admin, sha256: $SHA}]}"
e2e_start_vigild --stats-json "$WORK/stats.json"
in_a ping -c 1 -W 2 $IP_B >/dev/null || fail "ping through vigild failed"
in_a ip addr add 10.77.0.3/24 dev "$TAP_A"

# The receiver: every datagram's tag and number, until 2 s without one (at most 40 s).
cat >"$WORK/recv.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("0.0.0.0", 9999))
s.settimeout(0.2)
got, last, end = set(), time.time(), time.time() + 40
open(sys.argv[1] + ".ready", "w").close()
while time.time() < end and time.time() - last < 2:
    try:
        data, _ = s.recvfrom(2048)
    except socket.timeout:
        continue
    got.add(data.decode().split()[0] + " " + data.decode().split()[1])
    last = time.time()
with open(sys.argv[1], "w") as f:
    f.write("\n".join(sorted(got)) + "\n")
PY
# The sender: COUNT datagrams from SRC to B:9999, each from its own source port (PORT0 + i: a
# new flow), one every GAP seconds; COUNT 0: until the file STOP exists. Writes how many it sent
# to STOP.sent.
cat >"$WORK/send.py" <<'PY'
import os, socket, sys, time
src, dst, tag, count, gap, port0 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), \
    float(sys.argv[5]), int(sys.argv[6])
stop = sys.argv[7] if len(sys.argv) > 7 else None
i = 0
while (count and i < count) or (not count and not os.path.exists(stop) and i < 20000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, port0 + i))
    s.sendto(("%s %d" % (tag, i)).encode(), (dst, 9999))
    s.close()
    i += 1
    time.sleep(gap)
if stop:
    with open(stop + ".sent", "w") as f:
        f.write("%d\n" % i)
PY
start_receiver() {
	rm -f "$WORK/got" "$WORK/got.ready"
	bg_in "$NS_B" /usr/bin/python3 "$WORK/recv.py" "$WORK/got"
	for _ in $(seq 50); do [[ -f $WORK/got.ready ]] && return 0; sleep 0.05; done
	fail "the receiver did not start"
}
wait_receiver() {
	for _ in $(seq 450); do [[ -f $WORK/got ]] && return 0; sleep 0.1; done
	fail "the receiver did not finish"
}
count() { # count TAG: datagrams of TAG received
	grep -c "^$1 " "$WORK/got" || true
}
api() { # api METHOD URL [BODY]: prints the status, the body goes to $WORK/resp
	curl -s -o "$WORK/resp" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $TOKEN" \
		${3:+--data "$3"} "$2"
}
entries() { # entries VALUE: 100 /32s of 198.51.100/24 as a JSON list
	/usr/bin/python3 -c 'import json, sys; v = int(sys.argv[1]); print(json.dumps({"entries": [{"key": "198.51.100.%d/32" % i, "value": v} for i in range(100)]}))' "$1"
}
keys() { # the same, for ?keys=
	/usr/bin/python3 -c 'print(",".join("198.51.100.%d/32" % i for i in range(100)))'
}
map_count() {
	curl -s -H "Authorization: Bearer $TOKEN" "$MAP" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["count"])'
}

(($(map_count) == 1)) || fail "the map does not hold the file's entry"

# 2. Traffic while the map changes 30 times: it starts before the first change and stops after
# the last one.
entries 1 >"$WORK/put.json"
del_keys=$(keys)
start_receiver
bg_in "$NS_A" /usr/bin/python3 "$WORK/send.py" $IP_A $IP_B flow 0 0.002 20000 "$WORK/stop"
sleep 0.3
changes=0 t0=$(date +%s%N)
for round in $(seq 15); do
	st=$(api PUT "$MAP" "@$WORK/put.json")
	[[ $st == 200 ]] || fail "PUT round $round: $st $(cat "$WORK/resp")"
	st=$(api DELETE "$MAP?keys=$del_keys")
	[[ $st == 200 ]] || fail "DELETE round $round: $st $(cat "$WORK/resp")"
	changes=$((changes + 2))
done
t1=$(date +%s%N)
sleep 0.3
touch "$WORK/stop"
wait_receiver
[[ -f $WORK/stop.sent ]] || fail "the sender did not say how many it sent"
sent=$(cat "$WORK/stop.sent") got=$(count flow)
log "$changes map changes (100 prefixes each) in $(((t1 - t0) / 1000000)) ms while $sent new flows passed: $got received"
# The sender starts before the first change and stops after the last one; a new flow every
# 2 ms makes several hundred over the window even when the changes are quick (1.6 s on a quiet
# machine made 982).
((sent > 300 && sent < 20000)) || fail "$sent datagrams sent: the traffic did not run as long as the changes"
((got == sent)) || fail "$((sent - got)) of $sent datagrams lost while the map changed"
(($(map_count) == 1)) || fail "the map does not hold its entry alone after the changes"

# 3. A new entry takes effect for new flows, and its removal too.
phase() { # phase TAG PORT0: 5 datagrams from 10.77.0.3; prints how many B got
	start_receiver
	in_a /usr/bin/python3 "$WORK/send.py" 10.77.0.3 $IP_B "$1" 5 0.01 "$2"
	wait_receiver
	count "$1"
}
(($(phase before 30000) == 0)) || fail "10.77.0.3 passed before it was in the map"
st=$(api PUT "$MAP" '{"entries": [{"key": "10.77.0.3", "value": 7}]}')
[[ $st == 200 ]] || fail "PUT 10.77.0.3: $st $(cat "$WORK/resp")"
(($(phase added 30010) == 5)) || fail "10.77.0.3 did not pass once in the map"
st=$(api DELETE "$MAP?keys=10.77.0.3/32")
[[ $st == 200 ]] || fail "DELETE 10.77.0.3: $st $(cat "$WORK/resp")"
(($(phase removed 30020) == 0)) || fail "10.77.0.3 still passed after its removal"
log "${SECONDS}s: 10.77.0.3: dropped, passed once put, dropped once deleted"

# 4. A bad request changes nothing.
st=$(api PUT "$MAP" '{"entries": [{"key": "10.9.0.0/16", "value": 1}, {"key": "10.9.0.1/16", "value": 1}]}')
[[ $st == 400 ]] || fail "a prefix with host bits: $st, not 400"
grep -q '"member": *"entries\[1\].key"' "$WORK/resp" || fail "the 400 does not name entries[1].key: $(cat "$WORK/resp")"
grep -q "has bits set past its /16" "$WORK/resp" || fail "the 400 does not say why: $(cat "$WORK/resp")"
(($(map_count) == 1)) || fail "a refused request changed the map"
st=$(api GET "$API/bpf/maps/nomap/entries")
[[ $st == 404 ]] || fail "an unknown map: $st, not 404"
(($(grep -c "in force (epoch" "$WORK/vigild.log") == 1)) ||
	fail "the policy was published again"
grep -q "audit: PUT /api/v1/bpf/maps/allowed4/entries by .* -> 200" "$WORK/vigild.log" ||
	fail "the map changes are not in the audit log"
for _ in $(seq 50); do
	curl -s -H "Authorization: Bearer $TOKEN" "$API/audit?limit=200" |
		grep -q "bpf map allowed4: put 1 entries" && break
	sleep 0.1
done
curl -s -H "Authorization: Bearer $TOKEN" "$API/audit?limit=200" |
	grep -q "bpf map allowed4: put 1 entries" ||
	fail "the store's audit table has no record of the map change"
# One run per flow (each datagram its own source port): sent + 5 + 5 + 5, of which sent + 5 pass.
curl -s -H "Authorization: Bearer $TOKEN" "$API/status" | /usr/bin/python3 -c '
import json, sys
sent = int(sys.argv[1])
b = [p for p in json.load(sys.stdin)["bpf"] if p["name"] == "lan"][0]
assert b["runs"] == sent + 15 and b["pass"] == sent + 5 and b["drop"] == 10, (sent, b)
assert b["invalid"] == 0, b
# One lookup of allowed4 per run (IPv4 sources), a hit for each flow that passed.
m = {x["map"]: x for x in b["maps"]}
assert m["allowed4"]["lookups"] == b["runs"] and m["allowed4"]["hits"] == b["pass"], m
assert m["allowed6"]["lookups"] == 0 and m["allowed4"]["updates"] == 0, m' "$sent" ||
	fail "the counters are not what the traffic makes"

curl -s -H "Authorization: Bearer $TOKEN" "$API/bpf/maps" | /usr/bin/python3 -c '
import json, sys
sent = int(sys.argv[1])
m = [x for x in json.load(sys.stdin)["items"] if x["name"] == "allowed4"][0]
assert m["lookups"] == sent + 15 and m["hits"] == sent + 5, m' "$sent" ||
	fail "GET /bpf/maps does not count the lookups"

# 5. A reload compiles the policy again, on the reload thread: the map keeps the API's entry
# (10.77.0.3) and takes what was added to its file meanwhile (10.77.0.5).
st=$(api PUT "$MAP" '{"entries": [{"key": "10.77.0.3", "value": 7}]}')
[[ $st == 200 ]] || fail "PUT 10.77.0.3 before the reload: $st"
echo "  - {key: 10.77.0.5/32, value: 2}" >>"$WORK/progs/allow_list.v4.yaml"
kill -HUP "$VIGILD_PID"
for _ in $(seq 100); do
	(($(grep -c "in force (epoch" "$WORK/vigild.log") == 2)) && break
	sleep 0.05
done
(($(grep -c "in force (epoch" "$WORK/vigild.log") == 2)) || fail "the reload was not published"
grep -q "rule 'lan': map allowed4 carried into the new version" "$WORK/vigild.log" ||
	fail "the log does not say the map was carried"
(($(map_count) == 3)) || fail "after the reload the map does not hold its 3 entries: $(map_count)"
curl -s -H "Authorization: Bearer $TOKEN" "$MAP" | grep -q '"10.77.0.5/32"' ||
	fail "after the reload the map lacks its file's new entry"
(($(phase reloaded 30030) == 5)) || fail "10.77.0.3 (put through the API) was dropped after the reload"
log "after SIGHUP the map keeps the API's entry and has its file's new one"
# The version after the reload: its counters start at zero; the 5 datagrams from 10.77.0.3 ran
# the program and passed.
curl -s -H "Authorization: Bearer $TOKEN" "$API/status" | /usr/bin/python3 -c '
import json, sys
b = [p for p in json.load(sys.stdin)["bpf"] if p["name"] == "lan"][0]
assert b["runs"] == 5 and b["pass"] == 5 and b["drop"] == 0 and b["invalid"] == 0, b
m = {x["map"]: x for x in b["maps"]}
assert m["allowed4"]["lookups"] == 5 and m["allowed4"]["hits"] == 5 and m["allowed4"]["count"] == 3, m
print("e2e: after the reload allow_list ran %d times: %d pass" % (b["runs"], b["pass"]))' ||
	fail "the counters after the reload are not what the traffic makes"

# 6. A pre-filter's maps through the API: allow_list.o as a pre-filter on outside, its maps
# renamed gate4 and gate6 (gate4 allows A's /24 from its file).
cp "$BPF_DIR/allow_list.o" "$WORK/progs/gate.o"
cat >"$WORK/progs/gate.maps.yaml" <<'YAML'
maps:
  - {name: gate4, kind: lpm, family: 4, max_entries: 16, file: gate.v4.yaml}
  - {name: gate6, kind: lpm, family: 6, max_entries: 16}
YAML
printf 'entries:\n  - {key: 10.77.0.0/24, value: 1}\n' >"$WORK/progs/gate.v4.yaml"
printf 'prefilter:\n  - {name: gate, in: outside, bpf: progs/gate.o}\n' >>"$WORK/policy.yaml"
kill -HUP "$VIGILD_PID"
for _ in $(seq 100); do
	(($(grep -c "in force (epoch" "$WORK/vigild.log") == 3)) && break
	sleep 0.05
done
(($(grep -c "in force (epoch" "$WORK/vigild.log") == 3)) || fail "the policy with the pre-filter was not published"
curl -s -H "Authorization: Bearer $TOKEN" "$API/bpf/maps" | /usr/bin/python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
g = [x for x in items if x["name"] == "gate4"]
assert len(g) == 1 and g[0]["prefilter"] == "gate" and "rule" not in g[0] and g[0]["count"] == 1, items
assert [x["rule"] for x in items if x["name"] == "allowed4"] == ["lan"], items' ||
	fail "GET /bpf/maps does not list the pre-filter's maps"
(($(phase gated 30040) == 5)) || fail "10.77.0.3 did not pass the pre-filter that allows its /24"
GATE=$API/bpf/maps/gate4/entries
st=$(api PUT "$GATE" '{"entries": [{"key": "10.77.0.1", "value": 2}]}')
[[ $st == 200 ]] || fail "PUT into the pre-filter's map: $st $(cat "$WORK/resp")"
grep -q '"prefilters": *\["gate"\]' "$WORK/resp" || fail "the answer does not name the pre-filter: $(cat "$WORK/resp")"
st=$(api DELETE "$GATE?keys=10.77.0.0/24")
[[ $st == 200 ]] || fail "DELETE from the pre-filter's map: $st $(cat "$WORK/resp")"
(($(phase gate_closed 30050) == 0)) || fail "10.77.0.3 passed the pre-filter after its /24 was deleted"
st=$(api PUT "$GATE" '{"entries": [{"key": "10.9.0.1/16", "value": 1}]}')
[[ $st == 400 ]] || fail "a bad entry for the pre-filter's map: $st, not 400"
grep -q "(prefilter gate)" "$WORK/resp" || fail "the 400 does not name the pre-filter: $(cat "$WORK/resp")"
log "the pre-filter's map changed through the API: 10.77.0.3 passed, then was dropped"
# 7. Before the stop: the gate lets 10.77.0.3 through again by its /32 (its /24, the file's,
# stays deleted). Each change is written at once next to the store.
st=$(api PUT "$GATE" '{"entries": [{"key": "10.77.0.3", "value": 3}]}')
[[ $st == 200 ]] || fail "PUT 10.77.0.3 into the gate: $st $(cat "$WORK/resp")"
grep -q '"persisted": *true' "$WORK/resp" || fail "the answer does not say the change is kept: $(cat "$WORK/resp")"
grep -q '"10.77.0.3/32"' "$WORK/state/bpf-maps/gate4.json" ||
	fail "the change is not in gate4's state file: $(cat "$WORK/state/bpf-maps/gate4.json" 2>&1)"
e2e_stop_vigild
/usr/bin/python3 - "$WORK/stats.json" <<'PY' || fail "the final counters are not what the traffic makes"
import json, sys
st = json.load(open(sys.argv[1]))
b = [p for p in st["bpf"] if p["name"] == "lan"][0]
g = [p for p in st["bpf_prefilters"] if p["name"] == "gate"][0]
m = {x["map"]: x for x in g["maps"]}
# The rule ran on the 5 that passed the pre-filter; the pre-filter dropped the 5 after (and
# whatever IPv6 A's interface sent: gate6 is empty).
assert b["runs"] == 5 and b["pass"] == 5, b
assert g["drop"] >= 5 and m["gate4"]["lookups"] >= 10 and m["gate4"]["hits"] >= 5, g
assert m["gate4"]["count"] == 2, m
print("e2e: the pre-filter ran %d times: %d drop; gate4: %d lookups, %d hits" % (
    g["runs"], g["drop"], m["gate4"]["lookups"], m["gate4"]["hits"]))
PY
grep -q "bpf maps: state saved in $WORK/state/bpf-maps: 4 maps written, 0 failed" "$WORK/vigild.log" ||
	fail "the stop did not save the maps: $(grep 'bpf maps' "$WORK/vigild.log")"
# While it is stopped: allowed4's file changes 10.77.0.1 (1 -> 3), drops 10.77.0.5 and adds
# 10.77.0.6; allowed6's state file is spoilt.
cat >"$WORK/progs/allow_list.v4.yaml" <<YAML
entries:
  - {key: $IP_A/32, value: 3}
  - {key: 10.77.0.6/32, value: 2}
YAML
echo '{"format": 1, "maps": [' >"$WORK/state/bpf-maps/allowed6.json"
ip netns del "$NS_A"
ip netns del "$NS_B"
e2e_start_vigild
in_a ip addr add 10.77.0.3/24 dev "$TAP_A"
in_a ping -c 1 -W 2 $IP_B >/dev/null || fail "ping through vigild failed after the restart"
grep -q "rule 'lan': map allowed4 restored from $WORK/state/bpf-maps/allowed4.json" "$WORK/vigild.log" ||
	fail "the log does not say allowed4 was restored"
grep -q "prefilter 'gate': map gate4 restored from" "$WORK/vigild.log" ||
	fail "the log does not say gate4 was restored"
grep -q "bpf maps: $WORK/state/bpf-maps/allowed6.json: line [0-9]*, column [0-9]*: .*; set aside as $WORK/state/bpf-maps/allowed6.json.bad: map allowed6 starts from its file" "$WORK/vigild.log" ||
	fail "the log does not say where the spoilt state file is wrong: $(grep 'allowed6' "$WORK/vigild.log")"
[[ -f $WORK/state/bpf-maps/allowed6.json.bad ]] || fail "the spoilt state file was not set aside"
# What each map holds: the API's entries, the file's changes on top, the API's delete kept.
entries_of() { # entries_of MAP: "key=value ..." sorted
	curl -s -H "Authorization: Bearer $TOKEN" "$API/bpf/maps/$1/entries" |
		/usr/bin/python3 -c 'import json, sys; print(" ".join(sorted("%s=%d" % (i["key"], i["value"]) for i in json.load(sys.stdin)["items"])))'
}
[[ $(entries_of allowed4) == "10.77.0.1/32=3 10.77.0.3/32=7 10.77.0.6/32=2" ]] ||
	fail "allowed4 after the restart: $(entries_of allowed4)"
[[ $(entries_of gate4) == "10.77.0.1/32=2 10.77.0.3/32=3" ]] ||
	fail "gate4 after the restart: $(entries_of gate4)"
curl -s -H "Authorization: Bearer $TOKEN" "$API/bpf/maps" | /usr/bin/python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
assert len(items) == 4 and all(x["persisted"] is True for x in items), items' ||
	fail "GET /bpf/maps does not say the maps are kept"
# 10.77.0.3 passes the gate and the rule on the API's entries alone (from their files, the
# gate's /24 would let it through and the rule would drop it).
(($(phase restarted 30060) == 5)) || fail "10.77.0.3 was dropped after the restart"
log "after a restart the maps hold the API's entries with their files' changes on top"
e2e_stop_vigild
log "PASS"
