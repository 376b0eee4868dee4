#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates the captures of the policy cases. Run with Debian's /usr/bin/python3
(python3-scapy); the outputs are committed. The expected answers to rejected packets (TCP RST,
ICMP and ICMPv6 unreachable) are built here with scapy, independently of vigild, so the case
checks them byte for byte."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402
from scapy.all import (ARP, Ether, ICMP, ICMPv6DestUnreach, ICMPv6EchoRequest, IP, IPv6,  # noqa: E402
                       Raw, TCP, UDP)
from scapy.contrib.lldp import (LLDPDU, LLDPDUChassisID, LLDPDUPortID,  # noqa: E402
                                LLDPDUTimeToLive, LLDPDUEndOfLLDPDU)

HERE = os.path.dirname(os.path.abspath(__file__))
CM, SM = "02:00:00:00:01:01", "02:00:00:00:02:02"
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
C4, S4, C6, S6 = "10.1.1.1", "10.2.2.2", "fd00::1", "fd00::2"


def c2s(f):
    return Ether(src=CM, dst=SM) / f


def s2c(f):
    return Ether(src=SM, dst=CM) / f


def write(case, name, timed):
    timed = sorted(timed, key=lambda x: x[0])
    pcapfile.write(os.path.join(HERE, case, name),
                   [pcapfile.Packet(T0 + int(t * MS), bytes(f)) for t, f in timed])


def verdicts():
    """Allow web and DNS from the client side, default drop; established return traffic on the
    other port follows the flow; ARP passes and LLDP is dropped by the l2 section."""
    a, b, out_b, out_a = [], [], [], []

    def A(t, f, fwd):
        a.append((t, c2s(f)))
        if fwd:
            out_b.append((t, c2s(f)))

    def B(t, f, fwd):
        b.append((t, s2c(f)))
        if fwd:
            out_a.append((t, s2c(f)))

    ip, rip = IP(src=C4, dst=S4), IP(src=S4, dst=C4)
    A(0, ip / TCP(sport=40000, dport=80, flags="S", seq=1), True)
    B(1, rip / TCP(sport=80, dport=40000, flags="SA", seq=9, ack=2), True)
    A(2, ip / TCP(sport=40000, dport=80, flags="A", seq=2, ack=10), True)
    A(3, ip / TCP(sport=40000, dport=80, flags="PA", seq=2, ack=10) / Raw(b"GET / HTTP/1.0\r\n\r\n"), True)
    B(4, rip / TCP(sport=80, dport=40000, flags="PA", seq=10, ack=20) / Raw(b"HTTP/1.0 200 OK\r\n\r\n"), True)
    # Not allowed: another port, and the server trying to open a connection to the client.
    A(10, ip / TCP(sport=40001, dport=8080, flags="S"), False)
    B(11, rip / TCP(sport=40002, dport=80, flags="S"), False)
    # DNS allowed, NTP not.
    A(20, IP(src=C4, dst="10.2.2.53") / UDP(sport=5000, dport=53) / Raw(b"q" * 30), True)
    B(21, IP(src="10.2.2.53", dst=C4) / UDP(sport=53, dport=5000) / Raw(b"r" * 60), True)
    A(22, ip / UDP(sport=5001, dport=123) / Raw(b"\x23" + b"\0" * 47), False)
    # IPv6 web allowed.
    A(30, IPv6(src=C6, dst=S6) / TCP(sport=41000, dport=443, flags="S"), True)
    B(31, IPv6(src=S6, dst=C6) / TCP(sport=443, dport=41000, flags="SA", ack=1), True)
    # An Xmas-tree packet inside the allowed web flow is dropped by the stateless rule.
    A(40, ip / TCP(sport=40000, dport=80, flags="FPU", seq=40), False)
    # l2: ARP passes, LLDP is dropped.
    a.append((50, Ether(src=CM, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=C4, pdst=S4, hwsrc=CM)))
    out_b.append(a[-1])
    a.append((51, Ether(src=CM, dst="01:80:c2:00:00:0e") / LLDPDU() / LLDPDUChassisID(subtype=4, id=CM)
              / LLDPDUPortID(subtype=7, id=b"eth0") / LLDPDUTimeToLive(ttl=120) / LLDPDUEndOfLLDPDU()))
    write("policy-verdicts", "in-a.pcap", a)
    write("policy-verdicts", "in-b.pcap", b)
    write("policy-verdicts", "expect-b.pcap", out_b)
    write("policy-verdicts", "expect-a.pcap", out_a)


