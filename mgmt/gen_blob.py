#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a C file holding a file's bytes as a NUL-terminated array: gen_blob.py IN OUT NAME."""
import sys


def main():
    src, dst, name = sys.argv[1:4]
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "w") as out:
        out.write("/* Generated from %s by mgmt/gen_blob.py; do not edit. */\n" % src.split("/")[-1])
        out.write("#include <stddef.h>\n\n")
        out.write("extern const char %s[];\nextern const size_t %s_len;\n\n" % (name, name))
        out.write("const char %s[] = {\n" % name)
        for i in range(0, len(data), 16):
            out.write("\t" + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",\n")
        out.write("\t0x00\n};\n")
        out.write("const size_t %s_len = %d;\n" % (name, len(data)))


if __name__ == "__main__":
    main()
