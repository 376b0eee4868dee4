#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of net_vgsynth (tools/synth), the NIC-like input of the benchmarks: short runs of
scripts/bench/run.py with the plugin loaded into testpmd and vigild (EAL -d), then checks that
packets flowed and that vigild saw exactly the flows the devargs ask for:

  1. flows=1000, order=shuffle, TCP, both directions, 64 bytes: testpmd forwards everything
     it receives; vigild parses every packet cleanly (IPv4, TCP, checksums) and creates 1000
     flows (a reply is the same flow as its request), all picked up mid-stream.
  2. flows=500, handshake=1, size=imix: vigild creates 500 flows, none mid-stream (each
     opens with SYN, SYN-ACK, ACK), and parses every IMIX frame cleanly.
  3. Bad devargs (a value out of range, an unknown key) fail the probe with a message that
     names the key and what is accepted.

Exits 77 (skipped) when testpmd or the plugin is missing. Nothing about speed is checked.

  tests/bench/smoke_synth.py --vigild PATH --synth-pmd PATH
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smokelib import ROOT, SKIP, check, positive, verdict  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from synthpmd import private_plugin  # noqa: E402,F401  (smoke_ipfix imports it from here)


def run(args, d, name, synth, peers):
    out = os.path.join(d, f"{name}.json")
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench", "run.py"),
           "--synth", synth, "--synth-pmd", args.synth_pmd, "--peers", peers,
           "--seconds", "1", "--warmup", "1", "--repeat", "1", "--vigild", args.vigild,
           "--json", out, "--name", name]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print(p.stdout)
    if p.returncode != 0:
        print(p.stderr)
        check(False, f"{name}: run.py exited {p.returncode}")
        return None
    with open(out) as f:
        return json.load(f)


def vigild_checks(doc, name, flows, midstream, mpps=True):
    s = doc["peers"].get("vigild") or {}
    check(s.get("status") == "ok", f"{name}: vigild ran ({s.get('reason', '')[:200]})")
    if s.get("status") != "ok":
        return
    r = s["runs"][0]
    check(positive(s["median_rx_mpps"]) or not mpps, f"{name}: vigild received packets")
    check(abs(s["median_tx_mpps"] - s["median_rx_mpps"]) <= 0.05 * s["median_rx_mpps"],
          f"{name}: vigild forwarded what it received")
    fc = r["flow_counters"]
    check(fc.get("created") == flows,
          f"{name}: vigild created {flows} flows (got {fc.get('created')})")
    check(fc.get("midstream", 0) == midstream,
          f"{name}: {midstream} picked up mid-stream (got {fc.get('midstream', 0)})")
    check(r["dropped"] == 0, f"{name}: vigild dropped nothing")


def bad_devargs(args, devargs, expect):
    """testpmd with only this port: EAL probes it before testpmd reads --help and exits."""
    prefix = f"vgbsynth{os.getpid()}"
    p = subprocess.run(["dpdk-testpmd", "-l", "0", "--no-pci", "--no-huge", "-m", "256",
                        "--file-prefix", prefix, "-d", args.synth_pmd,
                        "--vdev", f"net_vgsynth0,{devargs}", "--", "--help"],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
    out = p.stdout + p.stderr
    check(expect in out and "failed to initialize net_vgsynth0" in out,
          f"devargs {devargs}: probe fails saying {expect!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--synth-pmd", dest="synth_pmd", required=True)
    args = ap.parse_args()
    if not shutil.which("dpdk-testpmd") or not os.path.exists(args.synth_pmd):
        print("SKIP: dpdk-testpmd or the net_vgsynth plugin is missing")
        return SKIP

    with tempfile.TemporaryDirectory(prefix="vigil-bench-synth-") as d, \
            private_plugin(args.synth_pmd) as args.synth_pmd:
        doc = run(args, d, "synth-shuffle", "flows=1000,order=shuffle", "testpmd,vigild")
        if doc:
            check(doc["input"]["synth"] == "net_vgsynth0,flows=1000,order=shuffle",
                  "input.synth names the vdev and its devargs")
            t = doc["peers"].get("testpmd") or {}
            check(t.get("status") == "ok" and positive(t.get("median_rx_mpps")),
                  "testpmd received packets from net_vgsynth")
            if t.get("status") == "ok":
                r = t["runs"][0]
                check(abs(r["rx_mpps"] - r["tx_mpps"]) <= 0.05 * r["rx_mpps"],
                      "testpmd forwarded what it received")
            vigild_checks(doc, "synth-shuffle", 1000, 1000)
            v = doc["peers"].get("vigild") or {}
            if v.get("wall_cycles_above_testpmd") is None:
                check(False, "vigild's wall cycles above testpmd are in the result")
        doc = run(args, d, "synth-handshake", "flows=500,handshake=1,size=imix", "vigild")
        if doc:
            vigild_checks(doc, "synth-handshake", 500, 0)
        bad_devargs(args, "flows=0", "bad value '0' for flows (flows=1..16M")
        bad_devargs(args, "order=random", "bad value 'random' for order")
        bad_devargs(args, "flow=3", "cannot parse 'flow=3': known keys are flows")
        bad_devargs(args, "proto=udp,handshake=1", "handshake=1 needs proto=tcp")
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
