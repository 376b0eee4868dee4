#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""What a policy rule's eBPF program costs per packet through vigild (docs/BPF.md): the
policy-64b-100k-flows scenario (web-allow policy, 100k established TCP flows, 64-byte frames)
run by scripts/bench/run.py with vigild and vigild-stages, once per variant, one after another:

  none            the web-allow policy as it is
  pass-jit        its allow rule runs bpf/examples/pass.c on every packet (never cached), JIT
  pass-interp     the same, interpreted (policy.bpf_jit: false)
  private-jit     the allow rule runs allow_private.c, which caches its answer on the flow
  private-interp  the same, interpreted
  none            the baseline again, to see the drift of the run

Prints cycles per packet (worker busy cycles / packets), the "decide" stage (where the program
runs) from bench mode, the program's runs and sampled cycles per run, and writes JSON. Not a
test: speed fails nothing.

  scripts/bench/bpf.py OUT [--build build] [--seconds 5]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
VARIANTS = [("none", None, False), ("pass-jit", "pass.o", False),
            ("pass-interp", "pass.o", True), ("private-jit", "allow_private.o", False),
            ("private-interp", "allow_private.o", True), ("none-again", None, False)]


def policy_with(bpf, path_out):
    with open(os.path.join(ROOT, "scripts/bench/policies/web-allow.yaml")) as f:
        text = f.read()
    marker = "    action: allow\n"
    assert text.endswith(marker), "web-allow.yaml's last rule must end with its allow action"
    if bpf:
        text += f"    bpf: {bpf}\n"
    with open(path_out, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", default="5")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    bpf_dir = os.path.join(os.path.abspath(args.build), "bpf")
    results = []
    for name, obj, interp in VARIANTS:
        pol = os.path.join(os.path.abspath(args.out), f"policy-{name}.yaml")
        policy_with(os.path.join(bpf_dir, obj) if obj else None, pol)
        js = os.path.join(args.out, f"bpf-{name}.json")
        cmd = [sys.executable, os.path.join(ROOT, "scripts/bench/run.py"),
               os.path.join(ROOT, "scripts/bench/scenarios/policy-64b-100k-flows.yaml"),
               "--peers", "vigild,vigild-stages", "--repeat", "1", "--seconds", args.seconds,
               "--policy", pol, "--json", js, "--name", f"bpf-{name}",
               "--vigild", os.path.join(args.build, "app", "vigild")]
        if interp:
            cmd.append("--bpf-interpreter")
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(js) as f:
            doc = json.load(f)
        v, st = doc["peers"]["vigild"], doc["peers"]["vigild-stages"]
        prog = (v["runs"][0].get("bpf") or [{}])[0]
        stages = st.get("median_stage_cycles_per_packet") or {}
        results.append({"variant": name, "mpps": v["median_rx_mpps"],
                        "cycles_per_packet": v["median_cycles_per_packet"],
                        "decide_cycles_per_packet": stages.get("decide"),
                        "program": prog.get("file"), "mode": prog.get("mode"),
                        "runs": prog.get("runs"), "cached": prog.get("cached"),
                        "packets": v["runs"][0]["rx_packets_total"],
                        "program_cycles_per_run": prog.get("cycles_per_run")})
        r = results[-1]
        print(f"{name:15s} {r['mpps']:6.2f} Mpps {r['cycles_per_packet']:7.1f} cycles/packet, "
              f"decide {r['decide_cycles_per_packet'] or 0:5.1f}; program runs {r['runs']} "
              f"of {r['packets']} packets, {r['program_cycles_per_run'] or 0:.1f} cycles/run "
              "(sampled)", flush=True)
    with open(os.path.join(args.out, "bpf.json"), "w") as f:
        json.dump({"benchmark": "bpf", "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
