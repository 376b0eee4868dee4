#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ET Open (the full mirror in shared/testdata/et-open-full) through det_check.

The active rules are counted here, independently of the loader: a rule is a statement (lines
joined where they end in a backslash) that is neither blank nor a comment. det_check must read
exactly that many, load at least 90% of them, account for every other one as rejected, and
compile the set (its compile time is printed, not judged: that is a benchmark's job). Every reject det_check lists must name a keyword that is in the rule at the
line and column it gives, with the rule's sid.

    et_open_full.py DET_CHECK TESTDATA_DIR

Exit 77 (skipped) when the testdata is absent.
"""
import json
import os
import subprocess
import sys

MIN_SHARE = 0.90


def count_rules(d):
    n = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith('.rules'):
            continue
        with open(os.path.join(d, name), encoding='utf-8', errors='replace') as f:
            lines = f.read().split('\n')
        i = 0
        while i < len(lines):
            line = lines[i].rstrip('\r')
            i += 1
            s = line.strip()
            if not s or s.startswith('#'):
                continue
            while line.endswith('\\') and i < len(lines):
                line = line[:-1] + lines[i].rstrip('\r')
                i += 1
            n += 1
    return n


def main():
    det_check, testdata = sys.argv[1], sys.argv[2]
    d = os.path.join(testdata, 'et-open-full')
    if not os.path.isdir(d):
        print(f'testdata not found at {d}: skipped')
        return 77
    want = count_rules(d)
    out = subprocess.run([det_check, '-j', '-v', '-c', os.path.join(d, 'classification.config'),
                          d], check=False, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr)
        print(f'det_check exited with {out.returncode}')
        return 1
    rep = json.loads(out.stdout)
    load, comp = rep['load'], rep['compile']
    print(f"active rules {want}: det_check read {load['rules']}, loaded {load['loaded']}, "
          f"rejected {load['rejected']} ({100.0 * load['loaded'] / want:.2f}% loaded), "
          f"{load['tx']} on transactions")
    print(f"rejected by reason: {load['by_reason']}")
    print(f"keywords not supported: {load['keywords']}")
    print(f"compiled in {comp['compile_ms']:.0f} ms: {comp['databases']} databases, "
          f"{comp['db_bytes']} bytes, peak RSS {rep['peak_rss_bytes']} bytes")
    ok = True
    if load['rules'] != want:
        print(f"FAIL: det_check read {load['rules']} rules, the files hold {want}")
        ok = False
    if load['loaded'] + load['rejected'] != want:
        print(f"FAIL: loaded + rejected = {load['loaded'] + load['rejected']}, not {want}")
        ok = False
    if load['loaded'] < MIN_SHARE * want:
        print(f"FAIL: {load['loaded']} loaded, less than {MIN_SHARE:.0%} of {want}")
        ok = False
    if sum(load['by_reason'].values()) != load['rejected']:
        print('FAIL: the reasons do not add up to the rejects')
        ok = False
    # The compile time is printed above, not judged: speed is for the benchmarks
    # (docs/BENCHMARKS.md), and this test also runs in the sanitizer build.
    if comp is None or comp['rules'] != load['loaded']:
        print('FAIL: the loaded set did not compile whole')
        ok = False
    # every listed reject points into its keyword's option (the name or its value), in the
    # rule with its sid
    for e in load['rejects']:
        with open(e['file'], encoding='utf-8', errors='replace') as f:
            lines = f.read().split('\n')
        line = lines[e['line'] - 1]
        kw = e['keyword']
        before = line[:e['column'] - 1]
        start = max(before.rfind(';'), before.rfind('(')) + 1
        if kw and not line[start:].lstrip().startswith(kw):
            print(f"FAIL: {e['file']}:{e['line']}:{e['column']}: '{kw}' is not there: "
                  f"{line[e['column'] - 1:e['column'] + 40]}")
            ok = False
        if e['sid'] and f"sid:{e['sid']};" not in line:
            print(f"FAIL: {e['file']}:{e['line']}: sid {e['sid']} is not in the rule")
            ok = False
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
