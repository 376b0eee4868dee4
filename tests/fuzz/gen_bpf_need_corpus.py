#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpus of fuzz_bpf_need (tests/fuzz/corpus/bpf_need): a context (88 bytes), then a
program's instructions, taken from the examples built in BUILD/bpf that call no map helper,
their calls turned from relocations into helper indexes (rl_bpf_load_insns: vg_pkt_u8,
vg_pkt_u16, vg_pkt_u32, vg_flow_hash). Needs llvm-objcopy and llvm-readelf; the outputs are
committed.

  tests/fuzz/gen_bpf_need_corpus.py BUILD"""
import os
import re
import struct
import subprocess
import sys
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "bpf_need")
HELPERS = ["vg_pkt_u8", "vg_pkt_u16", "vg_pkt_u32", "vg_flow_hash"]
PROGRAMS = ["pass", "allow_private", "dns_qname", "sampler", "prefilter_bogon", "test_mark_age"]


def ctx(family, proto, dir_, sport, dport, mark, src, dst):
    """struct vg_bpf_ctx (bpf/vigil_bpf.h), little-endian."""
    head = struct.pack("<HHBBBBHHHH", 1, 88, family, proto, dir_, 0x12, 0, sport, dport, mark)
    meta = struct.pack("<IIHHHHI", 3, 64, 14, 34, 42, 0, 22)
    flow = struct.pack("<IQQ", 5, 2_000_000_000, 1_700_000_000_000_000_000)
    return head + meta + flow + src.ljust(16, b"\0") + dst.ljust(16, b"\0")


CONTEXTS = {
    "v4-udp53": ctx(4, 17, 0, 5353, 53, 0, bytes([10, 1, 1, 1]), bytes([8, 8, 8, 8])),
    "v4-reply-marked": ctx(4, 6, 1, 443, 40000, 9, bytes([192, 168, 1, 1]), bytes([10, 0, 0, 1])),
    "v6": ctx(6, 17, 0, 1, 2, 0, bytes.fromhex("fd000000000000000000000000000001"),
              bytes.fromhex("20010db8000000000000000000000002")),
}


def program(build, name):
    obj = os.path.join(build, "bpf", name + ".o")
    with tempfile.NamedTemporaryFile() as t:
        subprocess.run(["llvm-objcopy", "--dump-section", "vigil=" + t.name, obj, "/dev/null"],
                       check=True)
        code = bytearray(open(t.name, "rb").read())
    rel = subprocess.run(["llvm-readelf", "-r", obj], check=True, capture_output=True,
                         text=True).stdout
    for off, sym in re.findall(r"^([0-9a-f]{16})\s+\S+\s+R_BPF_64_32\s+\S+\s+(\S+)$", rel, re.M):
        if sym not in HELPERS:
            return None
        i = int(off, 16)
        code[i + 1] &= 0x0f  # src_reg 0: a call of a helper by index
        code[i + 4:i + 8] = struct.pack("<i", HELPERS.index(sym))
    return bytes(code)


def main():
    build = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    for name in PROGRAMS:
        code = program(build, name)
        if code is None or len(code) > 256 * 8:
            continue  # calls the map helpers, or longer than the fuzzer takes
        for cname, c in CONTEXTS.items():
            with open(os.path.join(OUT, f"{name}-{cname}.bin"), "wb") as f:
                f.write(c + code)


if __name__ == "__main__":
    main()
