# SPDX-License-Identifier: BSD-3-Clause
"""Read and write classic pcap files with the standard library only (tests must not need scapy)."""
import struct

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D


class Packet:
    __slots__ = ("ts_ns", "data", "orig_len")

    def __init__(self, ts_ns, data, orig_len=None):
        self.ts_ns = ts_ns
        self.data = data
        self.orig_len = len(data) if orig_len is None else orig_len


def read(path):
    """Return (linktype, [Packet]) for a pcap file; raise ValueError on a malformed file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 24:
        raise ValueError(f"{path}: {len(blob)} bytes is too short for a pcap header")
    for endian in ("<", ">"):
        magic = struct.unpack(endian + "I", blob[:4])[0]
        if magic in (MAGIC_US, MAGIC_NS):
            break
    else:
        raise ValueError(f"{path}: not a pcap file (magic {blob[:4].hex()})")
    scale = 1 if magic == MAGIC_NS else 1000
    _, _, _, _, _, linktype = struct.unpack(endian + "HHiIII", blob[4:24])
    pkts = []
    off = 24
    while off < len(blob):
        if off + 16 > len(blob):
            raise ValueError(f"{path}: truncated record header at byte {off}")
        sec, frac, incl, orig = struct.unpack(endian + "IIII", blob[off:off + 16])
        off += 16
        if off + incl > len(blob):
            raise ValueError(f"{path}: truncated packet at byte {off}")
        pkts.append(Packet(sec * 1_000_000_000 + frac * scale, blob[off:off + incl], orig))
        off += incl
    return linktype, pkts


def write(path, packets, linktype=1):
    """Write packets (Packet or bytes) as a microsecond pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", MAGIC_US, 2, 4, 0, 0, 65535, linktype))
        for i, p in enumerate(packets):
            if isinstance(p, (bytes, bytearray)):
                p = Packet(i * 1000, bytes(p))
            sec, ns = divmod(p.ts_ns, 1_000_000_000)
            f.write(struct.pack("<IIII", sec, ns // 1000, len(p.data), p.orig_len))
            f.write(p.data)
