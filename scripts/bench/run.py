#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run one benchmark scenario through vigild and its peers, testpmd-style: one capture replayed
by net_pcap (infinite_rx=1) into net_null, the same vdevs, mbufs and lcores for every program:

  testpmd  dpdk-testpmd --forward-mode=io, the I/O ceiling
  vigild   Vigil (policy and signatures from the scenario, once this vigild loads them)
  l3fwd    DPDK's l3fwd example, ACL mode, with the policy translated (stateless ACL peer)
  ovs      Open vSwitch with DPDK and conntrack flows equivalent to the policy (stateful peer)

Runs alternate (testpmd, vigild, l3fwd, ovs, testpmd, ...); each lasts warm-up + --seconds, and
its rate is the median of the per-second samples after the warm-up. Reports medians over the
repeats, each as a ratio to testpmd, and writes JSON. A peer that cannot run here (not
installed, no hugepages, a capture too large for it) is reported as skipped with the reason.
Not a test: it fails on nothing but errors.

  scripts/bench/run.py SCENARIO.yaml [--seconds N] [--repeat N] [--peers a,b] [--json FILE]
  scripts/bench/run.py --pcap FILE [--policy FILE] [--flows-max N] ...
  scripts/bench/run.py --synth flows=100k,order=shuffle [--peers testpmd,vigild,l3fwd-em] ...

Instead of a capture, the input can be net_vgsynth (tools/synth), the project's synthetic PMD,
loaded into every program with EAL -d: N flows generated at a flat cost per packet, no stored
frames (`synth:` in a scenario, or --synth DEVARGS).

A scenario file (scripts/bench/scenarios/) names the capture (a file, or vg-pktgen options that
make it, cached by their hash), the policy, the signatures and the run parameters; options on
the command line override it.
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import peers  # noqa: E402
import policy_xlate  # noqa: E402
from benchlib import ROOT, BenchError, Skip  # noqa: E402

DEFAULTS = {"seconds": 10, "warmup": 2, "repeat": 3, "cores": [0, 1], "flows_max": "256k",
            "data_room": 2176, "peers": list(peers.PEERS), "policy": None, "signatures": None,
            "classification": None, "vars": None, "inspection": "all", "without_sids": []}
SCENARIO_KEYS = {"description", "pcap", "generate", "synth", "policy", "signatures", "classification",
                 "vars", "inspection", "flows_max", "cores", "seconds", "warmup", "repeat",
                 "peers", "data_room", "label", "without_sids"}
VAR_KINDS = ("address", "port")
# net_vgsynth devargs a scenario's synth: mapping may set (tools/synth/vg_synth.c).
SYNTH_KEYS = {"flows": str, "order": ("seq", "shuffle"), "dir": ("both", "fwd"),
              "proto": ("tcp", "udp"), "handshake": (0, 1), "data": (0, 1), "size": str, "dport": int,
              "seed": int}


class ScenarioSkip(Exception):
    """A scenario whose input is not on this machine (a rule set kept outside the repository):
    nothing is measured, and the result says why."""


def find_pktgen(explicit):
    for b in ([explicit] if explicit else []) + [os.environ.get("VG_PKTGEN", "")] + [
            os.path.join(ROOT, d, "tools", "pktgen", "vg-pktgen")
            for d in ("build", "build-pktgen", "build-bench")]:
        if b and os.access(b, os.X_OK):
            return b
    return shutil.which("vg-pktgen")


