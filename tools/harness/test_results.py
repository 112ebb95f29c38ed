#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side self-test of results.py: the parser must never turn a crash,
a missing plan or a failure into green. Prints TAP."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import results  # noqa: E402

KUNIT_OK = """\
[    1.0] KTAP version 1
[    1.0] 1..1
[    1.0]     KTAP version 1
[    1.0]     # Subtest: s
[    1.0]     1..2
[    1.0]     ok 1 a
[    1.0]     ok 2 b
[    1.0] # s: pass:2 fail:0 skip:0 total:2
[    1.0] ok 1 s
"""

cases = []


def case(f):
    cases.append(f)
    return f


def tally(text, name="t"):
    return results.parse_tap(name, results.strip_log(text.splitlines()))


@case
def kunit_leaves_counted_not_parents():
    t = tally(results_kunit(KUNIT_OK))
    return (t.passed, t.failed) == (2, 0)


def results_kunit(text):
    return "\n".join(results.kunit_from_log(results.strip_log(text.splitlines())))


@case
def failed_leaf_fails():
    t = tally(KUNIT_OK.replace("ok 2 b", "not ok 2 b"))
    return t.failed >= 1


@case
def crash_mid_suite_fails():
    # The suite planned 2 and stopped after one.
    text = "\n".join(KUNIT_OK.splitlines()[:6])
    return tally(text).failed >= 1


@case
def missing_output_fails():
    return tally("").failed == 1


@case
def skip_is_not_pass():
    t = tally("TAP version 13\n1..1\nok 1 - x # SKIP no thing\n")
    return (t.passed, t.skipped) == (0, 1)


@case
def bail_out_fails():
    return tally("TAP version 13\n1..2\nok 1 - a\nBail out! boom\n").failed >= 2


@case
def oops_in_log_fails():
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write("booting\nBUG: kernel NULL pointer dereference, address: 0\n")
    r = subprocess.run([sys.executable, os.path.join(HERE, "results.py"),
                        "--kernel-log", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    return r.returncode == 1 and r.stdout.splitlines()[-1] == "0 passed, 1 failed"


@case
def cargo_failures_counted():
    t = results.parse_cargo("c", "test result: FAILED. 3 passed; 2 failed; 0 ignored;")
    return (t.passed, t.failed) == (3, 2)


@case
def all_green_exits_zero():
    with tempfile.NamedTemporaryFile("w", suffix=".tap", delete=False) as f:
        f.write("TAP version 13\n1..1\nok 1 - a\n")
    r = subprocess.run([sys.executable, os.path.join(HERE, "results.py"), "--tap", f"x={f.name}"],
                       capture_output=True, text=True)
    os.unlink(f.name)
    return r.returncode == 0 and r.stdout.splitlines()[-1] == "1 passed, 0 failed"


print("TAP version 13")
print(f"1..{len(cases)}")
for i, c in enumerate(cases, 1):
    try:
        good = c()
    except Exception as e:  # a crash of a case is its failure
        good = False
        print(f"# {c.__name__}: {e!r}")
    print(f"{'ok' if good else 'not ok'} {i} - {c.__name__}")
