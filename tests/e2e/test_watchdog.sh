#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, the workers' watchdog (docs/OPERATIONS.md, "Watchdog"): vigild forwards a capture
# replayed without end (net_pcap infinite_rx -> net_null); the test stalls its worker thread on
# purpose for 1.5 s (VIGIL_TEST_STALL_MS, SIGUSR1 to that one thread with tgkill), and checks
# that the watchdog (timeout 400 ms) reports the stall while it lasts (log, status, metrics),
# that nothing is forwarded meanwhile, and that the recovery is reported too, with the store's
# audit table holding both.
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "needs root"; exit 77; }
[[ -x ${VIGILD:-} ]] || { echo "VIGILD must point at the vigild binary" >&2; exit 1; }
[[ -x ${PKTGEN:-} ]] || { echo "PKTGEN must point at vg-pktgen" >&2; exit 1; }
WORK=$(mktemp -d /tmp/vigil-watchdog.XXXXXX)
PREFIX=vgwd$$
PORT=$((20000 + $$ % 1000))
PID=
fail() {
	echo "watchdog: FAIL: $*" >&2
	[[ -f $WORK/vigild.log ]] && tail -n 20 "$WORK/vigild.log" >&2
	exit 1
}
cleanup() {
	[[ -n $PID ]] && kill -KILL "$PID" 2>/dev/null
	rm -rf "$WORK" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT

"$PKTGEN" -o "$WORK/udp.pcap" --flows 100 --proto udp --size 64 --per-flow 4 --quiet >/dev/null
cat >"$WORK/vigil.yaml" <<YAML
eal: {file_prefix: $PREFIX, hugepages: off, args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: in, device: "net_pcap0,rx_pcap=$WORK/udp.pcap,infinite_rx=1"}
  - {name: out, device: "net_null0,no-rx=1"}
pairs: [[in, out]]
log: {level: info}
watchdog: {timeout: 400ms}
store: {path: $WORK/vigil.db, batch_interval: 100ms}
mgmt: {port: $PORT, allow_unauthenticated_loopback: true, snapshot: 0}
YAML
VIGIL_TEST_STALL_MS=1500 "$VIGILD" -c "$WORK/vigil.yaml" >"$WORK/vigild.log" 2>&1 &
PID=$!
for _ in $(seq 300); do
	grep -q "forwarding;" "$WORK/vigild.log" && break
	kill -0 "$PID" 2>/dev/null || fail "vigild exited during start-up"
	sleep 0.1
done
status() { curl -s "http://127.0.0.1:$PORT/api/v1/status"; }
field() { # python expression over the status object s
	status | /usr/bin/python3 -c "import json, sys; s = json.load(sys.stdin); print($1)"
}
[[ $(field 's["workers"][0]["watchdog"]["stalled"]') == False ]] || fail "stalled before any stall"
tid=
for t in /proc/"$PID"/task/*; do
	[[ $(cat "$t/comm") == rte-worker-1 ]] && tid=${t##*/}
done
[[ -n $tid ]] || fail "no worker thread (rte-worker-1) in /proc/$PID/task"

/usr/bin/python3 -c '
import ctypes, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_tgkill = 234  # x86_64
if libc.syscall(SYS_tgkill, int(sys.argv[1]), int(sys.argv[2]), signal.SIGUSR1) != 0:
    sys.exit("tgkill failed: errno %d" % ctypes.get_errno())
' "$PID" "$tid"
for _ in $(seq 40); do
	[[ $(field 's["workers"][0]["watchdog"]["stalled"]') == True ]] && break
	sleep 0.05
done
[[ $(field 's["workers"][0]["watchdog"]["stalled"]') == True ]] || fail "the stall was not reported within 2 s"
tx1=$(field '[p for p in s["ports"] if p["name"] == "out"][0]["tx_packets"]')
sleep 0.3
tx2=$(field '[p for p in s["ports"] if p["name"] == "out"][0]["tx_packets"]')
[[ $tx1 == "$tx2" ]] || fail "packets crossed a stalled worker ($tx1 -> $tx2)"
grep -q '^vigil_worker_stalled{worker="0"} 1$' <(curl -s "http://127.0.0.1:$PORT/metrics") ||
	fail "metrics: the worker is not shown stalled"
grep -q "watchdog: worker 0 (lcore 1) has not run its loop for" "$WORK/vigild.log" ||
	fail "no log line for the stall"
echo "watchdog: the stall is reported (status, metrics, log) and nothing crosses meanwhile: ok"

for _ in $(seq 60); do
	[[ $(field 's["workers"][0]["watchdog"]["stalled"]') == False ]] && break
	sleep 0.05
done
read -r stalled stalls longest < <(field '" ".join(str(s["workers"][0]["watchdog"][k]) for k in ("stalled", "stalls", "longest_stall_ms"))')
[[ $stalled == False && $stalls == 1 ]] || fail "after the stall: stalled $stalled, stalls $stalls"
((longest >= 1000 && longest < 5000)) || fail "longest stall $longest ms for a 1.5 s stall"
grep -q "watchdog: worker 0 (lcore 1) runs again after" "$WORK/vigild.log" || fail "no log line for the recovery"
tx3=$(field '[p for p in s["ports"] if p["name"] == "out"][0]["tx_packets"]')
((tx3 > tx2)) || fail "forwarding did not resume ($tx2 -> $tx3)"
for _ in $(seq 50); do
	n=$(sqlite3 "$WORK/vigil.db" "select count(*) from audit where actor = 'watchdog'" 2>/dev/null || true)
	[[ $n == 2 ]] && break
	sleep 0.1
done
[[ $n == 2 ]] || fail "the store's audit table has $n watchdog rows, not 2"
echo "watchdog: the recovery is reported (longest stall $longest ms), forwarding resumed, audit rows: ok"
kill -TERM "$PID"
wait "$PID" || fail "vigild exited with status $? after SIGTERM"
PID=
echo "watchdog: PASS"
