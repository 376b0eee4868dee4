#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""suricata-verify cases replayed through vigild, and judged against their test.yaml.

Every case folder (test.yaml, a capture, a rule file) under the suricata-verify folders of the
shared test data is run through the real appliance: vigild on two net_pcap ports, the capture
as the RX of port "a", port "b"'s TX to a scratch capture, the case's rules as signatures, the
capture's clock, every flow inspected. Each `filter` check of test.yaml is then evaluated on
what vigild wrote (its EVE log; see README.md beside this file for how each construct maps),
and the case is classified:

  pass         every applicable check holds
  fail         Vigil could be judged and disagrees (the difference is printed)
  unsupported  Vigil cannot be judged on the case, for the reason given (a rule keyword Vigil
               refuses, an EVE event type or field it does not write, a requirement, ...)

The expected state of every case is in expected.txt (name, status, reason). The exit status
is 1 when a case expected to pass does not (a regression), 0 otherwise, 77 when the test data
is absent (meson: skipped), 2 on usage errors. Cases that newly pass and other changes are
printed so that expected.txt is updated deliberately (--update rewrites it).
"""
import argparse
import collections
import concurrent.futures
import copy
import glob
import ipaddress
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import pcapfile  # noqa: E402

TESTDATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "testdata"))
DEFAULT_DIRS = ["suricata-verify", "suricata-verify-more"]

# The Suricata version the cases are judged as: the suite's commit targets Suricata's main
# branch (9.0 in development), so min-version requirements hold and lt-version checks (older
# behaviour) are skipped, as Suricata 9's own run of the suite would.
AS_VERSION = (9, 0, 0)

# Build features (test.yaml `requires: features`) that Vigil has: JA3/JA3S are computed by the
# TLS parser (applayer/al_tls.c). Others (MAGIC: libmagic file types, ...) it lacks.
FEATURES = {"HAVE_JA3"}

# EVE event types and fields Vigil writes (ctl_alert_to_json(), and the application-layer
# objects of ctl_alert_app.h); a field a record of the case carries counts as written too.
# "drop" and "stats" records are built by this harness from vigild's output capture and
# --stats-json (see README.md). A check on anything else is unsupported.
APP_FIELDS = {
    "app_proto", "vigil.app_cut",
    "http", "http.hostname", "http.url", "http.http_user_agent", "http.http_content_type",
    "http.http_method", "http.protocol", "http.status", "http.redirect", "http.length",
    "dns", "dns.version", "dns.type", "dns.id", "dns.flags", "dns.qr", "dns.aa", "dns.tc",
    "dns.rd", "dns.ra", "dns.z", "dns.opcode", "dns.rcode", "dns.queries",
    "dns.queries.rrname", "dns.queries.rrtype", "dns.queries.rrname_truncated",
    "tls", "tls.subject", "tls.issuerdn", "tls.serial", "tls.fingerprint", "tls.sni",
    "tls.version", "tls.ja3", "tls.ja3.hash", "tls.ja3s", "tls.ja3s.hash",
    "ssh", "ssh.client", "ssh.client.proto_version", "ssh.client.software_version",
    "ssh.server", "ssh.server.proto_version", "ssh.server.software_version",
    "smtp", "smtp.helo", "smtp.mail_from", "smtp.rcpt_to",
    "ftp", "ftp.command", "ftp.command_data", "ftp.completion_code", "ftp.reply",
    "ftp.reply_received",
}
SCHEMA = {
    "alert": {"timestamp", "flow_id", "in_iface", "event_type", "src_ip", "src_port",
              "dest_ip", "dest_port", "proto", "alert", "alert.action", "alert.gid",
              "alert.signature_id", "alert.rev", "alert.signature", "alert.category",
              "alert.severity", "flow.pkts_toserver", "flow.pkts_toclient",
              "flow.bytes_toserver", "flow.bytes_toclient", "pcap_cnt"} | APP_FIELDS,
    "drop": {"event_type", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "pcap_cnt",
             "alert.signature_id", "alert.gid", "alert.rev"},
    "stats": {"event_type", "stats", "stats.decoder", "stats.decoder.pkts",
              "stats.decoder.bytes", "stats.decoder.invalid", "stats.decoder.ipv4",
              "stats.decoder.ipv6", "stats.decoder.tcp", "stats.decoder.udp",
              "stats.decoder.vlan", "stats.tcp", "stats.tcp.reassembly_gap", "stats.ips",
              "stats.ips.accepted", "stats.ips.blocked"},
}

# Suricata's alert flow counters and the same counters in Vigil's EVE alert (at the alert).
ALERT_ALIASES = {
    "flow.pkts_toserver": "vigil.pkts_toserver",
    "flow.pkts_toclient": "vigil.pkts_toclient",
    "flow.bytes_toserver": "vigil.bytes_toserver",
    "flow.bytes_toclient": "vigil.bytes_toclient",
}


class Unknown:
    """A field whose value the harness cannot establish for one record: pcap_cnt when two
    packets of the capture share the alert's timestamp, a field of an alert the EVE log merged
    into an earlier line."""

    def __repr__(self):
        return "<unknown>"


UNKNOWN = Unknown()

# A record of which only some fields are known (an alert the EVE log merged into an earlier
# line): any other field is UNKNOWN rather than absent.
PARTIAL = "__partial__"
REPEAT_KNOWN = ("event_type", "src_ip", "dest_ip", "dest_port", "proto", "in_iface", "alert")

# alerts.dedup_window given to vigild (its minimum).
DEDUP_WINDOW_MS = 1000


# --------------------------------------------------------------------------------------------
# test.yaml args and suricata.yaml settings


# --set keys whose effect Vigil has by construction, or which change nothing checked here.
SET_NOOP = {
    "stream.inline": "Vigil inspects TCP streams inline, segment by segment",
    "detect.guess-applayer-tx": "which transaction an alert is logged with (not checked)",
    "stats.decoder-events": "statistics output only",
    "mpm-algo": "pattern matcher choice (Vigil uses Hyperscan)",
    "spm-algo": "pattern matcher choice (Vigil uses Hyperscan)",
    "packet-alert-max": "Vigil reports up to 16 matches per packet",
    "app-layer.protocols.http.libhtp.default-config.decompression-time-limit":
        "Vigil limits decompression by size and ratio, not by time",
}
# libhtp limits and the applayer settings that are the same limit.
SET_APPLAYER = {
    "app-layer.protocols.http.libhtp.default-config.request-body-limit": ("http",
                                                                          "request_body"),
    "app-layer.protocols.http.libhtp.default-config.response-body-limit": ("http",
                                                                           "response_body"),
}


def suricata_size(v):
    """Suricata's sizes (100kb, 1mb, 4096) as vigil.yaml sizes."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmg]?)b?\s*", str(v).lower())
    if not m:
        return None
    return m.group(1) + m.group(2).upper()


