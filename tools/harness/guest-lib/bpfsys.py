#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw bpf(2) and friends for the guest suites (bad_input.py, stress.py): every byte of an
attr is ours. x86_64 only. Errors raise Errno (its .name is the errno's name)."""
import ctypes
import errno
import os
import struct
import time

libc = ctypes.CDLL(None, use_errno=True)
SYS_BPF, SYS_PIDFD_OPEN, SYS_FINIT_MODULE, SYS_DELETE_MODULE = 321, 434, 313, 176  # x86_64
(BPF_MAP_CREATE, BPF_PROG_LOAD, BPF_OBJ_PIN, BPF_OBJ_GET, BPF_BTF_GET_FD_BY_ID,
 BPF_OBJ_GET_INFO_BY_FD, BPF_RAW_TRACEPOINT_OPEN, BPF_BTF_GET_NEXT_ID, BPF_LINK_CREATE,
 BPF_LINK_UPDATE, BPF_LINK_GET_NEXT_ID, BPF_ITER_CREATE) = (0, 5, 6, 7, 19, 15, 17, 23, 28, 29,
                                                            31, 33)
BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_TRACING = 17, 26
BPF_TRACE_ITER = 28
BPF_F_SLEEPABLE = 1 << 4
BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_QUEUE = 1, 22
CLONE_NEWPID = 0x20000000
OUR_MODULES = ("rust_bpf_iter_sample", "rust_bpf_iter_records", "rust_bpf_iter_task",
               "rust_bpf_iter_params", "rust_bpf_iter_selftest")
FS = "/sys/fs/bpf"

# r0 = 0; exit: verifies against any target, prints nothing.
NOP = bytes([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])


def errno_name(e):
    """The name of errno value e ("EINVAL"), or its number if it has none."""
    return errno.errorcode.get(e, str(e))


class Errno(Exception):
    def __init__(self, e):
        super().__init__(errno_name(e))
        self.name = errno_name(e)


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), max(len(attr), 128))
    r = libc.syscall(SYS_BPF, cmd, buf, len(buf))
    if r < 0:
        raise Errno(ctypes.get_errno())
    return r, buf


def outcome(f, *args, **kw):
    """Runs f(*args, **kw): "0" if it succeeded (closing the fd it returned), else the errno
    name."""
    try:
        r = f(*args, **kw)
    except Errno as e:
        return e.name
    if isinstance(r, int) and r >= 0:
        os.close(r)
    return "0"


def closed_fd():
    """An fd number that is not open."""
    fd = 900
    while True:
        try:
            os.fstat(fd)
        except OSError:
            return fd
        fd += 1


# --- BTF: the anchor `bpf_iter_<target>` of each target, in vmlinux or a module -----------

def btf_funcs(data, base_types=0, base_strs=b""):
    """Returns ({FUNC name: type id}, number of types, strings) of raw BTF `data` (split BTF
    on top of base_types types and base_strs strings, for a module)."""
    _, _, _, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data)
    strs = data[hdr_len + str_off:hdr_len + str_off + str_len]
    t, end = hdr_len + type_off, hdr_len + type_off + type_len
    extra = {1: 4, 3: 12, 14: 4, 17: 4}
    per = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    funcs, n = {}, 0
    while t < end:
        name_off, info = struct.unpack_from("<II", data, t)
        kind, vlen = (info >> 24) & 0x1f, info & 0xffff
        t += 12 + extra.get(kind, 0) + per.get(kind, 0) * vlen
        n += 1
        if kind == 12:  # FUNC
            if name_off >= len(base_strs):
                s, o = strs, name_off - len(base_strs)
            else:
                s, o = base_strs, name_off
            name = s[o:s.index(b"\0", o)]
            if name.startswith(b"bpf_iter_"):
                funcs[name.decode()] = base_types + n
    return funcs, base_types + n, strs


VMLINUX = None


