#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates the captures of the forwarding cases (passthrough-mixed, pair-both-directions,
two-pairs). Run with Debian's /usr/bin/python3 (python3-scapy); the outputs are committed, so
the test suite itself does not need scapy. Deterministic: fixed timestamps, no randomness."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402
from scapy.all import (ARP, Dot1AD, Dot1Q, Ether, ICMP, ICMPv6EchoRequest, IP, IPv6,  # noqa: E402
                       Raw, TCP, UDP, DNS, DNSQR, fragment)
from scapy.contrib.lldp import (LLDPDU, LLDPDUChassisID, LLDPDUPortID,  # noqa: E402
                                LLDPDUTimeToLive, LLDPDUEndOfLLDPDU)

HERE = os.path.dirname(os.path.abspath(__file__))
A_MAC, B_MAC = "02:00:00:00:00:0a", "02:00:00:00:00:0b"


def save(case, fname, frames):
    pkts = [pcapfile.Packet(1_700_000_000_000_000_000 + i * 1_000_000, bytes(f))
            for i, f in enumerate(frames)]
    pcapfile.write(os.path.join(HERE, case, fname), pkts)


def mixed_a_to_b():
    e = Ether(src=A_MAC, dst=B_MAC)
    frames = [
        e / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=80, flags="S", seq=1000),
        e / IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=40001, dport=53)
        / DNS(rd=1, qd=DNSQR(qname="example.com")),
        e / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=8, id=7, seq=1) / Raw(b"ping" * 8),
        e / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=40002, dport=443, flags="S"),
        e / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=40003, dport=123) / Raw(b"\x23" + b"\0" * 47),
        e / IPv6(src="fd00::1", dst="fd00::2") / ICMPv6EchoRequest(id=9, seq=1),
        e / Dot1Q(vlan=100) / IP(src="10.1.0.1", dst="10.1.0.2") / UDP(sport=5000, dport=5001) / Raw(b"v" * 30),
        Ether(src=A_MAC, dst=B_MAC, type=0x88a8) / Dot1AD(vlan=200) / Dot1Q(vlan=300)
        / IP(src="10.2.0.1", dst="10.2.0.2") / TCP(sport=1234, dport=22, flags="S"),
        Ether(src=A_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=A_MAC, psrc="10.0.0.1", pdst="10.0.0.2"),
        Ether(src=A_MAC, dst="01:80:c2:00:00:0e") / LLDPDU()
        / LLDPDUChassisID(subtype=4, id=A_MAC) / LLDPDUPortID(subtype=7, id=b"eth0")
        / LLDPDUTimeToLive(ttl=120) / LLDPDUEndOfLLDPDU(),
        e / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=1) / Raw(b"x" * 1446),
    ]
    frames += fragment(e / IP(src="10.0.0.1", dst="10.0.0.2", id=77) / UDP(sport=7, dport=7) / Raw(b"f" * 1200),
                       fragsize=512)
    return frames


def mixed_b_to_a():
    e = Ether(src=B_MAC, dst=A_MAC)
    return [
        e / IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001),
        e / IP(src="10.0.0.53", dst="10.0.0.1") / UDP(sport=53, dport=40001)
        / DNS(qr=1, qd=DNSQR(qname="example.com")),
        e / IPv6(src="fd00::2", dst="fd00::1") / TCP(sport=443, dport=40002, flags="SA"),
        Ether(src=B_MAC, dst=A_MAC) / ARP(op=2, hwsrc=B_MAC, psrc="10.0.0.2", hwdst=A_MAC, pdst="10.0.0.1"),
    ]


def main():
    a, b = mixed_a_to_b(), mixed_b_to_a()
    save("passthrough-mixed", "in-a.pcap", a)
    save("pair-both-directions", "in-a.pcap", a)
    save("pair-both-directions", "in-b.pcap", b)
    save("two-pairs", "in-a.pcap", a[:5])
    save("two-pairs", "in-d.pcap", b)
    print("wrote captures for passthrough-mixed, pair-both-directions, two-pairs")


if __name__ == "__main__":
    main()
