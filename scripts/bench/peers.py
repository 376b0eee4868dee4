# SPDX-License-Identifier: BSD-3-Clause
"""The programs a benchmark scenario runs, each on the same vdevs (net_pcap infinite_rx in,
net_null out) and the same two lcores (main, worker):

  testpmd  dpdk-testpmd --forward-mode=io: the I/O ceiling
  vigild   Vigil, with the scenario's policy and signatures when this vigild loads them
  l3fwd    DPDK's l3fwd example in ACL mode with the policy translated (stateless peer)
  ovs      Open vSwitch with DPDK, conntrack flows equivalent to the policy (stateful peer)

Each run starts the program, discards `warmup` seconds, samples the input port's received
and the output port's sent packets once a second for `seconds`, and stops it by PID. testpmd,
l3fwd and vigild are read through DPDK telemetry (the same counters, read the same way); OVS
through ovs-ofctl dump-ports, which asks ovs-vswitchd for the live port counters.

With the synth input, net_vgsynth (tools/synth) replaces net_pcap in every program, loaded
with EAL -d (ctx.eal_plugins), and l3fwd-em (exact match, one entry per flow) can run."""
import json
import os
import re
import shlex
import shutil
import subprocess
import time

import benchlib
from benchlib import BenchError, Proc, Skip

PEERS = ("testpmd", "vigild", "l3fwd", "ovs")
# On request only (--peers ...,vigild-stages): vigild in bench mode (stats.stages), for the
# cycles per packet of each pipeline stage. The TSC reads cost a little, so its rate is not
# the vigild figure.
# vigild-without: vigild with the scenario's signatures less the rules whose sids the scenario
# lists in without_sids (--without-sids), to measure what those rules cost in the same run.
# vigild-scan-all: vigild with signatures.pcre_scan_all, which compiles pcres without a literal
# into Hyperscan as Vigil did before they were left to PCRE2 (the "before" of that change).
# l3fwd-em: l3fwd in exact-match mode with one table entry per flow and direction (synth
# input only: the table is the flows net_vgsynth sends).
OPTIONAL = ("vigild-stages", "vigild-without", "vigild-scan-all", "l3fwd-em")
OVS_VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
L3FWD_MAX_RULES = 100000  # MAX_ACL_RULE_NUM in examples/l3fwd/l3fwd_acl.h
# Start-up bound for programs that compile an ACL first (100k rules take tens of seconds).
COMPILE_STARTUP_S = 600


def _devices(ctx):
    if ctx.synth:
        # NIC-like input: net_vgsynth (tools/synth), loaded by every program with -d.
        return (f"net_vgsynth0,{ctx.synth}", "net_null0,no-rx=1")
    return (f"net_pcap0,rx_pcap={ctx.pcap},infinite_rx=1", "net_null0,no-rx=1")


def _telemetry_run(ctx, proc, prefix, startup=30):
    """Sample ports 0 (in) and 1 (out) through the process's telemetry socket."""
    tel = benchlib.Telemetry(prefix)
    try:
        deadline = time.monotonic() + startup
        tel.connect(startup, proc)
        proc.forwarding_at = None
        # Wait for the forwarding: telemetry answers before the application has started its
        # ports, and while net_pcap sets up an infinite_rx queue it counts the capture's
        # packets as received (it reads them into its ring) and then resets the count. So the
        # program forwards once something went out, or more came in than the capture holds.
        while True:
            if not proc.alive():
                raise BenchError(f"{proc.name} exited at start:\n{proc.tail()}")
            try:
                if (tel.port_stats(1)["opackets"] > 0
                        or tel.port_stats(0)["ipackets"] > ctx.packets):
                    proc.forwarding_at = time.monotonic()
                    break
            except (KeyError, TypeError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{proc.name} received nothing within {startup} s:\n"
                                 + proc.tail())
            time.sleep(0.1)

        def read():
            return tel.port_stats(0)["ipackets"], tel.port_stats(1)["opackets"]

        t0, cpu0 = time.monotonic(), benchlib.thread_cpu_ns(proc.p.pid)
        samples = benchlib.sample_rates(read, ctx.seconds, ctx.warmup, proc)
        # A shared machine's other programs can take the worker's core: say how much.
        proc.worker_on_cpu_pct = benchlib.busiest_thread_share(
            cpu0, benchlib.thread_cpu_ns(proc.p.pid), time.monotonic() - t0)
        return samples
    finally:
        tel.close()


