#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, link-state-change interrupts (docs/OPERATIONS.md, "Link state"): net_tap
# advertises RTE_ETH_DEV_INTR_LSC and, configured with intr_conf.lsc, raises the interrupt from
# the kernel's netlink link messages for its interface. The tap stays in vigild's namespace;
# link.poll_interval is 10 s, so only the interrupt can explain a change seen within 2 s:
#  1. the tap port says notify "interrupt", the net_null port (no LSC) "poll" with the reason;
#  2. `ip link set TAP down`: vigild sees the port down within 2 s, the log line says
#     "(seen by interrupt)", ports[].link.interrupts and vigil_port_link_interrupts_total count;
#  3. `ip link set TAP up`: up again, the same way.
source "$(dirname "$0")/lib.sh"
e2e_require
PORT=$((19500 + E2E_ID % 400))
BASE=http://127.0.0.1:$PORT/api/v1

cat >"$CFG" <<YAML
eal: {file_prefix: $PREFIX, hugepages: off, args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: outside, device: "net_tap0,iface=$TAP_A"}
  - {name: inside, device: "net_null0"}
pairs: [[outside, inside]]
dataplane: {idle_sleep_us: 20}
log: {level: info}
link: {poll_interval: 10s}
mgmt: {port: $PORT, allow_unauthenticated_loopback: true}
YAML
"$VIGILD" -c "$CFG" >"$WORK/vigild.log" 2>&1 &
VIGILD_PID=$!
for _ in $(seq 300); do
	grep -q "forwarding;" "$WORK/vigild.log" && break
	kill -0 "$VIGILD_PID" 2>/dev/null || fail "vigild exited during start-up"
	sleep 0.1
done
grep -q "forwarding;" "$WORK/vigild.log" || fail "vigild did not start forwarding within 30 s"
grep -q "port outside: link-state-change interrupts on" "$WORK/vigild.log" ||
	fail "net_tap was not configured with LSC interrupts: $(grep 'link-state' "$WORK/vigild.log")"
grep -q "port inside: link-state-change interrupts off (the driver has no link-state-change interrupts)" "$WORK/vigild.log" ||
	fail "net_null: no log line saying it is polled"

# "state notify interrupts" of a port, from the status.
link() {
	curl -s "$BASE/status" | /usr/bin/python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["ports"] if p["name"] == sys.argv[1]][0]["link"]
print(p["state"], p["notify"], p["interrupts"], p.get("notify_reason") or "-")' "$1"
}
# Wait at most 2 s (a fifth of the poll interval) for port $1's state to be $2.
wait_state() {
	local got=
	for _ in $(seq 40); do
		got=$(link "$1")
		[[ ${got%% *} == "$2" ]] && return 0
		sleep 0.05
	done
	fail "port $1: state should be $2 within 2 s (poll interval 10 s): $got"
}

wait_state outside up
read -r _ notify n0 _ <<<"$(link outside)"
[[ $notify == interrupt ]] || fail "outside: notify should be interrupt: $(link outside)"
read -r _ notify _ reason <<<"$(link inside)"
[[ $notify == poll && $reason == "the driver has no link-state-change interrupts" ]] ||
	fail "inside: notify should be poll with its reason: $(link inside)"
log "1. net_tap: notify interrupt; net_null: notify poll (no LSC): ok"

t0=$(date +%s%N)
ip link set "$TAP_A" down
wait_state outside down
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q "link: port outside down: interface $TAP_A is administratively down (seen by interrupt)" "$WORK/vigild.log" ||
	fail "no log line for the change seen by interrupt: $(grep 'link: port outside' "$WORK/vigild.log")"
read -r _ _ n1 _ <<<"$(link outside)"
((n1 > n0)) || fail "ports[].link.interrupts did not count ($n0 -> $n1)"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -q "^vigil_port_link_interrupts_total{port=\"outside\"} $n1\$" ||
	fail "metrics: vigil_port_link_interrupts_total is not $n1"
log "2. link down: seen in $ms ms by interrupt (poll interval 10 s), $n1 interrupts counted: ok"

t0=$(date +%s%N)
ip link set "$TAP_A" up
wait_state outside up
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q "link: port outside up: interface $TAP_A is up with carrier (seen by interrupt)" "$WORK/vigild.log" ||
	fail "no log line for the link back: $(grep 'link: port outside' "$WORK/vigild.log")"
read -r _ _ n2 _ <<<"$(link outside)"
((n2 > n1)) || fail "ports[].link.interrupts did not count the link back ($n1 -> $n2)"
log "3. link up: seen in $ms ms by interrupt, $n2 interrupts counted: ok"

kill -TERM "$VIGILD_PID"
wait "$VIGILD_PID" || fail "vigild exited with status $? after SIGTERM"
VIGILD_PID=
log "PASS"
