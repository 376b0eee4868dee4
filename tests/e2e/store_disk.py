#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The store and the EVE log on a disk that stalls or fills (docs/STORE.md, "Failure behaviour").

Run by test_store_disk_stall.sh and test_store_disk_full.sh, which mount the file system (a
loop-mounted ext4 image, a small tmpfs) and always thaw and unmount it. vigild replays a capture
of short TCP sessions without end (net_pcap infinite_rx), a signature alerts on every session's
first data packet, the store and the EVE log live on the mounted file system.

--mode stall: the file system is frozen (fsfreeze -f) for 5 s while traffic runs. Control keeps
answering GET /status within a bound and keeps draining the workers' event rings; a block is
answered 202 (pending in the store), a policy PUT 202 with no version id; status says what
waits. After fsfreeze -u the backlog is written: the block is in the database, the policy
version gets the store's id, the EVE file holds every line status counts as written.

--mode full: the file system is filled. Failures are counted and logged once per episode, not
per line; blocks and two different policies are answered 202 pending; once space is freed the
store and EVE catch up, the two policies get two different ids from the store, and a rollback
to the first restores its text exactly.
"""
import argparse
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import apilib  # noqa: E402
from apilib import POLICY  # noqa: E402

SIG = ('alert tcp any any -> any any (msg:"vigil disk e2e"; content:"VGDISK"; '
       'sid:9100001; rev:1;)\n')
FAILED = []
LAST = {"eve_written": 0}


def log(msg):
    print(f"store-disk: {msg}", flush=True)


def check(cond, what, detail=None):
    if not cond:
        FAILED.append(what)
        log(f"FAIL {what}" + (f": {detail}" if detail is not None else ""))
    return cond


def status(v, bound_s=None):
    t0 = time.monotonic()
    r = v.get("/api/v1/status", "viewer", timeout=10)
    dt = time.monotonic() - t0
    if bound_s is not None:
        check(r.status == 200 and dt < bound_s,
              f"GET /status answered within {bound_s} s", f"{r.status} after {dt:.2f} s")
    return r.json if r.status == 200 else {}, dt


def wait_for(v, what, cond, timeout):
    deadline = time.monotonic() + timeout
    s = {}
    while time.monotonic() < deadline:
        s, _ = status(v)
        if s and cond(s):
            return s
        time.sleep(0.2)
    check(False, what, {k: s.get(k) for k in ("store", "eve", "versions")})
    return s


def policy_text(n):
    return POLICY + f"# e2e text {n}\n"


def start(args):
    work = args.work
    pcap = os.path.join(work, "sessions.pcap")
    subprocess.run([args.pktgen, "--flows", "100", "--proto", "tcp", "--per-flow", "7",
                    "--match-share", "1", "--match-pattern", "VGDISK", "--seed", "11",
                    "--quiet", "-o", pcap], check=True, stdout=subprocess.DEVNULL)
    rules = os.path.join(work, "disk.rules")
    with open(rules, "w") as f:
        f.write(SIG)
    extra = {
        "eal": {"file_prefix": f"vgdisk{os.getpid()}", "hugepages": "off",
                "no_huge_memory": "1024M", "args": ["--log-level=lib.eal:error"]},
        "ports": [{"name": "a", "device": f"net_pcap0,rx_pcap={pcap},infinite_rx=1"},
                  {"name": "b", "device": "net_null0,no-rx=1"}],
        "mempool": {"mbufs": 65535},
        "dataplane": {"idle_sleep_us": 100},
        "store": {"path": os.path.join(args.mnt, "vigil.db"), "batch_rows": 1000,
                  "batch_interval": "200ms", "retry_min": "100ms", "retry_max": "500ms"},
        "alerts": {"eve_log": os.path.join(args.mnt, "eve.json"), "dedup_window": "1s"},
        "signatures": {"paths": [rules]},
        "log": {"level": "info"},
    }
    return apilib.Vigild(args.vigild, extra_config=extra, prefix="vgdisk")


def eve_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    check(data.endswith(b"\n") or not data, "the EVE file ends with a whole line")
    return data.count(b"\n")


def block(v, addr):
    t0 = time.monotonic()
    r = v.request("POST", "/api/v1/blocklist", "operator",
                  {"address": addr, "ttl": 3600, "reason": "e2e"}, timeout=15)
    return r, time.monotonic() - t0


def put_policy(v, text):
    t0 = time.monotonic()
    r = v.request("PUT", "/api/v1/policy", "admin", text, "application/yaml", timeout=15)
    return r, time.monotonic() - t0


def stored_blocks(db):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return {row[0] for row in c.execute("SELECT addr FROM blocklist")}
    finally:
        c.close()


def run_stall(args, v):
    db = os.path.join(args.mnt, "vigil.db")
    wait_for(v, "alerts reach the EVE log before the freeze",
             lambda s: s.get("eve", {}).get("written", 0) > 0, 15)
    # Control's pace before the freeze: events drained per second (the capture is replayed as
    # fast as the worker goes, so the rings overflow at times even on a healthy disk).
    a, _ = status(v)
    time.sleep(1)
    s0, _ = status(v)
    t_before = 1.0
    rate0 = (s0["control"]["events"]["drained"] - a["control"]["events"]["drained"]) / t_before
    lost0 = s0["events"]["lost"]
    drained0 = s0["control"]["events"]["drained"]
    log(f"before the freeze: store {s0['store']['rows_written']} rows written, "
        f"eve {s0['eve']['written']} lines, control drains {rate0:.0f} events/s")

    subprocess.run(["fsfreeze", "-f", args.mnt], check=True)
    frozen_at = time.monotonic()
    try:
        worst = 0.0
        r_block, t_block = block(v, "198.51.100.77")
        r_put, t_put = put_policy(v, policy_text(1))
        # (time, drained) at each GET /status for 2 s at least after the two writes were
        # answered: the longest stretch without progress.
        seen = []
        answered = time.monotonic()
        while time.monotonic() - frozen_at < 5 or time.monotonic() - answered < 2:
            s, dt = status(v, bound_s=1.0)
            seen.append((time.monotonic(), s["control"]["events"]["drained"]))
            worst = max(worst, dt)
            time.sleep(0.1)
        s1, _ = status(v)
        s1_at = time.monotonic()
    finally:
        subprocess.run(["fsfreeze", "-u", args.mnt], check=True)
    thawed = time.monotonic()
    log(f"frozen {thawed - frozen_at:.1f} s: GET /status worst {worst * 1000:.0f} ms; "
        f"block answered {r_block.status} in {t_block:.2f} s, policy PUT {r_put.status} "
        f"in {t_put:.2f} s")
    check(r_block.status == 202 and r_block.json.get("stored") == "pending",
          "a block during the freeze is answered 202, pending", r_block)
    check(t_block < 5, "the block is answered within 5 s", t_block)
    check(r_put.status == 202 and r_put.json.get("version") is None
          and r_put.json.get("version_state") == "pending",
          "a policy PUT during the freeze is answered 202 with no version id", r_put)
    st = s1.get("store", {})
    check(st.get("durable_pending", 0) >= 2, "status counts the durable rows waiting", st)
    check(st.get("queued", 0) > 0 and st.get("writer_busy_ms", 0) >= 1000,
          "status shows the writer stuck with rows queued", st)
    check(s1["versions"]["policy_state"] == "pending", "status: the policy version is pending",
          s1["versions"])
    drained = s1["control"]["events"]["drained"] - drained0
    lost = s1["events"]["lost"] - lost0
    rate1 = drained / (s1_at - frozen_at)
    log(f"during the freeze control drained {rate1:.0f} events/s ({lost} lost on the rings); "
        f"store: {st.get('pending')} rows pending on control, {st.get('queued')} with the "
        f"writer, {st.get('rows_dropped')} dropped; eve: {s1['eve']['queued']} lines queued")
    # Blocked in SQLite, control would drain nothing while the disk is frozen: it must make
    # progress between the status reads (every ~0.1 s), and keep a fair share of its pace. The
    # pace itself moves with the machine's load (a busy 2-core machine has halved it), so the
    # share asked is a quarter; the stall bound is what a blocked control fails.
    stall, since = 0.0, seen[0]
    for t, d in seen[1:]:
        if d > since[1]:
            since = (t, d)
        stall = max(stall, t - since[0])
    log(f"longest stretch without an event drained: {stall * 1000:.0f} ms")
    check(stall < 1.5, "control kept draining the event rings while the disk was frozen "
          "(no stretch of 1.5 s without progress)", f"{stall:.2f} s")
    check(rate1 >= 0.25 * rate0, "control kept draining at a fair share of its pace",
          f"{rate1:.0f}/s against {rate0:.0f}/s before")
    check(s1["eve"]["queued"] > 0, "EVE lines wait in the queue during the freeze", s1["eve"])

    s2 = wait_for(v, "the backlog is written after the thaw",
                  lambda s: s["store"]["durable_pending"] == 0 and s["store"]["queued"] < 5000
                  and s["eve"]["queued"] == 0 and s["versions"]["policy_state"] == "recorded",
                  15)
    log(f"{time.monotonic() - thawed:.1f} s after the thaw: store {s2['store']['rows_written']} "
        f"rows written, {s2['store']['rows_dropped']} dropped (beyond the bound); eve "
        f"{s2['eve']['written']} lines written, {s2['eve']['dropped']} dropped")
    check(s2["store"]["rows_dropped"] == 0, "no store row was dropped (within the bound)",
          s2["store"])
    check(s2["eve"]["dropped"] == 0, "no EVE line was dropped (the queue's bound held)",
          s2["eve"])
    check("198.51.100.77" in stored_blocks(db), "the pending block is in the database")
    pol = v.get("/api/v1/policy", "viewer").json
    check(pol["version"] > 0 and pol["text"] == policy_text(1),
          "the policy now has the store's version id", pol.get("version"))
    ver = v.get(f"/api/v1/policy/versions/{pol['version']}", "viewer")
    check(ver.status == 200 and ver.json.get("text") == policy_text(1),
          "the stored version holds the text put during the freeze", ver)
    LAST["eve_written"] = s2["eve"]["written"]
    return db


def fill(mnt):
    """Fill the file system; returns the filler's path."""
    path = os.path.join(mnt, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 512):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return path


