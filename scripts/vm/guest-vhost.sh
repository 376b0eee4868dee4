#!/bin/bash
# Runs inside the guest of scripts/vm/run-vhost.sh (copied to the run directory, which the guest
# mounts on /tmp/vm), chrooted into the host's root: the guest's own kernel network stack on its
# vhost-user virtio-net NIC (MAC 52:54:00:89:01:01), 10.89.1.1/24, with UDP echo servers on
# ports 5353 and 9999, until the host creates /tmp/vm/stop. Markers on the console tell the host
# each step.
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "[guest $(up)] $*" >/dev/console; }
vm=/tmp/vm
dev=''
for n in /sys/class/net/*; do
	[[ $(cat "$n/address" 2>/dev/null) == 52:54:00:89:01:01 ]] && dev=$(basename "$n")
done
if [[ -z $dev ]]; then
	say "FAIL: no NIC with MAC 52:54:00:89:01:01: $(ls /sys/class/net)"
	exit 1
fi
ip addr add 10.89.1.1/24 dev "$dev"
ip link set "$dev" up
for port in 5353 9999; do
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.89.1.1", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
' $port >/dev/null 2>&1 &
done
# The echo servers are up once both ports are bound (python starts slowly over 9p under TCG).
for _ in $(seq 120); do
	n=$(grep -c ':14E9 \|:270F ' /proc/net/udp)
	((n >= 2)) && break
	sleep 0.5
done
say "GUEST-NET-UP $dev 10.89.1.1, UDP echo on 5353 and 9999 ($n bound)"
while [[ ! -e $vm/stop ]]; do sleep 1; done
say "GUEST-DONE"
