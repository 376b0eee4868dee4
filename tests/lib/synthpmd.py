#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The net_vgsynth plugin (tools/synth) from where EAL will load it.

EAL refuses to load a plugin below a world-writable directory (a clone in /tmp): such a plugin
is loaded from a private copy in /run. As a module: `with private_plugin(path) as path:`. As a
command, for tests that are programs: `synthpmd.py --env VAR -- PROGRAM ARGS...` runs the
program with $VAR naming a loadable copy of the plugin $VAR names.
"""
import argparse
import contextlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile


@contextlib.contextmanager
def private_plugin(path):
    d = os.path.dirname(os.path.abspath(path))
    while d != "/" and not os.stat(d).st_mode & stat.S_IWOTH:
        d = os.path.dirname(d)
    if d == "/" and not os.stat("/").st_mode & stat.S_IWOTH:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="vigil-synth-pmd-", dir="/run") as priv:
        copy = os.path.join(priv, os.path.basename(path))
        shutil.copy2(path, copy)
        yield copy


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env", required=True, help="the variable that names the plugin")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd or args.env not in os.environ:
        ap.error(f"give a command, and the plugin in ${args.env}")
    with private_plugin(os.environ[args.env]) as path:
        env = dict(os.environ, **{args.env: path})
        return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