def anchor(obj, target):
    """(BTF fd or 0 for vmlinux, type id) of target's anchor; obj is "vmlinux" or a module."""
    global VMLINUX
    if VMLINUX is None:
        with open("/sys/kernel/btf/vmlinux", "rb") as f:
            VMLINUX = btf_funcs(f.read())
    funcs, ntypes, strs = VMLINUX
    if obj == "vmlinux":
        return 0, funcs["bpf_iter_" + target]
    with open(f"/sys/kernel/btf/{obj}", "rb") as f:
        mfuncs, _, _ = btf_funcs(f.read(), ntypes, strs)
    tid = mfuncs["bpf_iter_" + target]
    return btf_fd_by_name(obj), tid


def btf_fd_by_name(name):
    i = 0
    while True:
        try:
            _, a = bpf(BPF_BTF_GET_NEXT_ID, struct.pack("=I", i))
        except Errno:
            raise LookupError(f"no BTF object {name}")
        i = struct.unpack_from("=I", a, 4)[0]
        fd, _ = bpf(BPF_BTF_GET_FD_BY_ID, struct.pack("=I", i))
        nbuf = ctypes.create_string_buffer(64)
        info = bytearray(40)  # struct bpf_btf_info: btf, btf_size, id, name, name_len, kernel_btf
        struct.pack_into("=QIIQI", info, 0, 0, 0, 0, ctypes.addressof(nbuf), 64)
        ibuf = ctypes.create_string_buffer(bytes(info), 40)
        bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("=IIQ", fd, 40, ctypes.addressof(ibuf)))
        if nbuf.value.decode() == name:
            return fd
        os.close(fd)


# --- objects -------------------------------------------------------------------------------

def prog_load(ptype, insns=NOP, attach_type=0, btf_fd=0, btf_id=0, flags=0):
    ins = ctypes.create_string_buffer(insns)
    lic = ctypes.create_string_buffer(b"GPL")
    a = bytearray(128)
    struct.pack_into("=IIQQ", a, 0, ptype, len(insns) // 8, ctypes.addressof(ins),
                     ctypes.addressof(lic))
    struct.pack_into("=I", a, 44, flags)
    struct.pack_into("=I", a, 68, attach_type)
    struct.pack_into("=II", a, 108, btf_id, btf_fd)
    return bpf(BPF_PROG_LOAD, a)[0]


def iter_prog(obj, target, flags=0):
    btf_fd, tid = anchor(obj, target)
    try:
        return prog_load(BPF_PROG_TYPE_TRACING, attach_type=BPF_TRACE_ITER, btf_fd=btf_fd,
                         btf_id=tid, flags=flags)
    finally:
        if btf_fd:
            os.close(btf_fd)


def link_create(prog_fd, info=None, info_len=None, attach_type=BPF_TRACE_ITER, ptr=None):
    a = bytearray(128)
    struct.pack_into("=III", a, 0, prog_fd, 0, attach_type)
    if info is not None or ptr is not None:
        if ptr is None:
            b = ctypes.create_string_buffer(bytes(info), max(len(info), 1))
            ptr = ctypes.addressof(b)
        struct.pack_into("=QI", a, 16, ptr, len(info) if info_len is None else info_len)
    elif info_len is not None:
        struct.pack_into("=QI", a, 16, 0, info_len)
    return bpf(BPF_LINK_CREATE, a)[0]


def iter_create(link_fd, flags=0):
    return bpf(BPF_ITER_CREATE, struct.pack("=II", link_fd, flags))[0]


def read_all(fd):
    out = b""
    while True:
        b = os.read(fd, 4096)
        if not b:
            return out
        out += b


def attach_and_read(prog_fd, info=None, **kw):
    """Link, iterator, read to the end; returns the link fd (the caller closes it)."""
    link = link_create(prog_fd, info, **kw)
    try:
        it = iter_create(link)
        read_all(it)
        os.close(it)
    except Errno:
        os.close(link)
        raise
    return link


def map_create(mtype, key, value, entries):
    return bpf(BPF_MAP_CREATE, struct.pack("=IIII", mtype, key, value, entries))[0]


def obj_get(path):
    """An fd of the object pinned at path."""
    p = ctypes.create_string_buffer(path.encode())
    return bpf(BPF_OBJ_GET, struct.pack("=QIIi", ctypes.addressof(p), 0, 0, 0))[0]


