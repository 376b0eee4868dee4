#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Detection and false positives per anomaly detector, from the labelled cases.

Every tests/cases/anomaly-* case is labelled by what it expects (gen_anomaly.py writes it and
says how each capture was made): a case whose expected alerts name a detector is an attack for
that detector; a case that expects no alert at all is benign for every detector. Each case is
replayed through vigild (net_pcap, packet clock) as the suite does, and its EVE alerts counted:
  detected        attack cases in which the detector raised the finding the case expects
  false positive  benign cases in which the detector raised anything
  extra           alerts the detector raised that no case expected (attack cases included)

Usage: detection_table.py --vigild build/app/vigild [--no-huge] [--evidence]
Prints a Markdown table (docs/DETECTION.md holds its latest output); with --evidence, also
every finding's metric, observed value and facts, case by case (the figures the thresholds in
docs/DETECTION.md are chosen from).
"""
import argparse
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--no-huge", action="store_true")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--evidence", action="store_true",
                    help="print every finding's metric, observed value and facts")
    args = ap.parse_args()
    args.keep = False
    args.verbose = False
    args.idle_ms = 200
    dirs = sorted(d for d in glob.glob(os.path.join(HERE, "anomaly-*"))
                  if os.path.exists(os.path.join(d, "case.json")))
    stats = {}  # detector -> counters
    rows = []
    for d in dirs:
        with open(os.path.join(d, "case.json")) as f:
            case = json.load(f)
        expected = case.get("alerts", [])
        obs = {}
        name, _, problems, _ = run.run_case(d, args, observe=obs)
        alerts = [json.loads(x) for x in obs.get("EVE log", [])]
        alerts = [a for a in alerts if a.get("event_type") == "alert"
                  and a.get("vigil", {}).get("kind") == "anomaly"]
        raised = {}
        for a in alerts:
            raised.setdefault(a["vigil"]["detector"], []).append(a)
        wanted = {}
        for e in expected:
            wanted.setdefault(e["vigil"]["detector"], []).append(e)
        for det in set(raised) | set(wanted):
            stats.setdefault(det, {"attack": 0, "detected": 0, "benign": 0, "fp": 0,
                                   "extra": 0})
        for det, exps in wanted.items():
            s = stats[det]
            s["attack"] += 1
            got = raised.get(det, [])
            if all(any(not run.subset_diff(e, a) for a in got) for e in exps):
                s["detected"] += 1
        for det, got in raised.items():
            used = set()
            for e in wanted.get(det, []):
                i = next((i for i, a in enumerate(got)
                          if i not in used and not run.subset_diff(e, a)), None)
                if i is not None:
                    used.add(i)
            stats[det]["extra"] += len(got) - len(used)
        rows.append((name, expected, raised, problems))
    detectors = sorted(stats)
    benign_cases = [r for r in rows if not r[1]]
    for det in detectors:
        stats[det]["benign"] = len(benign_cases)
        stats[det]["fp"] = sum(1 for r in benign_cases if det in r[2])
    print("| detector | attack cases | detected | detection rate | benign cases | with a false "
          "positive | false positive rate | unexpected alerts |")
    print("|---|---|---|---|---|---|---|---|")
    for det in detectors:
        s = stats[det]
        rate = f"{100.0 * s['detected'] / s['attack']:.0f}%" if s["attack"] else "-"
        fpr = f"{100.0 * s['fp'] / s['benign']:.0f}%" if s["benign"] else "-"
        print(f"| `{det}` | {s['attack']} | {s['detected']} | {rate} | {s['benign']} | "
              f"{s['fp']} | {fpr} | {s['extra']} |")
    if args.evidence:
        print()
        for name, _, raised, _ in rows:
            for det in sorted(raised):
                for a in raised[det]:
                    v = a["vigil"]
                    facts = ", ".join(f"{k}={val}" for k, val in sorted(v.get("facts", {}).items()))
                    print(f"- {name}: {det} {v['severity']} {v['metric']}={v['observed']:g} "
                          f"(threshold {v['threshold']:g}): {facts}")
    print()
    print(f"{len(rows)} labelled cases ({len(rows) - len(benign_cases)} attack, "
          f"{len(benign_cases)} benign); "
          f"{sum(1 for r in rows if r[3])} differ from their expectation in some other way.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
