#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of scripts/bench/scaling.py (several workers against testpmd): one-second runs of
testpmd with 2 queues and 2 cores, vigild with 2 workers on RSS, vigild with 2 workers and the
software dispatch in bench mode, and a memory reading with 2 workers, then checks that the JSON
holds the figures the docs quote and that they are consistent:

  - every run forwarded; vigild on RSS says steering rss on both ports, with sym_key=0 software;
  - vigild on RSS has its ratio to and cycles above testpmd-2q;
  - each worker has its cycles per packet, flows, flow memory and handoff counters; the 20000
    flows of the input (10k a port) are created once in all, whichever worker owns them;
  - on RSS nothing is handed off; with the dispatch the receiver hands frames off, the owner
    takes them, and the receiver's dispatch stage has a cost per packet received;
  - the memory reading has one flow table per worker.

Exits 77 (skipped) when testpmd or the plugin is missing. Nothing about speed is checked.

  tests/bench/smoke_scaling.py --vigild PATH --synth-pmd PATH
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
from synthpmd import private_plugin  # noqa: E402

FLOWS = 20000  # flows=10k on each of the two ports (other dports)


def workers_ok(name, r, n):
    ws = r.get("workers_detail", [])
    check(len(ws) == n, f"{name}: {n} workers in workers_detail (got {len(ws)})")
    for w in ws:
        check(positive(w.get("cycles_per_packet")), f"{name} w{w.get('id')}: cycles per packet")
        check(positive(w.get("flow_memory_bytes")), f"{name} w{w.get('id')}: flow memory")
        check(set(w.get("handoff", {})) >= {"out", "in", "lost"},
              f"{name} w{w.get('id')}: handoff out/in/lost")
    created = sum(w.get("flows_created", 0) for w in ws)
    check(created == FLOWS, f"{name}: the {FLOWS} flows created once in all (got {created})")
    return ws


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--synth-pmd", dest="synth_pmd", required=True)
    args = ap.parse_args()
    if not shutil.which("dpdk-testpmd") or not os.path.exists(args.synth_pmd):
        print("SKIP: dpdk-testpmd or the net_vgsynth plugin is missing")
        return SKIP

    with tempfile.TemporaryDirectory(prefix="vigil-bench-scaling-") as d, \
            private_plugin(args.synth_pmd) as pmd:
        out = os.path.join(d, "scaling.json")
        cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench", "scaling.py"),
               "--vigild", args.vigild, "--synth-pmd", pmd,
               "--runs", "testpmd-2q,vigild-2w-rss,vigild-2w-sw-stages",
               "--memory-workers", "2", "--seconds", "1", "--warmup", "0", "--json", out]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        print(p.stdout)
        print(p.stderr)
        check(p.returncode == 0, f"scaling.py exited {p.returncode}")
        if not os.path.exists(out):
            check(False, "scaling.py wrote its JSON")
            return verdict()
        with open(out) as f:
            doc = json.load(f)
        runs = doc.get("runs", {})
        for name in ("testpmd-2q", "vigild-2w-rss", "vigild-2w-sw-stages"):
            r = runs.get(name, {})
            check(r.get("status") == "ok", f"{name} ran ({r.get('reason', '')[:300]})")
            check(positive(r.get("tx_mpps")), f"{name}: forwarded packets")
            check(positive(r.get("cycles_per_packet")), f"{name}: cycles per packet")
            check(bool(r.get("placement")), f"{name}: placement described")
        rss, sw = runs.get("vigild-2w-rss", {}), runs.get("vigild-2w-sw-stages", {})
        if rss.get("status") == "ok":
            check([s["mode"] for s in rss["steering"]] == ["rss", "rss"],
                  f"vigild-2w-rss: steering rss on both ports ({rss['steering']})")
            check(rss.get("queues_per_port") == 2, "vigild-2w-rss: 2 queues a port")
            check(positive(rss.get("ratio_to_testpmd")), "vigild-2w-rss: ratio to testpmd-2q")
            check(isinstance(rss.get("cycles_above_testpmd"), (int, float)),
                  "vigild-2w-rss: cycles above testpmd-2q")
            ws = workers_ok("vigild-2w-rss", rss, 2)
            check(all(positive(w.get("packets_processed")) for w in ws),
                  "vigild-2w-rss: both workers processed packets")
            check(all(w["handoff"]["out"] == 0 for w in ws), "vigild-2w-rss: nothing handed off")
        if sw.get("status") == "ok":
            check([s["mode"] for s in sw["steering"]] == ["software", "software"],
                  f"vigild-2w-sw: steering software on both ports ({sw['steering']})")
            ws = workers_ok("vigild-2w-sw", sw, 2)
            out_ = sum(w["handoff"]["out"] for w in ws)
            in_ = sum(w["handoff"]["in"] for w in ws)
            check(out_ > 0 and 0 < in_ <= out_, f"vigild-2w-sw: handed off {out_}, taken {in_}")
            recv = [w for w in ws if w["handoff"]["out"] > 0]
            check(bool(recv) and all(positive(w.get("dispatch_cycles_per_received_packet"))
                                     for w in recv),
                  "vigild-2w-sw: the receiver's dispatch cycles per packet received")
            check(all("stage_cycles_per_packet" in w for w in ws),
                  "vigild-2w-sw: stage breakdown per worker")
        mem = doc.get("memory", [])
        check(len(mem) == 1 and "error" not in mem[0], f"memory reading ran ({mem})")
        if mem and "error" not in mem[0]:
            m = mem[0]
            check(len(m.get("flow_table_mib_per_worker", [])) == 2
                  and all(positive(x) for x in m["flow_table_mib_per_worker"]),
                  "memory: one flow table per worker")
            check(positive(m.get("dpdk_heap_in_use_mib")), "memory: DPDK heap in use")
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
