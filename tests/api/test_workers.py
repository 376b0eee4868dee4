#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Per-worker and per-queue rates while traffic flows: GET /api/v1/workers against vigild
forwarding between two net_null ports (64-byte frames, as many as the worker takes).

    test_workers.py --vigild BUILD/app/vigild [--vigilctl BUILD/app/vigilctl]

1. One worker: both ports have one queue, polled by worker 0. Its rates and its queues' are
   above zero, bits are 512 per packet (64-byte frames), the worker's rates are its queues'
   summed, the status carries the same; a rate over the last interval is at most what the
   counters grew by between two requests three seconds apart (control reads them every
   second); vigilctl workers shows the rates.
2. Two workers (lcores.cpus puts lcores 1 and 2 on CPU 1: this machine may have two CPUs) on
   net_vgsynth ports, which steer by symmetric RSS as a NIC does (net_null takes RSS settings
   but does not steer by them, so vigild dispatches in software there): each port has two
   queues, worker k polls queue k of both, and the same checks hold for each.

Exit status: 0 passed, 1 failed, 77 skipped (not root: EAL needs it).
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apilib  # noqa: E402
from apilib import TOKENS  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from synthpmd import private_plugin  # noqa: E402

BITS_PER_PACKET = {"null": 64 * 8,  # net_null's size=64 frames, as counted (no FCS)
                   "synth": 60 * 8}  # net_vgsynth's size=64 includes the FCS
RATES = ("rx_pps", "rx_bps", "tx_pps", "tx_bps")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def null_ports():
    return [{"name": "a", "device": "net_null0,size=64"},
            {"name": "b", "device": "net_null1,size=64"}]


def workers_doc(v):
    r = v.get("/api/v1/workers", "viewer")
    check(r.status == 200, f"GET /api/v1/workers: {r}")
    return r.json


def wait_rates(v):
    deadline = time.time() + 10
    while True:
        j = workers_doc(v)
        if isinstance(j["interval_s"], float) and all(
                isinstance(w["rx_pps"], float) and w["rx_pps"] > 0 for w in j["workers"]):
            return j
        check(time.time() < deadline, f"no rates after 10 s: {j}")
        time.sleep(0.2)


