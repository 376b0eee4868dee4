#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The layers of docs/ARCHITECTURE.md, checked from the sources.

Every `#include "..."` of a product file (the folders below, tests excluded) must name a header
of its own folder or of a folder its layer may use; a header of a higher layer, a header found
in no product folder (a test's, say) or in two of them, or a path reaching outside the folder
("../x.h") is an error. The product meson.build files give each library only its own folder and
the layer deps below it (meson.build), so such an include does not compile either; this check
also covers what meson does not build here (a file of no target, a header no one compiles)
and names the rule that was broken. And those meson.build files must keep it so: none uses the
global `inc` (every folder) or points into tests/ (tests, fuzz targets and the test doubles
are declared under tests/).

    layers.py [SOURCE_ROOT]     exit 0 when every include is allowed, 1 otherwise
"""
import os
import re
import sys

# folder -> the folders its files may include besides their own (docs/ARCHITECTURE.md).
LOWER = {
    "common": [],
    "bpf": [],
    "applayer": ["common"],
    "rules": ["common", "bpf"],
    "detect": ["common", "applayer"],
    "dataplane": ["common", "bpf", "applayer", "detect", "rules"],
    "control": ["common", "bpf", "applayer", "detect", "rules", "dataplane"],
    "mgmt": ["common", "bpf", "applayer", "detect", "rules", "dataplane", "control"],
    "app": ["common", "bpf", "applayer", "detect", "rules", "dataplane", "control", "mgmt"],
    "tools": ["common"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def sources(root, folder):
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith((".c", ".h")):
                yield os.path.join(dirpath, name)


def meson_code(text):
    """The text of a meson.build without its comments (quotes respected)."""
    out = []
    for line in text.splitlines():
        quote = False
        for i, c in enumerate(line):
            if c == "'":
                quote = not quote
            elif c == "#" and not quote:
                line = line[:i]
                break
        out.append(line)
    return out


def check_meson(root, errors):
    for folder in LOWER:
        if folder == "tools":  # tools keep their tests in tests/tools/ (tools/README.md)
            continue
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames.sort()
            if "meson.build" not in filenames:
                continue
            path = os.path.join(dirpath, "meson.build")
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                code = meson_code(f.read())
            for n, line in enumerate(code, 1):
                if re.search(r"\binc\b", line):
                    errors.append("%s:%d: the global `inc`; use the layer deps below %s/" %
                                  (rel, n, folder))
                if re.search(r"['/]tests/|'tests'", line):
                    errors.append("%s:%d: points into tests/; declare it under tests/" %
                                  (rel, n))


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    owner = {}  # header name -> folders that have it
    for folder in LOWER:
        for path in sources(root, folder):
            if path.endswith(".h"):
                owner.setdefault(os.path.basename(path), []).append(folder)
    errors = []
    n_files = n_includes = 0
    for folder, lower in LOWER.items():
        for path in sources(root, folder):
            n_files += 1
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                n_includes += 1
                line = text.count("\n", 0, m.start()) + 1
                name = m.group(1)
                where = "%s:%d: \"%s\"" % (rel, line, name)
                if "/" in name:
                    # A path: allowed only below the including file's own folder.
                    target = os.path.normpath(os.path.join(os.path.dirname(path), name))
                    top = os.path.join(root, folder) + os.sep
                    if not target.startswith(top):
                        errors.append("%s: a path out of %s/; include it by name through "
                                      "the layer deps" % (where, folder))
                    continue
                found = owner.get(name)
                if found is None:
                    errors.append("%s: no product folder has this header (a test's? "
                                  "product code includes only product headers)" % where)
                elif len(found) > 1:
                    errors.append("%s: two folders have this header: %s" %
                                  (where, ", ".join(found)))
                elif found[0] != folder and found[0] not in lower:
                    errors.append("%s: %s/ is not below %s/ (%s/ may include: %s)" %
                                  (where, found[0], folder, folder,
                                   ", ".join(lower) or "nothing else"))
    check_meson(root, errors)
    for e in errors:
        print("layers: " + e, file=sys.stderr)
    print("layers: %d files, %d includes, %d errors" % (n_files, n_includes, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
