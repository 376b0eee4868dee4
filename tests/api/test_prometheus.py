#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""GET /metrics as a real Prometheus sees it: promtool's lint, then a Prometheus server scraping
vigild while it forwards a capture.

    test_prometheus.py --vigild BUILD/app/vigild [-v]

1. vigild forwards tests/cases/policy-verdicts (net_pcap ports) with its API on a free
   loopback port; `promtool check metrics` (client_golang's exposition parser and promlint)
   must find nothing in the /metrics body, and must refuse damaged copies of it.
2. `prometheus` (Debian's package) scrapes it every second with the viewer token as a bearer
   credential, from a temporary config and TSDB; the target must be up, each sample Prometheus
   stored must be a series of the exposition and the reverse (names, labels and their escaping
   read back the same), scrape_samples_scraped must equal the number of samples in the body,
   and the values of the port, rule and drop-reason counters and of the uptime must be those
   of /api/v1/status.

Exit status: 0 passed, 1 failed, 77 skipped (not root: EAL needs it; prometheus or promtool
not installed: apt-get install prometheus).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apilib  # noqa: E402

SCRAPE_S = 1
# The capture of policy-verdicts: 10 packets in on port a, 5 on b (tests/api/run.py agrees).
RX = {"a": 10, "b": 5}


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# -- the exposition, read independently of promtool and Prometheus ------------------------------

SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse(body):
    """{(name, frozenset(labels)): value} of the text format; a series twice is a failure."""
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m is not None, f"not a sample line: {line!r}")
        labels, rest = {}, m.group(3) or ""
        while rest:
            lm = LABEL.match(rest)
            check(lm is not None, f"bad labels in {line!r}")
            labels[lm.group(1)] = unescape(lm.group(2))
            rest = rest[lm.end():]
        key = (m.group(1), frozenset(labels.items()))
        check(key not in out, f"series twice in the exposition: {line!r}")
        out[key] = float(m.group(4))
    return out


def show(key):
    name, labels = key
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels)) + "}"


# -- promtool -----------------------------------------------------------------------------------

