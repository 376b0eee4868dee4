#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, eBPF programs on policy rules across SIGHUP reloads:
#  1. ping through a rule whose program (allow_private.o) keeps private destinations;
#  2. a new policy whose program has a loop, then one that calls an unknown helper: each reload
#     fails with the validator's (or vigild's) reason, the policy in force is unchanged and
#     ping still passes;
#  3. a good new policy (pass.o) is published;
#  4. a policy with a pre-filter on port outside (prefilter_bogon.o) is published: a ping with
#     TTL 64 passes, one with TTL 3 does not (rejected before the flow table);
#  5. a new policy whose pre-filter has a loop: the reload fails with the validator's reason,
#     and the pre-filter in force still runs (TTL 3 still refused, TTL 64 still passes);
#  the final counters show pass.o and the pre-filter ran.
# Programs are named relative to the policy file. BPF_DIR: the built objects (build/bpf).
E2E_ID=${E2E_ID:-bpf$$}
source "$(dirname "$0")/lib.sh"
e2e_require
[[ -f ${BPF_DIR:-}/allow_private.o ]] || {
	echo "e2e: no eBPF objects in BPF_DIR (clang not found at build time); skipped"
	exit 77
}

policy() { # policy RULE_PROGRAM [PREFILTER_PROGRAM]
	cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: nd, proto: icmpv6, action: allow}
  - {name: ping, proto: icmp, action: allow, bpf: progs/$1}
YAML
	[[ -z ${2:-} ]] || printf 'prefilter:\n  - {name: bogons, in: outside, bpf: progs/%s}\n' "$2" \
		>>"$WORK/policy.yaml"
}
in_force() { grep -c "policy version [0-9]* in force" "$WORK/vigild.log" || true; }
failed() { grep -c "the policy in force is unchanged" "$WORK/vigild.log" || true; }
wait_for() { # wait_for COUNTER BEFORE WHAT
	for _ in $(seq 100); do
		(($($1) > $2)) && return 0
		sleep 0.05
	done
	fail "$3 within 5 s"
}
ping_ok() { in_a ping -c 2 -i 0.2 -W 2 $IP_B >/dev/null || fail "ping through vigild failed ($1)"; }

# Relative to the policy file, at start and on every reload.
mkdir "$WORK/progs"
cp "$BPF_DIR"/{allow_private,bad_loop,bad_helper,pass,prefilter_bogon}.o "$WORK/progs/"
policy allow_private.o
e2e_write_config "policy: {file: $WORK/policy.yaml}"
e2e_start_vigild --stats-json "$WORK/stats.json"
ping_ok "allow_private.o"

for bad in bad_loop.o:"loops detected" bad_helper.o:"which is not a vigild helper"; do
	obj=${bad%%:*} why=${bad#*:}
	before=$(failed) published=$(in_force)
	policy "$obj"
	kill -HUP "$VIGILD_PID"
	wait_for failed "$before" "the reload with $obj was not refused"
	grep -q "rule 'ping': bpf program refused: $WORK/progs/$obj: .*$why" "$WORK/vigild.log" ||
		fail "the refusal of $obj does not say why ($why)"
	(($(in_force) == published)) || fail "a policy with $obj was published"
	ping_ok "after refusing $obj"
	log "$obj refused: $(grep -o "$obj: .*$why[^;]*" "$WORK/vigild.log" | tail -1)"
done

before=$(in_force)
policy pass.o
kill -HUP "$VIGILD_PID"
wait_for in_force "$before" "the policy with pass.o was not published"
ping_ok "pass.o"

# The pre-filter: TTL 3 is refused before the flow table, TTL 64 goes on to the rule.
ttl3_refused() {
	! in_a ping -c 1 -t 3 -W 1 $IP_B >/dev/null || fail "a ping with TTL 3 passed ($1)"
}
before=$(in_force)
policy pass.o prefilter_bogon.o
kill -HUP "$VIGILD_PID"
wait_for in_force "$before" "the policy with the pre-filter was not published"
ping_ok "with the pre-filter"
ttl3_refused "pre-filter in force"

before=$(failed) published=$(in_force)
policy pass.o bad_loop.o
kill -HUP "$VIGILD_PID"
wait_for failed "$before" "the reload with a looping pre-filter was not refused"
grep -q "prefilter 'bogons': bpf program refused: $WORK/progs/bad_loop.o: .*loops detected" \
	"$WORK/vigild.log" || fail "the refusal of the looping pre-filter does not say why"
(($(in_force) == published)) || fail "a policy with a looping pre-filter was published"
ping_ok "after refusing the looping pre-filter"
ttl3_refused "after refusing the looping pre-filter"
log "looping pre-filter refused: $(grep -o "prefilter 'bogons': .*loops detected[^;]*" \
	"$WORK/vigild.log" | tail -1)"
e2e_stop_vigild
/usr/bin/python3 - "$WORK/stats.json" <<'PY' || fail "the final counters do not show pass.o running"
import json, sys
b = json.load(open(sys.argv[1]))["bpf"]
assert len(b) == 1 and b[0]["file"].endswith("/pass.o"), b
assert b[0]["runs"] >= 2 and b[0]["pass"] == b[0]["runs"] and b[0]["invalid"] == 0, b
print("e2e: pass.o ran %d times, mode %s" % (b[0]["runs"], b[0]["mode"]))
p = json.load(open(sys.argv[1]))["bpf_prefilters"]
assert len(p) == 1 and p[0]["name"] == "bogons" and p[0]["in"] == ["outside"], p
assert p[0]["file"].endswith("/prefilter_bogon.o"), p
assert p[0]["reject"] >= 2 and p[0]["pass"] >= 4 and p[0]["invalid"] == 0, p
assert p[0]["alerts"] == p[0]["reject"] + p[0]["drop"], p
print("e2e: the pre-filter ran %d times: %d pass, %d reject" % (p[0]["runs"], p[0]["pass"],
      p[0]["reject"]))
PY
log "PASS"
