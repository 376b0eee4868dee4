#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""What the API does with hostile or unusual input (issue 17), against a running vigild:

- texts are bytes, kept exactly: a policy or signature text goes in, comes back from GET, the
  versions and a rollback byte for byte; a text that is not UTF-8 or holds a NUL is refused
  with 400 and the offset of the first bad byte, through the API and from a file on SIGHUP;
- a YAML text nested 20,000 deep is refused at once (the limit policy.max_depth), a text over
  the size limit (signatures.max_size) is refused;
- a pcre that does not compile is refused with PCRE2's message and offset; one that cannot be
  bounded is accepted with a warning, and its limit hits are counted per signature;
- a blocklist reason with CR, LF and terminal escapes does not forge a log line.

    inputs.py --vigild BUILD/app/vigild [-k NAME] [-v]

Exit status: 0 all passed, 1 a test failed, 77 skipped (not root: EAL needs it).
"""
import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apilib  # noqa: E402
from apilib import POLICY  # noqa: E402
from run import Failure, check, expect  # noqa: E402

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def put_text(v, path, data, ctype="application/yaml"):
    return v.request("PUT", path, "admin", data, ctype)


def raw_text(reply):
    """The text member of a reply, as the bytes it stands for."""
    return reply.json["text"].encode("utf-8")


# A policy with what a byte-changing path would damage: characters of 2, 3 and 4 bytes, CRLF
# line ends, a tab, trailing blanks and no newline at the end.
EXACT = (POLICY + "# caf\u00e9 \u2713 \U0001d11e\r\n# tab\there   \r\n# no newline at the end  "
         ).encode("utf-8")


@test
def texts_kept_exactly(v, ctx):
    r = expect(put_text(v, "/api/v1/policy", EXACT), 200)
    ver = r.json["version"]
    check(r.json["sha256"] == hashlib.sha256(EXACT).hexdigest(), "SHA-256 of the bytes sent", r)
    r = expect(v.get("/api/v1/policy", "viewer"), 200)
    check(raw_text(r) == EXACT, "GET returns the bytes sent", r)
    r = expect(v.get(f"/api/v1/policy/versions/{ver}", "viewer"), 200)
    check(raw_text(r) == EXACT, "the stored version holds the bytes sent", r)
    # Something else in force, then the rollback brings the same bytes back.
    expect(put_text(v, "/api/v1/policy", POLICY), 200)
    r = expect(v.request("POST", "/api/v1/policy/rollback", "admin", {"version": ver}), 200)
    check(r.json["sha256"] == hashlib.sha256(EXACT).hexdigest(), "rollback: same SHA-256", r)
    r = expect(v.get("/api/v1/policy", "viewer"), 200)
    check(raw_text(r) == EXACT, "the rolled back text is the bytes sent", r)
    expect(put_text(v, "/api/v1/policy", POLICY), 200)


@test
def texts_not_utf8_or_with_nul_refused(v, ctx):
    before = expect(v.get("/api/v1/policy", "viewer"), 200).json["version"]
    head = POLICY.encode() + b"# a comment with "
    for bad, why in ((head + b"\xff\xfe in it\n", "not valid UTF-8"),
                     (head + b"\xc3\x28 (a lead byte alone)\n", "not valid UTF-8"),
                     (head + b"\xed\xa0\x80 (a surrogate)\n", "not valid UTF-8"),
                     (head + b"\x00 and the rules after it\n", "NUL")):
        for method, path in (("PUT", "/api/v1/policy"), ("POST", "/api/v1/policy/validate")):
            r = expect(v.request(method, path, "admin", bad, "application/yaml"), 400,
                       "invalid_text")
            d = r.json["details"]
            check(d["offset"] == len(head), f"offset of the first bad byte ({len(head)})", r)
            check(d["line"] == head.count(b"\n") + 1, "its line", r)
            check(why in r.json["message"] and str(len(head)) in r.json["message"],
                  "the message says what and where", r)
    # JSON cannot carry them either: jansson's position.
    r = expect(v.request("PUT", "/api/v1/policy", "admin",
                         b'{"text": "version: 1\\u0000rules: []"}', "application/json"), 400,
               "invalid_json")
    check(v.get("/api/v1/policy", "viewer").json["version"] == before, "nothing changed")


@test
def policy_file_with_bad_bytes_on_sighup(v, ctx):
    """SIGHUP with a damaged policy file: a clear error (file, line, offset), the policy in
    force stays."""
    before = expect(v.get("/api/v1/policy", "viewer"), 200).json
    good = open(v.policy_path, "rb").read()
    bad = POLICY.encode() + b"# \x00\n"
    try:
        with open(v.policy_path, "wb") as f:
            f.write(bad)
        v.proc.send_signal(signal.SIGHUP)
        want = f"byte offset {len(POLICY) + 2} holds a NUL byte"
        deadline = time.time() + 10
        while want not in v.tail(200) and time.time() < deadline:
            time.sleep(0.1)
        log = v.tail(200)
        check(want in log and v.policy_path in log, f"the log names file and offset:\n{log}")
        after = expect(v.get("/api/v1/policy", "viewer"), 200).json
        check(after["version"] == before["version"] and after["text"] == before["text"],
              "the policy in force stayed")
    finally:
        with open(v.policy_path, "wb") as f:
            f.write(good)


@test
def yaml_nesting_refused_quickly(v, ctx):
    before = expect(v.get("/api/v1/policy", "viewer"), 200).json["version"]
    deep = "- " * 20000 + "x\n"  # 40 KB, 20,000 lists deep
    for text in (deep, "rules: " + "[" * 20000 + "]" * 20000 + "\n"):
        t0 = time.time()
        r = expect(v.request("POST", "/api/v1/policy/validate", "operator", text,
                             "text/plain"), 422, "validation_failed")
        took = time.time() - t0
        check(took < 1.0, f"refused in {took:.2f} s", r)
        d = r.json["details"]["diagnostics"]
        check(any("nested more than 64 deep" in x["message"] and x["line"] == 1
                  and x["column"] > 1 for x in d), "the error names the limit and where", r)
    t0 = time.time()
    expect(v.request("PUT", "/api/v1/policy", "admin", deep, "text/plain"), 422)
    check(time.time() - t0 < 1.0, "PUT refused as quickly")
    check(v.get("/api/v1/policy", "viewer").json["version"] == before, "nothing changed")


@test
def log_lines_cannot_be_forged(v, ctx):
    reason = "scan\r\n2026-12-06 vigild: FORGED line\x1b[2J\x1b[31m red\u009b"
    expect(v.request("POST", "/api/v1/blocklist", "operator",
                     {"address": "198.51.100.77", "ttl": 60, "reason": reason}), 201)
    deadline = time.time() + 5
    while "198.51.100.77" not in v.tail(400) and time.time() < deadline:
        time.sleep(0.1)
    log = v.tail(400)
    lines = [x for x in log.splitlines() if "198.51.100.77" in x or "FORGED" in x]
    check(lines, f"the block is logged:\n{log}")
    check(all("FORGED" not in x or "198.51.100.77" in x for x in lines),
          f"a line of its own starts with the forged text:\n{lines}")
    check(not re.search("\x1b|\r|\u009b", log), "a control character reached the log")
    check(any("scan\\r\\n2026-12-06 vigild: FORGED line\\x1b[2J\\x1b[31m red\\x9b" in x
              for x in lines), f"the reason appears escaped:\n{lines}")
    expect(v.request("DELETE", "/api/v1/blocklist/198.51.100.77", "operator"), 204)


SIGS = ('alert tcp any any -> any 80 (msg:"caf\u00e9 \u2713"; content:"/etc/passwd"; '
        'sid:9910001; rev:1;)\r\n')
EVIL = ('alert udp any any -> any any (msg:"catastrophic"; pcre:"/(a+)+(?1)$/"; '
        'sid:9910003; rev:1;)\n')


def write_capture(d):
    """in-a.pcap: UDP datagrams to port 53 whose payload makes (a+)+(?1)$ backtrack."""
    os.makedirs(d, exist_ok=True)
    code = ("import sys\n"
            "from scapy.all import Ether, IP, UDP, Raw, wrpcap\n"
            "p = [Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02') / "
            "IP(src='10.0.0.1', dst='192.0.2.53') / UDP(sport=40000 + i, dport=53) / "
            "Raw(b'a' * 64 + b'b') for i in range(5)]\n"
            "wrpcap(sys.argv[1], p)\n")
    subprocess.run(["/usr/bin/python3", "-c", code, os.path.join(d, "in-a.pcap")], check=True)


@test
def signature_texts_and_pcre(v, ctx):
    rules = os.path.join(v.work, "inputs.rules")
    with open(rules, "w") as f:
        f.write(SIGS + EVIL)
    cap = os.path.join(v.work, "pcre-capture")
    write_capture(cap)
    s = apilib.Vigild(v.argv0, prefix="vginp", capture=cap, extra_config={
        "signatures": {"paths": [rules], "max_size": "4k"}, "inspection": {"flows": "all"}})
    try:
        # The catastrophic pcre met its input: stopped at the limit, counted for its rule,
        # in total and in the metrics; forwarding went on.
        deadline = time.time() + 10
        while True:
            c = expect(s.get("/api/v1/rules/counters", "viewer"), 200).json
            hits = {x["sid"]: x.get("pcre_limit_hits") for x in c.get("signatures", [])}
            if hits.get(9910003) == 5 or time.time() > deadline:
                break
            time.sleep(0.2)
        check(hits.get(9910003) == 5, f"five limit hits for sid 9910003: {c}")
        st = expect(s.get("/api/v1/status", "viewer"), 200).json
        check(st["inspection"]["pcre_limit_hits"] == 5, "the total in the status", st)
        m = expect(s.get("/metrics", "viewer"), 200).body
        check("vigil_signature_pcre_limit_hits_total 5" in m, "the total in the metrics")
        check(st["ports"][1]["tx_packets"] == 5, "the datagrams were forwarded (taken as "
              "not matching)", st["ports"])

        # Kept exactly.
        text = SIGS.encode() + b"# \xf0\x9d\x84\x9e and no newline"
        r = expect(put_text(s, "/api/v1/signatures", text, "text/plain"), 200)
        ver = r.json["version"]
        check(raw_text(expect(s.get("/api/v1/signatures", "viewer"), 200)) == text,
              "GET returns the bytes sent")
        check(raw_text(expect(s.get(f"/api/v1/signatures/versions/{ver}", "viewer"), 200))
              == text, "the version holds the bytes sent")
        expect(put_text(s, "/api/v1/signatures", SIGS, "text/plain"), 200)
        expect(s.request("POST", "/api/v1/signatures/rollback", "admin", {"version": ver}),
               200)
        check(raw_text(expect(s.get("/api/v1/signatures", "viewer"), 200)) == text,
              "rollback returns the bytes sent")
        # Refused: bad bytes, NUL, too big.
        n = len(SIGS.encode())
        for bad, off in ((SIGS.encode() + b"# \x80\n", n + 2),
                         (SIGS.encode() + b"#\x00 alert ...\n", n + 1)):
            r = expect(put_text(s, "/api/v1/signatures", bad, "text/plain"), 400,
                       "invalid_text")
            check(r.json["details"]["offset"] == off, f"the offset {off}", r)
        big = (SIGS * 100).encode()
        r = expect(put_text(s, "/api/v1/signatures", big, "text/plain"), 422)
        check("signatures.max_size" in r.json["message"], "the limit is named", r)

        # A pcre that does not compile is refused with PCRE2's words and where.
        broken = ('alert tcp any any -> any 80 (msg:"broken pcre"; pcre:"/(ab/"; '
                  'sid:9910002; rev:1;)\n')
        r = expect(s.request("POST", "/api/v1/signatures/validate", "operator",
                             SIGS + broken, "text/plain"), 422, "validation_failed")
        check(any("missing closing parenthesis" in x["message"] and x["line"] == 2
                  for x in r.json["details"]["diagnostics"]), "PCRE2's message at its line", r)

        # One that cannot be bounded: accepted with a warning.
        r = expect(s.request("POST", "/api/v1/signatures/validate", "operator",
                             SIGS + EVIL, "text/plain"), 200)
        check(any("nested" in w["message"] and "9910003" in w["message"]
                  for w in r.json["warnings"]), "a warning names the pcre", r)
    finally:
        rc = s.close()
        if rc != 0:
            print(s.tail())
        s.cleanup()
        check(rc == 0, f"the signature vigild exited with {rc}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigild", required=True)
    ap.add_argument("-k", dest="only", help="run only tests whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("api-inputs: needs root (EAL); skipped")
        return 77
    v = apilib.Vigild(args.vigild, prefix="vginput")
    v.argv0 = args.vigild
    failed = []
    try:
        for fn in TESTS:
            if args.only and args.only not in fn.__name__:
                continue
            t0 = time.time()
            try:
                fn(v, {})
                print(f"ok    {fn.__name__} ({time.time() - t0:.1f} s)")
            except Exception as e:  # noqa: BLE001 (every kind of failure reported the same way)
                failed.append(fn.__name__)
                print(f"FAIL  {fn.__name__}: {e}")
                if args.verbose or not isinstance(e, Failure):
                    traceback.print_exc()
    finally:
        rc = v.close()
        if rc != 0:
            failed.append(f"vigild exited with {rc}")
            print(f"FAIL  vigild exited with {rc}:\n{v.tail()}")
        elif failed:
            print("vigild log (last lines):\n" + v.tail(20))
        v.cleanup()
    print(f"api-inputs: {len(failed)} failed" if failed else "api-inputs: all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
