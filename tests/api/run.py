#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The REST API against a running vigild (net_pcap ports, a store, a policy file, one token per
role), with a real HTTP client (http.client) and raw sockets.

    run.py --vigild BUILD/app/vigild [--vigilctl BUILD/app/vigilctl] [-k NAME] [-v]

Every test is a function below; a failed check names what was sent and what came back. Exit
status: 0 all passed, 1 a test failed, 77 skipped (not root: EAL needs it).
"""
import argparse
import base64
import copy
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apilib  # noqa: E402
import openapi_check  # noqa: E402
from apilib import POLICY, TOKENS, NAMES, raw_status  # noqa: E402

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Failure(Exception):
    pass


def check(cond, what, reply=None):
    if not cond:
        raise Failure(what + (f"\n    reply: {reply!r}" if reply is not None else ""))


def expect(reply, status, error=None):
    check(reply.status == status, f"expected {status}, got {reply.status}", reply)
    if status >= 400:
        j = reply.json
        check(isinstance(j, dict) and set(j) == {"error", "message", "details"}
              and isinstance(j["message"], str) and isinstance(j["details"], dict),
              "a failure must be JSON {error, message, details}", reply)
        if error is not None:
            check(j["error"] == error, f"expected error {error}, got {j['error']}", reply)
    return reply


# -- the document -------------------------------------------------------------------------------

@test
def openapi_document(v, ctx):
    r = expect(v.get("/api/v1/openapi.json"), 200)
    with open(os.path.join(apilib.ROOT, "mgmt", "openapi.json")) as f:
        repo = f.read()
    check(r.body == repo, "the served document differs from mgmt/openapi.json")
    doc = json.loads(r.body)
    problems = openapi_check.check(doc)
    check(not problems, "openapi.json is not valid:\n    " + "\n    ".join(problems))
    # The validator can fail: damaged copies are caught.
    broken = copy.deepcopy(doc)
    broken["paths"]["/api/v1/blocklist/{address}"]["delete"]["parameters"] = []
    check(any("{address}" in p for p in openapi_check.check(broken)),
          "the validator missed an undeclared path parameter")
    broken = copy.deepcopy(doc)
    broken["paths"]["/api/v1/status"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"] = {"$ref": "#/components/schemas/Nope"}
    check(any("does not resolve" in p for p in openapi_check.check(broken)),
          "the validator missed a dangling $ref")
    broken = copy.deepcopy(doc)
    del broken["paths"]["/api/v1/mode"]["put"]["responses"]
    check(any("no responses" in p for p in openapi_check.check(broken)),
          "the validator missed an operation without responses")
    ctx["doc"] = doc


@test
def served_routes_match_document(v, ctx):
    """Each documented operation is served (a protected one answers 401 without a token, a
    public one 2xx); each route the server answers is documented (paths next to them are not)."""
    doc = ctx.get("doc") or json.loads(v.get("/api/v1/openapi.json").body)
    served, missing = set(), set()
    for path, item in doc["paths"].items():
        concrete = path.replace("{version}", "1").replace("{address}", "192.0.2.1").replace(
            "{uid}", "1")
        for m, op in item.items():
            if m not in openapi_check.METHODS:
                continue
            r = v.request(m.upper(), concrete)
            if r.status == 404 and r.error == "no_route":
                missing.add((m, path))
                continue
            served.add((m, path))
            if op.get("x-vigil-role") == "none":
                check(200 <= r.status < 300 or (path.endswith("/ready") and r.status == 503),
                      f"{m.upper()} {path} is public but answered {r.status}", r)
            else:
                expect(r, 401, "unauthorized")
    check(not missing, f"documented but not served: {sorted(missing)}")
    check(len(served) >= 30, f"only {len(served)} operations served")
    # Neighbours of real routes are not routes.
    for m, p in [("GET", "/api/v1"), ("GET", "/api/v1/"), ("GET", "/api/v1/statuses"),
                 ("GET", "/api/v1/policy/current"), ("POST", "/api/v1/policy/versions/1"),
                 ("GET", "/api/v2/status"), ("GET", "/metrics/")]:
        r = v.request(m, p, "admin")
        check(r.status in (404, 405), f"{m} {p} should not be a route", r)


# -- system -------------------------------------------------------------------------------------

@test
def health_ready_status(v, ctx):
    check(expect(v.get("/api/v1/health"), 200).json == {"status": "ok"}, "health body")
    r = expect(v.get("/api/v1/ready"), 200)
    check(r.json["ready"] is True, "ready", r)
    r = expect(v.get("/api/v1/status", "viewer"), 200)
    s = r.json
    for k in ("version", "uptime_s", "mode", "ports", "workers", "flows"):
        check(k in s, f"status lacks {k}", r)
    check([p["name"] for p in s["ports"]] == ["a", "b"], "ports a and b", r)
    check(all("link" in p and "rx_packets" in p for p in s["ports"]), "port link and counters")
    check("fill" in s["flows"] and "capacity" in s["flows"], "flow table fill", r)
    check(s["mode"] in ("enforce", "dry-run"), "mode", r)
    pv = expect(v.get("/api/v1/policy", "viewer"), 200).json["version"]
    check(s["versions"] == {"policy": pv, "signatures": None, "signature_rules": 0,
                            "policy_state": "recorded", "signatures_state": "none",
                            "signatures_loading": False},
          "status names the policy version in force and no signature set", r)
    st = s.get("store", {})
    for k in ("rows_written", "rows_dropped", "pending", "queued", "durable_pending",
              "failing", "writer_busy_ms", "episodes"):
        check(k in st, f"status store lacks {k}", r)
    # The capture of policy-verdicts went through: 10 packets in on a, 5 on b.
    deadline = time.time() + 5
    while time.time() < deadline:
        s = v.get("/api/v1/status", "viewer").json
        if s["ports"][0]["rx_packets"] == 10 and s["ports"][1]["rx_packets"] == 5:
            break
        time.sleep(0.1)
    check(s["ports"][0]["rx_packets"] == 10, "port a received the capture", s["ports"])


@test
def metrics(v, ctx):
    for path in ("/api/v1/metrics", "/metrics"):
        r = expect(v.get(path, "viewer"), 200)
        check(r.headers["content-type"].startswith("text/plain; version=0.0.4"),
              "Prometheus content type", r.headers)
        lines = r.body.splitlines()
        for want in ('vigil_port_received_packets_total{port="a"} 10',
                     'vigil_rule_packets_total{rule="web"} ',
                     "# TYPE vigil_dropped_packets_total counter",
                     'vigil_dropped_packets_total{reason="policy"} ',
                     "vigil_flows_capacity ",
                     'vigil_worker_events_lost_total{worker="0"} ',
                     'vigil_api_requests_total{code="2xx"} '):
            check(any(line.startswith(want) for line in lines), f"no line {want!r}")
        for line in lines:
            if line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            float(value)
            check(name.startswith("vigil_"), f"metric outside the vigil_ namespace: {line}")
    expect(v.get("/metrics"), 401, "unauthorized")


@test
def workers(v, ctx):
    """GET /api/v1/workers: one worker (lcore 1) polling queue 0 of a and b; its queues' counters
    are the ports' (the capture: 10 packets in on a, 5 on b), its sums the queues', its flows
    those of the table; the status has the same traffic; /metrics the same values by worker and
    by (worker, port, queue); vigilctl workers prints them."""
    deadline = time.time() + 5
    while True:
        r = expect(v.get("/api/v1/workers", "viewer"), 200)
        j = r.json
        # Rates come from control's readings a second apart: there after the second one.
        if isinstance(j.get("interval_s"), float) or time.time() > deadline:
            break
        time.sleep(0.2)
    check(set(j) == {"interval_s", "workers"}, "workers document keys", r)
    check(isinstance(j["interval_s"], float) and 0.9 <= j["interval_s"] <= 2.0,
          "the rates' interval is about a second", r)
    check(len(j["workers"]) == 1, "one worker", r)
    w = j["workers"][0]
    check(w["id"] == 0 and w["lcore"] == 1, "worker 0 on lcore 1", r)
    check([(q["port"], q["queue"]) for q in w["queues"]] == [("a", 0), ("b", 0)],
          "it polls queue 0 of a and of b", r)
    s = expect(v.get("/api/v1/status", "viewer"), 200).json
    ports = {p["name"]: p for p in s["ports"]}
    check(ports["a"]["rx_packets"] == 10 and ports["b"]["rx_packets"] == 5,
          "the capture went through", s["ports"])
    for q in w["queues"]:
        p = ports[q["port"]]
        for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "dropped", "tx_full"):
            check(q[k] == p[k], f"queue {q['port']}:{q['queue']} {k} {q[k]} != port {p[k]}", r)
        for k in ("rx_pps", "rx_bps", "tx_pps", "tx_bps"):
            # The capture was over long before the last two readings.
            check(q[k] == 0.0, f"queue {q['port']} {k} is {q[k]} with no traffic", r)
    for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "dropped", "tx_full"):
        check(w[k] == sum(q[k] for q in w["queues"]), f"worker {k} is the sum of its queues", r)
    check(w["dropped"] > 0, "the policy dropped some of the capture", r)
    check(w["handoff"] == {"out": 0, "in": 0, "lost": 0}, "no handoff with one worker", r)
    check(w["flows"] == s["flows"]["active"] and w["flows"] > 0,
          f"worker flows {w['flows']} are the table's {s['flows']['active']}", r)
    check(w["stalled"] is False, "not stalled", r)
    sw = s["workers"][0]
    for k in ("rx_packets", "tx_packets", "dropped", "handoff", "queues"):
        if k == "queues":
            check([{x: q[x] for x in q if not x.endswith("ps")} for q in sw[k]]
                  == [{x: q[x] for x in q if not x.endswith("ps")} for q in w[k]],
                  "the status has the same queues", sw)
        else:
            check(sw[k] == w[k], f"the status has the same worker {k}", sw)
    check(sw["flows"]["active"] == w["flows"], "status worker flows.active", sw)
    body = expect(v.get("/metrics", "viewer"), 200).body.splitlines()
    for want in (f'vigil_worker_rx_packets_total{{worker="0"}} {w["rx_packets"]}',
                 f'vigil_worker_dropped_packets_total{{worker="0"}} {w["dropped"]}',
                 f'vigil_worker_flows_active{{worker="0"}} {w["flows"]}',
                 'vigil_worker_handoff_packets_total{worker="0",direction="out"} 0',
                 'vigil_worker_handoff_packets_total{worker="0",direction="in"} 0',
                 'vigil_worker_handoff_lost_packets_total{worker="0"} 0',
                 'vigil_queue_rx_packets_total{worker="0",port="a",queue="0"} 10',
                 'vigil_queue_rx_packets_total{worker="0",port="b",queue="0"} 5',
                 f'vigil_queue_tx_packets_total{{worker="0",port="b",queue="0"}} '
                 f'{ports["b"]["tx_packets"]}',
                 f'vigil_queue_dropped_packets_total{{worker="0",port="a",queue="0"}} '
                 f'{ports["a"]["dropped"]}'):
        check(want in body, f"no line {want!r} in /metrics")
    expect(v.get("/api/v1/workers"), 401, "unauthorized")
    expect(v.get("/api/v1/workers?x=1", "viewer"), 400)
    exe = ctx.get("vigilctl")
    if not exe:
        print("    (vigilctl part skipped: no --vigilctl)")
        return
    env = dict(os.environ, VIGIL_URL=f"http://127.0.0.1:{v.port}", VIGIL_TOKEN=TOKENS["viewer"])
    p = subprocess.run([exe, "workers"], env=env, capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, f"vigilctl workers: {p.returncode} {p.stderr}")
    lines = p.stdout.splitlines()
    check(lines[0].split() == ["WORKER", "LCORE", "QUEUES", "RX-PPS", "RX-BIT/S", "TX-PPS",
                               "DROPPED", "FLOWS", "HANDOFF-OUT", "HANDOFF-IN", "HANDOFF-LOST"],
          f"vigilctl workers header: {lines[0]!r}")
    check(lines[1].split() == ["0", "1", "a:0", "b:0", "0", "0", "0", str(w["dropped"]),
                               str(w["flows"]), "0", "0", "0"],
          f"vigilctl workers row: {lines[1]!r} (API: {w})")
    qrows = [x.split() for x in lines[3:6]]
    check(qrows[0] == ["WORKER", "PORT", "QUEUE", "RX-PPS", "TX-PPS", "RX-PKTS", "TX-PKTS",
                       "DROPPED"], f"queue table header: {qrows[0]}")
    check(qrows[1][:3] == ["0", "a", "0"] and qrows[1][5] == "10"
          and qrows[2][:3] == ["0", "b", "0"] and qrows[2][5] == "5",
          f"queue rows: {qrows[1:]}")
    check(any(x.startswith("rates over the last ") for x in lines), "the rates' interval")
    p = subprocess.run([exe, "--json", "workers"], env=env, capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 0 and json.loads(p.stdout)["workers"][0]["queues"][0]["port"] == "a",
          "vigilctl --json workers is the API's document")


# -- authentication and roles ---------------------------------------------------------------------

@test
def authentication(v, ctx):
    r = expect(v.get("/api/v1/status"), 401, "unauthorized")
    check(r.headers.get("www-authenticate", "").startswith("Bearer"), "WWW-Authenticate", r)
    expect(v.get("/api/v1/status", token="admin-e4a0c3f6"), 401, "unauthorized")
    expect(v.get("/api/v1/status", token=apilib.sha256(TOKENS["admin"])), 401)
    expect(v.get("/api/v1/status", headers={"Authorization": "Basic YWRtaW46eA=="}), 401)
    expect(v.get("/api/v1/status", headers={"Authorization": "Bearer"}), 401)
    for role in TOKENS:
        expect(v.get("/api/v1/status", role), 200)
    r = expect(v.get("/api/v1/audit", "operator"), 403, "forbidden")
    check(r.json["details"] == {"role": "operator", "required": "admin"}, "403 details", r)


def write_cases(v):
    """(method, path, body, least role, status on success). Harmless when repeated."""
    cur = v.get("/api/v1/policy", "viewer").json
    return [
        ("PUT", "/api/v1/mode", {"mode": "enforce"}, "operator", 200),
        ("POST", "/api/v1/blocklist", {"address": "198.51.100.7", "ttl": 30}, "operator", 201),
        ("DELETE", "/api/v1/blocklist/198.51.100.7", None, "operator", 204),
        ("PUT", "/api/v1/policy", {"text": cur["text"]}, "admin", 200),
        ("POST", "/api/v1/policy/rollback", {"version": cur["version"]}, "admin", 200),
    ]


@test
def roles_on_every_write(v, ctx):
    roles = ["viewer", "operator", "admin"]
    for method, path, body, least, ok in write_cases(v):
        expect(v.request(method, path, None, body), 401, "unauthorized")
        for role in roles:
            if method == "DELETE" and roles.index(role) >= roles.index(least):
                expect(v.request("POST", "/api/v1/blocklist", "admin",
                                 {"address": "198.51.100.7"}), 201)
            r = v.request(method, path, role, body)
            if roles.index(role) < roles.index(least):
                expect(r, 403, "forbidden")
                check(r.json["details"]["required"] == least, "403 names the role", r)
            else:
                expect(r, ok)
    # Every one of them is in the audit log with the token's name; the 401s are not.
    deadline = time.time() + 5
    while time.time() < deadline:
        items = v.get("/api/v1/audit?limit=200", "admin").json["items"]
        if len(items) >= 17:
            break
        time.sleep(0.2)
    actors = {}
    for a in items:
        # vigild's own entries (a worker's stall and recovery, when a busy machine stalls
        # one) are not API writes.
        if a["actor"] != "watchdog":
            actors.setdefault(a["actor"], []).append(a)
    check(set(actors) <= set(NAMES.values()), f"unexpected actors {sorted(actors)}")
    forbidden = [a for a in items if a["result"] == "403"]
    check(any(a["actor"] == NAMES["viewer"] for a in forbidden), "viewer's 403s are recorded")
    check(any(a["action"] == "PUT /api/v1/policy" and a["actor"] == NAMES["admin"]
              and a["result"] == "200" for a in items), "admin's policy PUT recorded", items[:5])
    check(all(a.get("ts_ms", 0) > 1600000000000 for a in items), "audit records carry the time")


# -- policy ---------------------------------------------------------------------------------------

@test
def policy_lifecycle(v, ctx):
    r = expect(v.get("/api/v1/policy", "viewer"), 200)
    check(r.json["text"] == POLICY, "the policy in force is the file's", r)
    v0 = r.json["version"]
    check(r.headers.get("etag") == f'"{v0}"', "ETag is the version", r.headers)

    # Validate: errors with line and column, nothing changes.
    bad = POLICY.replace("proto: udp", "proto: udpx")
    r = expect(v.request("POST", "/api/v1/policy/validate", "operator", bad, "application/yaml"),
               422, "validation_failed")
    d = r.json["details"]["diagnostics"]
    line = bad.splitlines().index("    proto: udpx") + 1
    check(any(x["line"] == line and x["column"] == 12 and "udpx" in x["message"] for x in d),
          f"a diagnostic at {line}:12", r)
    r = expect(v.request("POST", "/api/v1/policy/validate", "operator", {"text": POLICY}), 200)
    check(r.json["valid"] is True and "rules" in r.json["summary"], "valid summary", r)
    expect(v.get("/api/v1/policy", "viewer"), 200)
    check(v.get("/api/v1/policy", "viewer").json["version"] == v0, "validate changed nothing")

    # Apply: a new version; the same text again changes nothing.
    new = POLICY.replace("dport: 53", "dport: [53, 853]")
    r = expect(v.request("PUT", "/api/v1/policy", "admin", {"text": new},
                         headers={"If-Match": f'"{v0}"'}), 200)
    v1 = r.json["version"]
    check(v1 > v0 and r.json["unchanged"] is False, "new version", r)
    check(r.headers.get("etag") == f'"{v1}"', "ETag of the new version", r.headers)
    r = expect(v.request("PUT", "/api/v1/policy", "admin", new, "text/yaml"), 200)
    check(r.json["unchanged"] is True and r.json["version"] == v1, "second PUT is a no-op", r)
    r = expect(v.get("/api/v1/policy", "viewer"), 200)
    check(r.json["text"] == new and r.json["source"] == "api:netadmin", "in force", r)

    # A stale If-Match changes nothing.
    r = expect(v.request("PUT", "/api/v1/policy", "admin", {"text": POLICY},
                         headers={"If-Match": f'"{v0}"'}), 412, "version_mismatch")
    check(v.get("/api/v1/policy", "viewer").json["version"] == v1, "412 changed nothing")
    expect(v.request("PUT", "/api/v1/policy", "admin", {"text": POLICY},
                     headers={"If-Match": "W/\"1\""}), 400, "invalid_header")
    # An invalid policy changes nothing either.
    expect(v.request("PUT", "/api/v1/policy", "admin", bad, "application/yaml"), 422)
    check(v.get("/api/v1/policy", "viewer").json["version"] == v1, "422 changed nothing")

    # Versions, one version with its text, rollback.
    r = expect(v.get("/api/v1/policy/versions?limit=10", "viewer"), 200)
    ids = [x["id"] for x in r.json["items"]]
    check(ids[0] == v1 and v0 in ids, "versions newest first", r)
    check(all(len(x["sha256"]) == 64 for x in r.json["items"]), "SHA-256 per version", r)
    r = expect(v.get(f"/api/v1/policy/versions/{v0}", "viewer"), 200)
    check(r.json["text"] == POLICY and r.json["sha256"] == apilib.sha256(POLICY),
          "stored text and hash", r)
    expect(v.get("/api/v1/policy/versions/999999", "viewer"), 404, "not_found")
    expect(v.get("/api/v1/policy/versions/abc", "viewer"), 400, "invalid_path")
    r = expect(v.request("POST", "/api/v1/policy/rollback", "admin", {"version": v0}), 200)
    v2 = r.json["version"]
    check(v2 > v1 and r.json["restored"] == v0, "rollback is a new version", r)
    r = expect(v.get("/api/v1/policy", "viewer"), 200)
    check(r.json["text"] == POLICY and r.json["version"] == v2, "rollback restored the text", r)
    expect(v.request("POST", "/api/v1/policy/rollback", "admin", {"version": 999999}), 404)
    expect(v.request("POST", "/api/v1/policy/rollback", "admin", {"version": "1"}), 400)


def run_vigilctl(v, ctx, role, *args):
    """vigilctl with role's token: (exit status, stdout, stderr), or None without --vigilctl."""
    exe = ctx.get("vigilctl")
    if not exe:
        return None
    env = dict(os.environ, VIGIL_URL=f"http://127.0.0.1:{v.port}", VIGIL_TOKEN=TOKENS[role])
    p = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def stored_flow_keys(v):
    """The capture's flow aggregates once the store has them: {(src, dst, dport, proto): flows}."""
    deadline = time.time() + 20
    while True:
        items = expect(v.get("/api/v1/flows/history?since=1&limit=10000", "viewer"),
                       200).json["items"]
        if items or time.time() > deadline:
            break
        time.sleep(0.5)
    keys = {}
    for h in items:
        k = (h["src"], h["dst"], h["dport"], h["proto"])
        keys[k] = keys.get(k, 0) + h["flows"]
    return keys


