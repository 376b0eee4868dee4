#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of the application-layer benchmark: a 3-second run.py of vigild on a small
--app http capture with a signature file, its variables and every flow inspected, then checks
of what the HTTP scenarios rely on: vigild received the signatures and the variables, every
pass of the capture reopened the flows (SYN on a closed tuple) and was parsed again (HTTP
transactions well beyond one pass, no replayed segment taken for a retransmission), and the
counters reach the JSON. Also: a scenario naming a rule set that is absent is skipped with its
reason (exit 0), and compile.py records a set's load and compile figures. Exits 77 when vigild
cannot run here. It passes or fails on nothing about speed.

  tests/bench/smoke_applayer.py --vigild PATH --vg-pktgen PATH --det-check PATH
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smokelib import ROOT, SKIP, check, positive, verdict  # noqa: E402

RUN = os.path.join(ROOT, "scripts", "bench", "run.py")
COMPILE = os.path.join(ROOT, "scripts", "bench", "compile.py")
RULES = os.path.join(ROOT, "scripts", "bench", "signatures", "http-never.rules")


def scenario_skip(d, vigild):
    """A scenario whose rule set is not on the machine: exit 0, a JSON that says why."""
    sc = os.path.join(d, "absent.yaml")
    with open(sc, "w") as f:
        f.write("generate: [--app, http, --flows, '10']\n"
                "signatures: ../no-such-dir/et-open-full\n")
    out = os.path.join(d, "absent.json")
    p = subprocess.run(["/usr/bin/python3", RUN, sc, "--peers", "vigild", "--vigild", vigild,
                        "--json", out], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"a scenario with an absent rule set exits 0 (got {p.returncode}: "
          f"{p.stderr.strip()})")
    check("scenario skipped" in p.stdout and "no-such-dir/et-open-full" in p.stdout,
          "the skip names the missing set")
    doc = json.load(open(out)) if os.path.exists(out) else {}
    check(doc.get("status") == "skipped" and "not on this machine" in doc.get("reason", ""),
          "the JSON says skipped, and why")


def compile_figures(d, det_check):
    out = os.path.join(d, "compile.json")
    p = subprocess.run(["/usr/bin/python3", COMPILE, os.path.join(ROOT, "conf", "signatures"),
                        "--repeat", "2", "--det-check", det_check, "--json", out],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"compile.py exits 0 (got {p.returncode}: {p.stderr.strip()})")
    doc = json.load(open(out)) if os.path.exists(out) else {}
    check(doc.get("status") == "ok" and len(doc.get("runs", [])) == 2, "two compile runs")
    for k in ("median_load_ms", "median_compile_ms", "median_peak_rss_bytes"):
        check(positive(doc.get(k)), f"{k} is positive (got {doc.get(k)})")
    ld, cp = doc.get("load") or {}, doc.get("compile") or {}
    check(positive(ld.get("loaded")) and ld.get("rules") == ld.get("loaded", 0) + ld.get(
        "rejected", -1), f"rules = loaded + rejected ({ld})")
    check(positive(cp.get("db_bytes")), "database bytes reported")
    check(doc.get("classification", "").endswith("classification.config"),
          "the set's classification.config is used")
    p = subprocess.run(["/usr/bin/python3", COMPILE, os.path.join(d, "none"), "--det-check",
                        det_check], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "skipped" in p.stdout, "compile.py skips an absent set")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--vg-pktgen", required=True)
    ap.add_argument("--det-check", required=True)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="vigil-bench-smoke-") as d:
        pcap = os.path.join(d, "http.pcap")
        gen = subprocess.run([args.vg_pktgen, "-o", pcap, "--quiet", "--app", "http", "--flows",
                              "300", "--order", "shuffle"], check=True, capture_output=True,
                             text=True)
        summary = json.loads(gen.stdout)
        out = os.path.join(d, "result.json")
        cmd = ["/usr/bin/python3", RUN, "--pcap", pcap, "--signatures", RULES,
               "--var", "address.HOME_NET=[192.168.0.0/16]",
               "--var", "port.HTTP_PORTS=[80,8080]", "--inspection", "all",
               "--peers", "vigild", "--seconds", "3", "--warmup", "1", "--repeat", "1",
               "--vigild", args.vigild, "--json", out, "--name", "smoke-applayer", "--keep"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        print(p.stdout)
        if p.returncode != 0:
            print(p.stderr)
            print(f"FAIL: run.py exited {p.returncode}")
            return 1
        with open(out) as f:
            doc = json.load(f)
        s = doc["peers"]["vigild"]
        if s["status"] == "skipped":
            print(f"SKIP: vigild: {s['reason']}")
            return SKIP
        check(s["status"] == "ok", f"status ok (got {s['status']})")
        check(doc["input"]["vars"] == {"address": {"HOME_NET": "[192.168.0.0/16]"},
                                       "port": {"HTTP_PORTS": "[80,8080]"}},
              "the variables are in the result's input")
        r = s["runs"][0]
        kept = [ln for ln in p.stdout.splitlines() if ln.startswith("kept the run directory")]
        if kept:
            cfg = json.load(open(os.path.join(kept[0].split()[-1], "1-vigild", "vigil.json")))
            sig = cfg.get("signatures") or {}
            check(sig.get("paths") == [RULES], "vigild got the signature file")
            check(sig.get("vars", {}).get("address", {}).get("HOME_NET") == "[192.168.0.0/16]",
                  "vigild got HOME_NET")
            check((cfg.get("inspection") or {}).get("flows") == "all", "every flow inspected")
            subprocess.run(["rm", "-rf", kept[0].split()[-1]])
        check(r.get("signature_rules") == 1, f"one signature in force "
              f"(got {r.get('signature_rules')})")
        fc, ins, al = r["flow_counters"], r.get("inspection") or {}, r.get("applayer") or {}
        passes = r["rx_packets_total"] / summary["packets"]
        check(passes > 2, f"the capture was replayed more than twice (got {passes:.1f})")
        # Each pass closes every flow; the next opens it again on the same tuple.
        check(fc["port_reuse"] >= summary["flows"] * (int(passes) - 1),
              f"flows reopened on every pass (port_reuse {fc['port_reuse']}, "
              f"{passes:.1f} passes of {summary['flows']} flows)")
        check(ins.get("retransmitted") == 0, "no replayed segment is a retransmission "
              f"(got {ins.get('retransmitted')})")
        check(al.get("transactions", 0) >= summary["http_requests"] * (int(passes) - 1),
              f"every pass parsed again ({al.get('transactions')} transactions, "
              f"{summary['http_requests']} requests a pass)")
        check((al.get("protocols") or {}).get("http", 0) >= summary["flows"] * (int(passes) - 1),
              "HTTP detected on every flow of every pass")
        check(ins.get("alerts") == 0, "the never-matching rule never alerts")
        scenario_skip(d, args.vigild)
        compile_figures(d, args.det_check)
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