SET_NOOP_VALUES = {
    # Suricata's default value: nothing to map.
    ("stream.async-oneside", "false"),
    ("stream.midstream", "false"),
    # Vigil has no exception policies: it goes on inspecting, which is what ignore means.
    ("exception-policy", "ignore"),
    ("app-layer.error-policy", "ignore"),
}
ARG_NOOP = {
    "--runmode=single": "one worker is what the harness runs",
    "--no-random": "Vigil has no randomised hashing to turn off",
}


def parse_args_list(raw):
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    out = []
    for a in raw:
        out += [x for x in re.split(r"\s+", str(a)) if x]
    return out


def map_args(case, args, cfg, notes, blockers):
    """test.yaml args to vigild config; what cannot be mapped goes to blockers."""
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a == "-k" and nxt is not None:
            if nxt == "none":
                cfg.setdefault("parse", {})["ipv4_checksum"] = False
                notes.append("-k none: parse.ipv4_checksum false")
            else:
                blockers.append(f"option -k {nxt}")
            i += 2
            continue
        if a == "--simulate-ips":
            case.ips = True
            i += 1
            continue
        if a == "--set" and nxt is not None:
            key, _, val = nxt.partition("=")
            i += 2
            if (key, val.lower()) in SET_NOOP_VALUES:
                continue
            if key == "stream.midstream" and val.lower() in ("true", "yes", "1"):
                cfg.setdefault("flows", {})["midstream"] = True
                notes.append("stream.midstream=true: flows.midstream true")
                continue
            if key in SET_APPLAYER:
                size = suricata_size(val)
                if size is not None:
                    path = SET_APPLAYER[key]
                    cfg.setdefault("applayer", {}).setdefault(path[0], {})[path[1]] = size
                    notes.append(f"{key}={val}: applayer.{path[0]}.{path[1]} {size}")
                    continue
            if key in SET_NOOP:
                notes.append(f"{key}: {SET_NOOP[key]}")
                continue
            blockers.append(f"option --set {key}")
            continue
        if a in ARG_NOOP:
            i += 1
            continue
        blockers.append(f"option {a}")
        i += 1


# Suricata's defaults for settings some cases restate: nothing to map.
YAML_DEFAULTS = {
    "app-layer.protocols.smtp.raw-extraction": False,
    "app-layer.protocols.smtp.mime.decode-mime": True,
    "app-layer.protocols.smtp.mime.decode-base64": True,
    "app-layer.protocols.smtp.mime.decode-quoted-printable": True,
}
YAML_NOOP = {
    "detect.guess-applayer-tx": "which transaction an alert is logged with (not checked)",
    "detect.stream-tx-log-limit": "how many transactions a stream alert logs (not checked)",
}


def leaves(prefix, v):
    if isinstance(v, dict) and v:
        for k, x in v.items():
            yield from leaves(f"{prefix}.{k}", x)
    else:
        yield prefix, v


def map_suricata_yaml(path, cfg, notes, blockers):
    """A case's own suricata.yaml: outputs are Suricata's logging (the harness checks what Vigil
    writes), vars become signature variables, defaults and logging details change nothing;
    other settings have no Vigil equivalent here."""
    try:
        with open(path) as f:
            y = yaml.safe_load(f) or {}
    except yaml.YAMLError as e:
        blockers.append(f"suricata.yaml unreadable ({e.__class__.__name__})")
        return
    for key, val in y.items():
        if key in ("outputs", "stats", "logging"):
            continue
        if key == "vars" and isinstance(val, dict):
            sv = cfg.setdefault("signatures", {}).setdefault("vars", {})
            for group, dest in (("address-groups", "address"), ("port-groups", "port")):
                for name, v in (val.get(group) or {}).items():
                    sv.setdefault(dest, {})[name] = str(v)
            notes.append("suricata.yaml vars: signatures.vars")
            continue
        if key == "include":
            blockers.append("suricata.yaml include (another Suricata configuration)")
            continue
        if key == "firewall":
            blockers.append("firewall rules (Suricata's firewall mode)")
            continue
        for leaf, v in leaves(key, val):
            if leaf in YAML_DEFAULTS and YAML_DEFAULTS[leaf] == v:
                continue
            if leaf.endswith(".enabled") and v is True:
                continue
            if leaf in YAML_NOOP:
                notes.append(f"suricata.yaml {leaf}: {YAML_NOOP[leaf]}")
                continue
            blockers.append(f"suricata.yaml {leaf}")
            break


# --------------------------------------------------------------------------------------------
# Requirements and versions

def parse_version(v):
    m = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", str(v).strip())
    if not m:
        return None
    return tuple(int(x) if x is not None else None for x in m.groups())


def version_cmp(a, b):
    """Compare a full version a with a partial one b on b's components."""
    for x, y in zip(a, b):
        if y is None:
            return 0
        if x != y:
            return -1 if x < y else 1
    return 0


def requirement_problem(req):
    """Why a `requires` block does not hold for Vigil, or None."""
    for key, val in (req or {}).items():
        if key == "min-version":
            if version_cmp(AS_VERSION, parse_version(val)) < 0:
                return f"requires Suricata >= {val}"
        elif key == "lt-version":
            if version_cmp(AS_VERSION, parse_version(val)) >= 0:
                return f"requires Suricata < {val}"
        elif key == "gt-version":
            if version_cmp(AS_VERSION, parse_version(val)) <= 0:
                return f"requires Suricata > {val}"
        elif key == "version":
            if version_cmp(AS_VERSION, parse_version(val)) != 0:
                return f"requires Suricata {val}"
        elif key == "features":
            for feat in val or []:
                if feat not in FEATURES:
                    return f"requires feature {feat}"
        elif key == "pcap":
            continue
        elif key == "env":
            for e in val or []:
                if e not in os.environ:
                    return f"requires environment {e}"
        elif key in ("os", "arch"):
            continue
        else:
            return f"requires {key}"
    return None


# --------------------------------------------------------------------------------------------
# Captures

# Link layers vigild cannot take (net_pcap hands every frame over as Ethernet) and the size of
# their header: the harness rewrites such captures with an Ethernet header of its own.
LINK_HEADERS = {0: ("BSD loopback", 4), 101: ("raw IP", 0), 12: ("raw IP", 0),
                14: ("raw IP", 0), 113: ("Linux cooked", 16), 108: ("OpenBSD loopback", 4)}


