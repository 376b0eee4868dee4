#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Several workers on multi-queue RSS ports: the same decisions as one worker (issue 16).

Each case of tests/cases named here runs through vigild three ways, with run.py's run_case:

  1 worker  on net_pcap ports, as the cases suite runs it, with the case's own checks;
  2 workers on net_vgsynth ports (tools/synth) replaying the same captures with 2 RX/TX queues
            and NIC-like RSS (the PMD hashes every frame with rte_softrss on the key and hash
            functions vigild configured and hands each queue exactly its frames);
  4 workers on 4 queues the same way.

The worker lcores share the machine's CPUs (lcores.cpus: [0, 1]: EAL --lcores 1@1,2@0,...):
these tests check correctness, not speed. Every multi-worker run must show:

  - the ports had the workers' number of queues (RSS was used, not one queue);
  - every flow (5-tuple, either direction) in flow events comes from one worker only;
  - the per-worker counters (status workers[]: flows, parse, policy, fragments, events) sum to
    the totals, and the packets the workers parsed are the packets the ports received;
  - shutdown drained every worker's events: the events file holds every event the workers
    sent, none lost;
  - as many mid-stream pick-ups as one worker (a connection split between two workers would
    be picked up mid-stream by the one that missed its start: counted twice);
  - the frames each port sent equal the one-worker run's, as multisets (queues are written
    into one capture in the order the workers send, not the wire's);
  - the same alerts (EVE: signature id, action, 5-tuple, packet time), and the same flow
    records (flow_start and flow_end: 5-tuple, VLAN, ports, packets and bytes each way, TCP
    flags and state, verdict, first and last packet time).

Anomaly alerts are compared on signature, action and addresses only (alert_key says why).
Every run is on the capture's clock (dataplane.clock: packet). Excluded from the comparison,
because a worker's packet clock moves only with its own packets: when and why a flow ends
(flow_end time_ns and reason: in flows-mixed the UDP flow 10.1.1.1:6000 ends by timeout 30 s
after its last packet with one worker, whose clock the other flows' later packets move; with
2 workers its worker sees no later packet and ends it at shutdown, at its own last packet's
time), and flow_update events (emitted as the clock moves). Identifiers (flow_id, seq, worker)
differ by construction.

Across the whole run at least half of the cases must have spread their flows over two or more
workers (else the test would say nothing). Exit 0 pass, 1 fail, 77 when the plugin is absent.

  tests/cases/run_mq.py --vigild PATH --synth-pmd PATH [--only CASE] [--worker-counts 2,4]
