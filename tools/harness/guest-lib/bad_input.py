#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reliability issue, part 4: malformed input to the iterator targets, each with the errno it
must get and nothing left behind. Raw bpf(2) calls, so that every byte of the input is ours.

  bad_input.py OUT [EXTRA]
                        run the table (TAP on stdout, its plan counting EXTRA more results that
                        the caller prints after it), write OUT/bad-input.md (Rust vs C)

Every case runs on a Rust target and, where the kernel has one, on the C target it mirrors.
After every case the number of BPF links in the system and the reference counts of our modules
must be what they were before it (nothing left behind), and the next valid call must work.
The wrapper (guest.d/60-bad-input.sh) loads the modules and unloads them afterwards.
"""
import os
import struct
import sys

from bpfsys import (BPF_F_SLEEPABLE, anchor, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_QUEUE,
                    BPF_PROG_TYPE_RAW_TRACEPOINT, Errno, FS, Zombie, attach_and_read,
                    closed_fd, cgroup_info, debugfs_write, free_pid, in_child_pidns,
                    iter_create, iter_prog, link_create, link_update, map_create,
                    map_info, obj_get, obj_pin, outcome, pidfd_open, prog_load, raw_tp_link,
                    reaped_pidfd, settled, state, task_info)


# --- the table -----------------------------------------------------------------------------

def has_anchor(target):
    """Whether vmlinux has the target's anchor (the cgroup target needs CONFIG_CGROUPS)."""
    try:
        anchor("vmlinux", target)
        return True
    except KeyError:
        return False


