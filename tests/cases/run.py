#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Pcap case runner: the regression suite of the dataplane.

Each case is a folder tests/cases/<name>/ with:
  case.json      what to run and what to expect (see tests/README.md; "stderr":
                 texts vigild must print, "exit_status": its expected exit status)
  *.pcap         inputs and expected outputs
  policy.yaml    optional, when the case needs a policy ("policy": "policy.yaml")

The runner starts vigild on net_pcap vdevs (one per port: rx from the case's input, tx to a
scratch file), waits until the input has run dry, then compares every output port packet by
packet with the expected capture, and the final counters (vigild --stats-json) with the
counters the case lists. Exit status: 0 all passed, 1 a case failed, 2 usage.

With --bursts 1,4,32 every case runs once per burst size and, besides its own checks, must
give the same result at every size: the same packets out of every port, the same events
(flow starts, updates, ends and alerts with their counters), the same EVE alerts and the
same counters. Packet order within a burst must not change any verdict, alert or flow record.
"""
import argparse
import concurrent.futures
import itertools
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
    """Every key in expected must be in actual with an equal value, and a key expected as
    None (null) must be absent; lists of objects with a 'name' are matched by name. Returns a
    list of differences."""
    diffs = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        for k, v in expected.items():
            if v is None:
                if k in actual:
                    diffs.append(f"{path}.{k}: expected absent, got {actual[k]!r}")
            elif k not in actual:
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


def address_pair(frame):
    """The unit the dataplane steers by (dataplane/dp_dispatch.h): the IP address pair in
    either direction, behind up to three VLAN tags; None for what it cannot read."""
    o = 12
    for _ in range(4):
        if len(frame) < o + 2:
            return None
        et = int.from_bytes(frame[o:o + 2], "big")
        if et not in (0x8100, 0x88A8, 0x9100):
            break
        o += 4
    else:
        return None
    o += 2
    if et == 0x0800 and len(frame) >= o + 20:
        a, b = frame[o + 12:o + 16], frame[o + 16:o + 20]
    elif et == 0x86DD and len(frame) >= o + 40:
        a, b = frame[o + 8:o + 24], frame[o + 24:o + 40]
    else:
        return None
    return (min(a, b), max(a, b))


def steered_order(packets):
    """With several workers, frames of different address pairs leave in whatever order the
    workers send them; within a pair (one worker's) the order is the wire's. Grouped by pair,
    in each group's order."""
    groups = {}
    for p in packets:
        groups.setdefault(address_pair(p.data), []).append(p)
    return [p for k in sorted(groups, key=lambda k: (k is not None, k or b""))
            for p in groups[k]]


def compare_port(name, expected_path, actual_path, workers=1):
    _, exp = pcapfile.read(expected_path)
    _, act = pcapfile.read(actual_path) if os.path.exists(actual_path) else (1, [])
    problems = []
    if workers > 1:
        exp, act = steered_order(exp), steered_order(act)
    for i in range(min(len(exp), len(act))):
        if exp[i].data != act[i].data:
            problems.append(f"port {name}: packet {i + 1} differs\n  expected:\n"
                            f"{hexdump(exp[i].data)}\n  got:\n{hexdump(act[i].data)}")
            break
    if len(exp) != len(act):
        problems.append(f"port {name}: expected {len(exp)} packets, got {len(act)}")
    return problems


RUN_SEQ = itertools.count()


def run_case(case_dir, args, burst=None, observe=None, variant=None):
    """Run one case. variant (tests/cases/run_mq.py) runs it another way: variant.ports(index,
    input path or None, output path) gives each port's device, variant.config(cfg, work) edits
    the config, and variant.check(work, cfg, proc) inspects the scratch folder before it goes;
    the case's own expectations are checked only when variant.own_checks is true."""
    name = os.path.basename(case_dir.rstrip("/"))
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    ports = case.get("ports", ["a", "b"])
    pairs = case.get("pairs", [[ports[0], ports[1]]])
    inputs = case.get("input", {})
    expect = case.get("expect", {})
    if args.workers > 1 and "single_worker" in case:
        return name, case.get("description", ""), [f"skipped with {args.workers} workers: "
                                                   + case["single_worker"]], None
    work = tempfile.mkdtemp(prefix=f"vigil-case-{name}-")
    check_outputs = True
    prefix = f"vgcase{os.getpid()}_{next(RUN_SEQ)}_"  # distinct for runs side by side (-j)
    port_cfg = []
    for i, p in enumerate(ports):
        if variant is not None:
            dev = variant.ports(i, os.path.join(case_dir, inputs[p]) if p in inputs else None,
                                os.path.join(work, f"out-{p}.pcap"))
            port_cfg.append({"name": p, "device": dev})
            continue
        dev = f"net_pcap{i}"
        if p in inputs:
            dev += ",rx_pcap=" + os.path.join(case_dir, inputs[p])
        dev += ",tx_pcap=" + os.path.join(work, f"out-{p}.pcap")
        port_cfg.append({"name": p, "device": dev})
    cfg = {
        "eal": {"file_prefix": prefix, "hugepages": "off" if args.no_huge else "auto",
                "args": ["--log-level=lib.eal:error"]},
        "lcores": {"control": 0, "workers": list(range(1, args.workers + 1))},
        "ports": port_cfg,
        "pairs": pairs,
        "log": {"level": "warning"},
    }
    if args.workers > 1:
        # Several workers share CPU 1: they are tested for what they decide, not for speed.
        cfg["lcores"]["cpus"] = [0] + [1] * args.workers
    if "policy" in case:
        cfg["policy"] = {"file": os.path.join(case_dir, case["policy"])}
        with open(cfg["policy"]["file"]) as f:
            policy_text = f.read()
        if "@BPF@" in policy_text:
            # eBPF objects are built with the tree (bpf/meson.build): their folder is given.
            if not args.bpf_dir or not os.path.isdir(args.bpf_dir):
                shutil.rmtree(work, ignore_errors=True)
                return name, case.get("description", ""), SKIP, work
            cfg["policy"]["file"] = os.path.join(work, "policy.yaml")
            with open(cfg["policy"]["file"], "w") as f:
                f.write(policy_text.replace("@BPF@", os.path.abspath(args.bpf_dir)))
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
    if burst is not None:
        # Results are comparable across burst sizes only on the capture's clock: the TSC
        # makes times (and, with several inputs, their interleaving) depend on the run.
        own_clock = cfg.get("dataplane", {}).get("clock") == "packet"
        cfg.setdefault("dataplane", {}).update({"burst": burst, "clock": "packet"})
        if not own_clock:
            for k in ("alerts", "counters", "flows"):
                case.pop(k, None)
            expect = {}
            check_outputs = False
    if variant is not None:
        variant.config(cfg, work)
        check_outputs = check_outputs and variant.own_checks
    # "@CASE@" in config values stands for the case's folder (rule files and the like).
    cfg = json.loads(json.dumps(cfg).replace("@CASE@", os.path.abspath(case_dir)))
    cfg_path = os.path.join(work, "vigil.yaml")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)  # JSON is YAML
    stats_path = os.path.join(work, "stats.json")
    events_path = os.path.join(work, "events.jsonl")
    cmd = [args.vigild, "-c", cfg_path, "--stop-after-idle", str(args.idle_ms), "--stats-json", stats_path,
           "--events", events_path]
    problems = []
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        problems.append(f"vigild did not stop within {args.timeout} s")
        proc = None
    if proc is not None and proc.returncode != case.get("exit_status", 0):
        problems.append(f"vigild exited with {proc.returncode}\n{proc.stderr[-3000:]}")
    # Messages vigild must have printed (its log goes to stderr, its report to stdout).
    for text in case.get("stderr", []) if proc is not None else []:
        if text not in proc.stderr + proc.stdout:
            problems.append(f"vigild did not say {text!r}:\n{proc.stderr[-2000:]}")
    if proc is not None and not problems and check_outputs:
        for port, exp_file in expect.items():
            problems += compare_port(port, os.path.join(case_dir, exp_file),
                                     os.path.join(work, f"out-{port}.pcap"), args.workers)
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
    if observe is not None and proc is not None:
        observe.update(observables(work, ports, args.workers))
    if variant is not None and proc is not None and not problems:
        problems += variant.check(work, cfg, proc)
    leftovers = glob.glob(f"/dev/hugepages/{prefix}map_*") + glob.glob(f"/var/run/dpdk/{prefix}")
    if leftovers:
        problems.append(f"vigild left files behind: {leftovers}")
    if problems and args.verbose and proc is not None:
        problems.append("vigild stderr:\n" + proc.stderr[-4000:])
    if problems and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    elif not problems:
        shutil.rmtree(work, ignore_errors=True)
    return name, case.get("description", ""), problems, work


