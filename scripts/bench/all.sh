#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every figure of docs/BENCHMARKS.md, one command after another, into one directory: the
# scenarios (run.py, with vigild's stage breakdown), the sweeps and the latency (plots
# included), the policy compiler (rl_bench), the signature engine (det_bench), the store
# (vigil-store-bench), policy reloads under traffic (reload.py), several workers (scaling.py),
# the REST API under load
# (tests/api/bench_api.py), and the application layer (HTTP scenarios, compile.py: ET Open's
# load and compile figures). Each command is
# printed before it runs; its table goes to OUT/<name>.txt and its JSON to OUT/<name>.json.
# A step that finished leaves OUT/<name>.done: running again into the same OUT resumes after
# the last finished step (remove the .done files to measure again).
#
#   sudo scripts/bench/all.sh [OUT] [BUILD]     (default bench-results/, build/)
#
# About 50 minutes on a 2-core machine. Run it on a quiet machine: nothing else on the cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench-results}
build=${2:-build}
mkdir -p "$out"
export VG_PKTGEN=$PWD/$build/tools/pktgen/vg-pktgen
vigild=$PWD/$build/app/vigild

run() {
	local name=$1
	shift
	if [ -e "$out/$name.done" ]; then
		echo "bench: $name already measured ($out/$name.done), skipped"
		return
	fi
	echo "+ $*" | tee "$out/$name.txt"
	"$@" 2>&1 | tee -a "$out/$name.txt"
	touch "$out/$name.done"
}

uptime | tee -a "$out/machine.txt"
lscpu | grep -E 'Model name|^CPU\(s\)|MHz|L[123]' | tee -a "$out/machine.txt"

for sc in fwd-64b-1flow fwd-64b-1flow-200k-packets fwd-64b-1k-flows fwd-64b-100k-flows \
	fwd-64b-100k-flows-shuffled fwd-64b-1m-flows \
	policy-64b-100k-flows newflows-20k-handshake imix-10k-udp-flows-sigs; do
	run "$sc" scripts/bench/run.py "scripts/bench/scenarios/$sc.yaml" --vigild "$vigild" \
		--peers testpmd,vigild,l3fwd,ovs,vigild-stages --json "$out/$sc.json"
done
# The NIC-like input: net_vgsynth (tools/synth) loaded into every program, 1 to 1M flows in
# order and shuffled, with l3fwd in exact-match mode as well (the scenarios name the peers).
synth_pmd=$(dirname "$(dirname "$vigild")")/tools/synth/librte_net_vgsynth.so
for sc in synth-64b-1flow synth-64b-10k-flows synth-64b-10k-flows-shuffled \
	synth-64b-100k-flows synth-64b-100k-flows-shuffled synth-64b-1m-flows \
	synth-64b-1m-flows-shuffled; do
	run "$sc" scripts/bench/run.py "scripts/bench/scenarios/$sc.yaml" --vigild "$vigild" \
		--synth-pmd "$synth_pmd" --json "$out/$sc.json"
done
# The application layer: one HTTP capture (10k whole sessions) without signatures, with one
# rule that never matches (the parsing), the shipped set and Emerging Threats Open; and the
# load and compile figures of the whole ET Open set. The ET Open steps are skipped (and say
# so) where ../shared/testdata/et-open-full is absent.
for sc in http-10k-flows http-10k-flows-parse http-10k-flows-sigs http-10k-flows-etopen; do
	run "$sc" scripts/bench/run.py "scripts/bench/scenarios/$sc.yaml" --vigild "$vigild" \
		--peers testpmd,vigild,vigild-stages --seconds 5 --repeat 3 --json "$out/$sc.json"
done
# ET Open without its IP reputation files (tor, ciarmy, drop, ...: 1,194 rules of address
# lists and no content, checked on every packet): what the rest of the set costs.
etopen=../shared/testdata/et-open-full
if [ -d "$etopen" ]; then
	noip=$out/et-open-noiponly
	rm -rf "$noip" && mkdir -p "$noip" && cp "$etopen"/* "$noip"/
	rm -f "$noip"/{tor,ciarmy,drop,3coresec,threatview_CS_c2,botcc,botcc.portgrouped}.rules \
		"$noip"/{compromised,dshield}.rules
	run http-10k-flows-etopen-noiponly scripts/bench/run.py \
		scripts/bench/scenarios/http-10k-flows-etopen.yaml --signatures "$noip" \
		--name http-10k-flows-etopen-noiponly --vigild "$vigild" \
		--peers testpmd,vigild,vigild-stages --seconds 5 --repeat 3 \
		--json "$out/http-10k-flows-etopen-noiponly.json"
fi
run compile-etopen scripts/bench/compile.py --det-check "$build/detect/det_check" \
	--repeat 3 --json "$out/compile-etopen.json"
for sw in rules flows newflows signatures sizes; do
	run "sweep-$sw" scripts/bench/sweep.py "$sw" --seconds 5 --repeat 1 --vigild "$vigild" \
		--out "$out"
done
run latency scripts/bench/latency.py --vigild "$vigild" --out "$out"
run reload scripts/bench/reload.py --vigild "$vigild" --json "$out/reload.json"
run scaling scripts/bench/scaling.py --vigild "$vigild" \
	--synth-pmd "$PWD/$build/tools/synth/librte_net_vgsynth.so" --json "$out/scaling.json"

rm -f "$out/rl_bench.json"
run rl_bench "$build/rules/rl_bench" --no-huge -m 2048 --no-pci -l 0 \
	--log-level=lib.eal:error -- -n 10,1000,10000,100000 -j "$out/rl_bench.json"
run det_bench sh -c "'$build/detect/det_bench' -r 0,100,1000,10000 | tee '$out/det_bench.jsonl'"
run store_bench sh -c "'$build/control/vigil-store-bench' --dir '$out' --rows 300000 |
	tee '$out/store_bench.jsonl'"
run api_bench /usr/bin/python3 tests/api/bench_api.py --vigild "$vigild" --seconds 5 \
	--json "$out/api_bench.json"
uptime | tee -a "$out/machine.txt"
echo "bench: everything in $out"