def run_full(args, v):
    db = os.path.join(args.mnt, "vigil.db")
    wait_for(v, "alerts reach the EVE log before the disk fills",
             lambda s: s.get("eve", {}).get("written", 0) > 0
             and s["versions"]["policy_state"] == "recorded", 15)
    v0 = v.get("/api/v1/policy", "viewer").json["version"]
    filler = fill(args.mnt)
    log(f"filled {args.mnt} ({os.path.getsize(filler)} bytes of filler)")
    s = wait_for(v, "the store and EVE see the full disk",
                 lambda s: s["store"]["failing"] and s["eve"]["failing"], 15)
    r_block, _ = block(v, "198.51.100.88")
    r_a, _ = put_policy(v, policy_text("A"))
    r_b, _ = put_policy(v, policy_text("B"))
    check(r_block.status == 202, "a block on a full disk is answered 202, pending", r_block)
    for name, r in (("A", r_a), ("B", r_b)):
        check(r.status == 202 and r.json.get("version") is None
              and r.json.get("version_state") == "pending",
              f"policy {name} on a full disk: 202 with no version id", r)
    time.sleep(3)  # several retries fail: still one episode, one log line
    s, _ = status(v)
    st, ev = s["store"], s["eve"]
    log(f"full: store failures {st['failures']} in {st['episodes']} episode(s), "
        f"{st['durable_pending']} durable rows pending, last error '{st['last_error_msg']}'; "
        f"eve: {ev['failed']} lines failed, {ev['queued']} queued, {ev['episodes']} episode(s)")
    check(st["failures"] >= 3 and st["episodes"] == 1,
          "store failures counted, one episode", st)
    check(st["durable_pending"] >= 3, "the block and both versions wait in the store", st)
    check(ev["failed"] >= 1 and ev["episodes"] == 1 and ev["queued"] > 0,
          "EVE failures counted, one episode, lines kept", ev)
    metrics = v.get("/metrics", "viewer").body
    for m in ("vigil_store_durable_pending_rows", "vigil_eve_lines_failed_total",
              "vigil_store_failing 1", "vigil_eve_failing 1"):
        check(m in metrics, f"/metrics has {m}")
    text = open(v.log_path).read()
    check(text.count("store: could not write a batch") == 1,
          "the store's failure is logged once for the episode",
          text.count("store: could not write a batch"))
    check(text.count("eve: cannot write") == 1, "EVE's failure is logged once for the episode",
          text.count("eve: cannot write"))

    os.unlink(filler)
    freed = time.monotonic()
    s = wait_for(v, "writes resume once space is freed",
                 lambda s: not s["store"]["failing"] and s["store"]["durable_pending"] == 0
                 and s["eve"]["queued"] == 0 and not s["eve"]["failing"]
                 and s["versions"]["policy_state"] == "recorded", 15)
    log(f"{time.monotonic() - freed:.1f} s after freeing: store {s['store']['rows_written']} "
        f"rows written; eve {s['eve']['written']} lines written, {s['eve']['dropped']} dropped")
    text = open(v.log_path).read()
    check("store: writing to" in text and "eve: writing to" in text,
          "the end of each episode is logged")
    check(s["eve"]["dropped"] == 0, "no EVE line was dropped", s["eve"])
    LAST["eve_written"] = s["eve"]["written"]
    check("198.51.100.88" in stored_blocks(db), "the pending block was written")
    vers = v.get("/api/v1/policy/versions", "viewer").json
    items = vers["items"] if isinstance(vers, dict) else vers
    ids = {}
    for it in items:
        vid = it.get("version", it.get("id"))
        txt = v.get(f"/api/v1/policy/versions/{vid}", "viewer").json.get("text")
        for name in ("A", "B"):
            if txt == policy_text(name):
                ids.setdefault(name, []).append(vid)
    log(f"versions: before {v0}, A {ids.get('A')}, B {ids.get('B')}")
    check(len(ids.get("A", [])) == 1 and len(ids.get("B", [])) == 1
          and ids["A"][0] != ids["B"][0] and ids["A"][0] > v0 and ids["B"][0] > ids["A"][0],
          "the two texts got two different ids from the store, in order", ids)
    if ids.get("A"):
        r = v.request("POST", "/api/v1/policy/rollback", "admin", {"version": ids["A"][0]})
        check(r.status == 200, "rollback to A", r)
        check(v.get("/api/v1/policy", "viewer").json["text"] == policy_text("A"),
              "the rollback restored exactly the text answered as A's version")
    return db


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--pktgen", required=True)
    ap.add_argument("--mnt", required=True, help="the file system under test")
    ap.add_argument("--work", required=True, help="scratch space elsewhere")
    ap.add_argument("--mode", choices=("stall", "full"), required=True)
    args = ap.parse_args()
    t0 = time.monotonic()
    v = start(args)
    try:
        db = run_stall(args, v) if args.mode == "stall" else run_full(args, v)
        rc = v.close()
        check(rc == 0, "vigild stops cleanly", rc)
        s = v.tail(200)
        n = eve_lines(os.path.join(args.mnt, "eve.json"))
        check(n >= LAST["eve_written"] > 0 and "eve: closing" not in s,
              f"the EVE file holds {n} whole lines, at least the {LAST['eve_written']} "
              "status counted as written, none left unwritten at the stop")
        c = sqlite3.connect(db)
        check(c.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
              "the database is whole")
        c.close()
    except Exception:
        print(v.tail(), file=sys.stderr)
        raise
    finally:
        v.close()
        if FAILED:
            print(v.tail(60), file=sys.stderr)
        v.cleanup()
    log(f"{'FAIL' if FAILED else 'PASS'} ({time.monotonic() - t0:.1f} s)")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
