#!/usr/bin/env bash
# vhost-user in front of a guest (issue 20, part 3; docs/VM.md): vigild on the host with a
# net_vhost port (a vhost-user server on a unix socket) and a net_tap port; a QEMU guest (TCG,
# the host's Debian kernel and the project's initramfs, as run-guest.sh) whose virtio-net NIC is
# the vhost-user client on that socket, with the guest kernel's own network stack behind it:
#
#   guest 10.89.1.1 (virtio-net) --vhost-user-- [host: vigild] --tap vmh1-- namespace vmh-b (10.89.1.2)
#
#   sudo scripts/vm/run-vhost.sh [--timeout S] [--run-dir DIR] [--vigild PATH] [--api-port P]
#                                [--rate S] [--compare R [--compare-json FILE]] [--tx-drain-us US]
#                                [--libvirt embed|virsh]
#
# Checks, from the namespace and vigild's API on the host: ping and UDP echo (port 5353) cross,
# UDP to 9999 is dropped by vigild's policy and counted by its rule, the ports' counters show the
# traffic; then vigild restarts while the guest runs (QEMU reconnects to the new socket:
# reconnect=1 on its chardev) and the same checks pass again; then the guest restarts (QEMU
# ended and started again) while vigild runs: vigild's outside link goes down and up, and the
# checks pass a third time. --timeout bounds the whole run (default 600 s); --run-dir (default
# .run/vhost) holds the console, logs and config. Cleans up (QEMU and vigild by PID, the
# namespace) on every exit. Needs root and qemu-system-x86, linux-image-amd64, busybox-static.
# --rate S: after the first round, offer UDP from the namespace as fast as one socket sends for
# S seconds (udp-rate.py) and print how much vigild passed to the guest (the emulated figure in
# docs/VM.md; it checks nothing).
# --compare R: after the third round, R rounds each of dpdk-testpmd (io forwarding) and vigild,
# alternating (testpmd first), each between the same vhost-user socket and tap with the same
# lcores, burst and descriptors, and vigild with idle_sleep_us 0 (testpmd polls without
# sleeping); each round 100 pings 20 ms apart and 100 UDP echoes (latency.py); prints
# min/median/avg per program and vigild's median minus testpmd's, and writes them to
# --compare-json (default RUN_DIR/latency.json). Fails if a round lost over 10%.
# --tx-drain-us US: vigild's dataplane.tx_drain_us (how long it holds a partial TX burst;
# default 100 us).
# --libvirt embed|virsh: the guest is the libvirt domain scripts/vm/vhost-guest.xml, run by
# libvirt's embedded QEMU driver (virt-qemu-run; needs the user and group libvirt-qemu) or by a
# running libvirtd (virsh define, virsh start; undefined on exit); docs/VM.md, "With libvirt".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
timeout_s=600
run=$root/.run/vhost
vigild=$root/build/app/vigild
api_port=18880
rate=0
libvirt=
compare=0
compare_json=
tx_drain=
cmdline="scripts/vm/run-vhost.sh $*"
while (($#)); do
	case $1 in
	--timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
	--run-dir) run=${2:?--run-dir needs a directory}; shift 2 ;;
	--vigild) vigild=$(realpath "${2:?--vigild needs a path}"); shift 2 ;;
	--api-port) api_port=${2:?--api-port needs a port}; shift 2 ;;
	--rate) rate=${2:?--rate needs seconds}; shift 2 ;;
	--libvirt) libvirt=${2:?--libvirt needs embed or virsh}; shift 2 ;;
	--tx-drain-us) tx_drain=${2:?--tx-drain-us needs microseconds}; shift 2 ;;
	--compare) compare=${2:?--compare needs a number of rounds}; shift 2 ;;
	--compare-json) compare_json=$(realpath "${2:?--compare-json needs a file}"); shift 2 ;;
	-h | --help) sed -n '2,34p' "$0"; exit 0 ;;
	*) echo "run-vhost: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
