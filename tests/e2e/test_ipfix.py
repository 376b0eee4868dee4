#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vigild exports its flows as IPFIX to a real collector: Debian's nfdump nfcapd receives,
nfdump reads back what was stored, and every flow must be there exactly as vigild reported it.

vigild replays the flows-mixed case (tests/cases/flows-mixed: TCP with FIN, DNS, ping, IPv6 RST,
VLAN UDP, timeouts, a mid-stream pick-up; IPv4 and IPv6 templates) on net_pcap with
`export: {ipfix: ...}`, --events (the flow ends the store is made from) and a store:

1. udp: straight to nfcapd;
2. tcp: nfcapd 1.7 listens on UDP only (nfcapd -h), so the test's TCP listener reads the IPFIX
   stream, checks its framing (each message version 10 and the length its header says) and
   hands each message unchanged to nfcapd as one datagram;
   libfixbuf's ipfixDump also decodes that stream with conf/ipfix/vigil-elements.xml: Vigil's
   enterprise elements (verdict, rule, application protocol; a policy with two rules and
   inspection make them vary) and flowEndReason must be the flow ends';
3. udp again as the unprivileged user vigil (privileges: {user: vigil}, seccomp on), if the user
   exists.

Checked for each: nfdump shows one record per flow end with its protocol, addresses, ports,
packets and bytes in both directions (RFC 5103 reverse counters shown as out pkt/out byte), input
and output interface and VLAN equal to the flow_end events; the totals equal those of the SQLite store's flows table; status counters
(records_sent) equal the number of flow ends and nothing was lost.

Exits 77 (skipped) when nfcapd or nfdump is not installed. Usage: test_ipfix.py VIGILD"""
import csv
import io
import ipaddress
import json
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASE = os.path.join(ROOT, "tests", "cases", "flows-mixed")
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
ELEMENTS = os.path.join(ROOT, "conf", "ipfix", "vigil-elements.xml")
POLICY = """version: 1
default: allow
rules:
  - {name: dns, proto: udp, dport: 53, action: allow}
  - {name: web, proto: tcp, dport: 80, action: allow}
"""
VERDICT = {"none": 0, "allow": 1, "drop": 2, "reject": 3, "rate-limit": 4}
END_REASON = {"timeout": 1, "fin": 3, "rst": 3, "shutdown": 4, "flushed": 4, "evicted": 5}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def udp_bound(port):
    """True once a socket is bound to 127.0.0.1:port (UDP), as /proc/net/udp shows."""
    want = ":%04X" % port
    with open("/proc/net/udp") as f:
        return any(line.split()[1].endswith(want) for line in f.readlines()[1:])


class Nfcapd:
    def __init__(self, work):
        self.dir = os.path.join(work, "flows")
        os.makedirs(self.dir)
        self.port = free_port(socket.SOCK_DGRAM)
        self.log = open(os.path.join(work, "nfcapd.log"), "w")
        self.proc = subprocess.Popen(["nfcapd", "-b", "127.0.0.1", "-p", str(self.port), "-w",
                                      self.dir, "-t", "3600", "-S", "0"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        t = time.monotonic()
        while not udp_bound(self.port):
            if self.proc.poll() is not None or time.monotonic() - t > 5:
                self.proc.kill()
                fail("nfcapd did not start: %s" % open(self.log.name).read()[-2000:])
            time.sleep(0.05)

    def stop(self):
        """Stop nfcapd (it writes its file out) and return nfdump's records as dicts."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("nfcapd did not stop")
        self.log.close()
        r = subprocess.run(["nfdump", "-R", self.dir, "-q", "-N", "-o", "csv"],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            fail("nfdump: %s" % r.stderr)
        # -q drops the header line: nfdump 1.7's csv columns, as its header names them.
        hdr = subprocess.run(["nfdump", "-R", self.dir, "-N", "-o", "csv", "-c", "1"],
                             capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
        return [dict(zip(hdr.split(","), row)) for row in csv.reader(io.StringIO(r.stdout))
                if row and len(row) > 10], r.stdout


class TcpRelay(threading.Thread):
    """One TCP connection's IPFIX messages, each sent on to nfcapd as one datagram."""

    def __init__(self, to_port):
        super().__init__(daemon=True)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.to = ("127.0.0.1", to_port)
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.messages = 0
        self.connections = 0
        self.error = None
        self.stream = b""  # every whole message, as sent

    def run(self):
        self.lsock.settimeout(40)
        try:
            conn, _ = self.lsock.accept()
        except socket.timeout:
            self.error = "no connection"
            return
        self.connections += 1
        conn.settimeout(40)
        buf = b""
        while True:
            try:
                d = conn.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            buf += d
            while len(buf) >= 16:
                version, length = struct.unpack("!HH", buf[:4])
                if version != 10 or length < 16:
                    self.error = "bad IPFIX header at message %d: %r" % (self.messages,
                                                                         buf[:16])
                    return
                if len(buf) < length:
                    break
                self.out.sendto(buf[:length], self.to)
                self.stream += buf[:length]
                self.messages += 1
                buf = buf[length:]
                time.sleep(0.001)  # nfcapd reads datagrams; do not outrun its socket
        if buf:
            self.error = "%d bytes after the last whole message" % len(buf)
        conn.close()


def write_config(work, collector, transport, user):
    cfg = {
        "eal": {"file_prefix": "vgipfix%d_%s" % (os.getpid(), transport),
                "hugepages": "off", "args": ["--log-level=lib.eal:error"]},
        "lcores": {"control": 0, "workers": [1]},
        "ports": [{"name": "a", "device": "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (
                      os.path.join(CASE, "in-a.pcap"), os.path.join(work, "out-a.pcap"))},
                  {"name": "b", "device": "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (
                      os.path.join(CASE, "in-b.pcap"), os.path.join(work, "out-b.pcap"))}],
        "pairs": [["a", "b"]],
        "log": {"level": "info"},
        "dataplane": {"clock": "packet"},
        "flows": {"timeouts": {"udp": "30s"}},
        # Rules that decide (vigilRuleId), and the application layer (vigilAppProtocol: dns).
        "policy": {"file": os.path.join(work, "policy.yaml")},
        "inspection": {"flows": "all"},
        "store": {"path": os.path.join(work, "db", "vigil.db")},
        "export": {"ipfix": {"collector": collector, "transport": transport,
                             "observation_domain": 7, "template_refresh": "10s"}},
    }
    with open(os.path.join(work, "policy.yaml"), "w") as f:
        f.write(POLICY)
    os.makedirs(os.path.join(work, "db"))
    if user:
        cfg["privileges"] = {"user": user}
        pw = pwd.getpwnam(user)
        os.chown(os.path.join(work, "db"), pw.pw_uid, pw.pw_gid)
    path = os.path.join(work, "vigil.yaml")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
    return path


