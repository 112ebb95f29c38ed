#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The soundness-2 cases that need the selftest module (samples/rust/bpf_iter_selftest), each
named after its point. Raw bpf(2): every program is verified against the module's anchor
`bpf_iter_rust_same_name`, whichever of its two targets of that name is registered.

  soundness.py OUT [EXTRA]   TAP on stdout (the plan counts EXTRA more results)

The wrapper (guest.d/45-soundness.sh) loads the module; the last case unloads it.
"""
import ctypes
import os
import subprocess
import sys
import threading
import time

from bpfsys import (BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, SYS_DELETE_MODULE, Errno, anchor,
                    errno_name, iter_create, iter_prog, libc, link_create, link_update,
                    obj_get, outcome, prog_load, read_all, state, task_info)
from cases import need, nothing_left, run_cases

OUT = sys.argv[1]
MOD = "rust_bpf_iter_selftest"
CTL = f"/sys/kernel/debug/{MOD}/same_name"
EXTRA = int(sys.argv[2]) if len(sys.argv) > 2 else 0
fds = {}


def select(which, ctl=CTL):
    """Registers `which` of the two rust_same_name targets (trusted, plain or none)."""
    fd = os.open(ctl, os.O_WRONLY)
    try:
        os.write(fd, which.encode())
    finally:
        os.close(fd)


def verify(name):
    """A program verified against the registered target, kept as fds[name]."""
    fds[name] = iter_prog(MOD, "rust_same_name")


def attach(prog):
    """A link of fds[prog], read once; "0" or the errno name. The link is kept as fds[link.prog]."""
    try:
        link = link_create(fds[prog])
    except Errno as e:
        return e.name
    old = fds.pop("link." + prog, None)
    if old is not None:
        os.close(old)
    fds["link." + prog] = link
    it = iter_create(link)
    read_all(it)
    os.close(it)
    return "0"


def close_all():
    for fd in fds.values():
        os.close(fd)
    fds.clear()


def same_name_setup():
    select("trusted")
    verify("P")  # verified with the trusted context
    select("plain")
    verify("Q")  # verified with the untrusted one


def same_name_attach():
    need(attach("Q") == "0", "control: a program verified with the plain target does not attach")
    got = attach("P")
    need(got == "EINVAL", f"link_create of the program verified with the trusted target: {got}")


def same_name_update():
    got = outcome(link_update, fds["link.Q"], fds["P"])
    need(got == "EINVAL", f"BPF_LINK_UPDATE with the program verified with the trusted target: {got}")


def same_name_back():
    # The trusted target again (the same registration data): its own programs attach again,
    # those of the plain one do not.
    select("trusted")
    verify("R")
    need(attach("P") == "0", "the trusted target's program no longer attaches to it")
    got = attach("Q")
    need(got == "EINVAL", f"link_create of the plain target's program: {got}")


def same_name_done():
    close_all()
    select("none")


def signed_values():
    pin = "/sys/fs/bpf/soundness_signed"
    r = subprocess.run([f"{OUT}/bin/bpftool", "iter", "pin", f"{OUT}/progs/signed.bpf.o", pin],
                       capture_output=True, text=True, timeout=300)
    need(r.returncode == 0, f"bpftool iter pin: {r.stderr.strip()[:200]}")
    try:
        with open(pin) as f:
            got = f.read()
    finally:
        os.unlink(pin)
    want = "".join(f"{v * 40} {v * 10000} {v * 700000000} {v * 1000000000000}\n"
                   for v in (-3, -2, -1))
    need(got == want, f"got {got!r}, want {want!r}")


def reaped_thread():
    """A link of rust_thread holds a non-leader thread of a child process; the process is
    killed and reaped; the iterator still gives programs that thread through a trusted pointer,
    which they read, and on which bpf_task_acquire() now gives no reference. KASAN watches on
    the debug kernel."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            ready = threading.Event()

            def thread():
                os.write(w, f"{threading.get_native_id()}\n".encode())
                ready.wait()

            threading.Thread(target=thread, daemon=True).start()
            time.sleep(600)
        finally:
            os._exit(0)
    os.close(w)
    tid = int(os.read(r, 32).decode().split()[0])
    os.close(r)
    pin = "/sys/fs/bpf/soundness_thread"
    res = subprocess.run([f"{OUT}/bin/bpftool", "prog", "load", f"{OUT}/progs/thread.bpf.o", pin],
                         capture_output=True, text=True, timeout=300)
    need(res.returncode == 0, f"bpftool prog load: {res.stderr.strip()[:200]}")
    prog = obj_get(pin)
    os.unlink(pin)
    try:
        need(tid != pid, f"the thread {tid} is its process' leader")
        link = link_create(prog, task_info(tid=tid))

        def read():
            it = iter_create(link)
            try:
                return read_all(it).decode()
            finally:
                os.close(it)
        alive = read()
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        need(not os.path.exists(f"/proc/{tid}"), f"thread {tid} still in /proc after the reap")
        # The thread leaves its group (and /proc, so that its leader can be reaped) before
        # release_task() drops its RCU users at the end: for a moment after waitpid()
        # bpf_task_acquire() may still succeed. Read again until it fails, 5 s at most.
        for _ in range(50):
            reaped = read()
            if not reaped.endswith(" 1\n"):
                break
            time.sleep(0.1)
        os.close(link)
    finally:
        os.close(prog)
    # tid, tgid, whether bpf_task_acquire() gave a reference: yes while the process runs, no
    # once it has been reaped (the held thread is valid memory, but no longer an RCU user).
    need(alive == f"{tid} {pid} 1\n", f"before the kill: got {alive!r}, want {tid} {pid} 1")
    need(reaped == f"{tid} {pid} 0\n", f"after the reap: got {reaped!r}, want {tid} {pid} 0")