[[ $EUID -eq 0 ]] || { echo "run-vhost: needs root (tap, namespace)" >&2; exit 1; }
[[ -x $vigild ]] || { echo "run-vhost: $vigild not built (scripts/build.sh build)" >&2; exit 1; }
case $libvirt in
'') ;;
embed) command -v virt-qemu-run >/dev/null || { echo "run-vhost: no virt-qemu-run (apt-get install libvirt-daemon-driver-qemu)" >&2; exit 1; } ;;
virsh) virsh -q -c qemu:///system version >/dev/null 2>&1 || { echo "run-vhost: virsh cannot reach libvirtd (qemu:///system)" >&2; exit 1; } ;;
*) echo "run-vhost: --libvirt embed or --libvirt virsh, not '$libvirt'" >&2; exit 2 ;;
esac
if ((compare > 0)) && ! command -v dpdk-testpmd >/dev/null; then
	echo "run-vhost: --compare needs dpdk-testpmd (apt-get install dpdk)" >&2
	exit 1
fi
mkdir -p "$run"
run=$(cd "$run" && pwd)
TAP=vmh1
NS=vmh-b
PREFIX=vigil-vh$$
TP_PREFIX=vigil-vhtp$$
DOMAIN=vigil-vhost-guest
VIRSH=(virsh -q -c qemu:///system)
SOCK=$run/vhost0.sock
qemu_pid=
vigild_pid=
testpmd_pid=
vigild_log=$run/vigild.log
shopt -s nullglob
huge_before=(/dev/hugepages/libvirt/qemu-embed-*)
shopt -u nullglob
t0=$(date +%s.%N)
deadline=$(($(date +%s) + timeout_s))
since() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "[run-vhost +$(since)s] $*"; }