def obj_pin(fd, path):
    """Pins fd at path (no fd to return: outcome() must not close one)."""
    p = ctypes.create_string_buffer(path.encode())
    bpf(BPF_OBJ_PIN, struct.pack("=QIIi", ctypes.addressof(p), fd, 0, 0))


def link_update(link_fd, prog_fd):
    """BPF_LINK_UPDATE of link_fd to prog_fd (no fd to return)."""
    bpf(BPF_LINK_UPDATE, struct.pack("=IIII", link_fd, prog_fd, 0, 0))


def raw_tp_link(prog_fd, name):
    n = ctypes.create_string_buffer(name.encode())
    return bpf(BPF_RAW_TRACEPOINT_OPEN, struct.pack("=QI", ctypes.addressof(n), prog_fd))[0]


def pidfd_open(pid):
    fd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if fd < 0:
        raise Errno(ctypes.get_errno())
    return fd


def task_info(tid=0, pid=0, pid_fd=0, w3=0):
    return struct.pack("=IIII", tid, pid, pid_fd, w3)


def map_info(map_fd):
    return struct.pack("=IIII", map_fd, 0, 0, 0)


def cgroup_info(order, fd=0, cid=0):
    return struct.pack("=IIQ", order, fd, cid)


def free_pid():
    """A pid no task has (a reaped child's, checked)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    assert not os.path.exists(f"/proc/{pid}")
    return pid


def reaped_pidfd():
    """A pidfd of a process that has exited and been reaped."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.read(r, 1)
        os._exit(0)
    fd = pidfd_open(pid)
    os.write(w, b"x")
    os.waitpid(pid, 0)
    os.close(r)
    os.close(w)
    return fd


class Zombie:
    """A child that has exited and not been reaped, while the with-block runs."""

    def __enter__(self):
        self.pid = os.fork()
        if self.pid == 0:
            os._exit(0)
        for _ in range(500):
            with open(f"/proc/{self.pid}/stat") as f:
                if f.read().split(") ")[1][0] == "Z":
                    break
            time.sleep(0.01)
        return self.pid

    def __exit__(self, *a):
        os.waitpid(self.pid, 0)


def in_child_pidns(f, *args):
    """outcome(f, *args) in a process in a new pid namespace (where our pid does not exist)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            if libc.unshare(CLONE_NEWPID) != 0:
                os.write(w, b"unshare:" + errno_name(ctypes.get_errno()).encode())
                os._exit(0)
            c = os.fork()  # the first process of the new namespace
            if c == 0:
                os.write(w, outcome(f, *args).encode())
                os._exit(0)
            os.waitpid(c, 0)
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    res = os.read(r, 64).decode()
    os.close(r)
    return res


def debugfs_write(name, data):
    try:
        fd = os.open(f"/sys/kernel/debug/rust_bpf_iter_records/{name}", os.O_WRONLY)
    except OSError as e:
        return errno_name(e.errno)
    try:
        os.write(fd, data)
        return "0"
    except OSError as e:
        return errno_name(e.errno)
    finally:
        os.close(fd)


# --- invariants ----------------------------------------------------------------------------

def link_count():
    n, i = 0, 0
    while True:
        try:
            _, a = bpf(BPF_LINK_GET_NEXT_ID, struct.pack("=I", i))
        except Errno:
            return n
        i = struct.unpack_from("=I", a, 4)[0]
        n += 1


def refcounts():
    out = {}
    for m in OUR_MODULES:
        try:
            with open(f"/sys/module/{m}/refcnt") as f:
                out[m] = int(f.read())
        except OSError:
            out[m] = None
    return out


def state():
    return link_count(), refcounts()


def settled(before, current=state):
    """Waits up to 2 s (links and programs are freed after an RCU grace period) for
    current() (by default state()) to be `before` again; returns the difference, if any."""
    for _ in range(40):
        now = current()
        if now == before:
            return None
        time.sleep(0.05)
    if current is state:
        return (f"left behind: links {before[0]} -> {now[0]}, "
                f"module refcounts {before[1]} -> {now[1]}")
    return f"left behind: {before} -> {now}"
