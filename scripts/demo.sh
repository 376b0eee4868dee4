#!/usr/bin/env bash
# Set everything up and run the Vigil appliance on virtual ports with the shipped config, with
# live traffic through it:
#
#   namespace vigil-client (10.88.0.1) --tap vigil-a-- [vigild] --tap vigil-b-- namespace vigil-server (10.88.0.2)
#
# The client fetches web pages from the server, pings it and sends UDP, continuously, through
# vigild. Ctrl-C (or --duration) stops everything and removes what the demo created.
#
#   sudo scripts/demo.sh                  run until Ctrl-C
#   sudo scripts/demo.sh --duration 30    run for 30 seconds
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

duration=0
while (($#)); do
	case $1 in
	--duration) duration=${2:?--duration needs seconds}; shift 2 ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "demo: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
if [[ $EUID -ne 0 ]]; then
	echo "demo: needs root (packages, hugepages, tap devices, namespaces); try: sudo $0" >&2
	exit 1
fi

# VIGIL_DEMO_SKIP_SETUP=1: the caller (the test suite) has installed and built already.
if [[ -z ${VIGIL_DEMO_SKIP_SETUP:-} ]]; then
	scripts/deps.sh
	scripts/hugepages/setup.sh 512 || echo "demo: no hugepages; vigild will run with --no-huge"
	scripts/build.sh build
fi
vigild=${VIGILD:-$root/build/app/vigild}

run=$root/.run/demo
mkdir -p "$run"
NS_C=vigil-client
NS_S=vigil-server
vigild_pid=
pids=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	echo
	echo "demo: stopping"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [[ -n $vigild_pid ]] && kill -0 "$vigild_pid" 2>/dev/null; then
		kill -TERM "$vigild_pid"
		timeout 10 tail --pid="$vigild_pid" -f /dev/null || kill -KILL "$vigild_pid"
		wait "$vigild_pid" 2>/dev/null || true
		echo "demo: final counters:"
		sed -n '/^port  *rx-packets/,$p' "$run/vigild.log" | sed 's/^/  /'
	fi
	ip netns del $NS_C 2>/dev/null || true
	ip netns del $NS_S 2>/dev/null || true
	echo "demo: removed namespaces $NS_C and $NS_S; logs stay in $run"
	exit $rc
}
trap cleanup EXIT
trap 'exit 0' INT TERM

for ns in $NS_C $NS_S; do
	if ip netns list | grep -qw "$ns"; then
		echo "demo: namespace $ns exists (another demo running?); remove it with: ip netns del $ns" >&2
		exit 1
	fi
done

# vigild runs as user vigil once its ports are up (privileges in conf/vigil.yaml; deps.sh
# creates the user): the history and EVE directories are that user's.
install -d -m 750 -o vigil -g vigil /var/lib/vigil /var/log/vigil
"$vigild" -c conf/vigil.yaml --stats 5 >"$run/vigild.log" 2>&1 &
vigild_pid=$!
# The taps move into the namespaces only once vigild has started its ports: moved earlier, a
# tap can lose its queue and drop every frame the namespace sends (tests/e2e/lib.sh does the
# same). Loading the signatures can take a few seconds on a busy machine.
for _ in $(seq 600); do
	ip link show vigil-a >/dev/null 2>&1 && ip link show vigil-b >/dev/null 2>&1 &&
		grep -q "forwarding;" "$run/vigild.log" && break
	kill -0 $vigild_pid 2>/dev/null || { cat "$run/vigild.log"; echo "demo: vigild failed to start" >&2; exit 1; }
	sleep 0.05
done
grep -q "forwarding;" "$run/vigild.log" || { cat "$run/vigild.log"; echo "demo: vigild did not start forwarding within 30 s" >&2; exit 1; }

ip netns add $NS_C
ip netns add $NS_S
ip link set vigil-a netns $NS_C
ip link set vigil-b netns $NS_S
ip -n $NS_C addr add 10.88.0.1/24 dev vigil-a
ip -n $NS_S addr add 10.88.0.2/24 dev vigil-b
ip -n $NS_C addr add fd88::1/64 dev vigil-a nodad
ip -n $NS_S addr add fd88::2/64 dev vigil-b nodad
for ns in $NS_C $NS_S; do ip -n $ns link set lo up; done
ip -n $NS_C link set vigil-a up
ip -n $NS_S link set vigil-b up

