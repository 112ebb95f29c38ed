#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's plot: cost per object against the number of processes.

  bench_plot.py RESULTS_JSON OUT_PNG

Also writes the README's tables, in Markdown, next to OUT_PNG (OUT.md).

One panel per target (task, task_file, task_vma): the C target and its Rust twin with an empty
program (instructions per object: QEMU icount ns), and the same objects walked through /proc
(benchload proc) and drgn for reference; rust_records by its number of records; and the
open-coded task iterators, C's and rust_task, per task. Log-log axes. A section that did not
run (bench.py --only) leaves its panel empty.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGETS = (("task", "tasks", "/proc/*/task/*/status"),
           ("task_file", "open files", "readlink /proc/*/fd/*"),
           ("task_vma", "mappings", "/proc/*/maps"))


def markdown(res):
    """The README's tables."""
    out = ["| case | lines printed | C | Rust | Rust/C (range) | C/C |",
           "| --- | --- | --- | --- | --- | --- |"]
    for r in res["twins"]:
        out.append(f"| {r['case']} | {r['output_lines'] or '-'} | {r['c_median_ns']:,.0f} | "
                   f"{r['rust_median_ns']:,.0f} | {r['ratio_median']:.3f} ({r['ratio_min']:.3f}-"
                   f"{r['ratio_max']:.3f}) | {r['noise_median']:.3f} |")
    out += ["", "| target | processes | objects | C per object | Rust per object | Rust/C | "
            "/proc per object | drgn per object | allocations in a read, C / Rust |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in res["scale"]:
        d = f"{r['drgn_ns_per_object']:,.0f}" if "drgn_ns_per_object" in r else "-"
        out.append(f"| {r['case']} | {r['procs']:,} | {r['objects_c']:,} | "
                   f"{r['c_ns_per_object']:.1f} | {r['rust_ns_per_object']:.1f} | "
                   f"{r['ratio_median']:.3f} | {r['proc_ns_per_object']:,.0f} | {d} | "
                   f"{r['allocs_c']} / {r['allocs_rust']} |")
    out += ["", "| target | /proc walk | workload objects | C iterator | Rust iterator | /proc | "
            "/proc / C | drgn | drgn / C | same objects |", "| --- | --- | --- | --- | --- | --- "
            "| --- | --- | --- | --- |"]
    for r in res["proc"]:
        d = (f"{r['drgn_ns']:,.0f} | {r['drgn_ns'] / r['c_median_ns']:.1f}"
             if "drgn_ns" in r else "- | -")
        same = r["same_objects"] and r.get("drgn_same_objects", True)
        out.append(f"| {r['case']} | {r['proc_walk']} | {r['objects']:,} | "
                   f"{r['c_median_ns']:,.0f} | {r['rust_median_ns']:,.0f} | "
                   f"{r['proc_median_ns']:,.0f} | {r['proc_median_ns'] / r['c_median_ns']:.1f} | "
                   f"{d} | {'yes' if same else 'NO'} |")
    out += ["", "| read() size | C | Rust | Rust/C |", "| --- | --- | --- | --- |"]
    for r in res["reads"]:
        out.append(f"| {r['size']:,} B | {r['c_median_ns']:,.0f} | {r['rust_median_ns']:,.0f} | "
                   f"{r['ratio_median']:.3f} |")
    out += ["", "| processes | tasks | C walk | Rust walk | Rust/C | C/C | C per task | "
            "Rust per task | per task Rust/C |", "| --- | --- | --- | --- | --- | --- | --- | --- "
            "| --- |"]
    for r in res.get("open", []):
        out.append(f"| {r['procs']:,} | {r['tasks_c']:,} | {r['c_median_ns']:,.0f} | "
                   f"{r['rust_median_ns']:,.0f} | {r['ratio_median']:.3f} | "
                   f"{r['noise_median']:.3f} | {r['c_ns_per_task']:.1f} | "
                   f"{r['rust_ns_per_task']:.1f} | {r['per_task_ratio']:.3f} |")
    out += ["", "| records | walk | per record |", "| --- | --- | --- |"]
    for r in res["records"]:
        out.append(f"| {r['records']:,} | {r['median_ns']:,.0f} | {r['ns_per_record']:.1f} |")
    return "\n".join(out) + "\n"


def main():
    res = json.load(open(sys.argv[1]))
    with open(sys.argv[2].rsplit(".", 1)[0] + ".md", "w") as f:
        f.write(markdown(res))
    fig, axes = plt.subplots(1, 5, figsize=(21, 4.4), sharey=True)
    for ax, (t, objects, proc) in zip(axes, TARGETS):
        rows = sorted((x for x in res["scale"] if x["case"] == t), key=lambda x: x["procs"])
        n = [x["procs"] for x in rows]
        ax.plot(n, [x["c_ns_per_object"] for x in rows], "o-", label=f"C {t}")
        ax.plot(n, [x["rust_ns_per_object"] for x in rows], "s--", label=f"Rust rust_{t}")
        ax.plot(n, [x["proc_ns_per_object"] for x in rows], "^:", color="grey",
                label=f"/proc: {proc}")
        d = [x for x in rows if "drgn_ns_per_object" in x]
        if d:
            ax.plot([x["procs"] for x in d], [x["drgn_ns_per_object"] for x in d], "v:",
                    color="purple", label="drgn (/proc/kcore)")
        ax.set_xscale("log")
        ax.set_title(f"{t}: per {objects[:-1]}")
        ax.set_xlabel("processes (each with %d more files)" % res["scale_fds"])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    rec = res.get("records", [])
    ax = axes[3]
    ax.plot([x["records"] for x in rec], [x["ns_per_record"] for x in rec], "s--",
            color="tab:orange", label="Rust rust_records")
    ax.set_xscale("log")
    ax.set_title("rust_records: per record")
    ax.set_xlabel("records (a red-black tree, one lookup each)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    rows = sorted(res.get("open", []), key=lambda x: x["procs"])
    ax = axes[4]
    ax.plot([x["procs"] for x in rows], [x["c_ns_per_task"] for x in rows], "o-",
            label="C bpf_iter_task")
    ax.plot([x["procs"] for x in rows], [x["rust_ns_per_task"] for x in rows], "s--",
            label="Rust bpf_iter_rust_task")
    ax.set_xscale("log")
    ax.set_title("open-coded task (bpf_for_each): per task")
    ax.set_xlabel("processes (every thread walked)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    # Log scale once all panels are drawn (with sharey, one with data is enough).
    axes[0].set_yscale("log")
    axes[0].set_ylabel("instructions per object (QEMU icount)")
    fig.suptitle("BPF iterators, empty program: C targets and Rust twins, against /proc and drgn")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    sys.exit(main())