def promtool(body):
    p = subprocess.run(["promtool", "check", "metrics"], input=body.encode(),
                       capture_output=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace").strip()


def lint(body):
    rc, out = promtool(body)
    check(rc == 0 and out == "", f"promtool check metrics: exit {rc}:\n{out}")
    # promtool refuses what it should, so that its silence above means something: a name in
    # milliseconds (a lint problem, exit 3) and a sample that is not a number (a parse error).
    bad = body.replace("vigil_uptime_seconds", "vigil_uptime_ms")
    rc, out = promtool(bad)
    check(rc != 0 and "vigil_uptime_ms" in out, f"promtool took a name in ms: {rc} {out}")
    bad = re.sub(r"^vigil_uptime_seconds \S+$", "vigil_uptime_seconds one", body, flags=re.M)
    check(bad != body, "no vigil_uptime_seconds sample to damage")
    rc, out = promtool(bad)
    check(rc != 0, f"promtool took a sample that is not a number: {rc} {out}")


# -- the Prometheus server ----------------------------------------------------------------------

class Prometheus:
    def __init__(self, target_port, token):
        self.work = tempfile.mkdtemp(prefix="vigil-prom-")
        self.port = apilib.free_port()
        cfg = {
            "global": {"scrape_interval": f"{SCRAPE_S}s", "scrape_timeout": f"{SCRAPE_S}s"},
            "scrape_configs": [{
                "job_name": "vigil",
                "authorization": {"type": "Bearer", "credentials": token},
                "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}],
            }],
        }
        path = os.path.join(self.work, "prometheus.yml")
        with open(path, "w") as f:
            json.dump(cfg, f)  # JSON is YAML
        self.log_path = os.path.join(self.work, "prometheus.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={path}",
             f"--storage.tsdb.path={os.path.join(self.work, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            cwd=self.work, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise Failure(f"prometheus exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if self.http("/-/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise Failure("prometheus was not ready within 20 s:\n" + self.tail())
            time.sleep(0.2)

    def http(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def api(self, path, **params):
        q = urllib.parse.urlencode(params)
        status, body = self.http(f"/api/v1/{path}?{q}")
        j = json.loads(body)
        check(status == 200 and j.get("status") == "success", f"{path} {params}: {body[:500]}")
        return j["data"]

    def query(self, expr, at=None):
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.api("query", **params)["result"]

    def samples(self, expr, since):
        """The stored samples [(time, value)] of one series scraped after since."""
        res = self.query(f"{expr}[30s]")
        check(len(res) <= 1, f"{expr} is {len(res)} series: {res}")
        vals = res[0]["values"] if res else []
        return [(float(t), float(v)) for t, v in vals if float(t) > since]

    def wait_scrape(self, since, what, timeout=10):
        """The first scrape of vigild after since: (time, samples it read)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.samples('scrape_samples_scraped{job="vigil"}', since)
            if s:
                return s[0]
            time.sleep(0.2)
        raise Failure(f"no scrape after {what} within {timeout} s; targets: "
                      + json.dumps(self.api("targets")["activeTargets"]))

    def tail(self, n=30):
        self.log.flush()
        with open(self.log_path) as f:
            return "".join(f.readlines()[-n:])

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.work, ignore_errors=True)


# -- the test -----------------------------------------------------------------------------------

def run(v, verbose):
    # The capture has gone through: from here the port, rule and drop counters stay put.
    deadline = time.time() + 10
    while True:
        st = v.get("/api/v1/status", "viewer").json
        rx = {p["name"]: p["rx_packets"] for p in st["ports"]}
        if rx == RX:
            break
        check(time.time() < deadline, f"the capture did not go through: rx {rx}, want {RX}")
        time.sleep(0.1)
    steady = time.time()

    r = v.get("/metrics", "viewer")
    check(r.status == 200, f"GET /metrics: {r.status}")
    series = parse(r.body)
    check(len(series) > 50, f"only {len(series)} samples")
    lint(r.body)
    print(f"ok    promtool check metrics: {len(series)} samples, no problem")

    prom = Prometheus(v.port, apilib.TOKENS["viewer"])
    try:
        # The target is up: scraped with the token, parsed, no error.
        deadline = time.time() + 15
        while True:
            targets = prom.api("targets")["activeTargets"]
            t = [t for t in targets if t["labels"].get("job") == "vigil"]
            if t and t[0]["health"] == "up":
                break
            check(time.time() < deadline, f"target not up within 15 s: {json.dumps(targets)}")
            time.sleep(0.2)
        check(t[0]["lastError"] == "", f"target error: {t[0]['lastError']}")
        check(t[0]["scrapeUrl"] == f"http://127.0.0.1:{v.port}/metrics",
              f"scrape URL {t[0]['scrapeUrl']}")
        print(f"ok    target up ({t[0]['scrapeUrl']})")

        # One scrape between two fetches of the body with as many samples: it read that many,
        # and the series Prometheus holds are those of the body (names, labels, escaping).
        for attempt in range(3):
            t1 = time.time()
            n1 = len(parse(v.get("/metrics", "viewer").body))
            at, scraped = prom.wait_scrape(t1, "the first fetch")
            body = v.get("/metrics", "viewer").body
            mine = parse(body)
            if n1 != len(mine):
                continue  # a family came or went between the fetches: again
            check(scraped == n1, f"scrape_samples_scraped {scraped} at {at:.3f}, the body has "
                  f"{n1} samples")
            held = {}
            for s in prom.query('{job="vigil",__name__=~"vigil_.+"}', at=at):
                lab = dict(s["metric"])
                name = lab.pop("__name__")
                check(lab.pop("job") == "vigil" and lab.pop("instance") == f"127.0.0.1:{v.port}",
                      f"target labels of {s['metric']}")
                held[(name, frozenset(lab.items()))] = float(s["value"][1])
            only_prom = sorted(show(k) for k in set(held) - set(mine))
            only_body = sorted(show(k) for k in set(mine) - set(held))
            check(not only_prom and not only_body,
                  f"series differ: only in Prometheus {only_prom}, only in the body {only_body}")
            break
        else:
            raise Failure("the number of samples changed between every two fetches")
        print(f"ok    scrape_samples_scraped {int(scraped)} = samples of the body; "
              f"{len(held)} series, the body's")

        # Values: the counters of the capture as /api/v1/status has them, from a scrape after
        # they stopped moving; the uptime from the same start time.
        st = v.get("/api/v1/status", "viewer").json
        t_status = time.time()
        rules = {r["name"]: r for r in st["rules"]}
        want = {f'vigil_port_received_packets_total{{port="{p["name"]}"}}': p["rx_packets"]
                for p in st["ports"]}
        want.update({f'vigil_port_transmitted_bytes_total{{port="{p["name"]}"}}': p["tx_bytes"]
                     for p in st["ports"]})
        want['vigil_rule_packets_total{rule="web"}'] = rules["web"]["packets"]
        want['vigil_rule_packets_total{rule="(default)"}'] = rules["(default)"]["packets"]
        want['vigil_dropped_packets_total{reason="policy"}'] = st["policy"]["dropped"]
        check(want['vigil_dropped_packets_total{reason="policy"}'] > 0
              and rules["web"]["packets"] > 0, f"the capture dropped and passed nothing: {want}")
        prom.wait_scrape(steady, "the capture went through")
        for expr, value in want.items():
            s = prom.samples(expr, steady)
            check(s, f"{expr}: no sample after the capture went through")
            check(s[-1][1] == value, f"{expr}: Prometheus has {s[-1][1]}, status {value}")
            if verbose:
                print(f"      {expr} = {s[-1][1]:g}")
        start = t_status - st["uptime_s"]
        s = prom.samples("vigil_uptime_seconds", 0)
        check(len(s) >= 2, f"vigil_uptime_seconds: {s}")
        for ts, up in s:
            # uptime_s is whole seconds and the snapshot up to mgmt.snapshot old.
            check(abs((ts - up) - start) <= 2 * SCRAPE_S + 1,
                  f"vigil_uptime_seconds {up} at {ts:.3f}: vigild started at {ts - up:.3f}, "
                  f"status says {start:.3f}")
        check(s[-1][1] >= s[0][1], f"uptime went back: {s}")
        print(f"ok    {len(want)} counters equal /api/v1/status; uptime agrees over {len(s)} "
              "scrapes")

        # Prometheus's own count of what its parser refused or dropped on this target.
        _, own = prom.http("/metrics")
        for name in ("prometheus_target_scrapes_sample_duplicate_timestamp_total",
                     "prometheus_target_scrapes_sample_out_of_order_total",
                     "prometheus_target_scrapes_sample_out_of_bounds_total",
                     "prometheus_target_scrapes_exceeded_sample_limit_total"):
            m = re.search(rf"^{name} (\S+)$", own, re.M)
            check(m is not None, f"Prometheus does not report {name}")
            check(float(m.group(1)) == 0, f"{name} {m.group(1)}")
        print("ok    no duplicate, out-of-order or out-of-bounds samples")
    except Failure:
        print("prometheus log (last lines):\n" + prom.tail())
        raise
    finally:
        prom.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigild", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("prometheus: needs root (EAL); skipped")
        return 77
    missing = [p for p in ("prometheus", "promtool") if shutil.which(p) is None]
    if missing:
        print(f"prometheus: {' and '.join(missing)} not installed (Debian: apt-get install "
              "prometheus, or scripts/deps.sh); skipped")
        return 77
    t0 = time.time()
    return run_checked("prometheus", t0, apilib.Vigild(args.vigild, prefix="vgprom"), run,
                       args.verbose)


def run_checked(name, t0, v, fn, *args):
    """fn(v, *args) against vigild v, which is then stopped and cleaned up: the exit status,
    0 when fn raised no Failure and vigild exited with 0, else 1 (with its last log lines)."""
    ok = False
    try:
        fn(v, *args)
        ok = True
    except Failure as e:
        print(f"FAIL  {e}")
    finally:
        rc = v.close()
        if rc != 0:
            ok = False
            print(f"FAIL  vigild exited with {rc}")
        if not ok:
            print("vigild log (last lines):\n" + v.tail(20))
        v.cleanup()
    print(f"{name}: {'passed' if ok else 'FAILED'} ({time.time() - t0:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
