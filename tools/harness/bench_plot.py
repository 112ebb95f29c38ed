#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's plot: cost per object against the number of processes.

  bench_plot.py RESULTS_JSON OUT_PNG

One panel per target (task, task_file, task_vma): the C target and its Rust twin with an empty
program (instructions per object: QEMU icount ns), and the same objects walked through /proc
(benchload proc) for reference, on log-log axes.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGETS = (("task", "tasks", "/proc/*/task/*/status"),
           ("task_file", "open files", "readlink /proc/*/fd/*"),
           ("task_vma", "mappings", "/proc/*/maps"))


def main():
    res = json.load(open(sys.argv[1]))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    for ax, (t, objects, proc) in zip(axes, TARGETS):
        rows = sorted((x for x in res["scale"] if x["case"] == t), key=lambda x: x["procs"])
        n = [x["procs"] for x in rows]
        ax.plot(n, [x["c_ns_per_object"] for x in rows], "o-", label=f"C {t}")
        ax.plot(n, [x["rust_ns_per_object"] for x in rows], "s--", label=f"Rust rust_{t}")
        ax.plot(n, [x["proc_ns_per_object"] for x in rows], "^:", color="grey",
                label=f"/proc: {proc}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{t}: per {objects[:-1]}")
        ax.set_xlabel("processes (each with %d more files)" % res["scale_fds"])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("instructions per object (QEMU icount)")
    fig.suptitle("BPF iterators, empty program: C targets and Rust twins, against /proc")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    sys.exit(main())
