#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates the captures of the eBPF cases (bpf-*). Run with Debian's /usr/bin/python3
(python3-scapy); the outputs are committed. Each example program's verdicts are worked out here
from what the program is documented to do (docs/BPF.md, bpf/examples/), independently of vigild:
which destinations are private, how long a query name is, which flows the sampler's hash picks
(CRC32C as rte_hash_crc computes it, written out below), which prefix of the allow list's files
holds a source (longest match with ipaddress), which knock sequences are complete in time.
The map cases' case.json is written here too (their verdicts and counters)."""
import ipaddress
import json
import os
import sys

import yaml

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


EXAMPLES = os.path.join(HERE, "..", "..", "bpf", "examples")


def lpm(entries, addr):
    """The value of the longest prefix holding addr, or None."""
    a = ipaddress.ip_address(addr)
    best = None
    for e in entries:
        n = ipaddress.ip_network(e["key"])
        if n.version == a.version and a in n and (best is None or n.prefixlen > best[0]):
            best = (n.prefixlen, e["value"])
    return None if best is None else best[1]


def flow_json(proto, src, sport, dst, dport, verdict, packets=None):
    f = {"proto": proto, "src": src, "sport": sport, "dst": dst, "dport": dport,
         "verdict": verdict}
    if packets is not None:
        f["packets"] = packets
    return f


def write_case(case, description, c, flows, bpf, ports):
    cj = {"description": description,
          "input": {"a": "in-a.pcap", "b": "in-b.pcap"},
          "expect": {"a": "expect-a.pcap", "b": "expect-b.pcap"},
          "policy": "policy.yaml",
          "config": {"dataplane": {"clock": "packet"}},
          "flows": flows,
          "counters": {"ports": ports, "bpf": [bpf]}}
    with open(os.path.join(HERE, case, "case.json"), "w") as f:
        json.dump(cj, f, indent=2)
        f.write("\n")


def allow_list():
    """Flows from port a through a rule with the allow list program: the initiator's source is
    looked up in the lpm maps filled from allow_list.v4.yaml and allow_list.v6.yaml; flows from
    a listed source keep the rule's allow (marked with the prefix's value), others are dropped.
    One run per flow (cached)."""
    v4 = yaml.safe_load(open(os.path.join(EXAMPLES, "allow_list.v4.yaml")))["entries"]
    v6 = yaml.safe_load(open(os.path.join(EXAMPLES, "allow_list.v6.yaml")))["entries"]
    c = Capture()
    srcs = ["10.1.5.5", "10.1.2.9", "192.0.2.7", "192.0.2.8", "10.2.0.1", "fd00:1::5",
            "fd00:2::5"]
    flows, t, allowed = [], 0, 0
    for k, s in enumerate(srcs):
        six = ":" in s
        d = "fd00::2" if six else "10.2.2.2"
        mark = lpm(v6 if six else v4, s)
        ok = mark is not None
        allowed += ok
        ip, rip = (IPv6(src=s, dst=d), IPv6(src=d, dst=s)) if six else \
            (IP(src=s, dst=d), IP(src=d, dst=s))
        sp = 42000 + k
        c.A(t, ip / TCP(sport=sp, dport=443, flags="S", seq=1), ok)
        if ok:
            c.B(t + 1, rip / TCP(sport=443, dport=sp, flags="SA", seq=7, ack=2), True)
        c.A(t + 2, ip / TCP(sport=sp, dport=443, flags="A", seq=2, ack=8), ok)
        c.A(t + 3, ip / TCP(sport=sp, dport=443, flags="PA", seq=2, ack=8) / Raw(b"y" * 20), ok)
        flows.append(flow_json("tcp", s, sp, d, 443, "allow" if ok else "drop",
                               [3, 1] if ok else [3, 0]))
        t += 10
    c.write("bpf-allow-list")
    n = len(srcs)
    write_case("bpf-allow-list",
               "eBPF allow list over lpm maps (bpf/examples/allow_list.c, maps filled from "
               "allow_list.v4.yaml and allow_list.v6.yaml): flows from 10.1/16, 10.1.2/24, "
               "192.0.2.7 and fd00:1::/32 keep the rule's allow, marked with the longest "
               "prefix's value; flows from 192.0.2.8, 10.2.0.1 and fd00:2::5 are dropped; one run "
               "per flow",
               c, flows,
               {"name": "allow-list", "runs": n, "pass": allowed, "drop": n - allowed,
                "reject": 0, "allow": 0, "invalid": 0, "cached": n, "marks": allowed},
               [{"name": "a", "rx_packets": 3 * n, "tx_packets": allowed},
                {"name": "b", "rx_packets": allowed, "tx_packets": 3 * allowed}])
    print("bpf-allow-list:", allowed, "of", n, "allowed")