def run_vigild(vigild, work, cfg):
    events = os.path.join(work, "events.jsonl")
    stats = os.path.join(work, "db", "stats.json")  # the user vigil writes here
    r = subprocess.run([vigild, "-c", cfg, "--stop-after-idle", "500", "--events", events,
                        "--stats-json", stats], capture_output=True, text=True, timeout=40)
    if r.returncode != 0:
        fail("vigild exited with %d:\n%s" % (r.returncode, r.stderr[-3000:]))
    with open(events) as f:
        ends = [e for e in map(json.loads, f) if e["type"] == "flow_end"]
    return ends, r.stderr


def key_of(proto, src, sport, dst, dport):
    src = str(ipaddress.ip_address(src))
    dst = str(ipaddress.ip_address(dst))
    if proto in (1, 58):
        sport = dport = 0  # nfdump shows ICMP's type and code where ports go
    return (proto, src, int(sport), dst, int(dport))


def check(what, ends, records, raw, db, stderr):
    # Ports are ifIndex 1 (a) and 2 (b): in is where the initiator's packets came in, out
    # its peer in the pair.
    want = sorted((key_of(PROTO[e["proto"]], e["src"], e["sport"], e["dst"], e["dport"]),
                   e["packets"][0], e["bytes"][0], e["packets"][1], e["bytes"][1],
                   e["in_port"] + 1, 2 - e["in_port"], e["vlan"])
                  for e in ends)
    got = sorted((key_of(int(r["pr"]) if r["pr"].isdigit() else PROTO[r["pr"].lower()],
                         r["sa"], r["sp"], r["da"], r["dp"]),
                  int(r["ipkt"]), int(r["ibyt"]), int(r["opkt"]), int(r["obyt"]),
                  int(r["in"]), int(r["out"]), int(r["svln"]))
                 for r in records)
    if len(ends) != 9:
        fail("%s: vigild reported %d flow ends, the case has 9" % (what, len(ends)))
    if got != want:
        fail("%s: nfdump shows\n  %s\nvigild's flow ends are\n  %s\nnfdump -o csv:\n%s" % (
            what, "\n  ".join(map(str, got)), "\n  ".join(map(str, want)), raw))
    con = sqlite3.connect(db)
    pk, by = con.execute("SELECT SUM(packets), SUM(bytes) FROM flows").fetchone()
    con.close()
    if pk != sum(g[1] + g[3] for g in got) or by != sum(g[2] + g[4] for g in got):
        fail("%s: the store has %s packets, %s bytes; nfdump %d, %d" % (
            what, pk, by, sum(g[1] + g[3] for g in got), sum(g[2] + g[4] for g in got)))
    m = re.search(r"ipfix: (\d+) records sent to \S+ in (\d+) messages, none lost", stderr)
    if m is None or int(m.group(1)) != len(ends):
        fail("%s: vigild did not say it sent %d records and lost none:\n%s" % (
            what, len(ends), stderr[-2000:]))
    print("ok   %s: nfdump shows the %d flows as vigild ended them (%d packets, %d bytes, "
          "as in the store)" % (what, len(got), pk, by))


