#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpus of fuzz_bpf (tests/fuzz/corpus/bpf): a mode byte, then a frame (mode < 0x80:
the context comes from the parser) or a raw context and a frame (mode >= 0x80). Run with
Debian's /usr/bin/python3 (scapy); the outputs are committed."""
import os
import struct

from scapy.all import DNS, DNSQR, Dot1Q, Ether, ICMP, IP, IPv6, Raw, TCP, UDP

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "bpf")
E = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:02:02")


def dns(name):
    return E / IP(src="10.1.1.1", dst="10.2.2.53") / UDP(sport=5353, dport=53) / DNS(rd=1, qd=DNSQR(qname=name))


seeds = {
    "dns-short": (0x00, bytes(dns("www.example.com"))),
    "dns-long": (0x00, bytes(dns("a" * 60 + ".b" * 20 + ".example"))),
    "dns-many-labels": (0x00, bytes(dns(".".join(["x"] * 40)))),
    "dns-truncated": (0x00, bytes(dns("www.example.com"))[:60]),
    "dns-pointer": (0x00, bytes(E / IP(src="10.1.1.1", dst="10.2.2.53") / UDP(sport=1, dport=53)
                               / Raw(b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c"))),
    "dns-answer": (0x08, bytes(E / IP(src="10.2.2.53", dst="10.1.1.1") / UDP(sport=53, dport=5353)
                              / DNS(qr=1, qd=DNSQR(qname="www.example.com")))),
    "tcp-public": (0x01, bytes(E / IP(src="10.1.1.1", dst="8.8.8.8") / TCP(sport=40000, dport=443, flags="S"))),
    "tcp-private-reply": (0x0a, bytes(E / IP(src="192.168.1.1", dst="8.8.8.8") / TCP(sport=443, dport=40000, flags="SA"))),
    "v6-ula": (0x02, bytes(E / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=1, dport=2) / Raw(b"x"))),
    "v6-global": (0x03, bytes(E / IPv6(src="fd00::1", dst="2001:db8::2") / TCP(sport=1, dport=2))),
    "icmp-vlan": (0x04, bytes(E / Dot1Q(vlan=7) / IP(src="10.1.1.1", dst="1.1.1.1") / ICMP())),
    "raw-ctx-dns-offsets": (0x80, struct.pack("<HHBBBBHHHHIIHHHHIIQQ", 1, 88, 4, 17, 0, 0, 0,
                                              5353, 53, 0, 0, 4000, 14, 34, 42, 0, 60, 1, 0, 0)
                            + bytes(32) + bytes(dns("www.example.com"))),
    "raw-ctx-garbage": (0xff, bytes(range(256))),
    # The map examples: a knock (port_knock writes its state), the protected port, an allowed
    # source of allow_list (IPv4 and IPv6).
    "knock-a": (0x00, bytes(E / IP(src="10.1.1.1", dst="10.2.2.2") / TCP(sport=50000, dport=7001, flags="S"))),
    "knock-p": (0x00, bytes(E / IP(src="10.1.1.1", dst="10.2.2.2") / TCP(sport=50001, dport=22, flags="S"))),
    "knock-v6": (0x00, bytes(E / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=50002, dport=7002, flags="S"))),
    "allowed-src": (0x00, bytes(E / IP(src="10.1.2.9", dst="10.2.2.2") / TCP(sport=42000, dport=443, flags="S"))),
    "allowed-src-v6": (0x00, bytes(E / IPv6(src="fd00:1::5", dst="fd00::2") / TCP(sport=42001, dport=443, flags="S"))),
}
os.makedirs(OUT, exist_ok=True)
for name, (mode, body) in seeds.items():
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(bytes([mode]) + body)
print(f"{len(seeds)} seeds in {OUT}")
