#!/usr/bin/env bash
# Install every Debian package that building, running, testing and benchmarking Vigil needs.
# Idempotent: packages already installed are left alone, and apt-get runs (with an update
# first) only when something is missing. Debian 12 (bookworm).
set -euo pipefail

packages=(
	# build
	build-essential pkg-config meson ninja-build clang llvm lld libclang-rt-14-dev clang-format
	# libraries
	dpdk dpdk-dev libdpdk-dev dpdk-doc libhyperscan-dev libpcre2-dev libsqlite3-dev sqlite3
	libyaml-dev libmicrohttpd-dev libgnutls28-dev libjansson-dev libpcap-dev libssl-dev
	libelf-dev libcmocka-dev libcurl4-openssl-dev zlib1g-dev libcap-ng-dev libseccomp-dev
	libsystemd-dev libfixbuf-dev
	# running, demo and tests
	iproute2 iputils-ping curl tcpdump tshark python3 python3-scapy procps logrotate
	# the Prometheus endpoint's test: promtool and a real server (tests/api/test_prometheus.py).
	# Its package enables a server on :9090; see below.
	prometheus
	# IPFIX export's test: a real collector (nfcapd) and its reader (nfdump); libfixbuf's
	# ipfixDump decodes Vigil's enterprise elements
	nfdump libfixbuf-tools
	# the VM tests (tests/e2e/test_vm_guest.sh, docs/VM.md): QEMU, a Debian kernel for the guest
	# and the static busybox of its initramfs
	qemu-system-x86 linux-image-amd64 busybox-static
	# the schema check of the VM docs' libvirt domain (virt-xml-validate; tests/e2e/test_libvirt_xml.sh)
	libvirt-clients
	# the DNS tunnel detector's registered domains
	publicsuffix
	# dashboard test: a headless browser (playwright-core drives it, with the machine's Node.js)
	chromium
	# benchmarks
	linux-perf python3-matplotlib python3-yaml openvswitch-switch-dpdk wrk
)

if [[ $EUID -ne 0 ]]; then
	echo "deps: must run as root (try: sudo $0)" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
# The unprivileged user vigild runs as once its ports are up (privileges.user in
# conf/vigil.yaml; docs/OPERATIONS.md, "Privileges").
ensure_user() {
	id vigil >/dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vigil
}

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#packages[@]} packages already installed"
	ensure_user
	exit 0
fi
echo "deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's prometheus package enables and starts its service (a server on :9090 scraping
# itself) where systemd runs; in a container without it, invoke-rc.d or policy-rc.d skips the
# start. The test starts its own server on a free port, so the one installed here stays off.
if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
	systemctl disable --now prometheus.service || true
fi
# Debian's nfdump package runs an nfcapd on :2055 (nfdump@default, made by its systemd
# generator from /etc/nfdump/default.conf) where systemd runs; tests/e2e/test_ipfix.py starts
# its own on a free port, so the one installed here stays off.
if [[ " ${missing[*]} " == *" nfdump "* && -d /run/systemd/system ]]; then
	systemctl disable --now nfdump.service || true
	systemctl stop 'nfdump@*.service' || true
fi
ensure_user
echo "deps: done"
