#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates the captures of the signature cases. Run with Debian's /usr/bin/python3
(python3-scapy); the outputs are committed."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402
from scapy.all import DNS, DNSQR, Ether, IP, Raw, TCP, UDP  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CM, SM = "02:00:00:00:01:01", "02:00:00:00:02:02"
T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def c2s(f):
    return Ether(src=CM, dst=SM) / f


def s2c(f):
    return Ether(src=SM, dst=CM) / f


def write(case, name, timed):
    timed = sorted(timed, key=lambda x: x[0])
    pcapfile.write(os.path.join(HERE, case, name),
                   [pcapfile.Packet(T0 + int(t * MS), bytes(f)) for t, f in timed])


def tcp_session(a, b, t, cport, sport, req_parts, resp=b"HTTP/1.0 200 OK\r\n\r\n", client="10.1.1.1",
                server="10.2.2.2"):
    """A handshake, the request in the given segments, a response. Returns the frames by side
    with a flag telling whether each is expected out."""
    ip, rip = IP(src=client, dst=server), IP(src=server, dst=client)
    seq, sseq = 1000, 5000
    a.append((t, c2s(ip / TCP(sport=cport, dport=sport, flags="S", seq=seq))))
    b.append((t + 1, s2c(rip / TCP(sport=sport, dport=cport, flags="SA", seq=sseq, ack=seq + 1))))
    a.append((t + 2, c2s(ip / TCP(sport=cport, dport=sport, flags="A", seq=seq + 1, ack=sseq + 1))))
    off = seq + 1
    for i, part in enumerate(req_parts):
        a.append((t + 3 + i, c2s(ip / TCP(sport=cport, dport=sport, flags="PA", seq=off, ack=sseq + 1)
                                 / Raw(part))))
        off += len(part)
    b.append((t + 10, s2c(rip / TCP(sport=sport, dport=cport, flags="PA", seq=sseq + 1, ack=off) / Raw(resp))))
    return off


def stream():
    """sig-stream: a match split across two TCP segments is found and the flow dropped from
    there; the same string past the stream depth is not found; a UDP datagram matches per packet;
    a pass rule stops inspection of its flow."""
    a, b = [], []
    # 1. "/etc/passwd" split as "/etc/pa" + "sswd": the drop rule fires on the second segment.
    tcp_session(a, b, 0, 40000, 80, [b"GET /etc/pa", b"sswd HTTP/1.0\r\n\r\n"])
    # 2. the same string after 200 bytes of padding with stream_depth 100: not seen.
    tcp_session(a, b, 100, 40001, 80, [b"GET /" + b"x" * 200 + b"/etc/passwd HTTP/1.0\r\n\r\n"])
    # 3. UDP: one datagram with the pattern alerts (alert only), another does not.
    a.append((200, c2s(IP(src="10.1.1.1", dst="10.2.2.53") / UDP(sport=5353, dport=53) / Raw(b"\x00\x01evil-dns"))))
    a.append((201, c2s(IP(src="10.1.1.1", dst="10.2.2.53") / UDP(sport=5354, dport=53) / Raw(b"\x00\x01good-dns"))))
    # 4. a pass rule on port 8080 ("trusted") lets the rest of the flow through uninspected.
    tcp_session(a, b, 300, 40002, 8080, [b"trusted client\r\n", b"GET /etc/passwd HTTP/1.0\r\n\r\n"])
    write("sig-stream", "in-a.pcap", a)
    write("sig-stream", "in-b.pcap", b)
    # Expected: everything but session 1's second request segment (the drop rule matches there)
    # and the server's answer after it (the whole flow is dropped from then on).
    write("sig-stream", "expect-b.pcap", [x for x in a if x[0] != 4])
    write("sig-stream", "expect-a.pcap", [x for x in b if x[0] != 10])


