#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Sweep one dimension of the benchmark through every peer (run.py's scenario runner, one
scenario per point) and write DIR/<sweep>.json and a plot DIR/<sweep>.png.

  rules       policy size: N rules, N-1 drop rules that the traffic never matches, then the
              allow rule it does (10 to 100k); 64-byte packets, 100k established flows
  flows       active flows (1k to 1M), 64-byte midstream TCP, 1 packet a flow
  newflows    share of new flows: full TCP sessions (SYN ... FIN, ACK) of K packets each, so
              one packet in K opens a flow (about 140k packets a capture); reported as new
              flows per second too
  signatures  signature count (0 to 10k) against IMIX UDP traffic of which 1% carries a pattern
  sizes       frame size: 64, 128, 256, 512, 1024, 1500 and IMIX, 10k flows

  scripts/bench/sweep.py SWEEP [--points 10,100,1k] [--seconds 10] [--repeat 3]
                         [--peers testpmd,vigild,l3fwd,ovs] [--out DIR] [run.py options]

Each point runs the peers alternately, --repeat times, as run.py does. The JSON holds every
point's full result document; the plot shows Mpps per peer, the ratio to testpmd, and
vigild's memory figures (flow table, and ACL and Hyperscan when vigild reports them).
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import policy_xlate  # noqa: E402
import run  # noqa: E402
from benchlib import BenchError  # noqa: E402

SWEEPS = {
    "rules": ["10", "100", "1k", "10k", "50k", "100k"],
    "flows": ["1k", "10k", "100k", "1M"],
    "newflows": ["7", "10", "20", "100"],
    "signatures": ["0", "10", "100", "1k", "10k"],
    "sizes": ["64", "128", "256", "512", "1024", "1500", "imix"],
}
XLABEL = {"rules": "policy rules", "flows": "active flows", "newflows": "packets per flow "
          "(one new flow per K packets)", "signatures": "signatures",
          "sizes": "frame size (bytes)"}


def write_rules_policy(path, n):
    """N rules: N-1 drops from distinct /32 sources in 172.16.0.0/12 (which vg-pktgen never
    uses) to random server ports, so none of them matches, then the allow rule that does.
    The seed is fixed: the same N writes the same file."""
    rng = random.Random(n)
    srcs = rng.sample(range(1 << 20), n - 1) if n > 1 else []
    with open(path, "w") as f:
        f.write(f"# {n} rules for the rules sweep (scripts/bench/sweep.py); generated.\n"
                "version: 1\ndefault: drop\nrules:\n")
        for i, s in enumerate(srcs):
            a = (172 << 24) | (16 << 16) | s
            f.write(f"  - name: d{i}\n    proto: tcp\n"
                    f"    from: {a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}\n"
                    f"    dport: {1024 + rng.randrange(60000)}\n    action: drop\n")
        # Both directions in one rule, so that l3fwd needs no mirrored line for the replies
        # and N rules stay N ACL entries (l3fwd holds at most 100000).
        f.write("  - name: bench-traffic\n    proto: tcp\n"
                "    from: [10.0.0.0/8, 192.168.0.0/16]\n"
                "    to: [10.0.0.0/8, 192.168.0.0/16]\n    action: allow\n")


def write_signatures(path, n, patterns):
    """N Suricata rules: the first ones carry the patterns that 1% of the IMIX flows hold, the
    others random 12-byte contents that no packet holds (vg-pktgen scrubs its filler only of
    the given patterns; 12 random bytes occur by chance with negligible probability)."""
    rng = random.Random(n)
    with open(path, "w") as f:
        for i in range(n):
            if i < len(patterns):
                content = patterns[i]
            else:
                content = "|" + " ".join(f"{rng.randrange(256):02x}" for _ in range(12)) + "|"
            f.write(f'alert udp any any -> any any (msg:"bench {i}"; content:"{content}"; '
                    f"sid:{1000000 + i}; rev:1;)\n")


PATTERNS = ["/etc/passwd", "cmd.exe", "|90 90 90 90 90 90 90 90|", "<script>alert(",
            "union select"]


