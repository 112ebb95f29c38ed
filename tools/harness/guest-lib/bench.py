#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench, inside the guest: the Rust twins against the C task targets, and /proc.

  bench.py OUT [--rounds N] [--procs N] [--fds N] [--scale N,N,...] [--scale-fds N]
           [--scale-rounds N] [--read-sizes B,B,...] [--tap [--extra N]] [--json FILE]

Timing: a read of a fresh iterator, from open to the end of the last read, on the guest's
monotonic clock; loading, verifying and attaching are not timed. With QEMU's
`-icount shift=0,sleep=off` (make bench) guest nanoseconds count instructions, so ratios are of
instructions executed. C and Rust are read interleaved (C, Rust, Rust, C; Rust, C, C, Rust on
odd rounds); the two C reads of a round give the noise floor (C/C).

Sections (all in one boot; results in OUT/results.json):
- twins: PROCS processes holding FDS more open files each (benchload spawn); an empty program
  (the walk's and the framework's own cost) and the selftests' printing programs on task,
  task_file and task_vma; the empty program with --pid and --tid of one process (the fixed
  costs); fixed binary records (bpf_seq_write) on task.
- scale: for each N of --scale, N processes with --scale-fds files: the empty program's cost
  per object, C and Rust, with the objects counted by a program that prints the last seq_num
  at the end; the kernel allocations (kmalloc, kmem_cache_alloc, page allocations: tracefs events
  of this process) during one read; and the same data walked through /proc.
- proc: the twins' workload walked through /proc as a tool would (benchload proc: readlink of
  /proc/*/fd/*, /proc/*/maps, /proc/*/task/*/status) against reading the printing programs'
  iterators; both must list the same workload objects.
- reads: task_file with the printing program, read with read() sizes of --read-sizes bytes.
- open: for each N of --scale, N processes: C's open-coded task iterator against rust_task
  (bpf_for_each over every thread, from a program of the task target pinned for this process
  alone), interleaved; the program without the walk gives the fixed cost, subtracted for the
  cost per task.

--only SECTION,... runs those sections alone (twins, proc, reads, scale, records, open).

