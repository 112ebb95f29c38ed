#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the outputs of one `make check` run into one verdict.

Reads the guest's kernel log (KUnit results in KTAP, through the kernel's
`kunit.py parse` when given --kunit-tool), the TAP files the
guest's userspace suites wrote, and the host's `cargo test` outputs, checks
the guest log for Oops/BUG/WARNING/KASAN/lockdep/panic lines, prints one line
per suite and, last, `N passed, N failed`. Exit status 1 on any failure.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

# Kernel log lines that fail a run whatever the tests said.
# (Lockdep reports start with "WARNING:"; lockdep turns itself off after one. A bare
# "lockdep" would match the boot line "RCU lockdep checking is enabled.")
BAD_LOG = re.compile(
    r"(Oops|BUG:|WARNING:|KASAN|UBSAN|possible circular locking|lockdep is turned off|"
    r"DEBUG_LOCKS_WARN_ON|Kernel panic|general protection fault|kernel BUG at|"
    r"INFO: task .* blocked|rcu_.*detected stall|Call Trace:)"
)
# Between these lines of the fault-injection suite (guest-lib/fault_inject.py) the allocator's
# warnings about the failures it injected are expected: their stack dumps ("Call Trace:") are
# accepted there, and nothing else is.
FI_BEGIN, FI_END = "rbi: fault-inject: begin", "rbi: fault-inject: end"
# Between these lines a suite expects one WARN of the kernel (soundness-2 point 4: the core
# unregisters, loudly, the target a module leaked): one "WARNING:" line and its stack dump pass,
# a second WARNING or any other report does not. The suite checks what the WARN says.
EW_BEGIN, EW_END = "rbi: expect-warn: begin", "rbi: expect-warn: end"
# Reports of upstream code that are known and not ours, each accepted only as a whole (from its
# first line to its "---[ end trace" line) and only when its stack names the given frame:
# (first line, frame); the comment above each says why.
KNOWN_UPSTREAM = [
    # 7.3's kernel::time::hrtimer doctests "Using a stack-based timer" and "Using a mutable
    # stack-based timer" set up a timer on the stack with hrtimer_setup(), not
    # hrtimer_setup_on_stack(): DEBUG_OBJECTS_TIMERS warns (HrTimer::new() has no on-stack form).
    (re.compile(r"ODEBUG: object \S+ is on stack \S+, but NOT annotated\."),
     "rust_doctest_kernel_time_hrtimer_rs_"),
]
END_TRACE = "---[ end trace"


def known_upstream(log):
    """The indexes of the lines of LOG that belong to a report of KNOWN_UPSTREAM."""
    skip = set()
    for i, l in enumerate(log):
        for first, frame in KNOWN_UPSTREAM:
            if not first.search(l):
                continue
            end = next((j for j in range(i, min(i + 120, len(log))) if END_TRACE in log[j]), None)
            if end is not None and any(frame in x for x in log[i:end]):
                skip.update(range(i, end + 1))
    return skip


TIMESTAMP = re.compile(r"^(<\d+>)?\[\s*\d+\.\d+\]\s?")
RESULT = re.compile(r"^(ok|not ok) (\d+)\b(?: -)? ?([^#]*)(?:#\s*(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)")


