#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generates the C of the BTF of Rust BPF iterator targets from their object file.

pahole emits no BTF for Rust code, so what BPF programs see of a Rust target must be declared
in C: the `bpf_iter_<target>` anchor that programs attach to (DEFINE_BPF_ITER_FUNC), the
context struct `bpf_iter__<target>`, and the target's own structs that programs get pointers
to. The same holds for open-coded iterators (kernel::bpf::iter::OpenIter) and the module's
other kfuncs (kernel::bpf::iter::Kfunc): their kfuncs (`bpf_iter_<name>_{new,next,destroy}`,
and each of the others) must be C functions with BTF, which call the Rust ones, and the
module's one kfunc set lists them. A target's link parameters (Target::Params) are named for
tools by `struct rust_bpf_iter_params__<target>`. kernel::bpf::iter records all of it in the
Rust object: one `.rust_bpf_iter_layout` record per target (bpf_iter_layout!, from
bpf_iter_context!), per open iterator (bpf_open_iter!) and per kfunc (bpf_kfunc!), and one
`.rust_bpf_iter_types` record per own struct (bpf_iter_btf_struct!). This script turns those records into that C file, so that a target is
written in Rust only; Kbuild runs it for `X.btf.o` in a module or a built-in
directory (`X.btf.c` from `X.o`, scripts/Makefile.build). See Documentation/rust/bpf_iter.rst.

  rust_bpf_iter_btf.py OBJECT.o OUT.c
"""

import struct
import sys

RECORD = 1024
KINDS = {1: "scalar", 2: "btf", 3: "trusted btf", 4: "rdonly buf"}
PROTECTION = {0: "plain", 1: "rcu", 2: "sleepable"}
# The kfunc flags of each function of an open iterator, by protection (include/linux/btf.h):
# KF_RCU_PROTECTED on new, as the kernel's task and css iterators; KF_SLEEPABLE on all three.
FLAGS = {
    "plain": ("KF_ITER_NEW", "KF_ITER_NEXT | KF_RET_NULL", "KF_ITER_DESTROY"),
    "rcu": ("KF_ITER_NEW | KF_RCU_PROTECTED", "KF_ITER_NEXT | KF_RET_NULL", "KF_ITER_DESTROY"),
    "sleepable": ("KF_ITER_NEW | KF_SLEEPABLE", "KF_ITER_NEXT | KF_RET_NULL | KF_SLEEPABLE",
                  "KF_ITER_DESTROY | KF_SLEEPABLE"),
}
INTS = {1: "8", 2: "16", 4: "32", 8: "64"}
# The kinds of link parameters (kernel::bpf::iter::Params): 4 and 5 are the target's own.
PARAMS = {0: "none", 1: "task", 2: "map", 3: "cgroup", 4: "int", 5: "struct"}


def cstr(b):
    return b.split(b"\0")[0].decode()


def sections(data, names):
    """Contents of the named sections of an ELF64 little-endian file (a name may repeat)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sh = lambda i: struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab = sh(shstrndx)
    out = {n: b"" for n in names}
    for i in range(shnum):
        s = sh(i)
        off = strtab[4] + s[0]
        name = data[off:data.index(b"\0", off)].decode()
        if name in out and s[1] != 8:  # not SHT_NOBITS
            out[name] += data[s[4]:s[4] + s[5]]
    return out


def records(blob):
    """The target (RBIL), open iterator (RBOI) and kfunc (RBKF) records of a
    .rust_bpf_iter_layout section."""
    tgts, opens, kfuncs = [], [], []
    for at in range(0, len(blob) - RECORD + 1, RECORD):
        r = blob[at:at + RECORD]
        if r[:4] == b"RBOI" and r[4] == 2:
            opens.append(open_iter(r))
            continue
        if r[:4] == b"RBKF" and r[4] == 1:
            kfuncs.append(kfunc(r))
            continue
        if r[:4] != b"RBIL" or r[4] != 4:
            raise ValueError(f"layout record at offset {at}: not a version 4 target, version 2 "
                             "open iterator or version 1 kfunc record (a kernel crate that does "
                             "not match this script?)")
        slots = []
        for i in range(r[5]):
            s = r[64 + 104 * i:168 + 104 * i]
            slots.append({"kind": KINDS[s[0]], "signed": bool(s[2]),
                          "size": struct.unpack_from("<I", s, 4)[0],
                          "type": cstr(s[8:40]), "name": cstr(s[40:72]),
                          "header": cstr(s[72:104])})
        tgts.append((cstr(r[8:64]), slots, params(r[896:964])))
    return tgts, opens, kfuncs


