#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates the exception-policy cases (exc-*): each forces one condition that keeps vigild
from handling packets as configured (docs/OPERATIONS.md "Exception policies") and checks
what its configured action does to them. Run with Debian's /usr/bin/python3 (python3-scapy);
the outputs are committed.

Usage: gen_exceptions.py [CASE ...]   (default: every case)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_sigs import HERE, c2s, s2c  # noqa: E402
from gen_sigs import write as write_pcap  # noqa: E402
from scapy.all import IP, Raw, TCP, UDP  # noqa: E402


def write(case, name, timed):
    os.makedirs(os.path.join(HERE, case), exist_ok=True)
    write_pcap(case, name, timed)


def case_json(name, desc, config, counters, expect=("b",), inputs=("a",), rules=None,
              single_worker=None):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    config = dict(config)
    config.setdefault("dataplane", {"clock": "packet"})
    if rules is not None:
        with open(os.path.join(d, "test.rules"), "w") as f:
            f.write(rules)
        config["signatures"] = dict(config.get("signatures", {}), paths=["@CASE@/test.rules"])
    c = {"description": desc,
         "input": {p: f"in-{p}.pcap" for p in inputs},
         "expect": {p: f"expect-{p}.pcap" for p in expect},
         "config": config,
         "counters": counters}
    if single_worker:
        c["single_worker"] = single_worker
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")


def datagrams(n):
    """n UDP datagrams, each from its own source: n new flows."""
    return [(i * 0.01, c2s(IP(src=f"10.1.{i // 250}.{i % 250 + 1}", dst="10.2.2.2")
                           / UDP(sport=5000, dport=9000) / Raw(b"x" * 16)))
            for i in range(n)]


# Why a case holds for one worker only (tests/cases/run.py --workers skips it).
TABLE_PER_WORKER = ("the flow table's size is per worker: with several, the table fills "
                    "at a multiple of flows.max")


def flow_table_full():
    """A flow table of 1024 entries that may not evict (flows.evict: false) meets 1100 new
    flows: the last 76 find no entry. drop-packet drops them; pass (what flows.overflow: open
    did) forwards them untracked."""
    a = datagrams(1100)
    for name, action, out in (("exc-flow-table-full-drop", "drop-packet", a[:1024]),
                              ("exc-flow-table-full-pass", "pass", a)):
        write(name, "in-a.pcap", a)
        write(name, "expect-b.pcap", out)
        case_json(name, f"flow table full (1024 entries, no eviction, 1100 new flows): "
                  f"exceptions.flow_table_full: {action} {'drops' if out is not a else 'forwards'} "
                  f"the 76 packets that found no entry, and counts them",
                  {"flows": {"max": 1024, "evict": False},
                   "exceptions": {"flow_table_full": action}},
                  {"exceptions": {"actions": {"flow_table_full": action},
                                  "packets": {"flow_table_full": 76}},
                   "flows": {"created": 1024}},
                  single_worker=TABLE_PER_WORKER)


def tcp_conn(a, b, t, cport, sport=80, data=b"hello", handshake=True, srv="10.2.2.2"):
    """A connection's frames, client side in a, server side in b; returns both lists."""
    ip, rip = IP(src="10.1.1.1", dst=srv), IP(src=srv, dst="10.1.1.1")
    ca, cb = [], []
    if handshake:
        ca.append((t, c2s(ip / TCP(sport=cport, dport=sport, flags="S", seq=1000))))
        cb.append((t + 0.1, s2c(rip / TCP(sport=sport, dport=cport, flags="SA", seq=5000,
                                          ack=1001))))
        ca.append((t + 0.2, c2s(ip / TCP(sport=cport, dport=sport, flags="A", seq=1001,
                                         ack=5001))))
    ca.append((t + 0.3, c2s(ip / TCP(sport=cport, dport=sport, flags="PA", seq=1001, ack=5001)
                            / Raw(data))))
    cb.append((t + 0.4, s2c(rip / TCP(sport=sport, dport=cport, flags="A", seq=5001,
                                      ack=1001 + len(data)))))
    a += ca
    b += cb
    return ca, cb


