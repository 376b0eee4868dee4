#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, link state as an appliance (docs/OPERATIONS.md, "Link state"): two namespaces
# joined through vigild by veth pairs (vigild's ports are net_af_packet on the ends it keeps,
# the other ends sit in the namespaces). With `link: {propagate: true}` and vigild running as
# user nobody:
#  1. both links are seen up (from the kernel: af_packet's driver reports a fixed "up"), ping
#     crosses;
#  2. the link goes down inside namespace A: vigild sees `outside` down, sets `inside` down, and
#     namespace B's interface loses its carrier, as with a wire; the API, the metrics, the log
#     and the store's audit table say so;
#  3. the link comes back in A: `inside` is released, B has its carrier back, ping crosses;
#  4. without propagation the same failure leaves B's side up.
# And a tap whose interface has moved to another namespace is "unknown", not "down".
source "$(dirname "$0")/lib.sh"
e2e_require
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (scripts/deps.sh installs it)"
chmod 755 "$WORK"
VA=vla$E2E_ID # vigild's end, in the root namespace
VB=vlb$E2E_ID
PA=vpa$E2E_ID # the namespace's end
PB=vpb$E2E_ID
PORT=$((19000 + E2E_ID % 1000))
BASE=http://127.0.0.1:$PORT/api/v1

cleanup_veth() {
	ip link del "$VA" 2>/dev/null || true
	ip link del "$VB" 2>/dev/null || true
}
trap 'rc=$?; cleanup_veth; set +e; (exit $rc); e2e_cleanup' EXIT

setup_ns() {
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip link add "$VA" type veth peer name "$PA"
	ip link add "$VB" type veth peer name "$PB"
	ip link set "$PA" netns "$NS_A"
	ip link set "$PB" netns "$NS_B"
	ip link set "$VA" up
	ip link set "$VB" up
	ip -n "$NS_A" addr add $IP_A/24 dev "$PA"
	ip -n "$NS_B" addr add $IP_B/24 dev "$PB"
	ip -n "$NS_A" link set "$PA" up
	ip -n "$NS_B" link set "$PB" up
}

start() { # $1: propagate true|false
	cat >"$CFG" <<YAML
eal: {file_prefix: $PREFIX, hugepages: off, args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: outside, device: "net_af_packet0,iface=$VA"}
  - {name: inside, device: "net_af_packet1,iface=$VB"}
pairs: [[outside, inside]]
dataplane: {idle_sleep_us: 20}
log: {level: info}
privileges: {user: nobody}
link: {propagate: $1, poll_interval: 50ms}
store: {path: $WORK/state/vigil.db, batch_interval: 100ms}
mgmt: {port: $PORT, allow_unauthenticated_loopback: true}
YAML
	"$VIGILD" -c "$CFG" >"$WORK/vigild.log" 2>&1 &
	VIGILD_PID=$!
	for _ in $(seq 300); do
		grep -q "forwarding;" "$WORK/vigild.log" && return 0
		kill -0 "$VIGILD_PID" 2>/dev/null || fail "vigild exited during start-up"
		sleep 0.1
	done
	fail "vigild did not start forwarding within 30 s"
}

# "outside inside" link states as the API has them: up/down/unknown and held_down.
links() {
	curl -s "$BASE/status" | /usr/bin/python3 -c '
import json, sys
ports = json.load(sys.stdin)["ports"]
print(" ".join("%s:%s%s" % (p["name"], p["link"]["state"], "+held" if p["link"]["held_down"] else "") for p in ports))'
}
wait_links() { # $1: the expected links() output
	local got=
	for _ in $(seq 60); do
		got=$(links)
		[[ $got == "$1" ]] && return 0
		sleep 0.05
	done
	fail "links: expected '$1', got '$got'"
}
carrier() { # namespace, interface: "yes" when the interface has its carrier
	ip -n "$1" link show "$2" | grep -q 'LOWER_UP' && echo yes || echo no
}
wait_carrier() {
	for _ in $(seq 60); do
		[[ $(carrier "$1" "$2") == "$3" ]] && return 0
		sleep 0.05
	done
	fail "$2 in $1: carrier should be $3"
}

