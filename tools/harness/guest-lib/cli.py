#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bpf-iter, the command line tool, run as a user runs it: every subcommand, its exit status
(0 done, 1 failed, 2 usage), its stderr for bad input, its JSON parsed back.

  cli.py OUT [EXTRA]    TAP on stdout (the plan counts EXTRA more results the caller prints)

OUT/bin/bpf-iter, OUT/bin/bpftool and OUT/progs are the build's; the wrapper
(guest.d/25-cli.sh) loads rust_bpf_iter_task (the twins), rust_bpf_iter_params (Rust targets
taking a map and a cgroup) and rust_bpf_iter_primes (the guide's example, a parameter of its own)
and unloads them afterwards.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

from bpfsys import FS, anchor, free_pid, settled, state
from cases import need, nothing_left, run_cases

OUT = sys.argv[1]
EXTRA = int(sys.argv[2]) if len(sys.argv) > 2 else 0
BI = f"{OUT}/bin/bpf-iter"
BPFTOOL = f"{OUT}/bin/bpftool"
P = f"{OUT}/progs"
ME = os.getpid()
NOBODY = 65534
# On the debug kernel (guest.sh sets RBI_KERNEL=debug) only the cases that reach kernel code no
# other suite reaches run: the @userspace ones test bpf-iter's own logic (arguments, messages,
# JSON, checks made before any syscall), and the kernel calls they make are the other cases'.
DEBUG = os.environ.get("RBI_KERNEL") == "debug"
USERSPACE = set()


def userspace(f):
    USERSPACE.add(f)
    return f


def cli(*args, stdout=subprocess.PIPE, user=None, bi=BI):
    """Runs bpf-iter ARGS (as uid `user`, without capabilities, if given):
    (exit status, stdout, stderr)."""
    cmd = [bi, *map(str, args)]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
               "--inh-caps=-all", *cmd]
    r = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, timeout=600)
    out = r.stdout.decode(errors="replace") if r.stdout is not None else ""
    return r.returncode, out, r.stderr.decode(errors="replace")


def ok_run(*args):
    rc, out, err = cli(*args)
    need(rc == 0 and not err, f"exit {rc}, stderr {err.strip()[:200]!r}")
    return out


def fails(want_rc, *args, err_has=(), user=None):
    """bpf-iter ARGS must exit want_rc, print nothing on stdout, and say err_has on stderr."""
    rc, out, err = cli(*args, user=user)
    need(rc == want_rc, f"exit {rc}, want {want_rc}; stderr {err.strip()[:200]!r}")
    need(not out, f"stdout {out[:100]!r}")
    for s in err_has:
        need(s in err, f"stderr {err.strip()[:300]!r} does not say {s!r}")
    return err


def rows(out):
    """(tgid, pid) rows of task.bpf.o's output, after its header."""
    lines = out.splitlines()
    need(lines and lines[0].split() == ["tgid", "pid"], f"no header: {out[:80]!r}")
    return [tuple(map(int, l.split())) for l in lines[1:]]


def threads_of(pid):
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def json_out(*args):
    return json.loads(ok_run(*args))


def shown(obj, pin, *params):
    """Pins obj's link at pin with params, returns `bpf-iter -j show` of it, unpins it."""
    ok_run("pin", obj, pin, *params)
    try:
        return json_out("-j", "show", pin)
    finally:
        ok_run("unpin", pin)


# --- the cases ------------------------------------------------------------------------------

def usage_cases():
    @userspace
    def version():
        out = ok_run("--version")
        need(re.fullmatch(r"bpf-iter \d+\.\d+\.\d+\n", out), f"{out!r}")

    @userspace
    def no_args():
        fails(2, err_has=("Usage: bpf-iter",))

    @userspace
    def pin_no_path():
        fails(2, "pin", f"{P}/task.bpf.o", err_has=("<PATH>",))

    @userspace
    def conflict():
        fails(2, "run", f"{P}/task.bpf.o", "--pid", ME, "--map-id", 1,
              err_has=("cannot be used with",))

    return [("--version: exit 0, name and version", version),
            ("no arguments: usage on stderr, exit 2", no_args),
            ("pin without PATH: exit 2, the missing argument named", pin_no_path),
            ("--pid with --map-id: exit 2, the conflict named", conflict)]