@test
def policy_preview(v, ctx):
    cur = expect(v.get("/api/v1/policy", "viewer"), 200).json["text"]
    check(cur == POLICY, "the test starts from the file's policy (web 80/443, dns 53)")
    keys = stored_flow_keys(v)
    check(keys, "the replayed capture's flows reached the store")

    def allowed(k):  # POLICY, evaluated by hand
        return (k[3] == 6 and k[2] in (80, 443)) or (k[3] == 17 and k[2] == 53)

    url = "/api/v1/policy/preview?since=1"
    # The policy in force against itself: every aggregate examined, nothing changes.
    r = expect(v.request("POST", url, "operator", cur, "application/yaml"), 200)
    t = r.json["totals"]
    check(t["aggregates"] == len(keys) and t["flows"] == sum(keys.values()),
          f"every stored aggregate examined ({len(keys)})", r)
    check(r.json["changes"] == [] and t["changed_aggregates"] == 0, "no change against itself", r)
    check(r.json["current_version"] >= 1 and "rules" in r.json["summary"], "version, summary", r)

    # Default drop and no rules: exactly what POLICY allowed changes, rule by rule.
    r = expect(v.request("POST", url, "operator", {"text": "version: 1\ndefault: drop\n"}), 200)
    want = {k: f for k, f in keys.items() if allowed(k)}
    check(want, "the capture has flows the policy allows")
    t = r.json["totals"]
    check(t["changed_aggregates"] == len(want) and t["changed_flows"] == sum(want.values()),
          f"{len(want)} allowed aggregates change", r)
    for c in r.json["changes"]:
        check(c["from"]["verdict"] == "allow" and c["from"]["rule"] in ("web", "dns")
              and c["to"] == {"verdict": "drop", "rule": None, "line": None, "certain": True,
                              "may_intervene": None}, "allow (web|dns) -> drop (default)", c)
        for smp in c["samples"]:
            check(allowed((smp["src"], smp["dst"], smp["dport"], smp["proto"])),
                  "samples are aggregates of the group", c)
    by_rule = {c["from"]["rule"]: c["aggregates"] for c in r.json["changes"]}
    web = sum(1 for k in want if k[3] == 6)
    check(by_rule.get("web", 0) == web and by_rule.get("dns", 0) == len(want) - web,
          "grouped by the rule in force", r)

    # One observed destination denied first: only its aggregates move, to the new rule.
    k0 = max(want, key=lambda k: want[k])
    cand = POLICY.replace("rules:\n", "rules:\n  - name: block-one\n    proto: %s\n"
                          "    to: %s\n    dport: %d\n    action: reject\n"
                          % ("tcp" if k0[3] == 6 else "udp", k0[1], k0[2]), 1)
    r = expect(v.request("POST", url, "operator", cand, "text/plain"), 200)
    moved = {k: f for k, f in keys.items() if k[1:] == k0[1:]}
    (c,) = r.json["changes"]
    check(c["to"]["verdict"] == "reject" and c["to"]["rule"] == "block-one"
          and c["to"]["line"] == 5 and c["aggregates"] == len(moved)
          and c["flows"] == sum(moved.values()), f"{len(moved)} aggregates to {k0[1]}", r)
    check(c["samples"][0]["dst"] == k0[1] and c["first"] <= c["last"], "samples and times", c)

    # A window after the capture has nothing in it; limit cuts the list, not the totals.
    r = expect(v.request("POST", "/api/v1/policy/preview?since=-1m&until=-1s", "operator",
                         "version: 1\ndefault: drop\n", "text/plain"), 200)
    check(r.json["totals"]["aggregates"] <= len(keys), "a narrower window", r)
    r = expect(v.request("POST", url + "&limit=1", "operator", "version: 1\ndefault: drop\n",
                         "text/plain"), 200)
    check(len(r.json["changes"]) == 1 and r.json["truncated"] == (len(by_rule) > 1)
          and r.json["totals"]["changed_aggregates"] == len(want), "limit", r)

    # Refusals: an invalid candidate (with its position), a bad window, a viewer.
    bad = POLICY.replace("proto: udp", "proto: udpx")
    r = expect(v.request("POST", url, "operator", bad, "text/plain"), 422, "validation_failed")
    check(any(d["line"] == 10 for d in r.json["details"]["diagnostics"]), "position", r)
    expect(v.request("POST", "/api/v1/policy/preview?since=yesterday", "operator", cur,
                     "text/plain"), 400, "invalid_query")
    expect(v.request("POST", url, "viewer", cur, "text/plain"), 403)
    check(expect(v.get("/api/v1/policy", "viewer"), 200).json["text"] == cur,
          "a preview changes nothing")

    # The same from vigilctl, with a bare duration ("1h": the last hour).
    exe = ctx.get("vigilctl")
    if exe:
        path = os.path.join(v.work, "preview.yaml")
        with open(path, "w") as f:
            f.write(cand)
        env = dict(os.environ, VIGIL_URL=f"http://127.0.0.1:{v.port}",
                   VIGIL_TOKEN=TOKENS["operator"])
        p = subprocess.run([exe, "policy", "preview", path, "--since", "36000d"], env=env,
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and "reject (rule block-one)" in p.stdout
              and f"{len(moved)} of {len(keys)} aggregates" in p.stdout,
              f"vigilctl policy preview: {p.returncode} {p.stdout} {p.stderr}")
        p = subprocess.run([exe, "--json", "policy", "preview", path, "--since", "36000d"],
                           env=env, capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and json.loads(p.stdout)["totals"]["changed_aggregates"]
              == len(moved), f"vigilctl --json policy preview: {p.stdout} {p.stderr}")
        p = subprocess.run([exe, "policy", "preview", path + ".missing"], env=env,
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 2, "a missing file is a usage error")


