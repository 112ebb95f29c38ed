#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The case runner of the Python guest suites (cli.py, read_semantics.py): each case a function
that returns when it passed and raises when it did not (Fail, from need(), says why; any other
exception means the case could not run, which fails it too)."""

from bpfsys import settled


class Fail(Exception):
    pass


def need(cond, why):
    if not cond:
        raise Fail(why)


def run_cases(prefix, cases, extra=0):
    """Prints TAP for `cases` ((name, function) pairs), the plan counting `extra` more results
    that the caller prints after them."""
    print("TAP version 13")
    print(f"1..{len(cases) + extra}", flush=True)
    for n, (name, f) in enumerate(cases, 1):
        try:
            f()
            print(f"ok {n} - {prefix}: {name}", flush=True)
        except Exception as e:  # a failed case, or one that could not run: not ok
            why = str(e) if isinstance(e, Fail) else f"{type(e).__name__}: {e}"
            print(f"not ok {n} - {prefix}: {name} # {why[:300]}".replace("\n", "|"), flush=True)


def nothing_left(before):
    """The last case of a suite: links and module references as `before` (bpfsys.state())."""
    def f():
        why = settled(before)
        need(why is None, why)
    return ("nothing left behind: links and module references as before", f)