def generate_pcap(gen_args, data_dir, pktgen):
    """vg-pktgen output is a function of its options (seeded), so the options' hash names the
    file and a second run reuses it."""
    key = hashlib.sha256(json.dumps(gen_args).encode()).hexdigest()[:16]
    path = os.path.join(data_dir, f"gen-{key}.pcap")
    if os.path.exists(path):
        return path
    if not pktgen:
        raise BenchError("vg-pktgen not found: build it (ninja -C build tools/pktgen/vg-pktgen)"
                         " or set VG_PKTGEN")
    os.makedirs(data_dir, exist_ok=True)
    tmp = path + ".part"
    p = subprocess.run([pktgen, "-o", tmp, "--quiet", *[str(a) for a in gen_args]],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchError(f"vg-pktgen {' '.join(map(str, gen_args))}: {p.stderr.strip()}")
    os.rename(tmp, path)
    return path


def synth_devargs(spec, where):
    """A scenario's synth: mapping (or a devargs string) as net_vgsynth devargs."""
    if isinstance(spec, str):
        items = [kv.partition("=") for kv in spec.split(",") if kv]
        spec = {k: v for k, _, v in items}
    if not isinstance(spec, dict):
        raise BenchError(f"{where}: synth is a mapping of {', '.join(sorted(SYNTH_KEYS))}")
    out = []
    for k, v in spec.items():
        kind = SYNTH_KEYS.get(k)
        if kind is None:
            raise BenchError(f"{where}: synth: unknown key {k} (accepted: "
                             f"{', '.join(sorted(SYNTH_KEYS))})")
        if isinstance(kind, tuple) and v not in kind and str(v) not in map(str, kind):
            raise BenchError(f"{where}: synth.{k}: one of {', '.join(map(str, kind))} "
                             f"(got {v!r})")
        out.append(f"{k}={v}")
    return ",".join(out)


def find_synth_pmd(explicit):
    for b in ([explicit] if explicit else []) + [os.environ.get("VG_SYNTH_PMD", "")] + [
            os.path.join(ROOT, d, "tools", "synth", "librte_net_vgsynth.so")
            for d in ("build", "build-bench")]:
        if b and os.path.exists(b):
            return os.path.abspath(b)
    raise BenchError("net_vgsynth not built (ninja -C build tools/synth/librte_net_vgsynth.so),"
                     " or give --synth-pmd / VG_SYNTH_PMD")


def synth_info(devargs):
    """Frame sizes of a net_vgsynth input, for the checks a capture's sizes feed."""
    kv = dict(x.partition("=")[::2] for x in devargs.split(",") if x)
    size = kv.get("size", "64")
    if size == "imix":
        return {"packets": 0, "max_len": 1496, "mean_len": round((7 * 60 + 4 * 572 + 1496) / 12, 1)}
    return {"packets": 0, "max_len": int(size) - 4, "mean_len": int(size) - 4}


def load_scenario(path):
    import yaml
    try:
        with open(path) as f:
            sc = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise BenchError(f"{path}: {e}")
    if not isinstance(sc, dict):
        raise BenchError(f"{path}: a scenario is a mapping of {', '.join(sorted(SCENARIO_KEYS))}")
    unknown = set(sc) - SCENARIO_KEYS
    if unknown:
        raise BenchError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} (accepted: "
                         f"{', '.join(sorted(SCENARIO_KEYS))})")
    base = os.path.dirname(os.path.abspath(path))
    for k in ("pcap", "policy", "signatures", "classification"):
        # Relative paths in a scenario are relative to the repository root, or to the file;
        # one that is in neither place is named from the root (what the scenario says).
        if sc.get(k) and not os.path.isabs(sc[k]):
            cand = os.path.join(ROOT, sc[k])
            other = os.path.join(base, sc[k])
            sc[k] = os.path.normpath(cand if os.path.exists(cand) or not os.path.exists(other)
                                     else other)
    if sc.get("vars") is not None:
        check_vars(sc["vars"], path)
    return sc


def check_vars(v, where):
    """vars: {address: {NAME: VALUE}, port: {NAME: VALUE}}, as signatures.vars in vigil.yaml."""
    if not isinstance(v, dict) or set(v) - set(VAR_KINDS) or not all(
            isinstance(m, dict) and all(isinstance(x, str) for x in m.values())
            for m in v.values()):
        raise BenchError(f"{where}: vars is a mapping of address and/or port to NAME: \"VALUE\" "
                         f"pairs (as signatures.vars in vigil.yaml), got {v!r}")


def parse_var(text):
    """--var address.HOME_NET=[192.168.0.0/16] -> ("address", "HOME_NET", "[...]")."""
    kind, _, rest = text.partition(".")
    name, eq, value = rest.partition("=")
    if kind not in VAR_KINDS or not name or not eq:
        raise BenchError(f"--var '{text}': expected address.NAME=VALUE or port.NAME=VALUE")
    return kind, name, value


