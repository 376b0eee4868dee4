#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_dp_dns: DNS datagrams of one flow, built by hand.

Each file is a list of records: one byte (bit 0: the direction, 1 from the server), two bytes
of length (big-endian), then the datagram (see tests/fuzz/fuzz_dp_dns.c).

Run by hand after changing the cases; commit the output:
    python3 tests/fuzz/gen_dp_dns_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dp_dns")


def hdr(ident, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">6H", ident, flags, qd, an, ns, ar)


def name(text):
    out = b""
    for label in text.split(".") if text else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def question(text, qtype=1):
    return name(text) + struct.pack(">HH", qtype, 1)


def rec(direction, dgram):
    return struct.pack(">BH", direction, len(dgram)) + dgram


def long_name(labels):
    return ".".join(chr(ord("A") + i) * n for i, n in enumerate(labels))


CASES = {
    "query-a": [rec(0, hdr(1, 0x0100) + question("WWW.Example.COM"))],
    # A query, then its answer with a pointer to the question's name (offset 12).
    "query-response-pointer": [
        rec(0, hdr(2, 0x0100) + question("mail.example.org", 15)),
        rec(1, hdr(2, 0x8180, 1, 1) + question("mail.example.org", 15) +
            b"\xc0\x0c" + struct.pack(">HHIH", 15, 1, 300, 9) + struct.pack(">H", 10) +
            b"\x02mx\xc0\x11"),
    ],
    "nxdomain": [
        rec(0, hdr(3, 0x0100) + question("nope.invalid", 28)),
        rec(1, hdr(3, 0x8183) + question("nope.invalid", 28)),
    ],
    "pointer-self": [rec(0, hdr(4, 0x0100) + b"\xc0\x0c\x00\x01\x00\x01")],
    "pointer-pair": [rec(0, hdr(5, 0x0100) + b"\x01a\xc0\x10\xc0\x0e\x00\x01")],
    "pointer-back-header": [rec(0, hdr(6, 0x0100) + b"\x03www\xc0\x00\x00\x1c\x00\x01")],
    "pointer-forward": [rec(0, hdr(7, 0x0100) + b"\x03www\xc0\x16\x00\x01\x00\x01" +
                            b"\x07example\x00")],
    "label-truncated": [rec(0, hdr(8, 0x0100) + b"\x07exam")],
    "name-255": [rec(0, hdr(9, 0x0100) + question(long_name([63, 63, 63, 61]), 16))],
    "name-long": [rec(0, hdr(10, 0x0100) + question(long_name([63] * 20), 16))],
    "two-questions": [rec(0, hdr(11, 0x0100, 2) + question("first.example", 28) +
                          question("second.example", 16))],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for what, recs in CASES.items():
        with open(os.path.join(OUT, what + ".bin"), "wb") as f:
            f.write(b"".join(recs))


if __name__ == "__main__":
    main()
