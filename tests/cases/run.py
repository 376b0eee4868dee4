#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Pcap case runner: the regression suite of the dataplane.

Each case is a folder tests/cases/<name>/ with:
  case.json      what to run and what to expect (see README.md beside this file)
  *.pcap         inputs and expected outputs
  policy.yaml    optional, when the case needs a policy ("policy": "policy.yaml")

The runner starts vigild on net_pcap vdevs (one per port: rx from the case's input, tx to a
scratch file), waits until the input has run dry, then compares every output port packet by
packet with the expected capture, and the final counters (vigild --stats-json) with the
counters the case lists. Exit status: 0 all passed, 1 a case failed, 2 usage.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402


def hexdump(data, limit=96):
    out = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off:off + 16]
        out.append(f"    {off:04x}  {chunk.hex(' ')}")
    if len(data) > limit:
        out.append(f"    ... {len(data) - limit} more bytes")
    return "\n".join(out)


def subset_diff(expected, actual, path="counters"):
    """Every key in expected must be in actual with an equal value; lists of objects with a
    'name' are matched by name. Returns a list of differences."""
    diffs = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        for k, v in expected.items():
            if k not in actual:
                diffs.append(f"{path}.{k}: missing (expected {v!r})")
            else:
                diffs += subset_diff(v, actual[k], f"{path}.{k}")
    elif isinstance(expected, list) and expected and all(
            isinstance(e, dict) and "name" in e for e in expected):
        by_name = {a.get("name"): a for a in actual if isinstance(a, dict)}
        for e in expected:
            if e["name"] not in by_name:
                diffs.append(f"{path}[{e['name']}]: missing")
            else:
                diffs += subset_diff(e, by_name[e["name"]], f"{path}[{e['name']}]")
    elif expected != actual:
        diffs.append(f"{path}: expected {expected!r}, got {actual!r}")
    return diffs


FLOW_KEY = ("proto", "src", "sport", "dst", "dport")


def check_flows(case, events_path):
    """Match every expected flow record with a flow_end event of the same 5-tuple (in order, for
    tuples that occur more than once) and compare the fields it lists."""
    with open(events_path) as f:
        ends = [e for e in map(json.loads, f) if e["type"] == "flow_end"]
    problems = []
    used = set()
    for exp in case["flows"]:
        key = tuple(exp.get(k) for k in FLOW_KEY)
        match = next((i for i, e in enumerate(ends)
                      if i not in used and tuple(e.get(k) for k in FLOW_KEY) == key), None)
        if match is None:
            problems.append(f"flow {key}: no flow_end event")
            continue
        used.add(match)
        problems += subset_diff({k: v for k, v in exp.items() if k not in FLOW_KEY},
                                ends[match], f"flow {key}")
    if case.get("flows_exact", True) and len(ends) != len(case["flows"]):
        extra = [tuple(e.get(k) for k in FLOW_KEY) for i, e in enumerate(ends) if i not in used]
        problems.append(f"expected {len(case['flows'])} flows, vigild reported {len(ends)};"
                        f" unexpected: {extra}")
    return problems


def check_alerts(case, eve_path):
    """Every expected alert (a subset of EVE fields, e.g. {"alert": {"signature_id": 9001},
    "src_ip": ...}) must match a distinct alert line; with "alerts_exact" (the default) there
    must be no other alert. An empty list means: no alert at all."""
    lines = []
    if os.path.exists(eve_path):
        with open(eve_path) as f:
            lines = [json.loads(x) for x in f if x.strip()]
    alerts = [x for x in lines if x.get("event_type") == "alert"]
    problems, used = [], set()
    for exp in case["alerts"]:
        match = next((i for i, a in enumerate(alerts)
                      if i not in used and not subset_diff(exp, a)), None)
        if match is None:
            near = [subset_diff(exp, a) for a in alerts[:3]]
            problems.append(f"no alert like {json.dumps(exp)}; {len(alerts)} alerts, e.g. "
                            f"{near[:1]}")
            continue
        used.add(match)
    if case.get("alerts_exact", True) and len(alerts) != len(used):
        extra = [a.get("alert", {}).get("signature") for i, a in enumerate(alerts)
                 if i not in used]
        problems.append(f"unexpected alerts: {extra}")
    return problems


def compare_port(name, expected_path, actual_path):
    _, exp = pcapfile.read(expected_path)
    _, act = pcapfile.read(actual_path) if os.path.exists(actual_path) else (1, [])
    problems = []
    for i in range(min(len(exp), len(act))):
        if exp[i].data != act[i].data:
            problems.append(f"port {name}: packet {i + 1} differs\n  expected:\n"
                            f"{hexdump(exp[i].data)}\n  got:\n{hexdump(act[i].data)}")
            break
    if len(exp) != len(act):
        problems.append(f"port {name}: expected {len(exp)} packets, got {len(act)}")
    return problems


