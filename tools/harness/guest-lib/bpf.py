#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small raw syscalls for the guest suites' shell scripts (bpfsys.py does the work).

  bpf.py fdinfo PINNED_PATH          print the fdinfo of the pinned link
  bpf.py rmmod NAME                  delete_module(NAME, O_NONBLOCK); print 0 or the errno name
  bpf.py link-update LINK PROG       BPF_LINK_UPDATE of pinned link LINK to pinned program PROG;
                                     print 0 or the errno name
"""
import ctypes
import os
import sys

from bpfsys import SYS_DELETE_MODULE, errno_name, libc, link_update, obj_get, outcome


def main():
    if sys.argv[1] == "fdinfo":
        fd = obj_get(sys.argv[2])
        with open(f"/proc/self/fdinfo/{fd}") as f:
            sys.stdout.write(f.read())
        os.close(fd)
    elif sys.argv[1] == "link-update":
        link, prog = obj_get(sys.argv[2]), obj_get(sys.argv[3])
        print(outcome(link_update, link, prog))
        os.close(link)
        os.close(prog)
    elif sys.argv[1] == "rmmod":
        r = libc.syscall(SYS_DELETE_MODULE, sys.argv[2].encode(), os.O_NONBLOCK)
        print(0 if r == 0 else errno_name(ctypes.get_errno()))
    else:
        sys.exit(f"usage: {__doc__}")


if __name__ == "__main__":
    main()
