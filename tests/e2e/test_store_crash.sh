#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Crash safety of the store (docs/STORE.md, "Durability and batching"): vigild writes flow
# history to SQLite while net_pcap replays a capture of 10000 short TCP sessions
# without end (infinite_rx=1); after a few seconds of writing it is killed with SIGKILL. Then:
#  1. sqlite3 says PRAGMA integrity_check is ok, the flows table holds rows, and every packet
#     total a reader saw committed before the kill is still there;
#  2. vigild starts again on the same database, opens it as it is (nothing moved aside as
#     corrupt) and keeps writing: the stored packet total grows;
#  3. it stops cleanly on SIGTERM and the database is still whole.
# No network namespace is needed; EAL runs without hugepages. Bounded: about 15 s.
set -euo pipefail

: "${VIGILD:?VIGILD must point at the vigild binary}"
PKTGEN=${PKTGEN:-$(dirname "$VIGILD")/../tools/pktgen/vg-pktgen}
PREFIX=vgcrash$$
WORK=$(mktemp -d /tmp/vigil-crash.XXXXXX)
DB=$WORK/vigil.db
PID=

log() { printf 'store-crash: %s\n' "$*"; }
fail() {
	printf 'store-crash: FAIL: %s\n' "$*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	rm -f /dev/hugepages/"$PREFIX"map_* 2>/dev/null || true
	rm -rf /var/run/dpdk/"$PREFIX" 2>/dev/null || true
	if ((rc != 0)); then
		for f in "$WORK"/vigild-*.log; do
			[[ -f $f ]] || continue
			echo "store-crash: $(basename "$f") (last 20 lines):" >&2
			tail -n 20 "$f" >&2
		done
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (scripts/deps.sh installs it)"
[[ -x $VIGILD ]] || fail "VIGILD ($VIGILD) is not executable"
[[ -x $PKTGEN ]] ||
	fail "vg-pktgen not found at $PKTGEN (ninja tools/pktgen/vg-pktgen, or set PKTGEN)"

# 70000 packets: every session is SYN, SYN-ACK, ACK, data, FIN, FIN, ACK, so each pass over the
# capture ends every flow and starts it again: flow events, hence store writes, never stop.
"$PKTGEN" --flows 10000 --proto tcp --per-flow 7 --seed 7 --quiet -o "$WORK/many.pcap" >/dev/null

cat >"$WORK/vigil.yaml" <<YAML
eal: {file_prefix: $PREFIX, hugepages: "off", no_huge_memory: 1024M,
      args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: in, device: "net_pcap0,rx_pcap=$WORK/many.pcap,infinite_rx=1"}
  - {name: out, device: "net_null0,no-rx=1"}
pairs: [[in, out]]
mempool: {mbufs: 131071}
dataplane: {idle_sleep_us: 100}
store: {path: $DB, batch_rows: 1000, batch_interval: 200ms}
log: {level: info}
YAML

q() { sqlite3 -batch -noheader "$DB" "$1"; }
# The packet total the store holds (0 while the table is empty or missing).
packets() { q "SELECT coalesce(sum(packets), 0) FROM flows" 2>/dev/null || echo 0; }

start_vigild() {
	"$VIGILD" -c "$WORK/vigil.yaml" >"$WORK/vigild-$1.log" 2>&1 &
	PID=$!
}

# Wait up to $2 seconds for the stored packet total to exceed $1; prints the total.
wait_packets_above() {
	local floor=$1 deadline=$((SECONDS + $2)) n
	while ((SECONDS < deadline)); do
		kill -0 "$PID" 2>/dev/null || fail "vigild exited early"
		n=$(packets)
		if ((n > floor)); then
			echo "$n"
			return 0
		fi
		sleep 0.2
	done
	fail "the stored packet total stayed at or below $floor for $2 s"
}

# 1. Write, then SIGKILL in the middle of it.
t0=$SECONDS
start_vigild 1
# Start-up (EAL without hugepages, 131k mbufs) takes seconds on a busy machine: 25 s for the
# first rows, 5 s for each later batch.
first=$(wait_packets_above 0 25)
# A few more seconds of batches, and the kill right after one more was seen committed.
sleep 2
n=$(wait_packets_above "$first" 5)
sleep 0.5
n=$(wait_packets_above "$n" 5)
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
PID=
rm -rf /var/run/dpdk/"$PREFIX"
[[ -e $DB-wal ]] && wal="present" || wal="absent"
log "killed vigild with SIGKILL after $((SECONDS - t0)) s of writing (WAL $wal)"

check=$(q "PRAGMA integrity_check")
[[ $check == ok ]] || fail "integrity_check after SIGKILL: $check"
read -r rows flows total < <(q "SELECT count(*), sum(flows), sum(packets) FROM flows" | tr '|' ' ')
alerts=$(q "SELECT count(*) FROM alerts")
log "after SIGKILL: integrity ok; flows table $rows rows ($flows flows, $total packets)," \
	"$alerts alerts"
((rows > 0)) || fail "no flow rows survived the crash"
((total >= n)) ||
	fail "the store lost committed rows: $total packets, $n were visible before the kill"

# 2. Restart on the same database: it opens as it is and writing goes on.
start_vigild 2
after=$(wait_packets_above "$total" 25)
grep -qi "corrupt" "$WORK/vigild-2.log" && fail "the restart found the database corrupt"
ls "$DB".corrupt-* >/dev/null 2>&1 && fail "the database was moved aside"
log "restarted: the stored packet total grew from $total to $after"

# 3. A clean stop keeps it whole.
kill -TERM "$PID"
rc=0
timeout 10 tail --pid="$PID" -f /dev/null || fail "vigild did not stop within 10 s of SIGTERM"
wait "$PID" || rc=$?
PID=
((rc == 0)) || fail "vigild exited with status $rc after SIGTERM"
check=$(q "PRAGMA integrity_check")
[[ $check == ok ]] || fail "integrity_check after the restart: $check"
final=$(packets)
((final >= after)) || fail "the packet total went back from $after to $final"
log "stopped cleanly: integrity ok, $final packets stored; $((SECONDS - t0)) s in all"
log "PASS"