def midstream():
    """A connection seen from its handshake passes; one picked up mid-stream (its first
    segment carries ACK and data: the appliance restarted, or the route moved) meets the
    midstream exception, drop-flow: its packets are dropped both ways."""
    a, b = [], []
    tcp_conn(a, b, 0, 40000)
    ma, mb = tcp_conn(a, b, 10, 40001, handshake=False)
    name = "exc-midstream"
    write(name, "in-a.pcap", a)
    write(name, "in-b.pcap", b)
    write(name, "expect-b.pcap", [x for x in a if all(x is not y for y in ma)])
    write(name, "expect-a.pcap", [x for x in b if all(x is not y for y in mb)])
    case_json(name, "a connection picked up mid-stream (first segment with ACK and data) "
              "meets exceptions.midstream: drop-flow and is dropped both ways; one seen from "
              "its handshake passes",
              {"exceptions": {"midstream": "drop-flow"}},
              {"exceptions": {"packets": {"midstream": 1}},
               "flows": {"midstream": 1}},
              expect=("a", "b"), inputs=("a", "b"))


def stream_memcap():
    """inspection.max_flows: 16 stream slots, 20 inspected connections open at once: the
    last four find no slot (stream_memcap), drop-flow drops them from their SYN; the first 16
    are inspected and pass."""
    a, b = [], []
    conns = []
    # Every SYN first, so that all 20 are open before any data.
    for i in range(20):
        ip, rip = IP(src="10.1.1.1", dst="10.2.2.2"), IP(src="10.2.2.2", dst="10.1.1.1")
        p = 41000 + i
        syn = (i * 0.01, c2s(ip / TCP(sport=p, dport=80, flags="S", seq=1000)))
        sa = (1 + i * 0.01, s2c(rip / TCP(sport=80, dport=p, flags="SA", seq=5000, ack=1001)))
        ack = (2 + i * 0.01, c2s(ip / TCP(sport=p, dport=80, flags="A", seq=1001, ack=5001)))
        req = (3 + i * 0.01, c2s(ip / TCP(sport=p, dport=80, flags="PA", seq=1001, ack=5001)
                                 / Raw(b"hello")))
        conns.append(([syn, ack, req], [sa]))
        a += [syn, ack, req]
        b.append(sa)
    name = "exc-stream-memcap"
    write(name, "in-a.pcap", a)
    write(name, "in-b.pcap", b)
    write(name, "expect-b.pcap", [x for c in conns[:16] for x in c[0]])
    write(name, "expect-a.pcap", [x for c in conns[:16] for x in c[1]])
    case_json(name, "16 stream slots (inspection.max_flows), 20 inspected connections open at "
              "once: the last four meet exceptions.stream_memcap: drop-flow at their SYN and "
              "are dropped both ways; the first 16 pass",
              {"inspection": {"flows": "all", "max_flows": 16},
               "exceptions": {"stream_memcap": "drop-flow"}},
              {"exceptions": {"packets": {"stream_memcap": 4}},
               "inspection": {"no_slot": 4}},
              expect=("a", "b"), inputs=("a", "b"),
              rules='alert tcp any any -> any 80 (msg:"Vigil test: never"; '
                    'content:"never-sent"; sid:9920001; rev:1;)\n')


def app_layer_memcap():
    """Parser state for one flow at a time (applayer.max_flows: 1): a second connection open
    at once has none (app_layer_memcap), and bypass takes it out of inspection: its request
    with the word a drop rule looks for passes, while the same request on the first
    connection, which is inspected, is dropped."""
    a, b = [], []
    first_a, first_b = tcp_conn(a, b, 0, 42000, data=b"GET /evil HTTP/1.0\r\n\r\n")
    second_a, _ = tcp_conn(a, b, 0.05, 42001, data=b"GET /evil HTTP/1.0\r\n\r\n")
    name = "exc-app-layer-memcap"
    write(name, "in-a.pcap", a)
    write(name, "in-b.pcap", b)
    # The first connection's request is dropped by the rule, and the flow with it (a stream
    # rule decides for the flow): the server's ACK after it too.
    write(name, "expect-b.pcap", [x for x in a if x is not first_a[-1]])
    write(name, "expect-a.pcap", [x for x in b if x is not first_b[-1]])
    case_json(name, "parser state for one flow (applayer.max_flows: 1): the second connection "
              "meets exceptions.app_layer_memcap: bypass, so its request passes uninspected, "
              "while the first connection's identical request is dropped by the signature",
              {"inspection": {"flows": "all"}, "applayer": {"max_flows": 1},
               "exceptions": {"app_layer_memcap": "bypass"}},
              {"exceptions": {"packets": {"app_layer_memcap": 1}},
               "inspection": {"dropped": 1}},
              expect=("a", "b"), inputs=("a", "b"),
              rules='drop tcp any any -> any 80 (msg:"Vigil test: evil"; content:"/evil"; '
                    'sid:9920002; rev:1;)\n')


