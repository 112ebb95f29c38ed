#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What the task twins cost to write, against the C they mirror: `unsafe` in their Rust (and in
all the samples), and code lines (no blank or comment lines) of all their files against those of the C targets
`task`, `task_file` and `task_vma` in the kernel's kernel/bpf/task_iter.c (the file up to
`bpf_find_vma`, where the open-coded iterators and helpers begin, and its initcall).

  sample_counts.py ROOT KSRC     TAP on stdout; the counts of every sample as comments
"""

import glob
import os
import re
import sys

RATIO = 0.8
# `unsafe` allowed in all the samples together, each where nothing safe exists yet.
MAX_UNSAFE_ALL = 2


def strip_comments(text, path):
    """The text without comments (C and Rust: // and /* */; Makefiles: #), line count kept."""
    keep_lines = lambda m: "\n" * m.group(0).count("\n")
    if path.endswith(("Makefile", "Kbuild")):
        return re.sub(r"#[^\n]*", "", text)
    # Strings may hold comment markers; the files counted here have none that matter.
    text = re.sub(r"/\*.*?\*/", keep_lines, text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def code_lines(text, path):
    return sum(1 for l in strip_comments(text, path).split("\n") if l.strip())


def unsafe_count(text, path):
    return len(re.findall(r"\bunsafe\b", strip_comments(text, path)))


def c_targets(ksrc):
    """The part of task_iter.c that implements the three targets."""
    with open(os.path.join(ksrc, "kernel/bpf/task_iter.c")) as f:
        text = f.read()
    end = text.index("BPF_CALL_5(bpf_find_vma")
    init = text.index("static int __init task_iter_init(void)")
    init_end = text.index("late_initcall(task_iter_init);", init)
    return text[:end] + "\n" + text[init:init_end] + "late_initcall(task_iter_init);\n"


def main():
    root, ksrc = sys.argv[1], sys.argv[2]
    twins = sorted(glob.glob(os.path.join(root, "samples/rust/bpf_iter_task/*")))
    lines, unsafe = 0, 0
    for p in twins:
        with open(p) as f:
            t = f.read()
        lines += code_lines(t, p)
        if p.endswith(".rs"):
            unsafe += unsafe_count(t, p)
    c = code_lines(c_targets(ksrc), "task_iter.c")
    print("TAP version 13")
    print("1..3")
    all_unsafe = 0
    for p in sorted(glob.glob(os.path.join(root, "samples/rust/*/*.rs"))):
        with open(p) as f:
            t = f.read()
        all_unsafe += unsafe_count(t, p)
        print(f"# {os.path.relpath(p, root)}: {unsafe_count(t, p)} unsafe, "
              f"{code_lines(t, p)} code lines")
    c_files = sorted(glob.glob(os.path.join(root, "samples/rust/*/*.[ch]")))
    print(f"# C files in the samples: {len(c_files)}")
    print(f"# the twins: {lines} code lines in {len(twins)} files; C's task_iter.c targets: {c}"
          f" ({lines / c:.2f}x)")
    res = [(unsafe == 0, f"the task twins have no unsafe ({unsafe})"),
           (lines <= RATIO * c, f"the task twins are at most {RATIO}x the C they mirror in code "
            f"lines ({lines} <= {int(RATIO * c)}, C {c})"),
           (all_unsafe <= MAX_UNSAFE_ALL,
            f"at most {MAX_UNSAFE_ALL} unsafe in all the samples ({all_unsafe})")]
    for n, (ok, name) in enumerate(res, 1):
        print(f"{'ok' if ok else 'not ok'} {n} - {name}")
    return 0 if all(r[0] for r in res) else 1


if __name__ == "__main__":
    sys.exit(main())
