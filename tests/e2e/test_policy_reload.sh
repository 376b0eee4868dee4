#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, policy changes over SIGHUP while traffic flows through vigild:
#  1. a UDP stream that both policies allow loses no datagram across 20 reloads;
#  2. a TCP connection that the first policy allows stops mid-stream when a new policy denies
#     its port (flows are re-classified on their next packet after a reload).
source "$(dirname "$0")/lib.sh"
e2e_require

allow_all() {
	cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: arp-and-nd, proto: icmpv6, action: allow}
  - {name: stream, proto: udp, dport: 9001, action: allow}
  - {name: echo, proto: tcp, dport: 9000, action: allow}
  - {name: ping, proto: icmp, action: allow}
  # generation $1
YAML
}
deny_echo() {
	cat >"$WORK/policy.yaml" <<YAML
version: 1
default: drop
rules:
  - {name: arp-and-nd, proto: icmpv6, action: allow}
  - {name: stream, proto: udp, dport: 9001, action: allow}
  - {name: echo, proto: tcp, dport: 9000, action: drop}
  - {name: ping, proto: icmp, action: allow}
YAML
}
in_force() { grep -c "in force" "$WORK/vigild.log" || true; }
reload() {
	local before
	before=$(in_force)
	kill -HUP "$VIGILD_PID"
	for _ in $(seq 100); do
		(($(in_force) > before)) && return 0
		sleep 0.05
	done
	fail "reload $1 was not published within 5 s"
}

allow_all 0
e2e_write_config "policy: {file: $WORK/policy.yaml}"
e2e_start_vigild
in_a ping -c 1 -W 2 $IP_B >/dev/null || fail "ping through vigild failed"

# 1. UDP stream: 20 reloads while 4000 numbered datagrams flow.
bg_in "$NS_B" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("0.0.0.0", 9001))
s.settimeout(30)
seen = set()
while True:
    try:
        d, _ = s.recvfrom(64)
    except socket.timeout:
        break
    if d == b"end":
        break
    seen.add(int(d))
open(sys.argv[1], "w").write("%d\n" % len(seen))
' "$WORK/udp-received"
sleep 0.3
in_a /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(4000):
    s.sendto(b"%d" % i, (sys.argv[1], 9001))
    time.sleep(0.001)
for _ in range(5):
    s.sendto(b"end", (sys.argv[1], 9001))
    time.sleep(0.05)
' $IP_B &
sender=$!
for i in $(seq 1 20); do
	allow_all "$i"
	reload "$i"
	sleep 0.1
done
wait $sender
for _ in $(seq 50); do
	[[ -s $WORK/udp-received ]] && break
	sleep 0.1
done
got=$(cat "$WORK/udp-received" 2>/dev/null || echo 0)
log "UDP stream: $got of 4000 datagrams arrived across 20 reloads"
((got == 4000)) || fail "datagrams were lost across reloads ($got of 4000)"

# 2. TCP echo allowed, then denied mid-stream.
bg_in "$NS_B" /usr/bin/python3 -c '
import socket
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 9000))
srv.listen(1)
c, _ = srv.accept()
while True:
    d = c.recv(4096)
    if not d:
        break
    c.sendall(d)
'
sleep 0.3
in_a /usr/bin/python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 9000), timeout=5)
s.settimeout(0.5)
before = after = 0
deny_at = None
start = time.time()
while time.time() - start < 6:
    try:
        s.sendall(b"ping\n")
        if s.recv(64):
            if deny_at is None:
                before += 1
            elif time.time() - deny_at > 0.5:
                after += 1
    except (socket.timeout, OSError):
        pass
    if deny_at is None and before >= 20:
        open(sys.argv[2], "w").write("ready\n")
        deny_at = time.time()
        while not __import__("os").path.exists(sys.argv[3]):
            time.sleep(0.01)
        deny_at = time.time()
    time.sleep(0.05)
open(sys.argv[4], "w").write("%d %d\n" % (before, after))
' $IP_B "$WORK/tcp-ready" "$WORK/tcp-denied" "$WORK/tcp-result" &
client=$!
for _ in $(seq 100); do
	[[ -e $WORK/tcp-ready ]] && break
	sleep 0.05
done
[[ -e $WORK/tcp-ready ]] || fail "the TCP echo never got going"
deny_echo
reload deny
touch "$WORK/tcp-denied"
wait $client
read -r before after <"$WORK/tcp-result"
log "TCP echo: $before answers before the deny, $after more than 0.5 s after it"
((before >= 20)) || fail "the echo did not work before the deny"
((after == 0)) || fail "the connection kept working after a policy denied it"

e2e_stop_vigild
grep -E "^ *(flows|parse)" "$WORK/vigild.log" | sed 's/^/e2e: /' || true
log "PASS"