def list_cases():
    @userspace
    def text():
        out = ok_run("list")
        table = [l.split() for l in out.splitlines()]
        need(["task", "vmlinux", "params", "task"] in table, "no `task vmlinux params task`")
        need(["bpf_map_elem", "vmlinux", "params", "map"] in table, "no bpf_map_elem map line")
        # Rust targets: the kind their `Target::Params` declares in BTF, in a module or built in.
        need(["rust_task", "rust_bpf_iter_task", "params", "task"] in table,
             "no `rust_task rust_bpf_iter_task params task`")
        need(["rust_map_info", "rust_bpf_iter_params", "params", "map"] in table,
             "no `rust_map_info rust_bpf_iter_params params map`")
        need(["rust_primes", "rust_bpf_iter_primes", "params", "custom", "(__u32)"] in table,
             "no `rust_primes rust_bpf_iter_primes params custom (__u32)`")
        need(["rust_sample_builtin", "vmlinux", "params", "none"] in table,
             "no `rust_sample_builtin vmlinux params none`")
        # The open-coded iterators, after a heading: the primes module's and vmlinux' num.
        need(["open-coded", "iterators:"] in table, "no open-coded iterators heading")
        need(["rust_primes", "rust_bpf_iter_primes", "state", "40", "B", "new(__u32", "n)",
              "next", "->", "__u64", "*"] in table, "no rust_primes open-coded iterator line")
        need(any(r[:2] == ["num", "vmlinux"] and "new(int" in r for r in table),
             "no num open-coded iterator of vmlinux")

    @userspace
    def as_json():
        compact = ok_run("-j", "list")
        pretty = ok_run("list", "--pretty")
        need(compact.count("\n") == 1, "-j is not one line")
        need(pretty.count("\n") > 10, "-p is not pretty")
        v = json.loads(compact)
        need(v == json.loads(pretty), "-j and -p differ")
        task = [e for e in v["targets"] if e["target"] == "task"]
        need(len(task) == 1 and task[0]["source"] == "vmlinux" and task[0]["params"] == "task"
             and task[0]["btf_id"] > 0, f"task entry {task}")
        target = [e for e in v["targets"] if e["target"] == "rust_primes"]
        need(len(target) == 1 and target[0]["params"] == "custom"
             and target[0]["param_type"] == "__u32", f"rust_primes entry {target}")
        need(all("param_type" not in e for e in v["targets"] if e["params"] != "custom"),
             "param_type beside a kind that is not custom")
        primes = [e for e in v["open_iters"] if e["name"] == "rust_primes"]
        need(primes == [{"name": "rust_primes", "source": "rust_bpf_iter_primes",
                         "state_size": 40, "new_args": [{"type": "__u32", "name": "n"}],
                         "next_returns": "__u64 *"}], f"rust_primes open iterator {primes}")

    return [("list: targets, source and parameters (vmlinux's table; Rust targets' declared "
             "kind, built in and in modules), then open-coded iterators", text),
            ("-j list / -p list: the same JSON, compact and pretty (targets, open_iters)",
             as_json)]


