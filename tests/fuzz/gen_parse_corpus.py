#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_parse: small frames built with scapy.

Each file is tests/fuzz/corpus/parse/<expect>-<what>.bin: one policy byte (0: the default
policy, no NIC checksum flags; see tests/fuzz/fuzz_parse.c) followed by the frame. <expect> is
"ok" or the parse error name the frame must produce; test_dp_parse checks every file against
it, so scapy serves as a second, independent packet builder for the parser's tests.

Run by hand after changing the cases (needs python3-scapy); commit the output:
    /usr/bin/python3 tests/fuzz/gen_parse_corpus.py
"""
import os
import struct
import sys

from scapy.all import (ARP, DNS, DNSQR, ESP, GRE, ICMP, IP, SCTP, TCP, UDP, Dot1AD, Dot1Q,
                       Ether, ICMPv6EchoRequest, ICMPv6ND_NS, IPOption_EOL, IPOption_NOP,
                       IPOption_RR, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Padding, Raw, SCTPChunkInit,
                       fragment, fragment6)
from scapy.layers.ipsec import AH
from scapy.utils import checksum

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "parse")
# Explicit addresses everywhere so scapy never consults routes or neighbours.
MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
V4 = dict(src="192.0.2.1", dst="198.51.100.2")
V6 = dict(src="2001:db8::1", dst="2001:db8::2")


def eth(t=None):
    return Ether(**MAC) if t is None else Ether(type=t, **MAC)


def ip(**kw):
    return IP(**V4, **kw)


def ip6(**kw):
    return IPv6(**V6, **kw)


def fix_v4_cksum(frame, l3=14):
    """Recompute the IPv4 header checksum after bytes were patched."""
    b = bytearray(frame)
    hl = (b[l3] & 0xF) * 4
    b[l3 + 10:l3 + 12] = b"\0\0"
    b[l3 + 10:l3 + 12] = struct.pack("!H", checksum(bytes(b[l3:l3 + hl])))
    return bytes(b)


def ipv4_bad_option():
    # One NOP, then a record-route option whose length (16) runs past the 4 bytes left.
    f = bytearray(bytes(eth() / ip(options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(),
                                            IPOption_NOP()]) / UDP(sport=1, dport=2)))
    f[14 + 21:14 + 24] = b"\x07\x10\x04"
    return fix_v4_cksum(f)


def cases():
    c = {}
    big = Raw(b"A" * 1000)

    # Clean packets.
    c["ok-ipv4-tcp-syn-opts"] = eth() / ip() / TCP(
        sport=40000, dport=443, flags="S",
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("WScale", 7)])
    c["ok-ipv4-tcp-data"] = eth() / ip() / TCP(sport=40000, dport=80, flags="PA") / Raw(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    c["ok-ipv4-tcp-null-scan"] = eth() / ip() / TCP(dport=22, flags=0)
    c["ok-ipv4-tcp-xmas-scan"] = eth() / ip() / TCP(dport=22, flags="FPU")
    c["ok-ipv4-udp-dns"] = eth() / ip() / UDP(sport=5353, dport=53) / DNS(
        qd=DNSQR(qname="example.com"))
    c["ok-ipv4-udp-padded"] = eth() / ip() / UDP(sport=1, dport=2) / Raw(b"x") / Padding(
        b"\0" * 17)
    c["ok-ipv4-icmp-echo"] = eth() / ip() / ICMP(type=8, id=0x4242, seq=1) / Raw(b"p" * 32)
    c["ok-ipv4-icmp-unreach"] = eth() / ip() / ICMP(type=3, code=3) / ip() / UDP(
        sport=53, dport=5353)
    c["ok-ipv4-sctp-init"] = eth() / ip() / SCTP(sport=2905, dport=2905) / SCTPChunkInit()
    c["ok-ipv4-gre"] = eth() / ip() / GRE() / ip() / UDP(sport=1, dport=2)
    c["ok-ipv4-options"] = eth() / ip(options=[IPOption_RR(routers=["10.1.1.1"]),
                                               IPOption_NOP(), IPOption_EOL()]) / UDP(
        sport=1, dport=2)
    c["ok-ipv4-df"] = eth() / ip(flags="DF") / TCP(sport=1, dport=2, flags="A")
    c["ok-vlan-ipv4-udp"] = eth() / Dot1Q(vlan=100, prio=5) / ip() / UDP(sport=1, dport=2)
    c["ok-qinq-88a8-ipv4"] = (eth(0x88A8) / Dot1AD(vlan=10) / Dot1Q(vlan=20) / ip() /
                              TCP(sport=1, dport=2))
    c["ok-qinq-9100-ipv6"] = (eth(0x9100) / Dot1Q(vlan=10, type=0x8100) / Dot1Q(vlan=20) /
                              ip6() / UDP(sport=1, dport=2))
    frags = fragment(eth() / ip(id=77) / UDP(sport=1, dport=2) / big, fragsize=496)
    c["ok-ipv4-frag-first"] = frags[0]
    c["ok-ipv4-frag-later"] = frags[1]
    c["ok-ipv4-frag-last"] = frags[-1]
    c["ok-ipv6-tcp"] = eth() / ip6() / TCP(sport=33000, dport=22, flags="S")
    c["ok-ipv6-udp"] = eth() / ip6() / UDP(sport=1, dport=2) / Raw(b"hello")
    c["ok-ipv6-icmpv6-echo"] = eth() / ip6() / ICMPv6EchoRequest(id=0xBAD, seq=1)
    c["ok-ipv6-icmpv6-ns"] = eth() / ip6() / ICMPv6ND_NS(tgt="2001:db8::2")
    c["ok-ipv6-ext-chain"] = (eth() / ip6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
                              IPv6ExtHdrRouting(addresses=["2001:db8::3"]) /
                              TCP(sport=1, dport=2))
    c["ok-ipv6-ah-udp"] = eth() / ip6() / AH(spi=1, seq=1, nh=17, payloadlen=4, icv=b"\0" * 12) / UDP(
        sport=500, dport=4500)
    c["ok-ipv6-esp"] = eth() / ip6(nh=50) / ESP(spi=1, seq=1, data=b"e" * 24)
    c["ok-ipv6-no-next"] = eth() / ip6() / IPv6ExtHdrHopByHop(nh=59)
    f6 = fragment6(eth() / ip6() / IPv6ExtHdrFragment(id=5) / UDP(sport=1, dport=2) /
                   Raw(b"B" * 2000), 1280)
    c["ok-ipv6-frag-first"] = f6[0]
    c["ok-ipv6-frag-later"] = f6[1]
    c["ok-ipv6-atomic-frag"] = eth() / ip6() / IPv6ExtHdrFragment(offset=0, m=0, id=9) / TCP(
        sport=1, dport=2)
    c["ok-vlan3-ipv4-udp"] = eth() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / ip() / UDP()
    c["ok-arp"] = eth() / ARP(psrc="192.0.2.1", pdst="192.0.2.2", hwsrc=MAC["src"])
    c["ok-lldp"] = eth(0x88CC) / Raw(b"\x02\x07\x04" + b"\0" * 20)

    # Malformed: the file name says which reason.
    c["l2_truncated-10-bytes"] = bytes(eth() / ip())[:10]
    c["vlan_truncated-tag"] = bytes(eth() / Dot1Q(vlan=1) / ip())[:16]
    c["vlan_too_many-four-tags"] = (eth() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) /
                                    Dot1Q(vlan=4) / ip() / UDP())
    c["ipv4_truncated-30-bytes"] = bytes(eth() / ip() / UDP())[:30]
    c["ipv4_bad_version-5"] = eth() / ip(version=5) / UDP()
    c["ipv4_bad_ihl-4"] = eth() / ip(ihl=4) / UDP()
    c["ipv4_bad_total_len-2000"] = eth() / ip(len=2000) / UDP()
    c["ipv4_bad_checksum-1234"] = eth() / ip(chksum=0x1234) / UDP()
    c["ipv4_bad_options-rr-overrun"] = ipv4_bad_option()
    c["ipv6_truncated-50-bytes"] = bytes(eth() / ip6() / UDP())[:50]
    c["ipv6_bad_version-4"] = eth() / ip6(version=4) / UDP()
    c["ipv6_bad_payload_len-100"] = eth() / ip6(plen=100) / UDP()
    c["ipv6_ext_truncated-destopt"] = eth() / ip6(nh=60) / Raw(b"\x11\x04" + b"\0" * 6)
    nine = eth() / ip6()
    for _ in range(9):
        nine = nine / IPv6ExtHdrDestOpt()
    c["ipv6_ext_too_many-nine"] = nine / UDP()
    c["ipv6_ext_order-hbh-second"] = (eth() / ip6() / IPv6ExtHdrDestOpt() /
                                      IPv6ExtHdrHopByHop() / UDP())
    c["frag_tiny-tcp-16"] = eth() / ip(flags="MF", proto=6) / Raw(b"\0" * 16)
    c["frag_tiny-ipv6-tcp-16"] = (eth() / ip6() / IPv6ExtHdrFragment(nh=6, m=1, offset=0) /
                                  Raw(b"\0" * 16))
    c["frag_bad_offset-rfc1858"] = eth() / ip(frag=1, proto=6) / Raw(b"\0" * 24)
    c["frag_oversize-ping-of-death"] = eth() / ip(frag=8191, proto=1) / Raw(b"\0" * 16)
    c["frag_bad_len-12"] = eth() / ip(flags="MF", frag=100, proto=17) / Raw(b"\0" * 12)
    c["tcp_truncated-10"] = eth() / ip(proto=6) / Raw(b"\0" * 10)
    c["tcp_bad_data_offset-4"] = eth() / ip() / TCP(dataofs=4)
    c["tcp_bad_data_offset-15"] = eth() / ip() / TCP(dataofs=15)
    c["tcp_bad_flags-syn-fin"] = eth() / ip() / TCP(sport=1, dport=80, flags="SF")
    c["tcp_bad_flags-syn-rst-v6"] = eth() / ip6() / TCP(sport=1, dport=80, flags="SR")
    c["udp_truncated-5"] = eth() / ip(proto=17) / Raw(b"\0" * 5)
    c["udp_bad_len-100"] = eth() / ip() / UDP(len=100) / Raw(b"x" * 10)
    c["icmp_truncated-4"] = eth() / ip(proto=1) / Raw(b"\x08\0\0\0")
    c["icmp_truncated-v6-4"] = eth() / ip6(nh=58) / Raw(b"\x80\0\0\0")
    c["sctp_truncated-8"] = eth() / ip(proto=132) / Raw(b"\0" * 8)
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".bin"):
            os.remove(os.path.join(OUT, old))
    c = cases()
    for name, pkt in sorted(c.items()):
        frame = pkt if isinstance(pkt, bytes) else bytes(pkt)
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(b"\0" + frame)
    print(f"wrote {len(c)} seeds to {os.path.relpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