def point_params(sweep, value, work, args):
    """run.py parameters for one point of a sweep."""
    gen = None
    extra = {}
    if sweep == "rules":
        n = benchlib.parse_count(value)
        pol = os.path.join(work, f"rules-{n}.yaml")
        write_rules_policy(pol, n)
        gen = ["--flows", "100k", "--per-flow", "2", "--tcp-mode", "midstream", "--size", "64"]
        extra = {"policy": pol, "flows_max": "256k"}
    elif sweep == "flows":
        n = benchlib.parse_count(value)
        # One packet a flow: every packet looks up a different flow, the worst case for the
        # table, and the 1M capture stays at 1M mbufs.
        gen = ["--flows", value, "--per-flow", "1", "--tcp-mode", "midstream", "--size", "64"]
        extra = {"flows_max": str(max(n * 2, 262144))}
    elif sweep == "newflows":
        k = int(value)
        if k < 7:
            raise BenchError("newflows: a TCP session has at least 7 packets")
        # About 140k packets at every point (20k sessions of 7 ... 1400 of 100), so that every
        # peer's pool holds the capture.
        gen = ["--flows", str(max(140000 // k, 100)), "--per-flow", str(k), "--tcp-mode",
               "handshake", "--order", "shuffle", "--size", "64"]
    elif sweep == "signatures":
        n = benchlib.parse_count(value)
        pat = os.path.join(work, "patterns.txt")
        with open(pat, "w") as f:
            f.write("\n".join(PATTERNS) + "\n")
        # UDP: every datagram is scanned on every pass of the capture. Replayed TCP segments
        # are retransmissions to vigild's stream tracker after the first pass, and skipped.
        gen = ["--flows", "10k", "--per-flow", "4", "--proto", "udp", "--size", "imix",
               "--match-share", "0.01", "--match-file", pat]
        if n:
            sig = os.path.join(work, f"sigs-{n}.rules")
            write_signatures(sig, n, PATTERNS)
            extra = {"signatures": sig}
    elif sweep == "sizes":
        gen = ["--flows", "10k", "--per-flow", "2", "--tcp-mode", "midstream", "--size", value]
    return gen, extra


def run_point(sweep, value, work, args):
    gen, extra = point_params(sweep, value, work, args)
    argv = ["--name", f"{sweep}-{value}", "--seconds", str(args.seconds), "--repeat",
            str(args.repeat), "--warmup", str(args.warmup), "--peers", args.peers,
            "--vigild", args.vigild, "--cores", args.cores, "--data-dir", args.data_dir]
    if args.no_huge:
        argv.append("--no-huge")
    for k in ("policy", "signatures", "flows_max"):
        if k in extra:
            argv += [f"--{k.replace('_', '-')}", extra[k]]
    if args.vg_pktgen:
        argv += ["--vg-pktgen", args.vg_pktgen]
    rargs = run.make_parser().parse_args(argv)
    p = run.params_from(rargs, gen)
    return run.run_scenario(p)


def xvalue(sweep, v):
    if sweep == "sizes":
        return v
    return benchlib.parse_count(v)


def plot(doc, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sweep = doc["sweep"]
    pts = doc["points"]
    labels = [p["value"] for p in pts]
    categorical = sweep == "sizes"
    xs = list(range(len(pts))) if categorical else [xvalue(sweep, v) for v in labels]
    mem = sorted({k for p in pts for k in p["vigild_memory"]})
    fig, axes = plt.subplots(3 if mem else 2, 1, figsize=(8, 10 if mem else 7), sharex=True)
    ax_rate, ax_ratio = axes[0], axes[1]
    colors = {"testpmd": "C0", "vigild": "C1", "l3fwd": "C2", "ovs": "C3"}
    for peer in doc["peers"]:
        notes = sorted({n for p in pts for r in p["result"]["peers"].get(peer, {})
                        .get("runs", []) for n in r.get("notes", [])})
        label = peer + (" (" + "; ".join(n.split(":")[0] for n in notes) + ")" if notes else "")
        style = {"marker": "o", "label": label, "color": colors.get(peer)}
        ys = [p["result"]["peers"].get(peer, {}).get("median_rx_mpps") for p in pts]
        rs = [p["result"]["peers"].get(peer, {}).get("ratio_to_testpmd") for p in pts]
        pts_ok = [(x, y) for x, y in zip(xs, ys) if y is not None]
        if pts_ok:
            ax_rate.plot(*zip(*pts_ok), **style)
        pts_ok = [(x, r) for x, r in zip(xs, rs) if r is not None]
        if pts_ok and peer != "testpmd":
            ax_ratio.plot(*zip(*pts_ok), **style)
    ax_rate.set_ylabel("Mpps (median, packets in)")
    ax_rate.set_title(f"{sweep} sweep: {doc['machine']['cpu']}, 1 worker core, "
                      f"load {doc['machine']['loadavg_at_start'][0]:.1f}")
    ax_rate.legend(fontsize="small")
    ax_ratio.set_ylabel("ratio to testpmd io")
    ax_ratio.legend(fontsize="small")
    if mem:
        ax_mem = axes[2]
        for k in mem:
            ys = [p["vigild_memory"].get(k) for p in pts]
            scale = 1 if k.endswith("_mib") else 1 << 20
            pts_ok = [(x, y / scale) for x, y in zip(xs, ys) if y is not None]
            if pts_ok:
                ax_mem.plot(*zip(*pts_ok), marker="o", label=k)
        ax_mem.set_ylabel("vigild memory (MiB)")
        ax_mem.legend(fontsize="small")
    for ax in axes:
        ax.grid(True, alpha=0.3)
        if not categorical and len(xs) > 1 and max(xs) / max(min(xs), 1) >= 100:
            # symlog keeps a point at 0 (no signatures) on the axis.
            if min(xs) <= 0:
                ax.set_xscale("symlog", linthresh=1)
            else:
                ax.set_xscale("log")
    axes[-1].set_xlabel(XLABEL[sweep])
    if categorical:
        axes[-1].set_xticks(xs)
        axes[-1].set_xticklabels(labels)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep", choices=sorted(SWEEPS))
    ap.add_argument("--points", help="comma-separated values (default: the sweep's own)")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peers", default="testpmd,vigild,l3fwd,ovs")
    ap.add_argument("--cores", default="0,1")
    ap.add_argument("--out", default="bench-results", help="output directory")
    ap.add_argument("--vigild", default=os.path.join(benchlib.ROOT, "build", "app", "vigild"))
    ap.add_argument("--vg-pktgen", dest="vg_pktgen")
    ap.add_argument("--data-dir", dest="data_dir",
                    default=os.environ.get("VG_BENCH_DATA", "/var/tmp/vigil-bench"))
    ap.add_argument("--no-huge", dest="no_huge", action="store_true")
    args = ap.parse_args()
    points = args.points.split(",") if args.points else SWEEPS[args.sweep]
    os.makedirs(args.out, exist_ok=True)
    work = os.path.join(args.data_dir, f"sweep-{args.sweep}")
    os.makedirs(work, exist_ok=True)
    doc = {"benchmark": "sweep", "sweep": args.sweep, "command": " ".join(sys.argv),
           "machine": benchlib.machine(), "peers": args.peers.split(","), "points": []}
    failed = False
    try:
        for v in points:
            print(f"== {args.sweep} = {v}", flush=True)
            res = run_point(args.sweep, v, work, args)
            run.print_table(res)
            point = {"value": v, "result": res,
                     "vigild_memory": {}}
            vr = res["peers"].get("vigild", {})
            if vr.get("runs"):
                point["vigild_memory"] = vr["runs"][-1].get("memory", {})
            if args.sweep == "newflows":
                flows = res["input"]["packets"] / int(v)
                for s in res["peers"].values():
                    if s.get("median_rx_mpps"):
                        s["new_flows_per_second"] = s["median_rx_mpps"] * 1e6 / int(v)
                point["flows_in_capture"] = flows
            doc["points"].append(point)
    except (BenchError, policy_xlate.XlateError, OSError, ValueError, KeyError) as e:
        print(f"sweep: {e}", file=sys.stderr)
        failed = True
        if not doc["points"]:
            return 1
        print("sweep: writing the points measured so far", file=sys.stderr)
    doc["machine"]["loadavg_at_end"] = benchlib.loadavg()
    js = os.path.join(args.out, f"{args.sweep}.json")
    with open(js, "w") as f:
        json.dump(doc, f, indent=1)
    png = os.path.join(args.out, f"{args.sweep}.png")
    plot(doc, png)
    print(f"wrote {js} and {png}")
    failed = failed or any(s["status"] == "failed" for p in doc["points"]
                           for s in p["result"]["peers"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
