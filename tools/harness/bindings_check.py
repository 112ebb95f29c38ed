#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build-time check of the kernel's Rust bindings against vmlinux BTF.

bindgen's Rust layout of a C struct can differ from the C layout, and the kernel runs bindgen with
--no-layout-tests, so nothing notices. (Example: with CONFIG_SCHEDSTATS=n, `struct
sched_statistics {} ____cacheline_aligned` is empty with alignment 64; bindgen 0.73.2 drops the
alignment, and `stats` and every member of task_struct after it are 16 bytes early in Rust.) This
script compares, for the structs Rust code reads (and every struct or union they embed by value,
anonymous ones included), the size and the offset of every named member as the bindings lay
them out (`core::mem::size_of` and `core::mem::offset_of!`, computed by rustc in a generated
crate that includes the bindings and reads back from its `.rust_bindings_layout` section) with
the layout in BTF (read from the `.BTF` section of vmlinux, no bpftool needed). Any difference,
or a struct or member present on one side only, is an error naming struct and member.

Bitfields are not compared member by member (bindgen packs them into `_bitfield_N` units);
the members after them and the struct size are. A type bindgen makes opaque has its size
compared only.

  bindings_check.py --kdir KBUILD            # KBUILD/vmlinux, KBUILD/rust/bindings/...
  bindings_check.py --vmlinux VMLINUX --bindings bindings_generated.rs [--struct NAME]...
  bindings_check.py --kdir KBUILD --all -v   # every struct named on both sides, with notes

