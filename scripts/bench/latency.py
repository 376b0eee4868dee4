#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Per-packet latency through vigild, against dpdk-testpmd --forward-mode=io on the same path.

vg-latprobe (scripts/bench/latency/) replays a capture into a memif pair and receives it back:
probe port 0 -> memif -> the device under test's "in" port, forwarded to its "out" port ->
memif -> probe port 1. Each frame carries a TSC timestamp in a 16-byte trailer after its IP
packet, so the latency is the whole round: two memif hops, the forwarding program, and the
probe's own polling. testpmd io on the same memif pair measures everything but vigild's work;
the difference of the two at the same offered rate is what vigild adds.

First each program's maximum rate through this path is measured (the probe sends as fast as
the ring takes packets); then both are measured at 10%, 50% and 90% of vigild's maximum
(the same offered load for both), alternating, --repeat times; the result is the median of
each percentile over the repeats. JSON and a plot (latency percentiles against offered load).

  scripts/bench/latency.py [--pcap FILE | --scenario FILE] [--seconds 5] [--repeat 3]
                           [--loads 10,50,90] [--out DIR] [--vigild PATH]

Limits (docs/BENCHMARKS-method.md): memif needs hugepages in both processes; the probe polls on
the main lcore, next to vigild's control thread (this machine has two cores); frames grow by the
16-byte trailer; latencies include memif copies on both sides, so they are an upper bound of a
NIC-to-NIC figure and meaningful as a difference to testpmd.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import run  # noqa: E402
from benchlib import BenchError, Proc, Skip  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PERCENTILES = ("p50", "p99", "p99_9")
# What each program prints once its forwarding loop runs.
READY = {"testpmd": "packet forwarding - ports=", "vigild": "forwarding; SIGINT"}


def memif_devs(sock, role):
    return [f"net_memif0,role={role},socket={sock},socket-abstract=no,id=0",
            f"net_memif1,role={role},socket={sock},socket-abstract=no,id=1"]