@test
def learning_mode(v, ctx):
    r = expect(v.get("/api/v1/learn", "viewer"), 200)
    fresh = r.json["state"]["since"] is None
    if fresh:
        check(r.json["state"]["active"] is False and r.json["candidates"] == [], "no session", r)
        expect(v.get("/api/v1/learn/proposal", "viewer"), 404, "not_found")
    expect(v.request("PUT", "/api/v1/mode", "viewer", {"mode": "learn"}), 403)
    r = expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "learn"}), 200)
    check(r.json == {"mode": "learn", "previous": "enforce",
                     "pairs": [{"ports": ["a", "b"], "mode": "learn", "own": False}]},
          "mode learn", r)
    check(expect(v.get("/api/v1/mode", "viewer"), 200).json["mode"] == "learn", "GET mode", r)
    r = expect(v.get("/api/v1/learn?limit=5", "viewer"), 200)
    st = r.json["state"]
    check(st["active"] is True and st["until"] is None and st["by"] == NAMES["operator"]
          and abs(st["since"] - time.time()) < 120, "an active session since now", r)
    check(r.json["limits"]["max_keys"] > 0 and "observed" in r.json["stats"], "limits, stats", r)
    time.sleep(1.1)
    expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "learn"}), 200)
    check(expect(v.get("/api/v1/learn", "viewer"), 200).json["state"]["since"] == st["since"],
          "learn again: the session goes on with its window")

    # Exclusions: checked, recorded, given back.
    bad = {"exclude": [{"from": ["10.0.0.300"]}]}
    r = expect(v.request("PUT", "/api/v1/learn/exclusions", "operator", bad), 400)
    check("10.0.0.300" in r.json["message"], "the bad address is named", r)
    expect(v.request("PUT", "/api/v1/learn/exclusions", "operator",
                     {"exclude": [{"dport": ["70000"]}]}), 400)
    expect(v.request("PUT", "/api/v1/learn/exclusions", "operator", {"exclude": [{"x": 1}]}),
           400)
    expect(v.request("PUT", "/api/v1/learn/exclusions", "viewer", {"exclude": []}), 403)
    ex = [{"from": ["10.9.0.0/16"], "to": ["fd00::2"], "proto": 6, "dport": [22, "8000-8010"]}]
    r = expect(v.request("PUT", "/api/v1/learn/exclusions", "operator", {"exclude": ex}), 200)
    check(r.json["exclude"] == ex, "exclusions echoed", r)
    check(expect(v.get("/api/v1/learn", "viewer"), 200).json["state"]["exclude"] == ex,
          "exclusions in the state")

    # The proposal: a policy the validator takes, covering every observed aggregate.
    r = expect(v.get("/api/v1/learn/proposal", "viewer"), 200)
    p = r.json
    check(p["default"] == "drop" and p["check"]["not_allowed"] == 0
          and p["check"]["allowed"] == p["check"]["observed"], "the proposal's check", r)
    check(p["text"].count("\n  - name: learned-") == p["rules"], "one rule per candidate", r)
    expect(v.request("POST", "/api/v1/policy/validate", "operator", p["text"], "text/plain"), 200)
    r = expect(v.get("/api/v1/learn/proposal?candidates=0123456789abcdef", "viewer"), 200)
    check(r.json["rules"] == 0 and "rules: []" in r.json["text"], "only unknown ids: no rule", r)
    expect(v.get("/api/v1/learn/proposal?candidates=a,b", "viewer"), 400, "invalid_query")

    out = run_vigilctl(v, ctx, "viewer", "learn")
    if out is not None:
        check(out[0] == 0 and "learning: active" in out[1], f"vigilctl learn: {out}")
        path = os.path.join(v.work, "proposal.yaml")
        out = run_vigilctl(v, ctx, "viewer", "learn", "proposal", "-o", path)
        check(out[0] == 0 and "rules; of" in out[2], f"vigilctl learn proposal: {out}")
        # The proposal follows what is learned: a flow record stored meanwhile (a busy machine,
        # ASan) changes it, so the file must be the proposal as it stood before or after.
        after = expect(v.get("/api/v1/learn/proposal", "viewer"), 200).json["text"]
        with open(path) as f:
            written = f.read()
        check(written in (p["text"], after), "vigilctl wrote the proposal's text")

    # Another mode ends the session; what it learnt stays readable.
    r = expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "enforce"}), 200)
    check(r.json == {"mode": "enforce", "previous": "learn",
                     "pairs": [{"ports": ["a", "b"], "mode": "enforce", "own": False}]},
          "mode enforce", r)
    r = expect(v.get("/api/v1/learn", "viewer"), 200)
    check(r.json["state"]["active"] is False and r.json["state"]["until"] >= st["since"],
          "the session ended", r)
    r = expect(v.get("/api/v1/audit?limit=20", "admin"), 200)
    check(any(a["action"] == "PUT /api/v1/learn/exclusions" and a["result"] == "200"
              for a in r.json["items"]), "exclusions audited", r.json["items"][:5])


@test
def rule_promotion(v, ctx):
    trial = POLICY + ("  - name: trial   # trying a deny first\n    proto: udp\n    dport: 5353\n"
                      "    action: drop\n    dry_run: true\n")
    v1 = expect(v.request("PUT", "/api/v1/policy", "admin", trial, "text/yaml"), 200).json["version"]
    rows = expect(v.get("/api/v1/rules/counters", "viewer"), 200).json["policy"]
    row = next(x for x in rows if x["name"] == "trial")
    check(row["dry_run"] is True and row["action"] == "drop" and isinstance(row["would_drop"], int),
          "the dry-run rule and its would-drops", rows)
    check(rows[-1]["name"] == "(default)" and rows[-1]["dry_run"] is False, "the default", rows)

    url = "/api/v1/policy/rules/trial/mode"
    expect(v.request("PUT", url, "operator", {"mode": "enforce"}), 403)
    expect(v.request("PUT", url, "admin", {"mode": "on"}), 400, "invalid_body")
    r = expect(v.request("PUT", "/api/v1/policy/rules/nope/mode", "admin", {"mode": "enforce"}),
               404)
    check("'nope'" in r.json["message"], "the missing rule is named", r)
    expect(v.request("PUT", url, "admin", {"mode": "enforce"},
                     headers={"If-Match": f'"{v1 - 1}"'}), 412)

    # Promote: one call, a new version, only that rule's dry_run changed.
    r = expect(v.request("PUT", url, "admin", {"mode": "enforce"},
                         headers={"If-Match": f'"{v1}"'}), 200)
    v2 = r.json["version"]
    check(v2 > v1 and r.json["unchanged"] is False and r.json["rule"] == "trial", "promoted", r)
    cur = expect(v.get("/api/v1/policy", "viewer"), 200).json
    check(cur["version"] == v2 and cur["text"] == trial.replace("dry_run: true", "dry_run: false")
          and cur["source"] == "api:netadmin", "the text, byte for byte but the flag", cur)
    row = next(x for x in expect(v.get("/api/v1/rules/counters", "viewer"), 200).json["policy"]
               if x["name"] == "trial")
    check(row["dry_run"] is False, "enforced now", row)
    r = expect(v.request("PUT", url, "admin", {"mode": "enforce"}), 200)
    check(r.json["unchanged"] is True and r.json["version"] == v2, "again: nothing changes", r)
    # And back.
    r = expect(v.request("PUT", url, "admin", {"mode": "dry-run"}), 200)
    check(r.json["version"] > v2, "demoted: another version", r)
    check(expect(v.get("/api/v1/policy", "viewer"), 200).json["text"] == trial, "the text again")
    items = expect(v.get("/api/v1/audit?limit=20", "admin"), 200).json["items"]
    check(any(a["action"] == "PUT /api/v1/policy/rules/trial/mode" and a["result"] == "200"
              and "trial" in a["detail"] and "enforce" in a["detail"] for a in items),
          "promotion audited", items[:6])
    out = run_vigilctl(v, ctx, "admin", "policy", "rule", "trial", "enforce")
    if out is not None:
        check(out[0] == 0 and "rule trial is now enforce: version" in out[1],
              f"vigilctl policy rule: {out}")
        check("dry_run: false" in v.get("/api/v1/policy", "viewer").json["text"], "enforced")
        out = run_vigilctl(v, ctx, "admin", "policy", "rule", "nope", "enforce")
        check(out[0] == 1 and "404" in out[2], f"vigilctl policy rule nope: {out}")
    expect(v.request("PUT", "/api/v1/policy", "admin", POLICY, "text/yaml"), 200)


@test
def concurrent_puts_with_stale_if_match(v, ctx):
    cur = v.get("/api/v1/policy", "viewer").json["version"]
    results = []
    lock = threading.Lock()

    def put(i):
        text = POLICY + f"# writer {i}\n"
        r = v.request("PUT", "/api/v1/policy", "admin", text, "application/yaml",
                      headers={"If-Match": f'"{cur}"'}, timeout=30)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r.status == 200]
    stale = [r for r in results if r.status == 412]
    check(len(ok) == 1 and len(stale) == 5,
          f"one writer wins, five get 412: {[r.status for r in results]}")
    for r in stale:
        expect(r, 412, "version_mismatch")
    now = v.get("/api/v1/policy", "viewer").json
    check(now["version"] == ok[0].json["version"], "the winner's version is in force", now)
    # Put the file's policy back for the tests after this one.
    expect(v.request("PUT", "/api/v1/policy", "admin", POLICY, "application/yaml"), 200)


@test
def signatures_without_a_signature_set(v, ctx):
    # This vigild was started without a signatures: section: nothing to manage, and it says so.
    for path in ("/api/v1/signatures", "/api/v1/signatures/report",
                 "/api/v1/signatures/versions"):
        r = expect(v.get(path, "viewer"), 409)
        check("signatures" in r.json["message"], f"{path}: the reason names the section", r)
    expect(v.request("PUT", "/api/v1/signatures", "admin", SIGS, "text/plain"), 409)
    check("signatures" not in v.get("/api/v1/rules/counters", "viewer").json,
          "no signature counters without signatures")


SIGS = """alert tcp any any -> any 80 (msg:"api test: passwd requested"; flow:to_server,established; \\
content:"/etc/passwd"; sid:9900001; rev:1;)
alert udp any any -> any 53 (msg:"api test: evil name"; content:"evil-dns"; sid:9900002; rev:1;)
"""


@test
def signature_lifecycle(v, ctx):
    """A second vigild with a signature file: get, validate, apply, versions, rollback, report,
    and alerts counted per signature from the traffic of the sig-stream capture."""
    rules = os.path.join(v.work, "api.rules")
    with open(rules, "w") as f:
        f.write(SIGS)
    s = apilib.Vigild(v.argv0, capture="sig-stream", prefix="vgsig", extra_config={
        "signatures": {"paths": [rules]}, "inspection": {"flows": "all"},
        "dataplane": {"clock": "packet", "idle_sleep_us": 200}})
    try:
        r = expect(s.get("/api/v1/signatures", "viewer"), 200)
        check(SIGS in r.json["text"] and r.json["rules"] == 2, "the file's set is in force", r)
        v0 = r.json["version"]
        r = expect(s.get("/api/v1/signatures/report", "viewer"), 200)
        check(r.json["load"]["loaded"] == 2 and r.json["load"]["rejected"] == 0,
              "report: two rules loaded", r)

        # The capture's traffic hit both signatures (the replay may still be running).
        deadline = time.time() + 10
        while True:
            c = expect(s.get("/api/v1/rules/counters", "viewer"), 200).json
            hits = {x["sid"]: x["alerts"] for x in c.get("signatures", [])}
            if hits.get(9900001, 0) >= 1 and hits.get(9900002, 0) >= 1 or time.time() > deadline:
                break
            time.sleep(0.2)
        check(hits.get(9900001, 0) >= 1 and hits.get(9900002, 0) >= 1,
              f"alerts per signature in the counters: {c}")

        # Validate: a broken rule is reported at its line, nothing changes.
        bad = SIGS + 'alert tcp any any -> any 80 (msg:"broken"; content:"x"; sid:abc;)\n'
        r = expect(s.request("POST", "/api/v1/signatures/validate", "operator", bad,
                             "text/plain"), 422, "validation_failed")
        check(any(x.get("line") == 4 for x in r.json["details"]["diagnostics"]),
              "the broken rule's line", r)
        check(s.get("/api/v1/signatures", "viewer").json["version"] == v0, "nothing changed")

        # Apply a third rule; the engine in force has three.
        new = SIGS + 'alert tcp any any -> any 80 (msg:"api test: shadow"; flow:to_server; ' \
                     'content:"/etc/shadow"; sid:9900005; rev:1;)\n'
        r = expect(s.request("PUT", "/api/v1/signatures", "admin", new, "text/plain",
                             headers={"If-Match": f'"{v0}"'}), 200)
        v1 = r.json["version"]
        check(v1 > v0 and r.json["unchanged"] is False, "a new version", r)
        r = expect(s.get("/api/v1/signatures", "viewer"), 200)
        check(r.json["text"] == new and r.json["rules"] == 3 and
              r.json["source"] == "api:netadmin", "the new set is in force", r)
        st = s.get("/api/v1/status", "viewer").json
        check(st["versions"]["signatures"] == v1 and st["versions"]["signature_rules"] == 3,
              "status names the new signature version", st.get("versions"))
        r = expect(s.request("PUT", "/api/v1/signatures", "admin", new, "text/plain"), 200)
        check(r.json["unchanged"] is True, "the same text again changes nothing", r)
        expect(s.request("PUT", "/api/v1/signatures", "admin", bad, "text/plain"), 422)
        expect(s.request("PUT", "/api/v1/signatures", "operator", new, "text/plain"), 403)
        check(s.get("/api/v1/signatures", "viewer").json["version"] == v1,
              "a refused PUT changed nothing")

        # A rule Vigil cannot run is skipped with a warning at its line; the rest applies.
        odd = SIGS + 'alert tcp any any -> any 80 (msg:"lua"; lua:check.lua; sid:9900006;)\n'
        r = expect(s.request("POST", "/api/v1/signatures/validate", "operator", odd,
                             "text/plain"), 200)
        check(any(x["line"] == 4 and x["severity"] == "warning" for x in r.json["warnings"]),
              "a warning at the skipped rule's line", r)
        # An allow-list whose pass rule Vigil cannot run would turn into "drop everything":
        # refused, through the API and through SIGHUP, and nothing in force changes.
        allow = ('pass tcp any any -> any 80 (msg:"trusted"; lua:ok.lua; sid:9900007;)\n'
                 'drop tcp any any -> any any (msg:"the rest"; sid:9900008;)\n')
        r = expect(s.request("PUT", "/api/v1/signatures", "admin", allow, "text/plain"), 422,
                   "validation_failed")
        diags = r.json["details"]["diagnostics"]
        check(any("9900008" in x["message"] and "9900007" in x["message"] and x.get("line") == 2
                  for x in diags), "the drop rule that lost its pass rule, at its line", r)
        check(any("partial_load" in x["message"] for x in diags), "the way out is named", r)
        check(s.get("/api/v1/signatures", "viewer").json["version"] == v1,
              "the refused allow-list changed nothing")
        with open(rules, "w") as f:
            f.write(allow)
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "signature reload failed" not in s.tail(200) and time.time() < deadline:
            time.sleep(0.1)
        log = s.tail(200)
        check("signature reload failed" in log and "signature set refused" in log and
              "9900008" in log, "SIGHUP refuses the allow-list and says why", log)
        check(s.get("/api/v1/signatures", "viewer").json["version"] == v1,
              "the refused reload changed nothing")
        with open(rules, "w") as f:
            f.write(SIGS)
        # An empty set is a deliberate choice (inspection finds nothing), recorded like any other.
        r = expect(s.request("PUT", "/api/v1/signatures", "admin", "# none for now\n",
                             "text/plain"), 200)
        v2 = r.json["version"]
        check(s.get("/api/v1/signatures", "viewer").json["rules"] == 0, "no rules in force")

        # Versions and rollback to the file's set.
        r = expect(s.get("/api/v1/signatures/versions", "viewer"), 200)
        ids = [x["id"] for x in r.json["items"]]
        check(ids[:3] == [v2, v1, v0], "versions newest first", r)
        policy_v = expect(s.get("/api/v1/policy", "viewer"), 200).json["version"]
        expect(s.request("POST", "/api/v1/signatures/rollback", "admin",
                         {"version": policy_v}), 404)
        r = expect(s.request("POST", "/api/v1/signatures/rollback", "admin", {"version": v0}),
                   200)
        r = expect(s.get("/api/v1/signatures", "viewer"), 200)
        check(r.json["rules"] == 2 and SIGS in r.json["text"], "rollback restored the set", r)

        # inspect names the rule files of the set in force (here api.rules: group "api").
        pol = ("version: 1\ndefault: allow\nrules:\n  - name: web\n    proto: tcp\n"
               "    dport: 80\n    action: allow\n    inspect: [%s]\n")
        r = expect(s.request("POST", "/api/v1/policy/validate", "operator", pol % "nosuch",
                             "application/yaml"), 422, "validation_failed")
        check(any(x["line"] == 8 and "nosuch" in x["message"]
                  for x in r.json["details"]["diagnostics"]),
              "an unknown signature group is an error at its line", r)
        expect(s.request("POST", "/api/v1/policy/validate", "operator", pol % "api",
                         "application/yaml"), 200)
    finally:
        rc = s.close()
        tail = s.tail(30)
        s.cleanup()
    check(rc == 0, f"the second vigild exited with {rc}:\n{tail}")


