#!/bin/bash
# Runs inside the guest (scripts/vm/run-guest.sh copies it to the run directory, which the guest
# mounts on /tmp/vm), chrooted into the host's root: binds the virtio-net NICs to
# uio_pci_generic, writes a vigil.yaml with their PCI addresses, runs vigild until the host
# creates /tmp/vm/stop, then stops it. Markers on the console tell the host each step.
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "[guest $(up)] $*" >/dev/console; }
vm=/tmp/vm
vigild=$(cat $vm/vigild.path)
say "guest script started; hugepages $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) x 2 MiB"

# vigil.driver= on the kernel command line: uio_pci_generic (default) or vfio-pci (with a vIOMMU).
driver=uio_pci_generic
for a in $(cat /proc/cmdline); do
	case $a in vigil.driver=*) driver=${a#vigil.driver=} ;; esac
done
iova=pa
[[ $driver == vfio-pci ]] && iova=va

# virtio-net: vendor 0x1af4, device 0x1000 (transitional) or 0x1041 (modern). The host gives
# the data NICs the MACs 52:54:00:89:00:01 (outside) and :02 (inside); a third, :03, is the
# management NIC (user-mode networking with a port forwarded from the host) and stays with the
# kernel's virtio_net.
mac_of() { cat /sys/bus/pci/devices/"$1"/virtio*/net/*/address 2>/dev/null; }
outside='' inside='' mgmt=''
for d in /sys/bus/pci/devices/*; do
	[[ $(cat "$d/vendor") == 0x1af4 ]] || continue
	case $(cat "$d/device") in 0x1000 | 0x1041) ;; *) continue ;; esac
	a=$(basename "$d")
	case $(mac_of "$a") in
	52:54:00:89:00:01) outside=$a ;;
	52:54:00:89:00:02) inside=$a ;;
	52:54:00:89:00:03) mgmt=$a ;;
	esac
done
if [[ -z $outside || -z $inside ]]; then
	say "FAIL: expected virtio-net NICs with MACs 52:54:00:89:00:01 and :02, found outside '$outside' inside '$inside'"
	exit 1
fi
nics=("$outside" "$inside")
for a in "${nics[@]}"; do
	d=/sys/bus/pci/devices/$a
	echo $driver >"$d/driver_override"
	[[ -e $d/driver ]] && echo "$a" >"$d/driver/unbind"
	echo "$a" >/sys/bus/pci/drivers_probe
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)")
	[[ $drv == "$driver" ]] || { say "FAIL: $a bound to '$drv', not $driver"; exit 1; }
done
# The API: on loopback only, or, with a management NIC, on 10.0.2.15 (QEMU's user-mode
# network), where the host's forward of 127.0.0.1:PORT arrives; the same port on both sides,
# so that the Host header the host sends names the API's own port.
api_port=8080 api_listen=127.0.0.1
if [[ -n $mgmt && -f $vm/api.port ]]; then
	api_port=$(cat $vm/api.port)
	api_listen=0.0.0.0
	dev=$(basename /sys/bus/pci/devices/"$mgmt"/virtio*/net/*)
	ip addr add 10.0.2.15/24 dev "$dev"
	ip link set "$dev" up
	say "MGMT-NIC $mgmt ($dev) 10.0.2.15, API port $api_port"
fi
tokens=
[[ -f $vm/api.sha256 ]] && tokens="  tokens: [{name: host, role: viewer, sha256: $(cat $vm/api.sha256)}]"
# Several queues per NIC (the host's --queues N): one worker per queue, all worker lcores on
# CPU 1 (lcores.cpus) when there are fewer vCPUs than lcores.
queues=1
[[ -f $vm/queues ]] && queues=$(cat $vm/queues)
workers=$(seq -s ', ' 1 "$queues")
cpus=
ncpu=$(grep -c ^processor /proc/cpuinfo)
if ((queues + 1 > ncpu)); then
	cpus=", cpus: [0$(for _ in $(seq "$queues"); do printf ', %d' $((ncpu > 1 ? 1 : 0)); done)]"
fi
# The host's --tx-drain-us: how long vigild holds a partial TX burst (default 100 us).
dataplane=
[[ -f $vm/tx_drain_us ]] && dataplane="dataplane: {tx_drain_us: $(cat $vm/tx_drain_us)}"
say "NICS-BOUND ${nics[*]} to $driver"

mkdir -p /tmp/vigil
cat >/tmp/vigil/vigil.yaml <<EOF
eal:
  args: ["--log-level=lib.eal:notice", "--iova-mode=$iova"]
  file_prefix: vigil-vm
  hugepages: auto
  no_huge_memory: 512M
lcores: {control: 0, workers: [$workers]$cpus}
ports:
  - name: outside
    device: "${nics[0]}"
    rx_desc: 512
    tx_desc: 512
    promiscuous: true
  - name: inside
    device: "${nics[1]}"
    rx_desc: 512
    tx_desc: 512
    promiscuous: true
pairs:
  - [outside, inside]
mode: enforce
$dataplane
policy:
  file: /tmp/vigil/policy.yaml
store:
  path: /tmp/vigil/vigil.db
alerts:
  eve_log: /tmp/vigil/eve.json
signatures:
  paths: [/tmp/vigil/signatures]
inspection:
  flows: all
mgmt:
  listen: $api_listen
  port: $api_port
  allow_unauthenticated_loopback: true
$tokens
EOF
# Everything passes but UDP to port 9999: the host checks that the policy drops it.
cat >/tmp/vigil/policy.yaml <<EOF
version: 1
default: allow
rules:
  - name: no-udp-9999
    proto: udp
    dport: 9999
    action: drop
EOF
# One signature, on a URI the host asks for.
mkdir -p /tmp/vigil/signatures
cat >/tmp/vigil/signatures/vm.rules <<EOF
alert tcp any any -> any 80 (msg:"VIGIL VM test URI"; flow:to_server,established; content:"/vigil-vm-attack"; sid:9900001; rev:1;)
EOF
cp /tmp/vigil/vigil.yaml /tmp/vigil/policy.yaml /tmp/vigil/signatures/vm.rules $vm/
# One program forwards between the two NICs at a time: vigild, or, when the host asks for it
# (run-guest.sh --compare: it writes "PROGRAM ROUND" to $vm/next), dpdk-testpmd in io mode on
# the same NICs, lcores, descriptors and burst, to measure the round trip without vigild.
pid='' prog=''
since_start() { awk -v a="$start" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }
start_vigild() { # LOG
	start=$(up)
	: >"$1" # emptied before the loop below reads it, not by the background job
	"$vigild" -c /tmp/vigil/vigil.yaml --stats 10 >"$1" 2>&1 &
	pid=$! prog=vigild
	for _ in $(seq 1200); do
		grep -q "forwarding;" "$1" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.25
	done
	grep -q "forwarding;" "$1" && return 0
	say "FAIL: vigild did not start forwarding; its log:"
	tail -n 40 "$1" >/dev/console
	kill -KILL $pid 2>/dev/null
	return 1
}
start_testpmd() { # LOG
	start=$(up)
	: >"$1"
	dpdk-testpmd -l 0,1 --main-lcore 0 -a "${nics[0]}" -a "${nics[1]}" --file-prefix vigil-vm-tp \
		--iova-mode=$iova --log-level=lib.eal:notice -- --forward-mode=io --nb-cores=1 \
		--rxq=1 --txq=1 --rxd=512 --txd=512 --burst=32 --total-num-mbufs=8192 \
		--stats-period 60 --no-lsc-interrupt </dev/null >"$1" 2>&1 &
	pid=$! prog=testpmd
	for _ in $(seq 1200); do
		grep -q "packet forwarding - ports=" "$1" && return 0
		kill -0 $pid 2>/dev/null || break
		sleep 0.25
	done
	say "FAIL: testpmd did not start forwarding; its log:"
	tail -n 40 "$1" >/dev/console
	kill -KILL $pid 2>/dev/null
	return 1
}
stop_program() { # leaves its exit status in rc
	kill -TERM $pid 2>/dev/null
	for _ in $(seq 120); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
	kill -KILL $pid 2>/dev/null
	wait $pid
	rc=$?
	# The hugepage files of the program that stopped (the guest's own hugetlbfs).
	rm -f /dev/hugepages/vigil-vmmap_* /dev/hugepages/vigil-vm-tpmap_*
}
say "starting $vigild"
start_vigild $vm/vigild.log || exit 1
say "VIGILD-FORWARDING after $(since_start) s: $(grep -m1 'forwarding;' $vm/vigild.log)"
say "API from inside the guest: GET /api/v1/health -> $(curl -s -m 10 -w ' %{http_code}' "http://127.0.0.1:$api_port/api/v1/health" 2>&1 | tr '\n' ' ')"
while [[ ! -e $vm/stop ]] && kill -0 $pid 2>/dev/null; do
	if [[ -e $vm/next ]]; then
		read -r want round <$vm/next
		rm -f $vm/next
		stop_program
		say "SWITCH: $prog stopped (rc $rc)"
		case $want in
		vigild) start_vigild "$vm/vigild-$round.log" || exit 1 ;;
		testpmd) start_testpmd "$vm/testpmd-$round.log" || exit 1 ;;
		*) say "FAIL: unknown program '$want'"; exit 1 ;;
		esac
		say "PROGRAM-UP $want $round after $(since_start) s"
	fi
	sleep 1
done
stop_program
cp /tmp/vigil/eve.json $vm/eve.json 2>/dev/null
say "VIGILD-STOPPED (rc $rc$([[ $prog == vigild ]] || echo ", $prog"))"
