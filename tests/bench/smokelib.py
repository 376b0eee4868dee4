# SPDX-License-Identifier: BSD-3-Clause
"""What the benchmark smoke tests share: the repository root and a list of named checks."""
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SKIP = 77
failures = []
passes = []


def check(cond, what):
    """Record a named check; a failed one is printed at once."""
    (passes if cond else failures).append(what)
    if not cond:
        print(f"FAIL: {what}")


def positive(v):
    return isinstance(v, (int, float)) and v > 0


def verdict():
    """Print the count and return the exit code."""
    print(f"{len(passes)} passed, {len(failures)} failed")
    return 1 if failures else 0
