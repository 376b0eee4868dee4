#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Markdown tables of a result directory written by scripts/bench/all.sh, for
docs/BENCHMARKS.md: every figure there comes from these files, and each table names the
command that made it.

  scripts/bench/report.py DIR > tables.md
"""
import glob
import json
import os
import statistics
import sys

SCENARIOS = ["fwd-64b-1flow", "fwd-64b-1flow-200k-packets", "fwd-64b-1k-flows",
             "fwd-64b-100k-flows", "fwd-64b-100k-flows-shuffled", "fwd-64b-1m-flows",
             "policy-64b-100k-flows", "newflows-20k-handshake", "imix-10k-udp-flows-sigs"]
PEERS = ["testpmd", "vigild", "l3fwd", "ovs"]
STAGES = ["rx", "parse", "flow", "classify", "decide", "inspect", "tx", "housekeeping"]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    except OSError:
        pass
    return out


def cell(p, with_ratio=True):
    if p is None:
        return "-"
    if p["status"] in ("skipped", "failed"):
        return p["status"]
    s = f"{p['median_rx_mpps']:.2f}"
    if with_ratio and p.get("ratio_to_testpmd") is not None:
        s += f" ({p['ratio_to_testpmd']:.2f})"
    return s


def above(p, key="wall_cycles_above_testpmd"):
    """A program's wall cycles per packet above testpmd io's on the same input."""
    a = (p or {}).get(key)
    return f"{a:.0f}" if a is not None else "-"


def best_above(doc, name="vigild"):
    """vigild's wall cycles above testpmd's from the best one-second sample of each (any
    run): other load on a shared machine only adds cycles."""
    hz = doc["machine"].get("tsc_hz")
    best = {}
    for n in (name, "testpmd"):
        v = [r.get("rx_mpps_max") or 0 for r in (doc["peers"].get(n) or {}).get("runs", [])]
        best[n] = max(v) if v else 0
    if not hz or not best[name] or not best["testpmd"]:
        return "-"
    return f"{hz / (best[name] * 1e6) - hz / (best['testpmd'] * 1e6):.0f}"


def load_str(doc):
    la = doc["machine"].get("loadavg_at_start") or []
    return f"{la[0]:.2f}" if la else "-"


def scenarios(d):
    if not any(os.path.exists(os.path.join(d, f"{sc}.json")) for sc in SCENARIOS):
        return
    print("### Scenarios: Mpps in (ratio to testpmd)\n")
    print("| scenario | testpmd | vigild | l3fwd (ACL) | OVS-DPDK (conntrack) | vigild wall cycles/pkt "
          "| vigild cycles above testpmd | load at start |")
    print("|---|---|---|---|---|---|---|---|")
    cmds = []
    for sc in SCENARIOS:
        doc = load(os.path.join(d, f"{sc}.json"))
        if doc is None:
            continue
        p = doc["peers"]
        v = p.get("vigild") or {}
        cyc = v.get("wall_cycles_per_packet")
        row = f"| {sc} | " + " | ".join(cell(p.get(n)) for n in PEERS)
        row += f" | {cyc:.0f}" if cyc else " | -"
        row += f" | {above(v)}"
        print(row + f" | {load_str(doc)} |")
        cmds.append(doc["command"])
    print("\nCommands (one per row):\n\n```sh")
    for c in cmds:
        print(c)
    print("```\n")
    print("### Where vigild's cycles go (bench mode, `vigild --bench`), cycles per packet\n")
    print("| scenario | " + " | ".join(STAGES) + " | sum | Mpps in bench mode |")
    print("|---|" + "---|" * (len(STAGES) + 2))
    for sc in SCENARIOS:
        doc = load(os.path.join(d, f"{sc}.json"))
        if doc is None:
            continue
        s = doc["peers"].get("vigild-stages") or {}
        st = s.get("median_stage_cycles_per_packet")
        if not st:
            continue
        print(f"| {sc} | " + " | ".join(f"{st.get(k, 0):.1f}" for k in STAGES)
              + f" | {st.get('total', 0):.1f} | {s['median_rx_mpps']:.2f} |")
    print()
    for sc in ("newflows-20k-handshake",):
        doc = load(os.path.join(d, f"{sc}.json"))
        if doc is None:
            continue
        v = doc["peers"].get("vigild") or {}
        for r in v.get("runs", [])[:1]:
            ev = r.get("events") or {}
            print(f"{sc}: vigild created {r.get('flows_created')} flows in its run; events "
                  f"sent {ev.get('sent')}, lost {ev.get('lost')}.\n")


SYNTH_SCENARIOS = ["synth-64b-1flow", "synth-64b-10k-flows", "synth-64b-10k-flows-shuffled",
                   "synth-64b-100k-flows", "synth-64b-100k-flows-shuffled", "synth-64b-1m-flows",
                   "synth-64b-1m-flows-shuffled"]
SYNTH_PEERS = ["testpmd", "vigild", "l3fwd", "l3fwd-em", "ovs"]


def synth(d):
    """The NIC-like input (net_vgsynth): every peer, wall cycles above testpmd, stages."""
    docs = [(sc, load(os.path.join(d, f"{sc}.json"))) for sc in SYNTH_SCENARIOS]
    docs = [(sc, doc) for sc, doc in docs if doc is not None]
    if not docs:
        return
    print("### NIC-like input (net_vgsynth): Mpps in (ratio to testpmd), wall cycles per "
          "packet above testpmd io\n")
    print("| scenario | testpmd | vigild | l3fwd (ACL) | l3fwd (EM) | OVS-DPDK (conntrack) "
          "| testpmd wall cycles/pkt | above testpmd: vigild | l3fwd ACL | l3fwd EM | OVS "
          "| vigild above testpmd, best samples | worker on CPU (testpmd, vigild) "
          "| load at start |")
    print("|---|" + "---|" * 13)
    cmds = []
    for sc, doc in docs:
        p = doc["peers"]
        t = (p.get("testpmd") or {}).get("wall_cycles_per_packet")
        print(f"| {sc} | " + " | ".join(cell(p.get(n)) for n in SYNTH_PEERS)
              + (f" | {t:.0f}" if t else " | -")
              + "".join(f" | {above(p.get(n))}" for n in SYNTH_PEERS[1:])
              + f" | {best_above(doc)}"
              + f" | {on_cpu(p.get('testpmd'))}, {on_cpu(p.get('vigild'))}"
              + f" | {load_str(doc)} |")
        cmds.append(doc["command"])
    print("\nCommands (one per row):\n\n```sh")
    for c in cmds:
        print(c)
    print("```\n")
    rows = [(sc, (doc["peers"].get("vigild-stages") or {})) for sc, doc in docs]
    rows = [(sc, s) for sc, s in rows if s.get("median_stage_cycles_per_packet")]
    if rows:
        print("### NIC-like input: where vigild's cycles go (bench mode), cycles per packet\n")
        print("| scenario | " + " | ".join(STAGES) + " | sum | Mpps in bench mode |")
        print("|---|" + "---|" * (len(STAGES) + 2))
        for sc, s in rows:
            st = s["median_stage_cycles_per_packet"]
            print(f"| {sc} | " + " | ".join(f"{st.get(k, 0):.1f}" for k in STAGES)
                  + f" | {st.get('total', 0):.1f} | {s['median_rx_mpps']:.2f} |")
        print()


APP_SCENARIOS = ["http-10k-flows", "http-10k-flows-parse", "http-10k-flows-sigs",
                 "http-10k-flows-etopen", "http-10k-flows-etopen-noiponly"]
APP_STAGES = ["rx", "parse", "flow", "decide", "inspect", "tx", "housekeeping"]


def applayer(d):
    docs = [(sc, load(os.path.join(d, f"{sc}.json"))) for sc in APP_SCENARIOS]
    docs = [(sc, doc) for sc, doc in docs if doc is not None]
    if not docs:
        return
    print("### Application layer: HTTP sessions; Mpps in (ratio to testpmd)\n")
    print("| scenario | signatures | testpmd | vigild | vigild wall cycles/pkt | "
          "transactions/s | alerts/s | worker on CPU (testpmd, vigild) | load at start |")
    print("|---|---|---|---|---|---|---|---|---|")
    cmds = []
    for sc, doc in docs:
        if doc.get("status") == "skipped":
            print(f"| {sc} | - | skipped: {doc['reason']} | | | | | | |")
            cmds.append(doc["command"])
            continue
        p = doc["peers"]
        v = p.get("vigild") or {}
        cyc = v.get("wall_cycles_per_packet")
        rs = [r for r in v.get("runs", []) if r.get("rx_packets_total")]
        tps = aps = "-"
        if rs and v.get("median_rx_mpps"):
            # Per packet over the whole run, times the measured rate.
            per = statistics.median((r.get("applayer") or {}).get("transactions", 0)
                                    / r["rx_packets_total"] for r in rs)
            al = statistics.median((r.get("inspection") or {}).get("alerts", 0)
                                   / r["rx_packets_total"] for r in rs)
            tps = f"{per * v['median_rx_mpps'] * 1e6:,.0f}"
            aps = f"{al * v['median_rx_mpps'] * 1e6:,.0f}"
        sig = doc["input"].get("signatures")
        sig = os.path.basename(sig.rstrip("/")) if sig else "none"
        n = next((r.get("signature_rules") for r in rs if r.get("signature_rules")), None)
        if n:
            sig += f" ({n:,} rules)"
        print(f"| {sc} | {sig} | {cell(p.get('testpmd'))} | {cell(v)} | "
              + (f"{cyc:.0f}" if cyc else "-")
              + f" | {tps} | {aps} | {on_cpu(p.get('testpmd'))}, {on_cpu(v)} | "
              f"{load_str(doc)} |")
        cmds.append(doc["command"])
    print("\nCommands (one per row):\n\n```sh")
    for c in cmds:
        print(c)
    print("```\n")
    print("Where vigild's cycles go (bench mode), cycles per packet:\n")
    print("| scenario | " + " | ".join(APP_STAGES) + " | sum | Mpps in bench mode |")
    print("|---|" + "---|" * (len(APP_STAGES) + 2))
    for sc, doc in docs:
        s = (doc.get("peers") or {}).get("vigild-stages") or {}
        st = s.get("median_stage_cycles_per_packet")
        if st:
            print(f"| {sc} | " + " | ".join(f"{st.get(k, 0):.1f}" for k in APP_STAGES)
                  + f" | {st.get('total', 0):.1f} | {s['median_rx_mpps']:.2f} |")
    print()
    print("vigild's counters (its first run of each scenario, totals over the run):\n")
    print("| scenario | flows created | on a closed tuple | packets inspected | retransmitted | "
          "HTTP flows | transactions | memcap refusals | alerts |")
    print("|---|---|---|---|---|---|---|---|---|")
    for sc, doc in docs:
        v = (doc.get("peers") or {}).get("vigild") or {}
        for r in v.get("runs", [])[:1]:
            fc = r.get("flow_counters") or {}
            ins = r.get("inspection") or {}
            al = r.get("applayer") or {}
            print(f"| {sc} | {fc.get('created', '-')} | {fc.get('port_reuse', '-')} | "
                  f"{ins.get('packets', '-')} | {ins.get('retransmitted', '-')} | "
                  f"{(al.get('protocols') or {}).get('http', '-')} | "
                  f"{al.get('transactions', '-')} | {al.get('memcap', '-')} | "
                  f"{ins.get('alerts', '-')} |")
    print()


def on_cpu(p):
    """The lowest share of its time a peer's worker had its CPU, over its runs (percent)."""
    v = [r["worker_on_cpu_pct"] for r in (p or {}).get("runs", [])
         if r.get("worker_on_cpu_pct") is not None]
    return f"{min(v):.0f}%" if v else "-"


