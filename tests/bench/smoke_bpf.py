#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of scripts/bench/bpf.py --scenario dns: one-second runs of the dns-64k-flows
scenario (vg-pktgen --app dns) with the dns-allow policy as it is, with dns_qname.o on its rule
JIT-compiled and interpreted, and as it is again; then checks of bpf.json as the docs read it:
the variants in order, the program's mode, that it ran on every packet (it never caches for DNS
flows), and that it dropped the queries whose name is over its 52-byte limit (about a fifth of
the queries, so 9% to 14% of the packets), each with an alert. Exits 77 (skipped) when the
examples were not built (no clang). It passes or fails on nothing about speed.

  tests/bench/smoke_bpf.py --build BUILD_DIR
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
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.build, "bpf", "dns_qname.o")):
        print("SKIP: bpf/examples were not built (clang not found)")
        return SKIP

    with tempfile.TemporaryDirectory(prefix="vigil-bench-smoke-bpf-") as d:
        cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench", "bpf.py"), d,
               "--scenario", "dns", "--build", args.build, "--seconds", "1", "--warmup", "0", "--no-stages"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        print(p.stdout)
        if p.returncode != 0:
            print(p.stderr)
            print(f"FAIL: bpf.py exited {p.returncode}")
            return 1
        with open(os.path.join(d, "bpf.json")) as f:
            doc = json.load(f)

    check(doc.get("scenario") == "dns", "bpf.json names the dns scenario")
    res = {r["variant"]: r for r in doc["results"]}
    check([r["variant"] for r in doc["results"]] == ["none", "dns-jit", "dns-interp",
                                                      "none-again"],
          "the variants: none, dns-jit, dns-interp, none-again")
    for r in doc["results"]:
        check(positive(r["cycles_per_packet"]) and positive(r["mpps"]),
              f"{r['variant']}: cycles per packet and Mpps are positive")
    for name in ("none", "none-again"):
        if name in res:
            check(res[name]["program"] is None and res[name]["runs"] is None,
                  f"{name}: no program on the rule")
    for name, mode in (("dns-jit", "jit"), ("dns-interp", "interpreter")):
        r = res.get(name)
        if r is None:
            continue
        check(r["mode"] == mode, f"{name}: the program runs as {mode} (got {r['mode']})")
        check((r["program"] or "").endswith("dns_qname.o"), f"{name}: the rule runs dns_qname.o")
        check(r["runs"] == r["packets"] and r["cached"] == 0,
              f"{name}: the program ran on every packet and cached nothing "
              f"({r['runs']} runs, {r['packets']} packets, {r['cached']} cached)")
        share = (r["drop"] or 0) / max(r["runs"] or 0, 1)
        check(0.09 <= share <= 0.14,
              f"{name}: the long names' queries dropped, 9% to 14% of the packets "
              f"(got {share:.3f})")
        check(r["alerts"] == r["drop"], f"{name}: each drop raised alert 53")
        check(positive(r["program_cycles_per_run"]), f"{name}: cycles per run sampled")
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