def run_command_cases():
    task_o, task_file_o = f"{P}/task.bpf.o", f"{P}/task_file.bpf.o"
    thread = {}
    stop = threading.Event()

    def start_thread():
        ready = threading.Event()

        def body():
            thread["tid"] = threading.get_native_id()
            ready.set()
            stop.wait()
        threading.Thread(target=body, daemon=True).start()
        ready.wait()
        return thread["tid"]

    def all_tasks():
        r = rows(ok_run("run", task_o))
        need((ME, ME) in r, f"({ME}, {ME}) not among {len(r)} rows")
        need(len(r) > 10, f"{len(r)} tasks")

    def pid_self():
        tid = start_thread()
        r = rows(ok_run("run", task_o, "--pid", ME))
        need(sorted(p for _, p in r) == threads_of(ME) and tid in threads_of(ME),
             f"{r} vs /proc: {threads_of(ME)}")
        need(all(t == ME for t, _ in r), f"{r}")

    def tid_thread():
        r = rows(ok_run("run", task_o, "--tid", thread["tid"]))
        need(r == [(ME, thread["tid"])], f"{r}")

    @userspace
    def pid_of_thread():
        fails(1, "run", task_o, "--pid", thread["tid"], err_has=("not a process", "--tid"))

    @userspace
    def no_such_pid():
        pid = free_pid()
        fails(1, "run", task_o, "--pid", pid, err_has=(f"--pid {pid}: no such process",))

    @userspace
    def map_id_on_task():
        fails(1, "run", task_o, "--map-id", 1, err_has=("target `task` takes task parameters",))

    @userspace
    def tid_on_map_elem():
        fails(1, "run", f"{P}/map_elem.bpf.o", "--tid", ME,
              err_has=("target `bpf_map_elem` takes a map",))

    @userspace
    def rust_target_refuses():
        # rust_sample_builtin takes no parameters, as its BTF says: refused before the kernel
        # would (guest-lib/bad_input.py has the kernel's EINVAL).
        fails(1, "run", f"{P}/rust_sample_builtin.bpf.o", "--tid", ME,
              err_has=("target `rust_sample_builtin` takes no parameters",))

    def twin():
        c = ok_run("run", task_o, "--pid", ME)
        r = ok_run("run", f"{P}/rust_task.bpf.o", "--pid", ME)
        need(c == r, f"task {c!r} vs rust_task {r!r}")

    @userspace
    def run_json():
        v = json_out("-j", "run", task_o, "--pid", ME)
        need(v["target"] == "task" and v["source"] == "vmlinux" and v["prog"] == "dump_task",
             f"{v}")
        need(v["link"]["params"] == {"pid": ME} and v["link"]["id"] > 0, f"{v['link']}")
        need(all(t == ME for t, _ in rows(v["output"])), v["output"])

    @userspace
    def closed_pipe():
        r, w = os.pipe()
        os.close(r)
        try:
            p = subprocess.run([BI, "run", task_file_o], stdout=w, stderr=subprocess.PIPE,
                               timeout=600)
        finally:
            os.close(w)
        need(p.returncode == 0 and not p.stderr, f"exit {p.returncode}, {p.stderr[:200]!r}")

    @userspace
    def no_such_prog():
        fails(1, "run", task_o, "--prog", "nosuch", err_has=("no iterator program `nosuch`",))

    @userspace
    def no_such_module():
        fails(1, "run", task_o, "--module", "no_such_module",
              err_has=("no BTF for module `no_such_module`",))

    @userspace
    def unprivileged():
        # copies that nobody may run and read (the clone may be under a 0700 directory)
        d = tempfile.mkdtemp()
        try:
            os.chmod(d, 0o755)
            for f in (BI, task_o):
                shutil.copy(f, d)
            rc, out, err = cli("run", f"{d}/task.bpf.o", user=NOBODY, bi=f"{d}/bpf-iter")
        finally:
            shutil.rmtree(d)
        need(rc == 1 and not out, f"exit {rc}, stdout {out[:100]!r}")
        for s in ("Operation not permitted", "hint:", "CAP_BPF"):
            need(s in err, f"stderr {err.strip()[:300]!r} does not say {s!r}")

    cases = [("run: every task, this process among them", all_tasks),
             ("run --pid: this process's threads, as /proc lists them (pidfd)", pid_self),
             ("run --tid: one thread", tid_thread),
             ("run --pid of a thread that leads no process: exit 1, says so", pid_of_thread),
             ("run --pid of no process: exit 1, no such process", no_such_pid),
             ("run --map-id on task: refused, the target takes task parameters", map_id_on_task),
             ("run --tid on bpf_map_elem: refused, the target takes a map", tid_on_map_elem),
             ("run --tid on a Rust target that takes none: refused, as its BTF declares",
              rust_target_refuses),
             ("run --pid on rust_task: what task prints", twin),
             ("-j run --pid: the output and the link's parameters in JSON", run_json),
             ("run into a closed pipe: exit 0, nothing on stderr", closed_pipe),
             ("run --prog of no program in the object: exit 1", no_such_prog),
             ("run --module of no module: exit 1", no_such_module),
             ("run as an unprivileged user: EPERM, with the cause and a hint", unprivileged)]
    return cases, stop


