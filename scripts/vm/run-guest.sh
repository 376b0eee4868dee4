#!/usr/bin/env bash
# Boot a QEMU guest (TCG, no KVM) on the host's Debian kernel with two virtio-net-pci NICs, run
# the host's own build/app/vigild inside it on those NICs, and send traffic through it between
# two network namespaces on the host (docs/VM.md):
#
#   namespace vmv-a (10.89.0.1) --tap vmv0-- [guest: vigild] --tap vmv1-- namespace vmv-b (10.89.0.2)
#
#   sudo scripts/vm/run-guest.sh [--timeout S] [--hold S] [--vfio] [--queues N] [--run-dir DIR]
#                                [--api-port P] [--quick] [--vigild PATH] [--rate S]
#                                [--compare R [--compare-json FILE]] [--tx-drain-us US]
#
# --vfio: a q35 machine with a virtual IOMMU (intel-iommu), the NICs behind it
# (iommu_platform=on) and bound to vfio-pci; default: uio_pci_generic (Debian's kernel has no
# vfio no-IOMMU mode).
# --timeout: the whole run's bound (default 900 s). --hold: keep vigild up this many seconds
# after the traffic checks (default 0). --queues N: N queues on each NIC (mq=on, rss=on; the
# tap with N queues) and N workers in the guest, all on vCPU 1 (default 1). --run-dir: where the
# initramfs, console and logs go (default .run/vm). --api-port: the port of vigild's API in the
# guest, which a third NIC (QEMU user-mode networking) forwards from 127.0.0.1 on the host
# (default 18480; 0: no management NIC, the API is asked inside the guest only). --quick: the
# reduced form for CI (no 1 MiB transfer, 5 pings, 5 UDP echoes). --vigild: the binary the guest
# runs (default build/app/vigild; it must be under the host's root, which the guest shares).
# --rate S: after the checks, offer UDP as fast as one socket sends for S seconds (udp-rate.py)
# and print how much crossed (the emulated figure in docs/VM.md; it checks nothing).
# --compare R: after the checks, R rounds each of dpdk-testpmd (io forwarding) and vigild,
# alternating (testpmd first), each on the same two NICs in the guest with the same lcores,
# descriptors and burst; each round 100 pings 20 ms apart and 100 UDP echoes (latency.py); prints
# min/median/avg per program and vigild's median minus testpmd's, and writes them to
# --compare-json (default RUN_DIR/latency.json). Fails if a round lost over 10% (one queue only).
# --tx-drain-us US: vigild's dataplane.tx_drain_us (how long it holds a partial TX burst;
# default 100 us).
# Prints each step's time; the guest's console is in
# .run/vm/console.log, vigild's log in .run/vm/vigild.log. Exits 0 when ping, UDP and TCP crossed
# and the guest policy dropped UDP to port 9999, a signature alerted, the API answered inside
# the guest and (with the management NIC) from the host, where its counters show the traffic
# forwarded, the 3 datagrams to 9999 dropped by their rule and the alert.
# Needs root and the Debian packages qemu-system-x86 linux-image-amd64 busybox-static.
# Cleans up (QEMU by PID, namespaces, whose deletion removes the taps) on every exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
timeout_s=900
hold=0
rate=0
vfio=0
queues=1
run=$root/.run/vm
api_port=18480
quick=0
vigild=$root/build/app/vigild
compare=0
compare_json=
tx_drain=
cmdline="scripts/vm/run-guest.sh $*"
while (($#)); do
	case $1 in
	--timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
	--hold) hold=${2:?--hold needs seconds}; shift 2 ;;
	--rate) rate=${2:?--rate needs seconds}; shift 2 ;;
	--tx-drain-us) tx_drain=${2:?--tx-drain-us needs microseconds}; shift 2 ;;
	--compare) compare=${2:?--compare needs a number of rounds}; shift 2 ;;
	--compare-json) compare_json=$(realpath "${2:?--compare-json needs a file}"); shift 2 ;;
	--vfio) vfio=1; shift ;;
	--queues) queues=${2:?--queues needs a number}; shift 2 ;;
	--run-dir) run=${2:?--run-dir needs a directory}; shift 2 ;;
	--api-port) api_port=${2:?--api-port needs a port}; shift 2 ;;
	--quick) quick=1; shift ;;
	--vigild) vigild=$(realpath "${2:?--vigild needs a path}"); shift 2 ;;
	-h | --help) sed -n '2,38p' "$0"; exit 0 ;;
	*) echo "run-guest: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