setup_ns
start true
grep -q "capabilities kept: cap_net_admin\|capabilities kept: net_admin" "$WORK/vigild.log" ||
	fail "link propagation on kernel interfaces keeps net_admin: $(grep 'running as' "$WORK/vigild.log")"
wait_links "outside:up inside:up"
in_a ping -c 2 -W 2 $IP_B >/dev/null || fail "ping through vigild failed"
log "1. both links up (seen from the kernel), ping crosses: ok"

ip -n "$NS_A" link set "$PA" down
wait_links "outside:down inside:down+held"
wait_carrier "$NS_B" "$PB" no
grep -q "link: port outside down: interface $VA has no carrier" "$WORK/vigild.log" || fail "no log line for outside"
grep -q "link: port inside held-down: set down because outside lost its link" "$WORK/vigild.log" ||
	fail "no log line for the propagation"
metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
grep -q '^vigil_port_link_held_down{port="inside"} 1$' <<<"$metrics" || fail "metrics: inside not held down"
grep -q '^vigil_port_up{port="outside"} 0$' <<<"$metrics" || fail "metrics: outside not down"
grep -q '^vigil_port_link_changes_total{port="outside"} 1$' <<<"$metrics" || fail "metrics: outside changes"
curl -s "$BASE/status" | /usr/bin/python3 -c '
import json, sys
ev = json.load(sys.stdin)["link_events"]
kinds = [(e["port"], e["event"]) for e in ev]
assert ("outside", "down") in kinds and ("inside", "held-down") in kinds, kinds' ||
	fail "status.link_events lacks the failure"
log "2. link down in $NS_A: outside down, inside held down, $NS_B lost its carrier; API, metrics, log: ok"

ip -n "$NS_A" link set "$PA" up
wait_links "outside:up inside:up"
wait_carrier "$NS_B" "$PB" yes
for _ in $(seq 50); do
	in_a ping -c 1 -W 1 $IP_B >/dev/null && break
done
in_a ping -c 2 -W 2 $IP_B >/dev/null || fail "ping after the link came back failed"
grep -q "link: port inside released: set up again: outside has its link back" "$WORK/vigild.log" ||
	fail "no log line for the release"
log "3. link back in $NS_A: inside released, $NS_B has its carrier, ping crosses: ok"

for _ in $(seq 50); do
	n=$(sqlite3 "$WORK/state/vigil.db" "select count(*) from audit where actor = 'link' and target = 'inside' and action in ('link held-down', 'link released')" 2>/dev/null || true)
	[[ $n == 2 ]] && break
	sleep 0.1
done
[[ $n == 2 ]] || fail "the store's audit table lacks the propagation ($n rows)"
log "the store's audit table has the link events: ok"

kill -TERM "$VIGILD_PID"
wait "$VIGILD_PID" || fail "vigild exited with status $? after SIGTERM"
VIGILD_PID=

# 4. Without propagation: the failure stays on its side.
start false
wait_links "outside:up inside:up"
ip -n "$NS_A" link set "$PA" down
wait_links "outside:down inside:up"
sleep 0.3
[[ $(carrier "$NS_B" "$PB") == yes ]] || fail "without propagation B lost its carrier"
ip -n "$NS_A" link set "$PA" up
wait_links "outside:up inside:up"
grep -q "capabilities kept: none" "$WORK/vigild.log" || fail "without propagation net_admin is kept"
kill -TERM "$VIGILD_PID"
wait "$VIGILD_PID" || fail "vigild exited with status $? after SIGTERM"
VIGILD_PID=
log "4. without propagation the other side stays up: ok"
log "PASS"