def run_case(case_dir, args):
    name = os.path.basename(case_dir.rstrip("/"))
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    ports = case.get("ports", ["a", "b"])
    pairs = case.get("pairs", [[ports[0], ports[1]]])
    inputs = case.get("input", {})
    expect = case.get("expect", {})
    work = tempfile.mkdtemp(prefix=f"vigil-case-{name}-")
    prefix = f"vgcase{os.getpid()}"
    port_cfg = []
    for i, p in enumerate(ports):
        dev = f"net_pcap{i}"
        if p in inputs:
            dev += ",rx_pcap=" + os.path.join(case_dir, inputs[p])
        dev += ",tx_pcap=" + os.path.join(work, f"out-{p}.pcap")
        port_cfg.append({"name": p, "device": dev})
    cfg = {
        "eal": {"file_prefix": prefix, "hugepages": "off" if args.no_huge else "auto",
                "args": ["--log-level=lib.eal:error"]},
        "lcores": {"control": 0, "workers": [1]},
        "ports": port_cfg,
        "pairs": pairs,
        "log": {"level": "warning"},
    }
    if "policy" in case:
        cfg["policy"] = {"file": os.path.join(case_dir, case["policy"])}
    eve_path = os.path.join(work, "eve.json")
    if "alerts" in case or case.get("store"):
        # Alerts are checked in the EVE log; the store keeps what a case may query.
        cfg["alerts"] = {"eve_log": eve_path}
        cfg["store"] = {"path": os.path.join(work, "vigil.db")}
    for section, values in case.get("config", {}).items():
        if isinstance(values, dict):
            cfg.setdefault(section, {}).update(values)
        else:
            cfg[section] = values
    # "@CASE@" in config values stands for the case's folder (rule files and the like).
    cfg = json.loads(json.dumps(cfg).replace("@CASE@", os.path.abspath(case_dir)))
    cfg_path = os.path.join(work, "vigil.yaml")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)  # JSON is YAML
    stats_path = os.path.join(work, "stats.json")
    events_path = os.path.join(work, "events.jsonl")
    cmd = [args.vigild, "-c", cfg_path, "--stop-after-idle", "500", "--stats-json", stats_path,
           "--events", events_path]
    problems = []
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        problems.append(f"vigild did not stop within {args.timeout} s")
        proc = None
    if proc is not None and proc.returncode != case.get("exit_status", 0):
        problems.append(f"vigild exited with {proc.returncode}\n{proc.stderr[-3000:]}")
    if proc is not None and not problems:
        for port, exp_file in expect.items():
            problems += compare_port(port, os.path.join(case_dir, exp_file),
                                     os.path.join(work, f"out-{port}.pcap"))
        for port in ports:
            if port not in expect and os.path.exists(os.path.join(work, f"out-{port}.pcap")):
                _, act = pcapfile.read(os.path.join(work, f"out-{port}.pcap"))
                if act:
                    problems.append(f"port {port}: expected no packets, got {len(act)}")
        if "counters" in case:
            with open(stats_path) as f:
                stats = json.load(f)
            problems += subset_diff(case["counters"], stats)
        if "flows" in case:
            problems += check_flows(case, events_path)
        if "alerts" in case:
            problems += check_alerts(case, eve_path)
    leftovers = glob.glob(f"/dev/hugepages/{prefix}*") + glob.glob(f"/var/run/dpdk/{prefix}")
    if leftovers:
        problems.append(f"vigild left files behind: {leftovers}")
    if problems and args.verbose and proc is not None:
        problems.append("vigild stderr:\n" + proc.stderr[-4000:])
    if problems and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    elif not problems:
        shutil.rmtree(work, ignore_errors=True)
    return name, case.get("description", ""), problems, work


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--cases", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--only", action="append", help="run only this case (repeatable)")
    ap.add_argument("--no-huge", action="store_true", help="run vigild with --no-huge")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder of failed cases")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    dirs = sorted(d for d in glob.glob(os.path.join(args.cases, "*"))
                  if os.path.exists(os.path.join(d, "case.json")))
    if args.only:
        dirs = [d for d in dirs if os.path.basename(d) in args.only]
    if not dirs:
        print("no cases found", file=sys.stderr)
        return 2
    failed = 0
    for d in dirs:
        name, desc, problems, work = run_case(d, args)
        if problems:
            failed += 1
            print(f"FAIL {name}: {desc}")
            for p in problems:
                print("  " + p.replace("\n", "\n  "))
            if args.keep:
                print(f"  scratch kept in {work}")
        else:
            print(f"ok   {name}: {desc}")
    print(f"{len(dirs) - failed} of {len(dirs)} cases passed"
          + (" (--no-huge)" if args.no_huge else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
