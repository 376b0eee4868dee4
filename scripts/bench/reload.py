#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Policy reload under traffic (a benchmark, not a test): vigild forwards 64-byte TCP frames of
10k established flows (net_pcap infinite_rx -> net_null, one worker) while policies of 10 to
100k rules are applied through the REST API, one after the other, each swapped back for a
10-rule policy in between. For each size: the time the PUT took (read, validate, compile on a
management thread, publish, the workers' RCU grace period), the compile time vigild reports,
and the forwarding rate in the seconds before, during and after the reload.

The policies are those of the rules sweep (scripts/bench/sweep.py): N-1 drop rules that the
traffic never matches, then the allow rule it does, so the traffic flows at every step and a
reload that lost packets would show. The 10-rule step puts the policy already in force: vigild
finds nothing changed and compiles nothing, so its figure is the cost of the API round trip.

  scripts/bench/reload.py [--vigild BUILD/app/vigild] [--sizes 10,1k,10k,100k] [--json FILE]
                         [--stages] [--log FILE]
"""
import argparse
import hashlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import sweep  # noqa: E402


def rate(st, t0, t1):
    xs = st.between(t0, t1)
    return statistics.median(xs) / 1e6 if xs else None


def low(st, t0, t1):
    xs = st.between(t0, t1)
    return min(xs) / 1e6 if xs else None


# An admin token for this run only: requests without a token may only read.
TOKEN = os.urandom(18).hex()


def put_policy(port, text, timeout=900):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.monotonic()
    c.request("PUT", "/api/v1/policy", body=text.encode(),
              headers={"Content-Type": "application/yaml",
                       "Authorization": f"Bearer {TOKEN}"})
    r = c.getresponse()
    body = r.read()
    dt = time.monotonic() - t0
    c.close()
    if r.status != 200:
        raise benchlib.BenchError(f"PUT /api/v1/policy: {r.status} {body[:300]!r}")
    return dt, json.loads(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigild", default=os.path.join(benchlib.ROOT, "build", "app", "vigild"))
    ap.add_argument("--vg-pktgen", dest="pktgen", default=os.environ.get(
        "VG_PKTGEN", os.path.join(benchlib.ROOT, "build", "tools", "pktgen", "vg-pktgen")))
    ap.add_argument("--sizes", default="10,1k,10k,100k")
    ap.add_argument("--settle", type=float, default=4, help="seconds of traffic around a reload")
    ap.add_argument("--json")
    ap.add_argument("--stages", action="store_true",
                    help="bench mode: vigild's stats lines carry cycles per stage")
    ap.add_argument("--log", help="write vigild's output (its stats every second) to this file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-bench-reload-")
    prefix = f"vgbreload{os.getpid()}"  # vgb: benchlib cleans up after it
    pcap = os.path.join(work, "tcp10k.pcap")
    subprocess.run([args.pktgen, "-o", pcap, "--flows", "10k", "--per-flow", "2", "--tcp-mode",
                    "midstream", "--size", "64", "--quiet"], check=True, capture_output=True)
    base = os.path.join(work, "rules-10.yaml")
    sweep.write_rules_policy(base, 10)
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    cfg = {
        "eal": {"file_prefix": prefix, "hugepages": "auto", "no_huge_memory": "2048M",
                "args": ["--log-level=lib.eal:error"]},
        "lcores": {"control": 0, "workers": [1]},
        "ports": [{"name": "in", "device": f"net_pcap0,rx_pcap={pcap},infinite_rx=1"},
                  {"name": "out", "device": "net_null0,no-rx=1"}],
        "pairs": [["in", "out"]],
        "dataplane": {"idle_sleep_us": 0},
        "flows": {"max": "64k"},
        "log": {"level": "info"},
        "policy": {"file": base},
        "stats": {"stages": args.stages},
        "mgmt": {"listen": "127.0.0.1", "port": port, "max_body": "64M", "timeout": 900,
                 "tokens": [{"name": "bench", "role": "admin",
                             "sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}]},
    }
    cfg_path = os.path.join(work, "vigil.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    cmd = [args.vigild, "-c", cfg_path, "--stats", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    st = benchlib.VigildStats(proc.stdout)
    st.start()
    results = []
    try:
        deadline = time.time() + 60
        while not any("API on" in line for line in st.lines):
            if proc.poll() is not None or time.time() > deadline:
                raise benchlib.BenchError("vigild did not start:\n" + "".join(st.lines[-30:]))
            time.sleep(0.2)
        # Traffic first: the "before" window of the first size must not start while the
        # worker is still coming up (on a busy machine the first stats lines can show 0 pps).
        while not (len(st.samples) >= 2 and all(p > 0 for _, p in st.samples[-2:])):
            if proc.poll() is not None or time.time() > deadline:
                raise benchlib.BenchError("no traffic through vigild within 60 s:\n"
                                          + "".join(st.lines[-30:]))
            time.sleep(0.2)
        time.sleep(args.settle)
        with open(base) as f:
            base_text = f.read()
        for v in args.sizes.split(","):
            n = benchlib.parse_count(v)
            path = os.path.join(work, f"rules-{n}.yaml")
            sweep.write_rules_policy(path, n)
            with open(path) as f:
                text = f.read()
            t_before = time.time()
            time.sleep(args.settle)
            t0 = time.time()
            secs, reply = put_policy(port, text)
            t1 = time.time()
            # "during" reaches one stats line past the answer; "after" is settle seconds more.
            time.sleep(1 + args.settle)
            t_after = time.time()
            r = {"rules": n, "policy_bytes": len(text), "put_seconds": secs,
                 "compile_ms": reply.get("summary", {}).get("build_ms"),
                 "summary": reply.get("summary"),
                 "mpps_before": rate(st, t_before, t0), "mpps_during": rate(st, t0, t1 + 1),
                 "mpps_lowest_during": low(st, t0, t1 + 1), "mpps_after": rate(st, t1 + 1, t_after)}
            results.append(r)

            def f(x):
                return f"{x:.2f}" if isinstance(x, (int, float)) else "-"
            print(f"{n:>7} rules: PUT {secs:7.3f} s (compile {f(r['compile_ms'])} ms); "
                  f"Mpps before {f(r['mpps_before'])}, during {f(r['mpps_during'])} "
                  f"(lowest second {f(r['mpps_lowest_during'])}), after {f(r['mpps_after'])}",
                  flush=True)
            put_policy(port, base_text)
    finally:
        if args.log:
            with open(args.log, "w") as f:
                f.writelines(st.lines)
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        benchlib.remove_runtime_dir(prefix)
        benchlib.remove_hugepage_files(prefix)
        shutil.rmtree(work, ignore_errors=True)
    doc = {"benchmark": "policy-reload", "command": " ".join(sys.argv),
           "machine": benchlib.machine(),
           "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except benchlib.BenchError as e:
        print(f"reload: {e}", file=sys.stderr)
        sys.exit(1)
