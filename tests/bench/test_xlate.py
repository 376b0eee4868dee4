#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of scripts/bench/policy_xlate.py: the translation of a Vigil policy into l3fwd ACL rule
files and OpenFlow conntrack flows. A random differential check plays packets through the
l3fwd lines (first match wins, as l3fwd's priorities make it) and through a direct reading of
the policy, and expects the same verdict for the forward direction and, for allowed flows,
for the replies too."""
import ipaddress
import os
import random
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "bench"))
import policy_xlate  # noqa: E402
from policy_xlate import XlateError  # noqa: E402

results = {"passed": 0, "failed": 0}


def test(fn):
    try:
        fn()
        results["passed"] += 1
        print(f"ok   {fn.__name__}")
    except AssertionError as e:
        results["failed"] += 1
        print(f"FAIL {fn.__name__}: {e}")
    return fn


def write(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    f.write(text)
    f.close()
    return f.name


POLICY = """version: 1
default: drop
sets:
  lan: [10.0.0.0/8, "fd00::/8"]
  inner: [$lan, "!10.1.0.0/16"]
  web: [80, 443, 8000-8099]
rules:
  - name: no-telnet
    proto: tcp
    dport: 23
    action: reject
  - name: web
    proto: tcp
    from: $inner
    to: 192.0.2.0/24
    dport: [$web, "!8050"]
    action: allow
  - name: dns
    proto: udp
    to: 10.0.0.53
    dport: 53
    action: allow
    inspect: [dns]
  - name: trial
    from: 172.16.0.0/12
    action: drop
    dry_run: true
"""


@test
def test_l3fwd_lines_exact():
    default, rules, skipped = policy_xlate.translate(write(POLICY))
    assert default == "drop" and not skipped
    lines = policy_xlate.l3fwd_lines(default, rules, 1, mirror=False)
    v4 = lines[4]
    assert v4[0] == "@0.0.0.0/0 0.0.0.0/0 0 : 65535 23 : 23 6/255", v4[0]
    # $inner = 10/8 minus 10.1/16: 8 prefixes; web minus 8050: 4 ranges.
    web = [x for x in v4 if x.startswith("R") and " 192.0.2.0/24 " in x]
    assert len(web) == 8 * 4, len(web)
    assert "R10.0.0.0/16 192.0.2.0/24 0 : 65535 8000 : 8049 6/255 1" in web
    assert not any(x.startswith("R10.1.") for x in web)
    # dry_run drop forwards: an allow.
    assert v4[-1] == "R172.16.0.0/12 0.0.0.0/0 0 : 65535 0 : 65535 0/0 1", v4[-1]
    # IPv6: the web rule has no IPv6 destination, dns neither; trial has no IPv6 source.
    assert all(not x.startswith("R") or x.endswith("255/255 1") for x in lines[6]), lines[6]


@test
def test_mirror_lines_follow_their_rule():
    default, rules, _ = policy_xlate.translate(write(POLICY))
    v4 = policy_xlate.l3fwd_lines(default, rules, 1, mirror=True)[4]
    i = v4.index("R0.0.0.0/0 10.0.0.53/32 0 : 65535 53 : 53 17/255 1")
    assert v4[i + 1] == "R10.0.0.53/32 0.0.0.0/0 53 : 53 0 : 65535 17/255 1", v4[i + 1]


@test
def test_symmetric_allow_has_no_duplicate_mirror():
    p = write("version: 1\ndefault: drop\nrules:\n  - name: both\n    proto: tcp\n"
              "    from: [10.0.0.0/8, 192.168.0.0/16]\n    to: [10.0.0.0/8, 192.168.0.0/16]\n"
              "    action: allow\n")
    d, r, _ = policy_xlate.translate(p)
    v4 = policy_xlate.l3fwd_lines(d, r, 1, mirror=True)[4]
    assert len(v4) == 4 and len(set(v4)) == 4, v4


@test
def test_default_allow_and_placeholder_route():
    p = write("version: 1\ndefault: allow\nrules: []\n")
    d, r, _ = policy_xlate.translate(p)
    lines = policy_xlate.l3fwd_lines(d, r, 1)
    assert lines[4] == ["R0.0.0.0/0 0.0.0.0/0 0 : 65535 0 : 65535 0/0 1"], lines[4]
    p = write("version: 1\ndefault: drop\n")
    d, r, _ = policy_xlate.translate(p)
    lines = policy_xlate.l3fwd_lines(d, r, 1)
    assert lines[4] == ["R0.0.0.0/32 0.0.0.0/32 0 : 0 0 : 0 255/255 1"], lines[4]


@test
def test_unmapped_rules_are_errors_with_position():
    p = write("version: 1\ndefault: drop\nrules:\n  - name: x\n    in: outside\n"
              "    action: allow\n")
    try:
        policy_xlate.translate(p)
        raise AssertionError("no error for 'in'")
    except XlateError as e:
        assert f"{p}:5:9: error: rule 'x': 'in'" in str(e), str(e)
    d, r, skipped = policy_xlate.translate(p, skip_unmapped=True)
    assert r == [] and skipped == [{"rule": "x", "line": 4, "reason":
                                    "'in' has no equivalent in the peers' rules"}], skipped


@test
def test_bad_input_errors():
    cases = [
        ("version: 1\ndefault: drop\nrules:\n  - name: a\n    from: 10.0.0.300\n"
         "    action: drop\n", ":5:11: error: '10.0.0.300' is not an address"),
        ("version: 1\ndefault: drop\nrules:\n  - name: a\n    from: $nope\n"
         "    action: drop\n", ":5:11: error: unknown set '$nope'"),
        ("version: 1\ndefault: drop\nsets:\n  a: [$b]\n  b: [$a]\nrules:\n  - name: r\n"
         "    from: $a\n    action: drop\n", "set cycle: a -> b -> a"),
        ("version: 1\ndefault: drop\nrules:\n  - name: a\n    dport: 80\n    action: drop\n",
         "ports need proto tcp, udp or sctp"),
        ("version: 1\ndefault: drop\nrules:\n  - name: a\n    proto: tcp\n"
         "    dport: 90-80\n    action: drop\n", "'90-80' is not within 0..65535"),
        ("version: 1\ndefault: maybe\n", "default must be allow, drop or reject"),
        ("version: 1\ndefault: drop\nrules: [\n", "error: YAML"),
        ("version: 1\ndefault: drop\nrules:\n  - name: a\n    from: [\"!any\"]\n"
         "    action: drop\n", "can never match"),
    ]
    for text, want in cases:
        try:
            policy_xlate.translate(write(text))
            raise AssertionError(f"no error for {text!r}")
        except XlateError as e:
            assert want in str(e), f"{want!r} not in {str(e)!r}"


@test
def test_range_masks_cover_exactly():
    rng = random.Random(7)
    for _ in range(300):
        lo = rng.randrange(65536)
        hi = rng.randrange(lo, 65536)
        covered = set()
        for v, m in policy_xlate.range_masks(lo, hi):
            assert v & ~m & 0xffff == 0, (v, m)
            block = [x for x in range(v, v + ((~m) & 0xffff) + 1)]
            assert not covered.intersection(block)
            covered.update(block)
        assert covered == set(range(lo, hi + 1)), (lo, hi)


@test
def test_ovs_flows_shape():
    default, rules, _ = policy_xlate.translate(write(POLICY))
    flows = policy_xlate.ovs_flows(default, rules, 2)
    assert flows[0] == "table=0,priority=100,ip,actions=ct(table=1)"
    assert "table=1,priority=65000,ct_state=+trk+est,actions=output:2" in flows
    assert ("table=1,priority=60000,ct_state=+trk+new,ip,nw_proto=6,tp_dst=0x17/0xffff,"
            "actions=drop") in flows
    dns = [f for f in flows if "nw_dst=10.0.0.53/32" in f]
    assert dns == ["table=1,priority=59998,ct_state=+trk+new,ip,nw_dst=10.0.0.53/32,"
                   "nw_proto=17,tp_dst=0x35/0xffff,actions=ct(commit),output:2"], dns
    assert flows[-3:] == ["table=1,priority=1,ct_state=+trk+new,ip,actions=drop",
                          "table=1,priority=1,ct_state=+trk+new,ipv6,actions=drop",
                          "table=1,priority=0,actions=drop"]


def l3fwd_verdict(lines, fam, src, dst, proto, sport, dport):
    for line in lines:
        f = line[1:].split()
        s, d = ipaddress.ip_network(f[0]), ipaddress.ip_network(f[1])
        if src not in s or dst not in d:
            continue
        if not (int(f[2]) <= sport <= int(f[4]) and int(f[5]) <= dport <= int(f[7])):
            continue
        pv, pm = (int(x) for x in f[8].split("/"))
        if proto & pm != pv & pm:
            continue
        return "allow" if line[0] == "R" else "drop"
    return "drop"


def policy_verdict(text_rules, default, src, dst, proto, sport, dport):
    for r in text_rules:
        if r["proto"] is not None and proto not in r["proto"]:
            continue
        if not any(src in n for n in r["from"]) or not any(dst in n for n in r["to"]):
            continue
        if not any(lo <= sport <= hi for lo, hi in r["sport"]):
            continue
        if not any(lo <= dport <= hi for lo, hi in r["dport"]):
            continue
        return r["action"]
    return default


@test
def test_random_differential_ipv4():
    rng = random.Random(11)
    for round_ in range(20):
        # Rules written directly as the model the translator must agree with.
        model, text = [], ["version: 1", f"default: {rng.choice(['allow', 'drop'])}",
                           "rules:"]
        for i in range(rng.randrange(1, 8)):
            src = ipaddress.ip_network(f"10.{rng.randrange(4)}.0.0/{rng.choice([8, 16, 24])}",
                                       strict=False)
            dst = ipaddress.ip_network(f"192.168.{rng.randrange(4)}.0/{rng.choice([16, 24])}",
                                       strict=False)
            proto = rng.choice([None, 6, 17])
            action = rng.choice(["allow", "drop"])
            lo = rng.randrange(0, 2000)
            hi = lo + rng.randrange(0, 500)
            neg = rng.randrange(lo, hi + 1)
            r = {"from": [src], "to": [dst], "proto": None if proto is None else [proto],
                 "sport": [(0, 65535)], "dport": [(0, 65535)], "action": action}
            text += [f"  - name: r{i}", f"    from: {src}", f"    to: {dst}",
                     f"    action: {action}"]
            if proto:
                text.append(f"    proto: {proto}")
                text.append(f'    dport: ["{lo}-{hi}", "!{neg}"]')
                r["dport"] = [x for x in [(lo, neg - 1), (neg + 1, hi)] if x[0] <= x[1]]
                if not r["dport"]:
                    text.pop()
                    r["dport"] = [(0, 65535)]
            model.append(r)
        path = write("\n".join(text) + "\n")
        default, rules, _ = policy_xlate.translate(path)
        v4 = policy_xlate.l3fwd_lines(default, rules, 1, mirror=True)[4]
        for _ in range(300):
            src = ipaddress.ip_address(f"10.{rng.randrange(4)}.{rng.randrange(3)}.1")
            dst = ipaddress.ip_address(f"192.168.{rng.randrange(4)}.{rng.randrange(3)}")
            proto = rng.choice([6, 17, 1])
            sport = rng.randrange(1024, 65536)
            dport = rng.randrange(0, 2500) if proto != 1 else 0
            want = policy_verdict(model, default, src, dst, proto, sport if proto != 1 else 0,
                                  dport)
            got = l3fwd_verdict(v4, 4, src, dst, proto, sport if proto != 1 else 0, dport)
            assert got == want, (round_, str(src), str(dst), proto, sport, dport, want, got,
                                 "\n".join(text))
            if want == "allow":
                back = l3fwd_verdict(v4, 4, dst, src, proto, dport, sport if proto != 1 else 0)
                assert back == "allow", ("reply dropped", round_, str(src), str(dst), proto)


if __name__ == "__main__":
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)
