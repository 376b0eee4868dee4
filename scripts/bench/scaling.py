#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Several workers (issue 16 item 4): testpmd io and vigild with one and two forwarding cores on
the same net_vgsynth input, both ports receiving (net_vgsynth0 and net_vgsynth1, paired).

  testpmd-1q       testpmd io, 1 queue a port, 1 forwarding core
  testpmd-1q2c     testpmd io, 1 queue a port, 2 forwarding cores (one port's queue each)
  testpmd-2q       testpmd io, 2 queues a port (RSS), 2 forwarding cores
  vigild-1w        vigild, 1 worker (1 queue a port)
  vigild-2w-rss    vigild, 2 workers on RSS (2 queues a port; status steering must say rss)
  vigild-2w-sw     vigild, 2 workers, software dispatch (sym_key=0 on both vdevs: the device
                   refuses the symmetric key, one queue a port, its worker hands the other
                   worker's flows to its ring; steering must say software)
  vigild-*-stages  the same in bench mode (stats.stages): cycles per packet by stage

Placement on the CPUs of --cpus (A,B): testpmd `--lcores 0@A,1@B[,2@A] --main-lcore 0` (main
lcore and the second forwarding lcore share A); vigild `lcores: {control: 0, workers: [1, 2],
cpus: [A, B]}`, which is EAL `--lcores 0@A,1@B,2@A` (control on the first entry, worker i on
entry (i + 1) mod n): the second worker shares A with control, which mostly sleeps.

Each run: `--warmup` seconds discarded, then the port counters (DPDK telemetry, both ports)
sampled once a second for `--seconds`; Mpps forwarded is the median of the per-second sums of
both ports' sent packets. vigild's per-worker figures come from its --stats-json at exit:
busy cycles per packet processed, flows, flow table memory, handoff out/in/lost, stages.
--memory-workers runs vigild briefly with that many workers (RSS, lcores.cpus the same two
CPUs) to read the flow table memory (per worker: flows.max entries each) and the DPDK heap.

  scripts/bench/scaling.py [--vigild build/app/vigild] [--synth-pmd PATH] [--json PATH]
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import peers  # noqa: E402
from benchlib import ROOT, BenchError, Proc  # noqa: E402

# name: (program, workers or forwarding cores, queues a port, sym_key, stages)
# (in the order they run: each vigild right after its testpmd peer)
RUNS = {
    "testpmd-1q": ("testpmd", 1, 1, True, False),
    "vigild-1w": ("vigild", 1, 1, True, False),
    "testpmd-2q": ("testpmd", 2, 2, True, False),
    "vigild-2w-rss": ("vigild", 2, 2, True, False),
    "testpmd-1q2c": ("testpmd", 2, 1, True, False),
    "vigild-2w-sw": ("vigild", 2, 1, False, False),
    "vigild-1w-stages": ("vigild", 1, 1, True, True),
    "vigild-2w-rss-stages": ("vigild", 2, 2, True, True),
    "vigild-2w-sw-stages": ("vigild", 2, 1, False, True),
}
# vigild configuration: the testpmd run with the same queues and forwarding cores.
PEER = {"vigild-1w": "testpmd-1q", "vigild-2w-rss": "testpmd-2q", "vigild-2w-sw": "testpmd-1q2c"}
EXPECT_STEERING = {"vigild-2w-rss": "rss", "vigild-2w-sw": "software"}
LOG_FLOW_TABLE = re.compile(r"worker (\d+): flow table (\d+) flows \(([\d.]+) MiB, (\d+) bytes")
LOG_HEAP = re.compile(r"memory: ([\d.]+) MiB of DPDK heap in use")
LOG_POOL = re.compile(r"mbuf pool: .*\(([\d.]+) MiB\)")


class Ctx:
    """What peers.vigild_config reads, and this script's own settings."""

    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.synth = args.synth
        self.devs = [f"net_vgsynth0,{args.synth}", f"net_vgsynth1,{args.synth},{args.synth1}"]
        self.eal_plugins = ["-d", args.synth_pmd]
        self.main, self.worker = 0, 1
        self.cpus = args.cpus
        self.seconds, self.warmup = args.seconds, args.warmup
        self.data_room = 2048
        self.flows_max = args.flows_max
        self.policy = self.signatures = None
        # Two ports, up to 2 queues each and 4 with --memory-workers 4: room beyond one queue.
        self.mbufs = 65535
        self.mem_args, self.memory, self.no_huge, pool_mb = benchlib.eal_memory(
            self.mbufs, self.data_room, args.no_huge)
        self.mem_mb = pool_mb + 4 * benchlib.parse_count(self.flows_max) * 256 // (1 << 20) + 768
        self.cache = {}

    def prefix(self, tag):
        return f"vgbsc{os.getpid()}{tag}"

    def devices(self, sym_key):
        return [d + ("" if sym_key else ",sym_key=0") for d in self.devs]


def thread_shares(before, after, wall_s):
    """On-CPU share (%) of each thread, busiest first: the polling lcores near 100%."""
    return sorted((round(100.0 * (after[t] - before.get(t, 0)) / (wall_s * 1e9), 1)
                   for t in after), reverse=True)


def measure(ctx, proc, prefix, seconds=None, warmup=None):
    """Wait for forwarding, then sample (received, sent) summed over ports 0 and 1."""
    tel = benchlib.Telemetry(prefix)
    try:
        tel.connect(30, proc)
        deadline = time.monotonic() + 30
        while True:
            if not proc.alive():
                raise BenchError(f"{proc.name} exited at start:\n{proc.tail()}")
            try:
                if tel.port_stats(0)["opackets"] + tel.port_stats(1)["opackets"] > 0:
                    break
            except (KeyError, TypeError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{proc.name} forwarded nothing within 30 s:\n{proc.tail()}")
            time.sleep(0.1)
        proc.forwarding_at = time.monotonic()

        def read():
            a, b = tel.port_stats(0), tel.port_stats(1)
            return a["ipackets"] + b["ipackets"], a["opackets"] + b["opackets"]

        t0, th0, cpu0 = time.monotonic(), benchlib.thread_cpu_ns(proc.p.pid), benchlib.cpu_times()
        samples = benchlib.sample_rates(read, ctx.seconds if seconds is None else seconds,
                                        ctx.warmup if warmup is None else warmup, proc)
        wall = time.monotonic() - t0
        proc.threads_on_cpu_pct = thread_shares(th0, benchlib.thread_cpu_ns(proc.p.pid), wall)[:4]
        proc.cpu_busy_pct = benchlib.cpu_busy_pct(cpu0, benchlib.cpu_times())
        return samples
    finally:
        tel.close()


def finish(proc):
    rc = proc.stop()
    if rc not in (0, -2, 130):
        raise BenchError(f"{proc.name} exited with status {rc}:\n{proc.tail()}")
    return proc.output()


def cleanup(prefix):
    benchlib.remove_runtime_dir(prefix)
    benchlib.remove_hugepage_files(prefix)


def common(r, proc, samples):
    r.update(benchlib.summarize_samples(samples, proc))
    r["threads_on_cpu_pct"] = proc.threads_on_cpu_pct
    r["cpu_busy_pct"] = proc.cpu_busy_pct
    return r


def testpmd_run(ctx, name, cores, queues, run_dir):
    prefix = ctx.prefix(name.replace("-", ""))
    a, b = ctx.cpus
    lcores = f"0@{a},1@{b}" + (f",2@{a}" if cores == 2 else "")
    devs = ctx.devices(True)
    cmd = [shutil.which(ctx.args.testpmd), "--lcores", lcores, "--main-lcore", "0", "--no-pci",
           "--file-prefix", prefix, *ctx.mem_args, *ctx.eal_plugins, "--vdev", devs[0],
           "--vdev", devs[1], "--log-level=lib.eal:error", "--",
           "--forward-mode=io", f"--nb-cores={cores}", f"--rxq={queues}", f"--txq={queues}",
           "--record-core-cycles", f"--total-num-mbufs={ctx.mbufs}",
           f"--mbuf-size={ctx.data_room}", "--stats-period", "1", "--no-lsc-interrupt"]
    proc = Proc(cmd, name, log=os.path.join(run_dir, f"{name}.log"))
    try:
        samples = measure(ctx, proc, prefix)
        out = finish(proc)
    finally:
        proc.stop()
        cleanup(prefix)
    m = re.search(r"CPU cycles/packet=([\d.]+)", out)
    streams = re.findall(r"Logical Core (\d+) \(socket \d+\) forwards packets on (\d+) streams",
                         out)
    r = {"program": "testpmd", "forwarding_cores": cores, "queues_per_port": queues,
         "command": " ".join(cmd),
         "placement": f"EAL --lcores {lcores} --main-lcore 0: main lcore 0 on CPU {a}, "
                      f"forwarding lcore 1 on CPU {b}"
                      + (f", forwarding lcore 2 on CPU {a} (with main)" if cores == 2 else ""),
         "streams_per_lcore": {int(lc): int(n) for lc, n in streams},
         # testpmd's sum of the forwarding cores' busy cycles over the packets they received
         "cycles_per_packet": float(m.group(1)) if m else None,
         "cycles_source": "testpmd --record-core-cycles (busy cycles of the forwarding cores "
                          "/ packets received)"}
    return common(r, proc, samples)


def vigild_config(ctx, prefix, workers, sym_key, stages):
    cfg, _ = peers.vigild_config(ctx, prefix, {"stats": {"stages": True}} if stages else None)
    devs = ctx.devices(sym_key)
    cfg["ports"] = [{"name": "p0", "device": devs[0]}, {"name": "p1", "device": devs[1]}]
    cfg["pairs"] = [["p0", "p1"]]
    cfg["lcores"] = {"control": 0, "workers": list(range(1, workers + 1)),
                     "cpus": list(ctx.cpus)}
    return cfg


def vigild_start(ctx, name, workers, sym_key, stages, run_dir):
    prefix = ctx.prefix(name.replace("-", ""))
    cfg = vigild_config(ctx, prefix, workers, sym_key, stages)
    cfg_path = os.path.join(run_dir, f"{name}.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    stats_path = os.path.join(run_dir, f"{name}-stats.json")
    cmd = [ctx.args.vigild, "-c", cfg_path, "--stats-json", stats_path]
    return Proc(cmd, name, log=os.path.join(run_dir, f"{name}.log")), prefix, cfg, stats_path


def memory_from(st, log):
    tables = sorted((int(w), int(n), float(mib), int(b))
                    for w, n, mib, b in LOG_FLOW_TABLE.findall(log))
    heap, pool = LOG_HEAP.search(log), LOG_POOL.search(log)
    return {
        "flow_table_mib_per_worker": [t[2] for t in tables],
        "flow_table_entries_per_worker": [t[1] for t in tables],
        "flow_table_bytes_per_flow": tables[0][3] if tables else None,
        "flow_table_mib_total": round(sum(t[2] for t in tables), 1),
        "dpdk_heap_in_use_mib": float(heap.group(1)) if heap else None,
        "mbuf_pool_mib": float(pool.group(1)) if pool else None,
        "status_flow_memory_bytes_per_worker": [w["flows"]["memory_bytes"]
                                                for w in st["workers"]],
        "source": "vigild log ('worker N: flow table ...', 'memory: ... MiB of DPDK heap in "
                  "use', 'mbuf pool') and --stats-json workers[].flows.memory_bytes",
    }


def worker_figures(w, stages):
    """One worker's figures from --stats-json. processed: packets this worker ran through
    its pipeline (its own queues' and those handed to it); received: what it took from its
    own RX queues (processed - handed in + handed out + lost at handoff)."""
    ho = w.get("handoff", {"out": 0, "in": 0, "lost": 0})
    processed = w["rx_packets"]
    received = processed - ho["in"] + ho["out"] + ho["lost"]
    f = {"id": w["id"], "lcore": w["lcore"], "packets_processed": processed,
         "packets_received": received, "busy_cycles": w["busy_cycles"],
         "cycles_per_packet": round(w["busy_cycles"] / processed, 1) if processed else None,
         "handoff": ho,
         "flows_active": w["flows"]["active"], "flows_created": w["flows"]["created"],
         "flow_table_entries": w["flows"]["entries"],
         "flow_memory_bytes": w["flows"]["memory_bytes"],
         "queues": [(q["port"], q["queue"]) for q in w.get("queues", [])]}
    if stages and w.get("stages"):
        s = w["stages"]
        f["stage_cycles_per_packet"] = {k: round(v, 1)
                                        for k, v in s["cycles_per_packet"].items()}
        d = s["cycles"].get("dispatch", 0)
        # The dispatcher's own cost: its cycles over the frames it received and dispatched.
        f["dispatch_cycles_per_received_packet"] = round(d / received, 1) if received else None
    return f


def vigild_run(ctx, name, workers, sym_key, stages, run_dir):
    proc, prefix, cfg, stats_path = vigild_start(ctx, name, workers, sym_key, stages, run_dir)
    try:
        samples = measure(ctx, proc, prefix)
        log = finish(proc)
    finally:
        proc.stop()
        cleanup(prefix)
    with open(stats_path) as f:
        st = json.load(f)
    ws = [worker_figures(w, stages) for w in st["workers"]]
    busy = sum(w["busy_cycles"] for w in ws)
    done = sum(w["packets_processed"] for w in ws)
    a, b = ctx.cpus
    place = [f"control lcore 0 on CPU {a}"] + [
        f"worker {i} (lcore {i + 1}) on CPU {ctx.cpus[(i + 1) % 2]}" for i in range(workers)]
    r = {"program": "vigild", "workers": workers, "queues_per_port": st["ports"][0]["queues"],
         "command": f"{ctx.args.vigild} -c {name}.json --stats-json {name}-stats.json",
         "config": cfg,
         "placement": f"lcores.cpus [{a}, {b}]: " + ", ".join(place)
                      + (f" (worker 1 shares CPU {a} with control)" if workers > 1 else ""),
         "steering": [{"port": p["name"], "queues": p["queues"], **p["steering"]}
                      for p in st["ports"]],
         "cycles_per_packet": round(busy / done, 1) if done else None,
         "cycles_source": "vigild --stats-json: the workers' busy_cycles / packets processed",
         "tsc_hz": st.get("tsc_hz"),
         "workers_detail": ws,
         "port_dropped": sum(p["dropped"] for p in st["ports"]),
         "port_tx_full": sum(p["tx_full"] for p in st["ports"]),
         "memory": memory_from(st, log),
         "stages": stages}
    return common(r, proc, samples)


def memory_run(ctx, workers, run_dir):
    name = f"memory-{workers}w"
    proc, prefix, cfg, stats_path = vigild_start(ctx, name, workers, True, False, run_dir)
    try:
        measure(ctx, proc, prefix, seconds=1, warmup=0)
        log = finish(proc)
    finally:
        proc.stop()
        cleanup(prefix)
    with open(stats_path) as f:
        st = json.load(f)
    m = memory_from(st, log)
    m.update({"workers": workers, "flows_max_per_worker": cfg["flows"]["max"],
              "steering": [p["steering"]["mode"] for p in st["ports"]],
              "flows_active_per_worker": [w["flows"]["active"] for w in st["workers"]]})
    return m


def compare(doc):
    """vigild against testpmd with the same queues and forwarding cores."""
    runs = doc["runs"]
    tsc = next((r["tsc_hz"] for r in runs.values() if r.get("tsc_hz")), None)
    doc["machine"]["tsc_hz"] = tsc
    for r in runs.values():
        # The cycles of the forwarding cores (testpmd) or worker CPUs (vigild) per packet
        # forwarded, counting their whole time: with 2 cores, 2 x TSC over the rate.
        if r.get("status") == "ok" and tsc and r["tx_mpps"] > 0:
            cores = r.get("forwarding_cores", r.get("workers"))
            r["wall_cycles_per_packet"] = round(cores * tsc / (r["tx_mpps"] * 1e6), 1)
    for v, t in PEER.items():
        if runs.get(v, {}).get("status") != "ok" or runs.get(t, {}).get("status") != "ok":
            continue
        rv, rt = runs[v], runs[t]
        rv["testpmd_peer"] = t
        rv["ratio_to_testpmd"] = round(rv["tx_mpps"] / rt["tx_mpps"], 3)
        if rv["cycles_per_packet"] is not None and rt["cycles_per_packet"] is not None:
            rv["cycles_above_testpmd"] = round(rv["cycles_per_packet"] - rt["cycles_per_packet"], 1)
        if rv.get("wall_cycles_per_packet") and rt.get("wall_cycles_per_packet"):
            rv["wall_cycles_above_testpmd"] = round(rv["wall_cycles_per_packet"]
                                                    - rt["wall_cycles_per_packet"], 1)
    for name, want in EXPECT_STEERING.items():
        for n in (name, name + "-stages"):
            r = runs.get(n)
            if r and r.get("status") == "ok":
                modes = [s["mode"] for s in r["steering"]]
                r["steering_as_expected"] = all(m == want for m in modes)


def print_table(doc):
    print(f"\ninput: {', '.join(doc['input']['devices'])}; {doc['seconds_per_run']} s a run "
          f"after {doc['warmup']} s; CPUs {doc['cpus']}; load {doc['machine']['loadavg_at_end']}")
    print(f"{'run':22s} {'Mpps fwd':>9s} {'x testpmd':>9s} {'cyc/pkt':>8s} {'above tp':>8s} "
          f"{'wall cyc':>8s} {'above tp':>8s} "
          f"{'steering':>9s}  per worker: cyc/pkt processed, Mpkt received/processed, "
          "flows created, handoff out/in/lost")

    def f(v, fmt):
        return format(v, fmt) if v is not None else "-"
    for name, r in doc["runs"].items():
        if r["status"] != "ok":
            print(f"{name:22s} {r['status']}: {r['reason'].splitlines()[0]}")
            continue
        steer = ",".join(sorted({s["mode"] for s in r.get("steering", [])})) or "-"
        ws = "; ".join(f"w{w['id']} {f(w['cycles_per_packet'], '.1f')}, "
                       f"{w['packets_received'] / 1e6:.1f}/{w['packets_processed'] / 1e6:.1f}, "
                       f"{w['flows_created']}, "
                       f"{w['handoff']['out']}/{w['handoff']['in']}/{w['handoff']['lost']}"
                       for w in r.get("workers_detail", []))
        print(f"{name:22s} {r['tx_mpps']:9.2f} {f(r.get('ratio_to_testpmd'), '9.2f')} "
              f"{f(r['cycles_per_packet'], '8.1f')} {f(r.get('cycles_above_testpmd'), '8.1f')} "
              f"{f(r.get('wall_cycles_per_packet'), '8.1f')} "
              f"{f(r.get('wall_cycles_above_testpmd'), '8.1f')} "
              f"{steer:>9s}  {ws}")
    for name, r in doc["runs"].items():
        for w in r.get("workers_detail", []):
            if w.get("stage_cycles_per_packet"):
                st = w["stage_cycles_per_packet"]
                print(f"  {name} w{w['id']} cycles/packet processed by stage: " + ", ".join(
                    f"{k} {v:.1f}" for k, v in st.items() if v or k == "total")
                    + (f"; dispatch per packet received {w['dispatch_cycles_per_received_packet']}"
                       if st.get("dispatch") else ""))
    for m in doc["memory"]:
        if "error" in m:
            print(f"  memory, {m['workers']} workers: {m['error'].splitlines()[0]}")
            continue
        print(f"  memory, {m['workers']} workers: flow tables {m['flow_table_mib_per_worker']} "
              f"MiB ({m['flow_table_mib_total']} MiB in all, {m['flow_table_bytes_per_flow']} "
              f"bytes x {m['flows_max_per_worker']} flows a worker), DPDK heap in use "
              f"{m['dpdk_heap_in_use_mib']} MiB, mbuf pool {m['mbuf_pool_mib']} MiB")


def find_synth_pmd(explicit):
    for b in [explicit, os.environ.get("VG_SYNTH_PMD", ""),
              os.path.join(ROOT, "build", "tools", "synth", "librte_net_vgsynth.so")]:
        if b and os.path.exists(b):
            return os.path.abspath(b)
    raise BenchError("net_vgsynth not built (ninja -C build tools/synth/librte_net_vgsynth.so),"
                     " or give --synth-pmd")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--vigild", default=os.path.join(ROOT, "build", "app", "vigild"))
    ap.add_argument("--testpmd", default="dpdk-testpmd")
    ap.add_argument("--synth-pmd", dest="synth_pmd")
    ap.add_argument("--synth", default="flows=10k,order=shuffle,proto=udp,dir=fwd",
                    help="devargs of both net_vgsynth ports")
    ap.add_argument("--synth1", default="dport=10,seed=2",
                    help="devargs added for net_vgsynth1 (other flows on the second port)")
    ap.add_argument("--runs", default=",".join(RUNS), help="which of " + ", ".join(RUNS))
    ap.add_argument("--memory-workers", default="1,2,4",
                    help="worker counts of the memory readings ('' for none)")
    ap.add_argument("--cpus", default="0,1", help="the two CPUs")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--flows-max", dest="flows_max", default="256k", help="flows.max a worker")
    ap.add_argument("--no-huge", dest="no_huge", action="store_true")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    args.cpus = [int(c) for c in args.cpus.split(",")]
    if len(args.cpus) != 2:
        ap.error("--cpus: two CPUs")
    names = [n for n in args.runs.split(",") if n]
    for n in names:
        if n not in RUNS:
            ap.error(f"--runs: unknown run {n} (known: {', '.join(RUNS)})")
    mem_workers = [int(x) for x in args.memory_workers.split(",") if x]
    args.synth_pmd = find_synth_pmd(args.synth_pmd)
    if any(RUNS[n][0] == "testpmd" for n in names) and not shutil.which(args.testpmd):
        raise BenchError(f"{args.testpmd} not found (apt-get install dpdk)")
    if not os.access(args.vigild, os.X_OK):
        raise BenchError(f"{args.vigild} not built (ninja -C build app/vigild)")
    args.vigild = os.path.abspath(args.vigild)

    work = tempfile.mkdtemp(prefix="vigil-bench-scaling-")
    ctx = Ctx(args, work)
    doc = {"benchmark": "scaling", "command": " ".join(sys.argv),
           "machine": benchlib.machine(), "cpus": args.cpus,
           "input": {"devices": ctx.devs, "synth_pmd": args.synth_pmd,
                     "flows_max_per_worker": args.flows_max, "eal_memory": ctx.memory},
           "seconds_per_run": args.seconds, "warmup": args.warmup, "runs": {}, "memory": [],
           "work_dir": work}
    for n in names:
        prog, cores, queues, sym_key, stages = RUNS[n]
        print(f"{n} ...", flush=True)
        try:
            if prog == "testpmd":
                r = testpmd_run(ctx, n, cores, queues, work)
            else:
                r = vigild_run(ctx, n, cores, sym_key, stages, work)
            r["status"] = "ok"
        except BenchError as e:
            r = {"status": "failed", "reason": str(e)}
        doc["runs"][n] = r
    for w in mem_workers:
        print(f"memory, {w} workers ...", flush=True)
        try:
            doc["memory"].append(memory_run(ctx, w, work))
        except BenchError as e:
            doc["memory"].append({"workers": w, "error": str(e)})
    compare(doc)
    doc["machine"]["loadavg_at_end"] = benchlib.loadavg()
    print_table(doc)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    failed = [n for n, r in doc["runs"].items() if r["status"] != "ok"]
    failed += [f"memory-{m['workers']}w" for m in doc["memory"] if "error" in m]
    for n, r in doc["runs"].items():
        if r.get("steering_as_expected") is False:
            failed.append(f"{n} (steering {[s['mode'] for s in r['steering']]})")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"scaling.py: {e}", file=sys.stderr)
        sys.exit(2)