def ethertype_for(linktype, data):
    if linktype in (0, 108):
        if len(data) < 4:
            return None
        fam = struct.unpack("<I" if linktype == 0 else ">I", data[:4])[0]
        if fam > 0xFFFF:
            fam = struct.unpack(">I" if linktype == 0 else "<I", data[:4])[0]
        return 0x0800 if fam == 2 else 0x86DD if fam in (10, 24, 28, 30) else None
    if linktype in (101, 12, 14):
        return 0x0800 if data and data[0] >> 4 == 4 else 0x86DD if data and data[0] >> 4 == 6 \
            else None
    if linktype == 113:
        return struct.unpack(">H", data[14:16])[0] if len(data) >= 16 else None
    return None


def prepare_capture(src, work):
    """Returns (path for net_pcap, packets as vigild sees them, header delta, note) or raises
    ValueError with the reason the capture cannot be used."""
    size = os.path.getsize(src)
    if size == 0:
        raise ValueError("capture file empty (not in the test data)")
    with open(src, "rb") as f:
        magic = f.read(4)
    if magic == b"\x0a\x0d\x0d\x0a":
        raise ValueError("capture format pcapng (the harness reads classic pcap)")
    linktype, pkts = pcapfile.read(src)
    if linktype == 1:
        return src, pkts, 0, None
    if linktype not in LINK_HEADERS:
        raise ValueError(f"capture link type {linktype}")
    name, hlen = LINK_HEADERS[linktype]
    out = []
    for p in pkts:
        et = ethertype_for(linktype, p.data)
        if et is None:
            raise ValueError(f"capture link type {linktype} ({name}): a frame of unknown "
                             "protocol")
        eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack(">H", et)
        data = eth + p.data[hlen:]
        out.append(pcapfile.Packet(p.ts_ns, data, p.orig_len - hlen + 14))
    path = os.path.join(work, "input-eth.pcap")
    pcapfile.write(path, out)
    return path, out, 14 - hlen, f"capture link type {linktype} ({name}) rewritten as Ethernet"


def decode_tuple(data):
    """(proto name as EVE writes it, src, sport, dst, dport) of an Ethernet frame, or None."""
    off, et = 14, struct.unpack(">H", data[12:14])[0] if len(data) >= 14 else 0
    while et in (0x8100, 0x88A8) and len(data) >= off + 4:
        et = struct.unpack(">H", data[off + 2:off + 4])[0]
        off += 4
    if et == 0x0800 and len(data) >= off + 20:
        ihl = (data[off] & 15) * 4
        proto = data[off + 9]
        src = str(ipaddress.IPv4Address(data[off + 12:off + 16]))
        dst = str(ipaddress.IPv4Address(data[off + 16:off + 20]))
        frag = struct.unpack(">H", data[off + 6:off + 8])[0] & 0x1FFF
        l4 = off + ihl if frag == 0 else None
    elif et == 0x86DD and len(data) >= off + 40:
        proto = data[off + 6]
        src = str(ipaddress.IPv6Address(data[off + 8:off + 24]))
        dst = str(ipaddress.IPv6Address(data[off + 24:off + 40]))
        l4 = off + 40
        while proto in (0, 43, 60) and len(data) >= l4 + 8:
            proto, l4 = data[l4], l4 + 8 + data[l4 + 1] * 8
        if proto == 44:
            l4 = None
    else:
        return None
    sport = dport = None
    if l4 is not None and proto in (6, 17, 132) and len(data) >= l4 + 4:
        sport, dport = struct.unpack(">HH", data[l4:l4 + 4])
    return PROTO_NAMES.get(proto, str(proto)), src, sport, dst, dport


# net_pcap writes at most this much of a frame that spans several mbufs
# (RTE_ETHER_MAX_JUMBO_FRAME_LEN): a longer frame leaves cut, which is not Vigil's doing.
PCAP_TX_MAX = 16128

PROTO_NAMES = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "IPv6-ICMP", 132: "SCTP"}
# The events' names (ctl_events.c) and the EVE log's (ctl_proto_name()) as numbers.
PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132}


def proto_key(name):
    n = str(name or "").lower()
    return PROTO_NUMBERS.get(n, int(n) if n.isdigit() else n)


# --------------------------------------------------------------------------------------------
# Rejected rules, from vigild's log

REJECT_RE = re.compile(r"^signatures: (?P<file>[^:]+):(?P<line>\d+)(?::\d+)?: "
                       r"(?:(?:error|warning): )?(?:sid (?P<sid>\d+): )?(?P<msg>.*) "
                       r"\((?P<reason>skipped: Vigil does not support this|[a-z_]+)\)$")


def reject_reason(msg, reason):
    """A short, countable reason for one rejected rule."""
    m = re.search(r"(?:unsupported|unknown) keyword '([^']+)'", msg)
    if m:
        return f"rule keyword {m.group(1)}"
    m = re.search(r"pcre modifier '([^']+)'", msg)
    if m:
        return f"rule pcre modifier /{m.group(1)}"
    m = re.search(r"keyword '([^']+)'", msg)
    if m:
        return f"rule keyword {m.group(1)}"
    m = re.search(r"protocol '([^']+)'", msg)
    if m:
        return f"rule protocol {m.group(1)}"
    # The message up to its first explanation, without numbers (they differ per rule).
    short = re.split(r"[:(;]| e\.g\.", msg)[0].strip().rstrip(",")
    short = re.sub(r"\b\d+\b", "N", short)
    if reason.startswith("skipped"):
        return f"rule rejected: {short}"
    return f"rule refused ({reason}): {short}"


def rejected_rules(stderr):
    out = []
    for line in stderr.splitlines():
        m = REJECT_RE.match(line.strip())
        if m and m.group("file").endswith(".rules"):
            out.append({"line": int(m.group("line")), "sid": m.group("sid"),
                        "msg": m.group("msg"), "reason": m.group("reason"),
                        "short": reject_reason(m.group("msg"), m.group("reason"))})
    return out


# --------------------------------------------------------------------------------------------
# Records: what Vigil wrote, in the shape filters are evaluated on

def read_jsonl(path):
    out = []
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        out.append({"event_type": "<malformed>", "raw": line[:200]})
    return out


