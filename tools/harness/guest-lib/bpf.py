#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small raw syscalls for the guest suites: bpf(BPF_OBJ_GET), bpf(BPF_LINK_UPDATE) and
delete_module.

  bpf.py fdinfo PINNED_PATH          print the fdinfo of the pinned link
  bpf.py rmmod NAME                  delete_module(NAME, O_NONBLOCK); print 0 or the errno name
  bpf.py link-update LINK PROG       BPF_LINK_UPDATE of pinned link LINK to pinned program PROG;
                                     print 0 or the errno name
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


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    # union bpf_attr for BPF_OBJ_GET: pathname, bpf_fd, file_flags, path_fd
    attr = ctypes.create_string_buffer(struct.pack("=QIIi", ctypes.addressof(p), 0, 0, 0), 128)
    fd = libc.syscall(SYS_BPF, BPF_OBJ_GET, attr, 128)
    if fd < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return fd


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
    elif sys.argv[1] == "rmmod":
        r = libc.syscall(SYS_DELETE_MODULE, sys.argv[2].encode(), os.O_NONBLOCK)
        print(0 if r == 0 else errno.errorcode[ctypes.get_errno()])
    else:
        sys.exit(f"usage: {__doc__}")


if __name__ == "__main__":
    main()