def params(p):
    """The link parameters of a target record: (kind, None or, for the target's own, the C
    type of the member, its array elements and its size)."""
    kind, n, ctype = p[0], struct.unpack_from("<I", p, 4)[0], cstr(p[8:64])
    size = struct.unpack_from("<I", p, 64)[0]
    if kind not in PARAMS:
        raise ValueError(f"unknown link parameter kind {kind}")
    name = PARAMS[kind]
    if name in ("none", "task", "map", "cgroup"):
        return name, None
    return "custom", (f"struct {ctype}" if name == "struct" else ctype, n, size)


def open_iter(r):
    """An open iterator record (kernel::bpf::iter::OpenRecord)."""
    return {"name": cstr(r[8:64]), "ident": cstr(r[64:96]),
            "protection": PROTECTION[r[6]],
            "words": struct.unpack_from("<I", r, 96)[0],
            "ret": cstr(r[100:132]),
            "args": [(cstr(r[136 + 64 * i:168 + 64 * i]), cstr(r[168 + 64 * i:200 + 64 * i]))
                     for i in range(r[5])],
            "headers": [h for h in [cstr(r[400:432])] +
                        [cstr(r[432 + 32 * i:464 + 32 * i]) for i in range(r[5])] if h]}


def kfunc(r):
    """A kfunc record (kernel::bpf::iter::KfuncRecord): laid out as an open iterator's, with
    no state size and no type returned (the kfunc returns s64)."""
    return {"name": cstr(r[8:64]), "ident": cstr(r[64:96]),
            "protection": PROTECTION[r[6]],
            "args": [(cstr(r[136 + 64 * i:168 + 64 * i]), cstr(r[168 + 64 * i:200 + 64 * i]))
                     for i in range(r[5])],
            "headers": [h for h in [cstr(r[432 + 32 * i:464 + 32 * i]) for i in range(r[5])]
                        if h]}


def types(blob):
    for at in range(0, len(blob) - RECORD + 1, RECORD):
        r = blob[at:at + RECORD]
        if r[:4] != b"RBIT" or r[4] != 1:
            raise ValueError(f"type record at offset {at}: not version 1")
        fields = []
        for i in range(r[5]):
            f = r[72 + 80 * i:152 + 80 * i]
            n, off = struct.unpack_from("<II", f, 64)
            fields.append((cstr(f[:32]), cstr(f[32:64]), n, off))
        yield cstr(r[8:64]), struct.unpack_from("<I", r, 64)[0], fields


def c_param(slot):
    """The C type of a slot, as an anchor parameter."""
    if slot["kind"] == "scalar":
        return ("s" if slot["signed"] else "u") + INTS[slot["size"]]
    if slot["kind"] == "rdonly buf":
        return "const char *"
    return f"struct {slot['type']} *"


def generate(obj, blobs):
    out = [
        "// SPDX-License-Identifier: GPL-2.0",
        "/*",
        f" * The BTF of the BPF iterator targets of {obj}, generated from its",
        " * .rust_bpf_iter_layout and .rust_bpf_iter_types records by",
        " * scripts/rust_bpf_iter_btf.py: do not edit.",
        " */",
    ]
    tgts, opens, kfuncs = records(blobs[".rust_bpf_iter_layout"])
    own = list(types(blobs[".rust_bpf_iter_types"]))
    if not tgts and not opens and not kfuncs:
        raise ValueError(f"{obj} has no BPF iterator target, open-coded iterator or kfunc (no "
                         ".rust_bpf_iter_layout record)")
    # Two target types of one name in a module would share one anchor, so that a program
    # verified against the context of one could be attached to the other: refused here, at
    # build time (and by the kernel at attach, for code that registers without a record).
    # Two open iterators of one name would share kfunc names.
    # A kfunc named as another, as one of an open iterator's, as a target's anchor or as a
    # global of this file would be a second definition.
    fnames = ([f"bpf_iter_{o['name']}_{f}" for o in opens for f in ("new", "next", "destroy")]
              + [f"bpf_iter_{n}" for n, _, _ in tgts]
              + ["__rust_bpf_kfuncs", "__rust_bpf_kfunc_set", "__rust_bpf_kfunc_ids"]
              + [k["name"] for k in kfuncs])
    for what, names in (("target", [n for n, _, _ in tgts]),
                        ("open iterator", [o["name"] for o in opens]),
                        ("kfunc", fnames)):
        seen = set()
        for name in names:
            if name in seen:
                raise ValueError(f"two {what} types are named {name!r}: a module's {what}s "
                                 "need names of their own")
            seen.add(name)
    headers = ["linux/bpf.h", "linux/build_bug.h", "linux/compiler.h", "linux/stddef.h",
               "linux/types.h"]
    for _, slots, _ in tgts:
        for s in slots:
            if s["header"] and s["header"] not in headers:
                headers.append(s["header"])
    if opens or kfuncs:
        headers += ["linux/btf.h", "linux/btf_ids.h", "linux/module.h", "linux/preempt.h"]
        for h in (h for o in opens + kfuncs for h in o["headers"]):
            if h not in headers:
                headers.append(h)
    out += [f"#include <{h}>" for h in headers]
    for name, size, fields in own:
        out += ["", f"struct {name} {{"]
        for fname, ctype, n, _ in fields:
            out.append(f"\t{ctype} {fname}{f'[{n}]' if n else ''};")
        out.append("};")
        out.append(f"static_assert(sizeof(struct {name}) == {size});")
        for fname, _, _, off in fields:
            out.append(f"static_assert(offsetof(struct {name}, {fname}) == {off});")
    for name, slots, (pkind, ptype) in tgts:
        out += ["", f"struct bpf_iter__{name} {{", "\t__bpf_md_ptr(struct bpf_iter_meta *, meta);"]
        for s in slots:
            t = c_param(s)
            if t.endswith("*"):
                out.append(f"\t__bpf_md_ptr({t}, {s['name']});")
            else:
                out.append(f"\t{t} {s['name']} __aligned(8);")
        out.append("};")
        params = ", ".join(["struct bpf_iter_meta *meta"] +
                           [f"{c_param(s)}{'' if c_param(s).endswith('*') else ' '}{s['name']}"
                            for s in slots])
        out += ["", f"DEFINE_BPF_ITER_FUNC({name}, {params})", "",
                "/* The context struct is in BTF for program authors, though no C reads it. */",
                f"static const struct bpf_iter__{name} *__rust_bpf_iter_ctx_{name} __used;"]
        out += link_params(name, pkind, ptype)
    if opens or kfuncs:
        out += open_iters(opens, kfuncs)
    return "\n".join(out) + "\n"