def build_records(run):
    """EVE records to evaluate. Vigil's EVE log merges repeats of an alert (same signature,
    addresses, protocol, destination port) within alerts.dedup_window (1 s at least), where
    Suricata logs every match: every worker alert event (--events) is one alert record, the
    EVE line of its signature and flow with the event's own port, flow and counters. Drops are
    the input packets missing from the output port; stats come from --stats-json."""
    eve = read_jsonl(run["eve"])
    events = read_jsonl(run["events"])
    notes = []
    records = []
    eve_alerts = [e for e in eve if e.get("event_type") == "alert"]
    others = [e for e in eve if e.get("event_type") != "alert"]
    by_ts = run["by_ts"]

    def key_dedup(e):
        # vigild dedups by the flow's orientation (its initiator first); the EVE line names the
        # packet's sides and keeps the flow's under "flow".
        a, f = e.get("alert", {}), e.get("flow", e)
        return (a.get("gid"), a.get("signature_id"), f.get("src_ip"), f.get("dest_ip"),
                f.get("dest_port"), proto_key(e.get("proto")))

    # ctl_alert_dedup_submit() replayed: an alert starts a new EVE line unless one of its key
    # started less than the window before it; each line goes to the alert that started it.
    lines = collections.defaultdict(collections.deque)
    for i, e in enumerate(eve_alerts):
        lines[key_dedup(e)].append(i)
    window_start, current = {}, {}
    ev_alerts = [e for e in events if e.get("type") == "alert"]
    for ev in ev_alerts:
        al = ev.get("alert", {})
        t = ev.get("time_ns", 0)
        k = (al.get("gid"), al.get("sid"), ev.get("src"), ev.get("dst"), ev.get("dport"),
             proto_key(ev.get("proto")))
        start = window_start.get(k)
        repeat = start is not None and start <= t < start + DEDUP_WINDOW_MS * 1000000
        if not repeat:
            window_start[k] = t
            current[k] = lines[k].popleft() if lines[k] else None
        line = current[k]
        # The packet's sides: a reply's source is the flow's responder.
        fwd = al.get("to_server", True)
        psrc, pdst = (ev.get("src"), ev.get("dst")) if fwd else (ev.get("dst"), ev.get("src"))
        psport, pdport = ((ev.get("sport"), ev.get("dport")) if fwd
                          else (ev.get("dport"), ev.get("sport")))
        if line is None:
            notes.append(f"alert event sid {al.get('sid')} has no EVE line")
            rec = {"event_type": "alert", "src_ip": psrc, "dest_ip": pdst,
                   "dest_port": pdport,
                   "proto": PROTO_NAMES.get(proto_key(ev.get("proto")), ev.get("proto")),
                   "alert": {"gid": al.get("gid"), "signature_id": al.get("sid"),
                             "rev": al.get("rev")}, PARTIAL: True}
        elif repeat:
            # A repeat has no line of its own: what is the same for the whole key is known,
            # anything the line says about its own packet or transaction is not.
            src = eve_alerts[line]
            rec = {k2: copy.deepcopy(src[k2]) for k2 in REPEAT_KNOWN if k2 in src}
            rec.update({"src_ip": psrc, "dest_ip": pdst, "dest_port": pdport})
            rec[PARTIAL] = True
        else:
            rec = copy.deepcopy(eve_alerts[line])
        rec["flow_id"] = (int(ev.get("worker", 0)) << 32) | int(ev.get("flow_id", 0))
        if psport is not None and ("src_port" in rec or PARTIAL in rec):
            rec["src_port"] = psport
        rec.setdefault("alert", {})["action"] = "blocked" if al.get("dropped") else \
            rec["alert"].get("action", "allowed")
        vg = rec.setdefault("vigil", {})
        pk, by = ev.get("packets", [None, None]), ev.get("bytes", [None, None])
        delta = run["delta"]
        vg["pkts_toserver"], vg["pkts_toclient"] = pk[0], pk[1]
        if None not in pk and None not in by:
            # Bytes as Suricata counts them on the original link layer.
            vg["bytes_toserver"] = by[0] - pk[0] * delta
            vg["bytes_toclient"] = by[1] - pk[1] * delta
        cands = by_ts.get(t, [])
        rec["pcap_cnt"] = cands[0] if len(cands) == 1 else UNKNOWN
        records.append(rec)
    for k, q in lines.items():
        for i in q:
            notes.append(f"EVE alert sid {k[1]} without a worker event")
            records.append(eve_alerts[i])
    records += others
    # Drops: input packets that did not leave on the other port, in order.
    out = run["out"]
    j = 0
    drop_alerts = collections.defaultdict(list)
    for ev in ev_alerts:
        if ev.get("alert", {}).get("dropped"):
            drop_alerts[ev.get("time_ns")].append(ev["alert"])
    for idx, p in enumerate(run["in"], 1):
        if j < len(out) and (out[j] == p.data or (len(out[j]) == PCAP_TX_MAX < len(p.data) and
                                                  p.data.startswith(out[j]))):
            j += 1
            continue
        t = decode_tuple(p.data)
        rec = {"event_type": "drop"}
        if t:
            rec.update({"proto": t[0], "src_ip": t[1], "dest_ip": t[3]})
            if t[2] is not None:
                rec.update({"src_port": t[2], "dest_port": t[4]})
        rec["pcap_cnt"] = idx
        da = drop_alerts.get(p.ts_ns)
        if da:
            rec["alert"] = {"signature_id": da[0].get("sid"), "gid": da[0].get("gid"),
                            "rev": da[0].get("rev")}
        records.append(rec)
    if j < len(out):
        notes.append(f"{len(out) - j} output packets not matched to the input")
    # Stats: one record at the end, as Suricata writes its last.
    st = run["stats"]
    if st is not None:
        run["limits"] = limits_hit(st)
        errs = {k: v for k, v in (st.get("parse", {}).get("errors") or {}).items() if v}
        if errs:
            notes.append(f"vigild's parser: {st['parse'].get('dropped', 0)} packets dropped, "
                         f"errors {errs}")
        records.append({"event_type": "stats", "stats": stats_record(st, run)})
    return records, notes


def limits_hit(st):
    """Counters that say the harness's small settings, not Vigil's logic, decided something."""
    hit = []
    for path in (("events", "lost"), ("flows", "overflow"), ("inspection", "no_slot"),
                 ("applayer", "memcap"), ("applayer", "flows_refused")):
        v = st
        for k in path:
            v = v.get(k, {}) if isinstance(v, dict) else {}
        if isinstance(v, int) and v > 0:
            hit.append(f"{'.'.join(path)} {v}")
    return hit


def stats_record(st, run):
    ports = {p["name"]: p for p in st.get("ports", [])}
    a = ports.get("a", {})
    b = ports.get("b", {})
    parse = st.get("parse", {})
    pk = a.get("rx_packets", 0)
    s = {"decoder": {"pkts": pk, "bytes": a.get("rx_bytes", 0) - pk * run["delta"],
                     "invalid": sum(parse.get("errors", {}).values())
                     if isinstance(parse.get("errors"), dict) else 0,
                     "ipv4": parse.get("ipv4", 0), "ipv6": parse.get("ipv6", 0),
                     "tcp": parse.get("tcp", 0), "udp": parse.get("udp", 0),
                     "vlan": parse.get("vlan", 0)},
         "tcp": {"reassembly_gap": st.get("inspection", {}).get("stream_gaps", 0)}}
    if run["ips"]:
        s["ips"] = {"accepted": b.get("tx_packets", 0),
                    "blocked": sum(p.get("dropped", 0) for p in st.get("ports", []))}
    return s


