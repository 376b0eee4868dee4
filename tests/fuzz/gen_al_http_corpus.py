#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_al_http (tests/fuzz/corpus/al_http/): a few HTTP exchanges in
the target's record format (see tests/fuzz/fuzz_al_http.c), each split into records of varied
sizes over both directions. Run: python3 tests/fuzz/gen_al_http_corpus.py"""
import gzip
import os
import zlib

REQ, RESP = 0, 1


def records(steps, sizes=(7, 31, 3, 200, 1)):
    out = bytearray()
    k = 0
    for st in steps:
        if st[0] == "gap":
            out += bytes([(st[1] << 7) | (2 << 5) | (st[2] - 1)])
            continue
        if st[0] == "close":
            out += bytes([(st[1] << 7) | (3 << 5)])
            continue
        d, data = st
        pos = 0
        while pos < len(data):
            want = sizes[k % len(sizes)]
            k += 1
            n = min(want, len(data) - pos)
            if n <= 31:
                out += bytes([(d << 7) | (n - 1)])
            else:
                n = min(n, 255 * 8 + 32)
                q = (n - 32) // 8
                n = q * 8 + 32
                out += bytes([(d << 7) | 31, q])
            out += data[pos:pos + n]
            pos += n
    return bytes(out)


def body_gzip(b):
    return gzip.compress(b, mtime=0)


text = b"The quick brown fox jumps over the lazy dog. " * 20
cases = {
    "get": [(REQ, b"GET /a/b/../c.php?x=%41 HTTP/1.1\r\nHost: www.example.com\r\n"
                  b"User-Agent: fuzz\r\nCookie: a=1\r\n\r\n"),
            (RESP, b"HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 5\r\n\r\nhello")],
    "post_chunked_gzip": [
        (REQ, b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Encoding: gzip\r\n\r\n" + b"".join(
                  b"%x;e=1\r\n%s\r\n" % (len(c), c) for c in
                  [body_gzip(b"name=value&x=1")[i:i + 9] for i in range(0, 34, 9)])
              + b"0\r\nTrailer: t\r\n\r\n"),
        (RESP, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")],
    "pipelined": [
        (REQ, b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\n"
              b"GET /3 HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n b\r\nX-Fold: c\r\n\r\n"),
        (RESP, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
               b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
               b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n" + zlib.compress(text)),
        ("close", RESP)],
    "connect": [
        (REQ, b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
        (RESP, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        (REQ, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
        (RESP, b"HTTP/1.1 204 No Content\r\n\r\n")],
    "gap_and_09": [
        (REQ, b"GET /x HTTP/1.0\r\n\r\n"),
        (RESP, b"HTTP/1.0 200 OK\r\nContent-Length: 40\r\n\r\n0123456789"),
        ("gap", RESP, 10),
        (RESP, b"01234567890123456789"),
        (REQ, b"GET /old\r\n"),
        (RESP, b"<html>no status line</html>")],
    "odd_lines": [
        (REQ, b"GET /first HTTP/1.1\r\nHost: h\r\n\r\n"
              b" GET\t/a b%u0041%c0%af\\..\\x HTTP/1.1\nHost: [::1]:80\nNoColon\n"
              b"Content-Length: 3\nContent-Length: 4\n\nabc"),
        (RESP, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nrest")],
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "al_http")
os.makedirs(out, exist_ok=True)
for name, steps in cases.items():
    with open(os.path.join(out, name + ".bin"), "wb") as f:
        f.write(bytes([0, 0]) + records(steps))
# the same exchange with small limits
with open(os.path.join(out, "get_small_limits.bin"), "wb") as f:
    f.write(bytes([0x0f, 4]) + records(cases["pipelined"]))