def link_params(name, kind, ctype):
    """The struct that tells tools which link parameters a target takes (Target::Params)."""
    if kind == "none":
        member = []
    elif kind == "custom":
        t, n, size = ctype
        member = [f"\t{t} custom{f'[{n}]' if n else ''};"]
    else:
        member = [f"\ttypeof(((union bpf_iter_link_info *)0)->{kind}) {kind};"]
    # The Rust type the kernel reads has the size of the C type recorded for tools.
    check = ([f"static_assert(sizeof(((struct rust_bpf_iter_params__{name} *)0)->custom) == "
              f"{ctype[2]});"] if kind == "custom" else [])
    return ["", "/*",
            f" * The link parameters {name} takes, for tools (bpf-iter list): the member's name is",
            " * their kind (task, map, cgroup, or custom: the target's own, of the member's type),",
            " * no member for none.",
            " */",
            f"struct rust_bpf_iter_params__{name} {{"] + member + [
            "};"] + check + [
            f"static const struct rust_bpf_iter_params__{name} *__rust_bpf_iter_params_{name} "
            "__used;"]


def own_kfuncs(kfuncs):
    """The C kfuncs of the module's own (kernel::bpf::iter::Kfunc), and their entries in the
    set: each calls its Rust function with in_nmi() and the arguments widened to u64, and
    returns its s64."""
    out, funcs = [], []
    for k in kfuncs:
        n, rust = k["name"], f"__rust_bpf_kfunc_{k['ident']}"
        params = ", ".join(f"{t}{'' if t.endswith('*') else ' '}{a}" for t, a in k["args"])
        passed = "(u64)!!in_nmi()" + "".join(f", (u64){a}" for _, a in k["args"])
        passed += ", 0" * (4 - len(k["args"]))
        for ident in [n] + [a for _, a in k["args"]]:
            out += [f"#ifdef {ident}", f'#error "{ident} is a macro of the kernel\'s headers"',
                    "#endif"]
        out += ["", f"/* The kfunc {n}, whose code is the Rust type {k['ident']}'s. */",
                f"s64 {rust}(u64 nmi, u64 a0, u64 a1, u64 a2, u64 a3);", "",
                "__bpf_kfunc_start_defs();", "",
                f"__bpf_kfunc s64 {n}({params or 'void'})",
                "{", f"\treturn {rust}({passed});", "}", "",
                "__bpf_kfunc_end_defs();"]
        flags = "KF_SLEEPABLE" if k["protection"] == "sleepable" else "0"
        if any(t.endswith("*") for t, _ in k["args"]):
            flags = ("" if flags == "0" else flags + " | ") + "__RUST_BPF_KF_TRUSTED"
        funcs.append((n, flags))
    return out, funcs


