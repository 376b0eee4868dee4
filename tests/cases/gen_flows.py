#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates the captures of the flow-tracking cases (flows-mixed). Run with Debian's
/usr/bin/python3 (python3-scapy); the outputs are committed. Two captures, one per port of the
pair, with timestamps that interleave as on the wire: the client side arrives on port a, the
server side on port b."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402
from scapy.all import (Dot1Q, Ether, ICMP, IP, IPv6, Raw, TCP, UDP, DNS, DNSQR, DNSRR,  # noqa: E402
                       fragment)

HERE = os.path.dirname(os.path.abspath(__file__))
CM, SM = "02:00:00:00:01:01", "02:00:00:00:02:02"
T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def main():
    a, b = [], []  # (time, frame)

    def c2s(t_ms, frame):
        a.append((t_ms, Ether(src=CM, dst=SM) / frame))

    def s2c(t_ms, frame):
        b.append((t_ms, Ether(src=SM, dst=CM) / frame))

    # A complete TCP session: handshake, request, response, FIN close from the client.
    ip_c, ip_s = IP(src="10.1.1.1", dst="10.2.2.2"), IP(src="10.2.2.2", dst="10.1.1.1")
    c2s(0, ip_c / TCP(sport=40000, dport=80, flags="S", seq=100))
    s2c(1, ip_s / TCP(sport=80, dport=40000, flags="SA", seq=900, ack=101))
    c2s(2, ip_c / TCP(sport=40000, dport=80, flags="A", seq=101, ack=901))
    c2s(3, ip_c / TCP(sport=40000, dport=80, flags="PA", seq=101, ack=901) / Raw(b"G" * 100))
    s2c(4, ip_s / TCP(sport=80, dport=40000, flags="PA", seq=901, ack=201) / Raw(b"R" * 500))
    c2s(5, ip_c / TCP(sport=40000, dport=80, flags="FA", seq=201, ack=1401))
    s2c(6, ip_s / TCP(sport=80, dport=40000, flags="FA", seq=1401, ack=202))
    c2s(7, ip_c / TCP(sport=40000, dport=80, flags="A", seq=202, ack=1402))
    # DNS over UDP.
    c2s(10, IP(src="10.1.1.1", dst="10.2.2.53") / UDP(sport=5353, dport=53)
        / DNS(id=1, rd=1, qd=DNSQR(qname="vigil.example")))
    s2c(11, IP(src="10.2.2.53", dst="10.1.1.1") / UDP(sport=53, dport=5353)
        / DNS(id=1, qr=1, qd=DNSQR(qname="vigil.example"), an=DNSRR(rrname="vigil.example", rdata="10.2.2.2")))
    # A ping: request and reply are one flow (the echo identifier stands in for ports).
    c2s(20, ip_c / ICMP(type=8, id=77, seq=1) / Raw(b"p" * 56))
    s2c(21, ip_s / ICMP(type=0, id=77, seq=1) / Raw(b"p" * 56))
    # IPv6: a refused connection (RST).
    c2s(30, IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=41000, dport=443, flags="S"))
    s2c(31, IPv6(src="fd00::2", dst="fd00::1") / TCP(sport=443, dport=41000, flags="RA", ack=1))
    # VLAN 100: a UDP exchange.
    c2s(40, Dot1Q(vlan=100) / IP(src="10.1.1.1", dst="10.2.2.2") / UDP(sport=6000, dport=6001) / Raw(b"v" * 20))
    c2s(41, Dot1Q(vlan=100) / IP(src="10.1.1.1", dst="10.2.2.2") / UDP(sport=6000, dport=6001) / Raw(b"v" * 20))
    s2c(42, Dot1Q(vlan=100) / IP(src="10.2.2.2", dst="10.1.1.1") / UDP(sport=6001, dport=6000) / Raw(b"w" * 20))
    # A fragmented UDP datagram: three fragments, one flow.
    for i, frag in enumerate(fragment(ip_c / UDP(sport=7000, dport=7001) / Raw(b"f" * 1200), fragsize=512)):
        c2s(50 + i, frag)
    # A UDP flow that goes quiet longer than the UDP timeout (30 s in this case), then resumes:
    # two flows, the first ended by the timeout.
    c2s(60, IP(src="10.1.1.5", dst="10.2.2.2") / UDP(sport=9000, dport=9001) / Raw(b"1"))
    c2s(60 + 45_000, IP(src="10.1.1.5", dst="10.2.2.2") / UDP(sport=9000, dport=9001) / Raw(b"2"))
    # A TCP connection first seen mid-stream.
    c2s(60 + 45_001, IP(src="10.1.1.7", dst="10.2.2.2") / TCP(sport=50000, dport=8080, flags="PA") / Raw(b"m" * 10))
    s2c(60 + 45_002, IP(src="10.2.2.2", dst="10.1.1.7") / TCP(sport=8080, dport=50000, flags="A"))

    for name, frames in (("in-a.pcap", a), ("in-b.pcap", b)):
        frames.sort(key=lambda x: x[0])
        pcapfile.write(os.path.join(HERE, "flows-mixed", name),
                       [pcapfile.Packet(T0 + t * MS, bytes(f)) for t, f in frames])
    print(f"flows-mixed: {len(a)} packets on a, {len(b)} on b")


