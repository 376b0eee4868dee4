#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""What a policy rule's eBPF program costs per packet through vigild (docs/BPF.md): a scenario
run by scripts/bench/run.py with vigild and vigild-stages, once per variant, one after another.

--scenario policy (the default): policy-64b-100k-flows (web-allow policy, 100k established TCP
flows, 64-byte frames):

  none            the web-allow policy as it is
  pass-jit        its allow rule runs bpf/examples/pass.c on every packet (never cached), JIT
  pass-interp     the same, interpreted (policy.bpf_jit: false)
  private-jit     the allow rule runs allow_private.c, which caches its answer on the flow
  private-interp  the same, interpreted
  none            the baseline again, to see the drift of the run

--scenario dns: dns-64k-flows (dns-allow policy, 64k UDP flows of a DNS query and its answer,
names of 4 to 108 bytes):

  none            the dns-allow policy as it is
  dns-jit         its UDP/53 rule runs dns_qname.c (query names over 52 bytes dropped with alert
                  53) on every packet of the DNS flows (it never caches for them), JIT
  dns-interp      the same, interpreted
  none            the baseline again

Prints cycles per packet (worker busy cycles / packets), the "decide" stage (where the program
runs) from bench mode, the program's runs, drops and sampled cycles per run, the worker's share
of its core, and writes JSON. Not a test: speed fails nothing.

  scripts/bench/bpf.py OUT [--scenario policy|dns] [--build build] [--seconds 5] [--warmup N]
                      [--vigild-extra JSON] [--no-stages]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# Per scenario: its file, the policy whose last rule gets `bpf:`, and the variants (name, object,
# interpreted).
SCENARIOS = {
    "policy": ("policy-64b-100k-flows.yaml", "web-allow.yaml",
               [("none", None, False), ("pass-jit", "pass.o", False),
                ("pass-interp", "pass.o", True), ("private-jit", "allow_private.o", False),
                ("private-interp", "allow_private.o", True), ("none-again", None, False)]),
    "dns": ("dns-64k-flows.yaml", "dns-allow.yaml",
            [("none", None, False), ("dns-jit", "dns_qname.o", False),
             ("dns-interp", "dns_qname.o", True), ("none-again", None, False)]),
}


def policy_with(policy, bpf, path_out):
    with open(os.path.join(ROOT, "scripts/bench/policies", policy)) as f:
        text = f.read()
    marker = "    action: allow\n"
    assert text.endswith(marker), f"{policy}'s last rule must end with its allow action"
    if bpf:
        text += f"    bpf: {bpf}\n"
    with open(path_out, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", default="5")
    ap.add_argument("--warmup", help="seconds before measuring (run.py's default otherwise)")
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="policy")
    ap.add_argument("--no-stages", dest="stages", action="store_false",
                    help="run vigild only, not vigild-stages too (no decide-stage figure; "
                    "half the time)")
    ap.add_argument("--vigild-extra", dest="vigild_extra", metavar="JSON",
                    help="vigild configuration merged into every variant's (run.py --vigild-extra), "
                    "e.g. '{\"applayer\": {\"enabled\": false}}'")
    args = ap.parse_args()
    scenario, policy, variants = SCENARIOS[args.scenario]
    os.makedirs(args.out, exist_ok=True)
    bpf_dir = os.path.join(os.path.abspath(args.build), "bpf")
    results = []
    for name, obj, interp in variants:
        pol = os.path.join(os.path.abspath(args.out), f"policy-{name}.yaml")
        policy_with(policy, os.path.join(bpf_dir, obj) if obj else None, pol)
        js = os.path.join(args.out, f"bpf-{name}.json")
        cmd = [sys.executable, os.path.join(ROOT, "scripts/bench/run.py"),
               os.path.join(ROOT, "scripts/bench/scenarios", scenario),
               "--peers", "vigild,vigild-stages" if args.stages else "vigild", "--repeat", "1", "--seconds", args.seconds,
               "--policy", pol, "--json", js, "--name", f"bpf-{name}",
               "--vigild", os.path.join(args.build, "app", "vigild")]
        if args.vigild_extra:
            cmd += ["--vigild-extra", args.vigild_extra]
        if args.warmup is not None:
            cmd += ["--warmup", args.warmup]
        if interp:
            cmd.append("--bpf-interpreter")
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(js) as f:
            doc = json.load(f)
        v, st = doc["peers"]["vigild"], doc["peers"].get("vigild-stages") or {}
        prog = (v["runs"][0].get("bpf") or [{}])[0]
        stages = st.get("median_stage_cycles_per_packet") or {}
        results.append({"variant": name, "mpps": v["median_rx_mpps"],
                        "cycles_per_packet": v["median_cycles_per_packet"],
                        "decide_cycles_per_packet": stages.get("decide"),
                        "program": prog.get("file"), "mode": prog.get("mode"),
                        "runs": prog.get("runs"), "cached": prog.get("cached"),
                        "packets": v["runs"][0]["rx_packets_total"],
                        "program_cycles_per_run": prog.get("cycles_per_run"),
                        "drop": prog.get("drop"), "alerts": prog.get("alerts"),
                        "worker_on_cpu_pct": v["runs"][0].get("worker_on_cpu_pct"),
                        "applayer_transactions": (v["runs"][0].get("applayer") or {}).get(
                            "transactions")})
        r = results[-1]
        print(f"{name:15s} {r['mpps']:6.2f} Mpps {r['cycles_per_packet']:7.1f} cycles/packet, "
              f"decide {r['decide_cycles_per_packet'] or 0:5.1f}; program runs {r['runs']} "
              f"of {r['packets']} packets, {r['program_cycles_per_run'] or 0:.1f} cycles/run "
              f"(sampled), drops {r['drop']}; worker on CPU {r['worker_on_cpu_pct'] or 0:.0f}%",
              flush=True)
    with open(os.path.join(args.out, "bpf.json"), "w") as f:
        json.dump({"benchmark": "bpf", "scenario": args.scenario, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
