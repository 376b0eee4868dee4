#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vigild sends its EVE alerts to real receivers: replays the sig-anomalies case (four signature
alerts) through tests/cases/run.py with alerts.eve_syslog and alerts.eve_socket added, and
checks what Python receivers got:

1. syslog over UDP and the unix stream socket: one RFC 5424 message per datagram
   (<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG, PRI = facility * 8 + severity), MSG
   the EVE line (event_type alert, the case's signature ids); one JSON line per alert on the
   socket;
2. syslog over TCP: RFC 6587 octet-counted frames, the same messages;
3. no receiver at all (a closed TCP port, a socket path that does not exist): the case passes as
   before (the wire and the EVE file are not held) and vigild exits in time.

Usage: test_eve_syslog.py VIGILD"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASE = "sig-anomalies"
SIDS = [9910010, 2200093, 9910011, 2200095]
LOCAL5 = 21
RFC5424 = re.compile(rb"^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) (\S+) (\d+) "
                     rb"(\S+) - (.*)$", re.S)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run_case(vigild, alerts):
    """Run the case with alerts (merged into its config); returns run.py's result."""
    tmp = tempfile.mkdtemp(prefix="vg_evesys_")
    try:
        shutil.copytree(os.path.join(ROOT, "tests", "cases", CASE), os.path.join(tmp, CASE))
        path = os.path.join(tmp, CASE, "case.json")
        with open(path) as f:
            case = json.load(f)
        case["config"]["alerts"] = alerts
        with open(path, "w") as f:
            json.dump(case, f)
        return subprocess.run([sys.executable, os.path.join(ROOT, "tests", "cases", "run.py"),
                               "--vigild", vigild, "--cases", tmp, "--only", CASE, "--no-huge",
                               "--timeout", "30"], capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_case(r, what):
    if r.returncode != 0 or "1 of 1 cases passed" not in r.stdout:
        fail("%s: the case did not pass:\n%s\n%s" % (what, r.stdout[-3000:], r.stderr[-3000:]))


def syslog_msg(m, what):
    """The parsed RFC 5424 message m: (pri, app, procid, msgid, eve)."""
    r = RFC5424.match(m)
    if r is None:
        fail("%s: not RFC 5424: %r" % (what, m[:200]))
    try:
        eve = json.loads(r.group(7))
    except ValueError as e:
        fail("%s: MSG is not JSON (%s): %r" % (what, e, r.group(7)[:200]))
    return int(r.group(1)), r.group(4).decode(), int(r.group(5)), r.group(6).decode(), eve


def check_syslog(msgs, what):
    sids = []
    for m in msgs:
        pri, app, procid, msgid, eve = syslog_msg(m, what)
        # sig-anomalies' signatures carry no priority: low, syslog's notice (5).
        if pri != LOCAL5 * 8 + 5 or pri >> 3 != LOCAL5:
            fail("%s: PRI %d, expected local5 (21) * 8 + notice (5) = 173" % (what, pri))
        if app != "vigild" or msgid != "alert" or procid <= 1:
            fail("%s: APP-NAME %s, PROCID %d, MSGID %s" % (what, app, procid, msgid))
        if eve.get("event_type") != "alert":
            fail("%s: event_type %r" % (what, eve.get("event_type")))
        sids.append(eve["alert"]["signature_id"])
    if sorted(sids) != sorted(SIDS):
        fail("%s: signature ids %s, expected %s" % (what, sids, SIDS))
    print("ok   %s: %d RFC 5424 messages, sids %s" % (what, len(sids), sids))


class StreamRx(threading.Thread):
    """Accepts one connection and reads it to its end."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.data = b""

    def run(self):
        self.sock.settimeout(30)
        try:
            conn, _ = self.sock.accept()
        except socket.timeout:
            return
        conn.settimeout(30)
        while True:
            try:
                d = conn.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            self.data += d
        conn.close()


def main():
    vigild = sys.argv[1]
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="vg_evesys_rx_")
    try:
        # 1. UDP syslog and the unix stream socket.
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        path = os.path.join(tmp, "eve.sock")
        ux = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ux.bind(path)
        ux.listen(2)
        rx = StreamRx(ux)
        rx.start()
        r = run_case(vigild, {"eve_syslog": {"transport": "udp", "address": "127.0.0.1:%d" %
                                             udp.getsockname()[1], "facility": "local5"},
                              "eve_socket": path})
        check_case(r, "udp + eve_socket")
        udp.settimeout(1)
        msgs = []
        while True:
            try:
                msgs.append(udp.recv(65536))
            except socket.timeout:
                break
        check_syslog(msgs, "syslog over udp")
        rx.join(10)
        lines = rx.data.decode().splitlines()
        sids = [json.loads(ln)["alert"]["signature_id"] for ln in lines]
        if sorted(sids) != sorted(SIDS) or not rx.data.endswith(b"\n") or \
                any(json.loads(ln)["event_type"] != "alert" for ln in lines):
            fail("eve_socket: %r" % rx.data[:500])
        print("ok   eve_socket: %d JSON lines, sids %s" % (len(lines), sids))
        udp.close()
        ux.close()

        # 2. TCP syslog, octet counting.
        tcp = socket.socket()
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(2)
        rx = StreamRx(tcp)
        rx.start()
        r = run_case(vigild, {"eve_syslog": {"transport": "tcp", "address": "127.0.0.1:%d" %
                                             tcp.getsockname()[1]}})
        check_case(r, "tcp")
        rx.join(10)
        b, msgs = rx.data, []
        while b:
            m = re.match(rb"^([1-9][0-9]*) ", b)
            if m is None:
                fail("tcp: not an octet-counted frame: %r" % b[:100])
            n = int(m.group(1))
            body = b[m.end():m.end() + n]
            if len(body) != n:
                fail("tcp: frame of %d bytes, %d left" % (n, len(body)))
            msgs.append(body)
            b = b[m.end() + n:]
        check_syslog(msgs, "syslog over tcp (octet counting)")
        port = tcp.getsockname()[1]
        tcp.close()

        # 3. No receiver: the case still passes, vigild is not held.
        t = time.monotonic()
        r = run_case(vigild, {"eve_syslog": {"transport": "tcp", "address": "127.0.0.1:%d" % port},
                              "eve_socket": os.path.join(tmp, "absent.sock")})
        check_case(r, "no receiver")
        print("ok   no receiver: the case passes (%.1f s)" % (time.monotonic() - t))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("e2e-eve-syslog: ok (%.1f s)" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