def _finish(proc):
    rc = proc.stop()
    if rc not in (0, -2, 130):
        raise BenchError(f"{proc.name} exited with status {rc}:\n{proc.tail()}")
    return proc.output()


# --- testpmd -----------------------------------------------------------------------------------

def testpmd_available(ctx):
    if not shutil.which(ctx.args.testpmd):
        raise Skip(f"{ctx.args.testpmd} not found (apt-get install dpdk)")


def testpmd_run(ctx, run_dir):
    prefix = ctx.prefix("t")
    rx_dev, tx_dev = _devices(ctx)
    cmd = [shutil.which(ctx.args.testpmd), "-l", f"{ctx.main},{ctx.worker}",
           "--main-lcore", str(ctx.main), "--no-pci", "--file-prefix", prefix, *ctx.mem_args,
           *ctx.eal_plugins,
           "--vdev", rx_dev, "--vdev", tx_dev, "--log-level=lib.eal:error", "--",
           "--forward-mode=io", "--nb-cores=1", "--rxq=1", "--txq=1", "--record-core-cycles",
           f"--total-num-mbufs={ctx.mbufs}", f"--mbuf-size={ctx.data_room}",
           # A stats period keeps testpmd forwarding without a terminal (else it waits for
           # Enter on stdin and stops at once).
           "--stats-period", "1", "--no-lsc-interrupt"]
    proc = Proc(cmd, "testpmd", log=os.path.join(run_dir, "testpmd.log"))
    try:
        samples = _telemetry_run(ctx, proc, prefix)
        out = _finish(proc)
    finally:
        proc.stop()
        benchlib.remove_runtime_dir(prefix)
        benchlib.remove_hugepage_files(prefix)
    m = re.search(r"CPU cycles/packet=([\d.]+)", out)
    r = benchlib.summarize_samples(samples, proc)
    r["cycles_per_packet"] = float(m.group(1)) if m else None
    r["cycles_source"] = "testpmd --record-core-cycles (busy cycles of the forwarding core)"
    r["worker_on_cpu_pct"] = getattr(proc, "worker_on_cpu_pct", None)
    return r


# --- vigild ------------------------------------------------------------------------------------

def vigild_available(ctx):
    if not os.access(ctx.args.vigild, os.X_OK):
        raise Skip(f"{ctx.args.vigild} not built (ninja -C build app/vigild, or --vigild)")


def vigild_supports(ctx, key):
    """Whether this vigild's configuration knows a top-level key: a config holding only that
    key fails at once, naming it when it is unknown, before EAL starts."""
    cache = ctx.cache.setdefault("vigild_keys", {})
    if key not in cache:
        path = os.path.join(ctx.work, f"probe-{key}.json")
        with open(path, "w") as f:
            json.dump({key: {}, "ports": [], "pairs": []}, f)
        p = subprocess.run([ctx.args.vigild, "-c", path], capture_output=True, text=True,
                           timeout=30)
        cache[key] = f"unknown key '{key}'" not in (p.stdout + p.stderr)
    return cache[key]


