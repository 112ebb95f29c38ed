#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reliability issue, part 2: stress, bounded in time. TAP on stdout (the caller plans).

  stress.py readers SECS PIN:FORMAT...
        8 processes read every pinned iterator PIN again and again for SECS seconds while
        records are added and deleted (rust_records' debugfs) and tasks are created and
        killed; every read must complete and every line match FORMAT (a key of LINE below).
        One result per PIN, with the reads and bytes achieved.
  stress.py cycles N TARGET@OBJ...
        N cycles, round robin over the targets: load a program that prints 8 bytes per
        object, attach, create an iterator, read 16 bytes (a partial read: stop() runs with
        an object in hand), close everything. One result.
  stress.py modules SECS MODULE.ko:TARGET...
        for each module, for SECS seconds: one process loads and unloads it in a loop while
        this one loads a program for TARGET, attaches and reads whenever the module is there.
        A load or attach may fail only with the errnos of a module that is going or gone;
        an unload may fail only because something holds the module (EWOULDBLOCK). One result
        per module, with the counts.
  stress.py flip-loop SECS PAUSE
  stress.py verify-loop SECS MODULE TARGET
  stress.py attach-loop SECS MODULE TARGET OBJECTS
        the loops of 50-reregister (see there): one process each, no exec per iteration (the
        debug kernel's guest execs slowly).
"""
import ctypes
import os
import random
import re
import signal
import struct
import sys
import time

from bpfsys import (BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, SYS_DELETE_MODULE, SYS_FINIT_MODULE,
                    Errno, anchor, debugfs_write,
                    errno_name, iter_create, libc, link_create, prog_load, read_all)

LINE = {
    "task": re.compile(rb"^( +tgid +pid| *\d+ +\d+)$"),
    "task_file": re.compile(rb"^( +tgid +pid +fd +file| *\d+ +\d+ +\d+ [0-9a-f]+)$"),
    "task_vma": re.compile(rb"^( +tgid +pid start-end perms pgoff"
                           rb"| *\d+ +\d+ [0-9a-f]+-[0-9a-f]+ [r-][w-][x-][sp] [0-9a-f]{8,})$"),
    "records": re.compile(rb"^(\d+ \d+ \S+|end)$"),
    "sample": re.compile(rb"^(index id value name|\d+ \d+ \d+ [a-z]+|end \d+)$"),
}

# r6 = meta (ctx slot 0); r1 = meta->seq; *(u32 *)(r10 - 8) = "obje"; *(u32 *)(r10 - 4) =
# "ct!\n"; r2 = r10 - 8; r3 = 8; bpf_seq_write(r1, r2, r3); r0 = 0; exit
PRINT8 = b"".join(struct.pack("<BBhi", *i) for i in (
    (0x79, 0x16, 0, 0), (0x79, 0x61, 0, 0),
    (0x62, 0x0a, -8, 0x656a626f), (0x62, 0x0a, -4, 0x0a217463),
    (0xbf, 0xa2, 0, 0), (0x07, 0x02, 0, -8), (0xb7, 0x03, 0, 8),
    (0x85, 0x00, 0, 127), (0xb7, 0x00, 0, 0), (0x95, 0x00, 0, 0)))


def ok(good, msg, detail=""):
    print(f"{'ok' if good else 'not ok'} - {msg}" + (f" # {detail}" if detail and not good
                                                     else ""))
    sys.stdout.flush()


def print8_iter(btf_fd, tid, size=None):
    """Loads PRINT8 for anchor tid (of BTF object btf_fd, 0 for vmlinux), attaches it,
    creates an iterator and reads `size` bytes once (a partial read) or to the end; closes
    all three and returns what it read. Errors raise Errno."""
    fds = []
    try:
        fds.append(prog_load(BPF_PROG_TYPE_TRACING, PRINT8, BPF_TRACE_ITER, btf_fd, tid))
        fds.append(link_create(fds[-1]))
        fds.append(iter_create(fds[-1]))
        return os.read(fds[-1], size) if size else read_all(fds[-1])
    finally:
        for fd in reversed(fds):
            os.close(fd)


def churn():
    """Children that add and delete records and create and kill tasks until killed."""
    kids = []
    pid = os.fork()
    if pid == 0:  # records: add one, delete the one added 20 adds ago (ids count up from 1)
        n = 0
        while True:
            if debugfs_write("add", f"s{n} {random.randrange(1 << 32)}".encode()) == "0":
                n += 1
            if n > 20:
                debugfs_write("del", str(n - 20).encode())
    kids.append(pid)
    pid = os.fork()
    if pid == 0:  # tasks: fork children that sleep a little and are killed
        while True:
            c = os.fork()
            if c == 0:
                time.sleep(1)
                os._exit(0)
            time.sleep(0.01)
            os.kill(c, signal.SIGKILL)
            os.waitpid(c, 0)
    kids.append(pid)
    return kids


def readers(secs, pins):
    kids = churn()
    try:
        for spec in pins:
            path, fmt = spec.split(":")
            rx = LINE[fmt]
            r, w = os.pipe()
            procs = []
            for _ in range(8):
                p = os.fork()
                if p == 0:
                    os.close(r)
                    reads = nbytes = bad = 0
                    first = ""
                    end = time.monotonic() + secs
                    while time.monotonic() < end:
                        try:
                            fd = os.open(path, os.O_RDONLY)
                            out = read_all(fd)
                            os.close(fd)
                        except OSError as e:
                            bad += 1
                            first = first or f"read: {e}"
                            continue
                        reads += 1
                        nbytes += len(out)
                        for ln in out.split(b"\n")[:-1]:
                            if not rx.match(ln):
                                bad += 1
                                first = first or f"line {ln[:80]!r}"
                                break
                        if not out.endswith(b"\n"):
                            bad += 1
                            first = first or f"output not ending in a newline: {out[-40:]!r}"
                    os.write(w, f"{reads} {nbytes} {bad} {first}\n".encode())
                    os._exit(0)
                procs.append(p)
            os.close(w)
            for p in procs:
                os.waitpid(p, 0)
            res = [ln.split(" ", 3) for ln in os.read(r, 1 << 16).decode().splitlines()]
            os.close(r)
            reads = sum(int(x[0]) for x in res)
            nbytes = sum(int(x[1]) for x in res)
            bad = sum(int(x[2]) for x in res)
            firsts = [x[3] for x in res if len(x) > 3 and x[3]]
            ok(len(res) == 8 and bad == 0 and min(int(x[0]) for x in res) > 0,
               f"stress: 8 readers of {path} ({fmt}) for {secs} s while records and tasks "
               f"come and go: {reads} reads, {nbytes} bytes, all complete and well formed",
               f"{len(res)} readers reported, {bad} bad: {firsts[:1]}")
    finally:
        for k in kids:
            os.kill(k, signal.SIGKILL)
            os.waitpid(k, 0)


def cycles(n, specs):
    targets = [s.split("@") for s in specs]
    anchors = {}
    good, errs = 0, {}
    nbytes = 0
    for i in range(n):
        t, obj = targets[i % len(targets)]
        try:
            if (t, obj) not in anchors:
                anchors[(t, obj)] = anchor(obj, t)
            b = print8_iter(*anchors[(t, obj)], size=16)
        except Errno as e:
            errs[e.name] = errs.get(e.name, 0) + 1
            continue
        if b not in (b"object!\nobject!\n", b"object!\n"):
            errs["bad output"] = errs.get("bad output", 0) + 1
            continue
        nbytes += len(b)
        good += 1
    for btf_fd, _ in anchors.values():
        if btf_fd:
            os.close(btf_fd)
    ok(good == n, f"stress: {n} cycles of load, attach, iterator, partial read, close over "
       f"{len(targets)} targets: {good} complete, {nbytes} bytes read",
       f"failures {errs}")


def modules(secs, specs):
    # EINVAL: verification refused (the target is not registered yet, or no more);
    # ENOENT: the module's BTF object or anchor is gone (or not there yet).
    going = {"ENOENT", "EINVAL"}
    for spec in specs:
        ko, target = spec.split(":")
        name = os.path.basename(ko)[:-3]
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            loads = unloads = busy = 0
            other = {}
            end = time.monotonic() + secs
            while time.monotonic() < end:
                fd = os.open(ko, os.O_RDONLY)
                rc = libc.syscall(SYS_FINIT_MODULE, fd, b"", 0)
                os.close(fd)
                if rc != 0:
                    e = errno_name(ctypes.get_errno())
                    other["load " + e] = other.get("load " + e, 0) + 1
                    break
                loads += 1
                while True:
                    if libc.syscall(SYS_DELETE_MODULE, name.encode(), os.O_NONBLOCK) == 0:
                        unloads += 1
                        break
                    e = errno_name(ctypes.get_errno())
                    if e not in ("EWOULDBLOCK", "EAGAIN"):
                        other["unload " + e] = other.get("unload " + e, 0) + 1
                        break
                    busy += 1
                    time.sleep(0.001)
            os.write(w, f"{loads} {unloads} {busy} {other}\n".encode())
            os._exit(0)
        os.close(w)
        attached = nbytes = 0
        refused = {}
        bad = {}
        end = time.monotonic() + secs
        while time.monotonic() < end:
            btf_fd = 0
            try:
                btf_fd, tid = anchor(name, target)
                nbytes += len(print8_iter(btf_fd, tid))
                attached += 1
            except Errno as e:
                (refused if e.name in going else bad)[e.name] = \
                    (refused if e.name in going else bad).get(e.name, 0) + 1
            except (LookupError, KeyError, OSError):
                refused["gone"] = refused.get("gone", 0) + 1
            finally:
                if btf_fd:
                    os.close(btf_fd)
        os.waitpid(pid, 0)
        line = os.read(r, 4096).decode().split(" ", 3)
        os.close(r)
        loads, unloads, busy = (int(x) for x in line[:3])
        other = line[3].strip()
        good = loads > 0 and loads == unloads and attached > 0 and not bad and other == "{}"
        ok(good, f"stress: {name} loaded and unloaded {loads} times ({busy} unloads refused "
           f"while held) while {attached} iterators attached and read ({nbytes} bytes) and "
           f"{sum(refused.values())} attempts were refused cleanly {refused}",
           f"unexpected: attach {bad}, unload {other}, loads {loads} unloads {unloads}")


def flip_loop(secs, pause):
    """Unregisters and registers rust_records (debugfs `registered`) for secs seconds, each
    state held for `pause` seconds; prints the number of cycles."""
    n = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if debugfs_write("registered", b"0") != "0":
            break
        time.sleep(pause)
        if debugfs_write("registered", b"1") != "0":
            break
        time.sleep(pause)
        n += 1
    print(n)


def verify_loop(secs, module, target):
    """Verifies the smallest program for target (module's BTF) as fast as it can for secs
    seconds; prints "LOADS ACCEPTED REFUSED errno:count...". The module stays loaded."""
    btf_fd, tid = anchor(module, target)
    loads = good = 0
    errs = {}
    end = time.monotonic() + secs
    while time.monotonic() < end:
        loads += 1
        try:
            os.close(prog_load(BPF_PROG_TYPE_TRACING, attach_type=BPF_TRACE_ITER, btf_fd=btf_fd,
                               btf_id=tid))
            good += 1
        except Errno as e:
            errs[e.name] = errs.get(e.name, 0) + 1
    os.close(btf_fd)
    print(loads, good, loads - good, " ".join(f"{k}:{v}" for k, v in sorted(errs.items())))


def attach_loop(secs, module, target, objects):
    """For secs seconds: load a program printing 8 bytes per object, attach, read to the end;
    every read must show `objects` objects and the final call. Prints "ATTACHED REFUSED BAD
    first-bad-output"."""
    btf_fd, tid = anchor(module, target)
    want = b"object!\n" * (objects + 1)
    attached = bad = 0
    refused = {}
    first = ""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            out = print8_iter(btf_fd, tid)
        except Errno as e:
            refused[e.name] = refused.get(e.name, 0) + 1
            continue
        attached += 1
        if out != want:
            bad += 1
            first = first or repr(out[:80])
    os.close(btf_fd)
    print(attached, sum(refused.values()), bad, first or refused)


def main():
    cmd, arg = sys.argv[1], sys.argv[2]
    if cmd == "readers":
        readers(float(arg), sys.argv[3:])
    elif cmd == "cycles":
        cycles(int(arg), sys.argv[3:])
    elif cmd == "flip-loop":
        flip_loop(float(arg), float(sys.argv[3]))
    elif cmd == "verify-loop":
        verify_loop(float(arg), sys.argv[3], sys.argv[4])
    elif cmd == "attach-loop":
        attach_loop(float(arg), sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "modules":
        modules(float(arg), sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