[[ $EUID -eq 0 ]] || { echo "run-guest: needs root (taps, namespaces)" >&2; exit 1; }
for p in qemu-system-x86 linux-image-amd64 busybox-static; do
	if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) != "install ok installed" ]]; then
		echo "run-guest: package $p missing: apt-get install -y --no-install-recommends $p" >&2
		exit 1
	fi
done
[[ -x $vigild ]] || { echo "run-guest: $vigild not built (scripts/build.sh build)" >&2; exit 1; }
if ((compare > 0 && queues > 1)); then
	echo "run-guest: --compare runs with one queue per NIC (testpmd and vigild on one worker)" >&2
	exit 2
fi
if ((compare > 0)) && ! command -v dpdk-testpmd >/dev/null; then
	echo "run-guest: --compare needs dpdk-testpmd (apt-get install dpdk)" >&2
	exit 1
fi

mkdir -p "$run"
run=$(cd "$run" && pwd)
TAP_A=vmv0
TAP_B=vmv1
NS_A=vmv-a
NS_B=vmv-b
qemu_pid=
pids=()
t0=$(date +%s.%N)
since() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "[run-guest +$(since)s] $*"; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		timeout 10 tail --pid="$qemu_pid" -f /dev/null || kill -KILL "$qemu_pid" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
	ip netns del $NS_A 2>/dev/null || true
	ip netns del $NS_B 2>/dev/null || true
	rm -f "$run/stop"
	if ((rc != 0)); then
		echo "run-guest: failed (rc $rc); the guest's console (last 60 lines of $run/console.log):" >&2
		tail -n 60 "$run/console.log" >&2 2>/dev/null || true
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ns in $NS_A $NS_B; do
	if ip netns list | grep -qw "$ns"; then
		echo "run-guest: namespace $ns exists (another run?); remove it: ip netns del $ns" >&2
		exit 1
	fi
done
for t in $TAP_A $TAP_B; do
	if ip link show "$t" >/dev/null 2>&1; then
		echo "run-guest: interface $t exists (another run?); remove it: ip link del $t" >&2
		exit 1
	fi
done

version=$("$here/build-initramfs.sh" --out "$run")
say "initramfs for kernel $version ready"
rm -f "$run/stop" "$run/vigild.log" "$run/console.log" "$run/eve.json" "$run/api.port" \
	"$run/api.sha256" "$run/queues" "$run/next" "$run/latency.jsonl" "$run"/vigild-*.log \
	"$run"/testpmd-*.log "$run/tx_drain_us"
install -m 755 "$here/guest.sh" "$run/guest.sh"
echo "$vigild" >"$run/vigild.path"
echo "$queues" >"$run/queues"
[[ -z $tx_drain ]] || echo "$tx_drain" >"$run/tx_drain_us"
# The management NIC: QEMU's user-mode network, 127.0.0.1:PORT on the host forwarded to the
# same port on the guest's 10.0.2.15 (restrict=on: the guest reaches nothing outside). The
# host asks /status with a viewer token, whose hash the guest's vigil.yaml holds.
mgmt=()
api_token=vm-$$-$RANDOM$RANDOM
if ((api_port > 0)); then
	if (echo >/dev/tcp/127.0.0.1/"$api_port") 2>/dev/null; then
		echo "run-guest: 127.0.0.1:$api_port is taken (--api-port)" >&2
		exit 1
	fi
	echo "$api_port" >"$run/api.port"
	printf %s "$api_token" | sha256sum | cut -d' ' -f1 >"$run/api.sha256"
	# shellcheck disable=SC2054 # the commas are QEMU's
	mgmt=(-netdev "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:$api_port-10.0.2.15:$api_port"
		-device virtio-net-pci,netdev=mgmt,mac=52:54:00:89:00:03,disable-legacy=on)
fi