def midstream():
    """flows-midstream: which first segments start a connection mid-stream. Only those with
    ACK are picked up; scans' NULL, FIN, URG and PSH probes are not. A connection whose first
    segment seen is the SYN-ACK is oriented from the client (the SYN-ACK's receiver)."""
    a, b = [], []

    def c2s(t_ms, frame):
        a.append((t_ms, Ether(src=CM, dst=SM) / frame))

    def s2c(t_ms, frame):
        b.append((t_ms, Ether(src=SM, dst=CM) / frame))

    ip_c, ip_s = IP(src="10.1.1.1", dst="10.2.2.2"), IP(src="10.2.2.2", dst="10.1.1.1")
    # Probes without ACK: flows are recorded, none is an established connection.
    for i, flags in enumerate(("", "F", "U", "P", "FPU")):
        c2s(i, ip_c / TCP(sport=41000 + i, dport=22, flags=flags, seq=7))
    # Data with ACK on an unknown tuple: picked up as established.
    c2s(10, ip_c / TCP(sport=42000, dport=8080, flags="PA", seq=50, ack=60) / Raw(b"m" * 10))
    s2c(11, ip_s / TCP(sport=8080, dport=42000, flags="A", seq=60, ack=60))
    # The SYN-ACK first (its SYN was missed): the flow is the client's, 10.1.1.1:43000 -> :80.
    s2c(20, ip_s / TCP(sport=80, dport=43000, flags="SA", seq=900, ack=101))
    c2s(21, ip_c / TCP(sport=43000, dport=80, flags="A", seq=101, ack=901))
    c2s(22, ip_c / TCP(sport=43000, dport=80, flags="PA", seq=101, ack=901) / Raw(b"GET / HTTP/1.0\r\n\r\n"))
    s2c(23, ip_s / TCP(sport=80, dport=43000, flags="PA", seq=901, ack=119) / Raw(b"HTTP/1.0 200 OK\r\n\r\n"))
    for name, frames in (("in-a.pcap", a), ("in-b.pcap", b)):
        frames.sort(key=lambda x: x[0])
        pcapfile.write(os.path.join(HERE, "flows-midstream", name),
                       [pcapfile.Packet(T0 + t * MS, bytes(f)) for t, f in frames])


def exhaustion():
    """flows-exhaustion: a SYN flood of spoofed sources against a web server overflows a small
    flow table (flows.max 1024) while an established connection to the same server goes on: a
    download whose server sends a chunk less often than the flood takes to fill the table. The
    flood's flows never complete a handshake, so they evict each other; the connection's later
    packets in both directions are all forwarded (before, it was the stalest flow sampled:
    evicted, its server's next chunk started a flow from the server's side, which the policy
    drops). Times in microseconds."""
    a, b = [], []

    def c2s(t_us, frame):
        a.append((t_us, Ether(src=CM, dst=SM) / frame))

    def s2c(t_us, frame):
        b.append((t_us, Ether(src=SM, dst=CM) / frame))

    ip_c, ip_s = IP(src="10.1.1.1", dst="10.2.2.2"), IP(src="10.2.2.2", dst="10.1.1.1")
    cseq, sseq = 101, 901

    def chunk(t_us, n):
        """The server sends n bytes of the download, the client acknowledges them."""
        nonlocal sseq
        s2c(t_us, ip_s / TCP(sport=80, dport=40000, flags="PA", seq=sseq, ack=cseq) / Raw(b"R" * n))
        sseq += n
        c2s(t_us + 100, ip_c / TCP(sport=40000, dport=80, flags="A", seq=cseq, ack=sseq))

    c2s(0, ip_c / TCP(sport=40000, dport=80, flags="S", seq=100))
    s2c(100, ip_s / TCP(sport=80, dport=40000, flags="SA", seq=900, ack=101))
    c2s(200, ip_c / TCP(sport=40000, dport=80, flags="A", seq=101, ack=901))
    c2s(300, ip_c / TCP(sport=40000, dport=80, flags="PA", seq=101, ack=901) / Raw(b"G" * 100))
    cseq += 100
    chunk(400, 500)
    # 3000 SYNs from 198.18.0.0/15, one every 50 us from 10 ms on (150 ms); the download goes
    # on with a chunk every 40 ms, the time the flood takes to fill the table and more.
    for i in range(3000):
        src = f"198.18.{(i >> 8) & 0xff}.{i & 0xff}"
        c2s(10_000 + 50 * i + 25, IP(src=src, dst="10.2.2.2")
            / TCP(sport=1024 + (i * 7919) % 60000, dport=80, flags="S", seq=i))
    for k in range(5):
        chunk(50_000 + 40_000 * k, 200 + k)
    c2s(300_000, ip_c / TCP(sport=40000, dport=80, flags="FA", seq=cseq, ack=sseq))
    s2c(300_100, ip_s / TCP(sport=80, dport=40000, flags="FA", seq=sseq, ack=cseq + 1))
    c2s(300_200, ip_c / TCP(sport=40000, dport=80, flags="A", seq=cseq + 1, ack=sseq + 1))
    for name, frames in (("in-a.pcap", a), ("in-b.pcap", b)):
        frames.sort(key=lambda x: x[0])
        pcapfile.write(os.path.join(HERE, "flows-exhaustion", name),
                       [pcapfile.Packet(T0 + t * 1000, bytes(f)) for t, f in frames])
    print(f"flows-exhaustion: {len(a)} packets on a, {len(b)} on b")


if __name__ == "__main__":
    main()
    midstream()
    exhaustion()