Exit status: 0 all match, 1 a mismatch, 2 usage or tool error.
"""

import argparse
import json
import mmap
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

SECTION = ".rust_bindings_layout"
PREFIX = "bindings_check"

# The structs Rust code of this project reads through the bindings (rust/kernel/, samples/);
# the types they embed by value are added unless --no-follow.
STRUCTS = [
    "task_struct", "file", "mm_struct", "vm_area_struct", "seq_file", "seq_operations",
    "bpf_prog", "bpf_prog_aux", "bpf_map", "bpf_iter_reg", "bpf_iter_aux_info",
    "pid_namespace", "bpf_iter_meta", "bpf_iter_seq_info", "bpf_ctx_arg_aux",
    "bpf_func_proto", "bpf_iter_link_info", "bpf_link_info", "cgroup", "pid", "btf_type",
    "btf_param", "cred",
]

# Identifiers bindgen renames by appending `_` (bindgen's ir/context.rs, rust_mangle).
RUST_KEYWORDS = set("""
abstract alignof as async await become box break const continue crate do dyn else enum extern
false final fn for gen if impl in let loop macro match mod move mut offsetof override priv proc
pub pure ref return Self self sizeof static struct super trait true try type typeof unsafe
unsized use virtual where while yield str bool f32 f64 usize isize u128 i128 u64 i64 u32 i32 u16
i16 u8 i8 _
""".split())
# Fields bindgen adds that have no C member of their own.
SYNTHETIC = re.compile(r"^(_bitfield_align_\d+|_bitfield_\d+|__bindgen_padding_\d+|_address|"
                       r"_bindgen_opaque_blob|_bindgen_align|__bindgen_anon_\d+|"
                       r"bindgen_union_field)$")

# BTF kinds (include/uapi/linux/btf.h)
INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT = range(1, 12)
FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(12, 20)
MODIFIERS = {VOLATILE, CONST, RESTRICT, TYPE_TAG}


class ToolError(Exception):
    pass


def log(msg):
    print(f"{PREFIX}: {msg}", file=sys.stderr)


# ---------------------------------------------------------------- ELF and BTF


def elf_section_file(path, name):
    """Contents of section `name` of an ELF64 little-endian file (read by offset), or None."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if m[:4] != b"\x7fELF" or m[4] != 2 or m[5] != 1:
            raise ToolError(f"{path}: not an ELF64 little-endian file")
        shoff, = struct.unpack_from("<Q", m, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", m, 0x3A)

        def sh(i):
            return struct.unpack_from("<IIQQQQIIQQ", m, shoff + i * shentsize)
        stroff = sh(shstrndx)[4]
        want = name.encode() + b"\0"
        for i in range(shnum):
            s = sh(i)
            if m[stroff + s[0]:stroff + s[0] + len(want)] == want:
                return bytes(m[s[4]:s[4] + s[5]])
    return None


class Btf:
    """The types of a BTF blob: kind, name, size/type and members, by id (1-based)."""

    def __init__(self, blob):
        magic, version, _flags, hdr_len, type_off, type_len, str_off, str_len = \
            struct.unpack_from("<HBBIIIII", blob, 0)
        if magic != 0xEB9F or version != 1:
            raise ToolError("bad BTF header (not little-endian BTF version 1)")
        strs = blob[hdr_len + str_off:hdr_len + str_off + str_len]
        self.name_cache = {}

        def name(off):
            n = self.name_cache.get(off)
            if n is None:
                n = strs[off:strs.index(b"\0", off)].decode()
                self.name_cache[off] = n
            return n
        self.types = [None]
        at, end = hdr_len + type_off, hdr_len + type_off + type_len
        extra = {INT: lambda v: 4, ARRAY: lambda v: 12, STRUCT: lambda v: 12 * v,
                 UNION: lambda v: 12 * v, ENUM: lambda v: 8 * v, FUNC_PROTO: lambda v: 8 * v,
                 VAR: lambda v: 4, DATASEC: lambda v: 12 * v, DECL_TAG: lambda v: 4,
                 ENUM64: lambda v: 12 * v}
        while at < end:
            name_off, info, size_type = struct.unpack_from("<III", blob, at)
            kind, vlen, kflag = (info >> 24) & 0x1F, info & 0xFFFF, info >> 31
            if not INT <= kind <= ENUM64:
                raise ToolError(f"unknown BTF kind {kind}")
            t = {"kind": kind, "name": name(name_off), "size": size_type, "type": size_type}
            at += 12
            if kind in (STRUCT, UNION):
                members = []
                for i in range(vlen):
                    mname, mtype, moff = struct.unpack_from("<III", blob, at + 12 * i)
                    bits = (moff >> 24) if kflag else 0
                    boff = (moff & 0xFFFFFF) if kflag else moff
                    members.append((name(mname), mtype, boff, bits))
                t["members"] = members
            elif kind == ARRAY:
                t["type"], _, t["nelems"] = struct.unpack_from("<III", blob, at)
            elif kind == INT:
                enc, = struct.unpack_from("<I", blob, at)
                t["bits"] = enc & 0xFF
            at += extra.get(kind, lambda v: 0)(vlen)
            self.types.append(t)
        self.by_name = {}
        for tid, t in enumerate(self.types):
            if t and t["kind"] in (STRUCT, UNION, TYPEDEF) and t["name"]:
                self.by_name.setdefault(t["name"], []).append(tid)

    def strip(self, tid, typedefs=False):
        """Follow modifiers (and typedefs if asked) to the underlying type id."""
        for _ in range(64):
            t = self.types[tid] if tid else None
            if t is None or not (t["kind"] in MODIFIERS or typedefs and t["kind"] == TYPEDEF):
                return tid
            tid = t["type"]
        return tid

    def is_bitfield(self, mtype, bits):
        if bits:
            return True
        t = self.types[self.strip(mtype, typedefs=True)]
        return t is not None and t["kind"] == INT and t["bits"] != 8 * t["size"]


def read_btf(path):
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\x9f\xeb":  # a raw BTF file such as /sys/kernel/btf/vmlinux
        with open(path, "rb") as f:
            return Btf(f.read())
    blob = elf_section_file(path, ".BTF")
    if blob is None:
        raise ToolError(f"{path} has no .BTF section (CONFIG_DEBUG_INFO_BTF=y needed)")
    return Btf(blob)


# ---------------------------------------------------------------- the bindings' side

RUST_ITEM = re.compile(r"(?<![\w:])pub\s+(struct|union)\s+(\w+)\s*\{([^}]*)\}")
RUST_ALIAS = re.compile(r"(?<![\w:])pub\s+type\s+(\w+)\s*=\s*([^;<]*);")
RUST_FIELD = re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?(\w+)\s*:\s*(.*)$", re.S)


def split_fields(body):
    """Split a struct body at the commas outside (), [] and <>."""
    body = body.replace("->", "  ")
    out, depth, at = [], 0, 0
    for i, c in enumerate(body):
        if c in "([<":
            depth += 1
        elif c in ")]>":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(body[at:i])
            at = i + 1
    out.append(body[at:])
    return [f.strip() for f in out if f.strip()]


def read_rust_types(path):
    """({name: (kind, [(field, type text)])} of the non-generic structs and unions with named
    fields, {alias: type text} of the type aliases) of bindgen output (formatted or not)."""
    with open(path) as f:
        text = f.read()
    types = {}
    for m in RUST_ITEM.finditer(text):
        fields = []
        for f in split_fields(m.group(3)):
            fm = RUST_FIELD.match(f)
            if not fm:
                raise ToolError(f"{path}: cannot parse field '{f[:80]}' of {m.group(2)}")
            fields.append((fm.group(1), " ".join(fm.group(2).split())))
        types[m.group(2)] = (m.group(1), fields)
    aliases = {m.group(1): " ".join(m.group(2).split()) for m in RUST_ALIAS.finditer(text)}
    return types, aliases


def rust_field(fields, cname):
    """The Rust name bindgen gives C member `cname`, or None."""
    names = {f for f, _ in fields}
    for cand in ((cname + "_", cname) if cname in RUST_KEYWORDS else (cname, cname + "_")):
        if cand in names:
            return cand
    return None


# ---------------------------------------------------------------- plan and compare


class Plan:
    """What to measure (Rust expressions) and what BTF says each should be.

    A struct name can have several definitions in BTF (copies pahole could not merge, or
    distinct C structs of one name): each distinct layout is planned as a candidate, and the
    struct is judged against the candidate it matches best."""

    def __init__(self, btf, rust, aliases):
        self.btf = btf
        self.rust = rust
        self.aliases = aliases
        self.exprs = {}  # Rust expression -> index in the section
        self.structs = []  # [name, [candidate: {"errors": [...], "checks": [...]}]]
        self.errors = []  # mismatches found without measuring
        self.notes = []  # printed with -v
        self.warnings = []  # printed always, not errors
        self.seen = set()

    def expr(self, e):
        return self.exprs.setdefault(e, len(self.exprs))

    def btf_structs(self, name):
        """BTF ids of the struct or union `name` as bindgen names it (a typedef of an
        anonymous struct gets the typedef's name), one per distinct layout."""
        ids = []
        for tid in self.btf.by_name.get(name, []):
            t = self.btf.types[tid]
            if t["kind"] == TYPEDEF:
                s = self.btf.strip(t["type"])
                st = self.btf.types[s] if s else None
                if st and st["kind"] in (STRUCT, UNION) and not st["name"]:
                    ids.append(s)
            else:
                ids.append(tid)
        layouts = {}
        for tid in ids:
            t = self.btf.types[tid]
            sig = (t["kind"], t["size"], tuple((m[0], m[2], m[3]) for m in t["members"]))
            layouts.setdefault(sig, tid)
        return list(layouts.values())

    def embedded(self, rty, tid):
        """(Rust name, BTF id) of the struct or union a member of Rust type `rty` and BTF
        type `tid` embeds by value (also as array elements), or None."""
        for _ in range(32):
            rty = rty.strip()
            m = re.fullmatch(r"\[(.*);\s*\w+\]|__IncompleteArrayField<\s*(.*?)\s*>", rty)
            if m:
                rty = m.group(1) or m.group(2)
            elif rty in self.aliases:
                rty = self.aliases[rty]
            else:
                break
        for _ in range(32):
            tid = self.btf.strip(tid, typedefs=True)
            t = self.btf.types[tid] if tid else None
            if t is None or t["kind"] != ARRAY:
                break
            tid = t["type"]
        if rty in self.rust and t and t["kind"] in (STRUCT, UNION):
            return rty, tid
        return None

    def add_struct(self, name, follow, required, tid=None):
        """Plan the checks of top-level struct `name` (BTF `tid`, or found by name); return
        the (name, BTF id) of the structs it embeds. A struct the bindings only declare
        (`_unused: [u8; 0]`, or `_address: u8` for one bindgen saw only behind an attribute:
        Rust code can use pointers to it only) is an error if `required`, else a note."""
        if name in self.seen:
            return []
        self.seen.add(name)
        tids = [tid] if tid else self.btf_structs(name)
        if not tids:
            if name in self.rust:
                # Declared by a header but compiled into nothing in this configuration (struct
                # cgroup with CONFIG_CGROUPS=n): no C object has it, so Rust reads none.
                self.notes.append(f"{name}: not in BTF (only declared in this configuration)")
            else:
                self.errors.append(f"{name}: not in BTF nor in bindings")
            return []
        if name not in self.rust:
            self.errors.append(f"{name}: missing in bindings")
            return []
        if [f for f, _ in self.rust[name][1]] in (["_unused"], ["_address"]):
            msg = f"{name}: only declared in bindings (incomplete type), defined in BTF"
            (self.errors if required else self.notes).append(msg)
            return []
        if len(tids) > 1:
            self.warnings.append(f"{name}: {len(tids)} different layouts in BTF (ids {tids}); "
                                 "judged against the one it matches best")
        out = []
        cands = []
        for i, tid in enumerate(tids):
            self.cand = {"errors": [], "checks": [], "members": 0, "bitfields": 0}
            self.walk(name, name, f"bindings::{name}", "", "", tid, name,
                      out if follow and i == 0 else None)
            cands.append(self.cand)
        self.structs.append([name, cands])
        return out

    def walk(self, struct, where, rtype, rpath, base, tid, rname, out, off0=0):
        """Plan BTF struct/union `tid`, which is Rust type `rname`, found at field path
        `rpath` of Rust type `rtype` plus Rust expression `base` (and at BTF offset `off0` of
        top-level struct `struct`). `where` names it in messages."""
        t = self.btf.types[tid]
        kind, fields = self.rust[rname]
        names = [f for f, _ in fields]
        if kind == "struct" and "bindgen_union_field" in names:
            kind = "union"  # bindgen's emulation of a union it cannot emit as one
        want = "struct" if t["kind"] == STRUCT else "union"
        if kind != want:
            self.cand["errors"].append(f"{where}: a {want} in BTF, a {kind} in bindings")
        size = (where, "size", self.expr(f"core::mem::size_of::<bindings::{rname}>()"), t["size"])
        if "_bindgen_opaque_blob" in names:
            self.notes.append(f"{where}: opaque in bindings, size compared only")
            self.cand["checks"].append(size)
            return
        ftype = dict(fields)
        used = set()
        anon = 0
        for mname, mtype, boff, bits in t["members"]:
            if self.btf.is_bitfield(mtype, bits):
                self.cand["bitfields"] += 1
                continue
            if boff % 8:
                self.cand["errors"].append(f"{struct}.{mname}: BTF offset {boff} bits")
                continue
            off = off0 + boff // 8
            if not mname:
                s = self.btf.strip(mtype)
                st = self.btf.types[s]
                if not st or st["kind"] not in (STRUCT, UNION):
                    continue
                if st["name"]:
                    # A named struct embedded without a member name (`struct ns_tree;` in 7.3's
                    # struct ns_common, built with -fms-extensions): bindgen leaves it out and
                    # numbers no __bindgen_anon_ for it. Rust cannot reach its fields, so none
                    # is misread; the members after it are checked at their offsets.
                    self.notes.append(f"{struct}.{rpath}(struct {st['name']}): embedded without "
                                      f"a name at BTF offset {off}: not in bindings")
                    continue
                anon += 1
                rf = f"__bindgen_anon_{anon}"
                label = f"{struct}.{rpath}{rf}"
                if rf not in ftype:
                    what = "struct" if st["kind"] == STRUCT else "union"
                    self.cand["errors"].append(f"{label}: anonymous {what} at BTF offset {off}: "
                                               "missing in bindings")
                    continue
                used.add(rf)
                self.cand["members"] += 1
                at = f"{base}core::mem::offset_of!({rtype}, {rpath}{rf})"
                self.cand["checks"].append((label, "offset", self.expr(at), off))
                inner = ftype[rf]
                m = re.fullmatch(r"__BindgenUnionField<\s*(\w+)\s*>", inner)
                if m:  # a member of an emulated union: a PhantomData at the union's offset
                    inner = m.group(1)
                if inner not in self.rust:
                    self.cand["errors"].append(f"{label}: its type {inner} is not in the bindings")
                    continue
                if m:
                    self.walk(struct, label, f"bindings::{inner}", "", at + " + ", s, inner,
                              out, off)
                else:
                    self.walk(struct, label, rtype, f"{rpath}{rf}.", base, s, inner, out, off)
                continue
            label = f"{struct}.{mname}"
            rf = rust_field(fields, mname)
            if rf is None:
                self.cand["errors"].append(f"{label}: missing in bindings (BTF offset {off})")
                continue
            used.add(rf)
            self.cand["members"] += 1
            self.cand["checks"].append((label, "offset", self.expr(
                f"{base}core::mem::offset_of!({rtype}, {rpath}{rf})"), off))
            if out is not None:
                e = self.embedded(ftype[rf], mtype)
                if e:
                    out.append(e)
        self.cand["checks"].append(size)  # after the members: the first mismatch is the cause
        for f in names:
            if f not in used and not SYNTHETIC.match(f):
                self.cand["errors"].append(f"{where}.{f}: only in bindings, not in BTF")

    def judge(self, values):
        """Mismatch lines (each struct against its best-matching BTF candidate), members
        compared, bitfields not compared."""
        errs = list(self.errors)
        members = bitfields = 0
        for name, cands in self.structs:
            best = None
            for c in cands:
                e = c["errors"] + [f"{label}: Rust {what} {values[i]}, BTF {want}"
                                   for label, what, i, want in c["checks"] if values[i] != want]
                if best is None or len(e) < len(best[0]):
                    best = (e, c)
            errs += best[0]
            members += best[1]["members"]
            bitfields += best[1]["bitfields"]
        return errs, members, bitfields


def rust_source(plan, bindings):
    lines = [
        "// Generated by tools/harness/bindings_check.py.",
        "#![no_std]",
        "#![allow(warnings)]",
        "pub mod ffi {",
        "    pub type c_char = u8;",
        "    pub type c_schar = i8;",
        "    pub type c_uchar = u8;",
        "    pub type c_short = i16;",
        "    pub type c_ushort = u16;",
        "    pub type c_int = i32;",
        "    pub type c_uint = u32;",
        "    pub type c_long = isize;",
        "    pub type c_ulong = usize;",
        "    pub type c_longlong = i64;",
        "    pub type c_ulonglong = u64;",
        "    pub use core::ffi::c_void;",
        "}",
        "#[allow(warnings, clippy::all)]",
        "pub mod bindings {",
        "    use super::ffi;",
        "    type __kernel_size_t = usize;",
        "    type __kernel_ssize_t = isize;",
        "    type __kernel_ptrdiff_t = isize;",
        f"    include!({json.dumps(os.path.abspath(bindings), ensure_ascii=False)});",
        "}",
        "#[used]",
        f'#[link_section = "{SECTION}"]',
        f"static LAYOUT: [u64; {len(plan.exprs)}] = [",
    ]
    lines += [f"    ({e}) as u64," for e in plan.exprs]
    lines.append("];")
    return "\n".join(lines) + "\n"


def measure(plan, bindings, rustc, keep=None):
    """Compile the plan's expressions against `bindings`; return their values."""
    tmp = tempfile.mkdtemp(prefix="bindings_check.")
    try:
        src = os.path.join(tmp, "layout.rs")
        obj = os.path.join(tmp, "layout.o")
        # Newer kernels' bindgen parameters (7.3) add what only the kernel's own build
        # compiles: derives of pin-init's MaybeZeroable and #[cfi_encoding] (unstable).
        # Neither changes a layout; a copy of the bindings without them is measured.
        text = open(bindings, errors="replace").read()
        if "MaybeZeroable" in text or "cfi_encoding" in text:
            text = re.sub(r"^\s*#\[cfi_encoding = \"[^\"]*\"\]\s*$", "", text, flags=re.M)
            text = re.sub(r",\s*MaybeZeroable\b", "", text)
            text = re.sub(r"\bMaybeZeroable\s*,\s*", "", text)
            text = re.sub(r"^\s*#\[derive\(MaybeZeroable\)\]\s*$", "", text, flags=re.M)
            bindings = os.path.join(tmp, "bindings_generated.rs")
            with open(bindings, "w") as f:
                f.write(text)
        with open(src, "w") as f:
            f.write(rust_source(plan, bindings))
        if keep:
            shutil.copy(src, keep)
        cmd = rustc + ["--edition", "2021", "--crate-type", "lib", "--crate-name",
                       "bindings_layout", "--emit", "obj", "-C", "opt-level=0",
                       "--target", "x86_64-unknown-linux-gnu", "-o", obj, src]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as e:
            raise ToolError(f"cannot run {rustc[0]}: {e}")
        if r.returncode != 0:
            raise ToolError(f"rustc failed on the generated layout crate:\n{r.stderr[-4000:]}")
        blob = elf_section_file(obj, SECTION)
        if blob is None or len(blob) != 8 * len(plan.exprs):
            raise ToolError(f"{SECTION} missing or of the wrong size in {obj}")
        return struct.unpack(f"<{len(plan.exprs)}Q", blob)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check(btf, rust, bindings, names, rustc, follow=True, keep=None, required=True):
    """Compare structs `names` (and what they embed if `follow`) of the bindings file
    `bindings`, parsed into `rust` (read_rust_types), with `btf`; return (mismatches,
    warnings, notes, structs, members, bitfields)."""
    plan = Plan(btf, *rust)
    for name in names:
        work = [(name, None)]
        while work:
            n, tid = work.pop(0)
            work += plan.add_struct(n, follow, required and tid is None, tid)
    values = measure(plan, bindings, rustc, keep) if plan.exprs else ()
    errs, members, bitfields = plan.judge(values)
    return errs, plan.warnings, plan.notes, len(plan.structs), members, bitfields


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kdir",
                    help="kernel build tree (vmlinux, rust/bindings/bindings_generated.rs)")
    ap.add_argument("--vmlinux", help="vmlinux (or a raw BTF file) to read BTF from")
    ap.add_argument("--bindings", help="bindgen output to check (bindings_generated.rs)")
    ap.add_argument("--struct", action="append", dest="structs", metavar="NAME",
                    help="check NAME instead of the default list (repeatable)")
    ap.add_argument("--all", action="store_true",
                    help="check every struct/union named in both BTF and the bindings")
    ap.add_argument("--no-follow", action="store_true",
                    help="do not also check the types the structs embed by value")
    ap.add_argument("--rustc", default=os.environ.get("RUSTC", "rustc"),
                    help="rustc to compile with (default: $RUSTC or rustc)")
    ap.add_argument("--keep", metavar="FILE", help="also write the generated Rust source to FILE")
    ap.add_argument("-v", "--verbose", action="store_true", help="print notes (opaque types...)")
    try:
        a = ap.parse_args()
    except SystemExit as e:
        return 2 if e.code else 0
    if a.kdir:
        a.vmlinux = a.vmlinux or os.path.join(a.kdir, "vmlinux")
        a.bindings = a.bindings or os.path.join(a.kdir, "rust/bindings/bindings_generated.rs")
    if not a.vmlinux or not a.bindings:
        ap.print_usage(sys.stderr)
        log("error: --kdir, or --vmlinux and --bindings, needed")
        return 2
    start = time.monotonic()
    try:
        for p in (a.vmlinux, a.bindings):
            if not os.path.isfile(p):
                raise ToolError(f"{p}: no such file")
        btf = read_btf(a.vmlinux)
        rust = read_rust_types(a.bindings)
        if a.all:
            names = sorted(n for n in rust[0] if n in btf.by_name)
        else:
            names = a.structs or STRUCTS
        errs, warnings, notes, ns, nm, nb = check(btf, rust, a.bindings, names, a.rustc.split(),
                                             not a.no_follow, a.keep, required=not a.all)
    except ToolError as e:
        log(f"error: {e}")
        return 2
    except Exception as e:  # a crash is a tool error, never a verdict
        log(f"error: {type(e).__name__}: {e}")
        return 2
    for e in errs:
        log(e)
    for w in warnings:
        log(f"warning: {w}")
    if a.verbose:
        for n in notes:
            log(f"note: {n}")
    took = time.monotonic() - start
    print(f"{PREFIX}: {ns} structs, {nm} members ({nb} bitfields skipped) of "
          f"{os.path.basename(a.bindings)} compared with {os.path.basename(a.vmlinux)} BTF: "
          f"{len(errs)} mismatch(es) ({took:.1f}s)")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
