#!/usr/bin/env bash
# vg-pktgen's output as Wireshark sees it: no malformed frame, every IPv4, TCP, UDP, ICMP and
# ICMPv6 checksum verified good, no TCP analysis warning (retransmission, unseen segment, ...),
# and as many TCP and UDP conversations and packets as the JSON summary says. An --app http
# capture goes through Wireshark's TCP reassembly and HTTP dissector: as many requests and
# responses as the summary says, nothing malformed. An --app dns capture goes through the DNS
# dissector: as many queries and answers (one A record each) as the summary says, the long names
# counted as the summary counts them, nothing malformed.
# Exits 77 (meson: skipped) when tshark is not installed.
set -euo pipefail

if ! command -v tshark >/dev/null 2>&1; then
	echo "tshark is not installed: skipping"
	exit 77
fi
: "${VG_PKTGEN:?VG_PKTGEN must name the vg-pktgen binary}"

dir=$(mktemp -d /tmp/vg-pktgen-tshark.XXXXXX)
trap 'rm -rf "$dir"' EXIT
pcap=$dir/t.pcap

summary=$("$VG_PKTGEN" -o "$pcap" --flows 300 --per-flow 9 --family mixed --proto mix \
	--order shuffle --size imix --vlan 10 --match-share 0.05 --match-pattern 'GET /evil|0d 0a|' \
	--deny-share 0.05)
field() { sed -E "s/.*\"$1\":([0-9]+).*/\1/" <<<"$summary"; }

# The payloads are random bytes, not SSH, TLS, DNS or HTTP: keep the application dissectors on
# the default ports out, so that "malformed" speaks about the headers this tool writes.
ts=(tshark -n -r "$pcap" -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE
	-o ip.check_checksum:TRUE)
for p in ssh tls http dns telnet; do
	ts+=(--disable-protocol "$p")
done

bad='_ws.malformed or _ws.expert.severity >= "warning" or tcp.analysis.flags
	or (ip and ip.checksum.status != "Good") or (tcp and tcp.checksum.status != "Good")
	or (udp and udp.checksum.status != "Good") or (icmp and icmp.checksum.status != "Good")
	or (icmpv6 and icmpv6.checksum.status != "Good")'
out=$("${ts[@]}" -Y "$bad" 2>/dev/null)
if [[ -n $out ]]; then
	echo "tshark flags these frames:" >&2
	head -20 <<<"$out" >&2
	exit 1
fi

fail=0
check() { # name got want
	if [[ $2 != "$3" ]]; then
		echo "$1: tshark counts $2, the summary says $3" >&2
		fail=1
	else
		echo "$1: $2"
	fi
}
check packets "$("${ts[@]}" -T fields -e frame.number 2>/dev/null | wc -l)" "$(field packets)"
check "tcp conversations" "$("${ts[@]}" -q -z conv,tcp 2>/dev/null | grep -c '<->')" \
	"$(field tcp_flows)"
check "udp conversations" "$("${ts[@]}" -q -z conv,udp 2>/dev/null | grep -c '<->')" \
	"$(field udp_flows)"
check "frames tagged with VLAN 10" "$("${ts[@]}" -Y 'vlan.id == 10' -T fields -e frame.number \
	2>/dev/null | wc -l)" "$(field packets)"
# HTTP conversations. Image bodies are random bytes: Wireshark notes that no image dissector
# took them (http.subdissector_failed), which says nothing about the HTTP it parsed.
http=$dir/http.pcap
summary=$("$VG_PKTGEN" -o "$http" --app http --flows 300 --family mixed --order shuffle \
	--requests 5 --vlan 10)
hts=(tshark -n -r "$http" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE)
out=$("${hts[@]}" -Y '(_ws.malformed and not http.subdissector_failed)
	or _ws.expert.severity >= "warning" or tcp.analysis.flags
	or (tcp and tcp.checksum.status != "Good")' 2>/dev/null)
if [[ -n $out ]]; then
	echo "tshark flags these frames of the HTTP capture:" >&2
	head -20 <<<"$out" >&2
	exit 1
fi
check "http packets" "$("${hts[@]}" -T fields -e frame.number 2>/dev/null | wc -l)" \
	"$(field packets)"
check "http requests" "$("${hts[@]}" -Y http.request -T fields -e frame.number 2>/dev/null |
	wc -l)" "$(field http_requests)"
check "http responses" "$("${hts[@]}" -Y http.response -T fields -e frame.number 2>/dev/null |
	wc -l)" "$(field http_requests)"
check "tcp conversations (http)" "$("${hts[@]}" -q -z conv,tcp 2>/dev/null | grep -c '<->')" \
	"$(field tcp_flows)"
# DNS exchanges.
dns=$dir/dns.pcap
summary=$("$VG_PKTGEN" -o "$dns" --app dns --flows 300 --family mixed --order shuffle --vlan 10)
dts=(tshark -n -r "$dns" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE)
out=$("${dts[@]}" -Y '_ws.malformed or _ws.expert.severity >= "warning" or not dns
	or (udp and udp.checksum.status != "Good")' 2>/dev/null)
if [[ -n $out ]]; then
	echo "tshark flags these frames of the DNS capture:" >&2
	head -20 <<<"$out" >&2
	exit 1
fi
check "dns packets" "$("${dts[@]}" -T fields -e frame.number 2>/dev/null | wc -l)" \
	"$(field packets)"
check "dns queries" "$("${dts[@]}" -Y 'dns.flags.response == 0 and dns.qry.type == 1
	and dns.qry.class == 1' -T fields -e frame.number 2>/dev/null | wc -l)" "$(field dns_queries)"
check "dns answers" "$("${dts[@]}" -Y 'dns.flags.response == 1 and dns.count.answers == 1
	and dns.a' -T fields -e frame.number 2>/dev/null | wc -l)" "$(field dns_queries)"
check "dns names over 52 bytes" "$("${dts[@]}" -Y 'dns.flags.response == 0
	and dns.qry.name.len > 52' -T fields -e frame.number 2>/dev/null | wc -l)" \
	"$(field dns_names_over_52)"
exit $fail
