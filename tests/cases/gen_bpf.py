#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates the captures of the eBPF cases (bpf-*). Run with Debian's /usr/bin/python3
(python3-scapy); the outputs are committed. Each example program's verdicts are worked out here
from what the program is documented to do (docs/BPF.md, bpf/examples/), independently of vigild:
which destinations are private, how long a query name is, which flows the sampler's hash picks
(CRC32C as rte_hash_crc computes it, written out below)."""
import ipaddress
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402
from scapy.all import DNS, DNSQR, Ether, IP, IPv6, Raw, TCP, UDP  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CM, SM = "02:00:00:00:01:01", "02:00:00:00:02:02"
T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def c2s(f):
    return Ether(src=CM, dst=SM) / f


def s2c(f):
    return Ether(src=SM, dst=CM) / f


def write(case, name, timed):
    timed = sorted(timed, key=lambda x: x[0])
    pcapfile.write(os.path.join(HERE, case, name),
                   [pcapfile.Packet(T0 + int(t * MS), bytes(f)) for t, f in timed])


class Capture:
    def __init__(self):
        self.a, self.b, self.out_a, self.out_b = [], [], [], []

    def A(self, t, f, fwd):
        self.a.append((t, c2s(f)))
        if fwd:
            self.out_b.append((t, c2s(f)))

    def B(self, t, f, fwd):
        self.b.append((t, s2c(f)))
        if fwd:
            self.out_a.append((t, s2c(f)))

    def write(self, case):
        os.makedirs(os.path.join(HERE, case), exist_ok=True)
        write(case, "in-a.pcap", self.a)
        write(case, "expect-b.pcap", self.out_b)
        if self.b:
            write(case, "in-b.pcap", self.b)
            write(case, "expect-a.pcap", self.out_a)


def private(addr):
    a = ipaddress.ip_address(addr)
    nets = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
            "169.254.0.0/16", "fc00::/7", "fe80::/10"]
    return any(a in ipaddress.ip_network(n) for n in nets if ipaddress.ip_network(n).version == a.version)


def allow_private():
    """Every flow from port a is allowed by the rule, whose program keeps only those to
    private destinations: 3 TCP packets and a reply each; the program runs once per flow."""
    c = Capture()
    dsts = ["10.2.2.2", "172.20.0.1", "192.168.1.1", "8.8.8.8", "172.32.0.1", "fd00::2",
            "2001:db8::2"]
    t = 0
    for k, d in enumerate(dsts):
        six = ":" in d
        src = "fd00::1" if six else "10.1.1.1"
        ok = private(d)
        ip, rip = (IPv6(src=src, dst=d), IPv6(src=d, dst=src)) if six else \
            (IP(src=src, dst=d), IP(src=d, dst=src))
        sp = 41000 + k
        c.A(t, ip / TCP(sport=sp, dport=443, flags="S", seq=1), ok)
        if ok:
            c.B(t + 1, rip / TCP(sport=443, dport=sp, flags="SA", seq=7, ack=2), True)
        c.A(t + 2, ip / TCP(sport=sp, dport=443, flags="A", seq=2, ack=8), ok)
        c.A(t + 3, ip / TCP(sport=sp, dport=443, flags="PA", seq=2, ack=8) / Raw(b"x" * 20), ok)
        t += 10
    c.write("bpf-allow-private")
    print("bpf-allow-private:", sum(private(d) for d in dsts), "of", len(dsts), "private")


def dns_query(name, qid):
    return DNS(id=qid, rd=1, qd=DNSQR(qname=name))


def dns_qname():
    """Queries to port 53 through a rule with the DNS program (limit 52 bytes of name): short
    ones pass with their answers, a long one (tunnel-like) is dropped with alert 53, a later
    short query of the same flow passes (the program did not cache), and a TCP flow under the
    same rule is left alone after its first packet."""
    c = Capture()
    ip, rip = IP(src="10.1.1.1", dst="10.2.2.53"), IP(src="10.2.2.53", dst="10.1.1.1")
    short = "www.example.com"
    long_ = "a" * 40 + ".b" * 10 + ".tunnel.example"  # 40 + 20 + 15 = 75 bytes
    assert len(long_) > 52 and len(short) <= 52
    q1 = dns_query(short, 1)
    c.A(0, ip / UDP(sport=5353, dport=53) / q1, True)
    c.B(1, rip / UDP(sport=53, dport=5353) / DNS(id=1, qr=1, qd=q1.qd), True)
    c.A(2, ip / UDP(sport=5353, dport=53) / dns_query(long_, 2), False)
    c.A(3, ip / UDP(sport=5353, dport=53) / dns_query("mail.example.org", 3), True)
    # exactly 52 bytes: at the limit, passes
    edge = "c" * 40 + ".example.com"
    assert len(edge) == 52
    c.A(4, ip / UDP(sport=5354, dport=53) / dns_query(edge, 4), True)
    c.A(5, ip / UDP(sport=5355, dport=53) / dns_query(edge[:-3] + "comm", 5), False)
    tip, trip = IP(src="10.1.1.1", dst="10.2.2.80"), IP(src="10.2.2.80", dst="10.1.1.1")
    c.A(10, tip / TCP(sport=40000, dport=80, flags="S", seq=1), True)
    c.B(11, trip / TCP(sport=80, dport=40000, flags="SA", seq=5, ack=2), True)
    c.A(12, tip / TCP(sport=40000, dport=80, flags="A", seq=2, ack=6), True)
    c.write("bpf-dns-qname")


CRC32C = []
for n in range(256):
    v = n
    for _ in range(8):
        v = (v >> 1) ^ 0x82F63B78 if v & 1 else v >> 1
    CRC32C.append(v)


def rte_hash_crc(data, init):
    """DPDK's rte_hash_crc: CRC32C (reflected, polynomial 0x82F63B78) from init, no final
    inversion, as the SSE4.2 crc32 instruction computes it."""
    crc = init & 0xffffffff
    for byte in data:
        crc = CRC32C[(crc ^ byte) & 0xff] ^ (crc >> 8)
    return crc


def flow_hash(src, sport, dst, dport):
    def a16(a):
        b = ipaddress.ip_address(a).packed
        return b + bytes(16 - len(b))
    return rte_hash_crc(a16(src), sport) ^ rte_hash_crc(a16(dst), dport)


def sampler():
    """16 UDP flows, each a request and an answer, all forwarded; the sampler picks the flows
    whose hash is 0 mod 4 and raises alert 7 on their first packet. Returns the picked flows."""
    c = Capture()
    picked = []
    for k in range(16):
        src, dst, sp, dp = "10.1.1.1", f"10.2.3.{k + 1}", 30000 + k * 7, 9000
        ip, rip = IP(src=src, dst=dst), IP(src=dst, dst=src)
        c.A(k * 10, ip / UDP(sport=sp, dport=dp) / Raw(b"req"), True)
        c.B(k * 10 + 1, rip / UDP(sport=dp, dport=sp) / Raw(b"ans"), True)
        if flow_hash(src, sp, dst, dp) % 4 == 0:
            picked.append((src, sp, dst, dp))
    c.write("bpf-sampler")
    print("bpf-sampler: picked", picked)
    return picked


if __name__ == "__main__":
    allow_private()
    dns_qname()
    sampler()
    print("bpf cases written")