# --------------------------------------------------------------------------------------------
# Filters

def find_value(name, obj):
    """Suricata-verify's dotted lookup: a.b, a[0].b, a.__len; None when absent."""
    for part in name.split("."):
        if part == "__len":
            try:
                return len(obj)
            except TypeError:
                return -1
        if part in ("__contains", "__find", "__startswith", "__endswith"):
            break
        m = re.match(r"^(.*)\[(\d+)\]$", part)
        key, index = (m.group(1), int(m.group(2))) if m else (part, None)
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, dict) and key not in obj and obj.get(PARTIAL):
            return UNKNOWN
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
        if index is not None:
            try:
                obj = obj[index]
            except (IndexError, KeyError, TypeError):
                return None
    return obj


def schema_path(key):
    """The dotted field path a match key names, without indexes and operators."""
    parts = []
    for part in key.split("."):
        if part.startswith("__"):
            break
        parts.append(re.sub(r"\[\d+\]$", "", part))
    return ".".join(parts)


def flat_paths(obj, prefix=""):
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == PARTIAL:
                continue
            p = f"{prefix}.{k}" if prefix else k
            out.add(p)
            out |= flat_paths(v, p)
    elif isinstance(obj, list):
        for v in obj:
            out |= flat_paths(v, prefix)
    return out


def expand_match(match):
    """Nested expected objects ({"alert": {"signature_id": 1, ...}}) as dotted keys: Vigil's
    records carry fields Suricata's do not, so an object matches on the fields it names."""
    out = {}
    for k, v in match.items():
        if isinstance(v, dict) and k not in ("has-key", "not-has-key"):
            for k2, v2 in expand_match(v).items():
                out[f"{k}.{k2}"] = v2
        else:
            out[k] = v
    return out


def value_matches(key, expected, val):
    if val is UNKNOWN:
        return None
    if key.endswith("__find") or key.endswith("__contains"):
        return isinstance(val, (str, list)) and expected in val
    if key.endswith("__startswith"):
        return isinstance(val, str) and val.startswith(expected)
    if key.endswith("__endswith"):
        return isinstance(val, str) and val.endswith(expected)
    return val == expected


def record_matches(match, rec, unknown_keys):
    """True, False, or None when a value the harness does not know decides (its key is added to
    unknown_keys)."""
    unknown = []
    for key, expected in match.items():
        if key in ("has-key", "not-has-key"):
            keys = expected if isinstance(expected, list) else [expected]
            for k in keys:
                val = find_value(alias(k, rec), rec)
                if val is UNKNOWN:
                    unknown.append(k)
                elif (val is None) == (key == "has-key"):
                    return False
            continue
        val = find_value(alias(key, rec), rec)
        r = value_matches(key, expected, val)
        if r is None:
            unknown.append(key)
        elif not r:
            return False
    unknown_keys.update(unknown)
    return None if unknown else True


def alias(key, rec):
    if rec.get("event_type") == "alert":
        for a, b in ALERT_ALIASES.items():
            if key == a or key.startswith(a + "."):
                return b + key[len(a):]
    return key


def undecided(keys):
    return ("EVE field not known for every record: " +
            ", ".join(sorted(schema_path(k) for k in keys)))


def evaluate_filter(flt, records, written):
    """(status, detail): status pass, fail, unsupported or skipped."""
    req = dict(flt.get("requires") or {})
    for k in ("version", "min-version", "lt-version"):
        if k in flt:
            req[k] = flt[k]
    if "feature" in flt:
        req["features"] = [flt["feature"]]
    why = requirement_problem(req)
    if why:
        return "skipped", why
    if "filename" in flt:
        return "unsupported", f"filter on file {flt['filename']}"
    match = expand_match(flt.get("match") or {})
    et = match.get("event_type")
    types = [et] if et is not None else sorted(written)
    if et is not None and et not in written:
        return "unsupported", f"EVE event type {et}"
    # Every field the filter names must be one Vigil writes for that event type.
    for key, val in match.items():
        names = val if key in ("has-key", "not-has-key") else [key]
        names = names if isinstance(names, list) else [names]
        for n in names:
            p = schema_path(n)
            if p == "event_type":
                continue
            if not any(p in written.get(t, set()) or alias(p, {"event_type": t}) in
                       written.get(t, set()) for t in types):
                return "unsupported", f"EVE field {(et + ':') if et else ''}{p}"
    certain = uncertain = 0
    unknown_keys = set()
    for rec in records:
        r = record_matches(match, rec, unknown_keys)
        if r is True:
            certain += 1
        elif r is None:
            uncertain += 1
    want = flt.get("count")
    desc = json.dumps(flt.get("match"), sort_keys=True, default=str)
    if want is None:
        if certain > 0:
            return "pass", ""
        if uncertain:
            return "unsupported", undecided(unknown_keys)
        return "fail", f"expected at least 1 {desc}, got 0"
    if uncertain and certain <= want <= certain + uncertain:
        return "unsupported", undecided(unknown_keys)
    if certain == want:
        return "pass", ""
    got = f"{certain}" + (f" (+{uncertain} undecided)" if uncertain else "")
    return "fail", f"expected {want}, got {got}: {desc}" + nearest(match, records, et)


def nearest(match, records, et):
    """The fields in which the closest record of the filter's type differs, for diagnosis."""
    best = None
    for rec in records:
        if et is not None and rec.get("event_type") != et:
            continue
        diff = []
        for key, expected in match.items():
            if key in ("has-key", "not-has-key"):
                continue
            val = find_value(alias(key, rec), rec)
            if value_matches(key, expected, val) is False:
                diff.append(f"{key}: {val!r}")
        if diff and (best is None or len(diff) < len(best)):
            best = diff
    if not best or len(best) > 6:
        return ""
    return "; nearest record has " + ", ".join(best)


# --------------------------------------------------------------------------------------------
# One case

class Case:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path.rstrip("/"))
        self.status = None
        self.reason = ""
        self.details = []
        self.checks = []  # (status, detail) per check
        self.pending = None
        self.duration = 0.0
        self.ips = False
        self.absence_only = False