def compile_set(d):
    doc = load(os.path.join(d, "compile-etopen.json"))
    if doc is None:
        return
    print("### Signature set load and compile (compile.py, det_check)\n")
    if doc.get("status") == "skipped":
        print(f"Skipped: {doc['reason']}\n\n`{doc['command']}`\n")
        return
    ld, cp = doc["load"], doc["compile"]
    print("| set | rules | loaded | rejected | load ms | compile ms | total s | peak memory MiB "
          "| databases | database bytes | scratch bytes | stream state B/dir |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {os.path.basename(doc['set'])} | {ld['rules']} | {ld['loaded']} | "
          f"{ld['rejected']} | {doc['median_load_ms']:.0f} | {doc['median_compile_ms']:.0f} | "
          f"{doc['median_total_ms'] / 1000:.1f} | "
          f"{doc['median_peak_rss_bytes'] / (1 << 20):.1f} | {cp['databases']} | "
          f"{cp['db_bytes']} | {cp['scratch_bytes']} | {cp['stream_state_bytes']} |")
    print(f"\n`{doc['command']}` (medians of {len(doc['runs'])} runs; load at start "
          f"{load_str(doc)}; rejected by reason: {ld.get('by_reason')})\n")


def sweep(d, name, unit):
    doc = load(os.path.join(d, f"{name}.json"))
    if doc is None:
        return
    print(f"### Sweep: {name} ({unit}); Mpps in (ratio to testpmd)\n")
    extra = " | new flows/s (vigild)" if name == "newflows" else ""
    mem = " | vigild memory" if name in ("rules", "flows", "signatures") else ""
    print(f"| {unit} | " + " | ".join(PEERS) + extra + mem + " |")
    print("|---|" + "---|" * (len(PEERS) + bool(extra) + bool(mem)))
    for pt in doc["points"]:
        p = pt["result"]["peers"]
        row = f"| {pt['value']} | " + " | ".join(cell(p.get(n)) for n in PEERS)
        if extra:
            nf = (p.get("vigild") or {}).get("new_flows_per_second")
            row += f" | {nf / 1e6:.2f} M" if nf else " | -"
        if mem:
            m = pt.get("vigild_memory") or {}
            heap = m.get("log.dpdk_heap_in_use_mib")
            ft = m.get("log.flow_table_mib")
            parts = []
            if heap is not None:
                parts.append(f"heap {heap:.0f} MiB")
            if ft is not None:
                parts.append(f"flow table {ft:.0f} MiB")
            row += " | " + (", ".join(parts) or "-")
        print(row + " |")
    print(f"\n`{doc['command']}` (load at start {load_str(doc)}); plot: `{name}.png`\n")


