#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates the captures of the parse-errors case: good packets mixed with malformed ones of
several kinds. The expected output is the good ones plus those the case's parse policy forwards.
Run with Debian's /usr/bin/python3 (python3-scapy); the outputs are committed."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402
from scapy.all import (Ether, IP, IPv6, IPv6ExtHdrDestOpt, Raw, TCP, UDP)  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
E = Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b")


def main():
    good_udp = E / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=2000) / Raw(b"ok" * 10)
    bad_ihl = bytearray(bytes(good_udp))
    bad_ihl[14] = 0x44  # IHL 4: shorter than the minimum header
    long_total = bytearray(bytes(good_udp))
    long_total[16:18] = (500).to_bytes(2, "big")  # total length beyond the frame
    bad_cksum = bytearray(bytes(good_udp))
    bad_cksum[24] ^= 0xff
    tcp_trunc = bytes(E / IP(src="10.0.0.1", dst="10.0.0.2", proto=6) / Raw(b"\x00" * 10))
    syn_fin = E / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=3000, dport=80, flags="SF")
    # First fragment with 8 bytes of TCP: too short for the TCP header (RFC 1858 attack).
    tiny = E / IP(src="10.0.0.1", dst="10.0.0.2", proto=6, flags="MF", id=9) / Raw(b"\x0b\xb8\x00\x50\x00\x00\x00\x01")
    v6_ext = bytearray(bytes(E / IPv6(src="fd00::1", dst="fd00::2") / IPv6ExtHdrDestOpt(len=8) / UDP()))
    v6_ext = bytes(v6_ext[:14 + 40 + 16])  # the extension header claims 72 bytes; 16 remain
    v6_ext = bytearray(v6_ext)
    v6_ext[18:20] = (16).to_bytes(2, "big")  # payload length consistent with what is there
    udp_len = bytearray(bytes(good_udp))
    udp_len[38:40] = (100).to_bytes(2, "big")  # UDP length beyond the IP payload
    runt = bytes(good_udp)[:10]
    good_tcp = E / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=4000, dport=443, flags="S")
    frames = [bytes(good_udp), bytes(bad_ihl), bytes(long_total), bytes(bad_cksum), tcp_trunc,
              bytes(syn_fin), bytes(tiny), bytes(v6_ext), bytes(udp_len), runt, bytes(good_tcp)]
    pkts = [pcapfile.Packet(1_700_000_000_000_000_000 + i * 1_000_000, f) for i, f in enumerate(frames)]
    pcapfile.write(os.path.join(HERE, "parse-errors", "in-a.pcap"), pkts)
    # Forwarded: the two good packets, SYN+FIN (policy default) and the bad checksum (the case
    # forwards ipv4_bad_checksum).
    pcapfile.write(os.path.join(HERE, "parse-errors", "expect-b.pcap"),
                   [pkts[0], pkts[3], pkts[5], pkts[10]])
    print("parse-errors: 11 frames")


if __name__ == "__main__":
    main()
