#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, eBPF programs on policy rules across SIGHUP reloads:
#  1. ping through a rule whose program (allow_private.o) keeps private destinations;
#  2. a new policy whose program has a loop, then one that calls an unknown helper: each reload
#     fails with the validator's (or vigild's) reason, the policy in force is unchanged and
#     ping still passes;
#  3. a good new policy (pass.o) is published; the final counters show its program ran.
# Programs are named relative to the policy file. BPF_DIR: the built objects (build/bpf).
E2E_ID=${E2E_ID:-bpf$$}
source "$(dirname "$0")/lib.sh"
e2e_require
[[ -f ${BPF_DIR:-}/allow_private.o ]] || {
	echo "e2e: no eBPF objects in BPF_DIR (clang not found at build time); skipped"
	exit 77
}

policy() {
	cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: nd, proto: icmpv6, action: allow}
  - {name: ping, proto: icmp, action: allow, bpf: progs/$1}
YAML
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
cp "$BPF_DIR"/{allow_private,bad_loop,bad_helper,pass}.o "$WORK/progs/"
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
e2e_stop_vigild
/usr/bin/python3 - "$WORK/stats.json" <<'PY' || fail "the final counters do not show pass.o running"
import json, sys
b = json.load(open(sys.argv[1]))["bpf"]
assert len(b) == 1 and b[0]["file"].endswith("/pass.o"), b
assert b[0]["runs"] >= 2 and b[0]["pass"] == b[0]["runs"] and b[0]["invalid"] == 0, b
print("e2e: pass.o ran %d times, mode %s" % (b[0]["runs"], b[0]["mode"]))
PY
log "PASS"
