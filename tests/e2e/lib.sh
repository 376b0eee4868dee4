# SPDX-License-Identifier: BSD-3-Clause
# Shared pieces of the end-to-end tests: two network namespaces joined through vigild by
# net_tap ports. Source this file; call e2e_setup, then e2e_start_vigild; cleanup runs on exit,
# also when a test fails or is interrupted.
#
# Variables set for the test: NS_A, NS_B (namespace names), IP_A, IP_B, IP6_A, IP6_B,
# VIGILD_PID, WORK (scratch folder), CFG (the config vigild runs with).

set -euo pipefail

E2E_ID=${E2E_ID:-$$}
NS_A=vg-a-$E2E_ID
NS_B=vg-b-$E2E_ID
TAP_A=vga$E2E_ID
TAP_B=vgb$E2E_ID
IP_A=10.77.0.1
IP_B=10.77.0.2
IP6_A=fd77::1
IP6_B=fd77::2
PREFIX=vge2e$E2E_ID
WORK=$(mktemp -d /tmp/vigil-e2e.XXXXXX)
CFG=$WORK/vigil.yaml
VIGILD_PID=
PIDS=()

log() { printf 'e2e: %s\n' "$*"; }
fail() {
	printf 'e2e: FAIL: %s\n' "$*" >&2
	exit 1
}

e2e_cleanup() {
	local rc=$?
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	if [[ -n $VIGILD_PID ]] && kill -0 "$VIGILD_PID" 2>/dev/null; then
		kill -TERM "$VIGILD_PID" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$VIGILD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$VIGILD_PID" 2>/dev/null || true
	fi
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	rm -f /dev/hugepages/"$PREFIX"map_* 2>/dev/null || true
	rm -rf /var/run/dpdk/"$PREFIX" 2>/dev/null || true
	if ((rc != 0)) && [[ -f $WORK/vigild.log ]]; then
		echo "e2e: vigild log (last 40 lines):" >&2
		tail -n 40 "$WORK/vigild.log" >&2
	fi
	rm -rf "$WORK"
	exit $rc
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

e2e_require() {
	if [[ $EUID -ne 0 ]]; then
		echo "e2e: needs root (network namespaces, tap devices); skipped"
		exit 77
	fi
	for tool in ip curl /usr/bin/python3; do
		command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/deps.sh installs it)"
	done
	[[ -x ${VIGILD:-} ]] || fail "VIGILD must point at the vigild binary"
}

# Write the config: two tap ports paired. Extra YAML lines may follow as arguments.
e2e_write_config() {
	cat >"$CFG" <<YAML
eal:
  file_prefix: $PREFIX
  hugepages: ${E2E_HUGEPAGES:-auto}
  args: ["--log-level=lib.eal:error"]
lcores: {control: 0, workers: [1]}
ports:
  - {name: outside, device: "net_tap0,iface=$TAP_A"}
  - {name: inside, device: "net_tap1,iface=$TAP_B"}
pairs: [[outside, inside]]
dataplane: {idle_sleep_us: 20}
log: {level: info}
YAML
	for line in "$@"; do
		printf '%s\n' "$line" >>"$CFG"
	done
}

e2e_start_vigild() {
	"$VIGILD" -c "$CFG" "$@" >"$WORK/vigild.log" 2>&1 &
	VIGILD_PID=$!
	for _ in $(seq 100); do
		if ip link show "$TAP_A" >/dev/null 2>&1 && ip link show "$TAP_B" >/dev/null 2>&1; then
			break
		fi
		kill -0 "$VIGILD_PID" 2>/dev/null || fail "vigild exited during start-up"
		sleep 0.1
	done
	ip link show "$TAP_A" >/dev/null 2>&1 || fail "tap interfaces did not appear"
	# Move them only once the ports are started: moved earlier, a tap sometimes loses its
	# queue and drops every frame the namespace sends (TX dropped in ip -s link).
	for _ in $(seq 600); do
		grep -q "forwarding;" "$WORK/vigild.log" && break
		kill -0 "$VIGILD_PID" 2>/dev/null || fail "vigild exited during start-up"
		sleep 0.05
	done
	grep -q "forwarding;" "$WORK/vigild.log" || fail "vigild did not start forwarding within 30 s"
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip link set "$TAP_A" netns "$NS_A"
	ip link set "$TAP_B" netns "$NS_B"
	ip -n "$NS_A" addr add $IP_A/24 dev "$TAP_A"
	ip -n "$NS_B" addr add $IP_B/24 dev "$TAP_B"
	ip -n "$NS_A" addr add $IP6_A/64 dev "$TAP_A" nodad
	ip -n "$NS_B" addr add $IP6_B/64 dev "$TAP_B" nodad
	ip -n "$NS_A" link set "$TAP_A" up
	ip -n "$NS_B" link set "$TAP_B" up
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	log "vigild (pid $VIGILD_PID) joins $NS_A ($IP_A, $IP6_A) and $NS_B ($IP_B, $IP6_B)"
}

# Stop vigild with SIGTERM and check it exits 0 within 10 s. Its log stays in $WORK/vigild.log.
e2e_stop_vigild() {
	kill -TERM "$VIGILD_PID"
	local rc=0
	timeout 10 tail --pid="$VIGILD_PID" -f /dev/null || fail "vigild did not stop within 10 s of SIGTERM"
	wait "$VIGILD_PID" || rc=$?
	VIGILD_PID=
	((rc == 0)) || fail "vigild exited with status $rc after SIGTERM"
	ls /dev/hugepages/"$PREFIX"map_* >/dev/null 2>&1 && fail "hugepage files left behind"
	return 0
}

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

# Run a background server in a namespace; it is killed on exit.
bg_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" >>"$WORK/servers.log" 2>&1 &
	PIDS+=($!)
}
