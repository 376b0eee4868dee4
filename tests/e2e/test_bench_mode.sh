#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bench mode: vigild --bench counts cycles per pipeline stage, prints them in the live view, and
# writes them in --stats-json. A capture with allowed, dropped and inspected traffic is replayed
# into net_null; the test checks the shape and that each stage the traffic needs got cycles
# (no figure is judged: speed is for scripts/bench). Then a replay larger than the default mbuf
# pool: net_pcap infinite_rx keeps the whole capture in mbufs, and vigild sizes its pool for it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [[ $EUID -ne 0 ]]; then
	echo "needs root; skipped"
	exit 77
fi
work=$(mktemp -d /tmp/vigil-bench-mode.XXXXXX)
prefix=vgbm$$
cleanup() {
	rm -rf "$work" /var/run/dpdk/"$prefix"
	rm -f /dev/hugepages/"$prefix"map_*
}
trap cleanup EXIT
case=$root/tests/cases/sig-stream
cat >"$work/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: web, proto: tcp, dport: 80, action: allow, inspect: [test]}
  - {name: dns, proto: udp, dport: 53, action: allow}
YAML
cat >"$work/vigil.yaml" <<YAML
eal: {file_prefix: $prefix, hugepages: "off", args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: a, device: "net_pcap0,rx_pcap=$case/in-a.pcap,infinite_rx=1"}
  - {name: b, device: "net_null0,no-rx=1"}
pairs: [[a, b]]
policy: {file: $work/policy.yaml}
signatures: {paths: [$case/test.rules], stream_depth: 100}
YAML
"$VIGILD" -c "$work/vigil.yaml" --bench 1 --stats-json "$work/stats.json" >"$work/log" 2>&1 &
pid=$!
# Two live views (one a second) after vigild forwards: its start alone may take seconds on a
# busy machine, so the wait starts there.
for _ in $(seq 600); do
	grep -q 'forwarding;' "$work/log" 2>/dev/null && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
sleep 2.5
kill -INT $pid
wait $pid || { cat "$work/log"; echo "test_bench_mode: vigild failed" >&2; exit 1; }
grep -E 'worker 0: [0-9.]+ Mpps, cycles/packet rx [0-9.]+ parse' "$work/log" ||
	{ cat "$work/log"; echo "test_bench_mode: no stage breakdown in the live view" >&2; exit 1; }
/usr/bin/python3 - "$work/stats.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
st = d["workers"][0]["stages"]
names = ["rx", "parse", "flow", "classify", "decide", "inspect", "tx", "housekeeping"]
# dispatch: the software dispatch between workers; one worker has none.
assert sorted(st["cycles"]) == sorted(names + ["dispatch", "total"]), st["cycles"]
assert st["cycles"]["dispatch"] == 0, st["cycles"]
assert st["packets"] > 1000, st
assert st["cycles"]["total"] == sum(st["cycles"][k] for k in names), st["cycles"]
# The replay makes every stage work: new flows are classified, port 80 flows inspected.
for k in names:
    assert st["cycles"][k] > 0, f"stage {k} got no cycles: {st}"
cpp = st["cycles_per_packet"]
assert abs(cpp["total"] - st["cycles"]["total"] / st["packets"]) < 1e-6 * cpp["total"] + 1e-9
print("test_bench_mode: %d packets, cycles/packet %s" % (st["packets"], ", ".join(
    f"{k} {cpp[k]:.1f}" for k in names + ["total"])))
PY

# 40k packets held by net_pcap, more than the ~16k mbufs ports and workers need.
"$PKTGEN" -o "$work/big.pcap" --flows 20k --per-flow 2 --tcp-mode midstream --quiet >/dev/null
sed -i "s|rx_pcap=[^,]*|rx_pcap=$work/big.pcap|; /^signatures:/d" "$work/vigil.yaml"
"$VIGILD" -c "$work/vigil.yaml" --stats-json "$work/big.json" >"$work/log" 2>&1 &
pid=$!
# Loading 40k frames into mbufs takes a while on a busy machine: wait for the ports to forward,
# then let the replay go round (at a few Mpps, well under a second).
for _ in $(seq 300); do
	grep -q "forwarding;" "$work/log" && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
grep -q "forwarding;" "$work/log" || { cat "$work/log"; echo "test_bench_mode: vigild did not forward within 30 s" >&2; exit 1; }
sleep 2
kill -INT $pid
wait $pid || { cat "$work/log"; echo "test_bench_mode: vigild failed with a large replay" >&2; exit 1; }
grep -E 'mbuf pool: [0-9]+ mbufs' "$work/log"
/usr/bin/python3 - "$work/big.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rx = d["ports"][0]["rx_packets"]
assert rx > 40000, f"the large replay went round less than once: {rx} packets"
print(f"test_bench_mode: a 40k-packet replay ran ({rx} packets)")
PY
