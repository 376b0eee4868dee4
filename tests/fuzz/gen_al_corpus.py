#!/usr/bin/env python3
"""Seed corpora of fuzz_al_dns and fuzz_al_tls from suricata-verify captures (tshark).

Each seed is one conversation in fuzz_al_feed.h's layout: a config byte, then per payload
[dir<<7 | len>>8] [len & 0xff] and the bytes. Run from the repository root:
    tests/fuzz/gen_al_corpus.py ../shared/testdata
"""
import os
import subprocess
import sys

SEEDS = {
    'al_dns': [
        ('suricata-verify-more/dns_dns-query-name/input.pcap', 'udp', 0),
        ('suricata-verify-more/dns_dns-response-mx/dns-udp-google.com-a-aaaa-mx.pcap', 'udp', 0),
        ('suricata-verify-more/dns_dns-rcode/input.pcap', 'udp', 0),
        ('suricata-verify-more/dns_dns-forward-pointer/input.pcap', 'udp', 0),
        ('suricata-verify-more/dns_task-7018-ids-dns-keywords/input.pcap', 'tcp', 1),
        ('suricata-verify-more/dns_dns-incomplete/input.pcap', 'tcp', 3),
    ],
    'al_tls': [
        ('suricata-verify-more/tls_tls-client-hello-frag-01/dump_mtu300.pcap', 'tcp', 1),
        ('suricata-verify-more/sslv2-tls-upgrade-01/ssl-v2-s1.pcap', 'tcp', 1),
        ('suricata-verify-more/tls-duplicate-hello/input.pcap', 'tcp', 1),
        ('suricata-verify-more/tls_tls-subject-zero/input.pcap', 'tcp', 3),
    ],
}


def payloads(path, l4):
    out = subprocess.run(['tshark', '-r', path, '-T', 'fields', '-e', 'ip.src', '-e',
                          l4 + '.srcport', '-e', l4 + '.payload'],
                         capture_output=True, text=True, check=True).stdout
    client = None
    for line in out.splitlines():
        src, port, hexdata = (line.split('\t') + ['', '', ''])[:3]
        if client is None:
            client = (src, port)
        if hexdata:
            yield (0 if (src, port) == client else 1), bytes.fromhex(hexdata.replace(':', ''))


def main():
    data = sys.argv[1]
    for target, cases in SEEDS.items():
        for rel, l4, config in cases:
            seed = bytearray([config])
            for d, p in payloads(os.path.join(data, rel), l4):
                for off in range(0, len(p), 8191):
                    piece = p[off:off + 8191]
                    seed += bytes([d << 7 | len(piece) >> 8, len(piece) & 0xff]) + piece
            name = rel.split('/')[1] + ('-tight' if config & 2 else '')
            with open(os.path.join('tests/fuzz/corpus', target, name), 'wb') as f:
                f.write(seed[:65536])


main()
