#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench, inside the guest: the Rust twins against the C task targets, read interleaved.

  bench.py OUT [--rounds N] [--procs N] [--fds N] [--tap [--extra N]] [--json FILE]

Spawns PROCS processes holding FDS open files each, pins each case's programs (C target and
Rust twin) with bpf-iter, then for every round reads a fresh iterator of each, in the order C,
Rust, Rust, C (Rust, C, C, Rust on odd rounds), timing open-to-last-read with the guest's
monotonic clock; loading, verifying and attaching are not timed. With QEMU's
`-icount shift=0,sleep=off` (make bench) guest nanoseconds count instructions, so the ratios
are of instructions executed; the two C reads of a round give the noise floor (C/C).

Cases: an empty program (the walk's and the framework's own cost) and the selftests' printing
programs (tools/bpf-iter/progs), on task, task_file and task_vma, without parameters; the empty
program on task_file and task_vma with --pid and --tid of one workload process (the fixed
costs); fixed binary records written with bpf_seq_write (task_bin.bpf.c) on task.
Writes OUT/results.json; prints a table (or, with --tap, one TAP result per case: the smoke test
of make check, which checks that every case ran and the twins' outputs match, not the ratios).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

FS = "/sys/fs/bpf"
TARGETS = ("task", "task_file", "task_vma")


def pin(bi, obj, path, *params):
    r = subprocess.run([bi, "pin", obj, path, *map(str, params)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"bpf-iter pin {os.path.basename(obj)}: {r.stderr.strip()[:200]}")


def timed_read(path):
    """(guest ns from open to the end of the last read, output bytes)"""
    t0 = time.perf_counter_ns()
    fd = os.open(path, os.O_RDONLY)
    out = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            break
        out.append(b)
    os.close(fd)
    return time.perf_counter_ns() - t0, b"".join(out)


def others(out):
    """Output without the lines of this process (its own files and mappings change as it
    reads: the iterator's fd, read buffers)."""
    me = str(os.getpid()).encode()
    return b"\n".join(l for l in out.split(b"\n") if l.split()[:1] != [me])


def workload(procs, fds):
    """procs children, each holding fds open files, until the returned pipe fd is closed."""
    r, w = os.pipe()
    kids = []
    for _ in range(procs):
        pid = os.fork()
        if pid == 0:
            os.close(w)
            for _ in range(fds):
                os.open("/dev/null", os.O_RDONLY)
            os.read(r, 1)
            os._exit(0)
        kids.append(pid)
    os.close(r)
    return w, kids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--procs", type=int, default=500)
    ap.add_argument("--fds", type=int, default=20)
    ap.add_argument("--tap", action="store_true")
    ap.add_argument("--extra", type=int, default=0, help="with --tap: results the caller adds")
    ap.add_argument("--json", help="where to write the results (default OUT/results.json)")
    a = ap.parse_args()
    bi, progs = f"{a.out}/bin/bpf-iter", f"{a.out}/progs"
    w, kids = workload(a.procs, a.fds)
    # (name, C program, Rust program, link parameters)
    cases = []
    for t in TARGETS:
        cases.append((f"{t} empty", f"bench_empty_{t}.bpf.o", f"bench_empty_rust_{t}.bpf.o", ()))
    for t in TARGETS:
        cases.append((f"{t} printing", f"{t}.bpf.o", f"rust_{t}.bpf.o", ()))
    # one process (a workload child: FDS files) and one thread: the fixed costs of a walk
    for t in ("task_file", "task_vma"):
        for p in ("pid", "tid"):
            cases.append((f"{t} empty --{p}", f"bench_empty_{t}.bpf.o",
                          f"bench_empty_rust_{t}.bpf.o", (f"--{p}", kids[0])))
    cases.append(("task binary records", "task_bin.bpf.o", "rust_task_bin.bpf.o", ()))
    if a.tap:
        print("TAP version 13")
        print(f"1..{len(cases) + a.extra}")
    results = []
    try:
        for n, (name, c_obj, r_obj, params) in enumerate(cases, 1):
            pins = (f"{FS}/bench_c", f"{FS}/bench_rust")
            try:
                pin(bi, f"{progs}/{c_obj}", pins[0], *params)
                pin(bi, f"{progs}/{r_obj}", pins[1], *params)
                c, rust, noise, ratios = [], [], [], []
                outs = set()
                for r in range(a.rounds):
                    order = (0, 1, 1, 0) if r % 2 == 0 else (1, 0, 0, 1)
                    t = {0: [], 1: []}
                    for which in order:
                        ns, out = timed_read(pins[which])
                        t[which].append(ns)
                        outs.add((which, others(out)))
                    c += t[0]
                    rust += t[1]
                    ratios.append(statistics.mean(t[1]) / statistics.mean(t[0]))
                    noise.append(t[0][0] / t[0][1])
                c_out = {o for w_, o in outs if w_ == 0}
                r_out = {o for w_, o in outs if w_ == 1}
                lines = max((o.count(b"\n") for o in c_out), default=0)
                res = {
                    "case": name, "rounds": a.rounds, "procs": a.procs, "fds": a.fds,
                    "c_median_ns": statistics.median(c),
                    "rust_median_ns": statistics.median(rust),
                    "ratio_median": statistics.median(ratios),
                    "ratio_min": min(ratios), "ratio_max": max(ratios),
                    "noise_median": statistics.median(noise),
                    "noise_min": min(noise), "noise_max": max(noise),
                    "output_lines": lines,
                    "output_bytes": max((len(o) for o in c_out), default=0),
                    # the workload does not change between reads: one output each, the same
                    "same_output": len(c_out) == 1 and c_out == r_out,
                }
                results.append(res)
                if a.tap:
                    good = res["same_output"]
                    print(f"{'ok' if good else 'not ok'} {n} - bench smoke: {name}: "
                          f"Rust/C {res['ratio_median']:.3f}, C/C {res['noise_median']:.3f}"
                          f"{'' if good else ' # the twin printed other output than C'}",
                          flush=True)
            except Exception as e:  # a case that could not run fails
                if a.tap:
                    print(f"not ok {n} - bench smoke: {name} # {e}".replace("\n", "|"),
                          flush=True)
                else:
                    raise
            finally:
                for p in pins:
                    if os.path.exists(p):
                        os.unlink(p)
    finally:
        os.close(w)
        for k in kids:
            os.waitpid(k, 0)
    with open(a.json or f"{a.out}/results.json", "w") as f:
        json.dump(results, f, indent=1)
    if not a.tap:
        for r in results:
            print(f"{r['case']:<20} C {r['c_median_ns']:>14,.0f} ns  Rust "
                  f"{r['rust_median_ns']:>14,.0f} ns  Rust/C {r['ratio_median']:.3f} "
                  f"[{r['ratio_min']:.3f}, {r['ratio_max']:.3f}]  C/C {r['noise_median']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