# run_case's problems for a case that cannot run here (its eBPF objects were not built).
SKIP = ["skipped: no eBPF objects (clang not found at build time, or no --bpf-dir)"]


# What differs between runs of the same input by construction, not by decision: identifiers
# the worker hands out, sequence numbers, timing and loop counts, scratch paths, and where the
# flow table's keys sit (its hash seed is random per run: bucket_moves).
UNSTABLE = {"flow_id", "seq", "uid", "loops", "busy_loops", "busy_cycles", "rx_bursts",
            "stage_cycles", "stages", "device", "tsc_hz", "drained", "idle_sleeps",
            "bucket_moves", "cycles_per_run"}


def strip_unstable(o):
    if isinstance(o, dict):
        return {k: strip_unstable(v) for k, v in o.items() if k not in UNSTABLE}
    if isinstance(o, list):
        return [strip_unstable(v) for v in o]
    return o


def observables(work, ports, workers=1):
    """What a run decided, in a form two runs can be compared in."""
    obs = {}
    for p in ports:
        path = os.path.join(work, f"out-{p}.pcap")
        out = pcapfile.read(path)[1] if os.path.exists(path) else []
        if workers > 1:
            out = steered_order(out)
        obs[f"port {p} output"] = [x.data.hex() for x in out]
    for name, fname in (("events", "events.jsonl"), ("EVE log", "eve.json")):
        path = os.path.join(work, fname)
        lines = []
        if os.path.exists(path):
            with open(path) as f:
                lines = [json.dumps(strip_unstable(json.loads(x)), sort_keys=True)
                         for x in f if x.strip()]
        obs[name] = sorted(lines)
    path = os.path.join(work, "stats.json")
    if os.path.exists(path):
        with open(path) as f:
            obs["counters"] = json.dumps(strip_unstable(json.load(f)), sort_keys=True)
    return obs


