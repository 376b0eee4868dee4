#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the rule filter behind the bench peer vigild-without (scripts/bench/peers.py):
the copy of a signature directory leaves out exactly the rules of the given sids, keeps
everything else byte for byte, and says how many it left out."""
import os
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "bench"))
import peers  # noqa: E402


def main():
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "src")
        os.makedirs(src)
        a = ('alert udp any any -> any 53 (msg:"a"; pcre:"/x/"; sid:9000300; rev:1;)\n'
             '# alert udp any any -> any 53 (msg:"commented"; sid:9000300;)\n'
             'alert udp any any -> any 53 (msg:"b"; content:"sid:9000300;"; sid:19000300;)\n'
             'alert udp any any -> any 53 (msg:"c";sid:7;)\n')
        with open(os.path.join(src, "a.rules"), "w") as f:
            f.write(a)
        with open(os.path.join(src, "classification.config"), "w") as f:
            f.write("config classification: x,y,1\n")
        path, removed = peers.signatures_without(src, {9000300, 7}, os.path.join(d, "out"))
        with open(os.path.join(path, "a.rules")) as f:
            kept = f.read().splitlines()
        checks = [
            (removed == 2, f"2 rules left out, got {removed}"),
            (len(kept) == 2, f"2 lines kept, got {kept}"),
            (kept[0].startswith("# alert"), "a commented-out rule stays as it is"),
            ("sid:19000300;" in kept[1], "a rule whose content holds 'sid:9000300;' stays"),
            (os.path.exists(os.path.join(path, "classification.config")),
             "the other files are copied"),
        ]
        for ok, what in checks:
            print(("ok   " if ok else "FAIL ") + what)
            failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
