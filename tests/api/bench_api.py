#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""API load benchmark (not a test): requests/s of GET /api/v1/status and GET /metrics with wrk
from a second process, while vigild forwards a capture replayed by net_pcap (infinite_rx=1) into
net_null; and the forwarding rate with and without the API under load.

Phases of --seconds each, in one vigild run, --rounds times: idle API, wrk on /api/v1/status,
idle, wrk on /metrics; then a last idle phase. The forwarding rate of a phase is the median of
vigild's per-second Tx samples of the out port (--stats 1), the first sample of a phase left
out; the summary is the median over the phases of each kind. The machine's load average is
recorded, since other processes on the same cores move the figures. wrk runs pinned to
the control core (--wrk-cpu, default 0) so that it competes with the API threads and control,
never with the worker. Prints a table and writes JSON with the commands.

  tests/api/bench_api.py --vigild BUILD/app/vigild [--pcap FILE] [--seconds 10]
                         [--connections 32] [--threads 2] [--json out.json]
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "bench"))
import apilib  # noqa: E402
import benchlib  # noqa: E402


def wrk(url, token, seconds, conns, threads, cpu):
    cmd = ["taskset", "-c", str(cpu), "wrk", "-t", str(threads), "-c", str(conns), "-d",
           f"{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"command": " ".join(cmd[3:]).replace(token, "$TOKEN"), "requests_per_s": rps,
            "latency_p50": lat.get("50"), "latency_p90": lat.get("90"),
            "latency_p99": lat.get("99"), "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--pcap", help="capture to replay (default: 1000 UDP flows of 64 B, "
                                   "made with --pktgen)")
    ap.add_argument("--pktgen", help="vg-pktgen binary (default: next to vigild)")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--api-threads", type=int, default=2, help="mgmt.threads")
    ap.add_argument("--snapshot", default="100ms", help="mgmt.snapshot (0: build every reply)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--wrk-cpu", type=int, default=0)
    ap.add_argument("--tls", action="store_true",
                    help="serve the API over TLS (a self-signed P-256 certificate made with "
                         "openssl); wrk connects with https")
    ap.add_argument("--user", help="privileges.user: vigild drops to this user (and seccomp) "
                                   "once its ports are up")
    ap.add_argument("--json")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("bench_api: wrk is not installed (scripts/deps.sh installs it)", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="vigil-bench-api-")
    pcap = args.pcap
    if pcap is None:
        pktgen = args.pktgen or os.path.join(os.path.dirname(os.path.abspath(args.vigild)),
                                             "..", "tools", "pktgen", "vg-pktgen")
        pcap = os.path.join(work, "udp1k.pcap")
        subprocess.run([pktgen, "-o", pcap, "--flows", "1000", "--proto", "udp", "--size",
                        "64", "--per-flow", "4", "--quiet"], check=True, capture_output=True)
    token = apilib.TOKENS["viewer"]
    port = apilib.free_port()
    prefix = f"vgbenchapi{os.getpid()}"
    cfg = {
        "eal": {"file_prefix": prefix, "hugepages": "auto", "no_huge_memory": "1024M",
                "args": ["--log-level=lib.eal:error"]},
        "lcores": {"control": 0, "workers": [1]},
        "ports": [{"name": "in", "device": f"net_pcap0,rx_pcap={pcap},infinite_rx=1"},
                  {"name": "out", "device": "net_null0,no-rx=1"}],
        "pairs": [["in", "out"]],
        "mempool": {"mbufs": 32767},
        "flows": {"max": "64k"},
        "log": {"level": "info"},  # the per-second stats lines are info
        "mgmt": {"port": port, "threads": args.api_threads, "max_connections": 512,
                 "snapshot": args.snapshot,
                 "max_connections_per_ip": 256,
                 "tokens": [{"name": "bench", "role": "viewer",
                             "sha256": apilib.sha256(token)}]},
    }
    if args.tls:
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-keyout", key, "-out", cert], check=True,
                       capture_output=True)
        os.chmod(key, 0o600)
        cfg["mgmt"]["tls"] = {"cert": cert, "key": key}
    if args.user:
        cfg["privileges"] = {"user": args.user}
    cfg_path = os.path.join(work, "vigil.yaml")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    cmd = [args.vigild, "-c", cfg_path, "--stats", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reader = benchlib.VigildStats(proc.stdout)
    reader.start()
    base = f"{'https' if args.tls else 'http'}://127.0.0.1:{port}"
    phases = []
    try:
        deadline = time.time() + 30
        while not any("API on" in line for line in reader.lines):
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("vigild did not start:\n" + "".join(reader.lines[-30:]))
            time.sleep(0.2)
        time.sleep(2)  # first stats samples
        load_before = os.getloadavg()
        plan = [("idle", None), ("GET /api/v1/status", "/api/v1/status"), ("idle", None),
                ("GET /metrics", "/metrics")] * args.rounds + [("idle", None)]
        for name, path in plan:
            t0 = time.time()
            w = None
            if path is None:
                time.sleep(args.seconds)
            else:
                w = wrk(base + path, token, args.seconds, args.connections, args.threads,
                        args.wrk_cpu)
            t1 = time.time()
            pps = reader.between(t0, t1)
            pps = pps[1:] if len(pps) > 2 else pps  # the phase's first second is mixed
            phases.append({"phase": name, "wrk": w, "forwarding_mpps":
                           statistics.median(pps) / 1e6 if pps else None,
                           "forwarding_samples": len(pps)})
            print(f"{name:22s} fwd {phases[-1]['forwarding_mpps'] or 0:7.3f} Mpps"
                  + (f"   API {w['requests_per_s']:9.0f} req/s  p50 {w['latency_p50']}"
                     f"  p99 {w['latency_p99']}  non-2xx {w['non_2xx']}" if w else ""),
                  flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        reader.join(5)
        shutil.rmtree(work, ignore_errors=True)
    def med(xs):
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else None

    summary = {}
    for name in ("idle", "GET /api/v1/status", "GET /metrics"):
        ph = [p for p in phases if p["phase"] == name]
        summary[name] = {
            "forwarding_mpps": med([p["forwarding_mpps"] for p in ph]),
            "requests_per_s": med([p["wrk"]["requests_per_s"] for p in ph if p["wrk"]]),
            "latency_p99": [p["wrk"]["latency_p99"] for p in ph if p["wrk"]],
        }
    print("\nmedians over %d rounds (load average before: %.1f %.1f %.1f, after: %.1f %.1f %.1f)"
          % ((args.rounds,) + tuple(load_before) + tuple(os.getloadavg())))
    for name, x in summary.items():
        print(f"{name:22s} fwd {x['forwarding_mpps'] or 0:7.3f} Mpps"
              + (f"   API {x['requests_per_s']:9.0f} req/s" if x["requests_per_s"] else ""))
    doc = {
        "benchmark": "api-load",
        "summary": summary,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": {"cpu": benchlib.cpu_model(), "cores": os.cpu_count(),
                    "kernel": platform.release()},
        "vigild": {"lcores": "control 0, worker 1", "mgmt_threads": args.api_threads,
                   "tls": args.tls, "user": args.user,
                   "snapshot": args.snapshot,
                   "ports": "net_pcap infinite_rx -> net_null"},
        "pcap": args.pcap or "vg-pktgen --flows 1000 --proto udp --size 64 --per-flow 4",
        "phases": phases,
    }
    idle = [p["forwarding_mpps"] for p in phases if p["wrk"] is None and p["forwarding_mpps"]]
    for p in phases:
        if p["wrk"] is not None and idle and p["forwarding_mpps"]:
            p["forwarding_vs_idle"] = p["forwarding_mpps"] / statistics.median(idle)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
