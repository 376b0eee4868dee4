#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, least privilege (docs/OPERATIONS.md, "Privileges"): vigild with
# `privileges: {user: nobody}` forwards between two namespaces while every one of its threads
# runs as nobody with no capability, no new privileges and the seccomp filter; the store,
# EVE, the API (a write that lands in SQLite) and a SIGHUP policy reload still work as that
# user; it stops cleanly and leaves no runtime directory. A store directory the user cannot
# write is refused before any port is touched; the same drop works without hugepages.
source "$(dirname "$0")/lib.sh"
e2e_require
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (scripts/deps.sh installs it)"
id nobody >/dev/null || fail "user nobody is missing"
NOBODY=$(id -u nobody)
chmod 755 "$WORK" # the user reads the policy from here at each reload
PORT=$((18000 + E2E_ID % 1000))
TOKEN=e2e-priv-$E2E_ID
SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)

policy() {
	cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: nd, proto: icmpv6, action: allow}
  - {name: ping, proto: icmp, action: $1}
  - {name: probe, proto: tcp, dport: 9000, action: allow}
YAML
}
# A signature whose match needs the inspection slots the worker allocates on first use, after
# the drop (the heap grows: in PA mode, an unprivileged process gets no IO address for it).
cat >"$WORK/probe.rules" <<'RULES'
alert tcp any any -> any 9000 (msg:"e2e privileges probe"; flow:to_server,established; content:"vigil-privileges-probe"; sid:9999001; rev:1;)
RULES

# 1. A store directory nobody cannot write: refused, with the fix, before any port is touched.
mkdir -m 700 "$WORK/rootonly"
policy allow
e2e_write_config "privileges: {user: nobody}" "store: {path: $WORK/rootonly/vigil.db}"
rc=0
"$VIGILD" -c "$CFG" >"$WORK/refused.log" 2>&1 || rc=$?
((rc == 1)) || fail "a store directory nobody cannot write: exit $rc, expected 1"
grep -q "store.path: user nobody (privileges.user) cannot create files in $WORK/rootonly" \
	"$WORK/refused.log" || fail "no reason given: $(cat "$WORK/refused.log")"
grep -q "chown nobody $WORK/rootonly" "$WORK/refused.log" || fail "no fix given"
ip link show "$TAP_A" >/dev/null 2>&1 && fail "a port was created for a refused config"
log "a store directory the user cannot write is refused before any port: ok"

# 2. The appliance as nobody.
e2e_write_config "privileges: {user: nobody}" \
	"policy: {file: $WORK/policy.yaml}" \
	"store: {path: $WORK/state/vigil.db, batch_interval: 100ms}" \
	"alerts: {eve_log: $WORK/log/eve.json}" \
	"signatures: {paths: [$WORK/probe.rules]}" "inspection: {flows: all}" \
	"mgmt: {port: $PORT, tokens: [{name: ops, role: admin, sha256: $SHA}]}"
e2e_start_vigild
grep -q "running as user nobody (uid $NOBODY.*capabilities kept: none, seccomp filter on" \
	"$WORK/vigild.log" || fail "no drop in the log"

