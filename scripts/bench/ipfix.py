#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""What IPFIX export (export.ipfix, docs/OPERATIONS.md) costs and how far it goes. Two parts:

1. Forwarding with export on against off, in the same run, alternating (off, on, off, on, ...):
   scripts/bench/run.py with vigild alone on net_vgsynth (64-byte TCP, 1M flows shuffled) and
   flows.max 64k, so that the table evicts all the time and every eviction is a flow end, a
   record to export: the worst case for the exporter. With export on, Debian's nfcapd receives
   on loopback (UDP), pinned to the control core (0) with taskset, off the worker's (1)
   (--collector-cpu any leaves it free: on a 2-core machine it then takes the worker's time). Reports each run's Mpps, the on/off ratio of the medians, and for the "on"
   runs the records sent and lost as vigild counted them, the flow ends control drained, the
   events lost on the workers' rings (before control, export or not), and the flows nfcapd
   stored.

2. The exporter alone (build/control/vigil-ipfix-bench): flow ends offered at a set rate for
   --seconds, to nfcapd over UDP and to a TCP sink (this script's, reading as fast as it can;
   nfcapd has no TCP listener). The rate doubles from 25k/s until records are lost (counted by
   the exporter: queue full or send failed), then bisects; reports the highest rate with no
   counted loss, what nfcapd stored at that rate (UDP can lose datagrams past the exporter,
   uncounted by it), and the flat-out send rate (--rate 0).

Writes JSON and prints the figures. Not a test: speed fails nothing.

  scripts/bench/ipfix.py OUT.json [--build build] [--seconds 5] [--repeat 2]
                         [--collector-cpu 0|any] [--exporter-seconds 2] [--quick]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SYNTH = "flows=1M,order=shuffle,proto=tcp,size=64"


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Nfcapd:
    """nfcapd on a loopback port, writing to a directory of its own."""

    def __init__(self, work, cpu=None):
        self.dir = tempfile.mkdtemp(prefix="nfcapd-", dir=work)
        self.port = free_port(socket.SOCK_DGRAM)
        pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.proc = subprocess.Popen(pin + ["nfcapd", "-b", "127.0.0.1", "-p", str(self.port),
                                      "-w", self.dir, "-t", "3600", "-S", "0", "-B", "8388608"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        want = ":%04X" % self.port
        t = time.monotonic()
        while time.monotonic() - t < 5:
            with open("/proc/net/udp") as f:
                if any(ln.split()[1].endswith(want) for ln in f.readlines()[1:]):
                    return
            time.sleep(0.05)
        raise SystemExit("nfcapd did not start")

    def stop(self):
        """Stop it; the flows its file holds (nfdump -I)."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        r = subprocess.run(["nfdump", "-R", self.dir, "-I"], capture_output=True, text=True,
                           timeout=60)
        m = re.search(r"^Flows: (\d+)$", r.stdout, re.M)
        return int(m.group(1)) if m else 0


class TcpSink(threading.Thread):
    """Accepts connections and reads them to their end, counting bytes."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.bytes = 0

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            while True:
                d = conn.recv(1 << 20)
                if not d:
                    break
                self.bytes += len(d)
            conn.close()


def forwarding(args, work):
    runs = []
    for i in range(args.repeat):
        for variant in ("off", "on"):
            # The collector on the control core (0), off the worker's (1): on a machine
            # of its own in practice; here its receiving would take the worker's time.
            cpu = None if args.collector_cpu == "any" else args.collector_cpu
            nf = Nfcapd(work, cpu=cpu) if variant == "on" else None
            js = os.path.join(work, f"fwd-{variant}-{i + 1}.json")
            cmd = [sys.executable, os.path.join(ROOT, "scripts/bench/run.py"), "--synth", SYNTH,
                   "--flows-max", "64k", "--peers", "vigild", "--repeat", "1",
                   "--seconds", str(args.seconds), "--json", js, "--name", f"ipfix-{variant}",
                   "--vigild", os.path.join(args.build, "app", "vigild")]
            if nf:
                cmd += ["--vigild-extra", json.dumps(
                    {"export": {"ipfix": {"collector": f"127.0.0.1:{nf.port}"}}})]
            print("+", " ".join(cmd), flush=True)
            try:
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            finally:
                stored = nf.stop() if nf else None
            with open(js) as f:
                v = json.load(f)["peers"]["vigild"]
            r = v["runs"][0]
            ev = r.get("control", {}).get("events", {})
            row = {"variant": variant, "mpps": v["median_rx_mpps"],
                   "cycles_per_packet": v["median_cycles_per_packet"],
                   "flow_ends_drained": ev.get("by_type", {}).get("flow_end"),
                   "events_lost_on_rings": r.get("events", {}).get("lost"),
                   "ipfix": r.get("ipfix"), "nfcapd_flows_stored": stored}
            runs.append(row)
            x = row["ipfix"] or {}
            print(f"{variant:4s} {row['mpps']:6.3f} Mpps {row['cycles_per_packet']:8.1f} "
                  f"cycles/packet; flow ends drained {row['flow_ends_drained']}, events lost "
                  f"on the rings {row['events_lost_on_rings']}"
                  + (f"; ipfix sent {x.get('records_sent')}, lost {x.get('records_lost')}, "
                     f"nfcapd stored {stored}" if variant == "on" else ""), flush=True)
    off = statistics.median(r["mpps"] for r in runs if r["variant"] == "off")
    on = statistics.median(r["mpps"] for r in runs if r["variant"] == "on")
    return {"input": "net_vgsynth " + SYNTH, "flows_max": "64k", "seconds": args.seconds,
            "collector_cpu": args.collector_cpu, "runs": runs, "median_mpps_off": off, "median_mpps_on": on,
            "ratio_on_to_off": on / off if off else None}


def bench_once(args, transport, rate):
    sink = nf = None
    if transport == "udp":
        nf = Nfcapd(args.work)
        collector = f"127.0.0.1:{nf.port}"
    else:
        sink = TcpSink()
        sink.start()
        collector = f"127.0.0.1:{sink.port}"
    cmd = [os.path.join(args.build, "control", "vigil-ipfix-bench"), collector, "--rate",
           str(rate), "--seconds", str(args.exporter_seconds)]
    if transport == "tcp":
        cmd.append("--tcp")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    except subprocess.SubprocessError:
        if nf:
            nf.stop()
        raise
    r = json.loads(p.stdout.strip().splitlines()[-1])
    if nf:
        r["nfcapd_flows_stored"] = nf.stop()
    else:
        time.sleep(0.2)
        r["sink_bytes"] = sink.bytes
        sink.sock.close()
    print(f"  {transport} offered {rate or 'flat out':>8}/s: sent {r['sent']}, lost {r['lost']} "
          f"({r['lost_queue_full']} queue full, {r['lost_send']} send), {r['sent_per_s']:.0f}/s"
          + (f", nfcapd stored {r['nfcapd_flows_stored']}" if nf else ""), flush=True)
    return r


def exporter(args, transport):
    steps = []
    rate, good, bad = 25000, None, None
    if args.quick:  # one rate and flat out: the smoke test's shape, no search
        bad = 0
    while bad is None and rate <= 8000000:
        r = bench_once(args, transport, rate)
        steps.append(r)
        if r["lost"] == 0:
            good, rate = rate, rate * 2
        else:
            bad = rate
    if args.quick:
        r = bench_once(args, transport, rate)
        steps.append(r)
        good, bad = (rate, None) if r["lost"] == 0 else (None, rate)
    for _ in range(3 if good and bad else 0):
        mid = (good + bad) // 2
        r = bench_once(args, transport, mid)
        steps.append(r)
        if r["lost"] == 0:
            good = mid
        else:
            bad = mid
    flat = bench_once(args, transport, 0)
    at_good = next((s for s in reversed(steps) if s["rate_offered"] == good), None)
    return {"transport": transport, "max_rate_without_counted_loss": good,
            "first_rate_with_loss": bad,
            "nfcapd_flows_stored_at_max": at_good.get("nfcapd_flows_stored") if at_good else None,
            "sent_at_max": at_good["sent"] if at_good else None,
            "flat_out_sent_per_s": flat["sent_per_s"], "flat_out": flat, "steps": steps}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=int, default=5, help="forwarding runs' measured seconds")
    ap.add_argument("--repeat", type=int, default=2, help="off/on pairs")
    ap.add_argument("--exporter-seconds", dest="exporter_seconds", default="2")
    ap.add_argument("--quick", action="store_true",
                    help="part 2 at 25k/s and flat out only, no search (tests/bench)")
    ap.add_argument("--collector-cpu", dest="collector_cpu", default="0",
                    help="CPU for nfcapd in part 1 (taskset), or 'any' to leave it free")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    for tool in ("nfcapd", "nfdump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (scripts/deps.sh installs nfdump)")
    args.work = tempfile.mkdtemp(prefix="vigil-ipfix-bench-")
    try:
        doc = {"benchmark": "ipfix", "command": " ".join(sys.argv),
               "machine": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()}}
        print("1. forwarding, export off against on", flush=True)
        doc["forwarding"] = forwarding(args, args.work)
        print("2. the exporter alone", flush=True)
        doc["exporter"] = [exporter(args, t) for t in ("udp", "tcp")]
        doc["machine"]["loadavg_end"] = os.getloadavg()
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    fw = doc["forwarding"]
    print(f"\nforwarding: {fw['median_mpps_off']:.3f} Mpps off, {fw['median_mpps_on']:.3f} Mpps "
          f"on: ratio {fw['ratio_on_to_off']:.3f}")
    for e in doc["exporter"]:
        print(f"exporter {e['transport']}: {e['max_rate_without_counted_loss']} records/s "
              f"without counted loss (first loss at {e['first_rate_with_loss']}/s), flat out "
              f"{e['flat_out_sent_per_s']:.0f}/s"
              + (f"; nfcapd stored {e['nfcapd_flows_stored_at_max']} of "
                 f"{e['sent_at_max']} sent at the max" if e["transport"] == "udp" else ""))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