def resolve_capture(case, t):
    """The capture a case runs on: test.yaml `pcap:` (the copy beside the case first, as
    PCAP-FROM says), else the single *.pcap of the folder."""
    if "pcap" in t:
        if not t["pcap"]:
            return None, "case runs without a capture"
        local = os.path.join(case.path, os.path.basename(str(t["pcap"])))
        rel = os.path.normpath(os.path.join(case.path, str(t["pcap"])))
        for p in (local, rel):
            if os.path.isfile(p) and os.path.getsize(p) > 0:
                return p, None
        for p in (local, rel):
            if os.path.isfile(p):
                return p, None
        return None, "capture missing (not in the test data)"
    pcaps = sorted(glob.glob(os.path.join(case.path, "*.pcap")) +
                   glob.glob(os.path.join(case.path, "*.pcapng")))
    if not pcaps:
        return None, "capture missing (not in the test data)"
    if len(pcaps) > 1:
        return None, "more than one capture"
    return pcaps[0], None


def vigild_config(case, work, capture, rules, cfg_extra, args, data_room):
    prefix = f"vgverify{os.getpid()}_{case.index}"
    cfg = {
        "eal": {"file_prefix": prefix, "hugepages": "off", "no_huge_memory": args.memory,
                "args": ["--log-level=lib.eal:error", "--log-level=pmd.net.pcap:error"]},
        "lcores": {"control": 0, "workers": [1]},
        # net_pcap keeps no descriptor rings: small rings and a 4k pool (a quarter of what
        # 1024 descriptors would size) spare each run's start about a quarter of its CPU time.
        "ports": [{"name": "a", "device": f"net_pcap0,rx_pcap={capture},"
                                          f"tx_pcap={work}/out-a.pcap",
                   "rx_desc": 128, "tx_desc": 128},
                  {"name": "b", "device": f"net_pcap1,tx_pcap={work}/out-b.pcap",
                   "rx_desc": 128, "tx_desc": 128}],
        "pairs": [["a", "b"]],
        "mode": "enforce" if case.ips else "dry-run",
        "log": {"level": "warning"},
        "dataplane": {"clock": "packet", "idle_sleep_us": 200},
        "flows": {"max": "1k", "midstream": False},
        "fragments": {"max": 64},
        # Frames must fit one mbuf: vigild inspects only a frame's first segment (see
        # README.md), and captures taken with offloads hold frames beyond any MTU.
        "mempool": {"data_room": data_room, "mbufs": 4095},
        "policy": {"rate_sources": 64},
        "rings": {"events": "64k"},
        "inspection": {"flows": "all", "max_flows": 256},
        # libhtp's default body limits (suricata.yaml: request/response-body-limit 100kb).
        "applayer": {"http": {"request_body": "100K", "response_body": "100K"}},
        "alerts": {"eve_log": f"{work}/eve.json", "dedup_window": f"{DEDUP_WINDOW_MS}ms"},
        # Vigil's own anomaly detectors have no Suricata counterpart.
        "detectors": {d: {"enabled": False} for d in
                      ("port_scan", "syn_flood", "dns_tunnel", "brute_force",
                       "exfiltration", "rate")},
    }
    if rules:
        cfg["signatures"] = {"paths": [rules], "partial_load": True}
        if os.path.exists(CLASSIFICATION):
            cfg["signatures"]["classification"] = CLASSIFICATION
    for section, values in cfg_extra.items():
        if isinstance(values, dict):
            cur = cfg.setdefault(section, {})
            for k, v in values.items():
                if isinstance(v, dict) and isinstance(cur.get(k), dict):
                    cur[k].update(v)
                else:
                    cur[k] = v
        else:
            cfg[section] = values
    if not rules:
        # Suricata runs such a case with --disable-detection.
        cfg.pop("signatures", None)
    return cfg, prefix


# Suricata's classification file (the ET Open copy of the shared test data has the same
# names, descriptions and priorities), so classtypes and categories read as Suricata's.
CLASSIFICATION = os.path.join(TESTDATA, "et-open", "classification.config")


def run_case(case, args):
    t0 = time.monotonic()
    try:
        _run_case(case, args)
    except Exception as e:  # a harness bug must not hide the other cases
        case.status, case.reason = "fail", f"harness error: {e.__class__.__name__}: {e}"
        case.pending = None
    case.duration = time.monotonic() - t0
    return case