class Ctx:
    """What every peer of one scenario shares: input, memory, lcores, translated rules."""

    def __init__(self, p, work):
        self.args = p["args"]
        self.work = work
        self.pcap = p.get("pcap")
        # net_vgsynth (synth input): devargs, and the plugin every program loads with -d.
        self.synth = p.get("synth")
        self.eal_plugins = ["-d", p["synth_pmd"]] if self.synth else []
        info = synth_info(self.synth) if self.synth else benchlib.pcap_info(self.pcap)
        self.packets = info["packets"]
        self.pcap_info = info
        self.main, self.worker = p["cores"][0], p["cores"][1]
        self.seconds, self.warmup = p["seconds"], p["warmup"]
        self.data_room = p["data_room"]
        if info["max_len"] > self.data_room - 128:
            raise BenchError(f"{self.pcap or self.synth}: a {info['max_len']}-byte packet does not fit a "
                             f"{self.data_room}-byte mbuf data room (--data-room)")
        self.flows_max = p["flows_max"]
        self.policy, self.signatures = p["policy"], p["signatures"]
        self.classification, self.vars = p["classification"], p["vars"]
        self.inspection = p["inspection"]
        self.without_sids = p["without_sids"]
        self.mbufs = benchlib.mbufs_for(self.packets)
        self.mem_args, self.memory, self.no_huge_forced, pool_mb = benchlib.eal_memory(
            self.mbufs, self.data_room, self.args.no_huge)
        self.no_huge = self.no_huge_forced
        # vigild's --no-huge memory: the pool, its flow table (about 210 bytes a flow, with
        # room to spare) and the rest of its heap.
        self.mem_mb = pool_mb + benchlib.parse_count(self.flows_max) * 256 // (1 << 20) + 768
        self.tsc_hz = None
        self.cache = {}
        self.skipped_rules = []
        if self.policy:
            default, rules, skipped = policy_xlate.translate(self.policy, skip_unmapped=True)
            self.skipped_rules = skipped
            self.rule_count = len(rules)
        else:
            # No policy: vigild forwards everything and tracks flows; the peers do the same
            # (l3fwd one allow-all rule, OVS conntrack committing every connection).
            default, rules = "allow", []
            self.rule_count = 0
        self.translated = (default, rules)
        self.run_no = 0

    def prefix(self, tag):
        return f"vgbr{os.getpid()}{tag}"


def tsc_hz_guess():
    try:
        with open("/sys/devices/system/cpu/cpu0/tsc_freq_khz") as f:
            return int(f.read()) * 1000, "sysfs tsc_freq_khz"
    except (OSError, ValueError):
        pass
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1]) * 1e6, "/proc/cpuinfo cpu MHz"
    return None, None


