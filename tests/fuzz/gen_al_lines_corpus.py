#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of fuzz_al_ssh, fuzz_al_smtp and fuzz_al_ftp.

Each seed is a session in the input format of tests/fuzz/fuzz_al_lines.h: a limits byte, then
the messages of both directions in pieces of at most 119 bytes, with the occasional gap and
close. Most come from the suricata-verify captures in ../shared/testdata (their segments, in
capture order, each direction in sequence order), a few are written here for what the
captures lack (a server's lines before its banner, STARTTLS, AUTH TLS, tiny limits).

Run by hand after changing the cases (needs only python3 and the test data); commit the output:
    python3 tests/fuzz/gen_al_lines_corpus.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "..", "..", "shared", "testdata")
PIECE = 119

# Limits byte (see fuzz_al_lines.h): line_max 16/64/512/4096 in bits 0-1, a 64-byte message
# limit in bit 2, an arena nearly full in bit 3.
DEFAULT = 3


def tcp_messages(path, port):
    """The payloads of the first TCP flow with the given server port, in capture order, as
    (direction, bytes) with 0 for the client's; each direction in sequence order, repeats
    dropped."""
    with open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack("<I", raw[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", raw[20:24])[0]
    off = 24
    nxt = [None, None]
    client = None
    out = []
    while off + 16 <= len(raw):
        _, _, incl, _ = struct.unpack(endian + "IIII", raw[off:off + 16])
        pkt = raw[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            if len(pkt) < 14 or struct.unpack(">H", pkt[12:14])[0] != 0x0800:
                continue
            ip = pkt[14:]
        elif linktype == 0:
            ip = pkt[4:]
        else:
            raise SystemExit("%s: link type %d not handled" % (path, linktype))
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        data = tcp[doff:]
        if port not in (sport, dport):
            continue
        d = 0 if dport == port else 1
        if client is None:
            client = sport if d == 0 else dport
        if client != (sport if d == 0 else dport):
            continue
        if flags & 0x02:
            nxt[d] = (seq + 1) & 0xFFFFFFFF
            continue
        if not data:
            continue
        if nxt[d] is None:
            nxt[d] = seq
        behind = (nxt[d] - seq) & 0xFFFFFFFF
        if behind >= 0x80000000:
            continue  # ahead of a hole: these captures have none that fills later
        if behind >= len(data):
            continue  # a repeat
        data = data[behind:]  # a resend cut otherwise: its new bytes
        nxt[d] = (nxt[d] + len(data)) & 0xFFFFFFFF
        out.append((d, data))
    return out


def encode(messages, cfg=DEFAULT, gaps=(), closes=True):
    """The fuzz input of a session: its pieces, a gap after the messages whose index is in
    gaps, the closes at the end."""
    out = bytearray([cfg])
    for i, (d, data) in enumerate(messages):
        for k in range(0, len(data), PIECE):
            chunk = data[k:k + PIECE]
            out.append((len(chunk) << 1) | d)
            out += chunk
        if i in gaps:
            out += bytes([0xF0 | d, 7])
    if closes:
        out += b"\xf2\xf3"
    return bytes(out)


def write(proto, name, data):
    d = os.path.join(HERE, "corpus", "al_" + proto)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".bin"), "wb") as f:
        f.write(data)


def capture(*parts):
    return os.path.join(TESTDATA, *parts)


def main():
    if not os.path.isdir(TESTDATA):
        raise SystemExit("no test data at %s" % TESTDATA)
    more = ("suricata-verify-more",)

    ssh = {
        "hassh": (capture(*more, "ssh-hassh", "input.pcap"), 22),
        "reassembled": (capture(*more, "ssh-hassh-reassembled", "input.pcap"), 22),
        "newkeys": (capture("suricata-verify", "ssh-newkeys", "input.pcap"), 22),
        "banner-only": (capture(*more, "ssh-banner-only", "input.pcap"), 22),
    }
    for name, (path, port) in ssh.items():
        write("ssh", name, encode(tcp_messages(path, port)))
    write("ssh", "prebanner-smalllines", encode([
        (1, b"Welcome to host\r\nSSH-2.0-srv_1.0 comment\r\n"),
        (0, b"SSH-1.99-" + b"x" * 300 + b"\r\n"),
        (0, b"\x00\x00\x00\x0c\x0a\x15" + b"\x00" * 10),
    ], cfg=0))
    write("ssh", "gap-fullarena", encode(tcp_messages(*ssh["hassh"]), cfg=8 | 3, gaps=(2, 3)))

    smtp = {
        "eve": (capture("suricata-verify", "smtp-eve", "input.pcap"), 25),
        "bdat-multichunk": (capture(*more, "smtp-bdat-multichunk-inspection", "input.pcap"), 25),
        "rset": (capture(*more, "smtp-rset", "input.pcap"), 25),
        "long-data-line": (capture(*more, "smtp-long-DATA-line-02-frames", "input.pcap"), 587),
        "mime-combined": (capture(*more, "mime_smtp-mime-encap-8649-combined", "input.pcap"), 25),
    }
    for name, (path, port) in smtp.items():
        write("smtp", name, encode(tcp_messages(path, port)))
    write("smtp", "small-limits", encode(tcp_messages(*smtp["bdat-multichunk"]), cfg=4 | 1))
    write("smtp", "starttls", encode([
        (1, b"220 mx ESMTP\r\n"),
        (0, b"EHLO a\r\nMAIL FROM:<a@b> SIZE=10\r\nSTARTTLS\r\n"),
        (1, b"250-mx\r\n250 PIPELINING\r\n250 ok\r\n454 no\r\n"),
        (0, b"STARTTLS\r\n"),
        (1, b"220 go\r\n"),
        (0, b"\x16\x03\x01\x00\x05hello"),
    ]))
    write("smtp", "gap-fullarena", encode(tcp_messages(*smtp["rset"]), cfg=8 | 3, gaps=(5, 9)))

    ftp = {
        "retr": (capture(*more, "ftp-retr-bypass-baseline", "input.pcap"), 21),
        "bounce": (capture(*more, "ftp_ftp-bounce", "test.pcap"), 21),
        "download-active": (capture(*more, "ftp_ftp-download-active", "input.pcap"), 21),
    }
    for name, (path, port) in ftp.items():
        write("ftp", name, encode(tcp_messages(path, port)))
    write("ftp", "multiline-authtls", encode([
        (1, b"220-Welcome\r\n220-to the FTP service\r\n220 ready\r\n"),
        (0, b"user a\r\nPASS b\r\nHELP\r\n"),
        (1, b"331 pw\r\n230 ok\r\n214-help\r\n ABOR ACCT\r\n214 done\r\n"),
        (0, b"AUTH TLS\r\n"),
        (1, b"234 go\r\n"),
        (0, b"\x16\x03\x01\x00\x05hello"),
    ], cfg=1))
    write("ftp", "gap-fullarena", encode(tcp_messages(*ftp["retr"]), cfg=8 | 0, gaps=(3, 8)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
