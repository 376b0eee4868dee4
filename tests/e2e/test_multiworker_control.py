#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Control-plane changes reach every worker (issue 16, item 3): vigild with 2 and then 4
workers on net_vgsynth ports (1000 UDP flows to port 9, shuffled, client to server only,
spread over the workers' RSS queues; worker lcores share the two CPUs), driven through the
REST API (tests/api/apilib.py):

  1. before any change, every worker forwards and drops nothing;
  2. blocklist: 32 client addresses added (flows 0-31) -> every worker counts blocked
     packets (policy.blocked), i.e. every worker's copy of the blocklist has them;
  3. signature reload (PUT /api/v1/signatures) from a rule that never matches to one that
     drops every datagram to port 9 (their payload is zeros) -> port b forwards nothing more
     while every worker still receives (a worker that kept the old rules would forward its
     share);
  4. policy reload (PUT /api/v1/policy) from allow-all to a policy that drops UDP port 9 ->
     every worker counts policy drops (flows are re-classified on their next packet).

A worker that missed an update would keep 0 in its counter. Exit 0 pass, 1 fail, 77 when the
plugin is absent.

  tests/e2e/test_multiworker_control.py --vigild PATH --synth-pmd PATH
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import apilib  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from synthpmd import private_plugin  # noqa: E402

ALLOW = """version: 1
default: drop
l2: {default: pass}
rules:
  - {name: discard, proto: udp, dport: 9, action: allow}
"""
DENY = """version: 1
default: drop
l2: {default: pass}
rules:
  - {name: discard, proto: udp, dport: 9, action: drop}
"""


NEVER = 'alert udp any any -> any 9 (msg:"mq: never"; content:"never-matches-7f3a"; sid:9910001;)\n'
DROP9 = ('drop udp any any -> any 9 (msg:"mq: drop port 9"; content:"|00 00 00 00|"; '
         'sid:9910002; rev:1;)\n')


def status(v):
    r = v.get("/api/v1/status", "viewer")
    if r.status != 200 or not isinstance(r.json, dict):
        raise RuntimeError(f"status: {r}")
    return r.json


def workers(v):
    r = v.get("/api/v1/status", "viewer")
    if r.status != 200 or not isinstance(r.json, dict):
        raise RuntimeError(f"status: {r}")
    return r.json["workers"]


def wait_all(v, what, pred, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        ws = workers(v)
        if all(pred(w) for w in ws):
            return ws, []
        if time.time() > deadline:
            return ws, [f"{what}: not on every worker within {timeout:.0f} s: "
                        + ", ".join(f"worker {w['id']}: policy {w.get('policy')}"
                                    for w in ws if not pred(w))]
        time.sleep(0.2)


def signatures_reach_all(v):
    """After the drop rule is in force, port b forwards nothing while every worker receives."""
    r = v.request("PUT", "/api/v1/signatures", "admin", DROP9, "text/plain")
    if r.status != 200:
        return [f"signatures put: {r}"]
    deadline = time.time() + 10
    while True:
        time.sleep(0.5)
        a = status(v)
        time.sleep(0.5)
        b = status(v)
        tx = [p["tx_packets"] for p in a["ports"]], [p["tx_packets"] for p in b["ports"]]
        rx = [w["parse"]["ipv4"] for w in a["workers"]], [w["parse"]["ipv4"] for w in b["workers"]]
        receiving = all(y > x for x, y in zip(*rx))
        if tx[0] == tx[1] and receiving:
            return []
        if time.time() > deadline:
            return [f"signature reload: in 0.5 s the ports sent {tx[0]} -> {tx[1]} packets, the "
                    f"workers parsed {rx[0]} -> {rx[1]}: some worker still forwards"]


def one(args, n):
    prefix = "vgmqc"
    rules_dir = tempfile.mkdtemp(prefix="vigil-mq-rules-")
    rules = os.path.join(rules_dir, "mq.rules")
    with open(rules, "w") as f:
        f.write(NEVER)
    eal = {"file_prefix": f"{prefix}{os.getpid()}", "hugepages": "off",
           "args": ["--log-level=lib.eal:error", "-d", args.synth_pmd]}
    ports = [{"name": "a", "device": "net_vgsynth0,flows=1000,order=shuffle,dir=fwd,proto=udp"},
             {"name": "b", "device": "net_vgsynth1,rx=0"}]
    v = apilib.Vigild(args.vigild, policy=ALLOW, store=False, prefix=prefix, extra_config={
        "eal": eal, "ports": ports,
        "lcores": {"control": 0, "workers": list(range(1, n + 1)), "cpus": [0, 1]},
        "flows": {"max": 8192}, "log": {"level": "info"},
        "signatures": {"paths": [rules]}, "inspection": {"flows": "all"}})
    problems = []
    try:
        r = v.get("/api/v1/status", "viewer")
        queues = [p.get("queues") for p in r.json["ports"]]
        if queues != [n, n]:
            problems.append(f"ports have {queues} queues, expected {n} each")
        # 1. all workers forward, nothing dropped
        ws, p = wait_all(v, "traffic", lambda w: w["parse"]["ipv4"] > 0)
        problems += p
        for w in ws:
            if w["policy"]["blocked"] or w["policy"]["dropped"]:
                problems.append(f"worker {w['id']} drops before any change: {w['policy']}")
        # 2. the blocklist
        for i in range(32):
            r = v.request("POST", "/api/v1/blocklist", "operator",
                          body={"address": f"10.0.0.{1 + i}", "ttl": 600})
            if r.status != 201:
                problems.append(f"blocklist add 10.0.0.{1 + i}: {r}")
                break
        ws, p = wait_all(v, "blocklist", lambda w: w["policy"]["blocked"] > 0)
        problems += p
        # 3. the signatures
        problems += signatures_reach_all(v)
        # 4. the policy
        r = v.request("PUT", "/api/v1/policy", "admin", body=DENY, ctype="application/yaml")
        if r.status not in (200, 201, 204):
            problems.append(f"policy put: {r}")
        ws, p = wait_all(v, "policy reload", lambda w: w["policy"]["dropped"] > 0)
        problems += p
        print(f"{n} workers: " + "; ".join(
            f"worker {w['id']}: {w['parse']['ipv4']} parsed, {w['policy']['blocked']} blocked, "
            f"{w['policy']['dropped']} dropped" for w in ws))
    except Exception as e:  # noqa: BLE001
        problems.append(f"{type(e).__name__}: {e}\n{v.tail()}")
    finally:
        rc = v.close()
        if rc not in (0, None):
            problems.append(f"vigild exited with {rc}:\n{v.tail()}")
        shutil.rmtree(rules_dir, ignore_errors=True)
        if not problems:
            v.cleanup()
        else:
            problems.append(f"scratch kept in {v.work}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--synth-pmd", required=True)
    args = ap.parse_args()
    if not os.path.exists(args.synth_pmd):
        print(f"skip: no net_vgsynth plugin at {args.synth_pmd}")
        return 77
    failed = False
    with private_plugin(args.synth_pmd) as args.synth_pmd:
        results = [(n, one(args, n)) for n in (2, 4)]
    for n, problems in results:
        for p in problems:
            print(f"FAIL {n} workers: " + p.replace("\n", "\n  "))
        failed |= bool(problems)
    print("FAIL" if failed else "ok: blocklist entries, a signature reload and a policy reload "
          "reached every worker at 2 and 4 workers")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
