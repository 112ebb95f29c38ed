#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's drgn reference, run in the guest with drgn's own Python (a venv of the host).

  drgn_walk.py VMLINUX

Loads the running kernel (/proc/kcore, CONFIG_PROC_KCORE) with the DWARF of VMLINUX once, prints
"ready SECONDS" (the load time, guest ns / 1e9), then serves walks: for each line
"TARGET FILE" on standard input (TARGET: task, task_file or task_vma) it walks the same objects
as that iterator with drgn's helpers, writes one line per object to FILE as the selftests' BPF
programs print them ("tgid pid", "tgid pid fd", "tgid pid start-end"), and answers
"ns OBJECTS" (guest ns the walk took, printing included). Ends at the end of its input.
"""
import sys
import time

import drgn
from drgn.helpers.linux.fs import for_each_file
from drgn.helpers.linux.mm import for_each_vma
from drgn.helpers.linux.pid import for_each_task


def walk(prog, target, out):
    n = 0
    for task in for_each_task(prog):
        tgid, pid = task.tgid.value_(), task.pid.value_()
        if target == "task":
            out.write(f"{tgid} {pid}\n")
            n += 1
            continue
        # As the iterators: a thread that shares its leader's file table is skipped.
        leader = task.group_leader
        if task.value_() != leader.value_() and task.files.value_() == leader.files.value_():
            continue
        if target == "task_file":
            if not task.files:
                continue
            for fd, _ in for_each_file(task):
                out.write(f"{tgid} {pid} {fd}\n")
                n += 1
        else:
            if not task.mm:
                continue
            for vma in for_each_vma(task.mm):
                out.write(f"{tgid} {pid} {vma.vm_start.value_():x}-{vma.vm_end.value_():x}\n")
                n += 1
    return n


def main():
    t0 = time.perf_counter_ns()
    prog = drgn.Program()
    prog.set_kernel()
    prog.load_debug_info([sys.argv[1]])
    print(f"ready {(time.perf_counter_ns() - t0) / 1e9:.1f}", flush=True)
    for line in sys.stdin:
        target, path = line.split()
        with open(path, "w") as out:
            t = time.perf_counter_ns()
            n = walk(prog, target, out)
            out.flush()
            ns = time.perf_counter_ns() - t
        print(f"ns {ns} {n}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