stop_pid() { # PID SECONDS: TERM, then KILL after SECONDS
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null || true
	timeout "$2" tail --pid="$1" -f /dev/null || kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[[ -n $qemu_pid ]] && stop_pid "$qemu_pid" 10
	[[ -n $vigild_pid ]] && stop_pid "$vigild_pid" 15
	[[ -n $testpmd_pid ]] && stop_pid "$testpmd_pid" 15
	ip netns del $NS 2>/dev/null || true
	rm -rf /var/run/dpdk/"$PREFIX" /var/run/dpdk/"$TP_PREFIX" 2>/dev/null || true
	if [[ $libvirt == virsh ]]; then
		"${VIRSH[@]}" destroy $DOMAIN >/dev/null 2>&1 || true
		"${VIRSH[@]}" undefine $DOMAIN >/dev/null 2>&1 || true
	fi
	# The embedded driver leaves an empty directory per run in the hugetlbfs mount
	# (/dev/hugepages/libvirt/qemu-embed-HASH): the ones this run made go.
	if [[ $libvirt == embed ]]; then
		for d in /dev/hugepages/libvirt/qemu-embed-*; do
			[[ -d $d && " ${huge_before[*]} " != *" $d "* ]] && { rmdir "$d" 2>/dev/null || true; }
		done
		rmdir /dev/hugepages/libvirt 2>/dev/null || true
	fi
	rm -f "$run/stop" "$SOCK"
	if ((rc != 0)); then
		echo "run-vhost: failed (rc $rc); the guest's console (last 40 lines of $run/console.log):" >&2
		tail -n 40 "$run/console.log" >&2 2>/dev/null || true
		echo "run-vhost: vigild's log (last 30 lines):" >&2
		tail -n 30 "$run/vigild.log" >&2 2>/dev/null || true
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ip netns list | grep -qw $NS || ip link show $TAP >/dev/null 2>&1; then
	echo "run-vhost: namespace $NS or interface $TAP exists (another run?): ip netns del $NS" >&2
	exit 1
fi
if (echo >/dev/tcp/127.0.0.1/"$api_port") 2>/dev/null; then
	echo "run-vhost: 127.0.0.1:$api_port is taken (--api-port)" >&2
	exit 1
fi

version=$("$here/build-initramfs.sh" --out "$run")
say "initramfs for kernel $version ready"
rm -f "$run/stop" "$run/console.log" "$run/console-1.log" "$run/vigild.log" "$run/vigild-1.log" \
	"$run/latency.jsonl" "$run"/vigild-c*.log "$run"/testpmd-*.log
install -m 755 "$here/guest-vhost.sh" "$run/guest-vhost.sh"

cat >"$run/policy.yaml" <<EOF
version: 1
default: allow
rules:
  - name: no-udp-9999
    proto: udp
    dport: 9999
    action: drop
EOF
# No hugepages: net_vhost copies between the guest's shared memory and vigild's mbufs by
# virtual address. One worker; idle_sleep_us spares the 2-core host while the guest boots.
cat >"$run/vigil.yaml" <<EOF
eal: {file_prefix: $PREFIX, hugepages: off, args: ["--log-level=lib.eal:error"]}
lcores: {control: 0, workers: [1]}
ports:
  - {name: outside, device: "net_vhost0,iface=$SOCK"}
  - {name: inside, device: "net_tap0,iface=$TAP"}
pairs: [[outside, inside]]
dataplane: {idle_sleep_us: 200${tx_drain:+, tx_drain_us: $tx_drain}}
log: {level: info}
policy: {file: $run/policy.yaml}
store: {path: $run/vigil.db}
mgmt: {port: $api_port, allow_unauthenticated_loopback: true}
EOF

# The tap moves into the namespace once the ports are started (as tests/e2e/lib.sh does).
# With MAC, the tap gets that address (the compare rounds: the guest's ARP entry stays right
# across the programs' restarts).
tap_into_ns() { # [MAC]
	ip netns list | grep -qw $NS || { ip netns add $NS; ip -n $NS link set lo up; }
	ip link set $TAP netns $NS
	ip netns exec $NS sysctl -qw net.ipv6.conf.$TAP.disable_ipv6=1
	[[ -z ${1:-} ]] || ip -n $NS link set $TAP address "$1"
	ip -n $NS addr add 10.89.1.2/24 dev $TAP
	ip -n $NS link set $TAP up
}
# libvirtd (--libvirt virsh) runs QEMU as its user (libvirt-qemu, group kvm): the socket the
# program created as root must let that group connect.
sock_for_libvirt() {
	[[ $libvirt != virsh ]] || { chgrp kvm "$SOCK" && chmod 660 "$SOCK"; }
}
start_vigild() { # [CONFIG LOG MAC]
	vigild_log=${2:-$run/vigild.log}
	# Emptied here, not by the background job's redirection: the loop below must not find the
	# previous run's "forwarding;" before that job has truncated the file.
	: >"$vigild_log"
	"$vigild" -c "${1:-$run/vigil.yaml}" >"$vigild_log" 2>&1 &
	vigild_pid=$!
	for _ in $(seq 600); do
		grep -q "forwarding;" "$vigild_log" && break
		kill -0 $vigild_pid 2>/dev/null || { say "vigild exited during start-up"; return 1; }
		sleep 0.1
	done
	grep -q "forwarding;" "$vigild_log" || { say "vigild did not forward within 60 s"; return 1; }
	sock_for_libvirt
	tap_into_ns "${3:-}"
	say "vigild forwarding (pid $vigild_pid), $TAP in $NS"
}
# dpdk-testpmd in io mode between the same two ports (the --compare rounds): the lcores,
# memory, burst and descriptors of vigild's config.
start_testpmd() { # LOG MAC
	rm -f "$SOCK"
	: >"$1"
	dpdk-testpmd -l 0,1 --main-lcore 0 --no-huge -m 1024 --no-pci --file-prefix "$TP_PREFIX" \
		--vdev "net_vhost0,iface=$SOCK" --vdev "net_tap0,iface=$TAP" --log-level=lib.eal:error -- \
		--forward-mode=io --nb-cores=1 --rxq=1 --txq=1 --rxd=1024 --txd=1024 --burst=32 \
		--total-num-mbufs=8192 --stats-period 60 --no-lsc-interrupt --disable-link-check \
		</dev/null >"$1" 2>&1 &
	testpmd_pid=$!
	for _ in $(seq 600); do
		grep -q "packet forwarding - ports=" "$1" && break
		kill -0 $testpmd_pid 2>/dev/null || { say "testpmd exited during start-up"; return 1; }
		sleep 0.1
	done
	grep -q "packet forwarding - ports=" "$1" || { say "testpmd did not forward within 60 s"; return 1; }
	sock_for_libvirt
	tap_into_ns "$2"
	say "testpmd forwarding (pid $testpmd_pid), $TAP in $NS"
}

# 1 GiB of guest memory in a shared memfd: the vhost-user backend (vigild) maps it. One vCPU:
# the guest only runs its kernel's stack; the host's other core is vigild's worker.
# reconnect=1: when vigild restarts, QEMU connects again to the new socket within a second.
# vectors=0 (no MSI-X, legacy INTx): without KVM, Debian's QEMU 7.2 crashes (SIGSEGV in
# msix_set_vector_notifiers under vhost_net_start) as soon as the guest's driver starts a
# vhost-user device with MSI-X.
start_qemu() {
	if [[ -n $libvirt ]]; then
		start_libvirt
		return
	fi
	qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 1G \
		-object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem \
		-machine pc -nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$run/console.log" \
		-kernel "$run/kernel" -initrd "$run/initramfs.gz" \
		-append "console=ttyS0 panic=-1 no_timer_check vigil.run=/tmp/vm/guest-vhost.sh" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot \
		-virtfs "local,path=$run,mount_tag=vmrun,security_model=none,id=vmrun" \
		-chardev "socket,id=vh0,path=$SOCK,reconnect=1" \
		-netdev vhost-user,id=n0,chardev=vh0 \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:89:01:01,disable-legacy=on,vectors=0 \
		>"$run/qemu.log" 2>&1 &
	qemu_pid=$!
	say "QEMU started (pid $qemu_pid)"
}

# --libvirt: the same guest as a libvirt domain (scripts/vm/vhost-guest.xml, @RUN@ replaced).
# 'embed': libvirt's embedded QEMU driver (virt-qemu-run, no libvirtd) with its state under
# RUN/libvirt, whose etc/qemu.conf runs QEMU as root without a security driver, cgroups or mount
# namespace and writes the serial console to a file, not through virtlogd; qemu_pid is
# virt-qemu-run's (SIGTERM ends the guest). 'virsh': a running libvirtd (qemu:///system, its
# own qemu.conf): virsh define and virsh start, qemu_pid QEMU's from libvirt's pid file; the
# domain is undefined on exit.
domain_log() {
	if [[ $libvirt == embed ]]; then
		echo "$run/libvirt/log/qemu/$DOMAIN.log"
	else
		echo "/var/log/libvirt/qemu/$DOMAIN.log"
	fi
}
start_libvirt() {
	sed "s|@RUN@|$run|g" "$here/vhost-guest.xml" >"$run/domain.xml"
	rm -f "$(domain_log)"
	if [[ $libvirt == virsh ]]; then
		# Defined once (a second define of the same name without the first's uuid is refused);
		# started again after the guest's restart once libvirtd has seen QEMU end.
		if ! "${VIRSH[@]}" dominfo $DOMAIN >/dev/null 2>&1; then
			"${VIRSH[@]}" define "$run/domain.xml" >"$run/qemu.log" 2>&1 || { cat "$run/qemu.log" >&2; return 1; }
		fi
		for _ in $(seq 40); do
			[[ $("${VIRSH[@]}" domstate $DOMAIN 2>/dev/null) == "shut off" ]] && break
			sleep 0.25
		done
		# virsh start waits for QEMU's connection to the socket.
		timeout 120 "${VIRSH[@]}" start $DOMAIN >>"$run/qemu.log" 2>&1 || { cat "$run/qemu.log" >&2; return 1; }
		qemu_pid=$(cat /run/libvirt/qemu/$DOMAIN.pid)
		say "virsh define and start: libvirtd's QEMU (pid $qemu_pid) runs domain $DOMAIN ($run/domain.xml)"
		return 0
	fi
	mkdir -p "$run/libvirt/etc"
	cat >"$run/libvirt/etc/qemu.conf" <<-EOF
		user = "root"
		group = "root"
		dynamic_ownership = 0
		remember_owner = 0
		security_driver = "none"
		namespaces = [ ]
		cgroup_controllers = [ ]
		stdio_handler = "file"
	EOF
	virt-qemu-run --verbose --root "$run/libvirt" "$run/domain.xml" >"$run/qemu.log" 2>&1 &
	qemu_pid=$!
	say "virt-qemu-run started (pid $qemu_pid): libvirt domain $run/domain.xml"
}

wait_for() { # PATTERN WHAT
	while ! grep -q "$1" "$run/console.log" 2>/dev/null; do
		kill -0 "$qemu_pid" 2>/dev/null || { say "QEMU exited before: $2"; return 1; }
		(($(date +%s) < deadline)) || { say "timed out waiting for: $2"; return 1; }
		grep -q "FAIL:" "$run/console.log" 2>/dev/null && { say "guest failed before: $2"; return 1; }
		sleep 0.5
	done
	say "$2 ($(grep -m1 "$1" "$run/console.log"))"
}

api() { curl -s -m 10 "http://127.0.0.1:$api_port/api/v1/$1"; }
link_state() {
	api status | python3 -c '
import json, sys
print([p for p in json.load(sys.stdin)["ports"] if p["name"] == "outside"][0]["link"]["state"])' 2>/dev/null
}
wait_link() { # STATE SECONDS
	local s=''
	for _ in $(seq $(($2 * 4))); do
		s=$(link_state) && [[ $s == "$1" ]] && return 0
		sleep 0.25
	done
	say "vigild's outside link is '$s', not $1 after $2 s"
	return 1
}

udp_echo() { # PORT COUNT TIMEOUT
	ip netns exec $NS python3 -c '
import socket, sys, time
port, n, tmo = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(tmo)
rtts = []
for i in range(n):
    t = time.monotonic()
    s.sendto(b"vigil-vh-%d" % i, ("10.89.1.1", port))
    try:
        d, _ = s.recvfrom(2048)
        if d == b"vigil-vh-%d" % i:
            rtts.append((time.monotonic() - t) * 1000)
    except socket.timeout:
        pass
print("%d/%d UDP echoes on port %d, rtt avg %.2f ms" % (len(rtts), n, port, sum(rtts) / len(rtts) if rtts else 0))
' "$@" 2>&1
}

# One round of checks (ROUND names it): ping 10, 20 UDP echoes, 3 datagrams to 9999; then,
# from vigild's API against the status before: inside rx and outside tx grew by at least the
# 30 requests + 3, outside rx and inside tx by at least the 30 replies, and the rule counted
# exactly 3 more.
round() {
	local good=1 out counted=0
	api status >"$run/status-$1-before.json"
	api rules/counters >"$run/counters-$1-before.json"
	if out=$(ip netns exec $NS ping -c 10 -i 0.5 -W 5 10.89.1.1 2>&1); then
		say "$1: ping: $(grep -E 'packets transmitted|rtt' <<<"$out" | tr '\n' ' ')"
	else
		good=0
		say "$1: ping FAILED: $(tr '\n' ' ' <<<"$out")"
	fi
	out=$(udp_echo 5353 20 5)
	say "$1: UDP (allowed): $out"
	[[ $out == "20/20 "* ]] || good=0
	out=$(udp_echo 9999 3 2)
	say "$1: UDP to 9999 (the policy drops it): $out"
	[[ $out == "0/3 "* ]] || good=0
	for _ in $(seq 15); do
		api status >"$run/status-$1.json"
		api rules/counters >"$run/counters-$1.json"
		if out=$(python3 -c '
import json, sys
b, a, cb, ca = (json.load(open(f)) for f in sys.argv[1:5])
P = lambda s: {p["name"]: p for p in s["ports"]}
pb, pa = P(b), P(a)
d = lambda port, k: pa[port][k] - pb[port][k]
R = lambda c: sum(r["packets"] for r in c["policy"] if r["name"] == "no-udp-9999")
checks = [("inside rx", d("inside", "rx_packets"), ">=", 33), ("outside tx", d("outside", "tx_packets"), ">=", 30),
          ("outside rx", d("outside", "rx_packets"), ">=", 30), ("inside tx", d("inside", "tx_packets"), ">=", 30),
          ("rule no-udp-9999", R(ca) - R(cb), "==", 3)]
print(", ".join("%s %d (%s %d)" % c for c in checks))
sys.exit(0 if all(v == w if op == "==" else v >= w for _, v, op, w in checks) else 1)' \
			"$run/status-$1-before.json" "$run/status-$1.json" "$run/counters-$1-before.json" \
			"$run/counters-$1.json" 2>&1); then
			counted=1
			break
		fi
		sleep 1
	done
	say "$1: counted by vigild (API, deltas): $out"
	((counted)) || good=0
	((good)) || say "$1: FAILED"
	return $((1 - good))
}

ok=1
start_vigild
wait_link down 10 || ok=0
say "outside (net_vhost) down: no guest yet"
start_qemu
wait_for "Linux version" "kernel started"
wait_for "host root mounted" "initramfs done, host root mounted"
wait_for "GUEST-NET-UP" "guest network up"
wait_link up 10 || ok=0
say "outside (net_vhost) up: the guest's virtio-net attached"
round "1 first boot" || ok=0
if ((rate > 0)); then
	api status >"$run/status-rate.json"
	sent=$(ip netns exec $NS python3 "$here/udp-rate.py" 10.89.1.1 7777 "$rate")
	sleep 2
	api status >"$run/status-rate-after.json"
	say "rate: $sent UDP datagrams (60-byte frames) offered in $rate s ($((sent / rate))/s); vigild: $(python3 -c '
import json, sys
b, a = ({p["name"]: p for p in json.load(open(f))["ports"]} for f in sys.argv[1:3])
print(", ".join("%s %s +%d" % (n, k, a[n][k] - b[n][k]) for n, k in
      [("inside", "rx_packets"), ("inside", "rx_missed"), ("outside", "tx_packets"), ("outside", "tx_full")]))' \
		"$run/status-rate.json" "$run/status-rate-after.json" 2>&1) (outside tx: what the guest's vring took)"
fi

# vigild restarts while the guest runs: the guest's NIC keeps its state; QEMU reconnects.
cp "$run/vigild.log" "$run/vigild-1.log"
t=$(date +%s.%N)
stop_pid "$vigild_pid" 15
vigild_pid=''
say "vigild stopped"
start_vigild
wait_link up 30 || ok=0
say "outside up again after vigild's restart: $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s from SIGTERM"
round "2 after vigild restarted" || ok=0

# The guest restarts while vigild runs: QEMU ends (the NIC detaches) and starts again.
touch "$run/stop"
wait_for "GUEST-DONE" "guest script done" || true
cp "$run/console.log" "$run/console-1.log"
stop_pid "$qemu_pid" 10
qemu_pid=''
wait_link down 10 || ok=0
say "outside down: QEMU ended"
rm -f "$run/stop" "$run/console.log"
start_qemu
wait_for "GUEST-NET-UP" "guest network up after its restart"
wait_link up 10 || ok=0
say "outside up: the new guest attached"
round "3 after the guest restarted" || ok=0

# The round trip without vigild: testpmd and vigild take turns between the same two ports
# (vigild busy-polling, as testpmd does); after each start, UDP echoes until one comes back
# (the guest reconnected), then the probes.
if ((compare > 0)); then
	sed 's/idle_sleep_us: 200/idle_sleep_us: 0/' "$run/vigil.yaml" >"$run/vigil-compare.yaml"
	tap_mac=02:89:01:00:00:02
	for r in $(seq "$compare"); do
		for prog in testpmd vigild; do
			[[ -n $vigild_pid ]] && stop_pid "$vigild_pid" 15
			[[ -n $testpmd_pid ]] && stop_pid "$testpmd_pid" 15
			vigild_pid='' testpmd_pid=''
			rm -f "$SOCK"
			if [[ $prog == testpmd ]]; then
				start_testpmd "$run/testpmd-$r.log" $tap_mac || { ok=0; break 2; }
			else
				start_vigild "$run/vigil-compare.yaml" "$run/vigild-c$r.log" $tap_mac || { ok=0; break 2; }
			fi
			if ! w=$(ip netns exec $NS python3 "$here/latency.py" warm 10.89.1.1 5353 60); then
				ok=0
				say "compare: nothing crossed $prog within 60 s"
				break 2
			fi
			ip netns exec $NS python3 "$here/latency.py" probe 10.89.1.1 5353 100 0.02 "$prog" "$r" \
				>>"$run/latency.jsonl"
			say "compare: $prog round $r measured (the first echo came back after $w s)"
		done
	done
	python3 "$here/latency.py" report "$run/latency.jsonl" \
		--scenario "vigild on the host, net_vhost in front of the guest" \
		--command "$cmdline" --json "${compare_json:-$run/latency.json}" || ok=0
fi

touch "$run/stop"
wait_for "GUEST-DONE" "guest script done" || true
# virt-qemu-run (libvirt 9.0) stays after its guest powered off; libvirt's log of the domain
# says when QEMU shut down.
guest_off() {
	if [[ $libvirt == embed ]]; then
		grep -q "shutting down, reason=shutdown" "$(domain_log)" 2>/dev/null
	else
		if kill -0 "$qemu_pid" 2>/dev/null; then return 1; fi
	fi
}
for _ in $(seq 60); do guest_off && break; sleep 0.5; done
say "guest powered off: $(guest_off && echo yes || echo no)"
[[ -n $testpmd_pid ]] && stop_pid "$testpmd_pid" 15
testpmd_pid=''
[[ -n $vigild_pid ]] && stop_pid "$vigild_pid" 15
vigild_pid=''
say "vigild's final counters ($vigild_log):"
sed -n '/^port  *rx-packets/,$p' "$vigild_log" | tail -n 6 | sed 's/^/  /'
((ok)) || exit 1
say "PASS: vhost-user: ping and UDP crossed vigild between the guest and $NS, UDP to 9999 dropped and counted, after vigild's restart and after the guest's"