# -- the application layer --------------------------------------------------------------------------

APP_POLICY = """version: 1
default: allow
l2: {default: pass}
rules:
  - name: web
    proto: tcp
    dport: [80, 443]
    action: allow
"""


@test
def application_layer(v, ctx):
    """A vigild replaying the eve-applayer capture (one exchange per application protocol,
    each matched by a signature on its transaction): app_proto and the transaction's facts in
    the alerts (list, filter, detail) and in the EVE log, app_proto on live flows and in the
    flow history (and, after the stop, flows and bytes per application in the store), the
    applayer families in /metrics and the section in /status."""
    case = os.path.join(apilib.ROOT, "tests", "cases", "eve-applayer")
    eve = os.path.join(v.work, "eve-applayer.json")
    s = apilib.Vigild(v.argv0, capture="eve-applayer", prefix="vgapp", policy=APP_POLICY,
                      extra_config={
                          "signatures": {"paths": [os.path.join(case, "test.rules")]},
                          "inspection": {"flows": "all"},
                          "alerts": {"eve_log": eve}})
    db = os.path.join(s.work, "vigil.db")
    try:
        deadline = time.time() + 15
        while True:
            r = expect(s.get("/api/v1/alerts?kind=signature", "viewer"), 200)
            if len(r.json["items"]) >= 7 or time.time() > deadline:
                break
            time.sleep(0.2)
        items = r.json["items"]
        check(len(items) == 7, "seven signature alerts: one per protocol, and a long URL", r)
        by_sid = {x["sid"]: x for x in items}
        by_proto = {x["app_proto"]: x for x in items if x["sid"] != 9900507}
        check(sorted(by_proto) == ["dns", "ftp", "http", "smtp", "ssh", "tls"],
              "each alert names its flow's protocol", [x["app_proto"] for x in items])
        http = by_sid[9900501]
        check(http["app"]["hostname"] == "www.example.com" and
              http["app"]["url"] == "/admin/login.php?user=admin" and
              http["app"]["status"] == 302 and http["app"]["http_method"] == "GET",
              "the HTTP transaction's facts", http)
        check(http["app_cut"] is None, "nothing was cut", http)
        long_url = by_sid[9900507]
        check(long_url["app"]["url"] == "/long/" + "a" * 122 and
              long_url["app_cut"] == ["http.url"], "the long URL cut, and said to be", long_url)
        check(by_proto["dns"]["app"]["queries"] == [{"rrname": "bad.example.com",
                                                     "rrtype": "A"}], "the DNS query",
              by_proto["dns"])
        check(by_proto["tls"]["app"]["sni"] == "tls.example.net", "the SNI", by_proto["tls"])
        check(by_proto["smtp"]["app"]["mail_from"] == "<evil@example.com>", "the sender",
              by_proto["smtp"])

        # The filter, and one alert by the uid its EVE line carries.
        r = expect(s.get("/api/v1/alerts?app_proto=http", "viewer"), 200)
        check(sorted(x["sid"] for x in r.json["items"]) == [9900501, 9900507],
              "app_proto=http", r)
        r = expect(s.get("/api/v1/alerts?app_proto=unknown&kind=signature", "viewer"), 200)
        check(r.json["items"] == [], "no signature alert without a protocol", r)
        with open(eve) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        line = next((x for x in lines if x["alert"]["signature_id"] == 9900501), None)
        check(line is not None, "the HTTP alert in the EVE log", lines)
        check(line["app_proto"] == "http" and line["http"]["hostname"] == "www.example.com"
              and line["http"]["url"] == "/admin/login.php?user=admin",
              "hostname and url in the EVE line", line)
        r = expect(s.get(f"/api/v1/alerts/{line['vigil']['uid']}", "viewer"), 200)
        check(r.json["sid"] == 9900501 and r.json["app"] == http["app"],
              "the alert by uid, as in the list", r)
        expect(s.get("/api/v1/alerts/1", "viewer"), 404, "not_found")
        expect(s.get("/api/v1/alerts/abc", "viewer"), 400, "invalid_path")

        # Live flows: each names its protocol; the filter keeps one protocol.
        r = expect(s.get("/api/v1/flows", "viewer"), 200)
        check(all("app_proto" in x for x in r.json["items"]), "app_proto on every flow", r)
        check({"http", "dns", "tls", "ssh", "smtp", "ftp"} <=
              {x["app_proto"] for x in r.json["items"]}, "each protocol's flow", r)
        r = expect(s.get("/api/v1/flows?app_proto=smtp", "viewer"), 200)
        check(len(r.json["items"]) == 1 and r.json["items"][0]["dport"] == 25,
              "app_proto=smtp", r)

        # History: a DNS flow reports its protocol with the update its query makes (TCP flows
        # with their next update or their end); the flow's count moves to it.
        deadline = time.time() + 15
        while True:
            r = expect(s.get("/api/v1/flows/history?app_proto=dns", "viewer"), 200)
            if sum(x["flows"] for x in r.json["items"]) >= 1 or time.time() > deadline:
                break
            time.sleep(0.3)
        check(sum(x["flows"] for x in r.json["items"]) == 1 and
              sum(x["bytes"] for x in r.json["items"]) > 0 and
              all(x["app_proto"] == "dns" and x["dport"] == 53 for x in r.json["items"]),
              "the DNS flow counted under dns, with its datagram's bytes", r)
        r = expect(s.get("/api/v1/flows/history?app_proto=unknown", "viewer"), 200)
        check(all(x["app_proto"] is None for x in r.json["items"]) and
              all(x["flows"] == 0 and x["bytes"] == 0 for x in r.json["items"]
                  if x["dport"] == 53),
              "the flows not reported yet, under null, and nothing of the DNS flow", r)

        # Counters: /status has the applayer section, /metrics its families.
        st = expect(s.get("/api/v1/status", "viewer"), 200).json
        check(st["applayer"]["protocols"]["http"] == 2, "flows per protocol", st["applayer"])
        check(st["inspection"]["app_alerts"] == {"attached": 7, "missing": 0, "unpaired": 0},
              "every TXMETA paired with its alert", st["inspection"])
        body = expect(s.get("/metrics", "viewer"), 200).body.splitlines()
        for want in ('vigil_applayer_flows_total{proto="http"} 2',
                     'vigil_applayer_flows_total{proto="ftp"} 1',
                     'vigil_alert_app_facts_total{result="attached"} 7',
                     "# TYPE vigil_applayer_transactions_total counter"):
            check(want in body or any(x.startswith(want) for x in body), f"no line {want!r}")
        rc = s.close()
        check(rc == 0, f"the application-layer vigild exited with {rc}:\n{s.tail(30)}")
        # The flows ended with the stop, naming their protocols: flows and bytes per
        # application, as an operator asks the store.
        import sqlite3
        with sqlite3.connect(db) as c:
            rows = dict((p, (n, b)) for p, n, b in c.execute(
                "SELECT app_proto, sum(flows), sum(bytes) FROM flows GROUP BY app_proto"))
        for p, n in (("http", 2), ("dns", 1), ("tls", 1), ("ssh", 1), ("smtp", 1), ("ftp", 1)):
            check(p in rows and rows[p][0] == n and rows[p][1] > 0,
                  f"{n} {p} flow(s) with their bytes in the store", rows)
        check(rows.get("", (0, 0))[0] == 0, "no flow left under 'not known'", rows)
    finally:
        s.close()
        s.cleanup()


# -- mode, blocklist, flows, counters --------------------------------------------------------------

@test
def mode(v, ctx):
    r = expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "dry-run"}), 200)
    check(r.json == {"mode": "dry-run", "previous": "enforce",
                     "pairs": [{"ports": ["a", "b"], "mode": "dry-run", "own": False}]},
          "mode change", r)
    check(v.get("/api/v1/mode", "viewer").json["mode"] == "dry-run", "mode read back")
    check(v.get("/api/v1/status", "viewer").json["mode"] == "dry-run", "status shows the mode")
    expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "observe"}), 400, "invalid_body")
    expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "enforce", "x": 1}), 400)
    expect(v.request("PUT", "/api/v1/mode", "operator", "mode=enforce",
                     "application/x-www-form-urlencoded"), 415, "unsupported_media_type")
    expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "enforce"}), 200)

    # One pair, named by either port: its own mode while the global one stays enforce.
    pair = lambda m, own: [{"ports": ["a", "b"], "mode": m, "own": own}]
    r = expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "dry-run", "pair": "b"}),
               200)
    check(r.json == {"mode": "enforce", "previous": "enforce", "pairs": pair("dry-run", True)},
          "pair dry-run", r)
    r = expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "dry-run", "pair": "zz"}),
               400)
    check("'zz'" in r.json["message"], "the unknown port is named", r)
    r = expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "learn", "pair": "a"}), 200)
    check(r.json["pairs"] == pair("learn", True) and r.json["mode"] == "enforce", "pair learn", r)
    st = expect(v.get("/api/v1/learn", "viewer"), 200).json["state"]
    check(st["active"] is True and st["pair"] == ["a", "b"], "the session is the pair's", st)
    r = expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "learn"}), 409)
    check("learning session is running" in r.json["message"], "one session at a time", r)
    check(v.get("/api/v1/mode", "viewer").json == {"mode": "enforce", "pairs": pair("learn", True)},
          "the refused call changed nothing")
    out = run_vigilctl(v, ctx, "viewer", "mode")
    if out is not None:
        check(out[0] == 0 and out[1] == "enforce\npair a-b: learn\n", f"vigilctl mode: {out}")
        out = run_vigilctl(v, ctx, "operator", "mode", "enforce", "--pair", "a")
        check(out[0] == 0 and out[1] == "mode enforce (was enforce)\n", f"vigilctl mode --pair: {out}")
        out = run_vigilctl(v, ctx, "operator", "mode", "--pair", "a")
        check(out[0] == 2, f"vigilctl mode --pair without a mode: {out}")
    else:
        expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "enforce", "pair": "a"}),
               200)
    r = expect(v.get("/api/v1/mode", "viewer"), 200)
    check(r.json == {"mode": "enforce", "pairs": pair("enforce", False)}, "the pair enforces", r)
    check(expect(v.get("/api/v1/learn", "viewer"), 200).json["state"]["active"] is False,
          "enforce ended the pair's session")