def main():
    out = sys.argv[1]
    extra = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    P = {}  # programs by target

    def load(key, obj, target, flags=0):
        try:
            P[key] = iter_prog(obj, target, flags)
        except (Errno, LookupError, KeyError, OSError) as e:
            P[key] = None
            print(f"# could not load a program for {target} ({obj}): {e!r}", file=sys.stderr)

    for t in ("task", "task_file", "task_vma"):
        load(t, "vmlinux", t)
        load("rust_" + t, "rust_bpf_iter_task", "rust_" + t)
    load("bpf_map", "vmlinux", "bpf_map")
    load("bpf_map_elem", "vmlinux", "bpf_map_elem")
    if has_anchor("cgroup"):
        load("cgroup", "vmlinux", "cgroup")
    load("rust_sample", "rust_bpf_iter_sample", "rust_sample")
    load("rust_records", "rust_bpf_iter_records", "rust_records")
    load("sleepable:rust_sample", "rust_bpf_iter_sample", "rust_sample", BPF_F_SLEEPABLE)
    load("sleepable:bpf_map", "vmlinux", "bpf_map", BPF_F_SLEEPABLE)
    load("sleepable:rust_task", "rust_bpf_iter_task", "rust_task", BPF_F_SLEEPABLE)
    load("sleepable:task", "vmlinux", "task", BPF_F_SLEEPABLE)
    for key, path in (("overread:rust_sample", "bi_overread_rust_sample"),
                      ("overread:bpf_map_elem", "bi_overread_map_elem")):
        try:
            P[key] = obj_get(f"{FS}/{path}")
        except Errno as e:
            P[key] = None
            print(f"# no pinned program {path}: {e.name}", file=sys.stderr)

    me = os.getpid()
    hash4 = map_create(BPF_MAP_TYPE_HASH, 4, 4, 8)
    queue = map_create(BPF_MAP_TYPE_QUEUE, 0, 4, 1)
    devnull = os.open("/dev/null", os.O_RDONLY)
    closed = closed_fd()
    self_pidfd = pidfd_open(me)
    raw_tp = prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT)

    def on(target, f):
        """A case body on target's program (the case fails if it could not be loaded)."""
        def run():
            if target == "cgroup" and not has_anchor("cgroup"):
                return f(None)
            if P.get(target) is None:
                return "no program"
            return f(P[target])
        return run

    def link(info=None, **kw):
        return lambda prog: outcome(attach_and_read, prog, info, **kw)

    task_pairs = (("rust_task", "task"), ("rust_task_file", "task_file"),
                  ("rust_task_vma", "task_vma"))
    noparam = (("rust_sample", "bpf_map"), ("rust_records", "bpf_prog"))
    load("bpf_prog", "vmlinux", "bpf_prog")

    # (case, [(target, want, body)], why the Rust and C targets differ, if they do)
    T = []

    def case(name, pairs, want_rust, want_c, body, why=None):
        T.append((name, [(r, want_rust, on(r, body)) for r, _ in pairs] +
                  [(c, want_c, on(c, body)) for _, c in pairs if c], why))

    WHY_IGNORED = ("a C target without attach_target() ignores link parameters; "
                   "LinkInfo::none() refuses them, so nobody believes a filter was applied")
    case("task parameters on a target that takes none", noparam, "EINVAL", "0",
         link(task_info(tid=me)), WHY_IGNORED)
    case("map parameters on a target that takes none", noparam, "EINVAL", "0",
         link(map_info(hash4)), WHY_IGNORED)
    case("cgroup parameters on a target that takes none", noparam, "EINVAL", "0",
         link(cgroup_info(1)), WHY_IGNORED)
    case("cgroup parameters on a task target (tid and pid both set)", task_pairs[:1],
         "EINVAL", "EINVAL", link(cgroup_info(1, fd=devnull)))
    case("tid and pid together", task_pairs, "EINVAL", "EINVAL", link(task_info(tid=me, pid=me)))
    case("pid and pid_fd together", task_pairs[:1], "EINVAL", "EINVAL",
         link(task_info(pid=me, pid_fd=self_pidfd)))
    WHY_ESRCH = ("C accepts any number and iterates nothing; the Rust twins check at attach "
                 "(TaskFilter::check_exists), so a typo is an error, not an empty output")
    case("tid of no task", task_pairs, "ESRCH", "0",
         lambda prog: outcome(attach_and_read, prog, task_info(tid=free_pid())), WHY_ESRCH)
    case("pid of no process", task_pairs[:1], "ESRCH", "0",
         lambda prog: outcome(attach_and_read, prog, task_info(pid=free_pid())), WHY_ESRCH)

    def zombie(prog):
        with Zombie() as z:
            return outcome(attach_and_read, prog, task_info(pid=z))
    case("pid of an exited, unreaped process (zombie)", task_pairs[:1], "0", "0", zombie)

    def reaped(prog):
        fd = reaped_pidfd()
        try:
            return outcome(attach_and_read, prog, task_info(pid_fd=fd))
        finally:
            os.close(fd)
    case("pid_fd of a reaped process", task_pairs[:1], "ESRCH", "0", reaped, WHY_ESRCH)
    case("pid_fd of a closed fd", task_pairs, "EBADF", "EBADF", link(task_info(pid_fd=closed)))
    case("pid_fd of a file that is not a pidfd", task_pairs[:1], "EBADF", "EBADF",
         link(task_info(pid_fd=devnull)))
    case("pid of a process outside the caller's pid namespace", task_pairs[:1], "ESRCH", "0",
         lambda prog: in_child_pidns(attach_and_read, prog, task_info(pid=me)), WHY_ESRCH)
    case("pid_fd of a process outside the caller's pid namespace", task_pairs[:1], "ESRCH", "0",
         lambda prog: in_child_pidns(attach_and_read, prog, task_info(pid_fd=self_pidfd)),
         "C iterates the process with pid 0 in the caller's namespace, i.e. nothing; Rust: "
         "the process has no pid there (ESRCH)")
    case("task parameters with the union's last word set", task_pairs[:1], "EINVAL", "0",
         link(task_info(tid=me, w3=1)),
         "C reads only the three task words; LinkInfo::task() refuses anything set beyond them")
    # The core's checks of iter_info/iter_info_len (bpf_iter_link_attach), before any target.
    case("iter_info_len 0 with an iter_info pointer", task_pairs[:1], "EINVAL", "EINVAL",
         link(task_info(tid=me), info_len=0))
    case("iter_info_len 16 with a NULL iter_info", task_pairs[:1], "EINVAL", "EINVAL",
         link(None, info_len=16))
    case("short iter_info_len (4: tid only) is zero-extended", task_pairs[:1], "0", "0",
         link(struct.pack("=I", me)))
    case("oversized iter_info_len, zero tail", task_pairs[:1], "0", "0",
         link(task_info(tid=me) + bytes(48)))
    case("oversized iter_info_len, non-zero tail", task_pairs[:1], "E2BIG", "E2BIG",
         link(task_info(tid=me) + bytes(47) + b"\1"))
    case("iter_info_len over a page", task_pairs[:1], "E2BIG", "E2BIG",
         link(task_info(tid=me) + bytes(8192)))
    case("iter_info pointing at unmapped memory", task_pairs[:1], "EFAULT", "EFAULT",
         link(task_info(), ptr=16))
    # Map element targets: only the C bpf_map_elem (no Rust target takes a map; the Rust
    # LinkInfo::map() has doctests for the same inputs).
    mp = ((None, "bpf_map_elem"),)
    case("map target without parameters", mp, None, "EBADF", link())
    case("map_fd 0", mp, None, "EBADF", link(map_info(0)))
    case("map_fd of a closed fd", mp, None, "EBADF", link(map_info(closed)))
    case("map_fd of a file that is not a map", mp, None, "EINVAL", link(map_info(devnull)))
    case("map_fd of a map of the wrong type (queue)", mp, None, "EINVAL", link(map_info(queue)))
    case("map_fd of a program", mp, None, "EINVAL", link(map_info(raw_tp)))
    T.append(("a program reading past a read-only buffer of the context (RdonlyBuf, map key)",
              [("overread:rust_sample", "EACCES", on("overread:rust_sample", link())),
               ("overread:bpf_map_elem", "EACCES",
                on("overread:bpf_map_elem", link(map_info(hash4))))], None))
    cg = ((None, "cgroup"),)
    if has_anchor("cgroup"):
        case("cgroup target without parameters (no order)", cg, None, "EINVAL", link())
        case("cgroup: unknown order", cg, None, "EINVAL", link(cgroup_info(99)))
        case("cgroup: fd and id together", cg, None, "EINVAL",
             link(cgroup_info(1, fd=devnull, cid=1)))
        case("cgroup_fd of a file that is not a cgroup", cg, None, "EBADF",
             link(cgroup_info(1, fd=devnull)))
        case("cgroup_id of no cgroup", cg, None, "ENOENT", link(cgroup_info(1, cid=1 << 40)))
    else:
        # The debug kernel (CONFIG_CGROUPS=n) has no cgroup target: say so, as a result.
        cgroups = os.path.exists("/proc/cgroups")
        case("no cgroup target without CONFIG_CGROUPS", ((None, "cgroup"),), None,
             "no target", lambda _p: "no target" if not cgroups else "CGROUPS=y, no anchor")
    # Programs.
    case("a sleepable program on a target without BPF_ITER_RESCHED",
         (("sleepable:rust_sample", "sleepable:bpf_map"),), "EINVAL", "EINVAL", link())
    case("a sleepable program on a target with BPF_ITER_RESCHED",
         (("sleepable:rust_task", "sleepable:task"),), "0", "0", link())
    case("a program of another attach type", task_pairs[:1], "EINVAL", "EINVAL",
         link(attach_type=0))

    def update_from(other):
        """BPF_LINK_UPDATE of a link of target `other` to the case's program."""
        def body(prog):
            lk = link_create(P[other])
            try:
                return outcome(link_update, lk, prog)
            finally:
                os.close(lk)
        return body
    T.append(("BPF_LINK_UPDATE with a program of another target",
              [("rust_task", "EINVAL", on("rust_task", update_from("rust_sample"))),
               ("task", "EINVAL", on("task", update_from("bpf_map")))], None))
    # Iterator creation and pinning.

    def iter_on(flags=0, non_iter=False):
        def body(prog):
            lk = raw_tp_link(raw_tp, "sched_switch") if non_iter else link_create(prog)
            try:
                return outcome(iter_create, lk, flags)
            finally:
                os.close(lk)
        return body
    case("BPF_ITER_CREATE with flags", task_pairs[:1], "EINVAL", "EINVAL", iter_on(flags=1))
    case("BPF_ITER_CREATE on a link that is not an iterator", ((None, "task"),), None, "EINVAL",
         iter_on(non_iter=True))
    case("BPF_ITER_CREATE on a program fd", task_pairs[:1], "EINVAL", "EINVAL",
         lambda prog: outcome(iter_create, prog))

    def pin(path):
        def body(prog):
            lk = link_create(prog)
            try:
                return outcome(obj_pin, lk, path)
            finally:
                os.close(lk)
        return body
    case("pinning a link outside bpffs", task_pairs[:1], "EPERM", "EPERM", pin("/tmp/bi_link"))
    case("pinning a link under a missing bpffs directory", task_pairs[:1], "ENOENT", "ENOENT",
         pin(f"{FS}/bi_no_such_dir/link"))
    # The records sample's debugfs files (no C twin).
    rec = (("rust_records", None),)
    for fname, data, want, what in (
            ("add", b"", "EINVAL", "empty"),
            ("add", b"n " + b"1" * 200, "EINVAL", "over-long (200+ bytes)"),
            ("add", b"a" * 16 + b" 1", "EINVAL", "a 16-byte name"),
            ("add", b"n abc", "EINVAL", "a non-numeric value"),
            ("add", b"n -1", "EINVAL", "a negative value"),
            ("add", b"n 18446744073709551616", "ERANGE", "a value over u64"),
            ("add", b"n\x01x 1", "EINVAL", "a control character in the name"),
            ("del", b"", "EINVAL", "empty"),
            ("del", b"x", "EINVAL", "non-numeric"),
            ("del", b"-1", "EINVAL", "negative"),
            ("del", b"18446744073709551616", "ERANGE", "over u64"),
            ("del", b"123456789", "ENOENT", "an id of no record"),
            ("registered", b"2", "EINVAL", "neither 0 nor 1"),
            ("registered", b"", "EINVAL", "empty")):
        case(f"records debugfs {fname}: {what}", rec, want, None,
             lambda _p, fname=fname, data=data: debugfs_write(fname, data))

    rows = [(name, t, want, body, why) for name, runs, why in T for t, want, body in runs
            if t is not None]
    print("TAP version 13")
    print(f"1..{len(rows) + 1 + extra}")
    n = 0
    results = {}
    for name, t, want, body, why in rows:
        before = state()
        try:
            got = body()
        except Exception as e:  # a broken case is a failure, not a crash of the table
            got = f"exception {e!r}"
        left = settled(before)
        n += 1
        results[(name, t)] = got
        label = f"{t.split(':')[-1]}: {name}: {want}"
        if got == want and not left:
            print(f"ok {n} - {label}")
        else:
            print(f"not ok {n} - {label} # got {got}" + (f"; {left}" if left else ""))
        sys.stdout.flush()
    # After all of it, valid calls work on every target.
    n += 1
    bad = [t if P.get(t) else f"{t} (not loaded)"
           for t in ("rust_task", "task", "rust_sample", "rust_records", "bpf_map")
           if not P.get(t) or outcome(attach_and_read, P[t]) != "0"]
    if outcome(attach_and_read, P.get("bpf_map_elem"), map_info(hash4)) != "0":
        bad.append("bpf_map_elem")
    if debugfs_write("add", b"after 1") != "0":
        bad.append("records add")
    print(f"{'ok' if not bad else 'not ok'} {n} - valid calls work after the table"
          + (f" # failed: {' '.join(bad)}" if bad else ""))

    # The table, Rust vs C, for the closing note and the guide.
    with open(f"{out}/bad-input.md", "w") as f:
        f.write("| input | Rust target: errno | C target: errno | why they differ |\n")
        f.write("| --- | --- | --- | --- |\n")
        for name, runs, why in T:
            r = ", ".join(f"{t.split(':')[-1]} {results.get((name, t), '-')}"
                          for t, _, _ in runs if t and t.split(":")[-1].startswith("rust_"))
            c = ", ".join(f"{t.split(':')[-1]} {results.get((name, t), '-')}"
                          for t, _, _ in runs if t and not t.split(":")[-1].startswith("rust_"))
            f.write(f"| {name} | {r or 'n/a'} | {c or 'n/a'} | {why or ''} |\n")
            if why:
                print(f"# differs: {name}: {why}")
    for fd in [v for v in P.values() if v] + [hash4, queue, devnull, self_pidfd, raw_tp]:
        os.close(fd)


if __name__ == "__main__":
    main()