def rst_for(syn):
    """The RST/ACK vigild answers a rejected SYN with (as in policy-reject)."""
    six = IPv6 in syn
    t = syn[TCP]
    tcp = TCP(sport=t.dport, dport=t.sport, flags="RA", seq=0, ack=t.seq + 1, window=0)
    if six:
        return IPv6(src=syn[IPv6].dst, dst=syn[IPv6].src, hlim=64) / tcp
    return IP(src=syn[IP].dst, dst=syn[IP].src, id=0, ttl=64, flags=0) / tcp


def port_knock():
    """The port knocking program (config from port_knock.config.yaml) on a rule that drops TCP
    from port a: SYNs to the knock ports A, B, C, in order and each within the window of the
    one before, open the protected port P for the source; a SYN to P otherwise is rejected
    (RST/ACK back on port a). Every knock is a flow of its own (on its own port): the program's
    state per source is in its hash map."""
    cfg = {e["key"]: e["value"] for e in
           yaml.safe_load(open(os.path.join(EXAMPLES, "port_knock.config.yaml")))["entries"]}
    A, B, C, P, win_ms = cfg[0], cfg[1], cfg[2], cfg[3], cfg[4] * 1000
    c = Capture()
    state = {}  # source -> (step, time of the last knock in ms): the program's logic
    flows, n = [], {"allow": 0, "reject": 0, "pass": 0}
    a_rx, a_tx, b_rx, b_tx = 0, 0, 0, 0
    sport = [50000]

    def syn(t, src, dport):
        nonlocal a_rx, a_tx, b_rx, b_tx
        six = ":" in src
        dst = "fd00::2" if six else "10.2.2.2"
        sp = sport[0]
        sport[0] += 1
        ip, rip = (IPv6(src=src, dst=dst), IPv6(src=dst, dst=src)) if six else \
            (IP(src=src, dst=dst), IP(src=dst, dst=src))
        st = state.get(src)
        step = st[0] if st is not None and t - st[1] <= win_ms else 0
        f = ip / TCP(sport=sp, dport=dport, flags="S", seq=100)
        if dport == P:
            ok = step == 3
            c.A(t, f, ok)
            a_rx += 1
            if ok:
                c.B(t + 1, rip / TCP(sport=P, dport=sp, flags="SA", seq=500, ack=101), True)
                c.A(t + 2, ip / TCP(sport=sp, dport=P, flags="A", seq=101, ack=501), True)
                c.A(t + 3, ip / TCP(sport=sp, dport=P, flags="PA", seq=101, ack=501) / Raw(b"SSH-2.0-x\r\n"), True)
                a_rx += 2
                b_rx += 1
                a_tx += 1
                b_tx += 3
                n["allow"] += 1
                flows.append(flow_json("tcp", src, sp, dst, dport, "allow", [3, 1]))
            else:
                c.out_a.append((t, s2c(rst_for(f))))
                a_tx += 1
                n["reject"] += 1
                flows.append(flow_json("tcp", src, sp, dst, dport, "reject", [1, 0]))
            return
        c.A(t, f, False)
        a_rx += 1
        n["pass"] += 1
        flows.append(flow_json("tcp", src, sp, dst, dport, "drop", [1, 0]))
        if dport == A:
            state[src] = (1, t)
        elif dport == B and step == 1:
            state[src] = (2, t)
        elif dport == C and step == 2:
            state[src] = (3, t)
        elif dport in (B, C):
            state.pop(src, None)

    # Without knocking: refused. Then the sequence, and the port opens.
    syn(0, "10.1.1.1", P)
    syn(10, "10.1.1.1", A)
    syn(20, "10.1.1.1", B)
    syn(30, "10.1.1.1", C)
    syn(40, "10.1.1.1", P)
    syn(50, "10.1.1.1", 80)  # not a knock port: the rule's drop
    # Out of order.
    syn(100, "10.1.1.2", A)
    syn(110, "10.1.1.2", C)
    syn(120, "10.1.1.2", B)
    syn(130, "10.1.1.2", P)
    # Too slow: B comes after the window.
    syn(200, "10.1.1.3", A)
    syn(200 + win_ms + 1, "10.1.1.3", B)
    syn(200 + win_ms + 2, "10.1.1.3", C)
    syn(200 + win_ms + 3, "10.1.1.3", P)
    # IPv6, in order (the state is keyed by the whole address).
    syn(300, "fd00::1", A)
    syn(301, "fd00::1", B)
    syn(302, "fd00::1", C)
    syn(303, "fd00::1", P)
    c.write("bpf-port-knock")
    runs = sum(n.values())
    write_case("bpf-port-knock",
               "eBPF port knocking (bpf/examples/port_knock.c, config from "
               "port_knock.config.yaml: knocks %d, %d, %d open port %d for %d s) on a rule that "
               "drops TCP from port a: a SYN to %d without the knocks is rejected (RST/ACK, byte "
               "for byte); after the knocks in order it is allowed with its connection; knocks "
               "out of order or slower than the window do not open it; IPv6 sources alike"
               % (A, B, C, P, win_ms // 1000, P),
               c, flows,
               {"name": "knock", "runs": runs, "pass": n["pass"], "drop": 0,
                "reject": n["reject"], "allow": n["allow"], "invalid": 0, "cached": runs},
               [{"name": "a", "rx_packets": a_rx, "tx_packets": a_tx},
                {"name": "b", "rx_packets": b_rx, "tx_packets": b_tx}])
    print("bpf-port-knock:", n)


def bogon(addr):
    """The sources prefilter_bogon.c drops, from its documentation."""
    a = ipaddress.ip_address(addr)
    if a.version == 4:
        nets = ["0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"]
    else:
        nets = ["::/128", "::1/128", "ff00::/8"]
    return any(a in ipaddress.ip_network(n) for n in nets)


MIN_TTL = 5  # prefilter_bogon.c


def multicast(addr):
    return ipaddress.ip_address(addr).is_multicast


def prefilter():
    """The pre-filter bpf/examples/prefilter_bogon.c on port a, before a policy that allows
    every flow from a: bogon sources are dropped (alert 2) before any flow exists; a TTL or hop
    limit below 5 is rejected (alert 1: a TCP SYN gets its RST/ACK back on port a); the rest
    goes on to the flow table and the rule. Port b has no pre-filter: a reply with TTL 2 from b
    is forwarded. A later fragment from a bogon source is dropped too (the pre-filter sees the
    fragments the flow table would)."""
    c = Capture()
    flows, alerts = [], []
    n = {"pass": 0, "drop": 0, "reject": 0}
    a_rx, a_tx, b_rx, b_tx = 0, 0, 0, 0
    t = 0

    def ips(src, dst, ttl):
        if ":" in src:
            return IPv6(src=src, dst=dst, hlim=ttl), IPv6(src=dst, dst=src, hlim=2)
        return IP(src=src, dst=dst, ttl=ttl), IP(src=dst, dst=src, ttl=2)

    def verdict(src, ttl, dst=None):
        if bogon(src):
            return "drop"
        return "reject" if ttl < MIN_TTL and not (dst and multicast(dst)) else "pass"

    def tcp(src, dst, sp, ttl):
        nonlocal t, a_rx, a_tx, b_rx, b_tx
        ip, rip = ips(src, dst, ttl)
        v = verdict(src, ttl)
        syn = ip / TCP(sport=sp, dport=443, flags="S", seq=1)
        c.A(t, syn, v == "pass")
        a_rx += 1
        n[v] += 1
        if v == "pass":
            c.B(t + 1, rip / TCP(sport=443, dport=sp, flags="SA", seq=7, ack=2), True)
            c.A(t + 2, ip / TCP(sport=sp, dport=443, flags="A", seq=2, ack=8), True)
            n["pass"] += 1
            a_rx += 1
            b_rx += 1
            a_tx += 1
            b_tx += 2
            flows.append(flow_json("tcp", src, sp, dst, 443, "allow", [2, 1]))
        elif v == "reject":
            c.out_a.append((t, s2c(rst_for(syn))))
            a_tx += 1
        if v != "pass":
            alerts.append({"alert": {"gid": 9001, "signature_id": 2 if v == "drop" else 1,
                                     "signature": "bpf prefilter bogons: alert %d"
                                     % (2 if v == "drop" else 1),
                                     "action": "blocked"},
                           "src_ip": src, "src_port": sp, "dest_ip": dst, "dest_port": 443})
        t += 10

    def udp(src, dst, sp, ttl):
        nonlocal t, a_rx, b_tx
        ip, _ = ips(src, dst, ttl)
        v = verdict(src, ttl, dst)
        assert v != "reject"
        c.A(t, ip / UDP(sport=sp, dport=53) / Raw(b"q"), v == "pass")
        a_rx += 1
        n[v] += 1
        if v == "pass":
            b_tx += 1
            flows.append(flow_json("udp", src, sp, dst, 53, "allow", [1, 0]))
        else:
            alerts.append({"alert": {"gid": 9001, "signature_id": 2,
                                     "signature": "bpf prefilter bogons: alert 2",
                                     "action": "blocked"},
                           "src_ip": src, "src_port": sp, "dest_ip": dst, "dest_port": 53})
        t += 10

    tcp("10.1.1.1", "10.2.2.2", 43000, 64)      # passes, with its reply (TTL 2 on port b)
    tcp("127.0.0.1", "10.2.2.2", 43001, 64)     # bogon: dropped
    udp("240.0.0.9", "10.2.2.2", 43002, 64)     # bogon: dropped
    udp("0.1.2.3", "10.2.2.2", 43003, 64)       # bogon: dropped
    tcp("10.1.1.5", "10.2.2.2", 43004, 3)       # TTL 3: rejected
    tcp("10.1.1.6", "10.2.2.2", 43005, MIN_TTL)  # TTL 5: at the limit, passes
    udp("10.1.1.7", "10.2.2.2", 43006, 64)      # passes
    tcp("fd00::1", "fd00::2", 43007, 2)          # hop limit 2: rejected
    udp("::1", "fd00::2", 43008, 64)             # bogon: dropped
    tcp("fd00::1", "fd00::2", 43009, 64)         # passes
    udp("10.1.1.8", "224.0.0.251", 43010, 1)    # TTL 1 to a multicast group: passes
    udp("fe80::8", "ff02::fb", 43011, 1)         # hop limit 1 to a multicast group: passes
    # A later fragment (offset 8) from a bogon source: no L4 header, dropped all the same.
    c.A(t, IP(src="127.0.0.2", dst="10.2.2.2", frag=1, proto=17) / Raw(b"z" * 16), False)
    a_rx += 1
    n["drop"] += 1
    alerts.append({"alert": {"gid": 9001, "signature_id": 2,
                             "signature": "bpf prefilter bogons: alert 2",
                             "action": "blocked"},
                   "src_ip": "127.0.0.2", "dest_ip": "10.2.2.2"})
    c.write("bpf-prefilter")
    runs = sum(n.values())
    cj = {"description": "eBPF pre-filter on port a (bpf/examples/prefilter_bogon.c) before a "
                         "policy that allows every flow from a: bogon sources (127/8, 0/8, 240/4, "
                         "::1) are dropped with alert 2 and make no flow, a TTL or hop limit "
                         "below 5 is rejected (RST/ACK back on port a, byte for byte) with "
                         "alert 1, TTL 5 and above goes on to the rule, as do TTL 1 packets to "
                         "multicast groups; port b has no pre-filter "
                         "(its replies with TTL 2 pass); a later fragment from a bogon source is "
                         "dropped",
          "input": {"a": "in-a.pcap", "b": "in-b.pcap"},
          "expect": {"a": "expect-a.pcap", "b": "expect-b.pcap"},
          "policy": "policy.yaml",
          "config": {"dataplane": {"clock": "packet"}},
          "flows": flows,
          "alerts": alerts,
          "counters": {"ports": [{"name": "a", "rx_packets": a_rx, "tx_packets": a_tx},
                                 {"name": "b", "rx_packets": b_rx, "tx_packets": b_tx}],
                       "bpf": [],
                       "bpf_prefilters": [{"name": "bogons", "in": ["a"], "runs": runs,
                                           "pass": n["pass"], "drop": n["drop"],
                                           "reject": n["reject"], "allow": 0, "invalid": 0,
                                           "alerts": n["drop"] + n["reject"]}]}}
    with open(os.path.join(HERE, "bpf-prefilter", "case.json"), "w") as f:
        json.dump(cj, f, indent=2)
        f.write("\n")
    print("bpf-prefilter:", n)

    # The same traffic in dry-run mode: what the pre-filter would drop or reject is counted as
    # "would drop" and goes on (here, to the rule that allows it); no answer is sent, the
    # alerts are raised all the same.
    case = "bpf-prefilter-dry"
    os.makedirs(os.path.join(HERE, case), exist_ok=True)
    write(case, "in-a.pcap", c.a)
    write(case, "in-b.pcap", c.b)
    # The later fragment goes on too, and is dropped as an orphan (its first fragment never
    # came), as it would be without a pre-filter.
    orphan = [x for x in c.a if IP in x[1] and x[1][IP].frag > 0]
    assert len(orphan) == 1
    write(case, "expect-b.pcap", [x for x in c.a if x not in orphan])
    write(case, "expect-a.pcap", c.b)
    with open(os.path.join(HERE, "bpf-prefilter", "policy.yaml")) as f:
        policy = f.read()
    with open(os.path.join(HERE, case, "policy.yaml"), "w") as f:
        f.write(policy)
    would = n["drop"] + n["reject"]
    cj = {"description": "the bpf-prefilter traffic in dry-run mode: the %d packets the "
                         "pre-filter would drop or reject are counted as would-drop and "
                         "forwarded (the rule allows them), no RST is sent, the alerts are the "
                         "same; the later fragment from a bogon source goes on too and is "
                         "dropped as an orphan (no first fragment), as without a pre-filter"
                         % would,
          "input": {"a": "in-a.pcap", "b": "in-b.pcap"},
          "expect": {"a": "expect-a.pcap", "b": "expect-b.pcap"},
          "policy": "policy.yaml",
          "config": {"mode": "dry-run", "dataplane": {"clock": "packet"}},
          "alerts": alerts,
          "counters": {"mode": "dry-run",
                       "ports": [{"name": "a", "rx_packets": a_rx, "tx_packets": b_rx,
                                  "dropped": 1},
                                 {"name": "b", "rx_packets": b_rx, "tx_packets": a_rx - 1,
                                  "dropped": 0}],
                       "policy": {"would_drop": would, "dropped": 0, "rejects_sent": 0},
                       "bpf_prefilters": [{"name": "bogons", "runs": runs, "pass": n["pass"],
                                           "drop": n["drop"], "reject": n["reject"],
                                           "alerts": would}]}}
    with open(os.path.join(HERE, case, "case.json"), "w") as f:
        json.dump(cj, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    allow_private()
    dns_qname()
    sampler()
    allow_list()
    port_knock()
    prefilter()
    print("bpf cases written")
