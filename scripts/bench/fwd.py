#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""testpmd-style forwarding benchmark: one capture replayed by net_pcap (infinite_rx=1) into
net_null, through dpdk-testpmd --forward-mode=io (the I/O ceiling) and through vigild, on the
same vdevs and the same two lcores (main/control on the first, the forwarding core or worker on
the second). Runs alternate (testpmd, vigild, testpmd, ...); each run lasts --seconds and the
rate is the median of its per-second Tx samples after a warm-up. Prints a table and writes
JSON. Not a test: it passes or fails on nothing but errors.

  scripts/bench/fwd.py --pcap FILE [--seconds 10] [--repeat 3] [--json out.json]
                       [--vigild build/app/vigild] [--flows-max N] [--label TEXT]
"""
import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

WARMUP_SAMPLES = 2


def pcap_packets(path):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "tests", "lib"))
    import pcapfile
    return len(pcapfile.read(path)[1])


def run_timed(cmd, seconds, env=None):
    """Start cmd, stop it with SIGINT after `seconds` (plus start-up), return its output."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, start_new_session=True)
    time.sleep(seconds)
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise RuntimeError(f"{cmd[0]} did not stop after SIGINT")
    return proc.returncode, out


def eal_memory_args(args, mbufs):
    need_mb = mbufs * (args.data_room + 320) // (1 << 20) + 256
    if not args.no_huge and benchlib.hugepages_free_mb() >= need_mb:
        return ["--huge-unlink"], f"hugepages ({need_mb} MiB needed)"
    return ["--no-huge", "-m", str(max(need_mb, 1024))], f"--no-huge -m {max(need_mb, 1024)}"


def testpmd_run(args, mbufs, prefix):
    mem, _ = eal_memory_args(args, mbufs)
    cmd = [args.testpmd, "-l", "0,1", "--main-lcore", "0", "--no-pci", "--file-prefix", prefix,
           *mem, "--vdev", f"net_pcap0,rx_pcap={args.pcap},infinite_rx=1",
           "--vdev", "net_null0,no-rx=1", "--log-level=lib.eal:error", "--",
           "--forward-mode=io", "--nb-cores=1", "--rxq=1", "--txq=1", "--record-core-cycles",
           f"--total-num-mbufs={mbufs}", f"--mbuf-size={args.data_room}",
           "--stats-period", "1", "--no-lsc-interrupt"]
    rc, out = run_timed(cmd, args.seconds + 2)
    benchlib.remove_runtime_dir(prefix)
    # Per-second "Tx-pps" of port 1 (net_null): every second block lists port 0 then port 1.
    tx = [int(x) for x in re.findall(r"Tx-pps:\s+(\d+)", out)][1::2]
    samples = [x for x in tx if x > 0][WARMUP_SAMPLES:]
    m = re.search(r"CPU cycles/packet=([\d.]+)", out)
    if not samples:
        raise RuntimeError("testpmd gave no rate samples:\n" + out[-3000:])
    return {"mpps": statistics.median(samples) / 1e6, "samples": len(samples),
            "cycles_per_packet": float(m.group(1)) if m else None}


def vigild_run(args, mbufs, prefix, workdir):
    cfg = {
        "eal": {"file_prefix": prefix, "hugepages": "off" if args.no_huge else "auto",
                "no_huge_memory": f"{max(mbufs * (args.data_room + 320) // (1 << 20) + 512, 1024)}M",
                "args": ["--log-level=lib.eal:error"]},
        "lcores": {"control": 0, "workers": [1]},
        "ports": [{"name": "in", "device": f"net_pcap0,rx_pcap={args.pcap},infinite_rx=1"},
                  {"name": "out", "device": "net_null0,no-rx=1"}],
        "pairs": [["in", "out"]],
        "mempool": {"mbufs": mbufs, "data_room": args.data_room},
        "flows": {"max": args.flows_max},
        "log": {"level": "info"},
    }
    cfg_path = os.path.join(workdir, "vigil.yaml")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    stats = os.path.join(workdir, "stats.json")
    rc, out = run_timed([args.vigild, "-c", cfg_path, "--stats", "1", "--stats-json", stats],
                        args.seconds + 2)
    if rc != 0:
        raise RuntimeError(f"vigild exited {rc}:\n" + out[-3000:])
    tx = [int(x) for x in re.findall(r"port out\s+rx\s+\d+ pps tx\s+(\d+) pps", out)]
    samples = [x for x in tx if x > 0][WARMUP_SAMPLES:]
    with open(stats) as f:
        st = json.load(f)
    w = st["workers"][0]
    rx = st["ports"][0]["rx_packets"]
    if not samples:
        raise RuntimeError("vigild gave no rate samples:\n" + out[-3000:])
    return {"mpps": statistics.median(samples) / 1e6, "samples": len(samples),
            "cycles_per_packet": w["busy_cycles"] / rx if rx else None,
            "flows_created": st["flows"]["created"], "flows_active_at_end": None,
            "flow_table_bytes": st["flows"]["memory_bytes"],
            "tx_full": st["ports"][1]["tx_full"]}


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--vigild", default=os.path.join(root, "build", "app", "vigild"))
    ap.add_argument("--testpmd", default="dpdk-testpmd")
    ap.add_argument("--flows-max", default="256k", help="vigild flows.max (per worker)")
    ap.add_argument("--data-room", type=int, default=2176, help="mbuf data room, both programs")
    ap.add_argument("--no-huge", action="store_true")
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    args.pcap = os.path.abspath(args.pcap)

    pkts = pcap_packets(args.pcap)
    # infinite_rx keeps every packet of the capture in an mbuf, plus rings and bursts in flight.
    mbufs = 1 << max(14, (pkts + 16384).bit_length())
    mbufs -= 1
    _, memory = eal_memory_args(args, mbufs)
    prefix = f"vgbench{os.getpid()}"
    results = {"testpmd": [], "vigild": []}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as work:
        for i in range(args.repeat):
            for name in ("testpmd", "vigild"):
                r = (testpmd_run(args, mbufs, prefix + name[0]) if name == "testpmd"
                     else vigild_run(args, mbufs, prefix + name[0], work))
                results[name].append(r)
                print(f"run {i + 1}/{args.repeat} {name:8s} {r['mpps']:8.2f} Mpps"
                      + (f"  {r['cycles_per_packet']:.1f} cycles/packet"
                         if r["cycles_per_packet"] else ""), flush=True)

    def summary(runs):
        return {"median_mpps": statistics.median(r["mpps"] for r in runs),
                "median_cycles_per_packet": statistics.median(
                    r["cycles_per_packet"] for r in runs if r["cycles_per_packet"]),
                "runs": runs}

    doc = {
        "benchmark": "forwarding",
        "label": args.label,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": {"cpu": benchlib.cpu_model(), "cores": os.cpu_count(),
                    "kernel": platform.release(), "memory": memory},
        "input": {"pcap": args.pcap, "packets": pkts, "mbufs": mbufs,
                  "data_room": args.data_room},
        "seconds_per_run": args.seconds,
        "testpmd": summary(results["testpmd"]),
        "vigild": summary(results["vigild"]),
    }
    doc["ratio_to_testpmd"] = doc["vigild"]["median_mpps"] / doc["testpmd"]["median_mpps"]
    print(f"\n{'':10s} {'Mpps':>8s} {'cycles/pkt':>11s}")
    for name in ("testpmd", "vigild"):
        s = doc[name]
        print(f"{name:10s} {s['median_mpps']:8.2f} {s['median_cycles_per_packet']:11.1f}")
    print(f"vigild / testpmd = {doc['ratio_to_testpmd']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