@test
def blocklist(v, ctx):
    r = expect(v.request("POST", "/api/v1/blocklist", "operator",
                         {"address": "2001:DB8::99", "ttl": 600, "reason": "scanner"}), 201)
    check(r.headers.get("location") == "/api/v1/blocklist/2001:db8::99", "Location", r.headers)
    items = expect(v.get("/api/v1/blocklist", "viewer"), 200).json["items"]
    check(any("2001:db8::99" in json.dumps(i) for i in items), "listed", items)
    for bad in ({"address": "10.0.0.0/8"}, {"address": "10.0.0.1", "ttl": -1},
                {"address": "10.0.0.1", "ttl": "60"}, {"ttl": 60}, {"address": 1}):
        expect(v.request("POST", "/api/v1/blocklist", "operator", bad), 400)
    expect(v.request("DELETE", "/api/v1/blocklist/2001:db8:0:0::99", "operator"), 204)
    expect(v.request("DELETE", "/api/v1/blocklist/2001:db8::99", "operator"), 404, "not_found")
    expect(v.request("DELETE", "/api/v1/blocklist/nowhere", "operator"), 400, "invalid_path")


@test
def flows_and_counters(v, ctx):
    r = expect(v.get("/api/v1/flows?limit=5", "viewer"), 200)
    check(isinstance(r.json["items"], list) and len(r.json["items"]) <= 5, "flow list", r)
    expect(v.get("/api/v1/flows?proto=tcp&port=80&addr=10.1.1.1&state=established",
                 "viewer"), 200)
    for q in ("port=70000", "proto=tcpp", "state=up", "limit=0", "addr=10.1.1", "source=x",
              "limit=1&limit=2"):
        expect(v.get("/api/v1/flows?" + q, "viewer"), 400, "invalid_query")
    r = expect(v.get("/api/v1/flows/history?since=-1d&limit=50", "viewer"), 200)
    check("items" in r.json, "history list", r)
    check(all("app_proto" in x for x in r.json["items"]), "history rows have app_proto", r)
    expect(v.get("/api/v1/flows/history?app_proto=unknown", "viewer"), 200)
    expect(v.get("/api/v1/flows/history?app_proto=smtp2", "viewer"), 400, "invalid_query")
    r = expect(v.get("/api/v1/rules/counters", "viewer"), 200)
    names = [x["name"] for x in r.json["policy"]]
    check(names[-1] == "(default)" and "web" in names, "rules with the default last", r)


@test
def alerts_anomalies_audit_queries(v, ctx):
    for path in ("/api/v1/alerts", "/api/v1/alerts?since=-1h&until=2100-01-01T00:00:00Z"
                 "&severity=high&kind=signature&src=10.1.1.1&dst=fd00::2&sid=1&app_proto=http"
                 "&limit=10",
                 "/api/v1/anomalies?since=1700000000&detector=port_scan&limit=5",
                 "/api/v1/audit?limit=3"):
        r = expect(v.get(path, "admin"), 200)
        check(isinstance(r.json["items"], list) and "next_cursor" in r.json, "a page", r)
    r = expect(v.get("/api/v1/audit?limit=2", "admin"), 200)
    check(len(r.json["items"]) == 2 and isinstance(r.json["next_cursor"], int), "paged", r)
    nxt = expect(v.get(f"/api/v1/audit?limit=2&cursor={r.json['next_cursor']}", "admin"), 200)
    check(nxt.json["items"][0]["id"] < r.json["items"][-1]["id"], "the next page is older", nxt)
    for q in ("severity=urgent", "kind=all", "since=yesterday", "until=2026-13-01T00:00:00Z",
              "sid=0", "limit=1001", "cursor=-1", "src=not-an-ip", "colour=red",
              "app_proto=gopher"):
        r = expect(v.get("/api/v1/alerts?" + q, "viewer"), 400, "invalid_query")
        check(q.split("=")[0] in r.json["message"], "the message names the parameter", r)


# -- malformed requests ----------------------------------------------------------------------------

@test
def malformed_bodies(v, ctx):
    a = "admin"
    expect(v.request("PUT", "/api/v1/policy", a, b"{\"text\": ", "application/json"), 400,
           "invalid_json")
    expect(v.request("PUT", "/api/v1/policy", a, b"[1]", "application/json"), 400,
           "invalid_body")
    expect(v.request("PUT", "/api/v1/policy", a, {"text": 5}), 400, "invalid_body")
    expect(v.request("PUT", "/api/v1/policy", a, {"text": POLICY, "force": True}), 400,
           "invalid_body")
    expect(v.request("PUT", "/api/v1/policy", a, b"\xff\xfe{}", "application/json"), 400)
    expect(v.request("PUT", "/api/v1/policy", a, b"<x/>", "application/xml"), 415)
    expect(v.request("PUT", "/api/v1/policy", a, b"{}"), 415)
    big = {"text": "#" * (80 * 1024)}
    r = expect(v.request("PUT", "/api/v1/policy", a, big), 413, "payload_too_large")
    check(r.json["details"]["max_body"] == 64 * 1024, "413 names the limit", r)
    expect(v.request("GET", "/api/v1/status", a, b"{}", "application/json"), 400,
           "unexpected_body")
    expect(v.request("DELETE", "/api/v1/policy", a), 405, "method_not_allowed")
    expect(v.request("PATCH", "/api/v1/mode", a, {"mode": "enforce"}), 405)
    expect(v.get("/api/v1/nope", a), 404, "no_route")
    expect(v.get("/api/v1/status?pretty=1", a), 400, "invalid_query")


@test
def malformed_http(v, ctx):
    tok = TOKENS["admin"].encode()
    host = f"Host: 127.0.0.1:{v.port}".encode()
    cases = [
        (b"GARBAGE\r\n\r\n", True),
        (b"GET /api/v1/health HTTP/1.1\r\nHost x\r\n\r\n", False),
        (b"GET /api/v1/health HTTP/1.1\r\n\r\n", False),
        (b"PUT /api/v1/mode HTTP/1.1\r\n" + host + b"\r\nAuthorization: Bearer " + tok +
         b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"ZZ\r\n{}\r\n0\r\n\r\n", False),
        (b"PUT /api/v1/mode HTTP/1.1\r\n" + host + b"\r\nAuthorization: Bearer " + tok +
         b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", False),
        (b"GET /api/v1/health HTTP/1.1\r\n" + host + b"\r\nX-Big: " + b"a" * 200000 +
         b"\r\n\r\n", True),
        (b"GET /" + b"p" * 100000 + b" HTTP/1.1\r\n" + host + b"\r\n\r\n", True),
    ]
    for data, may_close in cases:
        out, closed = v.raw(data)
        st = raw_status(out)
        check(400 <= st < 500 or (may_close and st == 0 and closed),
              f"{data[:50]!r}: status {st}, closed {closed}")
        expect(v.get("/api/v1/health"), 200)
    # A body from a client without a token is not waited for: 401 at once.
    t0 = time.time()
    out, closed = v.raw(b"PUT /api/v1/mode HTTP/1.1\r\n" + host +
                        b"\r\nContent-Length: 50\r\n\r\n{", wait=8)
    check(raw_status(out) == 401 and time.time() - t0 < 1, "401 before the body", out)
    # Partial requests are cut off after the idle timeout (2 s here).
    for data in (b"GET /api/v1/hea", b"GET /api/v1/health HTTP/1.1\r\n" + host + b"\r\n",
                 b"PUT /api/v1/mode HTTP/1.1\r\n" + host + b"\r\nAuthorization: Bearer " +
                 tok + b"\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"):
        t0 = time.time()
        out, closed = v.raw(data, wait=8)
        took = time.time() - t0
        check(closed and 1.5 < took < 6, f"{data[:30]!r}: closed={closed} after {took:.1f} s")
    expect(v.get("/api/v1/health"), 200)


# -- the management plane refuses what it should ------------------------------------------------

SEC_HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff",
               "referrer-policy": "no-referrer"}


def check_security_headers(r, what):
    for k, want in SEC_HEADERS.items():
        check(r.headers.get(k) == want, f"{what}: {k} is {r.headers.get(k)!r}, not {want}",
              r.headers)
    csp = r.headers.get("content-security-policy", "")
    check("frame-ancestors 'none'" in csp, f"{what}: CSP without frame-ancestors 'none'", csp)


@test
def security_headers_on_every_answer(v, ctx):
    """Pages and API answers alike may not be framed by another origin (clickjacking), are not
    type-sniffed and leak no Referer; the dashboard's CSP loads only its own files."""
    cases = [("health", v.get("/api/v1/health"), 200),
             ("status", v.get("/api/v1/status", "viewer"), 200),
             ("401", v.get("/api/v1/status"), 401),
             ("404", v.get("/api/v1/nope", "viewer"), 404),
             ("421", v.get("/api/v1/health", headers={"Host": "rebound.example"}), 421),
             ("page", v.get("/"), 200),
             ("missing page", v.get("/nope.html"), 404)]
    for what, r, status in cases:
        expect(r, status)
        check_security_headers(r, what)
    page = cases[5][1]
    check(page.headers["content-type"].startswith("text/html"), "the dashboard page", page)
    check("default-src 'self'" in page.headers["content-security-policy"],
          "the page's CSP keeps it to its own origin", page.headers)
    check("default-src 'none'" in cases[1][1].headers["content-security-policy"],
          "JSON loads nothing", cases[1][1].headers)


@test
def host_header_dns_rebinding(v, ctx):
    """A page whose name was rebound to the appliance's address sends its own name as Host:
    every request naming a host the appliance does not answer to is refused (421), whatever
    its token, before anything runs."""
    for host in ("rebound.example", f"rebound.example:{v.port}", f"localhost.evil:{v.port}",
                 "127.0.0.1", f"127.0.0.1:{v.port + 1}", f"127.0.0.1:{v.port}@evil"):
        for method, path, role, body in (("GET", "/api/v1/health", None, None),
                                         ("GET", "/api/v1/status", "admin", None),
                                         ("PUT", "/api/v1/mode", "admin", {"mode": "dry-run"}),
                                         ("GET", "/", None, None)):
            r = expect(v.request(method, path, role, body, headers={"Host": host}), 421,
                       "misdirected_request")
            check(r.json["details"]["header"] == "Host" and "Host" in r.json["message"],
                  "the 421 names the header", r)
    check(v.get("/api/v1/mode", "viewer").json["mode"] == "enforce",
          "the misdirected PUT changed nothing")
    # The names it answers to, with its port (IPv6 as any spelling of ::1).
    for host in (f"127.0.0.1:{v.port}", f"localhost:{v.port}", f"LocalHost:{v.port}",
                 f"[::1]:{v.port}", f"[0:0::1]:{v.port}"):
        expect(v.get("/api/v1/status", "viewer", headers={"Host": host}), 200)
    # HTTP/1.0 may omit Host; this appliance still wants to be named.
    out, _ = v.raw(b"GET /api/v1/health HTTP/1.0\r\n\r\n")
    check(raw_status(out) == 421, "HTTP/1.0 without Host", out)
    r = expect(v.get("/api/v1/metrics", "viewer"), 200)
    check(any(x.startswith('vigil_api_refused_total{header="host"} ') and
              int(x.split()[-1]) >= 25 for x in r.body.splitlines()),
          "the refusals are counted", [x for x in r.body.splitlines() if "refused" in x])


BOMB = "a: " + "[" * 20000 + "]" * 20000 + "\n"


@test
def origin_header_cross_site_writes(v, ctx):
    """Another site's page can POST text/plain without a preflight: every write and every
    compile-costing request that carries a foreign Origin is refused (403) before its body is
    read or its token checked; the appliance's own origin (the dashboard) and clients that
    send no Origin (curl, vigilctl) go on as before."""
    own = f"http://127.0.0.1:{v.port}"
    for origin in ("http://attacker.example", "null", f"http://127.0.0.1:{v.port + 1}",
                   f"https://127.0.0.1:{v.port}", f"http://localhost:{v.port}", own + "/x"):
        for method, path, role, body, ctype in (
                ("POST", "/api/v1/policy/validate", None, BOMB, "text/plain"),
                ("POST", "/api/v1/policy/validate", "admin", BOMB, "text/plain"),
                ("PUT", "/api/v1/policy", "admin", POLICY, "text/plain"),
                ("PUT", "/api/v1/mode", "operator", {"mode": "dry-run"}, None),
                ("POST", "/api/v1/blocklist", "operator", '{"address": "198.51.100.9"}',
                 "text/plain"),
                ("DELETE", "/api/v1/blocklist/198.51.100.9", "operator", None, None)):
            r = expect(v.request(method, path, role, body, ctype, headers={"Origin": origin}),
                       403, "forbidden_origin")
            check(r.json["details"] == {"header": "Origin", "got": origin[:64]},
                  "the 403 names the header and what it got", r)
    check(v.get("/api/v1/mode", "viewer").json["mode"] == "enforce", "no mode change")
    # Reads are not writes: a foreign Origin reads nothing it could not read without one
    # (no CORS headers), and the appliance's own origin writes with a token.
    r = expect(v.get("/api/v1/status", "viewer", headers={"Origin": "http://attacker.example"}),
               200)
    check("access-control-allow-origin" not in r.headers, "no CORS", r.headers)
    expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "enforce"},
                     headers={"Origin": own}), 200)
    expect(v.request("PUT", "/api/v1/mode", "operator", {"mode": "enforce"},
                     headers={"Origin": f"http://localhost:{v.port}",
                              "Host": f"localhost:{v.port}"}), 200)
    expect(v.request("POST", "/api/v1/policy/validate", "operator", POLICY, "text/plain",
                     headers={"Origin": own}), 200)
    r = expect(v.get("/api/v1/metrics", "viewer"), 200)
    check(any(x.startswith('vigil_api_refused_total{header="origin"} ') and
              int(x.split()[-1]) >= 36 for x in r.body.splitlines()),
          "the refusals are counted", [x for x in r.body.splitlines() if "refused" in x])


