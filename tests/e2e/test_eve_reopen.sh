#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, rotating the EVE log (docs/OPERATIONS.md, "6. systemd"): vigild runs as nobody
# with a signature; an alert lands in eve.json; the shipped logrotate file (dist/logrotate/vigil,
# its path and signal pointed at this vigild) moves eve.json aside and sends SIGUSR2; vigild
# creates a new eve.json, as nobody, and the next alert lands there, not in the moved file.
# SIGUSR2 reloads nothing. Without logrotate installed, the move is a mv and kill -USR2.
source "$(dirname "$0")/lib.sh"
e2e_require
[[ -f ${LOGROTATE_CONF:-} ]] || fail "LOGROTATE_CONF must point at dist/logrotate/vigil"
chmod 755 "$WORK"

cat >"$WORK/probe.rules" <<'RULES'
alert tcp any any -> any 9000 (msg:"e2e rotate before"; flow:to_server,established; content:"vigil-rotate-before"; sid:9999101; rev:1;)
alert tcp any any -> any 9000 (msg:"e2e rotate after"; flow:to_server,established; content:"vigil-rotate-after"; sid:9999102; rev:1;)
RULES
cat >"$WORK/policy.yaml" <<'YAML'
version: 1
default: allow
rules: []
YAML
EVE=$WORK/log/eve.json
e2e_write_config "privileges: {user: nobody}" \
	"policy: {file: $WORK/policy.yaml}" \
	"alerts: {eve_log: $EVE}" \
	"signatures: {paths: [$WORK/probe.rules]}" "inspection: {flows: all}"
e2e_start_vigild

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
# Send a payload through vigild until its alert is in file $2.
alert_in() {
	local payload=$1 file=$2 sid=$3
	for _ in $(seq 50); do
		in_a /usr/bin/python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 9000), timeout=2)
c.sendall(sys.argv[2].encode() + b"\n")
c.recv(10)
' $IP_B "$payload" 2>/dev/null && break
		sleep 0.1
	done
	for _ in $(seq 50); do
		grep -q "\"signature_id\":$sid" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
alert_in "GET vigil-rotate-before" "$EVE" 9999101 || fail "no alert in $EVE before the rotation"
log "alert before the rotation in eve.json: ok"

if command -v logrotate >/dev/null; then
	# The shipped file, pointed at this test's log and vigild.
	sed -e "s#^/var/log/vigil/eve.json #$EVE #" \
		-e "s#systemctl kill --signal=SIGUSR2 --kill-whom=main vigild.service#kill -USR2 $VIGILD_PID#" \
		"$LOGROTATE_CONF" >"$WORK/logrotate.conf"
	grep -q "kill -USR2 $VIGILD_PID" "$WORK/logrotate.conf" || fail "the shipped logrotate file's postrotate changed"
	logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf" || fail "logrotate failed"
	how="logrotate with dist/logrotate/vigil"
else
	mv "$EVE" "$EVE.1"
	kill -USR2 "$VIGILD_PID"
	how="mv and kill -USR2 (logrotate is not installed)"
fi
[[ -f $EVE.1 ]] || fail "eve.json was not moved to eve.json.1"
for _ in $(seq 50); do
	[[ -f $EVE ]] && break
	sleep 0.1
done
[[ -f $EVE ]] || fail "no new eve.json after SIGUSR2: $(grep SIGUSR2 "$WORK/vigild.log")"
[[ $(stat -c %U "$EVE") == nobody ]] || fail "the new eve.json belongs to $(stat -c %U "$EVE")"
grep -q "SIGUSR2: reopening $EVE" "$WORK/vigild.log" || fail "no reopen in the log"
log "$how: eve.json moved, a new one created by vigild as nobody: ok"

alert_in "GET vigil-rotate-after" "$EVE" 9999102 || fail "the alert after the rotation is not in the new eve.json"
grep -q '"signature_id":9999102' "$EVE.1" && fail "the alert after the rotation went to the moved file"
grep -q '"signature_id":9999101' "$EVE.1" || fail "the moved file lost the alert before the rotation"
grep -q '"signature_id":9999101' "$EVE" && fail "the new eve.json has the old alert"
grep -q "SIGHUP: reloading" "$WORK/vigild.log" && fail "SIGUSR2 reloaded the policy or signatures"
log "the next alert lands in the new eve.json, the old one stays in eve.json.1: ok"

e2e_stop_vigild
log "PASS"
