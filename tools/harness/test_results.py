#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side self-test of results.py: the parser must never turn a crash,
a missing plan or a failure into green. Prints TAP."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import results  # noqa: E402

KUNIT_OK = """\
[    1.0] KTAP version 1
[    1.0] 1..1
[    1.0]     KTAP version 1
[    1.0]     # Subtest: s
[    1.0]     1..2
[    1.0]     ok 1 a
[    1.0]     ok 2 b
[    1.0] # s: pass:2 fail:0 skip:0 total:2
[    1.0] ok 1 s
"""

cases = []


def case(f):
    cases.append(f)
    return f


def tally(text, name="t"):
    return results.parse_tap(name, results.strip_log(text.splitlines()))


@case
def kunit_leaves_counted_not_parents():
    t = tally(results_kunit(KUNIT_OK))
    return (t.passed, t.failed) == (2, 0)


def results_kunit(text):
    return "\n".join(results.kunit_from_log(results.strip_log(text.splitlines())))


@case
def failed_leaf_fails():
    t = tally(KUNIT_OK.replace("ok 2 b", "not ok 2 b"))
    return t.failed >= 1


@case
def crash_mid_suite_fails():
    # The suite planned 2 and stopped after one.
    text = "\n".join(KUNIT_OK.splitlines()[:6])
    return tally(text).failed >= 1


@case
def missing_output_fails():
    return tally("").failed == 1


@case
def skip_is_not_pass():
    t = tally("TAP version 13\n1..1\nok 1 - x # SKIP no thing\n")
    return (t.passed, t.skipped) == (0, 1)


@case
def more_results_than_planned_fails():
    return tally("TAP version 13\n1..1\nok 1 - a\nok 2 - b\n").failed == 1


@case
def duplicate_or_skipped_numbers_fail():
    dup = tally("TAP version 13\n1..3\nok 1 - a\nok 2 - b\nok 1 - c\n")
    gap = tally("TAP version 13\n1..2\nok 1 - a\nok 3 - b\n")
    return dup.failed == 1 and gap.failed >= 1


@case
def bail_out_fails():
    return tally("TAP version 13\n1..2\nok 1 - a\nBail out! boom\n").failed >= 2