def run_scenario(p):
    """Run every available peer p['repeat'] times, alternating; return the result document."""
    machine = benchlib.machine()
    work = tempfile.mkdtemp(prefix="vigil-bench-")
    keep = p["args"].keep
    try:
        ctx = Ctx(p, work)
        status = {}
        for name in p["peers"]:
            try:
                peers.AVAILABLE[name](ctx)
                status[name] = None
            except Skip as e:
                status[name] = str(e)
                print(f"skip {name}: {e}", flush=True)
        runs = {n: [] for n in p["peers"]}
        failed = {}
        order = []
        for i in range(p["repeat"]):
            for name in p["peers"]:
                if status[name] is not None:
                    continue
                run_dir = os.path.join(work, f"{i + 1}-{name}")
                os.makedirs(run_dir)
                cpus = benchlib.cpu_times()
                try:
                    r = peers.RUN[name](ctx, run_dir)
                except Skip as e:
                    status[name] = str(e)
                    print(f"skip {name}: {e}", flush=True)
                    continue
                except BenchError as e:
                    # One program failing does not void the others' figures; the result
                    # says which failed and why, and run.py exits non-zero.
                    failed[name] = str(e)
                    status[name] = "failed"
                    print(f"FAILED {name}: {e}", flush=True)
                    continue
                r["loadavg"] = benchlib.loadavg()
                # How busy each core was (vigild's control thread drains events on the main
                # core; testpmd's main core idles), and, from the peer, how much of the time
                # its worker thread had its core: less than ~100% means other programs ran
                # there and the figure is theirs too.
                r["cpu_busy_pct"] = benchlib.cpu_busy_pct(cpus, benchlib.cpu_times())
                runs[name].append(r)
                order.append(name)
                cyc = r.get("cycles_per_packet")
                busy = r["cpu_busy_pct"].get(ctx.main)
                print(f"run {i + 1}/{p['repeat']} {name:8s} {r['rx_mpps']:8.2f} Mpps in "
                      f"{r['tx_mpps']:8.2f} Mpps out"
                      + (f"  {cyc:7.1f} cycles/packet" if cyc else "")
                      + (f"  main core {busy:.0f}% busy" if busy is not None else "")
                      + (f", worker on CPU {r['worker_on_cpu_pct']:.0f}%"
                         if r.get("worker_on_cpu_pct") is not None else ""),
                      flush=True)
        tsc_hz, tsc_src = (ctx.tsc_hz, "vigild tsc_hz") if ctx.tsc_hz else tsc_hz_guess()
        doc = {
            "benchmark": "scenario",
            "scenario": p["name"],
            "description": p.get("description", ""),
            "label": p.get("label", ""),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
            "machine": dict(machine, tsc_hz=tsc_hz, tsc_hz_source=tsc_src,
                            loadavg_at_end=benchlib.loadavg()),
            "input": {"pcap": ctx.pcap, **ctx.pcap_info, "generate": p.get("generate"),
                      "synth": (f"net_vgsynth0,{ctx.synth}" if ctx.synth else None),
                      "synth_pmd": p.get("synth_pmd"),
                      "policy": ctx.policy, "policy_rules_mapped": ctx.rule_count,
                      "policy_rules_skipped_for_peers": ctx.skipped_rules,
                      "signatures": ctx.signatures, "classification": ctx.classification,
                      "vars": ctx.vars, "inspection": ctx.inspection,
                      "without_sids": ctx.without_sids,
                      "flows_max": ctx.flows_max,
                      "mbufs": ctx.mbufs, "data_room": ctx.data_room, "memory": ctx.memory},
            "cores": {"main": ctx.main, "worker": ctx.worker},
            "seconds_per_run": ctx.seconds, "warmup_seconds": ctx.warmup,
            "repeat": p["repeat"], "order": order,
            "peers": {},
        }
        for name in p["peers"]:
            rs = runs[name]
            if name in failed:
                doc["peers"][name] = {"status": "failed", "reason": failed[name][-2000:],
                                      "runs": rs}
                continue
            if not rs:
                doc["peers"][name] = {"status": "skipped", "reason": status[name]}
                continue
            s = {"status": "ok" if status[name] is None else "partial",
                 "median_rx_mpps": statistics.median(r["rx_mpps"] for r in rs),
                 "median_tx_mpps": statistics.median(r["tx_mpps"] for r in rs),
                 "runs": rs}
            cyc = [r["cycles_per_packet"] for r in rs if r.get("cycles_per_packet")]
            s["median_cycles_per_packet"] = statistics.median(cyc) if cyc else None
            # One core polls at 100%: its TSC cycles divided by the packets it handled, the
            # same arithmetic for every program.
            s["wall_cycles_per_packet"] = (tsc_hz / (s["median_rx_mpps"] * 1e6)
                                           if tsc_hz and s["median_rx_mpps"] > 0 else None)
            # The best one-second sample of any run: other programs on a shared machine only
            # ever add cycles, so this is the closest to the program's own cost.
            best = max((r.get("rx_mpps_max") or 0) for r in rs)
            s["best_wall_cycles_per_packet"] = tsc_hz / (best * 1e6) if tsc_hz and best else None
            st = [r["stages"]["cycles_per_packet"] for r in rs if r.get("stages")]
            if st:
                # Bench mode: the median of each stage's cycles per packet over the repeats.
                s["median_stage_cycles_per_packet"] = {
                    k: statistics.median(x[k] for x in st) for k in st[0]}
            if status[name] is not None:
                s["reason"] = status[name]
            doc["peers"][name] = s
        base = doc["peers"].get("testpmd", {})
        for name, s in doc["peers"].items():
            if s["status"] in ("ok", "partial") and base.get("status") in ("ok", "partial") \
                    and base["median_rx_mpps"] > 0:
                s["ratio_to_testpmd"] = s["median_rx_mpps"] / base["median_rx_mpps"]
                if s.get("wall_cycles_per_packet") and base.get("wall_cycles_per_packet"):
                    # what the program adds to testpmd io's cost on the same input
                    s["wall_cycles_above_testpmd"] = (s["wall_cycles_per_packet"]
                                                      - base["wall_cycles_per_packet"])
                if s.get("best_wall_cycles_per_packet") and \
                        base.get("best_wall_cycles_per_packet"):
                    s["best_wall_cycles_above_testpmd"] = (s["best_wall_cycles_per_packet"]
                                                           - base["best_wall_cycles_per_packet"])
        v, w = doc["peers"].get("vigild", {}), doc["peers"].get("vigild-without", {})
        if v.get("status") in ("ok", "partial") and w.get("status") in ("ok", "partial") \
                and w["median_rx_mpps"] > 0:
            # what the left-out rules cost: vigild's rate over its rate without them
            v["ratio_to_vigild_without"] = v["median_rx_mpps"] / w["median_rx_mpps"]
        return doc
    finally:
        if keep:
            print(f"kept the run directory {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def print_table(doc):
    src = (doc["input"]["synth"] if doc["input"].get("synth")
           else f"{doc['input']['packets']} packets")
    print(f"\nscenario {doc['scenario']}: {src}, "
          f"{doc['seconds_per_run']} s x {doc['repeat']}, load {doc['machine']['loadavg_at_end']}")
    print(f"{'peer':10s} {'Mpps in':>9s} {'Mpps out':>9s} {'x testpmd':>10s} {'cyc/pkt':>8s} "
          f"{'wall cyc':>9s} {'above testpmd':>13s}")
    for name, s in doc["peers"].items():
        if s["status"] in ("skipped", "failed"):
            print(f"{name:10s} {s['status']}: {s['reason'].splitlines()[0]}")
            continue

        def f(v, fmt):
            return format(v, fmt) if v is not None else "-"
        print(f"{name:10s} {s['median_rx_mpps']:9.2f} {s['median_tx_mpps']:9.2f} "
              f"{f(s.get('ratio_to_testpmd'), '10.2f')} "
              f"{f(s['median_cycles_per_packet'], '8.1f')} "
              f"{f(s['wall_cycles_per_packet'], '9.1f')} "
              f"{f(s.get('wall_cycles_above_testpmd'), '13.1f')}")
    if doc["peers"].get("vigild", {}).get("ratio_to_vigild_without") is not None:
        print(f"  vigild / vigild-without (sids {', '.join(map(str, doc['input']['without_sids']))}"
              f" left out): {doc['peers']['vigild']['ratio_to_vigild_without']:.2f}")
    for name, s in doc["peers"].items():
        if s.get("median_stage_cycles_per_packet"):
            print(f"  {name} cycles/packet by stage: " + ", ".join(
                f"{k} {v:.1f}" for k, v in s["median_stage_cycles_per_packet"].items()))
    for name, s in doc["peers"].items():
        for line in vigild_summary(s):
            print(f"  {name}: {line}")
    for name, s in doc["peers"].items():
        notes = sorted({n for r in s.get("runs", []) for n in r.get("notes", [])})
        for n in notes + ([s["reason"]] if s["status"] == "partial" else []):
            print(f"  {name}: {n}")
    if doc["input"]["policy_rules_skipped_for_peers"]:
        print(f"  l3fwd, ovs: {len(doc['input']['policy_rules_skipped_for_peers'])} policy "
              "rules do not map to their rules and were left out (see the JSON)")


def vigild_summary(s):
    """What vigild's last run inspected, parsed and alerted on, from its --stats-json: lines
    for the table (the counters are totals over the run, start-up and warm-up included)."""
    runs = [r for r in s.get("runs", []) if "flow_counters" in r]
    if not runs:
        return []
    r = runs[-1]
    out = []
    fc, ins, al = r["flow_counters"], r.get("inspection") or {}, r.get("applayer")
    out.append(f"last run: {fc.get('created', 0)} flows created ({fc.get('port_reuse', 0)} on "
               f"a closed tuple), {ins.get('packets', 0)} packets inspected, "
               f"{ins.get('retransmitted', 0)} retransmitted, {ins.get('alerts', 0)} alerts"
               + (f", {r['signature_rules']} signatures" if r.get("signature_rules") else "")
               + (f", start-up {r['startup_s']} s" if r.get("startup_s") else ""))
    if al:
        protos = ", ".join(f"{k} {v}" for k, v in (al.get("protocols") or {}).items() if v)
        out.append(f"applayer: {al.get('transactions', al.get('tx', 0))} transactions, "
                   f"flows {protos or 'none'}, {al.get('memcap', 0)} memcap refusals")
    return out


def params_from(args, generate=None):
    """Run parameters: defaults, then the scenario file, then the command line; `generate`
    (vg-pktgen options) replaces the scenario's input."""
    p = dict(DEFAULTS)
    p["name"] = "adhoc"
    if args.scenario:
        sc = load_scenario(args.scenario)
        p.update({k: v for k, v in sc.items() if k not in ("pcap", "synth")})
        p["name"] = os.path.splitext(os.path.basename(args.scenario))[0]
        if sc.get("pcap"):
            p["pcap"] = sc["pcap"]
        if sc.get("synth") is not None:
            p["synth"] = synth_devargs(sc["synth"], args.scenario)
    from_scenario = {k: p.get(k) for k in ("signatures", "classification")}
    for k in ("seconds", "warmup", "repeat", "flows_max", "data_room", "policy", "signatures",
              "classification", "inspection", "label"):
        v = getattr(args, k)
        if v is not None:
            p[k] = v
            from_scenario.pop(k, None)
    if args.var:
        p["vars"] = {k: dict(m) for k, m in (p.get("vars") or {}).items()}
        for text in args.var:
            kind, name, value = parse_var(text)
            p["vars"].setdefault(kind, {})[name] = value
    # A rule set the scenario names but this machine does not have (et-open-full lives
    # beside the repository, not in it) skips the scenario; a path typed on the command line
    # that does not exist is an error.
    for k, v in from_scenario.items():
        if v and p.get(k) == v and not os.path.exists(v):
            raise ScenarioSkip(f"{k} {v} is not on this machine (the scenario names it "
                               "relative to the repository root); nothing measured")
    if generate:
        p["generate"] = generate
        p.pop("pcap", None)
        p.pop("synth", None)
    if args.pcap:
        p["pcap"] = args.pcap
        p["generate"] = None
        p.pop("synth", None)
    if args.synth:
        p["synth"] = synth_devargs(args.synth, "--synth")
        p["generate"] = None
        p.pop("pcap", None)
    if args.cores:
        p["cores"] = [int(c) for c in args.cores.split(",")]
    if args.peers:
        p["peers"] = args.peers.split(",")
    if args.name:
        p["name"] = args.name
    if args.without_sids:
        p["without_sids"] = args.without_sids.split(",")
    try:
        p["without_sids"] = [int(x) for x in (p.get("without_sids") or [])]
    except (TypeError, ValueError):
        raise BenchError(f"without_sids: a list of sids (got {p.get('without_sids')!r})")
    p["args"] = args
    known = peers.PEERS + peers.OPTIONAL
    bad = [n for n in p["peers"] if n not in known]
    if bad:
        raise BenchError(f"unknown peer(s) {', '.join(bad)} (known: {', '.join(known)})")
    if len(p["cores"]) != 2 or p["cores"][0] == p["cores"][1]:
        raise BenchError(f"cores: two different lcores, main then worker (got {p['cores']})")
    if p.get("synth") is not None:
        p["synth_pmd"] = find_synth_pmd(args.synth_pmd)
        p["pcap"] = None
    elif not p.get("pcap"):
        if not p.get("generate"):
            raise BenchError("no input: give --pcap or --synth, or a scenario with pcap, "
                             "generate or synth")
        p["pcap"] = generate_pcap(p["generate"], args.data_dir, find_pktgen(args.vg_pktgen))
    if p.get("pcap"):
        p["pcap"] = os.path.abspath(p["pcap"])
    for k in ("policy", "signatures", "classification"):
        if p.get(k):
            p[k] = os.path.abspath(p[k])
            if not os.path.exists(p[k]):
                raise BenchError(f"{k} {p[k]} does not exist")
    if p["inspection"] not in ("all", "policy"):
        raise BenchError(f"inspection: all or policy (got {p['inspection']})")
    if p["repeat"] < 1 or p["seconds"] < 1 or p["warmup"] < 0:
        raise BenchError("repeat and seconds must be at least 1, warmup at least 0")
    return p


def make_parser():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?", help="scenario YAML (scripts/bench/scenarios/)")
    ap.add_argument("--pcap", help="input capture (overrides the scenario's)")
    ap.add_argument("--synth", metavar="DEVARGS",
                    help="input from net_vgsynth with these devargs, e.g. flows=100k,"
                    "order=shuffle (overrides the scenario's input)")
    ap.add_argument("--synth-pmd", dest="synth_pmd",
                    help="net_vgsynth plugin (default: build/tools/synth/"
                    "librte_net_vgsynth.so, or $VG_SYNTH_PMD)")
    ap.add_argument("--policy", help="Vigil policy YAML")
    ap.add_argument("--bpf-interpreter", dest="bpf_interpreter", action="store_true",
                    help="vigild runs the policy's eBPF programs interpreted (policy.bpf_jit: "
                    "false)")
    ap.add_argument("--signatures", help="signature file or directory")
    ap.add_argument("--classification",
                    help="classification.config for the signatures (default: the one in the "
                    "signature directory, if any)")
    ap.add_argument("--var", action="append", metavar="KIND.NAME=VALUE",
                    help="a signature variable for vigild (signatures.vars), e.g. "
                    "address.HOME_NET=[192.168.0.0/16]; repeatable, overrides the scenario")
    ap.add_argument("--inspection", choices=("all", "policy"),
                    help="vigild scans every flow (all, the default) or those whose rule says "
                    "inspect (policy)")
    ap.add_argument("--flows-max", dest="flows_max", help="vigild flows.max per worker")
    ap.add_argument("--cores", help="main,worker lcores (0,1)")
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--repeat", type=int)
    ap.add_argument("--data-room", dest="data_room", type=int)
    ap.add_argument("--peers", help=f"comma-separated subset of {','.join(peers.PEERS)}, "
                    "and vigild-stages (vigild in bench mode: cycles per pipeline stage), "
                    "vigild-without (vigild without the rules of without_sids)")
    ap.add_argument("--without-sids", dest="without_sids", metavar="SID,SID",
                    help="the sids peer vigild-without leaves out of the signatures "
                    "(overrides the scenario's without_sids)")
    ap.add_argument("--json", help="write the result document here")
    ap.add_argument("--label")
    ap.add_argument("--name", help="scenario name in the results")
    ap.add_argument("--vigild-extra", dest="vigild_extra", metavar="JSON",
                    help="sections merged into vigild's config (e.g. '{\"export\": ...}')")
    ap.add_argument("--vigild", default=os.path.join(ROOT, "build", "app", "vigild"))
    ap.add_argument("--testpmd", default="dpdk-testpmd")
    ap.add_argument("--vg-pktgen", dest="vg_pktgen")
    ap.add_argument("--data-dir", dest="data_dir",
                    default=os.environ.get("VG_BENCH_DATA", "/var/tmp/vigil-bench"),
                    help="where generated captures are cached (/var/tmp/vigil-bench)")
    ap.add_argument("--no-huge", dest="no_huge", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep logs and configs of every run")
    return ap


def skipped_doc(args, reason):
    name = os.path.splitext(os.path.basename(args.scenario))[0] if args.scenario else "adhoc"
    return {"benchmark": "scenario", "scenario": args.name or name, "status": "skipped",
            "reason": reason,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv), "machine": benchlib.machine(), "peers": {}}


def main():
    args = make_parser().parse_args()
    try:
        p = params_from(args)
        doc = run_scenario(p)
    except ScenarioSkip as e:
        print(f"bench: scenario skipped: {e}", flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(skipped_doc(args, str(e)), f, indent=2)
            print(f"wrote {args.json}")
        return 0
    except (BenchError, policy_xlate.XlateError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    print_table(doc)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"wrote {args.json}")
    return 1 if any(s["status"] == "failed" for s in doc["peers"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