def segments(a, b, t, cport, chunks, srv="10.2.2.2"):
    """A connection whose client sends chunks one segment each, each ACKed by the server;
    returns the client's data segments and the server's ACKs of them."""
    ip, rip = IP(src="10.1.1.1", dst=srv), IP(src=srv, dst="10.1.1.1")
    a.append((t, c2s(ip / TCP(sport=cport, dport=80, flags="S", seq=1000))))
    b.append((t + 0.1, s2c(rip / TCP(sport=80, dport=cport, flags="SA", seq=5000, ack=1001))))
    a.append((t + 0.2, c2s(ip / TCP(sport=cport, dport=80, flags="A", seq=1001, ack=5001))))
    seq, data, acks = 1001, [], []
    for k, c in enumerate(chunks):
        d = (t + 0.3 + k * 0.2, c2s(ip / TCP(sport=cport, dport=80, flags="PA", seq=seq,
                                             ack=5001) / Raw(c)))
        seq += len(c)
        ack = (t + 0.4 + k * 0.2, s2c(rip / TCP(sport=80, dport=cport, flags="A", seq=5001,
                                                ack=seq)))
        a.append(d)
        b.append(ack)
        data.append(d)
        acks.append(ack)
    return data, acks


def stream_depth():
    """signatures.stream_depth: 100 bytes per direction. A connection sending three segments
    of 60 bytes crosses the depth in its second: stream_depth, drop-flow drops it and the rest
    of the connection, both ways (the server's ACKs of them included). A connection that stays
    under the depth passes."""
    a, b = [], []
    long_d, long_acks = segments(a, b, 0, 43000, [b"a" * 60, b"b" * 60, b"c" * 60])
    segments(a, b, 0.05, 43001, [b"d" * 60])
    name = "exc-stream-depth"
    write(name, "in-a.pcap", a)
    write(name, "in-b.pcap", b)
    write(name, "expect-b.pcap", [x for x in a if all(x is not y for y in long_d[1:])])
    write(name, "expect-a.pcap", [x for x in b if all(x is not y for y in long_acks[1:])])
    case_json(name, "signatures.stream_depth: 100, a connection sending 3 x 60 bytes crosses it "
              "in its second segment: exceptions.stream_depth: drop-flow drops that segment "
              "and the rest of the connection both ways; one under the depth passes",
              {"inspection": {"flows": "all"}, "signatures": {"stream_depth": 100},
               "exceptions": {"stream_depth": "drop-flow"}},
              {"exceptions": {"packets": {"stream_depth": 1}},
               "inspection": {"dropped": 1}},
              expect=("a", "b"), inputs=("a", "b"),
              rules='alert tcp any any -> any 80 (msg:"Vigil test: never"; '
                    'content:"never-sent"; sid:9920003; rev:1;)\n')


def packet_budget():
    """inspection.packet_budget_ns: 1, a budget no inspection keeps: each connection's first
    packet (its SYN) overruns it, and bypass takes the connection out of inspection, so the
    request a drop rule looks for passes. The same capture without the budget drops it (the
    app_layer_memcap case shows the rule at work)."""
    a, b = [], []
    tcp_conn(a, b, 0, 44000, data=b"GET /evil HTTP/1.0\r\n\r\n")
    tcp_conn(a, b, 0.05, 44001, data=b"GET /evil HTTP/1.0\r\n\r\n")
    name = "exc-packet-budget"
    write(name, "in-a.pcap", a)
    write(name, "in-b.pcap", b)
    write(name, "expect-b.pcap", a)
    write(name, "expect-a.pcap", b)
    case_json(name, "inspection.packet_budget_ns: 1 (no inspection keeps it): each connection's "
              "SYN overruns it and exceptions.packet_budget: bypass takes the connection out of "
              "inspection, so its request, which a drop rule matches, passes",
              {"inspection": {"flows": "all", "packet_budget_ns": 1},
               "exceptions": {"packet_budget": "bypass"}},
              {"exceptions": {"actions": {"packet_budget": "bypass"},
                              "packets": {"packet_budget": 2}},
               "inspection": {"dropped": 0}},
              expect=("a", "b"), inputs=("a", "b"),
              rules='drop tcp any any -> any 80 (msg:"Vigil test: evil"; content:"/evil"; '
                    'sid:9920004; rev:1;)\n')


CASES = {"flow_table_full": flow_table_full, "midstream": midstream,
         "stream_memcap": stream_memcap, "app_layer_memcap": app_layer_memcap,
         "stream_depth": stream_depth, "packet_budget": packet_budget}

if __name__ == "__main__":
    for n in sys.argv[1:] or CASES:
        CASES[n]()
    print("exception cases written")