# 3 GiB, 1 GiB of it in 2 MiB hugepages reserved at boot; 2 vCPUs: lcore 0 control, the
# workers on vCPU 1 (with several, guest.sh puts them all there with lcores.cpus: this machine
# has 2 cores).
# The NICs are modern-only virtio (disable-legacy=on): their BARs are memory, no port I/O.
machine=(-machine pc)
nicopt=disable-legacy=on
tapopt=
if ((queues > 1)); then
	# N queue pairs, 2N + 2 MSI-X vectors (one per queue, config, control queue), and RSS in
	# the device (rss=on: QEMU hashes with the key and table the driver gives it).
	nicopt+=",mq=on,vectors=$((2 * queues + 2)),rss=on"
	tapopt=",queues=$queues"
fi
# no_timer_check: under TCG on a loaded host the kernel's early check that the timer interrupt
# arrives can fail; with --vfio's interrupt remapping that is a panic ("timer doesn't work
# through Interrupt-remapped IO-APIC", seen here at load average 16).
append="console=ttyS0 panic=-1 no_timer_check hugepages=512 vigil.run=/tmp/vm/guest.sh"
if ((vfio)); then
	# shellcheck disable=SC2054 # the commas are QEMU's
	machine=(-machine q35 -device intel-iommu,caching-mode=on)
	nicopt+=,iommu_platform=on,ats=on
	append+=" intel_iommu=on vigil.driver=vfio-pci"
fi
qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 3G "${machine[@]}" \
	-nodefaults -no-user-config -display none -monitor none -no-reboot \
	-serial "file:$run/console.log" \
	-kernel "$run/kernel" -initrd "$run/initramfs.gz" -append "$append" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot \
	-virtfs "local,path=$run,mount_tag=vmrun,security_model=none,id=vmrun" \
	-netdev tap,id=n0,ifname=$TAP_A,script=no,downscript=no"$tapopt" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:89:00:01,$nicopt \
	-netdev tap,id=n1,ifname=$TAP_B,script=no,downscript=no"$tapopt" \
	-device virtio-net-pci,netdev=n1,mac=52:54:00:89:00:02,$nicopt \
	"${mgmt[@]}" \
	>"$run/qemu.log" 2>&1 &
qemu_pid=$!
say "QEMU started (pid $qemu_pid)"

# The taps exist once QEMU has opened them; each moves into its namespace (QEMU keeps its fd).
for _ in $(seq 100); do
	ip link show $TAP_A >/dev/null 2>&1 && ip link show $TAP_B >/dev/null 2>&1 && break
	kill -0 $qemu_pid 2>/dev/null || { cat "$run/qemu.log" >&2; exit 1; }
	sleep 0.1
done
ip netns add $NS_A
ip netns add $NS_B
ip link set $TAP_A netns $NS_A
ip link set $TAP_B netns $NS_B
ip -n $NS_A addr add 10.89.0.1/24 dev $TAP_A
ip -n $NS_B addr add 10.89.0.2/24 dev $TAP_B
# No IPv6 on the taps: its link-local chatter would cross vigild unasked and blur the counts.
for ns in $NS_A $NS_B; do
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip netns exec $NS_A sysctl -qw net.ipv6.conf.$TAP_A.disable_ipv6=1
ip netns exec $NS_B sysctl -qw net.ipv6.conf.$TAP_B.disable_ipv6=1
ip -n $NS_A link set $TAP_A up
ip -n $NS_B link set $TAP_B up
say "taps $TAP_A, $TAP_B in namespaces $NS_A, $NS_B"

deadline=$(($(date +%s) + timeout_s))
wait_for() { # PATTERN WHAT
	while ! grep -q "$1" "$run/console.log" 2>/dev/null; do
		kill -0 $qemu_pid 2>/dev/null || { say "QEMU exited before: $2"; return 1; }
		(($(date +%s) < deadline)) || { say "timed out waiting for: $2"; return 1; }
		grep -q "FAIL:" "$run/console.log" 2>/dev/null && { say "guest failed before: $2"; return 1; }
		sleep 0.5
	done
	say "$2 ($(grep -m1 "$1" "$run/console.log"))"
}
wait_for "Linux version" "kernel started"
wait_for "host root mounted" "initramfs done, host root mounted"
wait_for "NICS-BOUND" "NICs bound"
wait_for "VIGILD-FORWARDING" "vigild forwarding"

