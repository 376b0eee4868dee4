#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every row of the Prometheus exposition resolves in a running vigild's document.

    test_metrics_rows.py --vigild BUILD/app/vigild --prom-rows BUILD/tests/api/prom_rows

mgmt/mg_prom.c turns values of the metrics document (GET /api/v1/status plus the analysis and
API counters) into samples by their paths; the counter tables (vg_ctr.h) make most rows, and
the values outside them (levels, flags, sizes, the policy's rules, ...) still have path rows.
A key renamed in the code that writes the document would drop its metric without an error:
here prom_rows prints every row (family, fixed labels, path) from the real mg_prom.c, vigild
runs with every part that has counters configured (store, EVE log, both EVE outputs, IPFIX,
watchdog, link watch, signatures and the application layer on tests/cases/eve-applayer), and
each row must give at least one sample in /metrics with its family and fixed labels. The only
exception: a row that walks the members of an object ("applayer.anomalies.*.*") may give none
when /api/v1/status has that object empty (nothing happened to count). The eBPF rows (bpf[],
bpf_prefilters[]) need a policy with programs and are left to the bpf tests.

Exit status: 0 passed, 1 failed, 77 skipped (not root: EAL needs it).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apilib  # noqa: E402
from test_prometheus import LABEL, check, parse, run_checked  # noqa: E402

CASE = os.path.join(apilib.ROOT, "tests", "cases", "eve-applayer")
POLICY = "version: 1\ndefault: allow\n"
# Rows of the eBPF programs: only a policy with programs has them (tests/cases/bpf-*).
SKIP_PREFIXES = ("bpf[]", "bpf_prefilters[]")


def rows(prom_rows):
    out = subprocess.run([prom_rows], capture_output=True, text=True, check=True).stdout
    r = []
    for line in out.splitlines():
        family, labels, path, kind = line.split("\t")
        fixed = {}
        rest = "" if labels == "-" else labels
        while rest:
            m = LABEL.match(rest)
            check(m is not None, f"prom_rows: bad labels {labels!r}")
            fixed[m.group(1)] = m.group(2)
            rest = rest[m.end():]
        r.append((family, fixed, path, kind))
    check(len(r) > 100, f"prom_rows printed {len(r)} rows")
    return r


def empty_object(doc, path):
    """Whether the object a "*" path walks is in doc and empty."""
    head = path[:path.index("*")].rstrip(".")
    v = doc
    for seg in head.split("."):
        if seg.endswith("[]"):
            v = v.get(seg[:-2]) if isinstance(v, dict) else None
            v = v[0] if isinstance(v, list) and v else None
        else:
            v = v.get(seg) if isinstance(v, dict) else None
    return v == {}


def run(v, prom_rows, verbose):
    want = rows(prom_rows)
    # The capture has gone through once every alert of the case met its transaction's facts.
    deadline = time.time() + 20
    while True:
        st = v.get("/api/v1/status", "viewer").json
        attached = st.get("inspection", {}).get("app_alerts", {}).get("attached", 0)
        if attached >= 7:
            break
        check(time.time() < deadline, f"the capture did not go through: {attached} of 7 "
              "alerts with their facts")
        time.sleep(0.2)
    r = v.get("/metrics", "viewer")
    check(r.status == 200, f"GET /metrics: {r.status}")
    series = parse(r.body)
    st = v.get("/api/v1/status", "viewer").json
    missing, checked, empty, skipped = [], 0, 0, 0
    for family, fixed, path, kind in want:
        if path.startswith(SKIP_PREFIXES):
            skipped += 1
            continue
        checked += 1
        if any(name == family and all(dict(labels).get(k) == x for k, x in fixed.items())
               for name, labels in series):
            continue
        if "*" in path and empty_object(st, path):
            empty += 1
            if verbose:
                print(f"      {family} ({path}): an empty object, nothing to count yet")
            continue
        missing.append(f"{family}{fixed or ''} ({kind}, {path})")
    check(not missing, f"{len(missing)} rows of mg_prom.c give no sample: "
          + "; ".join(missing))
    print(f"ok    {checked} rows of the exposition resolve in vigild's document ({empty} read "
          f"an empty object; {skipped} eBPF rows left to the bpf tests)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--prom-rows", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("metrics-rows: needs root (EAL); skipped")
        return 77
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="vigil-rows-")
    extra = {
        "dataplane": {"clock": "packet", "idle_sleep_us": 200},
        "inspection": {"flows": "all"},
        "signatures": {"paths": [os.path.join(CASE, "test.rules")]},
        # Outputs with nobody listening: their counters are there all the same.
        "alerts": {"eve_log": os.path.join(tmp, "eve.json"),
                   "eve_syslog": {"transport": "udp", "address": f"127.0.0.1:{apilib.free_port()}"},
                   "eve_socket": os.path.join(tmp, "absent.sock")},
        "export": {"ipfix": {"collector": f"127.0.0.1:{apilib.free_port()}",
                             "transport": "udp"}},
        "watchdog": {"timeout": "2s", "failure": "open"},
        "link": {"propagate": False, "poll_interval": "100ms"},
    }
    try:
        v = apilib.Vigild(args.vigild, capture="eve-applayer", policy=POLICY, prefix="vgrows",
                          extra_config=extra)
        return run_checked("metrics-rows", t0, v, run, args.prom_rows, args.verbose)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
