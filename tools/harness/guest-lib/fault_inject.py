#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reliability issue, part 3: every allocation on the framework's paths made to fail, one at a
time, with fail-nth (Documentation/fault-injection/fault-injection.rst).

  fault_inject.py OUT MODULE_DIR [EXTRA]
                        walk every path (TAP on stdout, its plan counting EXTRA more results
                        that the caller prints after it), write OUT/fault-inject.md (N per path)

For each path and n = 1, 2, ...: write n to /proc/thread-self/fail-nth (the n-th fault-injectable
call of this thread fails: slab allocations through failslab, page allocations of order >= 1
through fail_page_alloc), make the call, read fail-nth back (0: the failure was injected) and
clear it. Until the first n at which nothing was injected (the path made n - 1 injectable calls):

  - the call either fails with ENOMEM, or succeeds: some allocations have a fallback (kmemleak's
    and debugobjects' own metadata, kvmalloc's vmalloc after kmalloc); any other errno fails;
  - nothing is left behind: the number of BPF links, the reference counts of our modules and the
    number of open fds are what they were before the call (after its undo, if it succeeded);
  - the same call without injection then works (and is undone).

Leaks are for kmemleak, which guest.sh runs after the suites. Allocations made by this Python
process itself between the write and the read (page faults of its heap) would count too: the
calls are prepared before the write, and the buffers they use allocated.