"""
import argparse
import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as cases  # noqa: E402
import pcapfile  # noqa: E402  (tests/lib, on run.py's path)
from synthpmd import private_plugin  # noqa: E402

# Cases with alerts, drops, rejects (injected RSTs), TCP streams across segments, fragments,
# DNS, mid-stream pick-ups, application-layer parsing, verdicts in both directions.
CASES = [
    "flows-mixed",          # TCP session, DNS, ICMP, IPv6, VLAN, a fragmented datagram, timeouts
    "flows-midstream",      # mid-stream pick-ups and refusals
    "policy-verdicts",      # policy drops both ways, ARP and LLDP (non-IP: queue 0)
    "sig-stream",           # a match across two TCP segments drops the flow both ways
    "sig-fragments",        # reassembled fragments scanned, the completing fragment dropped
    "sig-frag-overlap",     # overlapping fragments dropped with decoder alerts
    "sig-reject",           # reject: a TCP reset sent back, the flow dropped
    "sig-applayer",         # HTTP, DNS, TLS rules inline
    "eve-applayer",         # application layer in alerts and flow records
    "anomaly-dns-tunnel",   # DNS tunnel findings over 120 queries
    "anomaly-portscan-horizontal",  # one scanner, many hosts: its flows on every worker
    "anomaly-flash-crowd",  # many clients, one server
    "anomaly-synflood-spoofed",  # SYNs from spoofed sources
    "pair-both-directions",  # plain forwarding both ways
    "policy-reject",        # reject verdicts: RSTs and ICMP unreachables sent back
]

# Keys of a flow record that must be equal; the rest are excluded (see above).
FLOW_EXCLUDE = {"flow_id", "seq", "worker"}
END_EXCLUDE = {"time_ns", "reason"}  # flow_end only: when and why the flow ended
SUMMED = ("flows", "parse", "policy", "fragments", "events")
NOT_SUMMED = {"memory_per_flow"}


def canon(e):
    a = (e.get("src"), e.get("sport"))
    b = (e.get("dst"), e.get("dport"))
    return (e.get("proto"), e.get("vlan")) + tuple(sorted([a, b], key=repr))


def alert_key(a):
    """What must be equal in an alert: the signature, action and 5-tuple; for signature
    alerts the whole line but identifiers. Anomaly alerts (vigil.kind "anomaly") are raised by
    the control lcore's detectors from the workers' flow events, which with several workers
    reach it in another interleaving: the same detector fires for the same source, but may at
    another event, so its time and figures may differ (seen: anomaly-portscan-horizontal's
    alert at 01.3804 s instead of 01.390 s; with 4-tuple RSS and before control merged the
    events by time, anomaly-dns-tunnel's "one query every 491 ms" instead of 250 ms)."""
    if a.get("vigil", {}).get("kind") == "anomaly":
        keep = {"alert": {k: a["alert"].get(k) for k in ("signature_id", "action")},
                **{k: a.get(k) for k in ("proto", "src_ip", "src_port", "dest_ip",
                                         "dest_port", "in_iface")}}
    else:
        keep = cases.strip_unstable({k: v for k, v in a.items() if k != "flow_id"})
    return json.dumps(keep, sort_keys=True)


def leaves(o, path=""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(o, (int, float)) and not isinstance(o, bool):
        yield path, o


class Variant:
    own_checks = False

    def __init__(self, workers, synth_pmd=None, sym_key=True):
        self.workers = workers
        self.synth_pmd = synth_pmd
        self.sym_key = sym_key
        self.extra = "" if sym_key else ",sym_key=0"
        self.result = None

    def label(self):
        return (f"{self.workers} worker{'s' if self.workers > 1 else ''} on "
                + (f"net_vgsynth, {self.workers} queues" if self.synth_pmd else "net_pcap")
                + ("" if self.sym_key else ", refusing the symmetric key"))

    def ports(self, i, inp, out):
        if self.synth_pmd is None:
            return f"net_pcap{i}" + (f",rx_pcap={inp}" if inp else "") + f",tx_pcap={out}"
        return (f"net_vgsynth{i}," + (f"pcap={inp}" if inp else "rx=0") + f",tx_pcap={out}"
                + self.extra)

    def config(self, cfg, work):
        if self.workers > 1:
            cfg["lcores"] = {"control": 0, "workers": list(range(1, self.workers + 1)),
                             "cpus": [0, 1]}
        if self.synth_pmd:
            cfg["eal"]["args"] = cfg["eal"].get("args", []) + ["-d", self.synth_pmd]
        # the EVE log always, to compare alerts (run.py sets it only for cases with alerts)
        cfg.setdefault("alerts", {}).setdefault("eve_log", os.path.join(work, "eve.json"))
        # on the capture's clock, as run.py --bursts: times then come from the packets
        cfg.setdefault("dataplane", {})["clock"] = "packet"

    def check(self, work, cfg, proc):
        problems = []
        res = {"outputs": {}, "flows": [], "alerts": [], "midstream": 0, "active": 0,
               "stderr": proc.stderr}
        for p in cfg["ports"]:
            path = os.path.join(work, f"out-{p['name']}.pcap")
            frames = pcapfile.read(path)[1] if os.path.exists(path) else []
            res["outputs"][p["name"]] = collections.Counter(x.data.hex() for x in frames)
        with open(os.path.join(work, "stats.json")) as f:
            stats = json.load(f)
        with open(os.path.join(work, "events.jsonl")) as f:
            events = [json.loads(x) for x in f if x.strip()]
        eve = []
        if os.path.exists(os.path.join(work, "eve.json")):
            with open(os.path.join(work, "eve.json")) as f:
                eve = [json.loads(x) for x in f if x.strip()]
        workers = stats["workers"]
        res["steering"] = [p.get("steering", {}).get("mode") if isinstance(
            p.get("steering"), dict) else None for p in stats["ports"]]
        # the ports had as many queues as workers (with the symmetric key: RSS)
        if self.synth_pmd and self.sym_key:
            for p in stats["ports"]:
                if p.get("queues") != self.workers:
                    problems.append(f"port {p['name']}: {p.get('queues')} queues, expected "
                                    f"{self.workers}")
        # every flow on one worker
        owner = collections.defaultdict(set)
        for e in events:
            if e["type"].startswith("flow_"):
                owner[canon(e)].add(e["worker"])
        for k, ws in owner.items():
            if len(ws) > 1:
                problems.append(f"flow {k} reported by workers {sorted(ws)}")
        # per-worker counters sum to the totals
        for sec in SUMMED:
            if sec not in stats or any(sec not in w for w in workers):
                continue
            per = [dict(leaves(w[sec])) for w in workers]
            for path, total in leaves(stats[sec]):
                if path.split(".")[-1] in NOT_SUMMED:
                    continue
                s = sum(x.get(path, 0) for x in per)
                if s != total:
                    problems.append(f"{sec}.{path}: workers sum to {s}, total {total}")
        # shutdown drained every worker's events: all sent reached the events file, none lost
        ev = stats.get("events", {})
        if ev.get("lost") or ev.get("sent") != len(events):
            problems.append(f"events: {ev} from the workers, {len(events)} in the file")
        rx = sum(p["rx_packets"] for p in stats["ports"])
        parsed = sum(w["parse"]["ipv4"] + w["parse"]["ipv6"] + w["parse"]["non_ip"]
                     for w in workers)
        if parsed != rx:
            problems.append(f"workers parsed {parsed} packets, the ports received {rx}")
        res["active"] = sum(1 for w in workers if w["parse"]["ipv4"] + w["parse"]["ipv6"] > 0)
        res["midstream"] = stats["flows"]["midstream"]
        res["flows"] = collections.Counter(
            json.dumps({k: v for k, v in e.items() if k not in FLOW_EXCLUDE and not (
                e["type"] == "flow_end" and k in END_EXCLUDE)}, sort_keys=True)
            for e in events if e["type"] in ("flow_start", "flow_end"))
        res["alerts"] = collections.Counter(alert_key(a) for a in eve
                                            if a.get("event_type") == "alert")
        self.result = res
        return problems


def diff_counters(what, ref, got):
    missing = ref - got
    extra = got - ref
    out = []
    if missing:
        out.append(f"{what}: {sum(missing.values())} of one worker's not here, e.g. "
                   f"{next(iter(missing))[:300]}")
    if extra:
        out.append(f"{what}: {sum(extra.values())} not in one worker's, e.g. "
                   f"{next(iter(extra))[:300]}")
    return out


def compare(ref, got):
    problems = []
    for port, frames in ref["outputs"].items():
        problems += diff_counters(f"port {port} output", frames, got["outputs"].get(port,
                                  collections.Counter()))
    problems += diff_counters("flow records", ref["flows"], got["flows"])
    problems += diff_counters("alerts", ref["alerts"], got["alerts"])
    if ref["midstream"] != got["midstream"]:
        problems.append(f"{got['midstream']} mid-stream pick-ups, one worker had "
                        f"{ref['midstream']}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--synth-pmd", required=True)
    ap.add_argument("--only", action="append")
    ap.add_argument("--worker-counts", default="2,4", help="the multi-worker runs (2,4)")
    ap.add_argument("--no-huge", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--software", action="store_true",
                    help="the multi-worker runs on net_pcap (one queue: vigild's software "
                    "dispatch) instead of net_vgsynth's RSS queues")
    ap.add_argument("--sym-key-refused", action="store_true",
                    help="2 workers on net_vgsynth,sym_key=0 (a driver that refuses the "
                    "symmetric key): vigild must not use RSS there (status ports[].steering."
                    "mode not RSS) and must still decide as one worker; skipped (77) while the "
                    "status has no ports[].steering.mode")
    ap.add_argument("--idle-ms", type=int, default=200)
    args = ap.parse_args()
    args.bpf_dir = None
    args.workers = 1  # run.py's own --workers mode is not used: the variants set the lcores
    if not os.path.exists(args.synth_pmd):
        print(f"skip: no net_vgsynth plugin at {args.synth_pmd}")
        return 77
    with private_plugin(args.synth_pmd) as args.synth_pmd:
        return run_all(args)


def run_all(args):
    here = os.path.dirname(os.path.abspath(__file__))
    names = args.only or CASES
    counts = [int(x) for x in args.worker_counts.split(",")]
    if args.sym_key_refused:
        counts = [2]
    failed, spread, no_steering = 0, 0, 0
    for name in names:
        d = os.path.join(here, name)
        t0 = time.monotonic()
        base = Variant(1)
        base.own_checks = True
        _, _, problems, _ = cases.run_case(d, args, variant=base)
        problems = [f"1 worker on net_pcap: {p}" for p in problems]
        active = []
        for w in counts:
            v = Variant(w, None if args.software else args.synth_pmd,
                        sym_key=not args.sym_key_refused)
            _, _, probs, _ = cases.run_case(d, args, variant=v)
            if args.sym_key_refused and v.result:
                modes = v.result["steering"]
                if None in modes:
                    no_steering += 1
                for i, m in enumerate(modes):
                    if m is not None and "rss" in m.lower():
                        probs.append(f"port {i}: steering {m!r} on a device that refused the "
                                     "symmetric key (the two directions of a flow may reach "
                                     "two workers)")
            if not probs and base.result and v.result:
                probs = compare(base.result, v.result)
            problems += [f"{v.label()}: {p}" for p in probs]
            active.append(v.result["active"] if v.result else 0)
        if max(active, default=0) >= 2:
            spread += 1
        took = time.monotonic() - t0
        if problems:
            failed += 1
            print(f"FAIL {name} ({took:.1f} s)")
            for p in problems:
                print("  " + p.replace("\n", "\n  "))
        else:
            print(f"ok   {name}: equal at 1, " + ", ".join(
                f"{w} workers ({a} with packets)" for w, a in zip(counts, active))
                + f" ({took:.1f} s)", flush=True)
    print(f"{len(names) - failed} of {len(names)} cases equal with "
          f"{' and '.join(map(str, counts))} workers; {spread} spread their flows over two "
          "or more workers")
    if args.sym_key_refused:
        if no_steering:
            # The steering decision (issue 16 items 1 and 2) is not in this vigild: what ran
            # above is printed for information, the test is skipped.
            print("skip: the status has no ports[].steering.mode (symmetric-or-none steering "
                  "and the software dispatch are not merged)")
            return 77
        return 1 if failed else 0
    if spread * 2 < len(names):
        print("FAIL: fewer than half the cases spread over several workers: the test would "
              "not show much")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