def first_difference(a, b):
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return f"item {i + 1}: {x[:400]}\n    vs {y[:400]}"
        return f"{len(a)} items vs {len(b)}"
    if isinstance(a, str) and isinstance(b, str):
        i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
        return f"...{a[max(0, i - 150):i + 150]}\n    vs ...{b[max(0, i - 150):i + 150]}"
    return f"{a!r} vs {b!r}"


def run_bursts(d, args, bursts):
    """Run a case at each burst size; its own checks at each, and the same result at all."""
    problems, results = [], []
    name = desc = work = None
    for b in bursts:
        obs = {}
        name, desc, probs, work = run_case(d, args, burst=b, observe=obs)
        if probs is SKIP or (len(probs) == 1 and probs[0].startswith("skipped with")):
            return name, desc, probs, work
        problems += [f"burst {b}: {p}" for p in probs]
        results.append((b, obs))
    b0, ref = results[0]
    for b, obs in results[1:]:
        for key in ref:
            if ref[key] != obs.get(key):
                problems.append(f"burst {b0} and burst {b} differ in {key}: "
                                + first_difference(ref[key], obs.get(key)))
    return name, desc, problems, work


def report(name, desc, problems, work, args, failed, skipped):
    """Print one case's result; returns the updated failed and skipped counts."""
    if problems is SKIP or (len(problems) == 1 and problems[0].startswith("skipped with")):
        skipped += 1
        print(f"skip {name}: {problems[0] if problems is not SKIP else SKIP[0]}", flush=True)
    elif problems:
        failed += 1
        print(f"FAIL {name}: {desc}")
        for p in problems:
            print("  " + p.replace("\n", "\n  "))
        if args.keep:
            print(f"  scratch kept in {work}")
    else:
        print(f"ok   {name}: {desc}", flush=True)
    return failed, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--cases", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--only", action="append", help="run only this case (repeatable)")
    ap.add_argument("--no-huge", action="store_true", help="run vigild with --no-huge")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder of failed cases")
    ap.add_argument("--timeout", type=int, default=60)
    # A capture is read whole at start: once the worker has seen no packet for this long, the
    # input is over (suricata-verify's runner uses the same 200 ms).
    ap.add_argument("--idle-ms", type=int, default=200, help="vigild --stop-after-idle (ms)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--bpf-dir", help="folder of the built eBPF objects (build/bpf), for "
                    "policies that name @BPF@")
    ap.add_argument("-j", "--jobs", type=int, default=1,
                    help="cases run side by side (each vigild has its own file prefix); only "
                         "with --bursts, whose runs are on the capture's clock and so do not "
                         "depend on how the machine schedules them")
    ap.add_argument("--bursts", help="run each case at these burst sizes (e.g. 1,4,32) and "
                    "require the same result at every size")
    ap.add_argument("--workers", type=int, default=1,
                    help="worker lcores (all on CPU 1); the ports have one queue, so with "
                         "several the dataplane dispatches in software. Each case must decide "
                         "as with one; output frames are compared per address pair, whose "
                         "order only one worker sets. Cases marked single_worker are skipped")
    args = ap.parse_args()
    dirs = sorted(d for d in glob.glob(os.path.join(args.cases, "*"))
                  if os.path.exists(os.path.join(d, "case.json")))
    if args.only:
        dirs = [d for d in dirs if os.path.basename(d) in args.only]
    if not dirs:
        print("no cases found", file=sys.stderr)
        return 2
    failed = skipped = 0
    bursts = [int(x) for x in args.bursts.split(",")] if args.bursts else None
    if args.jobs > 1 and not bursts:
        print("--jobs needs --bursts: without it cases run on the TSC clock, which two vigild "
              "side by side would make depend on scheduling", file=sys.stderr)
        return 2

    def one(d):
        return run_bursts(d, args, bursts) if bursts else run_case(d, args)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        results = ex.map(one, dirs) if args.jobs > 1 else map(one, dirs)
        for name, desc, problems, work in results:
            failed, skipped = report(name, desc, problems, work, args, failed, skipped)
    print(f"{len(dirs) - failed - skipped} of {len(dirs)} cases passed"
          + (f", {skipped} skipped" if skipped else "")
          + (" (--no-huge)" if args.no_huge else "")
          + (f" with {args.workers} workers" if args.workers > 1 else "")
          + (f" (each at burst sizes {args.bursts}, with identical results)" if bursts else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