class Tally:
    """Counts of one suite, with the names of failures."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []

    def add(self, ok, what, directive=""):
        if ok and directive.upper().startswith("SKIP"):
            self.skipped += 1
        elif ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(what)


def strip_log(lines):
    return [TIMESTAMP.sub("", l.rstrip("\n")) for l in lines]


def parse_tap(name, lines, tally=None):
    """Parse a (K)TAP document; nested subtests count, their parents do not.

    A missing plan, fewer results than planned or a `Bail out!` are failures
    of their own, so a crashed suite can never look green.
    """
    t = tally or Tally(name)
    depth_of = lambda l: (len(l) - len(l.lstrip(" "))) // 4
    # Collect results per depth so a parent with subtests is not counted.
    entries = []  # (depth, ok, name, directive)
    plans = {}  # depth -> list of (planned, seen)
    stack_seen = {}
    next_num = {}  # depth -> the number the next result must have
    for raw in lines:
        line = raw.rstrip()
        if not line.strip():
            continue
        d = depth_of(line)
        s = line.strip()
        m = PLAN.match(s)
        if m:
            plans.setdefault(d, []).append([int(m.group(1)), 0])
            next_num[d] = 1
            continue
        if s.startswith("Bail out!"):
            t.add(False, f"{name}: {s}")
            continue
        m = RESULT.match(s)
        if m:
            entries.append((d, m.group(1) == "ok", m.group(3).strip(), (m.group(4) or "").strip()))
            num, due = int(m.group(2)), next_num.get(d, 1)
            if num != due:
                t.add(False, f"{name}: result numbered {num} where {due} was due ({s[:60]})")
            next_num[d] = num + 1
            if plans.get(d):
                plans[d][-1][1] += 1
            else:
                stack_seen[d] = stack_seen.get(d, 0) + 1
    if not entries and not plans:
        t.add(False, f"{name}: no TAP output")
        return t
    for i, (d, ok, what, directive) in enumerate(entries):
        has_children = i > 0 and entries[i - 1][0] > d
        if not has_children:
            t.add(ok, f"{name}: {what}", directive)
        elif not ok:
            # A parent that failed with every child passing (e.g. crashed suite).
            children_failed = any(not e[1] for e in entries[:i] if e[0] > d)
            if not children_failed:
                t.add(False, f"{name}: {what}")
    for d, ps in plans.items():
        for planned, seen in ps:
            if seen < planned:
                t.add(False, f"{name}: {planned - seen} planned test(s) never reported")
            elif seen > planned:
                t.add(False, f"{name}: {seen - planned} result(s) beyond the plan of {planned}")
    if 0 not in plans:
        t.add(False, f"{name}: no top-level plan (1..N)")
    return t


FRAME = re.compile(r"\b([A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+")


def report_context(logs, first):
    """What follows a report's first line in its log, on one line: the access and task
    ("Read of size 8 at addr ... by task x/1") and the frames of its first call trace
    (innermost first), so that a failure that happens once in many runs shows where."""
    for log in logs:
        if first not in log:
            continue
        after = log[log.index(first) + 1:][:120]
        who = next((l.strip() for l in after[:4] if " by task " in l), "")
        frames, in_trace = [], False
        for l in after:
            if "Call Trace:" in l:
                in_trace = True
                continue
            if in_trace:
                m = FRAME.search(l)
                if m:
                    frames.append(m.group(1))
                elif frames and ("</TASK>" in l or not l.strip() or "Allocated by" in l):
                    break
        out = (f" | {who}" if who else "") + (f" | trace: {' < '.join(frames[:16])}" if frames else "")
        return out
    return ""


def bad_lines(log):
    """The lines of a kernel log that fail a run."""
    # dmesg's ring buffer may have lost the begin marker (not the console log): a log whose
    # first marker is an end starts inside the window.
    first = next((l for l in log if FI_BEGIN in l or FI_END in l), "")
    out, injecting = [], FI_END in first
    warn_window, warns = False, 0
    known = known_upstream(log)
    for i, l in enumerate(log):
        if i in known:
            continue
        if FI_BEGIN in l or FI_END in l:
            injecting = FI_BEGIN in l
            continue
        if EW_BEGIN in l or EW_END in l:
            warn_window, warns = EW_BEGIN in l, 0
            continue
        found = set(BAD_LOG.findall(l))
        if not found or (injecting and found == {"Call Trace:"}):
            continue
        if warn_window and found <= {"WARNING:", "Call Trace:"}:
            warns += "WARNING:" in found
            if warns <= 1:
                continue
        out.append(l)
    return out


def kunit_from_log(lines):
    """Extract the KTAP document KUnit printed into the kernel log."""
    out, on = [], False
    for l in lines:
        if l.startswith("KTAP version") and not on:
            on = True
        if on:
            out.append(l)
    return out


def parse_kunit_tool(name, tool, path, ours):
    """KUnit's results in the log at `path` as the kernel's own parser reads them
    (`tools/testing/kunit/kunit.py parse --json`): every leaf test case counts. The counts must
    agree with `ours`, the same log through parse_tap (a failure says which differ)."""
    t = Tally(name)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "kunit.json")
        r = subprocess.run([sys.executable, tool, "parse", f"--json={out}", os.path.abspath(path)],
                           capture_output=True, text=True, cwd=d)
        if not os.path.exists(out):
            said = (r.stdout + r.stderr).strip().splitlines()[-1:] or ["nothing"]
            t.add(False, f"{name}: kunit.py parse gave no results (exit {r.returncode}: "
                         f"{said[0][:100]})")
            return t
        with open(out) as f:
            data = json.load(f)

    def walk(group, prefix):
        for case in group.get("test_cases", []):
            status = case.get("status")
            if status == "PASS":
                t.passed += 1
            elif status == "SKIP":
                t.skipped += 1
            else:
                t.add(False, f"{name}: {prefix}{case.get('name')}: {status}")
        for sub in group.get("sub_groups", []):
            walk(sub, f"{prefix}{sub.get('name')}.")
    walk(data, "")
    if not t.passed + t.failed + t.skipped:
        t.add(False, f"{name}: kunit.py parse found no KUnit results")
    counts, theirs = (ours.passed, ours.failed, ours.skipped), (t.passed, t.failed, t.skipped)
    if counts != theirs:
        t.add(False, f"{name}: kunit.py parse counts {theirs} (passed, failed, skipped), "
                     f"the KTAP parser {counts}")
    return t


def parse_cargo(name, text):
    t = Tally(name)
    found = False
    for m in re.finditer(r"test result: (\w+)\. (\d+) passed; (\d+) failed; (\d+) ignored", text):
        found = True
        t.passed += int(m.group(2))
        t.failed += int(m.group(3))
        t.skipped += int(m.group(4))
    for m in re.finditer(r"^test (\S+) \.\.\. FAILED", text, re.M):
        t.failures.append(f"{name}: {m.group(1)}")
    if not found:
        t.add(False, f"{name}: no `cargo test` result")
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kernel-log", action="append", default=[],
                    help="guest kernel log (dmesg, console); KUnit is read from the first "
                         "that has it, all are checked for Oops/BUG/WARNING lines")
    ap.add_argument("--kunit", action="store_true", help="expect KUnit KTAP in the kernel log")
    ap.add_argument("--kunit-tool", metavar="KUNIT_PY",
                    help="the kernel's tools/testing/kunit/kunit.py: KUnit results are then "
                         "its `parse` of the log (which must agree with ours)")
    ap.add_argument("--guest", action="append", default=[], metavar="NAME=LOG[,LOG...]",
                    help="another guest kernel's logs (e.g. the debug kernel's): its KUnit "
                         "results as NAME-kunit, the log check as NAME-log")
    ap.add_argument("--tap", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("--cargo", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("--fail", action="append", default=[], metavar="REASON",
                    help="a failure the caller already knows of (timeout, panic, ...)")
    a = ap.parse_args()

    tallies = []
    guests = []
    if a.kernel_log:
        guests.append(("kunit" if a.kunit else None, "guest-log", a.kernel_log))
    for spec in a.guest:
        name, paths = spec.split("=", 1)
        guests.append((f"{name}-kunit", f"{name}-log", paths.split(",")))
    for kunit_name, log_name, paths in guests:
        logs, found = [], []
        for path in paths:
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    logs.append(strip_log(f.readlines()))
                found.append(path)
        if kunit_name:
            ktaps = [(k, p) for k, p in zip(map(kunit_from_log, logs), found) if k]
            ktap, path = ktaps[0] if ktaps else ([], None)
            ours = parse_tap(kunit_name, ktap)
            if a.kunit_tool and path:
                tallies.append(parse_kunit_tool(kunit_name, a.kunit_tool, path, ours))
            else:
                tallies.append(ours)
        clean = Tally(log_name)
        bad = [l for log in logs for l in bad_lines(log)]
        clean.add(any(logs) and not bad,
                  f"{log_name}: " + (bad[0] + report_context(logs, bad[0]) if bad
                                     else "empty or missing kernel log"))
        tallies.append(clean)
    for spec in a.tap:
        name, path = spec.split("=", 1)
        lines = open(path, errors="replace").readlines() if os.path.exists(path) else []
        tallies.append(parse_tap(name, lines))
    for spec in a.cargo:
        name, path = spec.split("=", 1)
        text = open(path, errors="replace").read() if os.path.exists(path) else ""
        tallies.append(parse_cargo(name, text))
    if a.fail:
        t = Tally("harness")
        for r in a.fail:
            t.add(False, f"harness: {r}")
        tallies.append(t)

    for t in tallies:
        print(f"  {t.name:<18} {t.passed:4d} passed {t.failed:4d} failed {t.skipped:4d} skipped")
        for f in t.failures[:20]:
            print(f"    FAIL {f}")
    p = sum(t.passed for t in tallies)
    fl = sum(t.failed for t in tallies)
    s = sum(t.skipped for t in tallies)
    print(f"{p} passed, {fl} failed" + (f", {s} skipped" if s else ""))
    return 1 if fl or not p else 0


if __name__ == "__main__":
    sys.exit(main())