Injected page-allocation failures make the allocator print a warning with a stack dump (e.g.
"vmalloc error: size 32768, failed to allocate pages"): expected here, so the walk is written
to the kernel log between "rbi: fault-inject: begin" and "rbi: fault-inject: end", where
results.py accepts "Call Trace:" lines (and nothing else it would not accept elsewhere).
"""
import ctypes
import gc
import os
import sys
import time

from bpfsys import (BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, Errno, SYS_DELETE_MODULE,
                    SYS_FINIT_MODULE, anchor, errno_name, iter_create, iter_prog, libc,
                    link_create, prog_load, settled, state, task_info)
from stress import PRINT8

FAILNTH = "/proc/thread-self/fail-nth"
DBG = "/sys/kernel/debug"
RECORDS = f"{DBG}/rust_bpf_iter_records"
LIMIT = 4000  # steps per path; a path that makes more calls fails

_buf = ctypes.create_string_buffer(65536)


def kmsg(text):
    with open("/dev/kmsg", "w") as f:
        f.write(f"rbi: fault-inject: {text}\n")


def setup():
    """failslab and fail_page_alloc: count GFP_KERNEL allocations too (by default both skip
    allocations that may sleep), print nothing per injected failure (the stack dumps would be
    thousands of lines); fail_page_alloc still skips order 0 and highmem (user pages)."""
    for d in ("failslab", "fail_page_alloc"):
        for name, val in (("ignore-gfp-wait", "N"), ("verbose", "0")):
            with open(f"{DBG}/{d}/{name}", "w") as f:
                f.write(val)


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def snapshot():
    return state(), open_fds()


def sys_read(fd):
    """read(2) of up to 64 KiB into a buffer allocated beforehand; bytes read or -errno."""
    r = libc.read(fd, _buf, len(_buf))
    return r if r >= 0 else -ctypes.get_errno()


def sys_write(fd, data):
    r = libc.write(fd, data, len(data))
    return r if r >= 0 else -ctypes.get_errno()


class FailNth:
    def __init__(self):
        self.fd = os.open(FAILNTH, os.O_RDWR)

    def run(self, n, call):
        """call() with its n-th injectable allocation failing: (result, errno name or None,
        what was left of n: 0 if the failure was injected). fail-nth is cleared whatever
        happens; n = 0 injects nothing."""
        if n:
            os.pwrite(self.fd, str(n).encode(), 0)
        try:
            r, err = call(), None
        except Errno as e:
            r, err = None, e.name
        except MemoryError:  # this process' own allocation was the one made to fail
            r, err = None, "MemoryError (in Python, not the call)"
        finally:
            left = int(os.pread(self.fd, 32, 0))
            os.pwrite(self.fd, b"0", 0)
        if isinstance(r, int) and r < 0 and err is None:
            r, err = None, errno_name(-r)
        return r, err, left


def count(fn, prepare, call, undo):
    """The number of injectable calls call() makes (fail-nth set beyond them)."""
    big = 1 << 30
    p = prepare()
    r, err, left = fn.run(big, lambda: call(p))
    undo(p, r if err is None else None)
    return big - left


def walk(fn, prepare, call, undo, extra=lambda: None, retry=True, tail=None, check=None):
    """The walk of one path; returns (ok, N, summary, detail). prepare() makes what call needs
    (outside the injection window) and returns it; call(p) is the injected call; undo(p, r)
    releases what prepare made and, if the call succeeded, what it made (r: its result, None
    if it failed). extra() adds to the state that must come back (e.g. a record count). With
    retry, every injected failure is followed by the same call without injection. With tail,
    only the last `tail` of them are made to fail. check(p, r), if given, judges what a
    successful call did (one that absorbed an injected failure, and every retry): None if
    right, else what is wrong; it runs before undo."""
    p = prepare()
    undo(p, None)
    base = (snapshot(), extra())
    errs, absorbed, problems = {}, 0, []
    first = 1
    if tail:
        first = max(1, count(fn, prepare, call, undo) - tail + 1)
    for n in range(first, LIMIT + 1):
        p = prepare()
        r, err, left = fn.run(n, lambda: call(p))
        injected = left == 0
        wrong = check(p, r) if check and err is None and injected else None
        undo(p, r if err is None else None)
        if wrong:
            problems.append(f"n={n}: succeeded, but {wrong}")
        if not injected:
            if err is not None:
                problems.append(f"failed with {err} without an injected failure")
            outcomes = [f"{k} x{v}" for k, v in sorted(errs.items())]
            if absorbed:
                outcomes.append(f"{absorbed} absorbed (the call succeeded)")
            summary = f"{n - 1} injectable allocations: " + (", ".join(outcomes) or "none")
            if first > 1:
                summary += f" (the last {n - first}, from the {first}th, made to fail)"
            return not problems, n - 1, summary, "; ".join(problems[:5])
        if err is None:
            absorbed += 1
        else:
            errs[err] = errs.get(err, 0) + 1
            if err != "ENOMEM":
                problems.append(f"n={n}: {err}, not ENOMEM")
        diff = settled(base, lambda: (snapshot(), extra()))
        if diff:
            problems.append(f"n={n}: {diff}")
        if retry:
            p = prepare()
            r, err, _ = fn.run(0, lambda: call(p))
            wrong = check(p, r) if check and err is None else None
            undo(p, r if err is None else None)
            if err is not None:
                problems.append(f"n={n}: the next call, without injection, failed: {err}")
            elif wrong:
                problems.append(f"n={n}: the next call, without injection: {wrong}")
        if len(problems) > 20:
            break
    return False, None, f"no end within {LIMIT} steps", "; ".join(problems[:5])


def records_count():
    """The number of records rust_records walks: PRINT8 prints 8 bytes per call, and the
    program is called once more, with no record, at the end of the walk. The
    program is verified each time: one verified before the target was registered again (the
    register walk) does not attach (ENOENT) until a program is verified for the new
    registration (the core resolves a target's BTF id when it first verifies a program)."""
    btf_fd, tid = anchor("rust_bpf_iter_records", "rust_records")
    fds = [btf_fd, prog_load(BPF_PROG_TYPE_TRACING, PRINT8, BPF_TRACE_ITER, btf_fd, tid)]
    try:
        fds.append(link_create(fds[-1]))
        fds.append(iter_create(fds[-1]))
        n = 0
        while (r := sys_read(fds[-1])) > 0:
            n += r
        if r < 0:
            raise Errno(-r)
        return n // 8 - 1
    finally:
        close(*reversed(fds))


def close(*fds):
    for fd in fds:
        if isinstance(fd, int) and fd > 0:
            os.close(fd)


def main():
    out, moddir = sys.argv[1], sys.argv[2]
    extra = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    setup()
    # No collection by Python's cycle collector inside an injection window (its own heap is
    # what it allocates there; the calls' buffers are small).
    gc.disable()
    fn = FailNth()
    me = os.getpid()
    progs = {}
    for key, obj in (("rust_sample", "rust_bpf_iter_sample"),
                     ("rust_records", "rust_bpf_iter_records"),
                     ("rust_task", "rust_bpf_iter_task"), ("rust_task_file", "rust_bpf_iter_task"),
                     ("rust_task_vma", "rust_bpf_iter_task"), ("task", "vmlinux"),
                     ("task_file", "vmlinux"), ("task_vma", "vmlinux")):
        btf_fd, tid = anchor(obj, key)
        progs[key] = prog_load(BPF_PROG_TYPE_TRACING, PRINT8, BPF_TRACE_ITER, btf_fd, tid)
        close(btf_fd)
    mine = task_info(pid=me)
    targets = [(t, t, None) for t in ("rust_sample", "rust_records")]
    for t in ("task", "task_file", "task_vma"):
        targets += [("rust_" + t, "rust_" + t, None), (t, t, None),
                    (f"rust_{t} pid=self", "rust_" + t, mine), (f"{t} pid=self", t, mine)]

    # The records sample's debugfs files; three records, so that its walks have items.
    reg_fd = os.open(f"{RECORDS}/registered", os.O_WRONLY)
    add_fd = os.open(f"{RECORDS}/add", os.O_WRONLY)
    clear_fd = os.open(f"{RECORDS}/clear", os.O_WRONLY)

    def must(r):
        if r < 0:
            raise Errno(-r)

    def base_records():
        must(sys_write(clear_fd, b"x"))
        for i in range(3):
            must(sys_write(add_fd, f"base{i} {i}".encode()))
    base_records()

    # What a whole first read gives without injection: 8 bytes per call. A read that absorbed
    # a failure must still give objects (never an empty or cut output); the sample's and the
    # records' outputs are fixed, so exactly theirs.
    exact = {"rust_sample": None, "rust_records": (3 + 1) * 8}  # + the call at the end

    def read_check(key):
        def check(p, r):
            if not r or r % 8:
                return f"read {r} bytes, not a positive multiple of 8"
            if exact.get(key) is not None and r != exact[key]:
                return f"read {r} bytes, {exact[key]} without injection"
            return None
        return check

    paths = []  # (name, prepare, call, undo, keyword arguments of walk)
    for label, key, info in targets:
        prog = progs[key]
        paths.append((f"attach {label}", lambda: None,
                      lambda p, prog=prog, info=info: link_create(prog, info),
                      lambda p, r: close(r), {}))
        paths.append((f"iterator {label}", lambda prog=prog, info=info: link_create(prog, info),
                      iter_create, lambda link, r: close(r, link), {}))

        def prep_read(prog=prog, info=info):
            link = link_create(prog, info)
            return link, iter_create(link)
        paths.append((f"first read {label}", prep_read, lambda p: sys_read(p[1]),
                      lambda p, r: close(p[1], p[0]), {"check": read_check(key)}))
    p = prep_read(progs["rust_sample"], None)
    exact["rust_sample"] = sys_read(p[1])
    close(p[1], p[0])

    def registered(p, r):
        """A successful register must have registered: a new program attaches and reads."""
        try:
            n = records_count()
        except Errno as e:
            return f"the target does not work: {e.name}"
        return None if n == 3 else f"{n} records walked, 3 expected"

    def added(p, r):
        n = records_count()
        return None if n == 4 else f"{n} records after the add, 4 expected"

    # Base state: registered; each attempt unregisters first, then registers.
    paths.append(("register rust_records (runtime Registration)",
                  lambda: must(sys_write(reg_fd, b"0")), lambda p: sys_write(reg_fd, b"1"),
                  lambda p, r: must(sys_write(reg_fd, b"1")), {"check": registered}))
    paths.append(("add a record to rust_records", lambda: None,
                  lambda p: sys_write(add_fd, b"fault 42"),
                  lambda p, r: base_records() if r is not None else None,
                  {"extra": records_count, "check": added}))

    # Module load: three targets registered in the module's init (rust_task, rust_task_file,
    # rust_task_vma), the ones registered unwound when a later one fails. Its programs hold
    # the module: closed before the first unload. One insmod takes seconds on the debug kernel
    # and makes hundreds of injectable calls, nearly all the module loader's (copies, symbols,
    # sysfs, the module's BTF) before its init: only the last 100 are made to fail, which
    # include the init's, and there is no retry after each (the walk ends with a successful
    # insmod all the same).
    name = ctypes.create_string_buffer(b"rust_bpf_iter_task")
    empty = ctypes.create_string_buffer(b"")
    modfd = os.open(f"{moddir}/rust_bpf_iter_task.ko", os.O_RDONLY)

    def rmmod():
        for key in [k for k in progs if k.startswith("rust_task")]:
            os.close(progs.pop(key))
        for _ in range(100):
            if libc.syscall(SYS_DELETE_MODULE, name, os.O_NONBLOCK) == 0:
                return
            e = ctypes.get_errno()
            if errno_name(e) == "ENOENT":
                return
            time.sleep(0.05)
        raise Errno(e)

    def insmod(p):
        return 0 if libc.syscall(SYS_FINIT_MODULE, modfd, empty, 0) == 0 else -ctypes.get_errno()

    paths.append(("insmod rust_bpf_iter_task (registers 3 targets)", rmmod, insmod,
                  lambda p, r: rmmod() if r == 0 else None, {"retry": False, "tail": 100}))

    print("TAP version 13")
    print(f"1..{len(paths) + extra}")
    rows = []
    kmsg("begin")
    try:
        for i, (pname, prepare, call, undo, kw) in enumerate(paths, 1):
            t0 = time.monotonic()
            ok, n, summary, detail = walk(fn, prepare, call, undo, **kw)
            rows.append((pname, n, summary))
            print(f"{'ok' if ok else 'not ok'} {i} - fault-inject: {pname}: {summary}" +
                  (f" # {detail}" if not ok else ""))
            print(f"# {pname}: {time.monotonic() - t0:.1f} s")
            sys.stdout.flush()
    finally:
        kmsg("end")
    # Leave the module loaded, as the wrapper found it.
    insmod(None)
    with open(f"{out}/fault-inject.md", "w") as f:
        f.write("| path | injectable allocations (N) | outcomes |\n| --- | ---: | --- |\n")
        for pname, n, summary in rows:
            f.write(f"| {pname} | {'?' if n is None else n} | {summary.split(': ', 1)[-1]} |\n")


if __name__ == "__main__":
    main()