def ipfix_dump(path):
    """Data records as libfixbuf's ipfixDump decodes them, Vigil's elements named by
    conf/ipfix/vigil-elements.xml: a list of {element name: value text}."""
    r = subprocess.run(["ipfixDump", "-e", ELEMENTS, "-i", path, "-d"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        fail("ipfixDump: %s" % r.stderr)
    recs = []
    for line in r.stdout.splitlines():
        if line.startswith("--- data record"):
            recs.append({})
            continue
        m = re.match(r"^\t\([\d/]+\)\s+(\w+) : (.*)$", line)
        if m and recs:
            recs[-1][m.group(1)] = m.group(2).strip()
    return recs, r.stdout


def check_elements(work, stream, ends):
    """The TCP stream through an independent decoder: Vigil's enterprise elements (verdict,
    rule, application protocol) and the flow end reason equal the flow ends'."""
    path = os.path.join(work, "stream.ipfix")
    with open(path, "wb") as f:
        f.write(stream)
    recs, raw = ipfix_dump(path)
    want = sorted((key_of(PROTO[e["proto"]], e["src"], e["sport"], e["dst"], e["dport"]),
                   VERDICT[e["verdict"]], e.get("rule_id", 4294967295), e.get("app_proto", ""),
                   END_REASON[e["reason"]]) for e in ends)
    got = []
    for r in recs:
        v4 = "sourceIPv4Address" in r
        app = re.match(r"^\(len: \d+\) ?(.*)$", r.get("vigilAppProtocol", ""))
        got.append((key_of(int(r["protocolIdentifier"]),
                           r["sourceIPv4Address" if v4 else "sourceIPv6Address"],
                           r["sourceTransportPort"],
                           r["destinationIPv4Address" if v4 else "destinationIPv6Address"],
                           r["destinationTransportPort"]),
                    int(r.get("vigilVerdict", -1)), int(r.get("vigilRuleId", -1)),
                    app.group(1) if app else None, int(r["flowEndReason"])))
    got.sort()
    if got != want:
        fail("tcp: ipfixDump shows\n  %s\nvigild's flow ends are\n  %s\n%s" % (
            "\n  ".join(map(str, got)), "\n  ".join(map(str, want)), raw[-3000:]))
    if not any(g[2] != 4294967295 for g in got) or not any(g[3] for g in got):
        fail("tcp: no record with a rule or an application protocol: the check proves nothing")
    print("ok   tcp: ipfixDump reads vigilVerdict, vigilRuleId, vigilAppProtocol and "
          "flowEndReason of the %d flows as vigild ended them" % len(got))


def run(vigild, transport, user=None):
    what = transport + (" as user " + user if user else "")
    work = tempfile.mkdtemp(prefix="vg_ipfix_")
    nf = None
    try:
        os.chmod(work, 0o755)
        nf = Nfcapd(work)
        relay = None
        collector = "127.0.0.1:%d" % nf.port
        if transport == "tcp":
            relay = TcpRelay(nf.port)
            relay.start()
            collector = "127.0.0.1:%d" % relay.port
        cfg = write_config(work, collector, transport, user)
        ends, stderr = run_vigild(vigild, work, cfg)
        if relay is not None:
            relay.join(10)
            if relay.error:
                fail("tcp: %s" % relay.error)
            if relay.messages == 0:
                fail("tcp: no IPFIX message on the connection")
            check_elements(work, relay.stream, ends)
        time.sleep(0.3)  # the last datagrams into nfcapd's socket
        records, raw = nf.stop()
        check(what, ends, records, raw, os.path.join(work, "db", "vigil.db"), stderr)
    finally:
        if nf is not None and nf.proc.poll() is None:  # a check failed before stop()
            nf.proc.kill()
            nf.proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    vigild = sys.argv[1]
    if shutil.which("nfcapd") is None or shutil.which("nfdump") is None:
        print("SKIP: nfcapd/nfdump not installed (scripts/deps.sh installs nfdump)")
        sys.exit(77)
    if shutil.which("ipfixDump") is None:
        fail("ipfixDump is not installed (libfixbuf-tools; scripts/deps.sh installs it)")
    t0 = time.monotonic()
    run(vigild, "udp")
    run(vigild, "tcp")
    try:
        pwd.getpwnam("vigil")
        run(vigild, "udp", "vigil")
    except KeyError:
        print("skip udp as user vigil: no such user (scripts/deps.sh adds it)")
    print("ok   all in %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
