#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Translate a Vigil policy (docs/POLICY.md) into the rules of the benchmark's peers, for the
subset that maps: proto, source and destination addresses (CIDR, sets, negation), port ranges,
and the actions allow and drop (reject becomes drop: neither peer answers).

  l3fwd (ACL mode): two rule files, IPv4 and IPv6, in its ClassBench-like format:
      R<src>/<len> <dst>/<len> <sport_lo> : <sport_hi> <dport_lo> : <dport_hi> <proto>/<mask> <port>
      @<same fields, no port>            (a deny rule)
    The first line that matches wins (l3fwd gives each line a lower priority than the one
    before). l3fwd is stateless: an allow rule is followed by its mirror (sources and
    destinations swapped) so that the replies of an allowed flow pass, as they do through a
    stateful firewall; --no-mirror leaves them out.
  Open vSwitch: OpenFlow flows for ovs-ofctl add-flows: table 0 sends IP through conntrack,
    table 1 forwards established and related traffic, and decides new connections with the
    policy's rules in order (descending priorities), committing the allowed ones.

Rules that use what a peer cannot express (in, vlan, icmp_type, icmp_code, tcp_flags,
rate-limit, bpf) are errors that name the rule and its line, unless --skip-unmapped, which
leaves them out and lists them: a skipped rule changes which later rule decides, so the result
says so. inspect, log and description do not change which packets pass and are ignored;
dry_run rules forward what they match, so they become allow.

  scripts/bench/policy_xlate.py POLICY [--l3fwd PREFIX] [--ovs FILE] [--l3fwd-port N]
                                [--ovs-out PORT] [--no-mirror] [--skip-unmapped]