def vigild_config(ctx, prefix, extra=None, signatures=None, sig_extra=None):
    rx_dev, tx_dev = _devices(ctx)
    cfg = {
        "eal": {"file_prefix": prefix, "hugepages": "off" if ctx.no_huge else "auto",
                "no_huge_memory": f"{ctx.mem_mb}M",
                "args": ["--log-level=lib.eal:error", *ctx.eal_plugins]},
        "lcores": {"control": ctx.main, "workers": [ctx.worker]},
        "ports": [{"name": "in", "device": rx_dev}, {"name": "out", "device": tx_dev}],
        "pairs": [["in", "out"]],
        "mempool": {"mbufs": ctx.mbufs, "data_room": ctx.data_room},
        # Pure polling, as the other peers do.
        "dataplane": {"idle_sleep_us": 0},
        "flows": {"max": ctx.flows_max},
        "log": {"level": "info"},
    }
    notes = []
    if ctx.policy:
        if vigild_supports(ctx, "policy"):
            cfg["policy"] = {"file": ctx.policy}
            if getattr(ctx.args, "bpf_interpreter", False):
                cfg["policy"]["bpf_jit"] = False  # the policy's eBPF programs interpreted
        else:
            notes.append("policy not loaded: this vigild has no 'policy' configuration key")
    if ctx.signatures:
        if vigild_supports(ctx, "signatures"):
            sig = {"paths": [signatures or ctx.signatures]}
            cls = os.path.join(ctx.signatures, "classification.config")
            if ctx.classification:
                sig["classification"] = ctx.classification
            elif os.path.isdir(ctx.signatures) and os.path.exists(cls):
                sig["classification"] = cls
            if ctx.vars:
                # HOME_NET and friends, as the rule set's operator would set them.
                sig["vars"] = ctx.vars
            sig.update(sig_extra or {})
            cfg["signatures"] = sig
            # Which flows are scanned: every flow (the scan's full cost, the default here),
            # or only those whose policy rule asks for it.
            if vigild_supports(ctx, "inspection"):
                cfg["inspection"] = {"flows": ctx.inspection}
        else:
            notes.append("signatures not loaded: this vigild has no 'signatures' key")
    if extra:
        cfg.update(extra)
    return cfg, notes


def _memory_figures(doc, path=""):
    """Every '*memory*' or '*bytes*' counter outside the port counters: the flow table now,
    and the ACL and Hyperscan figures once vigild reports them."""
    out = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            p = f"{path}.{k}" if path else k
            if k in ("ports", "workers"):
                continue
            if isinstance(v, (int, float)) and ("memory" in k or k.endswith("_bytes")):
                out[p] = v
            else:
                out.update(_memory_figures(v, p))
    return out


# Memory that vigild logs at start (MiB), until its --stats-json reports it.
VIGILD_LOG_MEMORY = {
    "log.mbuf_pool_mib": re.compile(r"mbuf pool: .*\(([\d.]+) MiB\)"),
    "log.flow_table_mib": re.compile(r"flow table \d+ flows \(([\d.]+) MiB\)"),
    "log.inspection_slots_mib": re.compile(r"inspection slots of \d+ bytes \(([\d.]+) MiB\)"),
    "log.dpdk_heap_in_use_mib": re.compile(r"([\d.]+) MiB of DPDK heap in use"),
}


# What the IPFIX exporter (export.ipfix) says as vigild stops.
VIGILD_LOG_IPFIX = re.compile(r"ipfix: (\d+) records sent to \S+(?: in \d+ messages, none lost"
                              r"|, (\d+) lost \((\d+) to a full queue\))")


def vigild_stages_run(ctx, run_dir):
    return vigild_run(ctx, run_dir, stages=True)


def signatures_without(src, sids, out_dir):
    """A copy of the rule file or directory src in out_dir without the rules of sids; returns
    the path to give vigild and the number of rules left out."""
    pat = re.compile(r"(?:^|[;(\s])sid\s*:\s*(\d+)\s*;")
    files = ([os.path.join(src, n) for n in sorted(os.listdir(src))] if os.path.isdir(src)
             else [src])
    os.makedirs(out_dir, exist_ok=True)
    removed = 0
    for path in files:
        if not os.path.isfile(path):
            continue
        with open(path, errors="surrogateescape") as f:
            lines = f.readlines()
        kept = []
        for line in lines:
            # the rule's sid: the last "sid:N;" (a content may quote an earlier one)
            m = pat.findall(line)
            if m and int(m[-1]) in sids and not line.lstrip().startswith("#"):
                removed += 1
                continue
            kept.append(line)
        with open(os.path.join(out_dir, os.path.basename(path)), "w",
                  errors="surrogateescape") as f:
            f.writelines(kept)
    return (out_dir if os.path.isdir(src) else os.path.join(out_dir, os.path.basename(src)),
            removed)