@case
def oops_in_log_fails():
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write("booting\nBUG: kernel NULL pointer dereference, address: 0\n")
    r = subprocess.run([sys.executable, os.path.join(HERE, "results.py"),
                        "--kernel-log", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    return r.returncode == 1 and r.stdout.splitlines()[-1] == "0 passed, 1 failed"


KUNIT_PY = os.environ.get("KUNIT_PY")


@case
def kunit_tool_parses_the_log():
    """With --kunit-tool, KUnit's results are the kernel's kunit.py parse of the log: a
    failed case is named, and the counts agree with the KTAP parser's."""
    if not KUNIT_PY or not os.path.exists(KUNIT_PY):
        return False  # a test that cannot run fails
    d = tempfile.mkdtemp()
    log = os.path.join(d, "dmesg.txt")
    with open(log, "w") as f:
        f.write("[    1.0] KTAP version 1\n[    1.0] 1..1\n"
                "[    1.0]     KTAP version 1\n[    1.0]     # Subtest: suite_a\n"
                "[    1.0]     1..2\n[    1.0]     ok 1 case_one\n"
                "[    1.0]     not ok 2 case_two\n[    1.0] not ok 1 suite_a\n")
    r = subprocess.run([sys.executable, os.path.join(HERE, "results.py"), "--kunit",
                        "--kunit-tool", KUNIT_PY, "--kernel-log", log],
                       capture_output=True, text=True)
    os.unlink(log)
    os.rmdir(d)
    lines = r.stdout.splitlines()
    return (r.returncode == 1 and lines[-1] == "2 passed, 1 failed"
            and any("suite_a.case_two: FAIL" in l for l in lines)
            and not any("counts" in l for l in lines))


@case
def debug_guest_log_checked_apart():
    """A KASAN report in the debug kernel's log fails its own tally, even if the normal
    kernel's log and KUnit are clean; its KUnit results count as their own suite."""
    d = tempfile.mkdtemp()
    good, bad = os.path.join(d, "good.log"), os.path.join(d, "debug.log")
    with open(good, "w") as f:
        f.write("KTAP version 1\n1..1\nok 1 - t\n")
    with open(bad, "w") as f:
        f.write("KTAP version 1\n1..1\nok 1 - t\n"
                "BUG: KASAN: slab-use-after-free in bpf_iter_prog_supported+0x1\n")
    r = subprocess.run([sys.executable, os.path.join(HERE, "results.py"), "--kunit",
                        "--kernel-log", good, "--guest", f"debug={bad}"],
                       capture_output=True, text=True)
    for p in (good, bad):
        os.unlink(p)
    os.rmdir(d)
    lines = r.stdout.splitlines()
    return (r.returncode == 1 and lines[-1] == "3 passed, 1 failed"
            and any(l.split()[:4] == ["debug-log", "0", "passed", "1"] for l in lines))


@case
def debug_boot_lines_are_not_reports():
    """The debug kernel's boot banner is clean; its reports are not."""
    clean = ["rcu: \tRCU lockdep checking is enabled.",
             "kmemleak: Kernel memory leak detector initialized (mem pool available: 15078)",
             "kasan: KernelAddressSanitizer initialized (generic)"]
    bad = ["WARNING: possible circular locking dependency detected",
           "BUG: KASAN: slab-use-after-free in bpf_iter_prog_supported+0x1",
           "UBSAN: array-index-out-of-bounds in kernel/bpf/bpf_iter.c:1:1",
           "BUG: sleeping function called from invalid context at mm/slub.c:1",
           "INFO: lockdep is turned off."]
    return (not any(results.BAD_LOG.search(l) for l in clean)
            and all(results.BAD_LOG.search(l) for l in bad))


@case
def injected_allocation_failures_only_inside_the_window():
    """The allocator's stack dumps are accepted between the fault-injection suite's markers
    (and only there); a WARNING there still fails."""
    dump = ["python3: vmalloc error: size 32768, failed to allocate pages",
            "CPU: 1 UID: 0 PID: 80 Comm: python3 Not tainted 6.12.117 #1", "Call Trace:",
            " <TASK>", " dump_stack_lvl+0x1/0x2", " </TASK>"]
    inside = [results.FI_BEGIN] + dump + [results.FI_END]
    warn = [results.FI_BEGIN, "WARNING: CPU: 1 PID: 80 at mm/slub.c:1 f+0x1"] + dump + [
        results.FI_END]
    return (results.bad_lines(inside) == [] and results.bad_lines(dump) == ["Call Trace:"]
            and results.bad_lines(inside + dump) == ["Call Trace:"]
            and len(results.bad_lines(warn)) == 1
            # dmesg's ring buffer lost the beginning: the window started before the log
            and results.bad_lines(dump + [results.FI_END] + dump) == ["Call Trace:"])


@case
def one_expected_warn_inside_its_window():
    """soundness-2 point 4: one WARNING and its stack dump pass between the expect-warn
    markers; a second WARNING there, or a KASAN report, fails, and so does a WARNING outside."""
    warn = ["WARNING: CPU: 0 PID: 90 at kernel/bpf/bpf_iter.c:1 f+0x1",
            "bpf_iter: module m left target t registered", "Call Trace:", " <TASK>"]
    one = [results.EW_BEGIN] + warn + [results.EW_END]
    two = [results.EW_BEGIN] + warn + warn + [results.EW_END]
    kasan = [results.EW_BEGIN, "BUG: KASAN: slab-use-after-free in f+0x1", results.EW_END]
    return (results.bad_lines(one) == [] and len(results.bad_lines(warn)) == 2
            and len(results.bad_lines(two)) == 2 and len(results.bad_lines(kasan)) == 1
            and len(results.bad_lines(one + warn)) == 2)


@case
def known_upstream_report_only_whole_and_with_its_frame():
    """A known upstream report (7.3's stack-based hrtimer doctests) passes as a whole when its
    stack names the doctest; the same report from another frame, or cut short, fails."""
    def odebug(frame, end=True):
        return (["ODEBUG: object 00000000e7fc22dc is on stack 00000000cd2ed44d, but NOT annotated.",
                 "WARNING: lib/debugobjects.c:672 at debug_object_is_on_stack+0x77/0x80",
                 "Call Trace:", " <TASK>", " hrtimer_setup+0x22/0xa0",
                 f" {frame}+0x67/0xdd", " </TASK>"]
                + (["---[ end trace 0000000000000000 ]---"] if end else []))
    ok = odebug("rust_doctest_kernel_time_hrtimer_rs_1")
    other = odebug("rust_bpf_iter_records_init")
    cut = odebug("rust_doctest_kernel_time_hrtimer_rs_1", end=False)
    after = ok + ["WARNING: CPU: 0 PID: 1 at kernel/bpf/bpf_iter.c:1 f+0x1"]
    return (results.bad_lines(ok) == [] and len(results.bad_lines(other)) == 3
            and len(results.bad_lines(cut)) == 3 and len(results.bad_lines(after)) == 1)


@case
def cargo_failures_counted():
    t = results.parse_cargo("c", "test result: FAILED. 3 passed; 2 failed; 0 ignored;")
    return (t.passed, t.failed) == (3, 2)


@case
def all_green_exits_zero():
    with tempfile.NamedTemporaryFile("w", suffix=".tap", delete=False) as f:
        f.write("TAP version 13\n1..1\nok 1 - a\n")
    r = subprocess.run([sys.executable, os.path.join(HERE, "results.py"), "--tap", f"x={f.name}"],
                       capture_output=True, text=True)
    os.unlink(f.name)
    return r.returncode == 0 and r.stdout.splitlines()[-1] == "1 passed, 0 failed"


import layout_check  # noqa: E402

# A tiny BTF: bpf_iter_t(struct bpf_iter_meta *, struct rec *, u32)
LTYPES = {
    1: {"kind": "STRUCT", "name": "bpf_iter_meta", "size": 24},
    2: {"kind": "PTR", "type_id": 1},
    3: {"kind": "STRUCT", "name": "rec", "size": 16,
        "members": [{"name": "id", "type_id": 9, "bits_offset": 0},
                    {"name": "name", "type_id": 10, "bits_offset": 64}]},
    4: {"kind": "PTR", "type_id": 3},
    5: {"kind": "INT", "name": "unsigned int", "size": 4},
    6: {"kind": "TYPEDEF", "name": "u32", "type_id": 5},
    7: {"kind": "FUNC_PROTO", "params": [{"name": "meta", "type_id": 2},
                                         {"name": "r", "type_id": 4},
                                         {"name": "n", "type_id": 6}]},
    8: {"kind": "FUNC", "name": "bpf_iter_t", "type_id": 7},
    9: {"kind": "INT", "name": "long long unsigned int", "size": 8},
    10: {"kind": "ARRAY", "type_id": 11, "nr_elems": 8},
    11: {"kind": "INT", "name": "unsigned char", "size": 1},
    12: {"kind": "STRUCT", "name": "rust_bpf_iter_params__t", "size": 0, "members": []},
}


def lrec(slots, params=(0, 0, "")):
    return {"name": "t", "slots": slots, "params": params}


GOOD = [{"kind": 2, "origin": 1, "signed": False, "size": 16, "type": "rec", "name": "r"},
        {"kind": 1, "origin": 0, "signed": False, "size": 4, "type": "", "name": "n"}]
# struct rec { __u64 id; __u8 name[8]; }, as bpf_iter_btf_struct! records it.
REC = ("rec", 16, [("id", "__u64", 0, 0), ("name", "__u8", 8, 8)])


@case
def layout_match_passes():
    return layout_check.check_module(LTYPES, {8}, [lrec(GOOD)]) == []


@case
def layout_wrong_struct_fails():
    bad = [dict(GOOD[0], type="other"), GOOD[1]]
    return len(layout_check.check_module(LTYPES, {8}, [lrec(bad)])) == 1


@case
def layout_signedness_compared():
    """soundness-2 point 6: an i32 slot against a u32 anchor parameter fails, and an i32 slot
    against an s32 one passes."""
    signed = [GOOD[0], dict(GOOD[1], signed=True)]
    s32 = dict(LTYPES)
    s32[5] = {"kind": "INT", "name": "int", "size": 4, "encoding": "SIGNED"}
    return (len(layout_check.check_module(LTYPES, {8}, [lrec(signed)])) == 1
            and layout_check.check_module(s32, {8}, [lrec(signed)]) == []
            and len(layout_check.check_module(s32, {8}, [lrec(GOOD)])) == 1)


@case
def layout_wrong_size_or_count_fails():
    small = [dict(GOOD[0], size=8), GOOD[1]]
    wide = [GOOD[0], dict(GOOD[1], size=8)]
    return all(layout_check.check_module(LTYPES, {8}, [lrec(x)])
               for x in (small, wide, GOOD[:1]))


@case
def layout_wrong_slot_name_fails():
    renamed = [GOOD[0], dict(GOOD[1], name="count")]
    return len(layout_check.check_module(LTYPES, {8}, [lrec(renamed)])) == 1


@case
def layout_own_struct_match_passes():
    return layout_check.check_types(LTYPES, {3}, [REC]) == []


@case
def layout_own_struct_mismatch_fails():
    moved = (REC[0], REC[1], [REC[2][0], ("name", "__u8", 8, 12)])
    longer = (REC[0], REC[1], [REC[2][0], ("name", "__u8", 16, 8)])
    renamed = (REC[0], REC[1], [REC[2][0], ("tag", "__u8", 8, 8)])
    return all(len(layout_check.check_types(LTYPES, {3}, [r])) == 1
               for r in (moved, longer, renamed, ("rec", 24, REC[2])))


@case
def layout_anchor_without_record_fails():
    return len(layout_check.check_module(LTYPES, {8}, [])) == 1


# The kfuncs of an open iterator `o` with a 2-word state: new(it, __u32 n), __u64 *next(it),
# void destroy(it); and a kfunc beside an anchor that is no anchor (its first parameter is no
# struct bpf_iter_meta *).
OTYPES = dict(LTYPES)
OTYPES.update({
    20: {"kind": "STRUCT", "name": "bpf_iter_o", "size": 16},
    21: {"kind": "PTR", "type_id": 20},
    22: {"kind": "INT", "name": "int", "size": 4, "encoding": "SIGNED"},
    23: {"kind": "FUNC_PROTO", "ret_type_id": 22,
         "params": [{"name": "it", "type_id": 21}, {"name": "n", "type_id": 6}]},
    24: {"kind": "FUNC", "name": "bpf_iter_o_new", "type_id": 23},
    25: {"kind": "PTR", "type_id": 9},
    26: {"kind": "FUNC_PROTO", "ret_type_id": 25, "params": [{"name": "it", "type_id": 21}]},
    27: {"kind": "FUNC", "name": "bpf_iter_o_next", "type_id": 26},
    28: {"kind": "FUNC_PROTO", "ret_type_id": 0, "params": [{"name": "it", "type_id": 21}]},
    29: {"kind": "FUNC", "name": "bpf_iter_o_destroy", "type_id": 28},
})
OSPLIT = {8, 24, 27, 29}
OREC = {"name": "o", "words": 2, "ret": "__u64", "args": [("__u32", "n")]}


@case
def open_iter_kfuncs_match_passes():
    """The kfuncs of an open iterator against its record; they are no anchors of targets."""
    return (layout_check.check_open(OTYPES, OSPLIT, [OREC]) == []
            and layout_check.check_module(OTYPES, OSPLIT, [lrec(GOOD)]) == [])


@case
def open_iter_kfuncs_mismatch_fails():
    """Another state size, return type, argument type or name, or a missing kfunc: one error
    each."""
    bad = [dict(OREC, words=3), dict(OREC, ret="__u32"), dict(OREC, args=[("__s32", "n")]),
           dict(OREC, args=[("__u32", "count")]), dict(OREC, args=[])]
    missing = {i: t for i, t in OTYPES.items() if i != 29}
    return (all(len(layout_check.check_open(OTYPES, OSPLIT, [r])) == 1 for r in bad)
            and len(layout_check.check_open(missing, OSPLIT - {29}, [OREC])) == 1)


@case
def layout_params_checked():
    """The struct that names a target's link parameters, against its record: none, task,
    a custom __u32, a custom __u8[4], a custom struct; a wrong kind or type is one error."""
    def with_params(member, tid):
        t = dict(LTYPES)
        t[12] = dict(LTYPES[12], members=[{"name": member, "type_id": tid, "bits_offset": 0}])
        t[13] = {"kind": "STRUCT", "size": 12, "members": []}  # the union's anonymous task
        t[14] = {"kind": "ARRAY", "type_id": 11, "nr_elems": 4}
        return t
    check = lambda types, p: layout_check.check_module(types, {8}, [lrec(GOOD, p)])
    return (check(LTYPES, (0, 0, "")) == []
            and check(with_params("task", 13), (1, 0, "")) == []
            and check(with_params("custom", 6), (4, 0, "__u32")) == []
            and check(with_params("custom", 14), (4, 4, "__u8")) == []
            and check(with_params("custom", 3), (5, 0, "rec")) == []
            and len(check(LTYPES, (1, 0, ""))) == 1
            and len(check(with_params("task", 13), (2, 0, ""))) == 1
            and len(check(with_params("custom", 6), (4, 0, "__u64"))) == 1
            and len(check(with_params("custom", 6), (4, 4, "__u32"))) == 1
            and len(check(with_params("custom", 6), (5, 0, "rec"))) == 1
            and len(layout_check.check_module({i: t for i, t in LTYPES.items() if i != 12},
                                              {8}, [lrec(GOOD)])) == 1)


sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import rust_bpf_iter_btf  # noqa: E402


def target_record(name, params=(0, 0, "")):
    """A LayoutRecord as kernel::bpf::iter::LayoutRecord::new lays it out, with one u32 slot
    `n` and link parameters (kind, array elements, C type)."""
    r = bytearray(1024)
    r[0:4] = b"RBIL"
    r[4], r[5] = 4, 1
    r[8:8 + len(name)] = name.encode()
    r[64], r[68:72] = 1, (4).to_bytes(4, "little")
    r[104:105] = b"n"
    kind, n, ctype = params
    r[896], r[900:904] = kind, n.to_bytes(4, "little")
    r[904:904 + len(ctype)] = ctype.encode()
    size = {"__u32": 4, "__u64": 8}.get(ctype, 8) * max(n, 1) if kind >= 4 else 0
    r[960:964] = size.to_bytes(4, "little")
    return bytes(r)


@case
def generator_link_params():
    """The struct naming each target's link parameters: no member for none, the union's
    member for task, map and cgroup, the recorded type for the target's own."""
    blob = b"".join(target_record(*a) for a in [
        ("a", (0, 0, "")), ("b", (1, 0, "")), ("c", (2, 0, "")), ("d", (3, 0, "")),
        ("e", (4, 0, "__u32")), ("f", (4, 2, "__u64")), ("g", (5, 0, "fib_param"))])
    c = rust_bpf_iter_btf.generate("x.o", {".rust_bpf_iter_layout": blob,
                                           ".rust_bpf_iter_types": b""})
    want = ["struct rust_bpf_iter_params__a {\n};",
            "struct rust_bpf_iter_params__b {\n"
            "\ttypeof(((union bpf_iter_link_info *)0)->task) task;\n};",
            "\ttypeof(((union bpf_iter_link_info *)0)->map) map;\n};",
            "\ttypeof(((union bpf_iter_link_info *)0)->cgroup) cgroup;\n};",
            "struct rust_bpf_iter_params__e {\n\t__u32 custom;\n};",
            "struct rust_bpf_iter_params__f {\n\t__u64 custom[2];\n};",
            "struct rust_bpf_iter_params__g {\n\tstruct fib_param custom;\n};",
            "static const struct rust_bpf_iter_params__g *__rust_bpf_iter_params_g __used;",
            "static_assert(sizeof(((struct rust_bpf_iter_params__e *)0)->custom) == 4);",
            "static_assert(sizeof(((struct rust_bpf_iter_params__f *)0)->custom) == 16);",
            "DEFINE_BPF_ITER_FUNC(a, struct bpf_iter_meta *meta, u32 n)"]
    miss = [w for w in want if w not in c]
    if miss:
        print(f"# missing: {miss!r}")
    return not miss


def open_record(name, ident, protection, words, ret, args, headers=()):
    """An OpenRecord as kernel::bpf::iter::OpenRecord::new lays it out (headers: next's type's,
    then each argument's)."""
    r = bytearray(1024)
    r[0:4] = b"RBOI"
    r[4], r[5], r[6] = 2, len(args), protection
    r[8:8 + len(name)] = name.encode()
    r[64:64 + len(ident)] = ident.encode()
    r[96:100] = words.to_bytes(4, "little")
    r[100:100 + len(ret)] = ret.encode()
    for i, (t, a) in enumerate(args):
        r[136 + 64 * i:136 + 64 * i + len(t)] = t.encode()
        r[168 + 64 * i:168 + 64 * i + len(a)] = a.encode()
    for i, h in enumerate(headers):
        at = 400 + 32 * i
        r[at:at + len(h)] = h.encode()
    return bytes(r)


@case
def generator_open_iter_of_tasks():
    """An iterator that takes a task (trusted, or NULL) and yields tasks: the header of
    struct task_struct, the pointer parameter, next returning struct task_struct *, and the
    trusted-arguments flag on new alone."""
    blob = open_record("t", "T", 1, 3, "struct task_struct",
                       [("struct task_struct *", "task__nullable"), ("__u32", "flags")],
                       ["linux/sched.h", "linux/sched.h", ""])
    c = rust_bpf_iter_btf.generate("x.o", {".rust_bpf_iter_layout": blob,
                                           ".rust_bpf_iter_types": b""})
    want = ["#include <linux/sched.h>",
            "__bpf_kfunc int bpf_iter_t_new(struct bpf_iter_t *it, struct task_struct "
            "*task__nullable, __u32 flags)",
            "(u64)task__nullable, (u64)flags, 0, 0);",
            "__bpf_kfunc struct task_struct *bpf_iter_t_next(struct bpf_iter_t *it)",
            "BTF_ID_FLAGS(func, bpf_iter_t_new, KF_ITER_NEW | KF_RCU_PROTECTED | "
            "__RUST_BPF_KF_TRUSTED)",
            "BTF_ID_FLAGS(func, bpf_iter_t_next, KF_ITER_NEXT | KF_RET_NULL)",
            "#define __RUST_BPF_KF_TRUSTED KF_TRUSTED_ARGS"]
    return all(w in c for w in want) and c.count("#include <linux/sched.h>") == 1


@case
def open_iter_struct_types_checked():
    """A recorded struct type against BTF: the struct, a pointer to it, another struct, an
    integer."""
    types = {1: {"kind": "STRUCT", "name": "task_struct", "size": 64},
             2: {"kind": "PTR", "type_id": 1},
             3: {"kind": "STRUCT", "name": "file", "size": 8},
             4: {"kind": "INT", "name": "unsigned int", "size": 4, "encoding": "(none)"}}
    ok = lambda i, c: layout_check.is_ctype(types, types[i], c)
    return (ok(1, "struct task_struct") and ok(2, "struct task_struct *")
            and not ok(1, "struct task_struct *") and not ok(2, "struct task_struct")
            and not ok(3, "struct task_struct") and not ok(4, "struct task_struct")
            and ok(4, "__u32") and not ok(1, "__u32"))


@case
def generator_open_iter_kfuncs():
    """The C of an open iterator: its state struct, kfuncs calling the Rust shims with the
    arguments widened, the flags of its protection, the one set and the table of names."""
    blob = open_record("o", "O", 1, 2, "__u64", [("__u32", "n"), ("__s8", "d")])
    c = rust_bpf_iter_btf.generate("x.o", {".rust_bpf_iter_layout": blob,
                                           ".rust_bpf_iter_types": b""})
    want = ["struct bpf_iter_o {\n\t__u64 __opaque[2];\n} __aligned(8);",
            "__bpf_kfunc int bpf_iter_o_new(struct bpf_iter_o *it, __u32 n, __s8 d)",
            "return __rust_bpf_open_iter_O_new(it, (u64)!!in_nmi(), (u64)n, (u64)d, 0, 0);",
            "__bpf_kfunc __u64 *bpf_iter_o_next(struct bpf_iter_o *it)",
            "BTF_ID_FLAGS(func, bpf_iter_o_new, KF_ITER_NEW | KF_RCU_PROTECTED)",
            "BTF_ID_FLAGS(func, bpf_iter_o_next, KF_ITER_NEXT | KF_RET_NULL)",
            "BTF_ID_FLAGS(func, bpf_iter_o_destroy, KF_ITER_DESTROY)",
            "\t.owner = THIS_MODULE,", "\t.len = 3,",
            '{ "bpf_iter_o_destroy", bpf_iter_o_destroy },']
    return all(w in c for w in want) and "DEFINE_BPF_ITER_FUNC" not in c


def kfunc_record(name, ident, protection, args, headers=()):
    """A KfuncRecord as kernel::bpf::iter::KfuncRecord::new lays it out."""
    r = bytearray(open_record(name, ident, protection, 0, "", args, ("",) + tuple(headers)))
    r[0:4], r[4] = b"RBKF", 1
    r[96:136] = bytes(40)
    return bytes(r)


@case
def generator_own_kfuncs():
    """Kfuncs of the module's own, beside an open iterator's in the one set: the C kfunc
    returning s64 and calling the Rust function with in_nmi() and the arguments, void for none,
    KF_SLEEPABLE for a sleepable one, the trusted-arguments flag for a task; and alone, without
    an open iterator."""
    blob = (open_record("o", "O", 0, 2, "__u64", [])
            + kfunc_record("k_nth", "Nth", 0, [("__u32", "n")])
            + kfunc_record("k_count", "Count", 2, [])
            + kfunc_record("k_task", "Tk", 0, [("struct task_struct *", "task")],
                           ["linux/sched.h"]))
    c = rust_bpf_iter_btf.generate("x.o", {".rust_bpf_iter_layout": blob,
                                           ".rust_bpf_iter_types": b""})
    want = ["s64 __rust_bpf_kfunc_Nth(u64 nmi, u64 a0, u64 a1, u64 a2, u64 a3);",
            "__bpf_kfunc s64 k_nth(__u32 n)",
            "return __rust_bpf_kfunc_Nth((u64)!!in_nmi(), (u64)n, 0, 0, 0);",
            "__bpf_kfunc s64 k_count(void)",
            "return __rust_bpf_kfunc_Count((u64)!!in_nmi(), 0, 0, 0, 0);",
            "__bpf_kfunc s64 k_task(struct task_struct *task)",
            "#include <linux/sched.h>",
            "BTF_ID_FLAGS(func, bpf_iter_o_destroy, KF_ITER_DESTROY)\n"
            "BTF_ID_FLAGS(func, k_nth, 0)\n"
            "BTF_ID_FLAGS(func, k_count, KF_SLEEPABLE)\n"
            "BTF_ID_FLAGS(func, k_task, __RUST_BPF_KF_TRUSTED)\n"
            "BTF_KFUNCS_END(__rust_bpf_kfunc_ids)",
            "\t.len = 6,", '{ "k_count", k_count },']
    alone = rust_bpf_iter_btf.generate("x.o", {".rust_bpf_iter_layout":
                                               kfunc_record("k", "K", 0, []),
                                               ".rust_bpf_iter_types": b""})
    miss = [w for w in want if w not in c]
    if miss:
        print(f"# missing: {miss!r}")
    return not miss and "BTF_ID_FLAGS(func, k, 0)" in alone and "\t.len = 1," in alone


@case
def generator_refuses_a_kfunc_named_as_an_iterators():
    """A kfunc named as another kfunc, as an open iterator's, as a target's anchor or as a
    global of the generated file would be a second C definition: refused, saying so."""
    def refused(blob):
        try:
            rust_bpf_iter_btf.generate("x.o", {".rust_bpf_iter_layout": blob,
                                               ".rust_bpf_iter_types": b""})
        except ValueError as e:
            return "kfunc" in str(e)
        return False
    return (refused(open_record("o", "O", 0, 2, "__u64", [])
                    + kfunc_record("bpf_iter_o_next", "K", 0, []))
            and refused(target_record("t") + kfunc_record("bpf_iter_t", "K", 0, []))
            and refused(kfunc_record("__rust_bpf_kfuncs", "K", 0, []))
            and refused(kfunc_record("k", "A", 0, []) + kfunc_record("k", "B", 0, [])))


@case
def layout_own_kfuncs_checked():
    """A kfunc of the module's own against its record: its FUNC, the parameters' names and
    types, s64 returned; another name, type or return is one error each."""
    types = dict(LTYPES)
    types.update({
        30: {"kind": "INT", "name": "long long", "size": 8, "encoding": "SIGNED"},
        31: {"kind": "TYPEDEF", "name": "s64", "type_id": 30},
        32: {"kind": "FUNC_PROTO", "ret_type_id": 31, "params": [{"name": "n", "type_id": 6}]},
        33: {"kind": "FUNC", "name": "k_nth", "type_id": 32},
    })
    good = {"name": "k_nth", "args": [("__u32", "n")]}
    check = lambda t, k: layout_check.check_kfuncs(t, {33}, [k])
    bad_ret = dict(types)
    bad_ret[32] = dict(types[32], ret_type_id=6)
    return (check(types, good) == []
            and len(check(types, dict(good, args=[("__u32", "m")]))) == 1
            and len(check(types, dict(good, args=[("__s32", "n")]))) == 1
            and len(check(types, dict(good, name="k_other"))) == 1
            and len(check(bad_ret, good)) == 1)


@case
def generator_refuses_two_open_iters_of_one_name():
    blob = open_record("o", "A", 0, 2, "__u64", []) + open_record("o", "B", 0, 2, "__u64", [])
    try:
        rust_bpf_iter_btf.generate("x.o", {".rust_bpf_iter_layout": blob,
                                           ".rust_bpf_iter_types": b""})
    except ValueError as e:
        return "open iterator" in str(e)
    return False


print("TAP version 13")
print(f"1..{len(cases)}")
for i, c in enumerate(cases, 1):
    try:
        good = c()
    except Exception as e:  # a crash of a case is its failure
        good = False
        print(f"# {c.__name__}: {e!r}")
    print(f"{'ok' if good else 'not ok'} {i} - {c.__name__}")
