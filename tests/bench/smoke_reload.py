#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of the reload benchmark and of the report: a short scripts/bench/reload.py (a 10-
and a 1000-rule policy put through the API while vigild forwards), checks of its JSON (shape,
positive rates and times, the 1000-rule policy compiled with its rule count), then
scripts/bench/report.py on a directory holding that JSON, which must print the reload table.
It passes or fails on nothing about speed.

  tests/bench/smoke_reload.py --vigild PATH --vg-pktgen PATH
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smokelib import ROOT, check, failures, positive, verdict  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--vg-pktgen", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-smoke-reload-") as d:
        out = os.path.join(d, "reload.json")
        cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench", "reload.py"),
               "--vigild", args.vigild, "--vg-pktgen", args.vg_pktgen, "--sizes", "10,1k",
               "--settle", "1.5", "--json", out]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        print(p.stdout)
        if p.returncode != 0:
            print(p.stderr)
            print(f"FAIL: reload.py exited {p.returncode}")
            return 1
        with open(out) as f:
            doc = json.load(f)
        check(doc.get("benchmark") == "policy-reload", "benchmark name")
        check("reload.py" in doc.get("command", ""), "the command is recorded")
        res = doc.get("results", [])
        check([r.get("rules") for r in res] == [10, 1000], f"two sizes, got {len(res)}")
        for r in res:
            n = r.get("rules")
            check(positive(r.get("put_seconds")), f"{n} rules: PUT time")
            for k in ("mpps_before", "mpps_during", "mpps_after"):
                check(positive(r.get(k)), f"{n} rules: {k} positive ({r.get(k)})")
        if len(res) == 2:
            big = res[1]
            check(positive(big.get("compile_ms")), "1000 rules: compile time reported")
            check((big.get("summary") or {}).get("rules") == 1000,
                  "1000 rules: vigild reports 1000 rules in force")
        rep = subprocess.run(["/usr/bin/python3",
                              os.path.join(ROOT, "scripts", "bench", "report.py"), d],
                             capture_output=True, text=True, timeout=60)
        if rep.returncode != 0:
            print(rep.stderr)
        check(rep.returncode == 0, "report.py exits 0")
        check("Policy reload under traffic" in rep.stdout, "report.py prints the reload table")
        check("| 1000 |" in rep.stdout.replace("  ", " "), "the table has the 1000-rule row")
        if failures:
            shutil.copy(out, os.path.join(tempfile.gettempdir(), "vigil-smoke-reload.json"))
            print(rep.stdout)
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