threads=0
for t in /proc/"$VIGILD_PID"/task/*; do
	st=$t/status
	name=$(cat "$t/comm")
	read -r _ r e s f < <(grep '^Uid:' "$st")
	[[ "$r $e $s $f" == "$NOBODY $NOBODY $NOBODY $NOBODY" ]] || fail "thread $name: uids $r $e $s $f"
	grep -q '^CapEff:[[:space:]]*0000000000000000$' "$st" || fail "thread $name keeps capabilities: $(grep CapEff "$st")"
	grep -q '^CapPrm:[[:space:]]*0000000000000000$' "$st" || fail "thread $name may regain capabilities"
	grep -q '^Seccomp:[[:space:]]*2$' "$st" || fail "thread $name has no seccomp filter"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || fail "thread $name may gain privileges"
	threads=$((threads + 1))
done
((threads >= 4)) || fail "only $threads threads seen"
grep -q '^Groups:[[:space:]]*$' /proc/"$VIGILD_PID"/status || fail "supplementary groups kept"
log "$threads threads: uid nobody, no capabilities, seccomp filter, no new privileges: ok"

in_a ping -c 2 -W 2 $IP_B >/dev/null || fail "ping through vigild (as nobody) failed"
log "forwarding as nobody: ok"

bg_in "$NS_B" /usr/bin/python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9000))
s.listen(4)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.sendall(b"ok\n")
    c.close()
'
for _ in $(seq 50); do
	in_a /usr/bin/python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 9000), timeout=2)
c.sendall(b"GET vigil-privileges-probe\n")
c.recv(10)
' $IP_B 2>/dev/null && break
	sleep 0.1
done
for _ in $(seq 50); do
	grep -q '"signature_id":9999001' "$WORK/log/eve.json" 2>/dev/null && break
	sleep 0.1
done
grep -q '"signature_id":9999001' "$WORK/log/eve.json" ||
	fail "no signature alert in EVE as nobody: $(grep -E 'inspection|memory' "$WORK/vigild.log")"
grep -q "no memory" "$WORK/vigild.log" && fail "memory could not grow after the drop"
log "signature inspection (memory grown after the drop) and EVE as nobody: ok"

api() { curl -s -H "Authorization: Bearer $TOKEN" "$@"; }
status=$(api "http://127.0.0.1:$PORT/api/v1/status")
/usr/bin/python3 -c '
import json, sys
p = json.loads(sys.argv[1])["process"]
assert p["user"] == "nobody" and not p["root"], p
assert p["capabilities"] == "0000000000000000" and p["seccomp"] == "filter", p
assert p["no_new_privs"] and p["all_uids_equal"], p
' "$status" || fail "status.process is wrong: $status"
code=$(api -o "$WORK/block.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-d '{"address": "198.51.100.7", "reason": "e2e privileges"}' \
	"http://127.0.0.1:$PORT/api/v1/blocklist")
[[ $code == 201 || $code == 202 ]] || fail "block as nobody: HTTP $code $(cat "$WORK/block.json")"
for _ in $(seq 50); do
	n=$(sqlite3 "$WORK/state/vigil.db" "select count(*) from blocklist where addr = '198.51.100.7'" 2>/dev/null || true)
	[[ $n == 1 ]] && break
	sleep 0.1
done
[[ $n == 1 ]] || fail "the block did not reach the store written by nobody"
[[ $(stat -c %U "$WORK/state" "$WORK/state/vigil.db" "$WORK/log/eve.json" | sort -u) == nobody ]] ||
	fail "files not handed over: $(stat -c '%U %n' "$WORK/state" "$WORK/state/vigil.db" "$WORK/log/eve.json")"
log "API, store and EVE as nobody: ok"

# A reload reads the policy again, as nobody: ping denied, then allowed.
# SIGHUP reloads the signatures too: count the policy's lines only.
in_force() { grep -c "policy version .* in force" "$WORK/vigild.log" || true; }
reload() {
	local before
	before=$(in_force)
	kill -HUP "$VIGILD_PID"
	for _ in $(seq 100); do
		(($(in_force) > before)) && return 0
		sleep 0.05
	done
	fail "the reload as nobody was not published within 5 s"
}
policy drop
reload
in_a ping -c 1 -W 1 $IP_B >/dev/null && fail "ping still forwarded after a reload that denies it"
policy allow
reload
in_a ping -c 2 -W 2 $IP_B >/dev/null || fail "ping not forwarded after the reload that allows it"
log "SIGHUP reload as nobody: ok"

e2e_stop_vigild
[[ -e /var/run/dpdk/$PREFIX ]] && fail "runtime directory /var/run/dpdk/$PREFIX left behind"
log "stopped with status 0, nothing left in /var/run/dpdk: ok"

# 3. Without hugepages (EAL with --no-huge --no-shconf) the drop is the same.
ip netns del "$NS_A"
ip netns del "$NS_B"
E2E_HUGEPAGES=off
e2e_write_config "privileges: {user: nobody}"
e2e_start_vigild
grep -q '^Seccomp:[[:space:]]*2$' /proc/"$VIGILD_PID"/status || fail "no-huge: no seccomp filter"
grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/"$VIGILD_PID"/status || fail "no-huge: capabilities kept"
in_a ping -c 1 -W 2 $IP_B >/dev/null || fail "no-huge: ping through vigild failed"
e2e_stop_vigild
[[ -e /var/run/dpdk/$PREFIX ]] && fail "no-huge: runtime directory left behind"
log "without hugepages: ok"
log "PASS"
