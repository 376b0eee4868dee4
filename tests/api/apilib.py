# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the API tests: start vigild with a mgmt: section, talk HTTP to it.

Vigild(...) writes a config (net_pcap ports fed from a capture of the case suite, a store in a
scratch directory, a policy file, one token per role), starts the daemon, waits until
/api/v1/health answers, and stops it (SIGTERM, then SIGKILL) on close(). Requests go through
http.client so that every status, header and body is seen as sent.
"""
import glob
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

TOKENS = {
    "viewer": "viewer-9d1c77e0",
    "operator": "operator-2b6f81aa",
    "admin": "admin-e4a0c3f5",
}
NAMES = {"viewer": "grafana", "operator": "oncall", "admin": "netadmin"}

POLICY = """version: 1
default: drop
l2: {default: pass}
rules:
  - name: web
    proto: tcp
    dport: [80, 443]
    action: allow
  - name: dns
    proto: udp
    dport: 53
    action: allow
"""


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.json = None
        if headers.get("content-type", "").startswith("application/json") and body:
            try:
                self.json = json.loads(body)
            except ValueError:
                self.json = None

    @property
    def error(self):
        return self.json.get("error") if isinstance(self.json, dict) else None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Vigild:
    def __init__(self, vigild, extra_mgmt=None, extra_config=None, policy=POLICY,
                 capture="policy-verdicts", store=True, prefix="vgapi", cafile=None):
        self.work = tempfile.mkdtemp(prefix="vigil-api-")
        self.port = free_port()
        # HTTPS (mgmt.tls in extra_mgmt) when a CA file to verify the server with is given.
        self.ssl = ssl.create_default_context(cafile=cafile) if cafile else None
        self.prefix = f"{prefix}{os.getpid()}"
        self.policy_path = os.path.join(self.work, "policy.yaml")
        with open(self.policy_path, "w") as f:
            f.write(policy)
        case = os.path.join(ROOT, "tests", "cases", capture)
        ports = []
        for i, name in enumerate(("a", "b")):
            dev = f"net_pcap{i}"
            pcap = os.path.join(case, f"in-{name}.pcap")
            if os.path.exists(pcap):
                dev += f",rx_pcap={pcap}"
            dev += f",tx_pcap={os.path.join(self.work, 'out-' + name + '.pcap')}"
            ports.append({"name": name, "device": dev})
        mgmt = {
            "listen": "127.0.0.1",
            "port": self.port,
            "tokens": [{"name": NAMES[r], "role": r, "sha256": sha256(t)}
                       for r, t in TOKENS.items()],
            "max_body": "64k",
            "timeout": 2,
            "threads": 2,
        }
        mgmt.update(extra_mgmt or {})
        cfg = {
            "eal": {"file_prefix": self.prefix, "hugepages": "off",
                    "args": ["--log-level=lib.eal:error"]},
            "lcores": {"control": 0, "workers": [1]},
            "ports": ports,
            "pairs": [["a", "b"]],
            "dataplane": {"idle_sleep_us": 200},
            "log": {"level": "notice"},
            "policy": {"file": self.policy_path},
            "mgmt": mgmt,
        }
        if store:
            cfg["store"] = {"path": os.path.join(self.work, "vigil.db")}
        for k, v in (extra_config or {}).items():
            cfg[k] = v
        self.cfg_path = os.path.join(self.work, "vigil.yaml")
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)
        self.log_path = os.path.join(self.work, "vigild.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([vigild, "-c", self.cfg_path], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vigild exited with {self.proc.returncode}:\n"
                                   + self.tail())
            try:
                if self.get("/api/v1/health").status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("vigild's API did not answer within 20 s:\n" + self.tail())
            time.sleep(0.1)

    def tail(self, n=40):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return "".join(f.readlines()[-n:])

    def close(self):
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "killed"
        else:
            rc = self.proc.returncode
        self.log.close()
        for p in glob.glob(f"/var/run/dpdk/{self.prefix}") + glob.glob(
                f"/dev/hugepages/{self.prefix}*"):
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)
        return rc

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def request(self, method, path, role=None, body=None, ctype=None, headers=None,
                token=None, timeout=10):
        h = dict(headers or {})
        if token is None and role is not None:
            token = TOKENS[role]
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
                ctype = ctype or "application/json"
            if isinstance(body, str):
                body = body.encode()
            if ctype is not None:
                h["Content-Type"] = ctype
        if self.ssl is not None:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                            context=self.ssl)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return Reply(r.status, {k.lower(): v for k, v in r.getheaders()},
                         data.decode("utf-8", "replace"))
        finally:
            c.close()

    def get(self, path, role=None, **kw):
        return self.request("GET", path, role, **kw)

    def raw(self, data, wait=3.0):
        """Send raw bytes on a fresh connection; return (bytes read, closed by the server)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=wait)
        try:
            try:
                s.sendall(data)
            except OSError:
                pass
            out = b""
            closed = False
            deadline = time.time() + wait
            while time.time() < deadline:
                s.settimeout(max(0.05, deadline - time.time()))
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                except OSError:
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                out += chunk
            return out, closed
        finally:
            s.close()


def raw_status(data):
    try:
        line = data.split(b"\r\n", 1)[0].decode()
        return int(line.split()[1]) if line.startswith("HTTP/1.") else 0
    except (ValueError, IndexError):
        return 0