"""
import argparse
import ipaddress
import json
import sys

import yaml

PROTOS = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
          "icmpv6": 58, "sctp": 132}
PORT_PROTOS = {6, 17, 132}
UNMAPPED_KEYS = ("in", "vlan", "icmp_type", "icmp_code", "tcp_flags", "bpf", "rate")
IGNORED_KEYS = ("name", "description", "inspect", "log", "dry_run")
ALL_V4 = ipaddress.ip_network("0.0.0.0/0")
ALL_V6 = ipaddress.ip_network("::/0")


class XlateError(Exception):
    """An error about the policy text: 'file:line:column: message'."""


# --- YAML with positions ---------------------------------------------------------------------

class Node:
    """A value with the position of its YAML node (line and column from 1)."""

    def __init__(self, value, mark, path):
        self.v = value
        self.line = mark.line + 1
        self.col = mark.column + 1
        self.path = path

    def where(self):
        return f"{self.path}:{self.line}:{self.col}"

    def err(self, msg):
        return XlateError(f"{self.where()}: error: {msg}")


def _convert(node, loader, path):
    if isinstance(node, yaml.MappingNode):
        d = {}
        for k, v in node.value:
            key = loader.construct_scalar(k) if isinstance(k, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise Node(None, k.start_mark, path).err("a key must be a plain name")
            if key in d:
                raise Node(None, k.start_mark, path).err(f"key '{key}' is repeated")
            d[key] = _convert(v, loader, path)
        return Node(d, node.start_mark, path)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(v, loader, path) for v in node.value], node.start_mark, path)
    return Node(loader.construct_object(node, deep=True), node.start_mark, path)


def load_yaml(path):
    try:
        with open(path) as f:
            loader = yaml.SafeLoader(f)
            try:
                root = loader.get_single_node()
            finally:
                loader.dispose()
    except OSError as e:
        raise XlateError(f"{path}: error: cannot read the policy: {e.strerror}")
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark
        raise XlateError(f"{path}:{m.line + 1}:{m.column + 1}: error: YAML: {e.problem}")
    if root is None:
        raise XlateError(f"{path}:1:1: error: the policy is empty")
    return _convert(root, loader, path)


# --- sets, addresses, ports ------------------------------------------------------------------

def items(node):
    return node.v if isinstance(node.v, list) else [node]


class Policy:
    def __init__(self, path):
        self.path = path
        root = load_yaml(path)
        if not isinstance(root.v, dict):
            raise root.err("the policy must be a mapping with version, default and rules")
        self.root = root.v
        self.sets = self.root["sets"].v if "sets" in self.root else {}
        default = self.root.get("default")
        if default is None or default.v not in ("allow", "drop", "reject"):
            raise (default or root).err("default must be allow, drop or reject")
        self.default = "allow" if default.v == "allow" else "drop"
        self.rules = self.root["rules"].v if "rules" in self.root else []
        self._resolving = []

    def _set(self, ref, node):
        name = ref[1:]
        if name not in self.sets:
            raise node.err(f"unknown set '${name}' (defined: "
                           f"{', '.join(sorted(self.sets)) or 'none'})")
        if name in self._resolving:
            raise node.err("set cycle: " + " -> ".join(self._resolving + [name]))
        return name

    def addresses(self, node):
        """(IPv4 networks, IPv6 networks) that an address item or list denotes: the union of
        its positive items (everything when it has none) minus the union of its negations."""
        pos4, pos6, neg4, neg6, any_pos = [], [], [], [], False
        for it in items(node):
            text = str(it.v).strip()
            neg = text.startswith("!")
            if neg:
                text = text[1:].strip()
            if text == "any":
                n4, n6 = [ALL_V4], [ALL_V6]
            elif text.startswith("$"):
                name = self._set(text, it)
                self._resolving.append(name)
                try:
                    n4, n6 = self.addresses(self.sets[name])
                finally:
                    self._resolving.pop()
            else:
                try:
                    net = ipaddress.ip_network(text, strict=False)
                except ValueError:
                    raise it.err(f"'{text}' is not an address, a prefix, $set or any")
                n4, n6 = ([net], []) if net.version == 4 else ([], [net])
            if neg:
                neg4 += n4
                neg6 += n6
            else:
                any_pos = True
                pos4 += n4
                pos6 += n6
        if not any_pos:
            pos4, pos6 = [ALL_V4], [ALL_V6]
        return subtract(pos4, neg4), subtract(pos6, neg6)

    def ports(self, node):
        """Sorted disjoint [lo, hi] ranges that a port item or list denotes."""
        pos, neg, any_pos = [], [], False
        for it in items(node):
            text = str(it.v).strip()
            neg_item = text.startswith("!")
            if neg_item:
                text = text[1:].strip()
            if text == "any":
                r = [(0, 65535)]
            elif text.startswith("$"):
                name = self._set(text, it)
                self._resolving.append(name)
                try:
                    r = self.ports(self.sets[name])
                finally:
                    self._resolving.pop()
            else:
                try:
                    lo, _, hi = text.partition("-")
                    lo = int(lo)
                    hi = int(hi) if hi else lo
                except ValueError:
                    raise it.err(f"'{text}' is not a port, a range low-high, $set or any")
                if not (0 <= lo <= hi <= 65535):
                    raise it.err(f"'{text}' is not within 0..65535 with low <= high")
                r = [(lo, hi)]
            if neg_item:
                neg += r
            else:
                any_pos = True
                pos += r
        if not any_pos:
            pos = [(0, 65535)]
        return range_subtract(merge_ranges(pos), merge_ranges(neg))

    def protos(self, node):
        out = []
        for it in items(node):
            v = it.v
            if v == "any":
                return [None]
            if isinstance(v, int) and 0 <= v <= 255:
                out.append(v)
            elif isinstance(v, str) and v in PROTOS:
                out.append(PROTOS[v])
            else:
                raise it.err(f"'{v}' is not a protocol: {', '.join(PROTOS)}, 0..255 or any")
        return out


def subtract(pos, neg):
    nets = list(ipaddress.collapse_addresses(pos)) if pos else []
    for n in ipaddress.collapse_addresses(neg) if neg else []:
        out = []
        for p in nets:
            if n.subnet_of(p):
                out += list(p.address_exclude(n))
            elif not p.subnet_of(n):
                out.append(p)
        nets = out
    return sorted(ipaddress.collapse_addresses(nets)) if nets else []


def merge_ranges(r):
    out = []
    for lo, hi in sorted(r):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def range_subtract(pos, neg):
    out = []
    for lo, hi in pos:
        cur = [(lo, hi)]
        for nlo, nhi in neg:
            nxt = []
            for a, b in cur:
                if nhi < a or nlo > b:
                    nxt.append((a, b))
                    continue
                if a < nlo:
                    nxt.append((a, nlo - 1))
                if nhi < b:
                    nxt.append((nhi + 1, b))
            cur = nxt
        out += cur
    return out


def range_masks(lo, hi):
    """Cover [lo, hi] with value/mask pairs, for OpenFlow's tp_src/tp_dst (16 bits)."""
    out = []
    while lo <= hi:
        size = lo & -lo if lo else 1 << 16
        while lo + size - 1 > hi:
            size >>= 1
        out.append((lo, (0xffff & ~(size - 1))))
        lo += size
    return out


# --- the translation ---------------------------------------------------------------------------

class Rule:
    """One policy rule in the mapped subset: action and per-family matches."""

    def __init__(self, name, line, action, v4, v6, protos, sports, dports):
        self.name, self.line, self.action = name, line, action
        self.v4, self.v6 = v4, v6  # (src nets, dst nets)
        self.protos, self.sports, self.dports = protos, sports, dports