def _run_case(case, args):
    try:
        with open(os.path.join(case.path, "test.yaml")) as f:
            t = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        case.status, case.reason = "unsupported", f"test.yaml unreadable ({e.__class__.__name__})"
        return
    blockers, notes, cfg_extra = [], [], {}
    why = requirement_problem(t.get("requires"))
    if why:
        blockers.append(why)
    if t.get("command"):
        blockers.append("case runs its own command")
    if "ips" in case.name.rsplit("_", 1)[-1]:
        case.ips = True  # as suricata-verify does, on the upstream folder's own name
    map_args(case, parse_args_list(t.get("args")), cfg_extra, notes, blockers)
    if os.path.exists(os.path.join(case.path, "suricata.yaml")):
        map_suricata_yaml(os.path.join(case.path, "suricata.yaml"), cfg_extra, notes, blockers)
    rules = sorted(glob.glob(os.path.join(case.path, "*.rules")))
    rule_file = None
    if len(rules) == 1:
        if os.path.basename(rules[0]).endswith("firewall.rules"):
            blockers.append("firewall rules (Suricata's firewall mode)")
        else:
            rule_file = rules[0]
    elif len(rules) > 1:
        blockers.append("firewall rules (Suricata's firewall mode)")
    capture, cap_problem = resolve_capture(case, t)
    if cap_problem:
        blockers.append(cap_problem)
    checks = t.get("checks") or []
    if not checks:
        blockers.append("no checks")
    work = tempfile.mkdtemp(prefix=f"vigil-verify-{case.name}-")
    try:
        run = None
        if capture and not cap_problem:
            try:
                path, pkts, delta, note = prepare_capture(capture, work)
                if note:
                    notes.append(note)
            except ValueError as e:
                blockers.append(str(e))
                path = None
            if path is not None:
                run = run_vigild(case, args, work, path, pkts, delta, rule_file, cfg_extra)
        collect(case, checks, run, blockers, notes)
    finally:
        if args.keep:
            case.details.append(f"scratch kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_vigild(case, args, work, capture, pkts, delta, rule_file, cfg_extra):
    biggest = max((len(p.data) for p in pkts), default=0)
    data_room = args.data_room
    if not args.no_fit_frames:
        data_room = max(data_room, -(-(biggest + 128) // 1024) * 1024)
    cfg, prefix = vigild_config(case, work, capture, rule_file, cfg_extra, args, data_room)
    cfg_path = os.path.join(work, "vigil.yaml")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    run = {"eve": os.path.join(work, "eve.json"), "events": os.path.join(work, "events.jsonl"),
           "delta": delta, "ips": case.ips, "stats": None, "in": pkts, "out": [],
           "rejects": [], "rc": None, "stderr": "", "prefix": prefix}
    cmd = [args.vigild, "-c", cfg_path, "--stop-after-idle", str(args.idle_ms),
           "--stats-json", os.path.join(work, "stats.json"), "--events", run["events"]]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout,
                              errors="replace")
        run["rc"], run["stderr"] = proc.returncode, proc.stderr + proc.stdout
    except subprocess.TimeoutExpired as e:
        run["rc"] = "timeout"
        run["stderr"] = (e.stderr or b"").decode(errors="replace") if isinstance(
            e.stderr, bytes) else (e.stderr or "")
    finally:
        for p in glob.glob(f"/var/run/dpdk/{prefix}") + glob.glob(f"/dev/hugepages/{prefix}*"):
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)
    run["rejects"] = rejected_rules(run["stderr"])
    sp = os.path.join(work, "stats.json")
    if os.path.exists(sp):
        with open(sp) as f:
            run["stats"] = json.load(f)
    ob = os.path.join(work, "out-b.pcap")
    if os.path.exists(ob):
        run["out"] = [p.data for p in pcapfile.read(ob)[1]]
    by_ts = collections.defaultdict(list)
    for i, p in enumerate(pkts, 1):
        by_ts[p.ts_ns].append(i)
    run["by_ts"] = by_ts
    return run


def blocker_rank(b):
    """Which of several reasons names a case: requirements, then the capture, then rules Vigil
    refuses, then configuration it has no equivalent for."""
    for rank, prefix in enumerate(("requires", "capture", "more than one capture",
                                   "case runs", "rule ", "firewall", "option", "suricata.yaml")):
        if b.startswith(prefix):
            return rank
    return 99


def collect(case, checks, run, blockers, notes):
    """What a case's run gave, kept for judging."""
    case.pending = None
    if run is not None and run["rc"] != 0:
        if run["rejects"] and run["rc"] == 1:
            # vigild refuses a rule set with rules it cannot parse at all.
            bad = [r for r in run["rejects"] if not r["reason"].startswith("skipped")]
            blockers.append((bad or run["rejects"])[0]["short"])
        elif run["rc"] == "timeout":
            case.status, case.reason = "fail", "vigild did not stop (timeout)"
            case.details.append(run["stderr"][-1500:])
            return
        else:
            case.status, case.reason = "fail", f"vigild exited with {run['rc']}"
            case.details.append(run["stderr"][-1500:])
            return
    if run is not None and run["rejects"]:
        sids = ", ".join(f"{r['sid']}" for r in run["rejects"] if r["sid"])
        blockers.append(run["rejects"][0]["short"])
        case.details.append(f"rules rejected by vigild (sid {sids}): " +
                            "; ".join(sorted({r['short'] for r in run['rejects']})))
    case.details += notes
    records = None
    if run is not None and run["rc"] == 0:
        records, rnotes = build_records(run)
        case.details += rnotes
        if run.get("limits"):
            # Not Vigil's verdict but the harness's settings: a harness problem to fix.
            case.status = "fail"
            case.reason = "harness limits reached: " + ", ".join(run["limits"])
            return
    case.pending = (checks, records, blockers)


def written_fields(cases):
    written = {k: set(v) for k, v in SCHEMA.items()}
    for c in cases:
        if c.pending and c.pending[1]:
            for rec in c.pending[1]:
                written.setdefault(rec.get("event_type"), set()).update(flat_paths(rec))
    return written


def judge(case, written):
    if case.pending is None:
        return  # decided while running (vigild failed)
    checks, records, blockers = case.pending
    case.pending = None
    results = []
    if records is not None:
        for chk in checks:
            if not isinstance(chk, dict):
                results.append(("unsupported", "check of unknown form"))
            elif "filter" in chk:
                results.append(evaluate_filter(chk["filter"], records, written))
            elif "stats" in chk:
                flt = {"count": 1, "match": {"event_type": "stats"}}
                flt["match"].update({f"stats.{k}": v for k, v in chk["stats"].items()})
                results.append(evaluate_filter(flt, records, written))
            elif "shell" in chk:
                results.append(("unsupported", "shell check"))
            elif "file-compare" in chk:
                results.append(("unsupported", "file-compare check"))
            else:
                results.append(("unsupported", f"check type {next(iter(chk), '?')}"))
    case.checks = results
    for i, (st, d) in enumerate(results, 1):
        if st in ("fail", "unsupported") and d:
            case.details.append(f"check {i}: {st}: {d}")
    if blockers:
        case.status, case.reason = "unsupported", sorted(blockers, key=blocker_rank)[0]
        return
    fails = [(i, d) for i, (st, d) in enumerate(results, 1) if st == "fail"]
    if fails:
        i, d = fails[0]
        more = f" (and {len(fails) - 1} more)" if len(fails) > 1 else ""
        if len(d) > 160:
            d = d[:157] + "..."  # the whole difference is in the details
        case.status, case.reason = "fail", f"check {i}: {d}{more}"
        return
    uns = [d for st, d in results if st == "unsupported"]
    if uns:
        case.status, case.reason = "unsupported", uns[0]
        return
    if not any(st == "pass" for st, _ in results):
        case.status, case.reason = "unsupported", "no check applies to Suricata 9"
        return
    case.status, case.reason = "pass", ""
    # A pass on checks that all expect nothing says less: counted apart in the summary.
    case.absence_only = all(
        (chk.get("filter") or {}).get("count") == 0
        for chk, (st, _) in zip(checks, results) if st == "pass" and isinstance(chk, dict))
    if case.absence_only:
        case.details.append("passes on absence checks only (count: 0)")


# --------------------------------------------------------------------------------------------
# Expected state, summary

def read_expected(path):
    exp = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.rstrip("\n").split("\t")
                exp[parts[0]] = (parts[1] if len(parts) > 1 else "",
                                 parts[2] if len(parts) > 2 else "")
    return exp


def write_expected(path, cases):
    with open(path, "w") as f:
        f.write("# suricata-verify cases through vigild: name<TAB>status<TAB>reason.\n"
                "# Written by tests/verify/run.py --update; a case listed as pass that does not\n"
                "# pass fails the test. Update it deliberately when Vigil gains a feature.\n")
        for c in sorted(cases, key=lambda c: c.name):
            f.write(f"{c.name}\t{c.status}\t{c.reason}\n")


def reason_class(status, reason):
    """What reasons are counted by: a failure's own detail is per case."""
    return "check disagrees" if status == "fail" else reason


def summary(cases):
    by_status = collections.Counter(c.status for c in cases)
    by_reason = collections.Counter((c.status, reason_class(c.status, c.reason))
                                    for c in cases if c.status != "pass")
    return by_status, by_reason


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--cases", action="append",
                    help="a folder of cases, or one case's folder (repeatable; default: the "
                         f"suricata-verify folders of {TESTDATA})")
    ap.add_argument("--only", action="append", help="run only this case (repeatable)")
    ap.add_argument("--expected", default=os.path.join(HERE, "expected.txt"))
    ap.add_argument("--update", action="store_true",
                    help="rewrite the expected file from this run")
    ap.add_argument("--json", help="write the results and summary to this file as JSON")
    ap.add_argument("--markdown", help="write the summary (counts by status and reason) to this "
                    "file as a Markdown table, for README.md")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="vigild instances at once (default 2)")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--idle-ms", type=int, default=200,
                    help="vigild --stop-after-idle (ms)")
    ap.add_argument("--memory", default="128M", help="vigild eal.no_huge_memory")
    ap.add_argument("--data-room", type=int, default=2176,
                    help="vigild mempool.data_room at least (default 2176, vigild's own); "
                         "raised to fit the capture's largest frame")
    ap.add_argument("--no-fit-frames", action="store_true",
                    help="keep --data-room even when frames do not fit one mbuf (shows what "
                         "vigild does with multi-segment frames)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print the details of every case, not only failures")
    args = ap.parse_args()

    dirs = args.cases or [os.path.join(TESTDATA, d) for d in DEFAULT_DIRS]
    if not args.cases and not all(os.path.isdir(d) for d in dirs):
        print(f"suricata-verify test data not found under {TESTDATA}: skipped")
        return 77
    paths = []
    for d in dirs:
        if not os.path.isdir(d):
            print(f"no such folder: {d}", file=sys.stderr)
            return 2
        if os.path.exists(os.path.join(d, "test.yaml")):
            paths.append(os.path.abspath(d))  # a case folder itself
            continue
        paths += sorted(p for p in glob.glob(os.path.join(d, "*"))
                        if os.path.isdir(p) and os.path.exists(os.path.join(p, "test.yaml")))
    names = collections.Counter(os.path.basename(p) for p in paths)
    dup = [n for n, k in names.items() if k > 1]
    if dup:
        print(f"case names appear twice: {dup}", file=sys.stderr)
        return 2
    # Folders without test.yaml are not cases; say so rather than skip them silently.
    for d in dirs:
        if os.path.exists(os.path.join(d, "test.yaml")):
            continue
        for p in sorted(glob.glob(os.path.join(d, "*"))):
            if os.path.isdir(p) and not os.path.exists(os.path.join(p, "test.yaml")):
                print(f"note: {p} has no test.yaml: not a case")
    if args.only:
        paths = [p for p in paths if os.path.basename(p) in args.only]
    if not paths:
        print("no cases found", file=sys.stderr)
        return 2
    cases = [Case(p) for p in paths]
    for i, c in enumerate(cases):
        c.index = i
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        list(ex.map(lambda c: run_case(c, args), cases))
    for c in cases:
        # What the case's own records carry counts as written, not what other cases' do: a
        # case is judged the same alone (--only) as among all.
        judge(c, written_fields([c]))
    elapsed = time.monotonic() - t0

    expected = read_expected(args.expected)
    regressions, newly, changed = [], [], []
    for c in cases:
        mark = {"pass": "ok  ", "fail": "FAIL", "unsupported": "unsp"}[c.status]
        line = f"{mark} {c.name}" + (f": {c.reason}" if c.reason else "")
        exp = expected.get(c.name)
        if exp is None:
            changed.append(f"{c.name}: not in {os.path.basename(args.expected)} "
                           f"(now {c.status} {c.reason})")
        elif exp[0] == "pass" and c.status != "pass":
            regressions.append(c)
        elif exp[0] != "pass" and c.status == "pass":
            newly.append(c)
        elif exp != (c.status, c.reason):
            changed.append(f"{c.name}: was {exp[0]} ({exp[1]}), now {c.status} ({c.reason})")
        print(line)
        if args.verbose or c.status == "fail" or c in regressions:
            for d in c.details:
                print("    " + d.replace("\n", "\n    "))
    if not args.only:
        for name in sorted(set(expected) - {c.name for c in cases}):
            changed.append(f"{name}: in {os.path.basename(args.expected)} but not found")

    by_status, by_reason = summary(cases)
    absent = sum(c.status == "pass" and c.absence_only for c in cases)
    print(f"\n{len(cases)} cases in {elapsed:.0f} s: " +
          ", ".join(f"{by_status.get(s, 0)} {s}" for s in ("pass", "fail", "unsupported")) +
          f" ({absent} of the passes check only that nothing is logged)")
    print("\nby reason:")
    for (st, r), n in sorted(by_reason.items(), key=lambda x: (x[0][0], -x[1], x[0][1])):
        print(f"  {n:4d}  {st:11s}  {r}")
    if changed:
        print("\nchanges against the expected state (not regressions):")
        for c in changed:
            print("  " + c)
    if newly:
        print("\nnewly passing (update expected.txt):")
        for c in newly:
            print(f"  {c.name}")
    if regressions:
        print("\nREGRESSIONS (expected to pass):")
        for c in regressions:
            print(f"  {c.name}: {c.status}: {c.reason}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"elapsed_s": round(elapsed, 1),
                       "counts": dict(by_status),
                       "absence_only_passes": sum(c.status == "pass" and c.absence_only
                                                  for c in cases),
                       "by_reason": [{"status": s, "reason": r, "cases": n}
                                     for (s, r), n in sorted(by_reason.items())],
                       "cases": [{"name": c.name, "folder": os.path.dirname(c.path),
                                  "status": c.status, "reason": c.reason,
                                  "absence_only": c.absence_only,
                                  "details": c.details, "seconds": round(c.duration, 2),
                                  "checks": [{"status": s, "detail": d} for s, d in c.checks]}
                                 for c in cases],
                       "regressions": [c.name for c in regressions],
                       "newly_passing": [c.name for c in newly]}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("| status | cases |\n|---|---:|\n")
            for st in ("pass", "fail", "unsupported"):
                f.write(f"| {st} | {by_status.get(st, 0)} |\n")
            f.write(f"\n{sum(c.status == 'pass' and c.absence_only for c in cases)} of the "
                    "passes check only that nothing is logged (every applicable check has "
                    "`count: 0`).\n")
            f.write("\n| status | reason | cases |\n|---|---|---:|\n")
            for (st, r), n in sorted(by_reason.items(),
                                     key=lambda x: (x[0][0], -x[1], x[0][1])):
                f.write(f"| {st} | {r.replace('|', '&#124;')} | {n} |\n")
    if args.update:
        if args.only:
            print("--update with --only would drop the other cases: not written",
                  file=sys.stderr)
        else:
            write_expected(args.expected, cases)
            print(f"\n{args.expected} updated")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