@test
def content_type_on_every_body(v, ctx):
    """Every body is parsed only as the type it declares, and only the types the API
    documents: JSON for objects, application/yaml, text/yaml or text/plain for texts."""
    bodies = [("PUT", "/api/v1/mode", "operator", '{"mode": "enforce"}'),
              ("POST", "/api/v1/blocklist", "operator", '{"address": "198.51.100.9"}'),
              ("POST", "/api/v1/policy/rollback", "admin", '{"version": 1}'),
              ("POST", "/api/v1/policy/validate", "operator", POLICY),
              ("PUT", "/api/v1/policy", "admin", POLICY)]
    for method, path, role, body in bodies:
        for ctype in (None, "application/x-www-form-urlencoded", "multipart/form-data; b=x",
                      "text/html", "application/jsonx"):
            r = expect(v.request(method, path, role, body, ctype), 415,
                       "unsupported_media_type")
            check("accepted" in r.json["details"], "the 415 says what is accepted", r)
    for method, path, role, body in bodies[:3]:
        expect(v.request(method, path, role, body, "text/plain"), 415, "unsupported_media_type")


@test
def tokenless_loopback_reads_only(v, ctx):
    """A config that gives requests without a token more than reads is refused at load, at its
    line, saying why; a viewer role is accepted."""
    for role, ok in (("operator", False), ("admin", False), ("viewer", True)):
        path = os.path.join(v.work, f"unauth-{role}.yaml")
        with open(v.cfg_path) as f:
            cfg = json.load(f)
        cfg["mgmt"].update({"allow_unauthenticated_loopback": True,
                            "unauthenticated_role": role})
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2)
        p = subprocess.run([v.argv0, "--check-config", "-c", path], capture_output=True,
                           text=True, timeout=60)
        out = p.stdout + p.stderr
        if ok:
            check(p.returncode == 0, f"unauthenticated_role {role}: {out}")
        else:
            check(p.returncode == 1 and "unauthenticated_role" in out and
                  "may only read" in out, f"unauthenticated_role {role} accepted: {out}")


@test
def www_serves_regular_files_only(v, ctx):
    """A FIFO (or any file that is not regular) in the www directory is refused at once; it
    used to hold the request, and the I/O thread with it, until a writer came."""
    t0 = time.time()
    r = expect(v.get("/pipe.js", timeout=5), 404, "not_found")
    check(time.time() - t0 < 2, f"the FIFO took {time.time() - t0:.1f} s", r)
    expect(v.get("/sub", timeout=5), 404, "not_found")
    expect(v.get("/api/v1/health"), 200)


@test
def relative_time_out_of_range(v, ctx):
    """since=-666666619m overflowed a signed multiplication (UB; fuzz_api found it): it is
    bounded before, and refused with the range."""
    for q in ("since=-666666619m", "since=-36501d", "until=-3153600001s",
              "since=-99999999999999999999h"):
        r = expect(v.get("/api/v1/alerts?" + q, "viewer"), 400, "invalid_query")
        check("out of range" in r.json["message"] and "100 years" in r.json["message"],
              "the message gives the range", r)
    expect(v.get("/api/v1/alerts?since=-36500d", "viewer"), 200)
    expect(v.get("/api/v1/flows/history?since=-52560000m", "viewer"), 200)


@test
def logged_request_bytes_are_escaped(v, ctx):
    """A path with CR, LF and an escape sequence cannot forge a line in the daemon's log: the
    audit line shows them as \\xNN."""
    expect(v.request("DELETE", "/api/v1/blocklist/1.2.3.4%0d%0aFORGED%20notice%1b%5b2J%5c",
                     "operator"), 400)
    deadline = time.time() + 5
    while "FORGED" not in v.tail(400) and time.time() < deadline:
        time.sleep(0.1)
    log = v.tail(400)
    check("1.2.3.4\\x0d\\x0aFORGED notice\\x1b[2J\\x5c by oncall -> 400" in log,
          "the audit line with the bytes escaped", [x for x in log.splitlines() if "FORGED" in x])
    check(not any(x.startswith("FORGED") for x in log.splitlines()) and "\x1b" not in log,
          "no forged line, no raw escape", log[-2000:])


@test
def tls_policy_and_key_mode(v, ctx):
    """HTTPS admits TLS 1.2 and 1.3 only (ECDHE with AEAD ciphers in 1.2), and a private key
    that group or others can read is reported in the log and in status."""
    tls = os.path.join(v.work, "tls")
    os.makedirs(tls)
    key, cert = os.path.join(tls, "key.pem"), os.path.join(tls, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    os.chmod(key, 0o644)
    s = apilib.Vigild(v.argv0, prefix="vgtls", store=False, cafile=cert,
                      extra_mgmt={"tls": {"cert": cert, "key": key}})
    try:
        def handshake(*args):
            p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{s.port}",
                                "-CAfile", cert, *args], input="", capture_output=True,
                               text=True, timeout=20)
            # "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" ("(NONE)" when it failed)
            new = [x for x in p.stdout.splitlines() if x.startswith("New, ")]
            proto = new[0].split(",")[1].strip() if new else ""
            cipher = new[0].partition("Cipher is ")[2].strip() if new else ""
            ok = p.returncode == 0 and cipher not in ("", "(NONE)")
            return ok, proto, cipher, p.stdout + p.stderr

        # The client is told to allow the old versions (SECLEVEL=0): the server must refuse.
        for ver in ("-tls1", "-tls1_1"):
            ok, proto, cipher, out = handshake(ver, "-cipher", "DEFAULT@SECLEVEL=0")
            check(not ok, f"{ver} was accepted ({proto}, {cipher})", out[-600:])
        ok, proto, cipher, out = handshake("-tls1_2")
        check(ok and proto == "TLSv1.2" and ("GCM" in cipher or "CHACHA20" in cipher),
              f"TLS 1.2: {proto} {cipher}", out[-600:])
        ok, proto, cipher, out = handshake("-tls1_3")
        check(ok and proto == "TLSv1.3", f"TLS 1.3: {proto} {cipher}", out[-600:])
        for weak in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-SHA256"):
            ok, proto, cipher, out = handshake("-tls1_2", "-cipher", weak + "@SECLEVEL=0")
            check(not ok, f"TLS 1.2 with {weak} was accepted ({cipher})", out[-600:])
        st = expect(s.get("/api/v1/status", "viewer"), 200).json
        check(st["api"]["tls"] is True and len(st["api"]["warnings"]) == 1 and
              "open to group and others (mode 0644)" in st["api"]["warnings"][0] and
              "chmod 600" in st["api"]["warnings"][0], "status names the key's mode",
              st.get("api"))
        check("mgmt.tls.key" in s.tail(200) and "(mode 0644)" in s.tail(200),
              "the log names the key's mode", s.tail(200))
        expect(s.get("/api/v1/health", headers={"Host": "rebound.example"}), 421)
        expect(s.request("PUT", "/api/v1/mode", "operator", {"mode": "enforce"},
                         headers={"Origin": f"http://127.0.0.1:{s.port}"}), 403,
               "forbidden_origin")
        expect(s.request("PUT", "/api/v1/mode", "operator", {"mode": "enforce"},
                         headers={"Origin": f"https://127.0.0.1:{s.port}"}), 200)
    finally:
        rc = s.close()
        tail = s.tail(30)
        s.cleanup()
    check(rc == 0, f"the TLS vigild exited with {rc}:\n{tail}")


# -- vigilctl ----------------------------------------------------------------------------------------

@test
def vigilctl(v, ctx):
    exe = ctx.get("vigilctl")
    if not exe:
        print("    (skipped: no --vigilctl)")
        return
    env = dict(os.environ, VIGIL_URL=f"http://127.0.0.1:{v.port}", VIGIL_TOKEN=TOKENS["admin"])

    def run(*args, stdin=None, token=None):
        e = dict(env)
        if token is not None:
            e["VIGIL_TOKEN"] = token
        p = subprocess.run([exe, *args], env=e, capture_output=True, text=True, input=stdin,
                           timeout=30)
        return p.returncode, p.stdout, p.stderr

    rc, out, err = run("status")
    check(rc == 0 and "mode" in out and "RX-PKTS" in out, f"status: {rc} {out} {err}")
    rc, out, _ = run("--json", "status")
    check(rc == 0 and json.loads(out)["ports"][0]["name"] == "a", "status --json")
    rc, out, _ = run("policy", "get")
    check(rc == 0 and out == POLICY, "policy get prints the text")
    path = os.path.join(v.work, "p.yaml")
    with open(path, "w") as f:
        f.write(POLICY.replace("dport: 53", "dport: 5353"))
    rc, out, err = run("policy", "validate", path)
    check(rc == 0 and "valid" in out, f"policy validate: {rc} {out} {err}")
    rc, out, err = run("policy", "apply", path)
    check(rc == 0 and out.startswith("applied: version "), f"policy apply: {out} {err}")
    ver = int(out.split()[2])
    rc, out, _ = run("policy", "apply", path)
    check(rc == 0 and out.startswith("unchanged"), f"policy apply again: {out}")
    rc, out, err = run("policy", "apply", "--if-match", "1", path)
    check(rc == 0 or rc == 1, "apply with if-match")
    with open(path, "w") as f:
        f.write("version: 1\ndefault: maybe\n")
    rc, out, err = run("policy", "validate", path)
    check(rc == 1 and "policy:2:" in err and "422 validation_failed" in err,
          f"validate shows positions: {rc} {err}")
    rc, out, _ = run("policy", "versions")
    check(rc == 0 and "VERSION" in out and str(ver) in out, f"versions: {out}")
    # the policy version before ver (ids are the store's, shared with other kinds of version)
    prev = max(x["id"] for x in v.get("/api/v1/policy/versions?limit=50", "viewer").json["items"]
               if x["id"] < ver)
    rc, out, err = run("policy", "rollback", str(prev))
    check(rc == 0 and "rolled back" in out, f"rollback: {out} {err}")
    rc, out, _ = run("mode")
    check(rc == 0 and out.strip() in ("enforce", "dry-run"), f"mode: {out}")
    rc, out, err = run("mode", "dry-run", token=TOKENS["viewer"])
    check(rc == 1 and "403 forbidden" in err, f"mode as viewer: {rc} {err}")
    rc, out, err = run("blocklist", "add", "203.0.113.5", "--ttl", "60", "--reason", "test")
    check(rc == 0 and "blocked 203.0.113.5" in out, f"blocklist add: {out} {err}")
    rc, out, _ = run("blocklist")
    check(rc == 0 and "203.0.113.5" in out, f"blocklist: {out}")
    rc, out, _ = run("blocklist", "remove", "203.0.113.5")
    check(rc == 0, "blocklist remove")
    rc, out, err = run("alerts", "--severity", "high", "--since", "-1h")
    check(rc == 0, f"alerts: {rc} {err}")
    rc, out, err = run("alerts", "--severity", "urgent")
    check(rc == 1 and "invalid_query" in err, f"alerts bad filter: {err}")
    rc, out, err = run("alerts", "--colour", "red")
    check(rc == 2 and "unknown option --colour" in err, f"alerts unknown option: {err}")
    rc, out, _ = run("flows", "--limit", "3")
    check(rc == 0, "flows")
    rc, out, err = run("alerts", "--app_proto", "http")
    check(rc == 0, f"alerts --app_proto: {rc} {err}")
    rc, out, err = run("flows", "history", "--app_proto", "unknown", "--since", "-1d")
    check(rc == 0 and ("APP" in out or "(none)" in out), f"flows history: {out} {err}")
    rc, out, err = run("flows", "--app_proto", "gopher")
    check(rc == 1 and "invalid_query" in err, f"flows bad app_proto: {err}")
    rc, out, _ = run("counters")
    check(rc == 0 and "(default)" in out, f"counters: {out}")
    rc, out, _ = run("metrics")
    check(rc == 0 and "vigil_info{" in out, "metrics")
    rc, out, err = run("audit", "--limit", "5")
    check(rc == 0 and "WHO" in out, f"audit: {out} {err}")
    rc, _, err = run("status", token="wrong")
    check(rc == 1 and "401 unauthorized" in err, f"bad token: {rc} {err}")
    rc, _, err = run("--url", "http://127.0.0.1:1", "status")
    check(rc == 3, f"no connection: {rc} {err}")
    rc, _, err = run("frobnicate")
    check(rc == 2, "unknown command")


# -- uploaded eBPF programs ------------------------------------------------------------------------

