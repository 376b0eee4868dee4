#!/usr/bin/env bash
# Generate Vigil's standard benchmark inputs with vg-pktgen (deterministic: seed 1, so every run
# writes byte-identical files) and print what was written, with generation time and file size.
#
#   scripts/bench/gen-scenarios.sh OUTDIR [PATTERN_FILE]
#
# PATTERN_FILE holds the contents that 1% of the IMIX flows carry, one per line with |hex|
# escapes (the signature benchmark should load rules that match them); without it a default set
# is written to OUTDIR/patterns.txt. The binary is $VG_PKTGEN, else build/ or build-pktgen/, else
# vg-pktgen on PATH. OUTDIR/manifest.jsonl gets one line per file: scenario, seconds, size and
# vg-pktgen's summary.
#
# Sizes are RFC 2544 frame sizes (FCS included; a 64-byte frame is a 60-byte pcap record).
# net_pcap with infinite_rx=1 holds every packet of a file in an mbuf: the 1M-flow file needs
# about 1M mbufs (some 2.3 GB with default 2 KiB data rooms).
set -euo pipefail

usage() {
	echo "usage: $0 OUTDIR [PATTERN_FILE]" >&2
	exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
out=$1
patterns=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)

gen=${VG_PKTGEN:-}
if [[ -z $gen ]]; then
	for b in "$root/build/tools/pktgen/vg-pktgen" "$root/build-pktgen/tools/pktgen/vg-pktgen"; do
		if [[ -x $b ]]; then
			gen=$b
			break
		fi
	done
fi
if [[ -z $gen ]]; then
	gen=$(command -v vg-pktgen || true)
fi
if [[ -z $gen || ! -x $gen ]]; then
	echo "gen-scenarios: vg-pktgen not found; build it (ninja -C build tools/pktgen/vg-pktgen)" \
		"or set VG_PKTGEN" >&2
	exit 1
fi

mkdir -p "$out"
if [[ -z $patterns ]]; then
	patterns=$out/patterns.txt
	cat >"$patterns" <<'PATTERNS'
# Default contents for the IMIX signature scenario (gen-scenarios.sh); one per line, |hex| ok.
/etc/passwd
cmd.exe
|90 90 90 90 90 90 90 90|
<script>alert(
union select
PATTERNS
elif [[ ! -r $patterns ]]; then
	echo "gen-scenarios: cannot read pattern file '$patterns'" >&2
	exit 1
fi

manifest=$out/manifest.jsonl
: >"$manifest"
printf '%-36s %10s %10s %12s %9s\n' file packets flows "size (MB)" seconds
scenario() { # name, vg-pktgen options...
	local name=$1 file=$out/$1.pcap t0 t1 summary secs size
	shift
	t0=$(date +%s.%N)
	summary=$("$gen" -o "$file" --quiet "$@")
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	size=$(stat -c %s "$file")
	printf '{"scenario":"%s","seconds":%s,"size":%s,"summary":%s}\n' "$name" "$secs" "$size" \
		"$summary" >>"$manifest"
	printf '%-36s %10s %10s %12s %9s\n' "$name.pcap" \
		"$(sed -E 's/.*"packets":([0-9]+).*/\1/' <<<"$summary")" \
		"$(sed -E 's/.*"flows":([0-9]+).*/\1/' <<<"$summary")" \
		"$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')" "$secs"
}

# Steady state: data segments only, flows already established, both directions where a flow has
# two packets or more.
scenario 64b-1flow --flows 1 --packets 4096 --tcp-mode midstream --size 64
scenario 64b-1k-flows --flows 1k --per-flow 4 --tcp-mode midstream --size 64
scenario 64b-100k-flows --flows 100k --per-flow 2 --tcp-mode midstream --size 64
scenario 64b-1m-flows --flows 1M --per-flow 1 --tcp-mode midstream --size 64
# Signatures: IMIX, 1% of the flows (exactly 1000) carry one of the patterns in their first
# client packet; no other flow carries any of them.
scenario imix-100k-flows-1pct-match --flows 100k --per-flow 4 --tcp-mode midstream --size imix \
	--match-share 0.01 --match-file "$patterns"
# New flows: every flow is SYN, SYN-ACK, ACK, one data segment, FIN, FIN, ACK, flows shuffled.
scenario new-flows-100k-handshake --flows 100k --per-flow 7 --tcp-mode handshake \
	--order shuffle --size 64
echo "manifest: $manifest"