def reject_and_dry_run():
    """sig-reject: a reject signature answers the client with a TCP reset and drops the rest of
    the flow. sig-dry-run: the same capture in dry-run mode: everything forwarded, the alert says
    it would have been dropped. sig-policy-inspect: only flows whose policy rule asks for
    inspection are scanned. sig-inspect-groups: only with the signature groups it names."""
    a, b = [], []
    off = tcp_session(a, b, 0, 40000, 23, [b"login: root\r\n"], resp=b"Password: ")
    for case in ("sig-reject", "sig-dry-run", "sig-policy-inspect", "sig-inspect-groups"):
        write(case, "in-a.pcap", a)
        write(case, "in-b.pcap", b)
    # The reset answers the segment carrying "root": its ACK number becomes the RST's sequence.
    rst = s2c(IP(src="10.2.2.2", dst="10.1.1.1", id=0, ttl=64, flags=0)
              / TCP(sport=23, dport=40000, flags="R", seq=5001, ack=0, window=0))
    # The server's answer that follows is dropped too, and answered with a reset of its own
    # (every packet of a rejected flow is, as a host's stack would).
    rst_srv = c2s(IP(src="10.1.1.1", dst="10.2.2.2", id=0, ttl=64, flags=0)
                  / TCP(sport=40000, dport=23, flags="R", seq=off, ack=0, window=0))
    write("sig-reject", "expect-b.pcap", [x for x in a if x[0] != 3] + [(10, rst_srv)])
    write("sig-reject", "expect-a.pcap", [x for x in b if x[0] != 10] + [(3, rst)])
    write("sig-dry-run", "expect-b.pcap", a)
    write("sig-dry-run", "expect-a.pcap", b)
    for case in ("sig-policy-inspect", "sig-inspect-groups"):
        write(case, "expect-b.pcap", a)
        write(case, "expect-a.pcap", b)


def reject_receiver():
    """sig-reject-receiver: rejectdst turns the segment carrying "root" into a reset to the
    server (sent on towards it, as from the client) and drops the rest of the flow; rejectboth
    also answers the client with a reset, and every later packet of its flow is answered."""
    a, b = [], []
    cip, sip = "10.1.1.1", "10.2.2.2"
    # 1. rejectdst on port 2323
    off1 = tcp_session(a, b, 0, 40001, 2323, [b"login: root\r\n"], resp=b"Password: ")
    rst_dst1 = c2s(IP(src=cip, dst=sip, id=0, ttl=64, flags=0)
                   / TCP(sport=40001, dport=2323, flags="RA", seq=1001, ack=5001, window=0))
    # 2. rejectboth on port 2424
    off2 = tcp_session(a, b, 100, 40002, 2424, [b"login: root\r\n"], resp=b"Password: ")
    rst_dst2 = c2s(IP(src=cip, dst=sip, id=0, ttl=64, flags=0)
                   / TCP(sport=40002, dport=2424, flags="RA", seq=1001, ack=5001, window=0))
    rst_src2 = s2c(IP(src=sip, dst=cip, id=0, ttl=64, flags=0)
                   / TCP(sport=2424, dport=40002, flags="R", seq=5001, ack=0, window=0))
    # the server's answer after it is dropped and answered with a reset of its own
    rst_srv2 = c2s(IP(src=cip, dst=sip, id=0, ttl=64, flags=0)
                   / TCP(sport=40002, dport=2424, flags="R", seq=off2, ack=0, window=0))
    assert off1 == off2
    write("sig-reject-receiver", "in-a.pcap", a)
    write("sig-reject-receiver", "in-b.pcap", b)
    write("sig-reject-receiver", "expect-b.pcap",
          [x for x in a if x[0] not in (3, 103)] + [(3, rst_dst1), (103, rst_dst2), (110, rst_srv2)])
    write("sig-reject-receiver", "expect-a.pcap",
          [x for x in b if x[0] not in (10, 110)] + [(103, rst_src2)])


def fragments():
    """sig-fragments: a UDP datagram in three fragments whose pattern straddles the first two
    is reassembled for inspection; the drop signature then drops the fragment that completed
    the datagram (the last), so the receiver never gets the datagram; the flow's next clean
    datagram passes (a packet rule drops its packet only)."""
    from scapy.all import fragment
    payload = b"a" * 500 + b"bad-frag-payload" + b"z" * 700
    dgram = IP(src="10.1.1.1", dst="10.2.2.2", id=4242) / UDP(sport=7000, dport=7001) / Raw(payload)
    frags = fragment(dgram, fragsize=512)
    a = [(i, c2s(f)) for i, f in enumerate(frags)]
    # A clean datagram of the same flow afterwards is forwarded: a packet rule's drop is the
    # packet's, not the flow's (Suricata's semantics).
    a.append((10, c2s(IP(src="10.1.1.1", dst="10.2.2.2") / UDP(sport=7000, dport=7001) / Raw(b"fine"))))
    write("sig-fragments", "in-a.pcap", a)
    write("sig-fragments", "expect-b.pcap", a[:len(frags) - 1] + a[len(frags):])


