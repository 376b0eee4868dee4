#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, link-state-change interrupts (docs/OPERATIONS.md, "Link state"). vigild's port
# `outside` is net_vhost (a vhost-user server on a unix socket): the driver advertises
# RTE_ETH_DEV_INTR_LSC and raises RTE_ETH_EVENT_INTR_LSC when a virtio device attaches to it
# or goes away. The peer is dpdk-testpmd with a net_virtio_user port on that socket (it needs
# hugepages; vigild does not). `inside` is net_null: no LSC, polled. link.poll_interval is
# 10 s, so a change seen within 2 s, logged "(seen by interrupt)", is the interrupt's doing:
#  1. outside says notify "interrupt", inside "poll" with its reason; outside is down (no peer);
#  2. the peer starts: outside up within 2 s, by interrupt; ports[].link.interrupts and
#     vigil_port_link_interrupts_total count it;
#  3. the peer is killed: outside down within 2 s, by interrupt.
# (net_tap advertises LSC too but never raises it in DPDK 22.11: its netlink handler updates
# the link without calling the application's callbacks; control registers none on a tap and
# says why: docs/OPERATIONS.md.)
source "$(dirname "$0")/lib.sh"
e2e_require
TESTPMD=$(command -v dpdk-testpmd || true)
[[ -n $TESTPMD ]] || fail "dpdk-testpmd is not installed (dpdk package)"
free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
if ((${free:-0} < 160)); then
	echo "e2e: the virtio_user peer needs 160 free 2 MiB hugepages ($free free); skipped"
	exit 77
fi
PORT=$((19500 + E2E_ID % 400))
BASE=http://127.0.0.1:$PORT/api/v1
SOCK=$WORK/vhost.sock
PEER_PREFIX=${PREFIX}peer
PEER_PID=
peer_stop() {
	[[ -n $PEER_PID ]] && kill "$PEER_PID" 2>/dev/null && wait "$PEER_PID" 2>/dev/null
	PEER_PID=
	rm -f /dev/hugepages/"$PEER_PREFIX"map_* 2>/dev/null || true
	rm -rf /var/run/dpdk/"$PEER_PREFIX" 2>/dev/null || true
}
trap 'rc=$?; peer_stop; set +e; (exit $rc); e2e_cleanup' EXIT

cat >"$CFG" <<YAML
eal: {file_prefix: $PREFIX, hugepages: off, args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: outside, device: "net_vhost0,iface=$SOCK"}
  - {name: inside, device: "net_null0"}
pairs: [[outside, inside]]
dataplane: {idle_sleep_us: 200}
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
	fail "net_vhost was not configured with LSC interrupts: $(grep 'link-state' "$WORK/vigild.log")"
grep -q "port inside: link-state-change interrupts off (the driver has no link-state-change interrupts)" "$WORK/vigild.log" ||
	fail "net_null: no log line saying it is polled"

# "state notify interrupts reason" of a port, from the status.
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
lines() { grep -c "link: port outside $1: reported by the driver (seen by interrupt)" "$WORK/vigild.log" || true; }

wait_state outside down
read -r _ notify n0 _ <<<"$(link outside)"
[[ $notify == interrupt ]] || fail "outside: notify should be interrupt: $(link outside)"
read -r _ notify _ reason <<<"$(link inside)"
[[ $notify == poll && $reason == "the driver has no link-state-change interrupts" ]] ||
	fail "inside: notify should be poll with its reason: $(link inside)"
log "1. net_vhost: notify interrupt, down without a peer; net_null: notify poll (no LSC): ok"

t0=$(date +%s%N)
# testpmd in interactive mode, its stdin a FIFO this script holds open (no process of its own
# to outlive the test), so that it keeps its port until killed.
mkfifo "$WORK/peer.in"
exec 3<>"$WORK/peer.in"
"$TESTPMD" -l 0,1 --file-prefix "$PEER_PREFIX" -m 256 --single-file-segments \
	--no-pci --log-level=lib.eal:error --vdev "net_virtio_user0,path=$SOCK,queues=1" \
	-- -i --total-num-mbufs=2048 <&3 >"$WORK/peer.log" 2>&1 &
PEER_PID=$!
wait_state outside up
ms=$((($(date +%s%N) - t0) / 1000000))
(($(lines up) >= 1)) || fail "no log line for the link up seen by interrupt: $(grep 'link: port outside' "$WORK/vigild.log")"
read -r _ _ n1 _ <<<"$(link outside)"
((n1 > n0)) || fail "ports[].link.interrupts did not count ($n0 -> $n1)"
# The metric is read after the status: the peer may raise another interrupt in between.
m=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '$1 == "vigil_port_link_interrupts_total{port=\"outside\"}" {print $2}')
[[ -n $m ]] && ((m >= n1)) || fail "metrics: vigil_port_link_interrupts_total is '$m', the status said $n1"
log "2. the virtio_user peer attaches: outside up in $ms ms (start-up included) by interrupt, $n1 interrupts: ok"

# The peer's port is up for good (its log says so) before it is killed.
for _ in $(seq 100); do
	grep -q "testpmd>" "$WORK/peer.log" && break
	sleep 0.1
done
t0=$(date +%s%N)
kill "$PEER_PID"
wait_state outside down
ms=$((($(date +%s%N) - t0) / 1000000))
(($(lines down) >= 1)) || fail "no log line for the link down seen by interrupt: $(grep 'link: port outside' "$WORK/vigild.log")"
read -r _ _ n2 _ <<<"$(link outside)"
((n2 > n1)) || fail "ports[].link.interrupts did not count the peer leaving ($n1 -> $n2)"
log "3. the peer is killed: outside down in $ms ms by interrupt, $n2 interrupts: ok"
peer_stop

kill -TERM "$VIGILD_PID"
wait "$VIGILD_PID" || fail "vigild exited with status $? after SIGTERM"
VIGILD_PID=
log "PASS"