def latency(d):
    doc = load(os.path.join(d, "latency.json"))
    if doc is None:
        return
    print("### Latency added by vigild (µs)\n")
    mx = doc["maximum"]
    print(f"Maximum through the memif path: vigild {mx['vigild']['median_mpps']:.2f} Mpps, "
          f"testpmd {mx['testpmd']['median_mpps']:.2f} Mpps.\n")
    print("| load (% of vigild's maximum) | offered Mpps | vigild p50 / p99 / p99.9 | "
          "testpmd p50 / p99 / p99.9 | added p50 / p99 / p99.9 |")
    print("|---|---|---|---|---|")
    tp = {x["percent_of_vigild_max"]: x for x in doc["loads"]["testpmd"]}
    add = {x["percent_of_vigild_max"]: x for x in doc["added_by_vigild_us"]}
    for v in doc["loads"]["vigild"]:
        pc = v["percent_of_vigild_max"]
        t = tp.get(pc, {})
        a = add.get(pc, {})

        def f(x):
            lat = x.get("median_latency_us") or {}
            return " / ".join(f"{lat.get(k, 0):.1f}" for k in ("p50", "p99", "p99_9"))
        print(f"| {pc} | {v['offered_mpps']:.2f} | {f(v)} | {f(t)} | "
              + " / ".join(f"{a.get(k, 0):.1f}" for k in ("p50", "p99", "p99_9")) + " |")
    print(f"\n`{doc['command']}`; path: {doc['path']}; plot: `latency.png`\n")