def vigild_without_available(ctx):
    vigild_available(ctx)
    if not ctx.signatures or not ctx.without_sids:
        raise Skip("no signatures, or no sids to leave out (without_sids, --without-sids)")


def vigild_without_run(ctx, run_dir):
    path, removed = signatures_without(ctx.signatures, set(ctx.without_sids),
                                       os.path.join(run_dir, "signatures"))
    if removed != len(set(ctx.without_sids)):
        raise BenchError(f"without_sids {ctx.without_sids}: {removed} such rules found in "
                         f"{ctx.signatures}")
    r = vigild_run(ctx, run_dir, signatures=path)
    r["without_sids"] = sorted(set(ctx.without_sids))
    return r


def vigild_scan_all_available(ctx):
    vigild_available(ctx)
    if not ctx.signatures:
        raise Skip("no signatures")


def vigild_scan_all_run(ctx, run_dir):
    return vigild_run(ctx, run_dir, sig_extra={"pcre_scan_all": True})


def vigild_run(ctx, run_dir, stages=False, signatures=None, sig_extra=None):
    prefix = ctx.prefix("s" if stages else "w" if signatures else "a" if sig_extra else "v")
    extra = {"stats": {"stages": True}} if stages else {}
    if getattr(ctx.args, "vigild_extra", None):
        extra.update(json.loads(ctx.args.vigild_extra))  # run.py --vigild-extra
    cfg, notes = vigild_config(ctx, prefix, extra or None, signatures, sig_extra)
    cfg_path = os.path.join(run_dir, "vigil.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    stats_path = os.path.join(run_dir, "vigild-stats.json")
    proc = Proc([ctx.args.vigild, "-c", cfg_path, "--stats-json", stats_path], "vigild",
                log=os.path.join(run_dir, "vigild.log"))
    try:
        # A policy's ACL and a large signature set are compiled before the ports start.
        samples = _telemetry_run(ctx, proc, prefix,
                                 startup=COMPILE_STARTUP_S if ctx.policy or ctx.signatures
                                 else 30)
        log = _finish(proc)
    finally:
        proc.stop()
        benchlib.remove_runtime_dir(prefix)
        benchlib.remove_hugepage_files(prefix)
    with open(stats_path) as f:
        st = json.load(f)
    memory = _memory_figures(st)
    eal_mem = re.search(r"^vigild: (using hugepages.*|.*no-huge.*)$", log, re.M)
    for k, rx_ in VIGILD_LOG_MEMORY.items():
        m = rx_.search(log)
        if m:
            memory[k] = float(m.group(1))
    ctx.tsc_hz = ctx.tsc_hz or st.get("tsc_hz")
    w = st["workers"][0]
    rx = st["ports"][0]["rx_packets"]
    r = benchlib.summarize_samples(samples, proc)
    r.update({
        "cycles_per_packet": w["busy_cycles"] / rx if rx else None,
        "cycles_source": "vigild --stats-json: worker busy_cycles / packets received",
        "worker_on_cpu_pct": getattr(proc, "worker_on_cpu_pct", None),
        "flows_created": st["flows"]["created"],
        "rx_packets_total": rx,
        "tx_full": st["ports"][1]["tx_full"],
        "dropped": st["ports"][0]["dropped"],
        "memory": memory,
        "eal_memory": eal_mem.group(1) if eal_mem else None,
        "notes": notes,
    })
    for k in ("policy", "rules", "bpf", "inspection", "mode", "detect", "signatures", "events",
              "control", "applayer"):
        if k in st:
            r[k] = st[k]
    r["flow_counters"] = st["flows"]
    # From start to the first packet forwarded: EAL, the mbuf pool (net_pcap loads the
    # capture), and loading and compiling the policy and signatures.
    if getattr(proc, "forwarding_at", None):
        r["startup_s"] = round(proc.forwarding_at - proc.started, 2)
    m = re.search(r"signatures version \d+ in force \((\d+) rules", log)
    if m:
        r["signature_rules"] = int(m.group(1))
    if stages:
        r["stages"] = w.get("stages")
    m = VIGILD_LOG_IPFIX.search(log)
    if m:
        r["ipfix"] = {"records_sent": int(m.group(1)),
                      "records_lost": int(m.group(2) or 0),
                      "lost_queue_full": int(m.group(3) or 0)}
    return r


# --- l3fwd -------------------------------------------------------------------------------------

def l3fwd_available(ctx):
    if "l3fwd" in ctx.cache:
        return
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build-l3fwd.sh")
    p = subprocess.run([script], capture_output=True, text=True)
    if p.returncode != 0:
        raise Skip("l3fwd could not be built: " + p.stderr.strip().splitlines()[-1]
                   if p.stderr.strip() else "build-l3fwd.sh failed")
    ctx.cache["l3fwd"] = p.stdout.strip().splitlines()[-1]


def synth_flows(devargs):
    """The 5-tuples net_vgsynth sends for these devargs, each direction, as
    (src, dst, sport, dport, proto); the same arithmetic as vs_fill in tools/synth/vg_synth.c."""
    kv = dict(x.partition("=")[::2] for x in devargs.split(",") if x)
    n = benchlib.parse_count(kv.get("flows", "1"))
    tcp = kv.get("proto", "tcp") == "tcp"
    dport = int(kv.get("dport", 80 if tcp else 9))
    both = kv.get("dir", "both") == "both"
    proto = 6 if tcp else 17
    def ip4(x):
        return f"{x >> 24}.{x >> 16 & 255}.{x >> 8 & 255}.{x & 255}"
    for i in range(n):
        c = ip4(0x0a000001 + i)
        s = ip4(0xc0a80001 + (i * 40503 & 0xffff))
        cport = 1024 + i % 64512
        yield c, s, cport, dport, proto
        if both:
            yield s, c, dport, cport, proto


def l3fwd_em_available(ctx):
    l3fwd_available(ctx)
    if not ctx.synth:
        raise Skip("l3fwd-em needs the synth input (its table is the flows net_vgsynth sends)")
    if ctx.policy:
        raise Skip("l3fwd-em forwards by exact match only: no policy")


def l3fwd_em_run(ctx, run_dir):
    return l3fwd_run(ctx, run_dir, em=True)


def l3fwd_run(ctx, run_dir, em=False):
    import policy_xlate
    # l3fwd sizes its pool from its descriptor counts (2 ports x (rx ring + tx ring) + a
    # little): the rings must be large enough for net_pcap to hold the capture in mbufs. The
    # vdevs keep no mbufs in those rings, so the pool's spare stays free for forwarding.
    need = ctx.packets + 4096
    desc = min(65535, max(1024, -(-need // 4)))
    if 4 * desc < need:
        raise Skip(f"l3fwd sizes its mbuf pool from its rings (at most 4 x 65535 mbufs here); "
                   f"the capture has {ctx.packets} packets")
    rules_prefix = os.path.join(ctx.work, "l3fwd")
    if not os.path.exists(rules_prefix + ".v4.rules"):
        default, rules = ctx.translated
        lines = policy_xlate.l3fwd_lines(default, rules, 1, mirror=True)
        for fam in (4, 6):
            with open(f"{rules_prefix}.v{fam}.rules", "w") as f:
                f.write("\n".join(lines[fam]) + "\n")
        ctx.cache["l3fwd_rule_lines"] = {f"v{fam}": len(lines[fam]) for fam in (4, 6)}
    lookup = ["--lookup=acl", f"--rule_ipv4={rules_prefix}.v4.rules",
              f"--rule_ipv6={rules_prefix}.v6.rules"]
    if em:
        # Exact match: one entry per flow and direction, all to port 1 (L3FWD_HASH_ENTRIES,
        # 4M, holds 1M flows both ways).
        em_prefix = os.path.join(ctx.work, "l3fwd-em")
        if not os.path.exists(em_prefix + ".v4.rules"):
            count = 0
            with open(em_prefix + ".v4.rules", "w") as f:
                for src, dst, sport, dport, proto in synth_flows(ctx.synth):
                    f.write(f"R{dst} {src} {dport} {sport} {proto} 1\n")
                    count += 1
            with open(em_prefix + ".v6.rules", "w") as f:
                f.write("R2001:200::1 2001:200:: 9 9 17 1\n")
            ctx.cache["l3fwd_em_entries"] = count
        lookup = ["--lookup=em", f"--rule_ipv4={em_prefix}.v4.rules",
                  f"--rule_ipv6={em_prefix}.v6.rules"]
    most = max(ctx.cache["l3fwd_rule_lines"].values())
    if not em and most > L3FWD_MAX_RULES:
        raise Skip(f"l3fwd's ACL holds at most {L3FWD_MAX_RULES} rules per family "
                   f"(MAX_ACL_RULE_NUM); the policy needs {most} lines")
    prefix = ctx.prefix("l")
    rx_dev, tx_dev = _devices(ctx)
    w = ctx.worker
    # l3fwd opens one TX queue per lcore and net_pcap has one: it runs on the worker lcore
    # alone (its main lcore forwards), the same single forwarding core as the others.
    cmd = [ctx.cache["l3fwd"], "-l", str(w),
           "--no-pci", "--file-prefix", prefix, *ctx.mem_args, *ctx.eal_plugins, "--vdev", rx_dev,
           "--vdev", tx_dev, "--log-level=lib.eal:error", "--",
           "-p", "0x3", f"--config=(0,0,{w}),(1,0,{w})", *lookup,
           # net_pcap does not tell packet types; l3fwd's ACL path needs them.
           "--parse-ptype", f"--rx-queue-size={desc}", f"--tx-queue-size={desc}"]
    if ctx.pcap_info["max_len"] + 4 > 1518:
        # Beyond 1518 l3fwd wants multi-segment TX, which net_null does not offer.
        raise Skip(f"l3fwd needs multi-segment TX for {ctx.pcap_info['max_len']}-byte packets")
    proc = Proc(cmd, "l3fwd", log=os.path.join(run_dir, "l3fwd-em.log" if em else "l3fwd.log"))
    try:
        samples = _telemetry_run(ctx, proc, prefix, startup=COMPILE_STARTUP_S)
        _finish(proc)
    finally:
        proc.stop()
        benchlib.remove_runtime_dir(prefix)
        benchlib.remove_hugepage_files(prefix)
    r = benchlib.summarize_samples(samples, proc)
    r["cycles_per_packet"] = None
    if em:
        r["em_entries"] = ctx.cache.get("l3fwd_em_entries")
    else:
        r["rule_lines"] = ctx.cache.get("l3fwd_rule_lines")
    r["worker_on_cpu_pct"] = getattr(proc, "worker_on_cpu_pct", None)
    return r


# --- Open vSwitch with DPDK --------------------------------------------------------------------

def ovs_available(ctx):
    for b in (OVS_VSWITCHD, OVS_SCHEMA):
        if not os.path.exists(b):
            raise Skip(f"{b} missing (apt-get install openvswitch-switch-dpdk)")
    for t in ("ovsdb-tool", "ovsdb-server", "ovsdb-client", "ovs-vsctl", "ovs-ofctl",
              "ovs-appctl"):
        if not shutil.which(t):
            raise Skip(f"{t} not found (apt-get install openvswitch-switch)")
    if ctx.no_huge_forced:
        raise Skip(f"OVS needs hugepages and the run uses {ctx.memory}: fewer are free than "
                   "this capture needs (scripts/hugepages/setup.sh)")
    # OVS sizes its shared pool itself, at most 4096 x 64 mbufs, and net_pcap holds the whole
    # capture in that pool.
    if ctx.packets + 16384 > 4096 * 64:
        raise Skip(f"OVS's mbuf pool (at most 262144) cannot hold {ctx.packets} packets")


class Ovs:
    """ovsdb-server and ovs-vswitchd (DPDK) in a scratch directory with their own sockets,
    database and logs: nothing system-wide is read or changed."""

    def __init__(self, ctx, run_dir):
        self.ctx = ctx
        self.dir = os.path.join(run_dir, "ovs")
        os.makedirs(self.dir)
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir, OVS_SYSCONFDIR=self.dir)
        self.db = f"unix:{self.dir}/db.sock"
        self.procs = []
        self.prefix = ctx.prefix("o")

    def sh(self, *cmd, timeout=60):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=self.env,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            log = os.path.join(self.dir, "vswitchd.log")
            tail = ""
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    tail = "".join(f.readlines()[-15:])
            raise BenchError(f"{' '.join(shlex.quote(c) for c in cmd)}: no answer within "
                             f"{timeout} s; ovs-vswitchd's log ends with:\n{tail}")
        if p.returncode != 0:
            raise BenchError(f"{' '.join(shlex.quote(c) for c in cmd)}: {p.stderr.strip()}")
        return p.stdout

    def vsctl(self, *args):
        return self.sh("ovs-vsctl", f"--db={self.db}", "--timeout=60", *args)

    def start(self):
        ctx = self.ctx
        d = self.dir
        self.sh("ovsdb-tool", "create", f"{d}/conf.db", OVS_SCHEMA)
        self.procs.append(Proc(
            ["taskset", "-c", str(ctx.main), "ovsdb-server", f"{d}/conf.db",
             f"--remote=punix:{d}/db.sock", f"--unixctl={d}/ovsdb.ctl",
             f"--pidfile={d}/ovsdb.pid", f"--log-file={d}/ovsdb.log"],
            "ovsdb-server", env=self.env, log=f"{d}/ovsdb.out"))
        # The socket file appears before ovsdb-server listens on it: ask until it answers.
        deadline = time.monotonic() + 20
        while subprocess.run(["ovsdb-client", "list-dbs", self.db], capture_output=True,
                             env=self.env, timeout=10).returncode != 0:
            if time.monotonic() > deadline or not self.procs[0].alive():
                raise BenchError("ovsdb-server did not start:\n" + self.procs[0].tail())
            time.sleep(0.1)
        self.vsctl("--no-wait", "init")
        extra = f"--file-prefix={self.prefix} --no-pci --log-level=lib.eal:error " + \
            " ".join(ctx.mem_args + ctx.eal_plugins)
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                   "other_config:dpdk-init=true",
                   f"other_config:dpdk-lcore-mask=0x{1 << ctx.main:x}",
                   f"other_config:pmd-cpu-mask=0x{1 << ctx.worker:x}",
                   f'other_config:dpdk-extra="{extra}"')
        # Its non-PMD threads (handlers, revalidators) stay on the main core; the PMD thread
        # pins itself to the worker core.
        self.vswitchd = Proc(
            ["taskset", "-c", str(ctx.main), OVS_VSWITCHD, self.db, f"--unixctl={d}/vswitchd.ctl",
             f"--pidfile={d}/vswitchd.pid", f"--log-file={d}/vswitchd.log"],
            "ovs-vswitchd", env=self.env, log=f"{d}/vswitchd.out")
        self.procs.append(self.vswitchd)
        rx_dev, tx_dev = _devices(ctx)
        # fail_mode=secure: nothing passes before our flows are in.
        self.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev",
                   "fail_mode=secure")
        flows_path = os.path.join(ctx.work, "ovs.flows")
        if not os.path.exists(flows_path):
            import policy_xlate
            default, rules = ctx.translated
            try:
                flows = policy_xlate.ovs_flows(default, rules, 2)
            except policy_xlate.XlateError as e:
                raise Skip(str(e))
            with open(flows_path, "w") as f:
                f.write("\n".join(flows) + "\n")
            ctx.cache["ovs_flow_count"] = len(flows)
        self.sh("ovs-ofctl", "add-flows", "br0", flows_path, timeout=600)
        self.vsctl("add-port", "br0", "out", "--", "set", "Interface", "out", "type=dpdk",
                   f'options:dpdk-devargs="{tx_dev}"', "ofport_request=2")
        self.vsctl("add-port", "br0", "in", "--", "set", "Interface", "in", "type=dpdk",
                   f'options:dpdk-devargs="{rx_dev}"', "ofport_request=1")
        for name in ("in", "out"):
            err = self.vsctl("get", "Interface", name, "error").strip()
            if err not in ("[]", ""):
                raise BenchError(f"OVS port {name}: {err}\n" + self.vswitchd.tail())

    def port_counters(self):
        out = self.sh("ovs-ofctl", "dump-ports", "br0")
        rx = re.search(r"port\s+1: rx pkts=(\d+)", out)
        tx = re.search(r"port\s+2: rx pkts=\d+.*?\n\s+tx pkts=(\d+)", out)
        if not rx or not tx:
            raise BenchError("ovs-ofctl dump-ports: no counters for ports 1 and 2:\n" + out)
        return int(rx.group(1)), int(tx.group(1))

    def stop(self):
        errors = []
        for p in reversed(self.procs):
            try:
                p.p.terminate() if p.alive() else None
                p.p.wait(30)
            except subprocess.TimeoutExpired:
                p.p.kill()
                p.p.wait()
                errors.append(f"{p.name} did not stop on SIGTERM (killed)")
        benchlib.remove_runtime_dir(self.prefix)
        benchlib.remove_hugepage_files(self.prefix)
        return errors


def ovs_run(ctx, run_dir):
    ovs = Ovs(ctx, run_dir)
    try:
        ovs.start()
        deadline = time.monotonic() + 60
        # As in _telemetry_run: net_pcap counts the capture while it loads it, then resets.
        while True:
            rx, tx = ovs.port_counters()
            if tx > 0 or rx > ctx.packets:
                break
            if time.monotonic() > deadline:
                raise BenchError("OVS received nothing on port 1 within 60 s:\n"
                                 + ovs.vswitchd.tail())
            time.sleep(0.2)
        app = ["ovs-appctl", "-t", f"{ovs.dir}/vswitchd.ctl"]
        cleared = []

        def read():
            # The PMD statistics restart when warm-up ends, so cycles cover the sampled part.
            if not cleared and read.calls == ctx.warmup:
                ovs.sh(*app, "dpif-netdev/pmd-stats-clear")
                cleared.append(True)
            read.calls += 1
            return ovs.port_counters()
        read.calls = 0
        samples = benchlib.sample_rates(read, ctx.seconds, ctx.warmup, ovs.vswitchd)
        pmd = ovs.sh(*app, "dpif-netdev/pmd-stats-show")
        ct = ovs.sh(*app, "dpctl/ct-stats-show")
    finally:
        errors = ovs.stop()
    if errors:
        raise BenchError("; ".join(errors))
    r = benchlib.summarize_samples(samples, ovs.vswitchd)
    pmd = pmd.split("main thread:")[0]
    m = re.search(r"avg processing cycles per packet:\s*([\d.]+)", pmd)
    r["cycles_per_packet"] = float(m.group(1)) if m else None
    r["cycles_source"] = "ovs-appctl dpif-netdev/pmd-stats-show: avg processing cycles/packet"
    r["pmd_stats"] = {k.strip(): float(v) for k, v in
                      re.findall(r"^\s*([A-Za-z][\w .()/-]*?):\s*([\d.]+)",
                                 pmd, re.M)}
    with open(os.path.join(run_dir, "pmd-stats.txt"), "w") as f:
        f.write(pmd + ct)
    m = re.search(r"Connections:\s*(\d+)|Total:\s*(\d+)", ct)
    r["conntrack_entries_at_end"] = int(next(g for g in m.groups() if g)) if m else None
    r["openflow_flows"] = ctx.cache.get("ovs_flow_count")
    return r


RUN = {"testpmd": testpmd_run, "vigild": vigild_run, "l3fwd": l3fwd_run, "ovs": ovs_run,
       "vigild-stages": vigild_stages_run, "vigild-without": vigild_without_run,
       "vigild-scan-all": vigild_scan_all_run, "l3fwd-em": l3fwd_em_run}
AVAILABLE = {"testpmd": testpmd_available, "vigild": vigild_available,
             "l3fwd": l3fwd_available, "ovs": ovs_available,
             "vigild-stages": vigild_available, "vigild-without": vigild_without_available,
             "vigild-scan-all": vigild_scan_all_available, "l3fwd-em": l3fwd_em_available}