@test
def bpf_program_upload(v, ctx):
    """Upload (checked by the loader, kept by SHA-256), versions, use from a policy by sha and by
    name, rollback of a name (in force at once), removal (refused while in use), refusals that
    keep nothing, roles and audit."""
    bdir = ctx.get("bpf_dir")
    if not bdir or not os.path.exists(os.path.join(bdir, "pass.o")):
        print("      (no eBPF objects: --bpf-dir not given or clang missing; skipped)")
        return
    obj = {n: open(os.path.join(bdir, n + ".o"), "rb").read()
           for n in ("pass", "prefilter_bogon", "bad_loop", "bad_helper")}
    sha = {n: hashlib.sha256(b).hexdigest() for n, b in obj.items()}
    url = "/api/v1/bpf/programs"
    bin_ = "application/octet-stream"
    before = expect(v.get(url, "viewer"), 200).json["items"]

    # Refusals keep nothing: the wrong type, an empty body, not ELF, the validator's and
    # vigild's own refusals, a bad name, a viewer or an operator.
    r = expect(v.request("POST", url, "admin", obj["pass"], "text/plain"), 415,
               "unsupported_media_type")
    check(r.json["details"]["accepted"] == ["application/octet-stream", "application/json"],
          "the 415 says what is accepted", r)
    expect(v.request("POST", url, "admin", obj["pass"], "application/json"), 400)  # no JSON
    expect(v.request("POST", url, "admin", b"", bin_), 400)
    r = expect(v.request("POST", url, "admin", b"\x7fELF but not really", bin_), 422,
               "validation_failed")
    check("upload: not an ELF object" in r.json["message"], "says it is no ELF object", r)
    r = expect(v.request("POST", url, "admin", obj["bad_loop"], bin_), 422, "validation_failed")
    check("upload: refused by rte_bpf (Invalid argument): validate: loops detected"
          in r.json["details"]["reason"], "the validator's message", r)
    r = expect(v.request("POST", url, "admin", obj["bad_helper"], bin_), 422)
    check("calls 'bpf_ktime_get_ns', which is not a vigild helper" in r.json["message"],
          "vigild's helper check", r)
    expect(v.request("POST", url + "?name=Bad.Name", "admin", obj["pass"], bin_), 400)
    expect(v.request("POST", url, "viewer", obj["pass"], bin_), 403, "forbidden")
    expect(v.request("POST", url, "operator", obj["pass"], bin_), 403, "forbidden")
    check(expect(v.get(url, "viewer"), 200).json["items"] == before, "refusals kept nothing")

    # Validate: the same loader, nothing kept; an operator may.
    r = expect(v.request("POST", url + "/validate", "operator", obj["prefilter_bogon"], bin_), 200)
    check(r.json["valid"] is True and r.json["sha256"] == sha["prefilter_bogon"]
          and r.json["size"] == len(obj["prefilter_bogon"]) and r.json["instructions"] >= 1,
          "validated", r)
    r = expect(v.request("POST", url + "/validate", "operator", obj["bad_loop"], bin_), 422,
               "validation_failed")
    check("validate: loops detected" in r.json["details"]["reason"], "the validator's message", r)
    expect(v.request("POST", url + "/validate", "viewer", obj["pass"], bin_), 403, "forbidden")
    check(expect(v.get(url, "viewer"), 200).json["items"] == before, "validation kept nothing")

    # Uploads: kept by SHA-256, with who and when; the same object again changes nothing.
    t0 = time.time_ns()
    r = expect(v.request("POST", url + "?name=edge", "admin", obj["pass"], bin_), 201)
    j = r.json
    check(j["sha256"] == sha["pass"] and j["size"] == len(obj["pass"]) and j["name"] == "edge"
          and j["by"] == NAMES["admin"] and j["instructions"] >= 1 and j["unchanged"] is False
          and j["current"] is True and j["uploaded_ns"] >= t0 - 10**9, "the record", r)
    r = expect(v.request("POST", url + "?name=edge", "admin", obj["pass"], bin_), 200)
    check(r.json["unchanged"] is True and r.json["uploaded_ns"] == j["uploaded_ns"],
          "the same object again: unchanged, its first record", r)
    time.sleep(0.01)
    r = expect(v.request("POST", url + "?name=edge", "admin", obj["prefilter_bogon"], bin_), 201)
    check(r.json["sha256"] == sha["prefilter_bogon"] and r.json["current"] is True, "v2", r)
    r = expect(v.get(url + "?name=edge", "viewer"), 200)
    items = r.json["items"]
    check([x["sha256"] for x in items] == [sha["prefilter_bogon"], sha["pass"]],
          "the name's versions, newest first", r)
    check([x["current"] for x in items] == [True, False], "the newest is current", r)
    check(len(expect(v.get(url, "viewer"), 200).json["items"]) == len(before) + 2 - sum(
        1 for x in before if x["sha256"] in (sha["pass"], sha["prefilter_bogon"])),
        "both in the full list")

    # A policy runs them: a pre-filter by name, a rule's program pinned by its SHA-256.
    cur = expect(v.get("/api/v1/policy", "viewer"), 200).json
    text = (POLICY.replace("    dport: 53\n    action: allow\n",
                           f"    dport: 53\n    action: allow\n    bpf: sha256:{sha['pass']}\n")
            + "prefilter:\n  - {name: edge, in: a, bpf: upload:edge}\n")
    r = expect(v.request("PUT", "/api/v1/policy", "admin", text, "application/yaml"), 200)
    st = expect(v.get("/api/v1/status", "viewer"), 200).json
    pf = st["bpf_prefilters"]
    check(len(pf) == 1 and pf[0]["name"] == "edge" and pf[0]["in"] == ["a"]
          and pf[0]["file"].endswith(f"/{sha['prefilter_bogon']}.o"),
          "the pre-filter runs the name's newest upload", pf)
    check(any(b["name"] == "dns" and b["file"].endswith(f"/{sha['pass']}.o") for b in st["bpf"]),
          "the rule runs the pinned upload", st["bpf"])
    # Unknown references refuse the policy; nothing in force changes.
    for ref, why in ((f"sha256:{'0' * 64}", "no program was uploaded as"),
                     ("upload:nobody", "no program was uploaded as 'nobody'"),
                     ("sha256:abc", "expected sha256: and 64 lower-case hex digits")):
        bad = text.replace("bpf: upload:edge", f"bpf: {ref}")
        r = expect(v.request("PUT", "/api/v1/policy", "admin", bad, "application/yaml"), 422)
        check(why in r.body, f"{ref}: {why}", r)
    check(expect(v.get("/api/v1/status", "viewer"), 200).json["bpf_prefilters"][0]["file"]
          .endswith(f"/{sha['prefilter_bogon']}.o"), "the refusals changed nothing")

    # Rollback of the name: in force at once, the policy that follows it compiled again.
    expect(v.request("POST", "/api/v1/bpf/programs/edge/rollback", "operator",
                     {"sha256": sha["pass"]}), 403, "forbidden")
    expect(v.request("POST", "/api/v1/bpf/programs/edge/rollback", "admin",
                     {"sha256": "f" * 64}), 404, "not_found")
    expect(v.request("POST", "/api/v1/bpf/programs/edge/rollback", "admin",
                     {"sha256": "xyz"}), 400)
    epoch = expect(v.get("/api/v1/policy", "viewer"), 200).json["epoch"]
    r = expect(v.request("POST", "/api/v1/bpf/programs/edge/rollback", "admin",
                         {"sha256": sha["pass"]}), 200)
    check(r.json["sha256"] == sha["pass"] and r.json["current"] is True, "rolled back", r)
    check(r.json["policy"]["recompiled"] is True and r.json["policy"]["unchanged"] is False,
          "the policy that follows the name was compiled again", r)
    pf = expect(v.get("/api/v1/status", "viewer"), 200).json["bpf_prefilters"]
    check(pf[0]["file"].endswith(f"/{sha['pass']}.o"), "the rolled-back upload runs at once", pf)
    pol = expect(v.get("/api/v1/policy", "viewer"), 200).json
    check(pol["epoch"] > epoch and pol["source"] == f"bpf-rollback:edge by {NAMES['admin']}"
          and pol["text"] == text, "a new version of the same text, named after the rollback",
          pol)
    r = expect(v.get(url + "?name=edge", "viewer"), 200)
    check([x["current"] for x in r.json["items"]] == [False, True], "the older is current", r)
    # Again: the policy runs that object already, nothing is compiled.
    r = expect(v.request("POST", "/api/v1/bpf/programs/edge/rollback", "admin",
                         {"sha256": sha["pass"]}), 200)
    check(r.json["policy"] == {"recompiled": False}, "nothing to compile", r)
    check(expect(v.get("/api/v1/policy", "viewer"), 200).json["epoch"] == pol["epoch"],
          "no new version", r)
    # A rollback the policy refuses (the earlier object is gone from the folder, as after a
    # disk problem) is a 422 and changes nothing: the name means what it meant.
    pdir = os.path.join(v.work, "bpf-programs")
    os.rename(os.path.join(pdir, sha["prefilter_bogon"] + ".o"),
              os.path.join(pdir, "aside.o"))
    try:
        r = expect(v.request("POST", "/api/v1/bpf/programs/edge/rollback", "admin",
                             {"sha256": sha["prefilter_bogon"]}), 422, "validation_failed")
    finally:
        os.rename(os.path.join(pdir, "aside.o"),
                  os.path.join(pdir, sha["prefilter_bogon"] + ".o"))
    check("does not compile" in r.json["message"] and "no program was uploaded as 'edge'"
          in r.json["message"] and f"still means {sha['pass']}" in r.json["message"],
          "says why and what the name still means", r)
    r = expect(v.get(url + "?name=edge", "viewer"), 200)
    check([x["current"] for x in r.json["items"]] == [False, True], "the name did not move", r)
    check(expect(v.get("/api/v1/policy", "viewer"), 200).json["epoch"] == pol["epoch"],
          "the refused rollback changed nothing in force", r)
    pf = expect(v.get("/api/v1/status", "viewer"), 200).json["bpf_prefilters"]
    check(pf[0]["file"].endswith(f"/{sha['pass']}.o"), "the program in force stays", pf)
    # Forward again (the newer one), in force at once too.
    r = expect(v.request("POST", "/api/v1/bpf/programs/edge/rollback", "admin",
                         {"sha256": sha["prefilter_bogon"]}), 200)
    check(r.json["policy"]["recompiled"] is True, "compiled again", r)
    pf = expect(v.get("/api/v1/status", "viewer"), 200).json["bpf_prefilters"]
    check(pf[0]["file"].endswith(f"/{sha['prefilter_bogon']}.o"), "the newer upload runs", pf)

    # Audited, refusals included.
    items = expect(v.get("/api/v1/audit?limit=50", "admin"), 200).json["items"]
    check(any(a["action"] == "POST /api/v1/bpf/programs" and a["result"] == "201"
              and sha["pass"] in a["detail"] and a["actor"] == NAMES["admin"] for a in items),
          "the upload audited with its SHA-256", items[:8])
    check(any(a["action"] == "POST /api/v1/bpf/programs" and a["result"] == "422"
              for a in items), "the refused upload audited", items[:8])
    check(any(a["action"] == "POST /api/v1/bpf/programs/edge/rollback" and a["result"] == "200"
              and sha["pass"] in a["detail"] for a in items), "the rollback audited", items[:8])
    check(any(a["action"] == "POST /api/v1/bpf/programs/edge/rollback" and a["result"] == "422"
              for a in items), "the refused rollback audited", items[:8])

    # DELETE: refused while the policy in force runs the upload, then removed; the name moves to
    # its other upload, then goes.
    dele = "/api/v1/bpf/programs/"
    expect(v.request("DELETE", dele + sha["pass"], "operator"), 403, "forbidden")
    expect(v.request("DELETE", dele + "xyz", "admin"), 400)
    expect(v.request("DELETE", dele + "f" * 64, "admin"), 404, "not_found")
    r = expect(v.request("DELETE", dele + sha["pass"], "admin"), 409, "conflict")
    check("in use by the policy in force (rule 'dns')" in r.json["message"], "names the rule", r)
    r = expect(v.request("DELETE", dele + sha["prefilter_bogon"], "admin"), 409, "conflict")
    check("(prefilter 'edge')" in r.json["message"], "names the pre-filter", r)
    pdir = os.path.join(v.work, "bpf-programs")
    check(os.path.exists(os.path.join(pdir, sha["pass"] + ".o")), "a refusal removed nothing")
    expect(v.request("PUT", "/api/v1/policy", "admin", {"text": cur["text"]}), 200)
    r = expect(v.request("DELETE", dele + sha["prefilter_bogon"], "admin"), 200)
    check(r.json["deleted"] is True and r.json["sha256"] == sha["prefilter_bogon"]
          and r.json["names"] == [{"name": "edge", "now": sha["pass"]}],
          "removed; edge means its other upload", r)
    r = expect(v.get(url + "?name=edge", "viewer"), 200)
    check([(x["sha256"], x["current"]) for x in r.json["items"]] == [(sha["pass"], True)],
          "one upload left, current", r)
    r = expect(v.request("DELETE", dele + sha["pass"], "admin"), 200)
    check(r.json["names"] == [{"name": "edge", "now": None}], "the name went with the last", r)
    check(expect(v.get(url + "?name=edge", "viewer"), 200).json["items"] == [], "none left")
    check(not os.path.exists(os.path.join(pdir, sha["pass"] + ".o"))
          and not os.path.exists(os.path.join(pdir, sha["pass"] + ".json"))
          and not os.path.lexists(os.path.join(pdir, "names", "edge.o")), "the files are gone")
    expect(v.request("DELETE", dele + sha["pass"], "admin"), 404, "not_found")
    # A policy naming it is refused now, with the reason.
    r = expect(v.request("PUT", "/api/v1/policy", "admin", text, "application/yaml"), 422)
    check("no program was uploaded as" in r.body, "a policy naming a removed upload", r)
    # The store writes the audit log in batches: wait for the last removal's row.
    for _ in range(50):
        items = expect(v.get("/api/v1/audit?limit=50", "admin"), 200).json["items"]
        if any(a["action"] == f"DELETE /api/v1/bpf/programs/{sha['pass']}"
               and a["result"] == "200" for a in items):
            break
        time.sleep(0.1)
    check(any(a["action"] == f"DELETE /api/v1/bpf/programs/{sha['pass']}" and a["result"] == "200"
              for a in items), "the removal audited",
          [a for a in items if "DELETE" in a["action"]][:3])
    check(any(a["action"].startswith("DELETE /api/v1/bpf/programs/") and a["result"] == "409"
              for a in items), "the refusal audited", items[:8])


