#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Load and compile a whole signature set with det_check, as vigild would at start, and record
its figures as JSON: load time (parse and check every rule), compile time (Hyperscan databases
and the rule tables), peak resident memory of the process, database and scratch bytes, and
what loaded and what did not (rules, loaded, rejected, by reason).

  scripts/bench/compile.py [PATH] [--classification FILE] [--repeat N] [--json FILE]

PATH is a rule file or directory; the default is Emerging Threats Open (et-open-full), which
lives beside the repository in ../shared/testdata: where it is absent the run is skipped with
that reason (exit 0, and the JSON says so). The classification file defaults to the
classification.config in PATH. det_check runs --repeat times, one after another, each a fresh
process (so each peak memory figure is its own); the figures are the medians over the runs and
every run stays in the JSON. Variables take the values public rule sets expect (det_check uses
det_vars_set_defaults). Not a test: it fails on nothing but errors.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import ROOT  # noqa: E402

DEFAULT_SET = os.path.normpath(os.path.join(ROOT, "..", "shared", "testdata", "et-open-full"))
LOAD_KEYS = ("files", "rules", "loaded", "rejected", "commented", "approximated", "tx",
             "by_reason", "keywords", "meaning_changed", "lost_dropped")
COMPILE_KEYS = ("rules", "exact", "confirm", "unfiltered", "header", "pcre_hs",
                "pcre_prefilter", "pcre_only", "groups", "databases", "patterns", "db_bytes",
                "scratch_bytes", "stream_state_bytes", "compile_ms")


def one_run(det_check, path, classification):
    cmd = [det_check, "-j"] + (["-c", classification] if classification else []) + [path]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0 and not p.stdout.strip().startswith("{"):
        raise benchlib.BenchError(f"{' '.join(cmd)} exited {p.returncode}: "
                                  f"{p.stderr.strip()[-2000:]}")
    doc = json.loads(p.stdout)
    if doc.get("compile") is None:
        raise benchlib.BenchError(f"{' '.join(cmd)}: the set did not compile: "
                                  f"{p.stderr.strip()[-2000:]}")
    load = doc["load"]
    comp = doc["compile"]
    return {
        "load_ms": round(doc["load_ms"], 1),
        "compile_ms": round(comp["compile_ms"], 1),
        "total_ms": round(doc["load_ms"] + comp["compile_ms"], 1),
        "wall_s": round(wall, 2),
        "peak_rss_bytes": doc["peak_rss_bytes"],
        "exit_status": p.returncode,
        "load": {k: load[k] for k in LOAD_KEYS if k in load},
        "compile": {k: comp[k] for k in COMPILE_KEYS if k in comp},
        "groups_detail": comp.get("groups_detail"),
        "loadavg_after": benchlib.loadavg(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default=DEFAULT_SET,
                    help="rule file or directory (default: ../shared/testdata/et-open-full)")
    ap.add_argument("--classification", help="classification.config (default: PATH's)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--det-check", dest="det_check",
                    default=os.path.join(ROOT, "build", "detect", "det_check"))
    ap.add_argument("--json", help="write the result document here")
    args = ap.parse_args()
    path = os.path.abspath(args.path)
    doc = {"benchmark": "signature_compile", "set": path,
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": " ".join(sys.argv), "machine": benchlib.machine()}
    cls = args.classification
    if cls is None and os.path.isdir(path):
        cand = os.path.join(path, "classification.config")
        cls = cand if os.path.exists(cand) else None
    doc["classification"] = cls
    try:
        if not os.path.exists(path):
            doc.update(status="skipped", reason=f"{path} is not on this machine; nothing "
                       "measured")
            print(f"bench: skipped: {doc['reason']}")
        else:
            if not os.access(args.det_check, os.X_OK):
                raise benchlib.BenchError(f"{args.det_check} not built (ninja -C build "
                                          "detect/det_check, or --det-check)")
            if args.repeat < 1:
                raise benchlib.BenchError("--repeat must be at least 1")
            runs = []
            for i in range(args.repeat):
                r = one_run(args.det_check, path, cls)
                runs.append(r)
                print(f"run {i + 1}/{args.repeat}: load {r['load_ms']:.0f} ms, compile "
                      f"{r['compile_ms']:.0f} ms, peak memory "
                      f"{r['peak_rss_bytes'] / (1 << 20):.1f} MiB, databases "
                      f"{r['compile']['db_bytes'] / (1 << 20):.1f} MiB", flush=True)
            last = runs[-1]

            def med(k):
                return statistics.median(r[k] for r in runs)
            doc.update(status="ok", runs=runs, load=last["load"], compile=last["compile"],
                       median_load_ms=med("load_ms"), median_compile_ms=med("compile_ms"),
                       median_total_ms=med("total_ms"),
                       median_peak_rss_bytes=med("peak_rss_bytes"))
            ld = last["load"]
            print(f"\n{path}: {ld['rules']} rules, {ld['loaded']} loaded, {ld['rejected']} "
                  f"rejected {ld.get('by_reason', {})}")
            print(f"median of {len(runs)}: load {doc['median_load_ms']:.0f} ms + compile "
                  f"{doc['median_compile_ms']:.0f} ms = {doc['median_total_ms'] / 1000:.1f} s; "
                  f"peak memory {doc['median_peak_rss_bytes'] / (1 << 20):.1f} MiB; "
                  f"{last['compile']['databases']} databases of "
                  f"{last['compile']['db_bytes']} bytes, scratch "
                  f"{last['compile']['scratch_bytes']} bytes")
    except benchlib.BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    doc["machine"]["loadavg_at_end"] = benchlib.loadavg()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