def check_rates(v, n_workers, vigilctl, bits):
    a = wait_rates(v)
    time.sleep(3.0)
    b = workers_doc(v)
    check(len(b["workers"]) == n_workers, f"{n_workers} workers: {b}")
    check(0.9 <= b["interval_s"] <= 2.0, f"interval_s {b['interval_s']}")
    for wa, w in zip(a["workers"], b["workers"]):
        wid = w["id"]
        check([(q["port"], q["queue"]) for q in w["queues"]] == [("a", wid), ("b", wid)],
              f"worker {wid} polls queue {wid} of a and b: {w['queues']}")
        for x in [w] + w["queues"]:
            what = f"worker {wid}" + (f" queue {x['port']}:{x['queue']}" if "port" in x else "")
            check(x["rx_pps"] > 0 and x["tx_pps"] > 0, f"{what}: rates above zero: {x}")
            check(close(x["rx_bps"], bits * x["rx_pps"]),
                  f"{what}: rx_bps {x['rx_bps']} != 512 x rx_pps {x['rx_pps']}")
            check(close(x["tx_bps"], bits * x["tx_pps"]),
                  f"{what}: tx_bps {x['tx_bps']} != 512 x tx_pps {x['tx_pps']}")
        for k in RATES:
            check(close(w[k], sum(q[k] for q in w["queues"])),
                  f"worker {wid}: {k} {w[k]} is not its queues' sum")
        for k in ("rx_packets", "tx_packets", "rx_bytes", "dropped"):
            check(w[k] == sum(q[k] for q in w["queues"]),
                  f"worker {wid}: {k} is not its queues' sum")
        # Both readings behind b's rates were taken after a was answered (3 s > 2 intervals).
        grown = w["rx_packets"] - wa["rx_packets"]
        check(0 < w["rx_pps"] * b["interval_s"] <= grown,
              f"worker {wid}: {w['rx_pps']} pps over {b['interval_s']} s, but the counter "
              f"grew by {grown} in 3 s")
        check(w["handoff"]["lost"] == 0, f"worker {wid}: handoff losses {w['handoff']}")
    s = v.get("/api/v1/status", "viewer").json
    for w in s["workers"]:
        check(all(isinstance(w[k], float) and w[k] > 0 for k in RATES),
              f"status worker {w['id']} has rates: {w}")
        check(all(isinstance(q["rx_pps"], float) for q in w["queues"]),
              f"status worker {w['id']} queues have rates")
    m = v.get("/metrics", "viewer").body
    for wid in range(n_workers):
        for port in ("a", "b"):
            want = f'vigil_queue_rx_packets_total{{worker="{wid}",port="{port}",queue="{wid}"}} '
            check(want in m, f"/metrics lacks {want!r}")
    if vigilctl:
        env = dict(os.environ, VIGIL_URL=f"http://127.0.0.1:{v.port}",
                   VIGIL_TOKEN=TOKENS["viewer"])
        p = subprocess.run([vigilctl, "workers"], env=env, capture_output=True, text=True,
                           timeout=30)
        rows = [x.split() for x in p.stdout.splitlines()[1:1 + n_workers]]
        check(p.returncode == 0 and len(rows) == n_workers, f"vigilctl workers: {p.stdout}")
        for wid, row in enumerate(rows):
            # worker, lcore, queues (two), rx-pps: a rate ("12.9M", "850.3k" or digits)
            check(row[0] == str(wid) and row[2:4] == [f"a:{wid}", f"b:{wid}"]
                  and row[4] not in ("-", "0"), f"vigilctl workers row {row}")


# net_vgsynth's UDP flows go to the discard and echo ports.
ALLOW_DISCARD = """version: 1
default: drop
l2: {default: pass}
rules:
  - {name: discard, proto: udp, dport: 9, action: allow}
  - {name: echo, proto: udp, dport: 7, action: allow}
"""


def synth_ports():
    # Client to server on both ports (to port 9 from a, port 7 from b): every queue sends.
    return [{"name": "a", "device": "net_vgsynth0,flows=1000,order=shuffle,proto=udp,size=64,"
                                    "dir=fwd,dport=9"},
            {"name": "b", "device": "net_vgsynth1,flows=1000,order=shuffle,proto=udp,size=64,"
                                    "dir=fwd,dport=7"}]


def run(vigild, vigilctl, n_workers, synth_pmd):
    extra = {"ports": null_ports()}
    bits = BITS_PER_PACKET["null"]
    if n_workers == 2:
        extra["lcores"] = {"control": 0, "workers": [1, 2], "cpus": [0, 1, 1]}
        extra["ports"] = synth_ports()
        extra["eal"] = {"args": ["--log-level=lib.eal:error", "-d", synth_pmd]}
        bits = BITS_PER_PACKET["synth"]
    v = apilib.Vigild(vigild, extra_config=extra, store=False, prefix="vgwk",
                      **({"policy": ALLOW_DISCARD} if n_workers == 2 else {}))
    try:
        check_rates(v, n_workers, vigilctl, bits)
        print(f"ok    {n_workers} worker(s)")
        return True
    except Failure as e:
        print(f"FAIL  {n_workers} worker(s): {e}\nvigild log:\n{v.tail(20)}")
        return False
    finally:
        v.close()
        v.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--vigilctl")
    ap.add_argument("--synth-pmd", required=True, help="the net_vgsynth plugin (build/tools/synth)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("api-workers: needs root (EAL); skipped")
        return 77
    ok = run(args.vigild, args.vigilctl, 1, args.synth_pmd)
    with private_plugin(args.synth_pmd) as pmd:
        ok = run(args.vigild, args.vigilctl, 2, pmd) and ok
    print("api-workers: all passed" if ok else "api-workers: failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