@test
def bpf_program_apply(v, ctx):
    """An upload with ?apply=true: stored, then in force at once when the policy in force names
    upload:NAME (a new version, source bpf-upload:NAME by WHO), as a rollback of the name is;
    nothing is compiled when no policy follows the name or it runs that object already; a
    recompile the policy refuses is a 422 that changes nothing in force and keeps nothing."""
    bdir = ctx.get("bpf_dir")
    if not bdir or not os.path.exists(os.path.join(bdir, "pass.o")):
        print("      (no eBPF objects: --bpf-dir not given or clang missing; skipped)")
        return
    obj = {n: open(os.path.join(bdir, n + ".o"), "rb").read()
           for n in ("pass", "sampler", "allow_private", "dns_qname")}
    sha = {n: hashlib.sha256(b).hexdigest() for n, b in obj.items()}
    url = "/api/v1/bpf/programs"
    bin_ = "application/octet-stream"
    pdir = os.path.join(v.work, "bpf-programs")

    def policy():
        return expect(v.get("/api/v1/policy", "viewer"), 200).json

    def prefilter_file():
        return expect(v.get("/api/v1/status", "viewer"), 200).json["bpf_prefilters"][0]["file"]

    # Refused before anything is kept: apply without a name, a value that is no boolean, roles.
    r = expect(v.request("POST", url + "?apply=true", "admin", obj["pass"], bin_), 400,
               "invalid_query")
    check("give name= with apply=true" in r.json["message"], "apply needs a name", r)
    expect(v.request("POST", url + "?name=live&apply=yes", "admin", obj["pass"], bin_), 400,
           "invalid_query")
    expect(v.request("POST", url + "?name=live&apply=true", "operator", obj["pass"], bin_), 403,
           "forbidden")
    check(expect(v.get(url + "?name=live", "viewer"), 200).json["items"] == [], "nothing kept")

    # No policy follows the name: stored, nothing compiled.
    cur = policy()
    r = expect(v.request("POST", url + "?name=live&apply=true", "admin", obj["pass"], bin_), 201)
    check(r.json["sha256"] == sha["pass"] and r.json["current"] is True
          and r.json["policy"] == {"recompiled": False}, "stored, nothing follows the name", r)
    check(policy()["version"] == cur["version"], "no new policy version")
    r = expect(v.request("POST", url + "?name=pin&apply=false", "admin", obj["sampler"], bin_), 201)
    check("policy" not in r.json, "apply=false: stored only, as without apply", r)

    # A policy that follows live (a pre-filter) and pins another upload (the dns rule).
    text = (POLICY.replace("    dport: 53\n    action: allow\n",
                           f"    dport: 53\n    action: allow\n    bpf: sha256:{sha['sampler']}\n")
            + "prefilter:\n  - {name: live, in: a, bpf: upload:live}\n")
    expect(v.request("PUT", "/api/v1/policy", "admin", text, "application/yaml"), 200)
    check(prefilter_file().endswith(f"/{sha['pass']}.o"), "the pre-filter runs live's upload")
    before = policy()

    # A new object of the name with apply: in force at once.
    r = expect(v.request("POST", url + "?name=live&apply=true", "admin", obj["allow_private"],
                         bin_), 201)
    check(r.json["sha256"] == sha["allow_private"] and r.json["unchanged"] is False
          and r.json["policy"]["recompiled"] is True and r.json["policy"]["unchanged"] is False,
          "stored and the policy compiled again", r)
    check(prefilter_file().endswith(f"/{sha['allow_private']}.o"), "the new upload runs")
    pol = policy()
    check(pol["version"] == r.json["policy"]["version"] and pol["version"] != before["version"]
          and pol["source"] == f"bpf-upload:live by {NAMES['admin']}" and pol["text"] == text,
          "a new version of the same text, named after the upload", pol)
    # The same object again: the policy runs it already, nothing is compiled.
    r = expect(v.request("POST", url + "?name=live&apply=true", "admin", obj["allow_private"],
                         bin_), 200)
    check(r.json["unchanged"] is True and r.json["policy"] == {"recompiled": False},
          "nothing to compile", r)
    check(policy()["version"] == pol["version"], "no new version")

    # Refused: the policy in force no longer compiles (the pinned object is gone from the
    # folder, as after a disk problem). A 422; the name means what it meant, the new object is
    # not kept, nothing in force changed.
    os.rename(os.path.join(pdir, sha["sampler"] + ".o"), os.path.join(pdir, "aside.o"))
    try:
        r = expect(v.request("POST", url + "?name=live&apply=true", "admin", obj["dns_qname"],
                             bin_), 422, "validation_failed")
    finally:
        os.rename(os.path.join(pdir, "aside.o"), os.path.join(pdir, sha["sampler"] + ".o"))
    m = r.json["message"]
    check("does not compile" in m and "rule 'dns'" in m and "no program was uploaded as" in m
          and f"'upload:live' still means {sha['allow_private']}" in m
          and "the upload was not kept" in m and r.json["details"]["reason"] == m,
          "says why, what the name means and that nothing was kept", r)
    items = expect(v.get(url + "?name=live", "viewer"), 200).json["items"]
    check([(x["sha256"], x["current"]) for x in items]
          == [(sha["allow_private"], True), (sha["pass"], False)], "the name did not move", items)
    check(not os.path.exists(os.path.join(pdir, sha["dns_qname"] + ".o"))
          and not os.path.exists(os.path.join(pdir, sha["dns_qname"] + ".json")),
          "the refused upload's files are gone")
    check(policy()["version"] == pol["version"], "no new version")
    check(prefilter_file().endswith(f"/{sha['allow_private']}.o"), "the program in force stays")

    # Audited, the refusal included.
    for _ in range(50):
        items = expect(v.get("/api/v1/audit?limit=50", "admin"), 200).json["items"]
        if any(a["action"] == "POST /api/v1/bpf/programs" and a["result"] == "422"
               and ", apply" in a["detail"] for a in items):
            break
        time.sleep(0.1)
    check(any(a["action"] == "POST /api/v1/bpf/programs" and a["result"] == "201"
              and sha["allow_private"] in a["detail"]
              and f"policy recompiled: version {pol['version']}" in a["detail"]
              for a in items), "the applied upload audited with the version", items[:6])
    check(any(a["action"] == "POST /api/v1/bpf/programs" and a["result"] == "422"
              and a["detail"].startswith("bpf program upload live:") and ", apply" in a["detail"]
              for a in items), "the refused one audited", items[:6])

    # Leave things as they were.
    expect(v.request("PUT", "/api/v1/policy", "admin", {"text": cur["text"]}), 200)
    for n in ("pass", "sampler", "allow_private"):
        expect(v.request("DELETE", f"{url}/{sha[n]}", "admin"), 200)


@test
def bpf_program_maps(v, ctx):
    """An upload that brings its maps declaration (JSON: the object in base64 and the YAML): a
    program that calls the map helpers is refused without it, a declaration that names a file
    or that the loader refuses is refused, the same object with other maps is a 409; a policy
    runs it with its maps, filled through the maps API; removed with its declaration."""
    bdir = ctx.get("bpf_dir")
    if not bdir or not os.path.exists(os.path.join(bdir, "port_knock.o")):
        print("      (no eBPF objects: --bpf-dir not given or clang missing; skipped)")
        return
    obj = open(os.path.join(bdir, "port_knock.o"), "rb").read()
    sha = hashlib.sha256(obj).hexdigest()
    b64 = base64.b64encode(obj).decode()
    url = "/api/v1/bpf/programs"
    bin_ = "application/octet-stream"
    decl = ("maps:\n  - {name: knock_config, kind: hash, key: u64, max_entries: 8}\n"
            "  - {name: knock_state, kind: hash, key: addr, max_entries: 4096}\n")
    before = expect(v.get(url, "viewer"), 200).json["items"]

    # Refusals keep nothing.
    r = expect(v.request("POST", url + "?name=knock", "admin", obj, bin_), 422, "validation_failed")
    check("calls the map helpers but declares no map (send its maps declaration with it"
          in r.json["message"], "needs its maps", r)
    bad = decl.replace("max_entries: 8}", "max_entries: 8, file: /etc/passwd}")
    r = expect(v.request("POST", url + "?name=knock", "admin", {"object": b64, "maps": bad}),
               422, "validation_failed")
    check("maps:2:" in r.json["message"] and "'file' is not for uploads" in r.json["message"],
          "a declaration naming a file", r)
    bad = decl.replace("kind: hash, key: addr", "kind: hash")
    r = expect(v.request("POST", url + "?name=knock", "admin", {"object": b64, "maps": bad}),
               422, "validation_failed")
    check("upload: maps: maps:3:" in r.json["message"]
          and "a hash map needs 'key: u64' or 'key: addr'" in r.json["message"]
          and ".upload-" not in r.json["message"], "the loader's refusal, scratch names hidden", r)
    expect(v.request("POST", url + "?name=knock", "admin", {"object": "not base64!"}), 400,
           "invalid_body")
    expect(v.request("POST", url + "?name=knock", "admin", {"maps": decl}), 400)
    check(expect(v.get(url, "viewer"), 200).json["items"] == before, "refusals kept nothing")

    # Validated, then kept with its maps; the same again changes nothing; other maps: 409.
    r = expect(v.request("POST", url + "/validate", "operator", {"object": b64, "maps": decl}), 200)
    check(r.json["sha256"] == sha and r.json["maps"] == ["knock_config", "knock_state"],
          "validated with its maps", r)
    r = expect(v.request("POST", url + "?name=knock", "admin", {"object": b64, "maps": decl}), 201)
    check(r.json["sha256"] == sha and r.json["maps"] == ["knock_config", "knock_state"]
          and r.json["current"] is True, "kept with its maps", r)
    r = expect(v.request("POST", url + "?name=knock", "admin", {"object": b64, "maps": decl}), 200)
    check(r.json["unchanged"] is True, "the same again", r)
    r = expect(v.request("POST", url + "?name=knock", "admin",
                         {"object": b64, "maps": decl.replace("4096", "16")}), 409, "conflict")
    check("kept already with another maps declaration" in r.json["message"], "other maps", r)
    r = expect(v.request("POST", url + "?name=knock", "admin", obj, bin_), 422)
    check("send its maps declaration with it" in r.json["message"], "the object alone", r)

    # A policy runs it by name: its maps are there, empty, and filled through the API.
    cur = expect(v.get("/api/v1/policy", "viewer"), 200).json
    text = POLICY.replace("    dport: [80, 443]\n    action: allow\n",
                          "    dport: [80, 443]\n    action: allow\n    bpf: upload:knock\n")
    expect(v.request("PUT", "/api/v1/policy", "admin", text, "application/yaml"), 200)
    items = expect(v.get("/api/v1/bpf/maps", "viewer"), 200).json["items"]
    m = {x["name"]: x for x in items}
    check(m["knock_config"]["rule"] == "web" and m["knock_config"]["count"] == 0
          and m["knock_config"]["file"] is None
          and m["knock_config"]["program"].endswith(f"/{sha}.o")
          and m["knock_state"]["key"] == "addr", "the uploaded program's maps", items)
    r = expect(v.request("PUT", "/api/v1/bpf/maps/knock_config/entries", "operator",
                         {"entries": [{"key": k, "value": p} for k, p in
                                      enumerate((7001, 7002, 7003, 22, 10))]}), 200)
    check(r.json["count"] == 5 and r.json["rules"] == ["web"], "filled through the API", r)
    # A new policy version (another text) starts with them: carried, not emptied.
    epoch = expect(v.get("/api/v1/policy", "viewer"), 200).json["epoch"]
    expect(v.request("PUT", "/api/v1/policy", "admin", text + "# again\n", "application/yaml"),
           200)
    check(expect(v.get("/api/v1/policy", "viewer"), 200).json["epoch"] > epoch, "a new version")
    r = expect(v.get("/api/v1/bpf/maps/knock_config/entries", "viewer"), 200)
    check(r.json["count"] == 5 and {"key": "3", "value": 22} in r.json["items"],
          "the API's entries carried into the new version", r)

    # Removed once no policy runs it, with its declaration.
    expect(v.request("DELETE", f"{url}/{sha}", "admin"), 409, "conflict")
    expect(v.request("PUT", "/api/v1/policy", "admin", {"text": cur["text"]}), 200)
    r = expect(v.request("DELETE", f"{url}/{sha}", "admin"), 200)
    check(r.json["names"] == [{"name": "knock", "now": None}], "the name went with it", r)
    pdir = os.path.join(v.work, "bpf-programs")
    check(not os.path.exists(os.path.join(pdir, sha + ".maps.yaml"))
          and not os.path.exists(os.path.join(pdir, sha + ".o")), "its files are gone")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--vigilctl")
    ap.add_argument("--bpf-dir", help="the built eBPF objects (build/bpf), for the upload test")
    ap.add_argument("-k", dest="only", help="run only tests whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("api: needs root (EAL); skipped")
        return 77
    ctx = {"vigilctl": args.vigilctl, "bpf_dir": args.bpf_dir}
    # The dashboard's files, and a FIFO and a directory next to them (served: regular files).
    www = tempfile.mkdtemp(prefix="vigil-api-www-")
    shutil.copy(os.path.join(apilib.ROOT, "mgmt", "www", "index.html"), www)
    os.mkfifo(os.path.join(www, "pipe.js"))
    os.mkdir(os.path.join(www, "sub"))
    v = apilib.Vigild(args.vigild, extra_mgmt={"www": www})
    v.argv0 = args.vigild
    failed = []
    try:
        for fn in TESTS:
            if args.only and args.only not in fn.__name__:
                continue
            t0 = time.time()
            try:
                fn(v, ctx)
                print(f"ok    {fn.__name__} ({time.time() - t0:.1f} s)")
            except Exception as e:  # noqa: BLE001 (report every kind of failure the same way)
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
        shutil.rmtree(www, ignore_errors=True)
    print(f"api: {len(failed)} failed" if failed else "api: all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