def kmsg(line):
    with open("/dev/kmsg", "w") as f:
        f.write(line + "\n")


def dmesg():
    return subprocess.run(["dmesg"], capture_output=True, text=True).stdout.splitlines()


def leaked_registration():
    # The leak, from a process of its own, named to the debug kernel's kmemleak scan: what
    # that process allocates stays allocated on purpose (the registration's data cell).
    sh = subprocess.Popen(["sh", "-c", f"echo x >/sys/kernel/debug/{MOD}/leak"])
    with open(f"{OUT}/kmemleak-expected", "a") as f:
        f.write(f"{sh.pid} soundness-2 point 4: a registration leaked on purpose\n")
    need(sh.wait() == 0, "the write to leak failed")
    kmsg("rbi: expect-warn: begin")
    try:
        for _ in range(50):  # programs are freed after an RCU grace period
            r = libc.syscall(SYS_DELETE_MODULE, MOD.encode(), os.O_NONBLOCK)
            err = 0 if r == 0 else ctypes.get_errno()
            if err != 11:  # EAGAIN: still in use
                break
            time.sleep(0.1)
    finally:
        kmsg("rbi: expect-warn: end")
    need(err == 0, f"rmmod {MOD}: {errno_name(err)}")
    # The next registration (a module's) and program load walk the targets list.
    got = outcome(iter_prog, "vmlinux", "task")
    need(got == "0", f"a program load for task after the rmmod: {got}")
    log = dmesg()
    begin = max(i for i, l in enumerate(log) if "rbi: expect-warn: begin" in l)
    window = log[begin:]
    warns = [l for l in window if "WARNING:" in l]
    said = [l for l in window if f"bpf_iter: module {MOD} left target rust_leaked registered" in l]
    need(len(warns) == 1 and said, f"{len(warns)} WARNING(s), {len(said)} naming the module")
    need(not any("KASAN" in l or "BUG:" in l for l in window), "a KASAN or BUG report")


def locked_flips_and_attaches(secs=float(os.environ.get("SOUNDNESS_SECS", "8"))):
    """Unregisters and registers rust_locked under the module's mutex in one thread while
    another verifies programs for it and attaches them, for `secs` seconds: its attach takes
    that mutex, so a core holding a lock of its own across attach deadlocks (ABBA)."""
    ctl = f"/sys/kernel/debug/{MOD}/locked"
    stop = time.monotonic() + secs
    counts = {"flips": 0, "attached": 0, "refused": 0, "errors": []}

    def flipper():
        on = True
        while time.monotonic() < stop:
            try:
                select("1" if on else "0", ctl=ctl)
                counts["flips"] += 1
            except OSError as e:
                counts["errors"].append(f"flip: {errno_name(e.errno)}")
                return
            # Registered long enough for a program to be verified and attached (a program
            # verified with one registration attaches to that one only), unregistered
            # briefly.
            time.sleep(0.03 if on else 0.003)
            on = not on
        select("1", ctl=ctl)

    def attacher():
        while time.monotonic() < stop:
            try:
                prog = prog_load(BPF_PROG_TYPE_TRACING, attach_type=BPF_TRACE_ITER,
                                 btf_fd=btf_fd, btf_id=tid)
            except Errno:  # unregistered: no target for the anchor
                counts["refused"] += 1
                continue
            try:
                link = link_create(prog)
                it = iter_create(link)
                read_all(it)
                os.close(it)
                os.close(link)
                counts["attached"] += 1
            except Errno as e:
                if e.name != "ENOENT":  # unregistered meanwhile
                    counts["errors"].append(f"attach: {e.name}")
                counts["refused"] += 1
            finally:
                os.close(prog)

    select("1", ctl=ctl)
    btf_fd, tid = anchor(MOD, "rust_locked")
    threads = [threading.Thread(target=f, daemon=True) for f in (flipper, attacher)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=secs + 120)
    need(not any(t.is_alive() for t in threads),
         f"hung: {counts['flips']} flips, {counts['attached']} attached")
    os.close(btf_fd)
    need(not counts["errors"], f"errors: {counts['errors'][:5]}")
    need(counts["flips"] > 2 and counts["attached"] > 0,
         f"{counts['flips']} flips, {counts['attached']} attached, {counts['refused']} refused")
    select("0", ctl=ctl)
    print(f"# point 5: {counts['flips']} unregister/register cycles under the target's lock, "
          f"{counts['attached']} links attached and read, {counts['refused']} refused", flush=True)


before = state()
run_cases("soundness-2", [
    ("point 6: i8, i16, i32 and i64 slots are signed in BTF: a program reads -3..-1 as "
     "negative", signed_values),
    ("point 2: a link holds a non-leader thread; its process is killed and reaped; programs "
     "still read it through the trusted pointer, bpf_task_acquire() then gives none",
     reaped_thread),
    ("point 1: rust_same_name registered as trusted, then as plain, a program verified with each",
     same_name_setup),
    ("point 1: a program verified with the other registration of the name: link_create gives EINVAL",
     same_name_attach),
    ("point 1: ... and BPF_LINK_UPDATE to it gives EINVAL", same_name_update),
    ("point 1: registered as trusted again: its program attaches, the plain one's gives EINVAL",
     same_name_back),
    ("point 1: every fd closed, neither registered", same_name_done),
    ("point 5: rust_locked unregistered and registered under its own lock, which its attach "
     "takes, while programs attach: no deadlock", locked_flips_and_attaches),
    nothing_left(before),
    ("point 4: a registration leaked (mem::forget), rmmod: one WARN naming the module, then "
     "a program load reads no freed memory", leaked_registration),
], EXTRA)
