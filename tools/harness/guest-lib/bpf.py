#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small raw syscalls for the guest suites: bpf(BPF_OBJ_GET), bpf(BPF_LINK_UPDATE) and
delete_module.

  bpf.py fdinfo PINNED_PATH          print the fdinfo of the pinned link
  bpf.py rmmod NAME                  delete_module(NAME, O_NONBLOCK); print 0 or the errno name
  bpf.py link-update LINK PROG       BPF_LINK_UPDATE of pinned link LINK to pinned program PROG;
                                     print 0 or the errno name
  bpf.py load-iter BTF_OBJ_ID TYPE_ID SECONDS
                                     load (verify, then close) the smallest iterator program
                                     for anchor TYPE_ID of BTF object BTF_OBJ_ID (a module's),
                                     again and again for SECONDS; print "LOADS OK ERRORS" and
                                     the errno names seen
"""
import ctypes
import errno
import os
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
SYS_BPF, SYS_DELETE_MODULE = 321, 176  # x86_64
BPF_OBJ_GET = 7
BPF_LINK_UPDATE = 29
BPF_PROG_LOAD, BPF_BTF_GET_FD_BY_ID = 5, 19
BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER = 26, 28


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    # union bpf_attr for BPF_OBJ_GET: pathname, bpf_fd, file_flags, path_fd
    attr = ctypes.create_string_buffer(struct.pack("=QIIi", ctypes.addressof(p), 0, 0, 0), 128)
    fd = libc.syscall(SYS_BPF, BPF_OBJ_GET, attr, 128)
    if fd < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return fd


def load_iter(btf_obj_id, type_id, seconds):
    """Verification of an iterator program looks its target up (bpf_iter_prog_supported)."""
    import time
    attr = ctypes.create_string_buffer(struct.pack("=I", btf_obj_id), 128)
    btf_fd = libc.syscall(SYS_BPF, BPF_BTF_GET_FD_BY_ID, attr, 128)
    if btf_fd < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    # r0 = 0; exit
    insns = ctypes.create_string_buffer(bytes([0xb7, 0, 0, 0, 0, 0, 0, 0,
                                               0x95, 0, 0, 0, 0, 0, 0, 0]))
    lic = ctypes.create_string_buffer(b"GPL")
    a = bytearray(128)
    struct.pack_into("=IIQQ", a, 0, BPF_PROG_TYPE_TRACING, 2,
                     ctypes.addressof(insns), ctypes.addressof(lic))
    struct.pack_into("=I", a, 68, BPF_TRACE_ITER)  # expected_attach_type
    struct.pack_into("=II", a, 108, type_id, btf_fd)  # attach_btf_id, attach_btf_obj_fd
    attr = ctypes.create_string_buffer(bytes(a), 128)
    loads = good = 0
    errs = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        fd = libc.syscall(SYS_BPF, BPF_PROG_LOAD, attr, 128)
        loads += 1
        if fd >= 0:
            good += 1
            os.close(fd)
        else:
            e = errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
            errs[e] = errs.get(e, 0) + 1
    os.close(btf_fd)
    print(loads, good, loads - good, " ".join(f"{k}:{v}" for k, v in sorted(errs.items())))


def main():
    if sys.argv[1] == "fdinfo":
        fd = obj_get(sys.argv[2])
        with open(f"/proc/self/fdinfo/{fd}") as f:
            sys.stdout.write(f.read())
        os.close(fd)
    elif sys.argv[1] == "link-update":
        link, prog = obj_get(sys.argv[2]), obj_get(sys.argv[3])
        # union bpf_attr for BPF_LINK_UPDATE: link_fd, new_prog_fd, flags, old_prog_fd
        attr = ctypes.create_string_buffer(struct.pack("=IIII", link, prog, 0, 0), 128)
        r = libc.syscall(SYS_BPF, BPF_LINK_UPDATE, attr, 128)
        print(0 if r == 0 else errno.errorcode[ctypes.get_errno()])
        os.close(link)
        os.close(prog)
    elif sys.argv[1] == "load-iter":
        load_iter(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1] == "rmmod":
        r = libc.syscall(SYS_DELETE_MODULE, sys.argv[2].encode(), os.O_NONBLOCK)
        print(0 if r == 0 else errno.errorcode[ctypes.get_errno()])
    else:
        sys.exit(f"usage: {__doc__}")


if __name__ == "__main__":
    main()
