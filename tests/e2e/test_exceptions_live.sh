#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, the exception conditions a capture replayed once cannot force (docs/OPERATIONS.md,
# "Exception policies"): vigild forwards a capture replayed without end (net_pcap infinite_rx ->
# net_null), every flow inspected (inspection.flows: all).
#   loading: signatures.delayed with 3000 rules: vigild forwards before they are built; the
#            packets of inspected flows meanwhile meet signatures_loading, whose drop-packet
#            drops them; once the set is in force (log line, status) they are inspected and
#            forwarded again.
#   ring:    a signature alerts on every packet and the event ring to control holds 64 events:
#            control cannot take millions of alerts a second, the ring fills, and the packets
#            whose alerts it cannot take meet event_ring_full, whose drop-packet drops them.
set -euo pipefail
MODE=${1:-loading}
[[ $MODE == loading || $MODE == ring ]] || { echo "usage: $0 [loading|ring]" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "needs root"; exit 77; }
[[ -x ${VIGILD:-} ]] || { echo "VIGILD must point at the vigild binary" >&2; exit 1; }
[[ -x ${PKTGEN:-} ]] || { echo "PKTGEN must point at vg-pktgen" >&2; exit 1; }
WORK=$(mktemp -d /tmp/vigil-exc.XXXXXX)
PREFIX=vgexc$$
PORT=$((21000 + $$ % 1000))
PID=
fail() {
	echo "exceptions ($MODE): FAIL: $*" >&2
	[[ -f $WORK/vigild.log ]] && tail -n 20 "$WORK/vigild.log" >&2
	exit 1
}
say() { echo "exceptions ($MODE): $*"; }
cleanup() {
	[[ -n $PID ]] && kill -KILL "$PID" 2>/dev/null
	rm -rf "$WORK" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT

# Every packet its flow's first, every one carrying the pattern.
"$PKTGEN" -o "$WORK/udp.pcap" --flows 2000 --proto udp --size 128 --per-flow 1 \
	--match-share 1 --match-pattern vigil-exc-ring --quiet >/dev/null
if [[ $MODE == loading ]]; then
	# Enough rules that the build takes a while (each its own literal).
	for i in $(seq 3000); do
		printf 'alert udp any any -> any any (msg:"never %d"; content:"never-sent-%05d-x"; sid:%d; rev:1;)\n' \
			"$i" "$i" $((9930000 + i))
	done >"$WORK/test.rules"
	sigs="signatures: {paths: [$WORK/test.rules], delayed: true}"
	exc="exceptions: {signatures_loading: drop-packet}"
	rings=""
else
	echo 'alert udp any any -> any any (msg:"every packet"; content:"vigil-exc-ring"; sid:9931000; rev:1;)' \
		>"$WORK/test.rules"
	sigs="signatures: {paths: [$WORK/test.rules]}"
	exc="exceptions: {event_ring_full: drop-packet}"
	rings="rings: {events: 64}"
fi
cat >"$WORK/vigil.yaml" <<YAML
eal: {file_prefix: $PREFIX, hugepages: off, args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: in, device: "net_pcap0,rx_pcap=$WORK/udp.pcap,infinite_rx=1"}
  - {name: out, device: "net_null0,no-rx=1"}
pairs: [[in, out]]
log: {level: info}
inspection: {flows: all}
$sigs
$exc
$rings
mgmt: {port: $PORT, allow_unauthenticated_loopback: true, snapshot: 0}
YAML
"$VIGILD" -c "$WORK/vigil.yaml" >"$WORK/vigild.log" 2>&1 &
PID=$!
for _ in $(seq 300); do
	grep -q "forwarding;" "$WORK/vigild.log" && break
	kill -0 "$PID" 2>/dev/null || fail "vigild exited during start-up"
	sleep 0.1
done
grep -q "forwarding;" "$WORK/vigild.log" || fail "vigild did not start in 30 s"
snap() { curl -s "http://127.0.0.1:$PORT/api/v1/status" >"$WORK/status.json"; }
get() {
	/usr/bin/python3 -c "import json; s = json.load(open('$WORK/status.json')); exc = s['exceptions']; out = [p for p in s['ports'] if p['name'] == 'out'][0]; print($1)"
}

if [[ $MODE == loading ]]; then
	grep -q "signatures: building in the background (signatures.delayed); until they are in force, flows to inspect are handled by exceptions.signatures_loading: drop-packet" \
		"$WORK/vigild.log" || fail "no log line for the delayed build"
	for _ in $(seq 600); do
		grep -q "rules in force, .* s after the start (delayed)" "$WORK/vigild.log" && break
		kill -0 "$PID" 2>/dev/null || fail "vigild exited while the signatures built"
		sleep 0.1
	done
	line=$(grep -o "signatures: [0-9]* rules in force, .* s after the start (delayed)" "$WORK/vigild.log") ||
		fail "the signatures were not put in force within 60 s"
	[[ $line == "signatures: 3000 rules in force"* ]] || fail "wrong rule count: $line"
	# The packets before the set was in force: counted and dropped.
	snap
	read -r loading n act dropped < <(get 's["versions"]["signatures_loading"], exc["packets"]["signatures_loading"], exc["actions"]["signatures_loading"], s["policy"]["dropped"]')
	[[ $loading == False ]] || fail "the status still says signatures_loading"
	[[ $act == drop-packet ]] || fail "exceptions.actions.signatures_loading is $act"
	((n > 0)) || fail "no packet met signatures_loading before the set was in force"
	((dropped >= n)) || fail "policy.dropped $dropped < $n packets that met signatures_loading"
	# Afterwards the same traffic is inspected and forwarded, and meets the condition no more.
	read -r tx1 < <(get 'out["tx_packets"]')
	sleep 0.5
	snap
	read -r tx2 n2 scanned < <(get 'out["tx_packets"], exc["packets"]["signatures_loading"], s["inspection"]["packets"]')
	((tx2 > tx1)) || fail "nothing forwarded after the set was in force ($tx1 -> $tx2)"
	[[ $n2 == "$n" ]] || fail "packets met signatures_loading after the set was in force ($n -> $n2)"
	((scanned > 0)) || fail "nothing was inspected after the set was in force"
	say "$line; $n packets met signatures_loading and were dropped before; then $((tx2 - tx1)) forwarded in 0.5 s, $scanned inspected: ok"
else
	sleep 1.5
	snap
	read -r n act dropped lost alerts < <(get 'exc["packets"]["event_ring_full"], exc["actions"]["event_ring_full"], s["inspection"]["dropped"], s["events"]["lost"], s["inspection"]["alerts"]')
	[[ $act == drop-packet ]] || fail "exceptions.actions.event_ring_full is $act"
	((n > 0)) || fail "no packet met event_ring_full (alerts $alerts, events lost $lost)"
	# Both counters are read from a worker that is still at work: between the two reads it can
	# meet the exception with a few more packets than it has counted dropped yet (one CI run
	# saw 5466862 against 5466863). A burst (64 packets, some 20 µs here) is allowed.
	((dropped + 64 >= n)) || fail "inspection.dropped $dropped < $n packets that met event_ring_full (more than a burst apart)"
	((lost > 0)) || fail "the ring never lost an event, yet $n packets met event_ring_full"
	metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
	m=$(sed -n 's/^vigil_exception_packets_total{condition="event_ring_full"} \([0-9]*\)$/\1/p' <<<"$metrics")
	((m > 0)) || fail "metrics: vigil_exception_packets_total{condition=\"event_ring_full\"} is '$m'"
	say "$alerts alerts, $lost events lost on a ring of 64, $n packets met event_ring_full and were dropped: ok"
fi
kill -INT "$PID"
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then fail "vigild did not stop within 10 s"; fi
wait "$PID" || fail "vigild exited with $?"
PID=
