#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of the benchmark runner for one peer: a 3-second run of scripts/bench/run.py on
a small capture with the web-allow policy, then checks of the JSON a performance engineer
reads: its shape, positive rates and cycle counts, and that the peer enforced the policy
(10% of the flows go to telnet, which the policy drops). Exits 77 (skipped) when the peer
cannot run on this machine. It passes or fails on nothing about speed.

  tests/bench/smoke.py --peer testpmd|vigild|l3fwd|ovs --vigild PATH --vg-pktgen PATH
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smokelib import ROOT, SKIP, check, positive, verdict  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", required=True)
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--vg-pktgen", required=True)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="vigil-bench-smoke-") as d:
        pcap = os.path.join(d, "in.pcap")
        subprocess.run([args.vg_pktgen, "-o", pcap, "--quiet", "--flows", "1k", "--per-flow",
                        "4", "--tcp-mode", "midstream", "--size", "64", "--deny-share", "0.1"],
                       check=True, stdout=subprocess.DEVNULL)
        out = os.path.join(d, "result.json")
        cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench", "run.py"),
               "--pcap", pcap, "--policy",
               os.path.join(ROOT, "scripts", "bench", "policies", "web-allow.yaml"),
               "--peers", args.peer, "--seconds", "3", "--warmup", "1", "--repeat", "1",
               "--vigild", args.vigild, "--json", out, "--name", f"smoke-{args.peer}"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        print(p.stdout)
        if p.returncode != 0:
            print(p.stderr)
            print(f"FAIL: run.py exited {p.returncode}")
            return 1
        with open(out) as f:
            doc = json.load(f)

    for k in ("scenario", "date", "command", "machine", "input", "cores", "peers", "order",
              "seconds_per_run", "repeat"):
        check(k in doc, f"result has '{k}'")
    check(doc["input"]["packets"] == 4000, "input.packets is the capture's 4000 packets")
    check(doc["input"]["policy_rules_mapped"] == 2, "both web-allow rules map to the peers")
    s = doc["peers"].get(args.peer)
    check(s is not None, f"peers.{args.peer} is present")
    if s is None:
        return 1
    if s["status"] == "skipped":
        print(f"SKIP: {args.peer}: {s['reason']}")
        return SKIP
    check(s["status"] == "ok", f"status ok (got {s['status']})")
    check(len(s["runs"]) == 1 and s["runs"][0]["samples"] == 3,
          "one run of 3 one-second samples")
    for k in ("median_rx_mpps", "median_tx_mpps", "wall_cycles_per_packet"):
        check(positive(s.get(k)), f"{k} is positive (got {s.get(k)})")
    if args.peer in ("testpmd", "vigild", "ovs"):
        check(positive(s.get("median_cycles_per_packet")),
              f"median_cycles_per_packet is positive (got {s.get('median_cycles_per_packet')})")
    ratio = s["median_tx_mpps"] / s["median_rx_mpps"]
    notes = [n for r in s["runs"] for n in r.get("notes", [])]
    if args.peer == "testpmd" or (args.peer == "vigild" and notes):
        # Forwarding everything: what leaves is what arrived.
        check(0.97 < ratio <= 1.03, f"out/in is about 1 (got {ratio:.3f})")
    else:
        # 100 of the 1000 flows go to telnet and are dropped; every flow has 4 packets.
        check(0.86 < ratio < 0.94, f"out/in is about 0.9: the policy's drops (got {ratio:.3f})")
    if args.peer == "testpmd":
        check(s.get("ratio_to_testpmd") == 1.0, "testpmd's ratio to itself is 1")
    if args.peer == "vigild":
        r = s["runs"][0]
        check(r["flows_created"] >= 1000, f"vigild created the 1000 flows "
              f"(got {r['flows_created']})")
        check(positive(r["memory"].get("flows.memory_bytes")), "flow table memory reported")
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
