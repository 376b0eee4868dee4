#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of scripts/bench/latency.py: one short run at 50% of vigild's maximum through
the memif path, checking the JSON's shape, that packets came back, and that percentiles are
positive and ordered (p50 <= p99 <= p99.9 <= max). Exits 77 when memif cannot run here (no
hugepages). Nothing about speed passes or fails.

  tests/bench/smoke_latency.py --vigild PATH --vg-pktgen PATH
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smokelib import ROOT, check, verdict  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--vg-pktgen", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-latency-smoke-") as d:
        pcap = os.path.join(d, "in.pcap")
        subprocess.run([args.vg_pktgen, "-o", pcap, "--quiet", "--flows", "100", "--per-flow",
                        "4", "--tcp-mode", "midstream", "--size", "64"], check=True,
                       stdout=subprocess.DEVNULL)
        out = os.path.join(d, "latency.json")
        p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench",
                                                             "latency.py"),
                            "--pcap", pcap, "--seconds", "1", "--warmup", "1", "--repeat", "1",
                            "--loads", "50", "--vigild", args.vigild, "--out", d, "--json", out],
                           capture_output=True, text=True, timeout=300)
        print(p.stdout)
        if p.returncode == 77:
            print("SKIP: " + p.stderr.strip())
            return 77
        if p.returncode != 0:
            print(p.stderr)
            print(f"FAIL: latency.py exited {p.returncode}")
            return 1
        with open(out) as f:
            doc = json.load(f)
        check(os.path.getsize(os.path.join(d, "latency.png")) > 0, "the plot was written")
    for peer in ("vigild", "testpmd"):
        check(doc["maximum"][peer]["median_mpps"] > 0, f"{peer}: a maximum rate was measured")
        rows = doc["loads"][peer]
        check(len(rows) == 1 and rows[0]["percent_of_vigild_max"] == 50, f"{peer}: one load")
        r = rows[0]["runs"][0]
        lat = r["latency_ns"]
        check(r["counted"] > 0 and r["foreign"] == 0, f"{peer}: timestamped packets came back")
        check(0 < lat["p50"] <= lat["p99"] <= lat["p99_9"] <= lat["max"] + 1000,
              f"{peer}: percentiles positive and ordered ({lat})")
        check(r["frame_bytes_added"] == 16, f"{peer}: the trailer's size is reported")
    check(len(doc["added_by_vigild_us"]) == 1, "added latency per load")
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