def map_cases():
    m = f"{FS}/cli_map"
    elem = f"{P}/map_elem.bpf.o"

    def setup():
        for args in (["map", "create", m, "type", "hash", "key", "4", "value", "4", "entries",
                      "8", "name", "cli_map"],
                     ["map", "update", "pinned", m, "key", "1", "0", "0", "0", "value", "2",
                      "0", "0", "0"]):
            r = subprocess.run([BPFTOOL, *args], capture_output=True)
            need(r.returncode == 0, f"bpftool {' '.join(args)}: {r.stderr[:200]!r}")
        r = subprocess.run([BPFTOOL, "-j", "map", "show", "pinned", m], capture_output=True)
        return json.loads(r.stdout)["id"]

    ids = {}

    def pinned():
        ids["map"] = setup()
        need(ok_run("run", elem, "--map-pinned", m) == "1 2\n", "not `1 2`")

    def by_id():
        need(ok_run("run", elem, "--map-id", ids["map"]) == "1 2\n", "not `1 2`")

    @userspace
    def no_such_map():
        fails(1, "run", elem, "--map-id", 0x7fffffff, err_has=("no such map",))

    @userspace
    def show_map():
        fails(1, "show", m, err_has=("not a BPF link", "bpf-map"))

    # A Rust target that takes a map (samples/rust/bpf_iter_params).
    rust_o = f"{P}/rust_map_info.bpf.o"

    def rust_map():
        out = ok_run("run", rust_o, "--map-pinned", m)
        need(out == f"map {ids['map']} type 1\n", f"{out!r}")

    def rust_map_show():
        try:
            v = shown(rust_o, f"{FS}/cli_rust_map", "--map-id", ids["map"])
        finally:
            os.unlink(m)
        need(v["target"] == "rust_map_info" and v["params"] == {"map_id": ids["map"]}, f"{v}")

    def rust_map_none():
        fails(1, "run", rust_o, err_has=("BPF_LINK_CREATE", "Bad file descriptor"))

    return [("run --map-pinned: the elements of that map", pinned),
            ("run --map-id: the same", by_id),
            ("run --map-id of no map: exit 1, no such map", no_such_map),
            ("show of a pinned map: exit 1, not a BPF link", show_map),
            ("run --map-pinned on rust_map_info (a Rust target taking a map): its id and type",
             rust_map),
            ("-j show of a pinned rust_map_info link: the map id it reports", rust_map_show),
            ("run rust_map_info without a map: the kernel's EBADF", rust_map_none)]


def pin_cases():
    a, b = f"{FS}/cli_task", f"{FS}/cli_task_json"
    task_o = f"{P}/task.bpf.o"
    seen = {}

    def pin_read():
        out = ok_run("pin", task_o, a, "--pid", ME)
        need(out == "", f"stdout {out!r}")
        with open(a) as f:
            r = rows(f.read())
        need(sorted(p for _, p in r) == threads_of(ME), f"{r}")

    def show_text():
        out = ok_run("show", a)
        m = re.fullmatch(rf"(\d+): iter  prog (\d+)  target task  pid {ME}\n", out)
        need(m, f"{out!r}")
        seen["id"] = int(m.group(1))

    def show_json():
        v = json_out("-j", "show", a)
        need(v == {"id": seen["id"], "prog_id": v.get("prog_id"), "target": "task",
                   "params": {"pid": ME}}, f"{v}")
        everything = json_out("-j", "show")
        need(seen["id"] in [l["id"] for l in everything], "not in `show`")
        need(f"{seen['id']}: iter" in ok_run("show"), "not in text `show`")

    def pin_json():
        v = json_out("-j", "pin", task_o, b)
        need(v["path"] == b and v["link"]["target"] == "task" and v["link"]["params"] is None,
             f"{v}")

    def unpin():
        for p in (a, b):
            need(ok_run("unpin", p) == "", "unpin printed")
            need(not os.path.exists(p), f"{p} still there")

    @userspace
    def unpin_missing():
        fails(1, "unpin", f"{FS}/cli_no_such_pin", err_has=("No such file or directory",))

    @userspace
    def outside_bpffs():
        before = state()
        fails(1, "pin", task_o, "/tmp/cli_pin", err_has=("not in a BPF filesystem",))
        need(not os.path.exists("/tmp/cli_pin"), "/tmp/cli_pin exists")
        why = settled(before)
        need(why is None, why)

    return [("pin --pid, then read the pinned file: this process's threads", pin_read),
            ("show PATH: link id, program, target and pid", show_text),
            ("-j show PATH: the same in JSON; show lists it among all iterator links",
             show_json),
            ("-j pin: path and link in JSON", pin_json),
            ("unpin: the pinned files are gone", unpin),
            ("unpin of no pinned file: exit 1, ENOENT", unpin_missing),
            ("pin outside a bpffs: exit 1, says so, no link left", outside_bpffs)]