ok=1
wait_for "API from inside the guest" "the guest asked vigild's API" || ok=0
grep -q "API from inside the guest: .* 200" "$run/console.log" || { ok=0; say "API FAILED"; }
api_get() { # PATH OUT: GET /api/v1/PATH with the viewer token
	curl -s -m 20 -H "Authorization: Bearer $api_token" "http://127.0.0.1:$api_port/api/v1/$1" \
		>"$2" 2>&1 || true
}
if ((api_port > 0)); then
	h=$(curl -s -m 20 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/api/v1/health" 2>&1 || true)
	say "API from the host (127.0.0.1:$api_port forwarded to the guest): GET /api/v1/health -> $h"
	[[ $h == 200 ]] || ok=0
	api_get status "$run/status.json"
	st=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(" ".join("%s:%s,%s,steering=%s(%s)" % (p["name"], p.get("driver", "?"), p["link"]["state"],
      p.get("steering", {}).get("mode", "?"), p.get("steering", {}).get("reason", ""))
      for p in s["ports"]))' "$run/status.json" 2>&1) || { ok=0; st="not JSON: $(head -c 200 "$run/status.json")"; }
	say "API from the host: GET /api/v1/status (viewer token): $st"
fi
npings=10
((quick)) && npings=5
say "ping $NS_A -> 10.89.0.2 through the guest"
if ip netns exec $NS_A ping -c $npings -i 0.5 -W 5 10.89.0.2 >"$run/ping.log" 2>&1; then
	say "ping: $(grep -E 'packets transmitted|rtt' "$run/ping.log" | tr '\n' ' ')"
else
	ok=0
	say "ping FAILED: $(tr '\n' ' ' <"$run/ping.log")"
fi
# UDP echo servers on 5353 (allowed) and 9999 (dropped by the guest's policy), a web server.
for port in 5353 9999; do
	ip netns exec $NS_B python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.89.0.2", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
' $port >/dev/null 2>&1 &
	pids+=($!)
done
mkdir -p "$run/www"
head -c 1048576 /dev/urandom >"$run/www/blob"
ip netns exec $NS_B python3 -m http.server --bind 10.89.0.2 --directory "$run/www" 80 \
	>"$run/http.log" 2>&1 &
pids+=($!)
sleep 1
udp_echo() { # PORT COUNT TIMEOUT
	ip netns exec $NS_A python3 -c '
import socket, sys, time
port, n, tmo = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(tmo)
rtts = []
for i in range(n):
    t = time.monotonic()
    s.sendto(b"vigil-vm-%d" % i, ("10.89.0.2", port))
    try:
        d, _ = s.recvfrom(2048)
        if d == b"vigil-vm-%d" % i:
            rtts.append((time.monotonic() - t) * 1000)
    except socket.timeout:
        pass
print("%d/%d UDP echoes on port %d, rtt avg %.2f ms" % (len(rtts), n, port, sum(rtts) / len(rtts) if rtts else 0))
' "$@" 2>&1
}
nudp=20
((quick)) && nudp=5
udp=$(udp_echo 5353 $nudp 5)
say "UDP (allowed): $udp"
[[ $udp == "$nudp/$nudp "* ]] || ok=0
udp=$(udp_echo 9999 3 2)
say "UDP to 9999 (the policy drops it): $udp"
[[ $udp == "0/3 "* ]] || ok=0
if ((quick)); then
	say "TCP: 1 MiB transfer skipped (--quick); the signature's HTTP GET below is the TCP check"
elif tcp=$(ip netns exec $NS_A curl -s -m 60 -o /dev/null -w '%{http_code} %{size_download} bytes in %{time_total} s' \
	http://10.89.0.2/blob 2>&1) && [[ $tcp == "200 1048576 "* ]]; then
	say "TCP: HTTP GET of 1 MiB: $tcp"
else
	ok=0
	say "TCP FAILED: $tcp"
fi
# The guest's signature (scripts/vm/guest.sh) alerts on this URI.
code=$(ip netns exec $NS_A curl -s -m 30 -o /dev/null -w '%{http_code}' http://10.89.0.2/vigil-vm-attack 2>&1 || true)
say "HTTP GET /vigil-vm-attack (a signature matches it): $code"
[[ $code == 404 ]] || ok=0
# What vigild counted, asked from the host: against the status read before the traffic, the
# outside port received at least every ping request and datagram sent (the 3 to 9999 among
# them), the inside port sent on all but those 3, the replies came back the other way, the
# policy rule no-udp-9999 counted exactly the 3 datagrams, and the signature its alert. Control
# refreshes the counters periodically: up to 15 readings a second apart.
if ((api_port > 0)); then
	counted='' counted_ok=0
	for _ in $(seq 15); do
		api_get status "$run/status-after.json"
		api_get rules/counters "$run/counters.json"
		if counted=$(python3 -c '
import json, sys
before, after, counters = (json.load(open(f)) for f in sys.argv[1:4])
sent = replies = int(sys.argv[4])
b = {p["name"]: p for p in before["ports"]}
a = {p["name"]: p for p in after["ports"]}
d = lambda port, k: a[port][k] - b[port][k]
rule = [r["packets"] for r in counters["policy"] if r["name"] == "no-udp-9999"]
alerts = sum(s["alerts"] for s in counters.get("signatures", []) if s["sid"] == 9900001)
checks = [("outside rx", d("outside", "rx_packets"), ">=", sent + 3),
          ("inside tx", d("inside", "tx_packets"), ">=", sent),
          ("inside rx", d("inside", "rx_packets"), ">=", replies),
          ("outside tx", d("outside", "tx_packets"), ">=", replies),
          ("outside dropped", d("outside", "dropped"), ">=", 3),
          ("rule no-udp-9999 packets", rule[0] if rule else None, "==", 3),
          ("sid 9900001 alerts", alerts, ">=", 1)]
good = all(v is not None and (v == w if op == "==" else v >= w) for _, v, op, w in checks)
print(", ".join("%s %s (%s %d)" % (n, v, op, w) for n, v, op, w in checks))
sys.exit(0 if good else 1)' "$run/status.json" "$run/status-after.json" "$run/counters.json" \
			$((npings + nudp)) 2>&1); then
			counted_ok=1
			break
		fi
		sleep 1
	done
	say "counted by vigild, from the host's API (GET /status before and after, /rules/counters): $counted"
	((counted_ok)) || { ok=0; say "COUNTERS FAILED"; }
fi
# Several queues: RSS in the virtio device spreads address pairs over the queues, and the same
# pair must land on the same worker in both directions (vigild gives the device a symmetric
# key). 8 more source addresses in $NS_A send 4 datagrams each to the echo server, with static
# neighbours both ways so that no ARP crosses meanwhile; then, per worker, what its outside
# queue received must equal what its inside queue received (each echo came back to the worker
# that saw its request), the outside queues together the 32 requests, and each worker some.
if ((queues > 1 && api_port > 0)); then
	mac() { ip -n "$1" -o link show "$2" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }
	mac_a=$(mac $NS_A $TAP_A) mac_b=$(mac $NS_B $TAP_B)
	ip -n $NS_A neigh replace 10.89.0.2 lladdr "$mac_b" dev $TAP_A nud permanent
	srcs=()
	for i in $(seq 11 18); do
		ip -n $NS_A addr add 10.89.0.$i/24 dev $TAP_A
		ip -n $NS_B neigh replace 10.89.0.$i lladdr "$mac_a" dev $TAP_B nud permanent
		srcs+=("10.89.0.$i")
	done
	api_get status "$run/status-mq.json"
	echoes=$(ip netns exec $NS_A python3 -c '
import socket, sys
n = 0
for src in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(5)
    for i in range(4):
        s.sendto(b"vigil-mq-%d" % i, ("10.89.0.2", 5353))
        try:
            n += s.recvfrom(2048)[0] == b"vigil-mq-%d" % i
        except socket.timeout:
            pass
print(n)' "${srcs[@]}" 2>&1)
	spread='' spread_ok=0
	for _ in $(seq 15); do
		api_get status "$run/status-mq-after.json"
		if spread=$(python3 -c '
import json, sys
before, after = (json.load(open(f)) for f in sys.argv[1:3])
echoes = sys.argv[3]
def q(s):
    return {(w["id"], x["port"]): x["rx_packets"] for w in s["workers"] for x in w["queues"]}
b, a = q(before), q(after)
d = {k: a[k] - b.get(k, 0) for k in a}
ids = sorted({w for w, _ in d})
rows = [(w, d.get((w, "outside"), 0), d.get((w, "inside"), 0)) for w in ids]
modes = [p["steering"]["mode"] for p in after["ports"]]
good = (echoes == "32" and modes == ["rss", "rss"] and len(ids) >= 2 and
        all(o == i and o > 0 for _, o, i in rows) and sum(o for _, o, _ in rows) == 32)
print("echoes %s/32, steering %s; per worker (outside rx, inside rx): %s" % (
      echoes, ",".join(modes), " ".join("w%d (%d, %d)" % r for r in rows)))
sys.exit(0 if good else 1)' "$run/status-mq.json" "$run/status-mq-after.json" "$echoes" 2>&1); then
			spread_ok=1
			break
		fi
		sleep 1
	done
	say "multi-queue: 8 sources x 4 datagrams: $spread"
	((spread_ok)) || { ok=0; say "MULTI-QUEUE FAILED"; }
fi
if ((rate > 0)); then
	rate_rx() { ip netns exec $NS_B cat /sys/class/net/$TAP_B/statistics/rx_packets; }
	rx0=$(rate_rx)
	((api_port > 0)) && api_get status "$run/status-rate.json"
	sent=$(ip netns exec $NS_A python3 "$here/udp-rate.py" 10.89.0.2 7777 "$rate")
	sleep 2
	rx1=$(rate_rx)
	line="rate: $sent UDP datagrams (60-byte frames) offered in $rate s ($((sent / rate))/s); $((rx1 - rx0)) reached $NS_B ($(((rx1 - rx0) / rate))/s)"
	if ((api_port > 0)); then
		api_get status "$run/status-rate-after.json"
		line+="; vigild: $(python3 -c '
import json, sys
b, a = ({p["name"]: p for p in json.load(open(f))["ports"]} for f in sys.argv[1:3])
print(", ".join("%s %s +%d" % (n, k, a[n][k] - b[n][k]) for n, k in
      [("outside", "rx_packets"), ("outside", "rx_missed"), ("inside", "tx_packets"), ("inside", "tx_full")]))' \
			"$run/status-rate.json" "$run/status-rate-after.json" 2>&1)"
	fi
	say "$line"
fi
# The round trip without vigild: testpmd and vigild take turns on the same NICs (guest.sh
# switches when $run/next names the program); after each switch, UDP echoes until one comes
# back (the program forwards, ARP is resolved), then the probes.
if ((compare > 0)); then
	for r in $(seq "$compare"); do
		for prog in testpmd vigild; do
			echo "$prog $r" >"$run/next.tmp"
			mv "$run/next.tmp" "$run/next"
			wait_for "PROGRAM-UP $prog $r " "$prog forwarding (round $r)" || { ok=0; break 2; }
			if ! w=$(ip netns exec $NS_A python3 "$here/latency.py" warm 10.89.0.2 5353 60); then
				ok=0
				say "compare: nothing crossed $prog within 60 s"
				break 2
			fi
			ip netns exec $NS_A python3 "$here/latency.py" probe 10.89.0.2 5353 100 0.02 "$prog" "$r" \
				>>"$run/latency.jsonl"
			say "compare: $prog round $r measured (the first echo came back after $w s)"
		done
	done
	python3 "$here/latency.py" report "$run/latency.jsonl" --scenario "vigild in the guest" \
		--command "$cmdline" --json "${compare_json:-$run/latency.json}" || ok=0
fi
((hold > 0)) && sleep "$hold"

touch "$run/stop"
wait_for "VIGILD-STOPPED" "vigild stopped" || ok=0
for _ in $(seq 60); do kill -0 $qemu_pid 2>/dev/null || break; sleep 0.5; done
say "guest powered off: $(kill -0 $qemu_pid 2>/dev/null && echo no || echo yes)"
alerts=$(grep -c '"signature_id":9900001' "$run/eve.json" 2>/dev/null || true)
say "alerts of sid 9900001 in the guest's EVE log: ${alerts:-0}"
((${alerts:-0} >= 1)) || ok=0
say "vigild's final counters:"
sed -n '/^port  *rx-packets/,$p' "$run/vigild.log" | tail -n 8 | sed 's/^/  /'
((ok)) || exit 1
say "PASS: ping, UDP and TCP crossed vigild in the guest; its policy dropped UDP to 9999, its signature alerted, its API answered"