def open_iters(opens, kfuncs):
    """The kfuncs of the open iterators, their state structs, the module's own kfuncs and the
    module's one kfunc set."""
    out = ["",
           "/*",
           " * A pointer argument of a kfunc (an iterator's new, or the module's own) must be",
           " * trusted (referenced, or trusted to live): what",
           " * KF_TRUSTED_ARGS asks for where the kernel defines it, and the default where not.",
           " */",
           "#ifdef KF_TRUSTED_ARGS",
           "#define __RUST_BPF_KF_TRUSTED KF_TRUSTED_ARGS",
           "#else",
           "#define __RUST_BPF_KF_TRUSTED 0",
           "#endif"]
    funcs = []
    for o in opens:
        n, rust = o["name"], f"__rust_bpf_open_iter_{o['ident']}"
        st = f"struct bpf_iter_{n}"
        params = "".join(f", {t}{'' if t.endswith('*') else ' '}{a}" for t, a in o["args"])
        passed = ", (u64)!!in_nmi()" + "".join(f", (u64){a}" for _, a in o["args"])
        passed += ", 0" * (4 - len(o["args"]))
        # Identifiers from the record are C text: one that is a macro (`current`) would expand.
        for ident in [f"bpf_iter_{n}"] + [a for _, a in o["args"]]:
            out += [f"#ifdef {ident}", f'#error "{ident} is a macro of the kernel\'s headers"',
                    "#endif"]
        out += ["", f"/* The state of an open-coded {n} iterator, in the program's stack. */",
                f"{st} {{", f"\t__u64 __opaque[{o['words']}];", "} __aligned(8);", "",
                f"int {rust}_new({st} *it, u64 nmi, u64 a0, u64 a1, u64 a2, u64 a3);",
                f"{o['ret']} *{rust}_next({st} *it);",
                f"void {rust}_destroy({st} *it);", "",
                "__bpf_kfunc_start_defs();", "",
                f"__bpf_kfunc int bpf_iter_{n}_new({st} *it{params})",
                "{", f"\treturn {rust}_new(it{passed});", "}", "",
                f"__bpf_kfunc {o['ret']} *bpf_iter_{n}_next({st} *it)",
                "{", f"\treturn {rust}_next(it);", "}", "",
                f"__bpf_kfunc void bpf_iter_{n}_destroy({st} *it)",
                "{", f"\t{rust}_destroy(it);", "}", "",
                "__bpf_kfunc_end_defs();"]
        for fn, flags in zip(("new", "next", "destroy"), FLAGS[o["protection"]]):
            if fn == "new" and any(t.endswith("*") for t, _ in o["args"]):
                flags += " | __RUST_BPF_KF_TRUSTED"
            funcs.append((f"bpf_iter_{n}_{fn}", flags))
    own, own_funcs = own_kfuncs(kfuncs)
    out += own
    funcs += own_funcs
    out += ["", "/* The module's one kfunc set (a second one on a hook is refused). */",
            "BTF_KFUNCS_START(__rust_bpf_kfunc_ids)"]
    out += [f"BTF_ID_FLAGS(func, {f}, {flags})" for f, flags in funcs]
    out += ["BTF_KFUNCS_END(__rust_bpf_kfunc_ids)", "",
            "static const struct btf_kfunc_id_set __rust_bpf_kfunc_set = {",
            "\t.owner = THIS_MODULE,", "\t.set = &__rust_bpf_kfunc_ids,", "};", "",
            "/*",
            " * What kernel::bpf::iter::register_kfuncs() registers, and the name and address of",
            " * each kfunc, which it checks against kallsyms: the layout of its KfuncTable",
            " * (registered: its flag, which only Rust reads and writes).",
            " */",
            "struct {",
            "\tconst struct btf_kfunc_id_set *set;",
            "\tunsigned long len;",
            "\t_Bool registered;",
            "\tstruct {",
            "\t\tconst char *name;",
            "\t\tconst void *addr;",
            f"\t}} funcs[{len(funcs)}];",
            "} __rust_bpf_kfuncs = {",
            "\t.set = &__rust_bpf_kfunc_set,",
            f"\t.len = {len(funcs)},",
            "\t.funcs = {"]
    out += [f'\t\t{{ "{f}", {f} }},' for f, _ in funcs]
    out += ["\t},", "};"]
    return out


def main():
    obj, dest = sys.argv[1], sys.argv[2]
    with open(obj, "rb") as f:
        data = f.read()
    try:
        text = generate(obj.rsplit("/", 1)[-1],
                        sections(data, [".rust_bpf_iter_layout", ".rust_bpf_iter_types"]))
    except ValueError as e:
        sys.exit(f"rust_bpf_iter_btf.py: {obj}: {e}")
    with open(dest, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