def translate(path, skip_unmapped=False):
    """Policy file -> (default action, [Rule], [skipped {'rule','line','reason'}])."""
    pol = Policy(path)
    rules, skipped = [], []
    for i, rn in enumerate(pol.rules):
        r = rn.v
        if not isinstance(r, dict):
            raise rn.err("a rule is a mapping with name, action and matches")
        name = r["name"].v if "name" in r else f"#{i + 1}"
        unknown = [k for k in r if k not in UNMAPPED_KEYS + IGNORED_KEYS +
                   ("action", "proto", "from", "to", "sport", "dport")]
        if unknown:
            raise r[unknown[0]].err(f"rule '{name}': unknown key '{unknown[0]}'")
        reason = None
        bad = [k for k in UNMAPPED_KEYS if k in r]
        action = r["action"].v if "action" in r else None
        if action not in ("allow", "drop", "reject", "rate-limit"):
            raise (r.get("action") or rn).err(
                f"rule '{name}': action must be allow, drop, reject or rate-limit")
        if bad:
            reason = f"'{bad[0]}' has no equivalent in the peers' rules"
        elif action == "rate-limit":
            reason = "rate-limit has no equivalent in the peers' rules"
        if reason:
            if not skip_unmapped:
                raise r[bad[0] if bad else "action"].err(
                    f"rule '{name}': {reason} (use --skip-unmapped to leave it out)")
            skipped.append({"rule": name, "line": rn.line, "reason": reason})
            continue
        if action == "reject":
            action = "drop"
        if "dry_run" in r and r["dry_run"].v is True:
            action = "allow"
        protos = pol.protos(r["proto"]) if "proto" in r else [None]
        has_ports = "sport" in r or "dport" in r
        if has_ports and (None in protos or any(p not in PORT_PROTOS for p in protos)):
            raise r["sport" if "sport" in r else "dport"].err(
                f"rule '{name}': ports need proto tcp, udp or sctp")
        sports = pol.ports(r["sport"]) if "sport" in r else [(0, 65535)]
        dports = pol.ports(r["dport"]) if "dport" in r else [(0, 65535)]
        src4, src6 = pol.addresses(r["from"]) if "from" in r else ([ALL_V4], [ALL_V6])
        dst4, dst6 = pol.addresses(r["to"]) if "to" in r else ([ALL_V4], [ALL_V6])
        v4 = (src4, dst4) if src4 and dst4 else None
        v6 = (src6, dst6) if src6 and dst6 else None
        if not sports or not dports or (v4 is None and v6 is None):
            raise rn.err(f"rule '{name}' can never match (a list is empty after negation, or "
                         "from and to share no address family)")
        rules.append(Rule(name, rn.line, action, v4, v6, protos, sports, dports))
    return pol.default, rules, skipped


def _proto_field(p):
    return "0/0" if p is None else f"{p}/255"


def l3fwd_lines(default, rules, port, mirror=True):
    """{4: [lines], 6: [lines]} in l3fwd's rule-file format."""
    out = {4: [], 6: []}

    def addr(net, fam):
        if fam == 4:
            return f"{net.network_address}/{net.prefixlen}"
        return f"{net.network_address.exploded}/{net.prefixlen}"

    def emit(fam, lead, srcs, dsts, protos, sports, dports, tail, seen):
        for s in srcs:
            for d in dsts:
                for p in protos:
                    for sp in sports:
                        for dp in dports:
                            line = (f"{lead}{addr(s, fam)} {addr(d, fam)} {sp[0]} : {sp[1]} "
                                    f"{dp[0]} : {dp[1]} {_proto_field(p)}{tail}")
                            # A symmetric rule is its own mirror: one line is enough.
                            if line not in seen:
                                seen.add(line)
                                out[fam].append(line)

    for r in rules:
        lead, tail = ("R", f" {port}") if r.action == "allow" else ("@", "")
        for fam, m in ((4, r.v4), (6, r.v6)):
            if m is None:
                continue
            seen = set()
            emit(fam, lead, m[0], m[1], r.protos, r.sports, r.dports, tail, seen)
            if mirror and r.action == "allow":
                emit(fam, lead, m[1], m[0], r.protos, r.dports, r.sports, tail, seen)
    for fam, net in ((4, ALL_V4), (6, ALL_V6)):
        if default == "allow":
            emit(fam, "R", [net], [net], [None], [(0, 65535)], [(0, 65535)], f" {port}", set())
        elif not any(line.startswith("R") for line in out[fam]):
            # l3fwd refuses a file without a route line; this one matches only protocol 255
            # between the unspecified addresses, which no benchmark input carries.
            z = ipaddress.ip_network("0.0.0.0/32" if fam == 4 else "::/128")
            out[fam].append(f"R{addr(z, fam)} {addr(z, fam)} 0 : 0 0 : 0 255/255 {port}")
    return out


