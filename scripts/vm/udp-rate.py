#!/usr/bin/env python3
"""Send UDP datagrams of SIZE bytes to DST:PORT as fast as one socket allows for SECONDS and
print how many were sent (scripts/vm/run-guest.sh and run-vhost.sh --rate: the offered load of
the emulated throughput figure in docs/VM.md).

    udp-rate.py DST PORT SECONDS [SIZE]
"""
import socket
import sys
import time


def main():
    dst, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 18
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"v" * size
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(64):
            try:
                s.sendto(payload, (dst, port))
                sent += 1
            except (BlockingIOError, ConnectionRefusedError):
                pass
    print(sent)


if __name__ == "__main__":
    main()