def cgroup_cases():
    o = f"{P}/cgroup.bpf.o"
    root = "/sys/fs/cgroup"
    d = f"{root}/cli_test"
    have = {}
    try:
        anchor("vmlinux", "cgroup")
        have["anchor"] = True
    except KeyError:
        have["anchor"] = False
    if not have["anchor"]:
        def none():
            need(not os.path.exists("/proc/cgroups"), "CONFIG_CGROUPS but no cgroup target")
            fails(1, "run", f"{P}/task.bpf.o", "--cgroup", "/", err_has=("takes task",))
            targets = [e["target"] for e in json_out("-j", "list")["targets"]]
            need("rust_map_info" in targets and "rust_cgroup_info" not in targets,
                 "rust_bpf_iter_params: rust_map_info and no rust_cgroup_info expected")
        return [("no cgroup targets without CONFIG_CGROUPS (C or Rust); --cgroup on task "
                 "refused", none)]

    def ids(out):
        return [int(x) for x in out.split()]

    def self_only():
        os.makedirs(d, exist_ok=True)
        have["id"], have["root"] = os.stat(d).st_ino, os.stat(root).st_ino
        need(ids(ok_run("run", o, "--cgroup", d, "--order", "self-only")) == [have["id"]],
             "not the cgroup's id")

    def ancestors():
        got = ids(ok_run("run", o, "--cgroup", d, "--order", "ancestors-up"))
        need(got == [have["id"], have["root"]], f"{got}")

    def by_id():
        got = ids(ok_run("run", o, "--cgroup-id", have["id"], "--order", "self-only"))
        need(got == [have["id"]], f"{got}")

    def default_walk():
        got = ids(ok_run("run", o))
        need(got[0] == have["root"] and have["id"] in got, f"{got}")

    def show_cgroup():
        v = shown(o, f"{FS}/cli_cgroup", "--cgroup", d, "--order", "descendants-post")
        want = {"cgroup": {"cgroup_id": have["id"], "order": "descendants-post"}}
        need(v["params"] == want, f"{v}")

    def pid_on_cgroup():
        fails(1, "run", o, "--pid", ME, err_has=("target `cgroup` takes a cgroup",))

    # A Rust target that takes a cgroup (samples/rust/bpf_iter_params).
    rust_o = f"{P}/rust_cgroup_info.bpf.o"

    def rust_cgroup():
        out = ok_run("run", rust_o, "--cgroup", d, "--order", "ancestors-up")
        need(out == f"cgroup {have['id']} order 4\n", f"{out!r}")
        out = ok_run("run", rust_o, "--cgroup-id", have["id"], "--order", "self-only")
        need(out == f"cgroup {have['id']} order 1\n", f"{out!r}")

    def rust_cgroup_show():
        v = shown(rust_o, f"{FS}/cli_rust_cgroup", "--cgroup", d, "--order", "descendants-post")
        want = {"cgroup": {"cgroup_id": have["id"], "order": "descendants-post"}}
        need(v["target"] == "rust_cgroup_info" and v["params"] == want, f"{v}")

    def rust_cgroup_default():
        # The target declares a cgroup (Target::Params), so without parameters the tool asks
        # for the walk it asks of the kernel's cgroup target: the root, pre-order (2).
        out = ok_run("run", rust_o)
        need(out == f"cgroup {have['root']} order 2\n", f"{out!r}")

    def rust_cgroup_bad():
        # no order (bpf-iter always gives one: bad_input.py's raw link has none)
        fails(1, "run", rust_o, "--cgroup", "/dev/null", "--order", "self-only",
              err_has=("BPF_LINK_CREATE", "Bad file descriptor"))
        os.rmdir(d)

    return [("cgroup: --cgroup DIR --order self-only: that cgroup", self_only),
            ("cgroup: --order ancestors-up: the cgroup, then the root", ancestors),
            ("cgroup: --cgroup-id: the same cgroup", by_id),
            ("cgroup: no parameters: every cgroup from the root, parents first", default_walk),
            ("cgroup: -j show of a pinned cgroup link: id and order", show_cgroup),
            ("cgroup: --pid on the cgroup target: refused", pid_on_cgroup),
            ("rust_cgroup_info (a Rust target taking a cgroup): --cgroup/--cgroup-id and "
             "--order, its id and order", rust_cgroup),
            ("-j show of a pinned rust_cgroup_info link: the cgroup and order it reports",
             rust_cgroup_show),
            ("rust_cgroup_info without parameters: the tool knows it takes a cgroup and asks "
             "for the root, pre-order, as of cgroup", rust_cgroup_default),
            ("rust_cgroup_info with a file that is no cgroup: the kernel's EBADF",
             rust_cgroup_bad)]


