#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What read() of an iterator does, on a Rust target and on the C target it mirrors: a program
that returns 1 (the read ends before that object, the next read retries it: EAGAIN), one
object's output larger than
the seq buffer (E2BIG), two iterators of one link read in turns, a read of 0 bytes, lseek, and
parallel readers of one pinned file.

  read_semantics.py OUT [EXTRA]   TAP on stdout (the plan counts EXTRA more results)

Programs: OUT/progs/semantics_{task,rust_task}.bpf.o (tools/harness/progs/semantics.bpf.c),
{task,rust_task}.bpf.o and rust_sample_builtin.bpf.o; pinned with bpf-iter and bpftool. The wrapper (guest.d/35-read.sh)
loads rust_bpf_iter_task and unloads it afterwards.
"""
import errno
import os
import subprocess
import sys
import threading

from bpfsys import FS, state
from cases import Fail, need, nothing_left, run_cases

OUT = sys.argv[1]
EXTRA = int(sys.argv[2]) if len(sys.argv) > 2 else 0
BI = f"{OUT}/bin/bpf-iter"
BPFTOOL = f"{OUT}/bin/bpftool"
P = f"{OUT}/progs"
ME = os.getpid()
TWINS = ("task", "rust_task")


def run(*args):
    r = subprocess.run([BI, *map(str, args)], capture_output=True, timeout=600)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def ok(*args):
    rc, out, err = run(*args)
    need(rc == 0, f"bpf-iter {' '.join(map(str, args[:2]))}: exit {rc}: {err.strip()[:200]}")
    return out


def threads():
    return sorted(int(t) for t in os.listdir(f"/proc/{ME}/task"))


def read_whole(path, size=1 << 16):
    fd = os.open(path, os.O_RDONLY)
    try:
        out = b""
        while True:
            b = os.read(fd, size)
            if not b:
                return out
            out += b
    finally:
        os.close(fd)


def stop_cases():
    got = {}

    def stop(t):
        def f():
            fd = os.open(f"{FS}/rs_stop_{t}", os.O_RDONLY)
            try:
                first = os.read(fd, 1 << 16).decode()
                errs = []
                for _ in range(2):
                    try:
                        os.read(fd, 1 << 16)
                        errs.append("data")
                    except OSError as e:
                        errs.append(errno.errorcode.get(e.errno, e.errno))
            finally:
                os.close(fd)
            rows = [tuple(map(int, l.split())) for l in first.splitlines()]
            want = [(0, threads()[0]), (1, threads()[1])]
            need(rows == want, f"first read {rows}, want {want}")
            need(errs == ["EAGAIN", "EAGAIN"], f"next reads: {errs}")
            got[t] = first
            if t == "rust_task":
                need(got.get("task") == first, f"task {got.get('task')!r} vs rust_task {first!r}")
        return f

    def too_big(t):
        def f():
            rc, out, err = run("run", f"{P}/semantics_{t}.bpf.o", "--prog", "too_big", "--pid",
                               ME)
            need(rc == 1 and "Argument list too long" in err and "read(iterator)" in err,
                 f"exit {rc}, {len(out)} bytes out, stderr {err.strip()[:200]!r}")
        return f

    def setup():
        for t in TWINS:
            ok("pin", f"{P}/semantics_{t}.bpf.o", f"{FS}/rs_stop_{t}", "--prog", "stop_third",
               "--pid", ME)

    def cleanup():
        for t in TWINS:
            os.unlink(f"{FS}/rs_stop_{t}")

    cases = [("pin stop_third on task and rust_task (--pid)", setup)]
    for t in TWINS:
        cases.append((f"{t}: a program returning 1 on the third object: read() gives the first "
                      f"two, then EAGAIN (the object retried){'; as task' if t != 'task' else ''}",
                      stop(t)))
    cases.append(("unpin stop_third", cleanup))
    for t in TWINS:
        cases.append((f"{t}: one object's output over the seq buffer: read() fails with E2BIG",
                      too_big(t)))
    return cases


def pinned_cases():
    pins = {t: f"{FS}/rs_{t}" for t in TWINS + ("rust_sample_builtin",)}
    want = {}

    def setup():
        for t in TWINS:
            ok("pin", f"{P}/{t}.bpf.o", pins[t], "--pid", ME)
        r = subprocess.run([BPFTOOL, "iter", "pin", f"{P}/rust_sample_builtin.bpf.o",
                            pins["rust_sample_builtin"]], capture_output=True)
        need(r.returncode == 0, f"bpftool iter pin: {r.stderr[:200]!r}")
        for t, p in pins.items():
            want[t] = read_whole(p)
            need(want[t], f"{t}: empty output")

    def turns(t):
        def f():
            a, b = os.open(pins[t], os.O_RDONLY), os.open(pins[t], os.O_RDONLY)
            try:
                got = {a: b"", b: b""}
                live = [a, b]
                while live:
                    for fd in list(live):
                        chunk = os.read(fd, 64)
                        if chunk:
                            got[fd] += chunk
                        else:
                            live.remove(fd)
            finally:
                os.close(a)
                os.close(b)
            need(got[a] == want[t] and got[b] == want[t],
                 f"{len(got[a])} and {len(got[b])} bytes, want {len(want[t])}")
        return f

    def zero(t):
        def f():
            fd = os.open(pins[t], os.O_RDONLY)
            try:
                need(os.read(fd, 0) == b"", "read of 0 bytes returned data")
                first = os.read(fd, 16)
                need(os.read(fd, 0) == b"", "read of 0 bytes mid-way returned data")
                rest = b""
                while chunk := os.read(fd, 1 << 16):
                    rest += chunk
            finally:
                os.close(fd)
            need(first + rest == want[t], f"{len(first + rest)} bytes, want {len(want[t])}")
        return f

    def seek(t):
        def f():
            fd = os.open(pins[t], os.O_RDONLY)
            try:
                os.read(fd, 8)
                for whence in (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END):
                    try:
                        os.lseek(fd, 0, whence)
                        raise Fail(f"lseek(fd, 0, {whence}) succeeded")
                    except OSError as e:
                        need(e.errno == errno.ESPIPE, f"lseek: {e}")
            finally:
                os.close(fd)
        return f

    def cats(t):
        def f():
            ps = [subprocess.Popen(["cat", pins[t]], stdout=subprocess.PIPE) for _ in range(4)]
            outs = [p.communicate(timeout=600)[0] for p in ps]
            need(all(p.returncode == 0 for p in ps), "a cat failed")
            need(all(o == want[t] for o in outs), f"{[len(o) for o in outs]} bytes")
        return f

    def cleanup():
        for p in pins.values():
            os.unlink(p)

    cases = [("pin task.bpf.o on task and rust_task (--pid), and rust_sample_builtin", setup)]
    for t in pins:
        cases += [(f"{t}: two iterators of one link read in turns, 64 bytes at a time: "
                   "each gives the whole output", turns(t)),
                  (f"{t}: read() of 0 bytes returns 0, before and mid-way, and loses nothing",
                   zero(t)),
                  (f"{t}: lseek on an iterator: ESPIPE", seek(t)),
                  (f"{t}: 4 cats of one pinned file at once: each the whole output", cats(t))]
    cases.append(("unpin all", cleanup))
    return cases


def main():
    # threads of ours, with odd and even tids, for the --pid cases
    stop = threading.Event()
    for _ in range(5):
        threading.Thread(target=stop.wait, daemon=True).start()
    before = state()
    cases = stop_cases() + pinned_cases()
    cases.append(nothing_left(before))
    run_cases("read", cases, EXTRA)
    stop.set()


if __name__ == "__main__":
    main()
