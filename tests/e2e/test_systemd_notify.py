#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vigild under a stand-in for systemd's notify socket (docs/OPERATIONS.md, "6. systemd").

A unix datagram socket plays /run/systemd/notify; vigild gets NOTIFY_SOCKET, WATCHDOG_USEC
(1 s) and WATCHDOG_PID, as systemd gives them for Type=notify with WatchdogSec=1, and runs
under the capability bounding set of dist/systemd/vigild.service (setpriv). Checked: the
STATUS= lines of the start, READY=1 only once the "forwarding" line is logged, WATCHDOG=1
every half second (as sd_watchdog_enabled() reports the period), STOPPING=1 at SIGTERM and a
clean exit; the same once vigild has dropped to user nobody (the messages still arrive); and
no WATCHDOG=1 when WATCHDOG_PID names another process. Ports are net_null, without hugepages.
"""
import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

WATCHDOG_USEC = 1000000


def fail(msg):
    print("systemd-notify: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def log(msg):
    print("systemd-notify: " + msg, flush=True)


def unit_caps(unit):
    """The unit's CapabilityBoundingSet=, as setpriv's --bounding-set argument."""
    with open(unit) as f:
        for line in f:
            if line.startswith("CapabilityBoundingSet="):
                caps = line.split("=", 1)[1].split()
                return "-all," + ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
    fail(unit + " has no CapabilityBoundingSet=")


def run_once(args, work, name, user, watchdog_pid_self):
    prefix = "vgsd%d%s" % (os.getpid(), name)
    cfg = os.path.join(work, name + ".yaml")
    logf = os.path.join(work, name + ".log")
    sock_path = os.path.join(work, name + ".sock")
    with open(cfg, "w") as f:
        f.write(
            "eal:\n  file_prefix: %s\n  hugepages: off\n"
            '  args: ["--log-level=lib.eal:error"]\n'
            "lcores: {control: 0, workers: [1]}\n"
            "ports:\n"
            '  - {name: outside, device: "net_null0,no-rx=1"}\n'
            '  - {name: inside, device: "net_null1,no-rx=1"}\n'
            "pairs: [[outside, inside]]\n"
            "log: {level: info}\n" % prefix
        )
        if user:
            f.write("privileges: {user: %s}\n" % user)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    os.chmod(sock_path, 0o777)  # as /run/systemd/notify: any user may send
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC=str(WATCHDOG_USEC))
    env.pop("WATCHDOG_PID", None)
    # The shell's pid is vigild's: setpriv and vigild replace it (exec).
    pid_expr = "$$" if watchdog_pid_self else "1"
    cmd = "WATCHDOG_PID=%s exec setpriv --bounding-set=%s %s -c %s" % (
        pid_expr, unit_caps(args.unit), shlex.quote(args.vigild), shlex.quote(cfg))
    out = open(logf, "w")
    proc = subprocess.Popen(["/bin/sh", "-c", cmd], env=env, stdout=out, stderr=subprocess.STDOUT)
    msgs = []  # (monotonic time, message)

    def recv_until(deadline, stop=None):
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
            try:
                data = sock.recv(4096)
            except socket.timeout:
                if proc.poll() is not None and stop is not None:
                    return None
                continue
            m = (time.monotonic(), data.decode())
            msgs.append(m)
            if stop is not None and stop(m[1]):
                return m
        return None

    def vigild_log():
        with open(logf) as f:
            return f.read()

    try:
        ready = recv_until(time.monotonic() + 60, lambda m: "READY=1" in m.split("\n"))
        if ready is None:
            fail("%s: no READY=1 (exit %s); log:\n%s" % (name, proc.poll(), vigild_log()))
        # READY=1 is sent after the line is written: the log has it by now.
        if "forwarding; SIGINT or SIGTERM stops" not in vigild_log():
            fail("%s: READY=1 arrived before the forwarding line" % name)
        if any("READY=1" in m for _, m in msgs[:-1]):
            fail("%s: READY=1 sent twice" % name)
        status = [m for _, m in msgs if m.startswith("STATUS=starting")]
        if not status:
            fail("%s: no STATUS=starting line before READY: %r" % (name, msgs))
        want = "STATUS=forwarding: 2 ports, 1 worker" + (", as user " + user if user else "")
        if want not in ready[1].split("\n"):
            fail("%s: READY without %r: %r" % (name, want, ready[1]))
        if user:
            if ("running as user %s" % user) not in vigild_log():
                fail("%s: vigild did not drop to %s" % (name, user))
            with open("/proc/%d/status" % proc.pid) as f:
                st = f.read()
            if not re.search(r"^Seccomp:\s+2$", st, re.M):
                fail("%s: no seccomp filter after the drop" % name)
        log("%s: %s, then READY=1 after the forwarding line: ok" % (name, status[0]))

        recv_until(time.monotonic() + 3.2)
        pings = [t for t, m in msgs if m == "WATCHDOG=1"]
        if not watchdog_pid_self:
            if pings:
                fail("%s: WATCHDOG=1 though WATCHDOG_PID names another process" % name)
            log("%s: WATCHDOG_PID of another process: no WATCHDOG=1 in 3 s: ok" % name)
        else:
            gaps = [b - a for a, b in zip(pings, pings[1:])]
            # Every 500 ms (half of 1 s); never near the 1 s that would make systemd kill it.
            if len(pings) < 5 or min(gaps) < 0.4 or max(gaps) > 0.9:
                fail("%s: WATCHDOG=1 %d times in 3.2 s, gaps %s" % (
                    name, len(pings), ["%.3f" % g for g in gaps]))
            if pings[0] < ready[0]:
                fail("%s: WATCHDOG=1 before READY=1" % name)
            log("%s: WATCHDOG=1 %d times in 3.2 s, every %.3f-%.3f s: ok" % (
                name, len(pings), min(gaps), max(gaps)))

        proc.send_signal(signal.SIGTERM)
        stopping = recv_until(time.monotonic() + 10, lambda m: "STOPPING=1" in m.split("\n"))
        if stopping is None:
            fail("%s: no STOPPING=1 after SIGTERM" % name)
        rc = proc.wait(timeout=20)
        if rc != 0:
            fail("%s: exit status %d after SIGTERM; log:\n%s" % (name, rc, vigild_log()))
        log("%s: SIGTERM: %s, exit 0: ok" % (name, stopping[1].replace("\n", " ")))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
        out.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--unit", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("systemd-notify: needs root (vigild drops to nobody); skipped")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="vigil-sdnotify.")
    os.chmod(work, 0o755)  # nobody reaches the socket in here
    try:
        run_once(args, work, "root", None, True)
        run_once(args, work, "nobody", "nobody", True)
        run_once(args, work, "otherpid", None, False)
    finally:
        subprocess.run(["rm", "-rf", work])
    log("PASS")


if __name__ == "__main__":
    main()