Prints tables (or, with --tap, one TAP result per case: the smoke test of make check, which
checks that every case ran, each twin printed what its C target printed and /proc agrees, not
the numbers).
"""
import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

FS = "/sys/fs/bpf"
TRACING = "/sys/kernel/tracing"
TARGETS = ("task", "task_file", "task_vma")
# /proc data for the same objects as each target: benchload proc's walk.
PROC_WALK = {"task": "status", "task_file": "fd", "task_vma": "maps"}


def pin(bi, obj, path, *params):
    r = subprocess.run([bi, "pin", obj, path, *map(str, params)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"bpf-iter pin {os.path.basename(obj)}: {r.stderr.strip()[:200]}")


@contextlib.contextmanager
def pinned(bi, progs, objs, *params):
    """Pins each program of objs (name -> object file) as FS/bench_<name>; yields the paths."""
    paths = {}
    try:
        for name, obj in objs.items():
            paths[name] = f"{FS}/bench_{name}"
            pin(bi, f"{progs}/{obj}", paths[name], *params)
        yield paths
    finally:
        for p in paths.values():
            if os.path.exists(p):
                os.unlink(p)


def timed_read(path, size=1 << 20):
    """(guest ns from open to the end of the last read, output bytes)"""
    t0 = time.perf_counter_ns()
    fd = os.open(path, os.O_RDONLY)
    out = []
    while True:
        b = os.read(fd, size)
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


class Workload:
    """n processes holding fds more open files each (benchload spawn), until closed."""

    def __init__(self, benchload, n, fds):
        self.p = subprocess.Popen([benchload, "spawn", str(n), str(fds)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if self.p.stdout.readline() != b"ready\n":
            self.close()
            raise RuntimeError(f"benchload spawn {n} {fds} did not start")
        self.pids = [int(self.p.stdout.readline()) for _ in range(n)]

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def interleaved(c_path, r_path, rounds, size=1 << 20):
    """Times C and Rust reads interleaved; the statistics and the outputs seen."""
    c, rust, noise, ratios, outs = [], [], [], [], set()
    for r in range(rounds):
        t = {0: [], 1: []}
        for which in ((0, 1, 1, 0) if r % 2 == 0 else (1, 0, 0, 1)):
            ns, out = timed_read((c_path, r_path)[which], size)
            t[which].append(ns)
            outs.add((which, others(out)))
        c += t[0]
        rust += t[1]
        ratios.append(statistics.mean(t[1]) / statistics.mean(t[0]))
        noise.append(t[0][0] / t[0][1])
    c_out = {o for w, o in outs if w == 0}
    r_out = {o for w, o in outs if w == 1}
    return {
        "rounds": rounds,
        "c_median_ns": statistics.median(c), "rust_median_ns": statistics.median(rust),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios), "ratio_max": max(ratios),
        "noise_median": statistics.median(noise),
        "noise_min": min(noise), "noise_max": max(noise),
        "output_lines": max((o.count(b"\n") for o in c_out), default=0),
        "output_bytes": max((len(o) for o in c_out), default=0),
        # the workload does not change between reads: one output each, the same
        "same_output": len(c_out) == 1 and c_out == r_out,
    }


def count(path):
    """The objects a walk shows: the count program prints, at the end, the seq_num of the last
    object shown (they count from 0; the workload makes sure there is one)."""
    return int(timed_read(path)[1].split()[-1]) + 1


class Allocs:
    """Counts kernel allocations made by this process during a read: the kmem tracepoints
    kmalloc, kmem_cache_alloc and mm_page_alloc, filtered to this pid (tracefs)."""

    EVENTS = ("kmalloc", "kmem_cache_alloc", "mm_page_alloc")

    def __init__(self):
        if not os.path.exists(f"{TRACING}/trace"):
            subprocess.run(["mount", "-t", "tracefs", "tracefs", TRACING], check=True)
        self.w("tracing_on", "0")
        self.w("set_event_pid", str(os.getpid()))
        self.w("buffer_size_kb", "4096")
        for e in self.EVENTS:
            self.w(f"events/kmem/{e}/enable", "1")

    @staticmethod
    def w(name, value):
        with open(f"{TRACING}/{name}", "w") as f:
            f.write(value)

    def during_read(self, path):
        self.w("trace", "")
        self.w("tracing_on", "1")
        timed_read(path)
        self.w("tracing_on", "0")
        with open(f"{TRACING}/trace") as f:
            return sum(1 for line in f if not line.startswith("#"))

    def close(self):
        for e in self.EVENTS:
            self.w(f"events/kmem/{e}/enable", "0")
        self.w("set_event_pid", "")


def proc_walk(benchload, what):
    """(ns the /proc walk took by its own clock, its output lines)"""
    r = subprocess.run([benchload, "proc", what], capture_output=True, text=True, check=True)
    return int(r.stderr.split()[-1]), r.stdout.splitlines()


class Drgn:
    """drgn_walk.py, started once (loading the kernel's debug info takes long), then asked for
    walks; conf: a file naming drgn's Python and vmlinux, a line each (written by check.sh)."""

    def __init__(self, conf):
        python, vmlinux = open(conf).read().split("\n")[:2]
        # tmpfs: printing costs what it costs a tool, not 9p's writes to the host
        self.tmp = "/dev/shm/drgn-walk.txt"
        self.p = subprocess.Popen(
            [python, os.path.join(os.path.dirname(__file__), "drgn_walk.py"), vmlinux],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self.p.stdout.readline().split()
        if ready[:1] != ["ready"]:
            self.close()
            raise RuntimeError("drgn_walk.py did not start (see bench.err)")
        self.load_s = float(ready[1])

    def walk(self, target):
        """(guest ns of the walk, its output lines)"""
        self.p.stdin.write(f"{target} {self.tmp}\n")
        self.p.stdin.flush()
        ans = self.p.stdout.readline().split()
        if ans[:1] != ["ns"]:
            raise RuntimeError(f"drgn walk of {target} failed (see bench.err)")
        with open(self.tmp) as f:
            return int(ans[1]), f.read().splitlines()

    def close(self):
        self.p.stdin.close()
        self.p.wait()


@contextlib.contextmanager
def records_module(out):
    """rust_bpf_iter_records loaded (and unloaded after, if loaded here); yields its debugfs
    directory, emptied."""
    d = "/sys/kernel/debug/rust_bpf_iter_records"
    loaded = not os.path.exists(d)
    if loaded:
        subprocess.run(["insmod", f"{out}/modules/rust_bpf_iter_records.ko"], check=True)
    try:
        with open(f"{d}/clear", "w") as f:
            f.write("\n")
        yield d
    finally:
        with open(f"{d}/clear", "w") as f:
            f.write("\n")
        if loaded:
            subprocess.run(["rmmod", "rust_bpf_iter_records"], check=True)


def iter_keys(target, lines, pids):
    out = set()
    for line in lines:
        f = line.split()
        if len(f) < 2 or not f[0].isdigit() or int(f[0]) not in pids:
            continue
        out.add((int(f[0]), f[1] if target == "task" else f[2]))
    return out


# /proc/PID/maps ends with the vsyscall page ([vsyscall], get_gate_vma()), which is not one of
# the address space's mappings: task_vma does not show it.
GATE_VMA = "ffffffffff600000-ffffffffff601000"


def proc_keys(lines, pids):
    out = set()
    for line in lines:
        f = line.split()
        if len(f) >= 2 and f[0].isdigit() and int(f[0]) in pids and f[1] != GATE_VMA:
            out.add((int(f[0]), f[1]))
    return out


class Tap:
    def __init__(self, on, plan):
        self.on, self.n = on, 0
        if on:
            print("TAP version 13")
            print(f"1..{plan}", flush=True)

    def result(self, good, name, why=""):
        self.n += 1
        if self.on:
            print(f"{'ok' if good else 'not ok'} {self.n} - bench smoke: {name}"
                  f"{'' if good else ' # ' + why}".replace("\n", "|"), flush=True)

    def case(self, name, fn):
        """Runs fn() -> (good, text, why); a case that cannot run fails (or, without --tap,
        stops the run)."""
        try:
            good, text, why = fn()
            self.result(good, f"{name}: {text}", why)
        except Exception as e:
            if not self.on:
                raise
            self.result(False, name, str(e))


def twin_cases(kid):
    cases = []
    for t in TARGETS:
        cases.append((f"{t} empty", f"bench_empty_{t}.bpf.o", f"bench_empty_rust_{t}.bpf.o", ()))
    for t in TARGETS:
        cases.append((f"{t} printing", f"{t}.bpf.o", f"rust_{t}.bpf.o", ()))
    for t in ("task_file", "task_vma"):
        for p in ("pid", "tid"):
            cases.append((f"{t} empty --{p}", f"bench_empty_{t}.bpf.o",
                          f"bench_empty_rust_{t}.bpf.o", (f"--{p}", kid)))
    cases.append(("task binary records", "task_bin.bpf.o", "rust_task_bin.bpf.o", ()))
    return cases


def open_section(a, bi, progs, benchload, scale, stack, tap, res):
    """The open-coded task iterators, C and Rust, for each N of scale (see the docstring)."""
    objs = {"c": "bench_open_task.bpf.o", "rust": "bench_open_rust_task.bpf.o",
            "e": "bench_open_empty.bpf.o"}
    try:
        p = stack.enter_context(pinned(bi, progs, objs, "--tid", os.getpid()))
        err = None
    except Exception as e:
        p, err = None, str(e)
    for n in scale:
        def run(n=n):
            if p is None:
                raise RuntimeError(err)
            w = Workload(benchload, n, 0)
            try:
                tasks = {k: int(timed_read(p[k])[1].split()[-1]) for k in ("c", "rust")}
                it = interleaved(p["c"], p["rust"], a.scale_rounds)
                empty = statistics.median(timed_read(p["e"])[0]
                                          for _ in range(max(2, a.scale_rounds)))
                r = {"case": "open task", "procs": n, "tasks_c": tasks["c"],
                     "tasks_rust": tasks["rust"], "empty_median_ns": empty,
                     "c_ns_per_task": (it["c_median_ns"] - empty) / tasks["c"],
                     "rust_ns_per_task": (it["rust_median_ns"] - empty) / tasks["rust"],
                     **it}
                r["per_task_ratio"] = r["rust_ns_per_task"] / r["c_ns_per_task"]
                res["open"].append(r)
                good = min(tasks.values()) >= n and abs(tasks["c"] - tasks["rust"]) <= 2
                return (good, f"{tasks['c']} tasks, Rust/C {it['ratio_median']:.3f}, per "
                        f"task {r['per_task_ratio']:.3f}",
                        f"tasks seen: C {tasks['c']}, Rust {tasks['rust']}, {n} processes")
            finally:
                w.close()
        tap.case(f"open-coded task, {n} processes", run)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--procs", type=int, default=500)
    ap.add_argument("--fds", type=int, default=20)
    ap.add_argument("--scale", default="10,100,1000,10000")
    ap.add_argument("--scale-fds", type=int, default=4)
    ap.add_argument("--scale-rounds", type=int, default=5)
    ap.add_argument("--read-sizes", default="64,512,4096,65536")
    ap.add_argument("--records", default="10,100,1000,10000,100000,1000000")
    ap.add_argument("--drgn", help="drgn's Python and vmlinux, a line each: compare with drgn")
    ap.add_argument("--drgn-max", type=int, default=1000,
                    help="drgn in the scale series up to this many processes")
    ap.add_argument("--tap", action="store_true")
    ap.add_argument("--extra", type=int, default=0, help="with --tap: results the caller adds")
    ap.add_argument("--json", help="where to write the results (default OUT/results.json)")
    ap.add_argument("--only", default="twins,proc,reads,scale,records,open",
                    help="the sections to run")
    a = ap.parse_args()
    only = set(a.only.split(","))
    bi, progs = f"{a.out}/bin/bpf-iter", f"{a.out}/progs"
    benchload = f"{a.out}/bin/benchload"
    scale = [int(n) for n in a.scale.split(",") if n]
    sizes = [int(n) for n in a.read_sizes.split(",") if n]
    records = [int(n) for n in a.records.split(",") if n]
    n_twins = len(twin_cases(0))
    if not only & {"proc", "scale"}:
        a.drgn = None
    tap = Tap(a.tap, ("twins" in only) * n_twins + ("scale" in only) * len(scale) +
              ("proc" in only) * len(TARGETS) + ("reads" in only) * len(sizes) + bool(a.drgn) +
              ("records" in only and bool(records)) + ("open" in only) * len(scale) + a.extra)
    res = {"procs": a.procs, "fds": a.fds, "scale_fds": a.scale_fds,
           "twins": [], "scale": [], "proc": [], "reads": [], "records": [], "open": []}
    drgn = None
    if a.drgn:
        def run():
            nonlocal drgn
            drgn = Drgn(a.drgn)
            res["drgn_load_s"] = drgn.load_s
            return True, f"loaded in {drgn.load_s:.1f} s (guest time)", ""
        tap.case("drgn loads the running kernel", run)

    # twins, proc and reads: PROCS processes with FDS files
    work = Workload(benchload, a.procs, a.fds) if only & {"twins", "proc", "reads"} else None
    try:
        for name, c_obj, r_obj, params in twin_cases(work.pids[0]) if "twins" in only else ():
            def run(name=name, c_obj=c_obj, r_obj=r_obj, params=params):
                with pinned(bi, progs, {"c": c_obj, "rust": r_obj}, *params) as p:
                    r = {"case": name, "procs": a.procs, "fds": a.fds,
                         **interleaved(p["c"], p["rust"], a.rounds)}
                res["twins"].append(r)
                return (r["same_output"], f"Rust/C {r['ratio_median']:.3f}, C/C "
                        f"{r['noise_median']:.3f}", "the twin printed other output than C")
            tap.case(name, run)

        pids = set(work.pids) if work else set()
        for t in TARGETS if "proc" in only else ():
            def run(t=t):
                with pinned(bi, progs, {"c": f"{t}.bpf.o", "rust": f"rust_{t}.bpf.o"}) as p:
                    it = interleaved(p["c"], p["rust"], max(1, a.rounds // 3))
                    c_lines = timed_read(p["c"])[1].decode().splitlines()
                walks = [proc_walk(benchload, PROC_WALK[t]) for _ in range(max(1, a.rounds // 3))]
                want, got = iter_keys(t, c_lines, pids), proc_keys(walks[0][1], pids)
                r = {"case": t, "proc_walk": PROC_WALK[t], "objects": len(want),
                     "c_median_ns": it["c_median_ns"], "rust_median_ns": it["rust_median_ns"],
                     "proc_median_ns": statistics.median(w[0] for w in walks),
                     "same_objects": want == got and len(want) > 0}
                why = (f"iterator and /proc differ: {len(want - got)} only in the iterator, "
                       f"{len(got - want)} only in /proc")
                text = (f"/proc {PROC_WALK[t]}: {r['proc_median_ns'] / r['c_median_ns']:.1f}x "
                        f"the C iterator's time, {len(want)} workload objects")
                if drgn:
                    ns, lines = drgn.walk(t)
                    dgot = iter_keys(t, lines, pids)
                    r["drgn_ns"] = ns
                    r["drgn_same_objects"] = dgot == want
                    text += f"; drgn {ns / r['c_median_ns']:.1f}x"
                    if dgot != want:
                        why = (f"iterator and drgn differ: {len(want - dgot)} only in the "
                               f"iterator, {len(dgot - want)} only in drgn")
                res["proc"].append(r)
                return (r["same_objects"] and r.get("drgn_same_objects", True), text, why)
            tap.case(f"{t} against /proc", run)

        with pinned(bi, progs, {"c": "task_file.bpf.o", "rust": "rust_task_file.bpf.o"}
                    if "reads" in only else {}) as p:
            for size in sizes if "reads" in only else ():
                def run(size=size):
                    r = {"case": f"task_file printing, read({size})", "size": size,
                         **interleaved(p["c"], p["rust"], max(1, a.rounds // 3), size)}
                    res["reads"].append(r)
                    return (r["same_output"], f"Rust/C {r['ratio_median']:.3f}",
                            "the twin printed other output than C")
                tap.case(f"read({size})", run)
    finally:
        if work:
            work.close()

    # scale: per-object cost, allocations and /proc, from 10 to 10,000 processes
    objs = {}
    for t in TARGETS:
        objs.update({f"e_{t}": f"bench_empty_{t}.bpf.o", f"er_{t}": f"bench_empty_rust_{t}.bpf.o",
                     f"n_{t}": f"bench_count_{t}.bpf.o", f"nr_{t}": f"bench_count_rust_{t}.bpf.o"})
    allocs = None
    with contextlib.ExitStack() as stack:
        try:
            if "scale" in only:
                p = stack.enter_context(pinned(bi, progs, objs))
                allocs = Allocs()
                stack.callback(allocs.close)
        except Exception as e:
            p, err = None, str(e)
        for n in scale if "scale" in only else ():
            if drgn and n > a.drgn_max:
                # its memory is better left to the processes
                drgn.close()
                drgn = None

            def run(n=n):
                if p is None:
                    raise RuntimeError(err)
                w = Workload(benchload, n, a.scale_fds)
                try:
                    texts, good = [], True
                    for t in TARGETS:
                        oc, orust = count(p[f"n_{t}"]), count(p[f"nr_{t}"])
                        it = interleaved(p[f"e_{t}"], p[f"er_{t}"], a.scale_rounds)
                        pns, plines = proc_walk(benchload, PROC_WALK[t])
                        if drgn and n <= a.drgn_max:
                            dns, dlines = drgn.walk(t)
                            it["drgn_ns_per_object"] = dns / max(1, len(dlines))
                        r = {"case": t, "procs": n, "objects_c": oc, "objects_rust": orust,
                             "c_ns_per_object": it["c_median_ns"] / oc,
                             "rust_ns_per_object": it["rust_median_ns"] / orust,
                             "proc_ns_per_object": pns / max(1, len(plines)),
                             "allocs_c": allocs.during_read(p[f"e_{t}"]),
                             "allocs_rust": allocs.during_read(p[f"er_{t}"]), **it}
                        res["scale"].append(r)
                        # both walks saw the workload (every process, and its files/mappings)
                        good &= min(oc, orust) >= n
                        texts.append(f"{t} {oc} objects, Rust/C {it['ratio_median']:.3f}")
                    return good, "; ".join(texts), "a walk saw fewer objects than processes"
                finally:
                    w.close()
            tap.case(f"{n} processes", run)

    # records: the Rust-only rust_records target, 10 to 1,000,000 records
    def run_records():
        objs = {"e": "bench_empty_rust_records.bpf.o", "n": "bench_count_rust_records.bpf.o"}
        with records_module(a.out) as d, pinned(bi, progs, objs) as p:
            have = 0
            fd = os.open(f"{d}/add", os.O_WRONLY)
            try:
                for n in records:
                    for i in range(have, n):
                        os.write(fd, b"r %d" % i)
                    have = n
                    got = count(p["n"])
                    if got != n:
                        return False, "", f"{got} records walked, {n} added"
                    ns = statistics.median(timed_read(p["e"])[0]
                                           for _ in range(max(1, a.scale_rounds)))
                    res["records"].append({"records": n, "median_ns": ns,
                                           "ns_per_record": ns / n})
            finally:
                os.close(fd)
        return True, ", ".join(f"{r['records']}: {r['ns_per_record']:.0f}"
                               for r in res["records"]) + " per record", ""
    if records and "records" in only:
        tap.case("rust_records from 10 to %d records" % records[-1], run_records)

    # open: the open-coded task iterators, C and Rust, from 10 to 10,000 processes
    if "open" in only:
        with contextlib.ExitStack() as stack:
            open_section(a, bi, progs, benchload, scale, stack, tap, res)

    if drgn:
        drgn.close()
    with open(a.json or f"{a.out}/results.json", "w") as f:
        json.dump(res, f, indent=1)
    if not a.tap:
        report(res)


def report(res):
    print(f"twins: {res['procs']} processes x {res['fds']} files; instructions (icount ns), "
          "medians")
    for r in res["twins"]:
        print(f"  {r['case']:<22} C {r['c_median_ns']:>13,.0f}  Rust {r['rust_median_ns']:>13,.0f}"
              f"  Rust/C {r['ratio_median']:.3f} [{r['ratio_min']:.3f}, {r['ratio_max']:.3f}]"
              f"  C/C {r['noise_median']:.3f}")
    print(f"scale: N processes x {res['scale_fds']} files; per object; allocations in one read")
    for r in res["scale"]:
        print(f"  {r['case']:<10} N {r['procs']:>6} objects {r['objects_c']:>7}  C "
              f"{r['c_ns_per_object']:>7.1f}  Rust {r['rust_ns_per_object']:>7.1f}  Rust/C "
              f"{r['ratio_median']:.3f}  /proc {r['proc_ns_per_object']:>9.1f}  allocs C "
              f"{r['allocs_c']} Rust {r['allocs_rust']}"
              + (f"  drgn {r['drgn_ns_per_object']:.0f}" if "drgn_ns_per_object" in r else ""))
    print("proc: the same objects through /proc (benchload proc) and the printing iterators")
    for r in res["proc"]:
        print(f"  {r['case']:<10} {r['proc_walk']:<7} objects {r['objects']:>6}  C "
              f"{r['c_median_ns']:>13,.0f}  Rust {r['rust_median_ns']:>13,.0f}  /proc "
              f"{r['proc_median_ns']:>14,.0f}  /proc/C {r['proc_median_ns'] / r['c_median_ns']:.1f}"
              f"  same objects: {r['same_objects']}"
              + (f"  drgn {r['drgn_ns']:,.0f} ({r['drgn_ns'] / r['c_median_ns']:.1f}x C), same "
                 f"objects: {r['drgn_same_objects']}" if "drgn_ns" in r else ""))
    print("records: rust_records, empty program, per record")
    for r in res["records"]:
        print(f"  {r['records']:>8} records  {r['median_ns']:>15,.0f}  per record "
              f"{r['ns_per_record']:.1f}")
    if "drgn_load_s" in res:
        print(f"drgn: loading the kernel's debug info took {res['drgn_load_s']:.1f} s")
    print("open: C's open-coded task iterator and rust_task over every thread; instructions "
          "(icount ns), medians")
    for r in res["open"]:
        print(f"  N {r['procs']:>6} tasks {r['tasks_c']:>6}  C {r['c_median_ns']:>13,.0f}  Rust "
              f"{r['rust_median_ns']:>13,.0f}  Rust/C {r['ratio_median']:.3f}  C/C "
              f"{r['noise_median']:.3f}  per task C {r['c_ns_per_task']:.1f} Rust "
              f"{r['rust_ns_per_task']:.1f} ({r['per_task_ratio']:.3f})")
    print("reads: task_file, printing program, by read() size")
    for r in res["reads"]:
        print(f"  read({r['size']:>6})  C {r['c_median_ns']:>13,.0f}  Rust "
              f"{r['rust_median_ns']:>13,.0f}  Rust/C {r['ratio_median']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