mkdir -p "$run/www"
echo "<h1>served through Vigil</h1>" >"$run/www/index.html"
head -c 262144 /dev/urandom >"$run/www/blob"
ip netns exec $NS_S /usr/bin/python3 -m http.server --bind :: --directory "$run/www" 80 \
	>"$run/server.log" 2>&1 &
pids+=($!)
ip netns exec $NS_S /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
' >/dev/null 2>&1 &
pids+=($!)

for _ in $(seq 50); do
	ip netns exec $NS_C curl -s -o /dev/null http://10.88.0.2/ && break
	sleep 0.1
done

# The client: a web request, a ping and a UDP datagram every second. Every 10 s it also asks
# for /etc/passwd by directory traversal (a signature alert), and once, early on, it tries
# telnet (answered with a reset) and probes 40 ports of the server (a port-scan alert once
# the unanswered probes time out, 30 s later).
ip netns exec $NS_C bash -c '
n=0
while true; do
	n=$((n + 1))
	if ((n % 10 == 3)); then
		curl -s --path-as-is -o /dev/null -w "attack %{http_code}\n" \
			"http://10.88.0.2/cgi-bin/../../../../etc/passwd"
	fi
	if ((n == 5)); then
		timeout 2 bash -c "echo > /dev/tcp/10.88.0.2/23" 2>/dev/null
		case $? in 0) echo "telnet connected" ;; 124) echo "telnet timed out" ;; *) echo "telnet refused" ;; esac
		/usr/bin/python3 -c "
import socket, time
socks = []
for port in range(1000, 1040):
    s = socket.socket(); s.setblocking(False); s.connect_ex((\"10.88.0.2\", port)); socks.append(s)
time.sleep(0.5)
print(\"probed 40 ports\")"
	fi
	curl -s -o /dev/null -w "%{http_code} %{size_download}B %{time_total}s\n" http://10.88.0.2/blob
	curl -s -o /dev/null http://[fd88::2]/
	ping -c 1 -W 1 10.88.0.2 >/dev/null
	echo hello | timeout 1 /usr/bin/python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(b\"hello\", (\"10.88.0.2\", 5353)); s.recvfrom(64)" 2>/dev/null
	sleep 1
done' >"$run/client.log" 2>&1 &
pids+=($!)

cat <<TXT

demo: Vigil is running (vigild pid $vigild_pid) with conf/vigil.yaml
  $NS_C 10.88.0.1 <-> [vigild: outside=vigil-a, inside=vigil-b] <-> $NS_S 10.88.0.2
  traffic: HTTP over IPv4 and IPv6, ping and UDP every second

  also: a signature alert every 10 s; once a telnet reject and a port scan (alerted 30 s later)

where to look:
  dashboard:                         http://127.0.0.1:8080/  (from this machine)
  REST API:                          curl -s http://127.0.0.1:8080/api/v1/status
  the same from the command line:    build/app/vigilctl status   (also: alerts, flows, counters, blocklist)
  changes (mode, blocklist, policy): need a token; loopback without one only reads:
                                     list one in conf/vigil.yaml (mgmt.tokens, docs/API.md) and
                                     give it to vigilctl with --token-file FILE
  vigild log and stats (every 5 s):  tail -f $run/vigild.log
  alerts as EVE JSON:                tail -f /var/log/vigil/eve.json
  client results:                    tail -f $run/client.log
  talk to the server yourself:       ip netns exec $NS_C curl http://10.88.0.2/
TXT
if ((duration > 0)); then
	echo "demo: running for $duration s"
	sleep "$duration"
else
	echo "demo: Ctrl-C stops"
	while kill -0 $vigild_pid 2>/dev/null; do sleep 1; done
	echo "demo: vigild exited" >&2
	exit 1
fi