def primes(n):
    """The first n primes."""
    out, c = [], 2
    while len(out) < n:
        if all(c % p for p in out if p * p <= c):
            out.append(c)
        c += 1
    return out


def primes_cases():
    """rust_primes (samples/rust/bpf_iter_primes): a u32 parameter of its own (`--param`)."""
    o = f"{P}/rust_primes.bpf.o"

    def listed(n):
        return "".join(f"{i} {p}\n" for i, p in enumerate(primes(n)))

    def ten():
        out = ok_run("run", o, "--param", "u32=10")
        need(out == listed(10), f"{out!r}")

    def many():
        # About 40 KiB of output: several reads, each resuming at the prime the last one
        # stopped at.
        out = ok_run("run", o, "--param", "u32=4000")
        need(out == listed(4000), f"{len(out)} bytes, {out.count(chr(10))} lines")

    def show():
        v = shown(o, f"{FS}/cli_primes", "--param", "u32=10")
        need(v["target"] == "rust_primes" and v["raw"] == [10, 0, 0, 0], f"{v}")

    def refused():
        for params in ([], ["--param", "u32=0"], ["--param", "u32=10", "--param", "u32=1"],
                       ["--param", "u32=10", "--param", "u8=1"], ["--param", "u32=1000001"]):
            fails(1, "run", o, *params, err_has=("BPF_LINK_CREATE", "Invalid argument"))

    @userspace
    def task_on_primes():
        fails(1, "run", o, "--pid", ME,
              err_has=("target `rust_primes` takes parameters of its own (--param), not task",))

    @userspace
    def not_for_task():
        fails(1, "run", f"{P}/task.bpf.o", "--param", "u32=1",
              err_has=("parameters of its own",))

    @userspace
    def bad_param():
        fails(2, "run", o, "--param", "u32", err_has=("TYPE=VALUE",))
        fails(1, "run", o, "--param", "u64=1", "--param", "u64=2", "--param", "u8=3",
              err_has=("at most 16",))

    return [("run --param u32=10 on rust_primes (the guide's example): the first 10 primes",
             ten),
            ("run --param u32=4000: 4000 primes over several reads, none lost or repeated",
             many),
            ("-j show of a pinned rust_primes link: the parameter it reports (raw)", show),
            ("rust_primes without n, with 0 or over a million, or bytes after the u32: "
             "EINVAL", refused),
            ("--pid on rust_primes (which declares a parameter of its own): exit 1, said",
             task_on_primes),
            ("--param on the task target (which takes task parameters): exit 1, said",
             not_for_task),
            ("--param malformed or over 16 bytes: refused before any syscall", bad_param)]


def main():
    before = state()
    runs, stop = run_command_cases()
    cases = (usage_cases() + list_cases() + runs + map_cases() + pin_cases() + cgroup_cases()
             + primes_cases())
    if DEBUG:
        cases = [c for c in cases if c[1] not in USERSPACE]
    cases.append(nothing_left(before))
    run_cases("cli", cases, EXTRA)
    stop.set()


if __name__ == "__main__":
    main()
