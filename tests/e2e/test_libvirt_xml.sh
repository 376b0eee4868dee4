#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The libvirt domain of the vhost-user scenario (scripts/vm/vhost-guest.xml, docs/VM.md "With
# libvirt") against libvirt's own schema, with virt-xml-validate (Debian's libvirt-clients);
# then the same domain with one attribute value libvirt does not know, which must be refused
# (the validator does check). Skips (77) without virt-xml-validate.
#
#   test_libvirt_xml.sh scripts/vm/vhost-guest.xml
set -euo pipefail
xml=${1:?usage: test_libvirt_xml.sh DOMAIN.xml}
if ! command -v virt-xml-validate >/dev/null; then
	echo "libvirt-xml: no virt-xml-validate (apt-get install libvirt-clients); skipped"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# run-vhost.sh --libvirt replaces @RUN@ by its run directory.
sed 's|@RUN@|/var/lib/vigil/vm|g' "$xml" >"$tmp/domain.xml"
if grep -q @ "$tmp/domain.xml"; then
	echo "libvirt-xml: FAIL: a placeholder is left: $(grep -m1 @ "$tmp/domain.xml")" >&2
	exit 1
fi
virt-xml-validate "$tmp/domain.xml" domain
sed "s/memAccess='shared'/memAccess='shard'/" "$tmp/domain.xml" >"$tmp/broken.xml"
cmp -s "$tmp/domain.xml" "$tmp/broken.xml" && { echo "libvirt-xml: FAIL: no memAccess to break" >&2; exit 1; }
if virt-xml-validate "$tmp/broken.xml" domain >"$tmp/broken.out" 2>&1; then
	echo "libvirt-xml: FAIL: virt-xml-validate accepted memAccess='shard'" >&2
	exit 1
fi
echo "libvirt-xml: $xml validates against libvirt $(virsh --version 2>/dev/null || echo '?')'s schema; memAccess='shard' is refused"