def ovs_flows(default, rules, out_port):
    """OpenFlow flows (ovs-ofctl add-flows syntax) with conntrack that enforce the rules."""
    allow = f"ct(commit),output:{out_port}"
    flows = [
        "table=0,priority=100,ip,actions=ct(table=1)",
        "table=0,priority=100,ipv6,actions=ct(table=1)",
        # Frames that are not IP pass, as through vigild without an l2 section.
        f"table=0,priority=0,actions=output:{out_port}",
        "table=1,priority=65000,ct_state=+trk+inv,actions=drop",
        f"table=1,priority=65000,ct_state=+trk+est,actions=output:{out_port}",
        f"table=1,priority=65000,ct_state=+trk+rel,actions=output:{out_port}",
    ]
    prio = 60000
    for r in rules:
        act = allow if r.action == "allow" else "drop"
        for fam, m in ((4, r.v4), (6, r.v6)):
            if m is None:
                continue
            kw_src, kw_dst = ("nw_src", "nw_dst") if fam == 4 else ("ipv6_src", "ipv6_dst")
            base = "ip" if fam == 4 else "ipv6"
            for s in m[0]:
                for d in m[1]:
                    for p in r.protos:
                        matches = [base]
                        if s.prefixlen:
                            matches.append(f"{kw_src}={s}")
                        if d.prefixlen:
                            matches.append(f"{kw_dst}={d}")
                        if p is not None:
                            matches.append(f"nw_proto={p}")
                        sp_masks = [None] if p not in PORT_PROTOS else \
                            [m_ for lo, hi in r.sports for m_ in range_masks(lo, hi)]
                        dp_masks = [None] if p not in PORT_PROTOS else \
                            [m_ for lo, hi in r.dports for m_ in range_masks(lo, hi)]
                        for sp in sp_masks:
                            for dp in dp_masks:
                                mm = list(matches)
                                if sp and sp[1]:
                                    mm.append(f"tp_src=0x{sp[0]:x}/0x{sp[1]:x}")
                                if dp and dp[1]:
                                    mm.append(f"tp_dst=0x{dp[0]:x}/0x{dp[1]:x}")
                                flows.append(f"table=1,priority={prio},ct_state=+trk+new,"
                                             f"{','.join(mm)},actions={act}")
        prio -= 1
        if prio < 10:
            raise XlateError(f"{r.name}: more than 59990 rules do not fit OVS's priorities "
                             "in this translation")
    for base in ("ip", "ipv6"):
        # ct(commit) needs the match to name the family.
        flows.append(f"table=1,priority=1,ct_state=+trk+new,{base},actions="
                     + (allow if default == "allow" else "drop"))
    flows.append("table=1,priority=0,actions=drop")
    return flows


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("policy")
    ap.add_argument("--l3fwd", metavar="PREFIX",
                    help="write PREFIX.v4.rules and PREFIX.v6.rules for l3fwd --lookup=acl")
    ap.add_argument("--l3fwd-port", type=int, default=1,
                    help="l3fwd port that allowed packets leave on (1)")
    ap.add_argument("--ovs", metavar="FILE", help="write OpenFlow flows for ovs-ofctl add-flows")
    ap.add_argument("--ovs-out", default="2", help="OpenFlow port of the way out (2)")
    ap.add_argument("--no-mirror", action="store_true",
                    help="no mirrored allow rules for replies in l3fwd's files")
    ap.add_argument("--skip-unmapped", action="store_true",
                    help="leave out rules that do not map, and list them, instead of failing")
    args = ap.parse_args()
    try:
        default, rules, skipped = translate(args.policy, args.skip_unmapped)
        summary = {"policy": args.policy, "default": default, "rules": len(rules),
                   "skipped": skipped}
        if args.l3fwd:
            lines = l3fwd_lines(default, rules, args.l3fwd_port, not args.no_mirror)
            for fam in (4, 6):
                with open(f"{args.l3fwd}.v{fam}.rules", "w") as f:
                    f.write("\n".join(lines[fam]) + "\n")
                summary[f"l3fwd_v{fam}_lines"] = len(lines[fam])
        if args.ovs:
            flows = ovs_flows(default, rules, args.ovs_out)
            with open(args.ovs, "w") as f:
                f.write("\n".join(flows) + "\n")
            summary["ovs_flows"] = len(flows)
    except XlateError as e:
        print(e, file=sys.stderr)
        return 1
    for s in skipped:
        print(f"{args.policy}:{s['line']}:1: warning: rule '{s['rule']}' left out: "
              f"{s['reason']}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
