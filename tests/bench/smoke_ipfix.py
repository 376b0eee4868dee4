#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of the IPFIX benchmark: a short scripts/bench/ipfix.py --quick (one off/on pair of
1 s forwarding runs on net_vgsynth, then the exporter alone at 25k records/s and flat out, over
UDP to nfcapd and TCP), and checks of its JSON: shape, positive rates, the "on" run's records
sent and stored by nfcapd, the exporter's records sent. It passes or fails on nothing about
speed. Exits 77 without nfcapd or without net_vgsynth.

  tests/bench/smoke_ipfix.py --build BUILD_DIR
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smokelib import ROOT, SKIP, check, failures, positive, verdict  # noqa: E402
from smoke_synth import private_plugin  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    if shutil.which("nfcapd") is None or shutil.which("nfdump") is None:
        print("SKIP: nfcapd/nfdump not installed (scripts/deps.sh installs nfdump)")
        return SKIP
    pmd = os.path.join(args.build, "tools", "synth", "librte_net_vgsynth.so")
    if not os.path.exists(pmd):
        print("SKIP: net_vgsynth not built")
        return SKIP
    # A clone below /tmp: EAL loads the plugin only from a private copy (smoke_synth.py).
    with tempfile.TemporaryDirectory(prefix="vigil-bench-smoke-ipfix-") as d, \
            private_plugin(pmd) as pmd:
        os.environ["VG_SYNTH_PMD"] = pmd
        out = os.path.join(d, "ipfix.json")
        cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench", "ipfix.py"), out,
               "--build", args.build, "--seconds", "1", "--repeat", "1", "--quick",
               "--exporter-seconds", "0.5"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=280)
        print(p.stdout)
        if p.returncode != 0:
            print(p.stderr[-3000:])
            print(f"FAIL: ipfix.py exited {p.returncode}")
            return 1
        with open(out) as f:
            doc = json.load(f)
        check(doc.get("benchmark") == "ipfix", "benchmark name")
        check("ipfix.py" in doc.get("command", ""), "the command is recorded")
        fw = doc.get("forwarding", {})
        runs = fw.get("runs", [])
        check([r.get("variant") for r in runs] == ["off", "on"], "one off/on pair")
        for r in runs:
            check(positive(r.get("mpps")), f"{r.get('variant')}: Mpps positive")
        on = runs[1] if len(runs) == 2 else {}
        x = on.get("ipfix") or {}
        check(positive(x.get("records_sent")), f"on: vigild sent records ({x})")
        check(positive(on.get("nfcapd_flows_stored")), "on: nfcapd stored flows")
        check(runs[0].get("ipfix") is None if runs else False, "off: no exporter")
        check(positive(fw.get("ratio_on_to_off")), "the on/off ratio")
        ex = doc.get("exporter", [])
        check([e.get("transport") for e in ex] == ["udp", "tcp"], "the exporter over udp and tcp")
        for e in ex:
            check(positive(e.get("flat_out_sent_per_s")), f"{e.get('transport')}: flat out rate")
            check(all(positive(s.get("sent")) for s in e.get("steps", [])),
                  f"{e.get('transport')}: records sent at each rate")
        if failures:
            shutil.copy(out, os.path.join(tempfile.gettempdir(), "vigil-smoke-ipfix.json"))
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