class LatencyRun:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.main, self.worker = (int(c) for c in args.cores.split(","))
        if not shutil.which(args.testpmd):
            raise Skip(f"{args.testpmd} not found (apt-get install dpdk)")
        if not os.access(args.vigild, os.X_OK):
            raise Skip(f"{args.vigild} not built")
        p = subprocess.run([os.path.join(HERE, "latency", "build.sh")], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise BenchError("vg-latprobe does not build:\n" + p.stderr)
        self.probe = p.stdout.strip().splitlines()[-1]
        # memif does not connect without hugepages (measured: no packet passes with --no-huge).
        if benchlib.hugepages_free_mb() < 256:
            raise Skip("memif needs hugepages in both processes and fewer than 256 MiB are "
                       "free (scripts/hugepages/setup.sh)")
        self.n = 0

    def _peer(self, name, sock, run_dir):
        prefix = f"vgbl{os.getpid()}{name[0]}"
        devs = memif_devs(sock, "server")
        if name == "testpmd":
            cmd = [shutil.which(self.args.testpmd), "-l", f"{self.main},{self.worker}",
                   "--main-lcore", str(self.main), "--no-pci", "--file-prefix", prefix,
                   "--huge-unlink", "--vdev", devs[0], "--vdev", devs[1],
                   "--log-level=lib.eal:error", "--", "--forward-mode=io", "--nb-cores=1",
                   "--total-num-mbufs=16383", "--stats-period", "1"]
        else:
            cfg = {"eal": {"file_prefix": prefix, "hugepages": "on",
                           "args": ["--log-level=lib.eal:error"]},
                   "lcores": {"control": self.main, "workers": [self.worker]},
                   "ports": [{"name": "in", "device": devs[0]},
                             {"name": "out", "device": devs[1]}],
                   "pairs": [["in", "out"]], "mempool": {"mbufs": 16383},
                   "dataplane": {"idle_sleep_us": 0}, "log": {"level": "info"}}
            if self.args.policy:
                cfg["policy"] = {"file": os.path.abspath(self.args.policy)}
            path = os.path.join(run_dir, "vigil.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            cmd = [self.args.vigild, "-c", path]
        return Proc(cmd, name, log=os.path.join(run_dir, f"{name}.log")), prefix

    def measure(self, name, rate):
        """One run: a fresh peer, the probe at `rate` packets/s (0: as fast as it can)."""
        self.n += 1
        run_dir = os.path.join(self.work, f"{self.n}-{name}-{int(rate)}")
        os.makedirs(run_dir)
        sock = os.path.join(run_dir, "memif.sock")
        peer, prefix = self._peer(name, sock, run_dir)
        probe_prefix = f"vgbl{os.getpid()}p"
        try:
            # The socket exists from the vdev's probe on, but the peer polls its ports only
            # once it says so: connecting earlier can leave the probe talking to nobody.
            ready = READY[name]
            deadline = time.monotonic() + 60
            while not (os.path.exists(sock) and ready in peer.output()):
                if not peer.alive():
                    raise BenchError(f"{name} exited at start:\n{peer.tail()}")
                if time.monotonic() > deadline:
                    raise BenchError(f"{name} did not start forwarding within 60 s:\n"
                                     + peer.tail())
                time.sleep(0.1)
            cmd = [self.probe, "-l", str(self.main), "--no-pci", "--file-prefix", probe_prefix,
                   "--huge-unlink", "--log-level=lib.eal:error"]
            for d in memif_devs(sock, "client"):
                cmd += ["--vdev", d]
            cmd += ["--", "--pcap", self.args.pcap, "--rate", str(int(rate)), "--seconds",
                    str(self.args.seconds), "--warmup", str(self.args.warmup)]
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=self.args.seconds + self.args.warmup + 60)
            line = [x for x in p.stdout.splitlines() if x.startswith("{")]
            if p.returncode != 0 or not line:
                raise BenchError(f"vg-latprobe through {name} at {rate:.0f} pps: "
                                 f"{p.stderr.strip()}\n{peer.tail()}")
            r = json.loads(line[-1])
        finally:
            peer.stop()
            for pf in (prefix, probe_prefix):
                benchlib.remove_runtime_dir(pf)
                benchlib.remove_hugepage_files(pf)
        r["loadavg"] = benchlib.loadavg()
        lat = r["latency_ns"]
        print(f"{name:8s} offered {rate / 1e6:6.3f} Mpps got {r['rx_pps'] / 1e6:6.3f} Mpps  "
              f"p50 {lat['p50'] / 1e3:8.1f} us  p99 {lat['p99'] / 1e3:8.1f} us  "
              f"p99.9 {lat['p99_9'] / 1e3:8.1f} us", flush=True)
        return r


def plot(doc, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"p50": "-", "p99": "--", "p99_9": ":"}
    colors = {"testpmd": "C0", "vigild": "C1"}
    for peer, rows in doc["loads"].items():
        xs = [r["offered_mpps"] for r in rows]
        for p in PERCENTILES:
            ys = [r["median_latency_us"][p] for r in rows]
            ax.plot(xs, ys, styles[p], marker="o", color=colors.get(peer),
                    label=f"{peer} {p.replace('_', '.')}")
    ax.set_yscale("log")
    ax.set_xlabel("offered load (Mpps)")
    ax.set_ylabel("latency, probe -> memif -> program -> memif -> probe (us)")
    ax.set_title(f"latency: {doc['machine']['cpu']}, load "
                 f"{doc['machine']['loadavg_at_start'][0]:.1f}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcap")
    ap.add_argument("--scenario", help="take the capture (and policy) from a scenario file")
    ap.add_argument("--policy")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--loads", default="10,50,90", help="percent of vigild's maximum")
    ap.add_argument("--cores", default="0,1")
    ap.add_argument("--out", default="bench-results")
    ap.add_argument("--vigild", default=os.path.join(benchlib.ROOT, "build", "app", "vigild"))
    ap.add_argument("--testpmd", default="dpdk-testpmd")
    ap.add_argument("--data-dir", dest="data_dir",
                    default=os.environ.get("VG_BENCH_DATA", "/var/tmp/vigil-bench"))
    ap.add_argument("--json", help="result file (default OUT/latency.json)")
    args = ap.parse_args()
    if args.scenario and not args.pcap:
        sc = run.load_scenario(args.scenario)
        args.pcap = sc.get("pcap") or run.generate_pcap(sc["generate"], args.data_dir,
                                                        run.find_pktgen(None))
        args.policy = args.policy or sc.get("policy")
    if not args.pcap:
        gen = ["--flows", "1k", "--per-flow", "4", "--tcp-mode", "midstream", "--size", "64"]
        args.pcap = run.generate_pcap(gen, args.data_dir, run.find_pktgen(None))
    args.pcap = os.path.abspath(args.pcap)
    loads = [float(x) for x in args.loads.split(",")]
    doc = {"benchmark": "latency", "command": " ".join(sys.argv),
           "machine": benchlib.machine(), "input": {"pcap": args.pcap, "policy": args.policy,
                                                    **benchlib.pcap_info(args.pcap)},
           "path": "vg-latprobe -> net_memif -> program (in -> out) -> net_memif -> vg-latprobe",
           "cores": args.cores, "seconds_per_run": args.seconds, "repeat": args.repeat}
    work = tempfile.mkdtemp(prefix="vigil-latency-")
    try:
        lr = LatencyRun(args, work)
        maxima = {}
        for name in ("vigild", "testpmd"):
            rs = [lr.measure(name, 0) for _ in range(args.repeat)]
            maxima[name] = {"median_mpps": statistics.median(r["rx_pps"] for r in rs) / 1e6,
                            "runs": rs}
        doc["maximum"] = maxima
        base = maxima["vigild"]["median_mpps"] * 1e6
        runs = {n: {pct: [] for pct in loads} for n in ("vigild", "testpmd")}
        for _ in range(args.repeat):
            for pct in loads:
                for name in ("vigild", "testpmd"):
                    runs[name][pct].append(lr.measure(name, base * pct / 100))
        doc["loads"] = {}
        for name in ("vigild", "testpmd"):
            rows = []
            for pct in loads:
                rs = runs[name][pct]
                rows.append({
                    "percent_of_vigild_max": pct, "offered_mpps": base * pct / 100 / 1e6,
                    "median_received_mpps": statistics.median(r["rx_pps"] for r in rs) / 1e6,
                    "median_latency_us": {p: statistics.median(r["latency_ns"][p] for r in rs)
                                          / 1e3 for p in PERCENTILES + ("mean", "max")},
                    "runs": rs})
            doc["loads"][name] = rows
        doc["added_by_vigild_us"] = [
            {"percent_of_vigild_max": v["percent_of_vigild_max"],
             **{p: v["median_latency_us"][p] - t["median_latency_us"][p] for p in PERCENTILES}}
            for v, t in zip(doc["loads"]["vigild"], doc["loads"]["testpmd"])]
    except Skip as e:
        print(f"latency: skipped: {e}", file=sys.stderr)
        return 77
    except BenchError as e:
        print(f"latency: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc["machine"]["loadavg_at_end"] = benchlib.loadavg()
    os.makedirs(args.out, exist_ok=True)
    js = args.json or os.path.join(args.out, "latency.json")
    with open(js, "w") as f:
        json.dump(doc, f, indent=1)
    png = os.path.splitext(js)[0] + ".png"
    plot(doc, png)
    print(f"\n{'load':>6s} {'vigild p50/p99/p99.9 (us)':>28s} {'testpmd p50/p99/p99.9 (us)':>28s}")
    for v, t in zip(doc["loads"]["vigild"], doc["loads"]["testpmd"]):
        fv = "/".join(f"{v['median_latency_us'][p]:.1f}" for p in PERCENTILES)
        ft = "/".join(f"{t['median_latency_us'][p]:.1f}" for p in PERCENTILES)
        print(f"{v['percent_of_vigild_max']:5.0f}% {fv:>28s} {ft:>28s}")
    print(f"wrote {js} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
