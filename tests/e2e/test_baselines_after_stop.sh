#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Baselines saved at a clean stop must be what the detectors learnt, so that a restart judges with them (docs/STORE.md: "Baselines are saved through the
# store ... and loaded at start, so a restart judges the first interval with what was learnt").
#
# vigild replays the anomaly-exfil capture with a store and stops when it has run dry. The EVE
# alert shows the baseline of 10.0.0.80 just before the upload (about 4 KB per 10 s); after the
# stop, the baselines table must hold about that (the upload interval is learnt clipped, so a
# little more). It once held a mean of 0: the last tick, which closes the open intervals, walked
# the detectors through idle intervals before the baselines were saved.
#
# Usage: VIGILD=build/app/vigild tests/e2e/test_baselines_after_stop.sh
set -euo pipefail

: "${VIGILD:?VIGILD must point at the vigild binary}"
CASE=$(cd "$(dirname "$0")/../cases/anomaly-exfil" && pwd)
PREFIX=vgbase$$
WORK=$(mktemp -d /tmp/vigil-baselines.XXXXXX)
trap 'rm -rf "$WORK" /var/run/dpdk/$PREFIX' EXIT

cat >"$WORK/vigil.yaml" <<YAML
eal: {file_prefix: $PREFIX, hugepages: "off", args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: a, device: "net_pcap0,rx_pcap=$CASE/in-a.pcap,tx_pcap=$WORK/out-a.pcap"}
  - {name: b, device: "net_pcap1,rx_pcap=$CASE/in-b.pcap,tx_pcap=$WORK/out-b.pcap"}
pairs: [[a, b]]
log: {level: warning}
dataplane: {clock: packet}
flows: {max: 8192, aging_batch: 8192, update_interval: 1s}
detectors: {exfiltration: {interval: 10s, warmup: 8, min_bytes: 262144}}
alerts: {eve_log: $WORK/eve.json}
store: {path: $WORK/vigil.db}
YAML
"$VIGILD" -c "$WORK/vigil.yaml" --stop-after-idle 500 >"$WORK/vigild.log" 2>&1 ||
	{ cat "$WORK/vigild.log"; exit 1; }

learnt=$(/usr/bin/python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(round(a[0]["vigil"]["baseline_mean"]))' "$WORK/eve.json")
read -r saved n < <(sqlite3 -batch "$WORK/vigil.db" \
	"SELECT round(mean), n FROM baselines WHERE detector = 'exfiltration' AND entity = '10.0.0.80'" |
	tr '|' ' ')
echo "baseline of 10.0.0.80 (bytes out per 10 s): $learnt before the upload," \
	"$saved saved after $n samples"
if (($(printf '%.0f' "$saved") * 2 < learnt)); then
	echo "FAIL: the saved baseline forgot what was learnt" >&2
	exit 1
fi
echo PASS