def micro(d):
    rl = jsonl(os.path.join(d, "rl_bench.json"))
    if rl:
        print("### Policy compiler (rl_bench)\n")
        keys = list(rl[0].keys())
        print("| " + " | ".join(keys) + " |")
        print("|" + "---|" * len(keys))
        for r in rl:
            print("| " + " | ".join(
                f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")
        print()
    det = [x for x in jsonl(os.path.join(d, "det_bench.jsonl")) if x.get("bench") == "det"]
    if det:
        print(f"### Signature engine alone (det_bench): literal rules, "
              f"{det[0].get('payload_bytes')}-byte payloads, "
              f"{det[0].get('match_pct')}% of them matching\n")
        print("| rules | compile ms | database bytes | scratch bytes | stream state B/dir | "
              "block Gbps | block cycles/byte | stream Gbps | stream cycles/byte |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in det:
            print(f"| {r['rules']} | {r['compile_ms']:.1f} | {r['db_bytes']} | "
                  f"{r['scratch_bytes']} | {r['stream_state_bytes']} | {r['block_gbps']:.1f} | "
                  f"{r['block_cycles_per_byte']:.3f} | {r['stream_gbps']:.1f} | "
                  f"{r['stream_cycles_per_byte']:.3f} |")
        print()
    st = [x for x in jsonl(os.path.join(d, "store_bench.jsonl")) if x.get("bench") == "store"]
    if st:
        r = st[0]
        print("### Store (vigil-store-bench)\n")
        print(f"- distinct rows written: {r['rows_per_s']:,} rows/s ({r['rows']:,} rows, batches "
              f"of {r['batch']})")
        print(f"- flow events aggregated per minute and stored: {r['events_per_s']:,} events/s "
              f"({r['events']:,} events -> {r['event_rows']:,} rows)")
        print(f"- flow events through the six detectors: {r['detect_events_per_s']:,} "
              "events/s\n")
    rl = load(os.path.join(d, "reload.json"))
    if rl:
        print("### Policy reload under traffic (reload.py)\n")
        print("| rules | PUT seconds | compile ms | Mpps before | during (lowest second) | "
              "after |")
        print("|---|---|---|---|---|---|")
        for r in rl["results"]:
            def f(x):
                return f"{x:.2f}" if isinstance(x, (int, float)) else "-"
            print(f"| {r['rules']} | {r['put_seconds']:.3f} | {f(r['compile_ms'])} | "
                  f"{f(r['mpps_before'])} | {f(r['mpps_during'])} "
                  f"({f(r['mpps_lowest_during'])}) | {f(r['mpps_after'])} |")
        print(f"\n`{rl['command']}`\n")
    api = load(os.path.join(d, "api_bench.json"))
    if api:
        print("### REST API under load (bench_api.py)\n")
        print("| load | API requests/s | forwarding Mpps |")
        print("|---|---|---|")
        for name, x in api["summary"].items():
            rps = f"{x['requests_per_s']:,.0f}" if x["requests_per_s"] else "-"
            fw = f"{x['forwarding_mpps']:.2f}" if x["forwarding_mpps"] else "-"
            print(f"| {name} | {rps} | {fw} |")
        print(f"\n`{api['command']}`\n")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    d = sys.argv[1]
    m = open(os.path.join(d, "machine.txt")).read() if os.path.exists(
        os.path.join(d, "machine.txt")) else ""
    if m:
        print("```\n" + m.strip() + "\n```\n")
    scenarios(d)
    synth(d)
    applayer(d)
    compile_set(d)
    for name, unit in (("rules", "policy rules"), ("flows", "active flows"),
                       ("newflows", "packets per flow"), ("signatures", "signatures"),
                       ("sizes", "frame size")):
        sweep(d, name, unit)
    latency(d)
    micro(d)
    pngs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*.png")))
    if pngs:
        print("Plots: " + ", ".join(pngs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
