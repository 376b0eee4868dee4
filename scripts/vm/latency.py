#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The round trip through vigild against dpdk-testpmd (io forwarding) in the same spot of a VM
scenario (docs/VM.md, "What vigild adds to the round trip"). run-guest.sh and run-vhost.sh
--compare R call it:

  latency.py warm DST PORT SECONDS
      (in the sending namespace) UDP datagrams to the echo server on DST:PORT every 0.5 s until
      one comes back: the new program forwards and ARP is resolved both ways. Exit 1 if none
      came back within SECONDS.
  latency.py probe DST PORT COUNT INTERVAL PROGRAM ROUND
      (in the sending namespace) COUNT pings (ping -i INTERVAL) then COUNT UDP echoes (one at a
      time, INTERVAL apart) to DST; prints one JSON line with every round trip in ms.
  latency.py report JSONL --scenario NAME --command CMD --json OUT
      the figures per round and per program (min, median, avg, max), vigild's median minus
      testpmd's (over all rounds, and per round pair), the spread of one program's round
      medians, and whether all of vigild's rounds lie on one side of all of testpmd's; writes
      them to OUT. Exit 1 if a round lost more than 10% of its probes or a program has no round.

The figures are emulated (QEMU's TCG): they say what vigild adds on that path, not on real cores.
"""
import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import benchlib  # noqa: E402  (the machine and its load, as the benchmarks give them)


def warm(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < args.seconds:
        i += 1
        msg = b"vigil-warm-%d" % i
        s.sendto(msg, (args.dst, args.port))
        try:
            while True:
                d, _ = s.recvfrom(2048)
                if d == msg:
                    print("%.1f" % (time.monotonic() - t0))
                    return 0
        except socket.timeout:
            pass
    print("none in %d s" % args.seconds)
    return 1


def probe(args):
    out = {"program": args.program, "round": args.round,
           "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg": benchlib.loadavg()}
    p = subprocess.run(["ping", "-n", "-c", str(args.count), "-i", str(args.interval), "-W", "2",
                        args.dst], capture_output=True, text=True)
    rtts = [float(m) for m in re.findall(r"icmp_seq=\d+ .*time=([\d.]+) ms", p.stdout)]
    out["ping"] = {"sent": args.count, "rtt_ms": rtts}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    rtts = []
    for i in range(args.count):
        msg = b"vigil-lat-%d" % i
        t = time.monotonic()
        s.sendto(msg, (args.dst, args.port))
        try:
            while True:
                d, _ = s.recvfrom(2048)
                if d == msg:
                    rtts.append(round((time.monotonic() - t) * 1000, 3))
                    break
        except socket.timeout:
            pass
        time.sleep(args.interval)
    out["udp"] = {"sent": args.count, "rtt_ms": rtts}
    print(json.dumps(out))
    return 0


def stats(rtts, sent):
    if not rtts:
        return {"n": 0, "sent": sent}
    return {"n": len(rtts), "sent": sent, "min": min(rtts), "median": statistics.median(rtts),
            "avg": statistics.fmean(rtts), "max": max(rtts)}


def fmt(s):
    if not s["n"]:
        return "%3d/%-3d %27s" % (0, s["sent"], "-")
    return "%3d/%-3d %8.3f %8.3f %8.3f %8.3f" % (s["n"], s["sent"], s["min"], s["median"], s["avg"],
                                               s["max"])


def report(args):
    rounds = []
    with open(args.jsonl) as f:
        for line in f:
            line = line.strip()
            if line:
                rounds.append(json.loads(line))
    programs = ["vigild", "testpmd"]
    kinds = ["ping", "udp"]
    good = True
    per_round = []
    for r in rounds:
        row = {"program": r["program"], "round": r["round"], "time": r["time"],
               "loadavg": r["loadavg"]}
        for k in kinds:
            row[k] = stats(r[k]["rtt_ms"], r[k]["sent"])
            if row[k]["n"] < 0.9 * row[k]["sent"]:
                good = False
        per_round.append(row)
    summary = {}
    for p in programs:
        mine = [r for r in rounds if r["program"] == p]
        if not mine:
            good = False
            continue
        summary[p] = {k: stats([x for r in mine for x in r[k]["rtt_ms"]],
                               sum(r[k]["sent"] for r in mine)) for k in kinds}
        summary[p]["rounds"] = len(mine)
    # The noise: how far one program's round medians lie apart (spread), whether every round
    # of vigild lies on the same side of every round of testpmd (separated), and the difference
    # of the medians in each round pair (vigild's round r minus testpmd's round r).
    diff, spread, separated, paired = {}, {}, {}, {}
    for k in kinds:
        if all(p in summary and summary[p][k]["n"] for p in programs):
            diff[k] = summary["vigild"][k]["median"] - summary["testpmd"][k]["median"]
            meds = {p: {r["round"]: r[k]["median"] for r in per_round
                        if r["program"] == p and r[k]["n"]} for p in programs}
            spread[k] = max(max(m.values()) - min(m.values()) for m in meds.values())
            v, t = meds["vigild"].values(), meds["testpmd"].values()
            separated[k] = min(v) > max(t) or max(v) < min(t)
            paired[k] = [meds["vigild"][r] - meds["testpmd"][r] for r in sorted(meds["vigild"])
                         if r in meds["testpmd"]]
    print("Round trips in ms, %s (emulated: QEMU TCG), %s" % (args.scenario, args.command))
    print("%-8s %-5s %-5s %7s %8s %8s %8s %8s" % ("program", "round", "probe", "got", "min",
                                                  "median", "avg", "max"))
    for r in per_round:
        for k in kinds:
            print("%-8s %-5s %-5s %s   load %.1f" % (r["program"], r["round"], k, fmt(r[k]),
                                                     r["loadavg"][0]))
    for p in programs:
        if p in summary:
            for k in kinds:
                print("%-8s %-5s %-5s %s" % (p, "all", k, fmt(summary[p][k])))
    for k in kinds:
        if k in diff:
            print("vigild - testpmd, %s median: %+.3f ms; per round pair %s ms; one program's "
                  "round medians spread over up to %.3f ms; %s" % (
                      k, diff[k], " ".join("%+.3f" % x for x in paired[k]), spread[k],
                      "every round of vigild on the same side of every round of testpmd"
                      if separated[k] else "the rounds of the two overlap"))
    doc = {"benchmark": "vm-latency", "emulated": True,
           "note": "QEMU TCG (no KVM): emulated round trips, not a performance figure",
           "scenario": args.scenario, "command": args.command,
           "host": {"cpu": benchlib.cpu_model(), "cpus": os.cpu_count(), "kernel": platform.release()},
           "rounds": per_round, "summary": summary,
           "vigild_minus_testpmd_median_ms": diff,
           "vigild_minus_testpmd_median_per_round_pair_ms": paired,
           "spread_of_one_programs_round_medians_ms": spread,
           "rounds_separated": separated, "samples": rounds}
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("latency: JSON in %s" % args.json)
    if not good:
        print("latency: a round lost more than 10% of its probes, or a program has no round",
              file=sys.stderr)
    return 0 if good else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("warm")
    w.add_argument("dst")
    w.add_argument("port", type=int)
    w.add_argument("seconds", type=int)
    p = sub.add_parser("probe")
    p.add_argument("dst")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("interval", type=float)
    p.add_argument("program")
    p.add_argument("round", type=int)
    r = sub.add_parser("report")
    r.add_argument("jsonl")
    r.add_argument("--scenario", required=True)
    r.add_argument("--command", required=True)
    r.add_argument("--json", required=True)
    args = ap.parse_args()
    return {"warm": warm, "probe": probe, "report": report}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
