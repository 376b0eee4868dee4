#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end: a policy applied over the REST API changes what the dataplane forwards, a rollback
# over the API restores it, and dry-run set over the API forwards what the policy would drop
# while counting it. Two network namespaces joined through vigild by net_tap ports
# (tests/e2e/lib.sh); the API is reached with curl from the root namespace.
source "$(dirname "$0")/../e2e/lib.sh"
e2e_require

TOKEN=api-e2e-$$-admin
HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
API_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API=http://127.0.0.1:$API_PORT/api/v1

cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: ping, proto: icmp, action: allow}
YAML

e2e_write_config "policy: {file: $WORK/policy.yaml}" \
	"store: {path: $WORK/vigil.db}" \
	"mgmt: {port: $API_PORT, tokens: [{name: e2e, role: admin, sha256: $HASH}]}"
e2e_start_vigild

api() { # METHOD PATH [BODY] -> prints the body, fails on a non-2xx status
	local method=$1 path=$2 body=${3:-} out code
	out=$(curl -sS -X "$method" -H "Authorization: Bearer $TOKEN" \
		${body:+-H "Content-Type: application/json" --data-binary "$body"} \
		-w '\n%{http_code}' "$API$path") || fail "curl $method $path"
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	[[ $code == 2* ]] || fail "$method $path: HTTP $code: $out"
	printf '%s\n' "$out"
}
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
pings() { in_a ping -c "$1" -i 0.2 -W 1 $IP_B 2>/dev/null | grep -c "bytes from" || true; }

for _ in $(seq 50); do
	curl -s "$API/health" >/dev/null && break
	sleep 0.1
done
v1=$(api GET /policy | json 'd["version"]')
log "policy version $v1 from the file is in force"
(($(pings 3) == 3)) || fail "ping through vigild failed under the first policy"

# 1. A policy without the ping rule, applied over the API: pings stop.
deny=$(/usr/bin/python3 -c 'import json; print(json.dumps({"text": "version: 1\ndefault: drop\nrules:\n  - {name: nothing-but-dns, proto: udp, dport: 53, action: allow}\n"}))')
v2=$(api PUT /policy "$deny" | json 'd["version"]')
((v2 > v1)) || fail "PUT did not give a new version ($v1 -> $v2)"
n=$(pings 3)
((n == 0)) || fail "$n pings crossed after the API applied a policy that drops them"
dropped=$(api GET /rules/counters | json '[r["packets"] for r in d["policy"] if r["name"] == "(default)"][0]')
((dropped >= 3)) || fail "the default action counted $dropped packets, expected at least 3"
log "version $v2 applied over the API: pings dropped ($dropped by the default action)"

# 2. Dry-run over the API: the same policy forwards, and counts what it would drop.
api PUT /mode '{"mode": "dry-run"}' >/dev/null
n=$(pings 3)
((n == 3)) || fail "dry-run forwarded $n of 3 pings"
would=$(curl -sS -H "Authorization: Bearer $TOKEN" "$API/metrics" |
	awk '$1 == "vigil_policy_would_drop_packets_total" {print $2}')
[[ -n $would ]] && ((would >= 3)) || fail "dry-run counted '$would' would-drop packets"
api PUT /mode '{"mode": "enforce"}' >/dev/null
((($(pings 2)) == 0)) || fail "enforce again: pings crossed"
log "dry-run forwarded and counted $would would-drop packets; enforce drops again"

# 3. Rollback over the API to the file's version: pings cross again.
v3=$(api POST /policy/rollback "{\"version\": $v1}" | json 'd["version"]')
((v3 > v2)) || fail "rollback did not record a new version"
(($(pings 3) == 3)) || fail "pings do not cross after rolling back to version $v1"
[[ $(api GET /policy | json 'd["sha256"]') == $(sha256sum <"$WORK/policy.yaml" | cut -d' ' -f1) ]] ||
	fail "the policy in force after rollback is not the file's text"
log "rolled back to version $v1 as version $v3: pings cross again"

# 4. The audit log holds the three writes with the token's name.
sleep 1.2 # one store batch
writes=$(api GET "/audit?limit=20" | json 'sum(1 for a in d["items"] if a["actor"] == "e2e")')
((writes >= 4)) || fail "the audit log holds $writes records of e2e's writes, expected 4"
e2e_stop_vigild
log "PASS"