def reject():
    """Rejected packets are answered on the port they came from: RST for TCP (with and without
    ACK), ICMP port unreachable for UDP, ICMPv6 for IPv6; nothing goes through."""
    a, back = [], []
    syn = IP(src=C4, dst=S4) / TCP(sport=40000, dport=23, flags="S", seq=1000)
    a.append((0, c2s(syn)))
    back.append((0, s2c(IP(src=S4, dst=C4, id=0, ttl=64, flags=0)
                        / TCP(sport=23, dport=40000, flags="RA", seq=0, ack=1001, window=0))))
    data = IP(src=C4, dst=S4) / TCP(sport=40001, dport=23, flags="PA", seq=5000, ack=7000) / Raw(b"x" * 10)
    a.append((1, c2s(data)))
    back.append((1, s2c(IP(src=S4, dst=C4, id=0, ttl=64, flags=0)
                        / TCP(sport=23, dport=40001, flags="R", seq=7000, ack=0, window=0))))
    udp = IP(src=C4, dst=S4) / UDP(sport=5000, dport=161) / Raw(b"public" * 5)
    a.append((2, c2s(udp)))
    back.append((2, s2c(IP(src=S4, dst=C4, id=0, ttl=64, flags=0) / ICMP(type=3, code=3)
                        / Raw(bytes(udp)))))
    syn6 = IPv6(src=C6, dst=S6) / TCP(sport=41000, dport=23, flags="S", seq=77)
    a.append((3, c2s(syn6)))
    back.append((3, s2c(IPv6(src=S6, dst=C6, hlim=64) / TCP(sport=23, dport=41000, flags="RA", seq=0,
                                                            ack=78, window=0))))
    udp6 = IPv6(src=C6, dst=S6) / UDP(sport=5001, dport=161) / Raw(b"v6" * 20)
    a.append((4, c2s(udp6)))
    back.append((4, s2c(IPv6(src=S6, dst=C6, hlim=64) / ICMPv6DestUnreach(code=4) / Raw(bytes(udp6)))))
    # No answer to an RST, nor to a packet for a multicast group.
    a.append((5, c2s(IP(src=C4, dst=S4) / TCP(sport=40002, dport=23, flags="R", seq=1))))
    a.append((6, c2s(IP(src=C4, dst="239.1.1.1") / UDP(sport=5002, dport=161) / Raw(b"m"))))
    write("policy-reject", "in-a.pcap", a)
    write("policy-reject", "expect-a.pcap", back)


def rate_limit():
    """Ping is limited to 5 per second per source with bursts of 5, on the capture's clock: of
    20 requests 1 ms apart, 5 pass; after a quiet second, 5 more pass; another source has its
    own bucket."""
    a, out = [], []
    for i in range(20):
        f = c2s(IP(src=C4, dst=S4) / ICMP(type=8, id=1, seq=i) / Raw(b"p" * 32))
        a.append((i, f))
        if i < 5:
            out.append((i, f))
    for i in range(10):
        f = c2s(IP(src=C4, dst=S4) / ICMP(type=8, id=1, seq=100 + i) / Raw(b"p" * 32))
        a.append((2000 + i, f))
        if i < 5:
            out.append((2000 + i, f))
    for i in range(3):
        f = c2s(IP(src="10.1.1.9", dst=S4) / ICMP(type=8, id=2, seq=i) / Raw(b"q" * 32))
        a.append((2100 + i, f))
        out.append((2100 + i, f))
    write("policy-rate-limit", "in-a.pcap", a)
    write("policy-rate-limit", "expect-b.pcap", out)


def dry_run():
    """Dry-run: the same drops as policy-verdicts' default, counted but forwarded."""
    a = []
    ip = IP(src=C4, dst=S4)
    a.append((0, c2s(ip / TCP(sport=40001, dport=8080, flags="S"))))
    a.append((1, c2s(ip / UDP(sport=5001, dport=123) / Raw(b"\x23" + b"\0" * 47))))
    a.append((2, c2s(ip / TCP(sport=40000, dport=80, flags="S"))))
    write("policy-dry-run", "in-a.pcap", a)
    write("policy-dry-run", "expect-b.pcap", a[1:])
    write("policy-dry-run-global", "in-a.pcap", a)


if __name__ == "__main__":
    verdicts()
    reject()
    rate_limit()
    dry_run()
    print("policy cases written")
