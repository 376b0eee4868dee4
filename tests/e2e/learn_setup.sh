# SPDX-License-Identifier: BSD-3-Clause
# The setup test_learn.sh and test_learn_pair.sh share (sourced after lib.sh, with PORT and
# TOKEN set): a policy that allows only ICMPv6, vigild's config with a store and an admin
# token, the API helpers, the echo servers in B and the traffic checks.

SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
BASE=http://127.0.0.1:$PORT/api/v1
api() { curl -s -H "Authorization: Bearer $TOKEN" "$@"; }
json() { /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: nd, proto: icmpv6, action: allow}
YAML
e2e_write_config "policy: {file: $WORK/policy.yaml}" \
	"store: {path: $WORK/vigil.db, batch_interval: 100ms}" \
	"mgmt: {port: $PORT, tokens: [{name: ops, role: admin, sha256: $SHA}]}"

# Servers in B: a TCP echo on 9000 and on 9002, UDP on 9001 counting datagrams.
servers() {
	for p in 9000 9002; do
		bg_in "$NS_B" /usr/bin/python3 -c '
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(8)
def echo(c):
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
while True:
    c, _ = srv.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
' $p
	done
	bg_in "$NS_B" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9001))
while True:
    d, a = s.recvfrom(64)
    s.sendto(d, a)
'
	sleep 0.3
}
tcp_echo() { # $1: port; prints ok or fail
	in_a /usr/bin/python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.settimeout(2)
    s.sendall(b"hello\n")
    print("ok" if s.recv(64) == b"hello\n" else "fail")
except OSError:
    print("fail")
' $IP_B "$1"
}
udp_echo() {
	in_a /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
ok = 0
for i in range(5):
    s.sendto(b"%d" % i, (sys.argv[1], 9001))
    try:
        ok += s.recvfrom(64)[0] == b"%d" % i
    except OSError:
        pass
print("ok" if ok == 5 else "fail %d" % ok)
' $IP_B
}
traffic_ok() {
	in_a ping -c 2 -W 2 $IP_B >/dev/null || fail "$1: ping A -> B failed"
	[[ $(tcp_echo 9000) == ok ]] || fail "$1: TCP echo on 9000 failed"
	[[ $(udp_echo) == ok ]] || fail "$1: UDP echo on 9001 failed"
}
wait_api() {
	for _ in $(seq 100); do
		api "$BASE/mode" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "the API did not answer"
}