def frag_overlap():
    """sig-frag-overlap: a datagram whose later fragments overlap (the evasion of Ptacek and
    Newsham: the second copy of bytes 48..88 says "attack" where the first said "benign", and
    receivers disagree on which one wins) is dropped at the overlapping fragment, counted as
    the parse reason frag_overlap, and Suricata's decoder rule (2200070, as shipped) alerts on
    it; an IPv6 datagram with an overlap is dropped the same way (RFC 5722); a fragment the
    network repeated exactly (a duplicate) and fragments that merely touch pass."""
    from scapy.all import IPv6, IPv6ExtHdrFragment
    a = []
    udp = bytes(UDP(sport=7100, dport=7101, len=8 + 88) / Raw(b"\0" * 88))[:8]
    data = udp + b"x" * 40 + (b"benign-" * 7)[:48]

    def v4(ident, off, chunk, more):
        return c2s(IP(src="10.1.1.1", dst="10.2.2.2", id=ident, proto=17, flags="MF" if more else 0,
                      frag=off // 8) / Raw(chunk))
    # Datagram 1: [0, 48) with the UDP header, [48, 96), then [48, 96) again with other bytes.
    a.append((0, v4(901, 0, data[:48], True)))
    a.append((1, v4(901, 48, data[48:], False)))
    a.append((2, v4(901, 48, (b"attack-" * 7)[:48], False)))
    # Datagram 2: the second fragment repeated byte for byte (a duplicate), then a third
    # fragment right after it: nothing to report.
    d2 = udp + b"y" * 40 + b"z" * 48
    a.append((3, v4(902, 0, d2[:48], True)))
    a.append((4, v4(902, 48, d2[48:72], True)))
    a.append((5, v4(902, 48, d2[48:72], True)))
    a.append((6, v4(902, 72, d2[72:], False)))
    # Datagram 3, IPv6: [0, 48), then [40, 96): over the first's last bytes.
    v6 = IPv6(src="fd00::1", dst="fd00::2")
    d3 = udp + b"q" * 88
    a.append((7, c2s(v6 / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=903) / Raw(d3[:48]))))
    a.append((8, c2s(v6 / IPv6ExtHdrFragment(nh=17, offset=5, m=0, id=903) / Raw(d3[40:]))))
    write("sig-frag-overlap", "in-a.pcap", a)
    write("sig-frag-overlap", "expect-b.pcap", [x for x in a if x[0] not in (2, 8)])


def rst_inject():
    """sig-rst-inject: blind RST injection against an inspected connection. After the handshake
    and a request, an attacker who knows the addresses and ports but not the sequence numbers
    sends RSTs "from the server" with guessed numbers, far from any window; Vigil's
    stream-event rst_out_of_window marks them and the case's drop rule drops them, so the
    client never sees them. The server's real RST at the end (its next sequence number)
    passes, and so does a second connection's RST whose number lies inside the window."""
    a, b = [], []
    ip, rip = IP(src="10.1.1.1", dst="10.2.2.2"), IP(src="10.2.2.2", dst="10.1.1.1")
    req = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    for k, port in enumerate((40200, 40201)):
        t = k * 100
        a.append((t, c2s(ip / TCP(sport=port, dport=80, flags="S", seq=1000, window=64240))))
        b.append((t + 1, s2c(rip / TCP(sport=80, dport=port, flags="SA", seq=5000, ack=1001,
                                       window=65160))))
        a.append((t + 2, c2s(ip / TCP(sport=port, dport=80, flags="A", seq=1001, ack=5001,
                                      window=502))))
        a.append((t + 3, c2s(ip / TCP(sport=port, dport=80, flags="PA", seq=1001, ack=5001,
                                      window=502) / Raw(req))))
        ack = 1001 + len(req)
        if k == 0:
            # Guesses spread over the sequence space, as a blind attacker sends them.
            for i, guess in enumerate((0x40000000, 0x90000000, 0xd0001000)):
                b.append((t + 4 + i, s2c(rip / TCP(sport=80, dport=port, flags="R", seq=guess,
                                                   window=0))))
            # The connection goes on: the answer, then the server's own RST at its next
            # sequence number.
            resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
            b.append((t + 10, s2c(rip / TCP(sport=80, dport=port, flags="PA", seq=5001, ack=ack,
                                            window=509) / Raw(resp))))
            b.append((t + 11, s2c(rip / TCP(sport=80, dport=port, flags="R", seq=5001 + len(resp),
                                            window=0))))
        else:
            # An RST inside the window (RFC 5961 would have the host challenge it; it is no
            # blind guess far off): not an event.
            b.append((t + 4, s2c(rip / TCP(sport=80, dport=port, flags="R", seq=5001 + 20000,
                                           window=0))))
    write("sig-rst-inject", "in-a.pcap", a)
    write("sig-rst-inject", "in-b.pcap", b)
    write("sig-rst-inject", "expect-b.pcap", a)
    write("sig-rst-inject", "expect-a.pcap", [x for x in b if x[0] not in (4, 5, 6)])


def first_packets():
    """sig-first-packet: what a rule sees of a packet is its flow as that packet left it, even
    when the flow's first packets share a burst: an IP-only rule fires on the first packet of
    its direction, a not_established rule on the SYN, an established one on the request."""
    a, b = [], []
    tcp_session(a, b, 0, 40000, 8000, [b"hello server\r\n"], resp=b"hello client\r\n")
    # Both sides of the conversation arrive on one port (as from a tap), so that the whole
    # connection is one burst.
    write("sig-first-packet", "in-a.pcap", a + b)
    write("sig-first-packet", "expect-b.pcap", a + b)


def applayer():
    """sig-applayer: rules on application-layer buffers, inline. HTTP on port 80 whose URI is
    normalised to /etc/passwd (a dot segment and a percent-encoding hide it), split over two
    segments: dropped from the second segment on; HTTP on port 8888, recognised by its bytes:
    its Host alerts; a DNS query for bad.example.com over UDP alerts; a TLS ClientHello with SNI
    tls.example.net on port 8443 alerts; an ordinary HTTP exchange passes untouched; a response
    body that runs to the end of its flow is inspected when the flow ends."""
    from scapy.layers.tls.all import TLS, TLSClientHello, TLS_Ext_ServerName, ServerName
    a, b = [], []
    tcp_session(a, b, 0, 40000, 80, [b"GET /images/..%2fetc/pa", b"sswd HTTP/1.1\r\nHost: www\r\n\r\n"])
    tcp_session(a, b, 100, 40001, 8888, [b"GET /index.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n"],
                resp=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
    q = DNS(id=7, rd=1, qd=DNSQR(qname="bad.example.com", qtype="A"))
    a.append((200, c2s(IP(src="10.1.1.1", dst="10.2.2.53") / UDP(sport=5353, dport=53) / q)))
    hello = bytes(TLS(msg=[TLSClientHello(ciphers=[0x1301, 0xc02f], ext=[
        TLS_Ext_ServerName(servernames=[ServerName(servername=b"tls.example.net")])])]))
    tcp_session(a, b, 300, 40002, 8443, [hello], resp=b"")
    tcp_session(a, b, 400, 40003, 80, [b"GET /ok.html HTTP/1.1\r\nHost: www\r\n\r\n"],
                resp=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    # A response without a length whose flow is still open when the capture ends: its body is
    # final when the flow ends (at shutdown here), and inspected then.
    tcp_session(a, b, 500, 40004, 80, [b"GET /stream HTTP/1.0\r\nHost: www\r\n\r\n"],
                resp=b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsecret-body")
    write("sig-applayer", "in-a.pcap", a)
    write("sig-applayer", "in-b.pcap", b)
    # Everything passes but the URI's second segment and the server's answer after it.
    write("sig-applayer", "expect-b.pcap", [x for x in a if x[0] != 4])
    write("sig-applayer", "expect-a.pcap", [x for x in b if x[0] != 10])


def tcp_dialog(a, b, t, cport, sport, turns, client="10.1.1.1", server="10.2.2.2"):
    """A handshake, then the turns in order: (0, bytes) from the client, (1, bytes) from the
    server, each acknowledging what the other side sent so far."""
    ip, rip = IP(src=client, dst=server), IP(src=server, dst=client)
    cseq, sseq = 1001, 5001
    a.append((t, c2s(ip / TCP(sport=cport, dport=sport, flags="S", seq=cseq - 1))))
    b.append((t + 1, s2c(rip / TCP(sport=sport, dport=cport, flags="SA", seq=sseq - 1, ack=cseq))))
    a.append((t + 2, c2s(ip / TCP(sport=cport, dport=sport, flags="A", seq=cseq, ack=sseq))))
    for i, (side, data) in enumerate(turns):
        if side == 0:
            a.append((t + 3 + i, c2s(ip / TCP(sport=cport, dport=sport, flags="PA", seq=cseq,
                                              ack=sseq) / Raw(data))))
            cseq += len(data)
        else:
            b.append((t + 3 + i, s2c(rip / TCP(sport=sport, dport=cport, flags="PA", seq=sseq,
                                               ack=cseq) / Raw(data))))
            sseq += len(data)


def eve_applayer():
    """eve-applayer: one exchange per application protocol, each matched by a signature on its
    transaction, so that every EVE alert carries its protocol's object: an HTTP request
    answered by a redirect, a DNS query, a TLS ClientHello, SSH banners, an SMTP envelope, an
    FTP command refused, and an HTTP request whose URL is too long to carry whole. Everything
    passes (alert rules only)."""
    from scapy.layers.dns import DNS, DNSQR
    from scapy.layers.tls.all import TLS, TLSClientHello, TLS_Ext_ServerName, ServerName
    a, b = [], []
    tcp_dialog(a, b, 0, 40010, 80, [
        (0, b"GET /admin/login.php?user=admin HTTP/1.1\r\nHost: www.example.com\r\n"
            b"User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"),
        (1, b"HTTP/1.1 302 Found\r\nLocation: https://www.example.com/login\r\n"
            b"Content-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\nmoved")])
    q = DNS(id=4660, rd=1, qd=DNSQR(qname="bad.example.com", qtype="A"))
    a.append((100, c2s(IP(src="10.1.1.1", dst="10.2.2.53") / UDP(sport=5300, dport=53) / q)))
    hello = bytes(TLS(msg=[TLSClientHello(gmt_unix_time=0, random_bytes=b"\x00" * 28,
                                          ciphers=[0x1301, 0xc02f], ext=[
        TLS_Ext_ServerName(servernames=[ServerName(servername=b"tls.example.net")])])]))
    tcp_dialog(a, b, 200, 40011, 443, [(0, hello)])
    tcp_dialog(a, b, 300, 40012, 22, [(1, b"SSH-2.0-OpenSSH_7.4\r\n"),
                                      (0, b"SSH-2.0-libssh-0.7.2\r\n")])
    tcp_dialog(a, b, 400, 40013, 25, [
        (1, b"220 mail.example.org ESMTP\r\n"), (0, b"EHLO client.example.org\r\n"),
        (1, b"250 mail.example.org\r\n"), (0, b"MAIL FROM:<evil@example.com>\r\n"),
        (1, b"250 OK\r\n"), (0, b"RCPT TO:<victim@example.com>\r\n"), (1, b"250 OK\r\n"),
        (0, b"DATA\r\n"), (1, b"354 go ahead\r\n"), (0, b"Subject: hi\r\n\r\nhi\r\n.\r\n"),
        (1, b"250 queued\r\n")])
    tcp_dialog(a, b, 500, 40014, 21, [
        (1, b"220 FTP ready\r\n"), (0, b"USER anonymous\r\n"), (1, b"331 Password please\r\n"),
        (0, b"RETR /etc/passwd\r\n"), (1, b"550 No such file\r\n")])
    # A URL longer than the event has room for: cut, and said to be.
    tcp_dialog(a, b, 600, 40015, 80, [
        (0, b"GET /long/" + b"a" * 300 + b" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")])
    write("eve-applayer", "in-a.pcap", a)
    write("eve-applayer", "in-b.pcap", b)
    write("eve-applayer", "expect-b.pcap", a)
    write("eve-applayer", "expect-a.pcap", b)


def threshold():
    """sig-threshold: threshold.config acting on an alert rule. A rate_filter turns the alert into
    a drop once 10.1.1.1 has matched more than 3 times within 60 s (its 4th to 6th datagrams
    are dropped and alert as blocked); a suppress silences 10.3.3.3 (forwarded, no alert);
    10.4.4.4 is counted apart from 10.1.1.1 (forwarded, alerts)."""
    a = []
    for i in range(6):
        a.append((i * 100, c2s(IP(src="10.1.1.1", dst="10.2.2.2") / UDP(sport=7000, dport=5000)
                               / Raw(b"ping evil %d" % i))))
    for i in range(2):
        a.append((50 + i * 100, c2s(IP(src="10.3.3.3", dst="10.2.2.2") / UDP(sport=7001, dport=5000)
                                    / Raw(b"ping evil quiet %d" % i))))
    a.append((550, c2s(IP(src="10.4.4.4", dst="10.2.2.2") / UDP(sport=7002, dport=5000)
                       / Raw(b"ping evil other"))))
    write("sig-threshold", "in-a.pcap", a)
    dropped = {300, 400, 500}
    write("sig-threshold", "expect-b.pcap", [x for x in a if x[0] not in dropped])


def events():
    """sig-events: decode-event, stream-event and checksum rules, parse.l4_checksum on. A
    malformed packet the parser refuses alerts (and stays dropped); a UDP datagram with a wrong
    checksum is dropped by a drop rule (the parser forwards checksum errors); a UDP datagram
    whose length field disagrees, forwarded by the case's parse policy, is dropped by a
    decode-event drop rule; a TCP segment with a wrong checksum alerts and is forwarded; a gap
    in a TCP stream alerts once."""
    a, b = [], []
    ip = IP(src="10.1.1.1", dst="10.2.2.2")
    good = c2s(ip / UDP(sport=5000, dport=7000) / Raw(b"check me"))
    a.append((0, good))                                               # forwarded, alerts 9910003
    bad_ihl = bytearray(bytes(good))
    bad_ihl[14] = 0x44                                                # IHL 4: refused
    a.append((1, bytes(bad_ihl)))
    bad_ck = bytearray(bytes(good))
    bad_ck[40] ^= 0xff                                                # UDP checksum wrong
    a.append((2, bytes(bad_ck)))
    bad_len = bytearray(bytes(c2s(ip / UDP(sport=5001, dport=7000, chksum=0) / Raw(b"length"))))
    bad_len[38:40] = (100).to_bytes(2, "big")                         # UDP length beyond the datagram
    a.append((3, bytes(bad_len)))
    # TCP: a session whose second request segment comes with a wrong checksum (forwarded,
    # alerts 2200074) and whose third follows a gap of 5 bytes (alerts 2210048).
    t = 10
    cip, sip = IP(src="10.1.1.1", dst="10.2.2.2"), IP(src="10.2.2.2", dst="10.1.1.1")
    a.append((t, c2s(cip / TCP(sport=40000, dport=80, flags="S", seq=1000))))
    b.append((t + 1, s2c(sip / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001))))
    a.append((t + 2, c2s(cip / TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001))))
    a.append((t + 3, c2s(cip / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001) / Raw(b"GET / HTTP/1.0\r\n"))))
    seg = bytearray(bytes(c2s(cip / TCP(sport=40000, dport=80, flags="PA", seq=1017, ack=5001) / Raw(b"X-A: 1\r\n"))))
    seg[50:52] = bytes([seg[50] ^ 0x55, seg[51]])                     # TCP checksum wrong
    a.append((t + 4, bytes(seg)))
    a.append((t + 5, c2s(cip / TCP(sport=40000, dport=80, flags="PA", seq=1017 + 8 + 5, ack=5001) / Raw(b"\r\n"))))
    write("sig-events", "in-a.pcap", a)
    write("sig-events", "in-b.pcap", b)
    write("sig-events", "expect-b.pcap", [x for x in a if x[0] not in (1, 2, 3)])
    write("sig-events", "expect-a.pcap", b)


def header_keywords():
    """sig-header: header keywords read the packet's own headers through the dataplane: ICMP
    type and sequence number, TTL, an IPv4 option, the VLAN id, the TCP MSS (a drop rule: that
    SYN is not forwarded), the TCP header's bytes (tcp.hdr) and the client's
    stream size; the packets beside them that differ in that one field are not flagged."""
    from scapy.all import ICMP, IPOption_RR, Dot1Q
    a = []
    ip = IP(src="10.1.1.1", dst="10.2.2.2")
    a.append((0, c2s(ip / ICMP(type=8, id=0x1234, seq=2216) / Raw(b"ping"))))
    a.append((1, c2s(ip / ICMP(type=8, id=0x1234, seq=2217) / Raw(b"ping"))))
    a.append((2, c2s(IP(src="10.1.1.1", dst="10.2.2.2", ttl=1) / UDP(sport=5000, dport=7000) / Raw(b"t1"))))
    a.append((3, c2s(IP(src="10.1.1.1", dst="10.2.2.2", ttl=2) / UDP(sport=5001, dport=7000) / Raw(b"t2"))))
    a.append((4, c2s(IP(src="10.1.1.1", dst="10.2.2.2", options=[IPOption_RR(routers=["0.0.0.0"])])
                     / UDP(sport=5002, dport=7001) / Raw(b"rr"))))
    a.append((5, Ether(src=CM, dst=SM) / Dot1Q(vlan=300) / IP(src="10.1.1.1", dst="10.2.2.2")
              / UDP(sport=5003, dport=7002) / Raw(b"v300")))
    a.append((6, Ether(src=CM, dst=SM) / Dot1Q(vlan=301) / IP(src="10.1.1.1", dst="10.2.2.2")
              / UDP(sport=5004, dport=7002) / Raw(b"v301")))
    # SYNs to 8001: MSS 536 (dropped by the rule), MSS 1460 (forwarded)
    a.append((7, c2s(ip / TCP(sport=41000, dport=8001, flags="S", seq=1, options=[("MSS", 536)]))))
    a.append((8, c2s(ip / TCP(sport=41001, dport=8001, flags="S", seq=1, options=[("MSS", 1460)]))))
    # a SYN with SACK permitted (kind 4, length 2) in its header, one without
    a.append((9, c2s(ip / TCP(sport=41002, dport=8003, flags="S", seq=1, options=[("SAckOK", b"")]))))
    a.append((10, c2s(ip / TCP(sport=41003, dport=8003, flags="S", seq=1, options=[("NOP", None)] * 4))))
    # stream_size: the client sends 10 then 30 bytes; only the second takes it past 20
    b = []
    tcp_session(a, b, 20, 41004, 8002, [b"x" * 10, b"y" * 30], resp=b"ok")
    write("sig-header", "in-a.pcap", a + b)
    write("sig-header", "expect-b.pcap", [x for x in a + b if x[0] != 7])


def anomalies():
    """sig-anomalies: protocol anomalies (odd but well-formed headers) are counted, forwarded
    and visible to rules: an IPv4 datagram fragmented with DF set (one alert: fragments are inspected as the datagram they complete), an
    IPv6 routing header of type 0 (Suricata's own rule alerts), two routing headers (a drop rule
    drops it), an IPv6 fragment header with a reserved bit set (Suricata's rule alerts); DF on a
    whole datagram and one routing header of type 4 raise nothing."""
    from scapy.all import IPv6, IPv6ExtHdrFragment, IPv6ExtHdrRouting
    a = []
    whole = IP(src="10.1.1.1", dst="10.2.2.2", id=77, flags="DF") / UDP(sport=5000, dport=7000) / Raw(b"d" * 64)
    raw = bytes(whole)
    first = bytearray(raw[:20 + 32])
    first[2:4] = (52).to_bytes(2, "big")
    first[6:8] = (0x4000 | 0x2000).to_bytes(2, "big")            # DF and MF, offset 0
    later = bytearray(raw[:20] + raw[20 + 32:])
    later[2:4] = (20 + len(raw) - 52).to_bytes(2, "big")
    later[6:8] = (0x4000 | (32 // 8)).to_bytes(2, "big")          # DF, offset 32
    from scapy.all import checksum
    for f in (first, later):
        f[10:12] = b"\0\0"
        f[10:12] = checksum(bytes(f[:20])).to_bytes(2, "big")
    a.append((0, Ether(src=CM, dst=SM, type=0x0800) / Raw(bytes(first))))
    a.append((1, Ether(src=CM, dst=SM, type=0x0800) / Raw(bytes(later))))
    v6 = IPv6(src="fd00::1", dst="fd00::2")
    a.append((2, c2s(v6 / IPv6ExtHdrRouting(type=0, addresses=["fd00::9"]) / UDP(sport=5001, dport=7000) / Raw(b"rh0"))))
    a.append((3, c2s(v6 / IPv6ExtHdrRouting(type=4, segleft=0) / IPv6ExtHdrRouting(type=4, segleft=0)
                     / UDP(sport=5002, dport=7000) / Raw(b"two rh"))))
    a.append((4, c2s(v6 / IPv6ExtHdrFragment(res1=1, m=1, id=5) / UDP(sport=5003, dport=7000, len=200) / Raw(b"f" * 16))))
    a.append((5, c2s(v6 / IPv6ExtHdrRouting(type=4, segleft=0) / UDP(sport=5004, dport=7000) / Raw(b"srh"))))
    a.append((6, c2s(whole)))
    write("sig-anomalies", "in-a.pcap", a)
    write("sig-anomalies", "expect-b.pcap", [x for x in a if x[0] != 3])


def injection():
    """sig-injection: a TCP injection races the real answer. The client asks; a forged answer
    (a redirect) comes first with the server's next sequence number, then the real one with the
    same numbers and other bytes: Suricata's overlap rule (2210050, as shipped) alerts once on
    the real answer, and a drop rule of the case on the same event drops it in the second
    connection. An exact retransmission (same bytes) and a retransmission of the first bytes
    only raise nothing. A third connection resends the client's request with the same first 40
    bytes and other bytes after them: the overlap rule alerts on the client's copy."""
    a, b = [], []
    for k, port in enumerate((40100, 40101)):
        t = k * 100
        cip, sip = IP(src="10.1.1.1", dst="10.2.2.2"), IP(src="10.2.2.2", dst="10.1.1.1")
        a.append((t, c2s(cip / TCP(sport=port, dport=80 + k, flags="S", seq=1000))))
        b.append((t + 1, s2c(sip / TCP(sport=80 + k, dport=port, flags="SA", seq=5000, ack=1001))))
        a.append((t + 2, c2s(cip / TCP(sport=port, dport=80 + k, flags="A", seq=1001, ack=5001))))
        req = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"
        a.append((t + 3, c2s(cip / TCP(sport=port, dport=80 + k, flags="PA", seq=1001, ack=5001) / Raw(req))))
        a.append((t + 4, c2s(cip / TCP(sport=port, dport=80 + k, flags="PA", seq=1001, ack=5001) / Raw(req))))
        a.append((t + 5, c2s(cip / TCP(sport=port, dport=80 + k, flags="PA", seq=1001, ack=5001) / Raw(req[:10]))))
        ack = 1001 + len(req)
        forged = b"HTTP/1.1 302 Found\r\nLocation: http://203.0.113.66/x\r\n\r\n"
        real = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        b.append((t + 6, s2c(sip / TCP(sport=80 + k, dport=port, flags="PA", seq=5001, ack=ack) / Raw(forged))))
        b.append((t + 7, s2c(sip / TCP(sport=80 + k, dport=port, flags="PA", seq=5001, ack=ack) / Raw(real))))
    # An evasion that counts on the receiver keeping one of two copies: the client sends a
    # request, then the same segment (same numbers, same length, the same first 40 bytes) with
    # other bytes after them; the copies differ only beyond the head kept byte for byte.
    t = 200
    cip, sip = IP(src="10.1.1.1", dst="10.2.2.2"), IP(src="10.2.2.2", dst="10.1.1.1")
    a.append((t, c2s(cip / TCP(sport=40102, dport=82, flags="S", seq=1000))))
    b.append((t + 1, s2c(sip / TCP(sport=82, dport=40102, flags="SA", seq=5000, ack=1001))))
    a.append((t + 2, c2s(cip / TCP(sport=40102, dport=82, flags="A", seq=1001, ack=5001))))
    one = b"GET /download?file=report.pdf HTTP/1.1\r\nHost: files.example.com\r\n\r\n"
    two = one.replace(b"files.example.com", b"evil.example.org\r")
    assert len(one) == len(two) and one[:40] == two[:40]
    a.append((t + 3, c2s(cip / TCP(sport=40102, dport=82, flags="PA", seq=1001, ack=5001) / Raw(one))))
    a.append((t + 4, c2s(cip / TCP(sport=40102, dport=82, flags="PA", seq=1001, ack=5001) / Raw(two))))
    write("sig-injection", "in-a.pcap", a)
    write("sig-injection", "in-b.pcap", b)
    write("sig-injection", "expect-b.pcap", a)
    write("sig-injection", "expect-a.pcap", [x for x in b if x[0] != 107])


CASES = {"sig-reject-receiver": reject_receiver, "sig-threshold": threshold, "sig-events": events, "sig-anomalies": anomalies, "sig-injection": injection, "sig-header": header_keywords, "sig-applayer": applayer, "sig-first-packet": first_packets, "sig-fragments": fragments, "sig-frag-overlap": frag_overlap, "sig-rst-inject": rst_inject,
         "sig-reject": reject_and_dry_run, "sig-stream": stream, "eve-applayer": eve_applayer}

if __name__ == "__main__":
    # Every case, or the ones named (a capture with random fields, such as a TLS hello, comes
    # out different each time: regenerate only what changed).
    for name in sys.argv[1:] or CASES:
        CASES[name]()
    print("signature cases written")
