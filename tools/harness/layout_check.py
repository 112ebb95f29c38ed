#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build-time check of Rust BPF iterator contexts against BTF.

A module written with kernel::bpf::iter carries, in its `.rust_bpf_iter_layout` section, one
record per target describing the context Rust fills (see `LayoutRecord` in
rust/kernel/bpf/iter/records.rs), and in `.rust_bpf_iter_types` one record per struct of its own
that programs see (`TypeRecord`, from bpf_iter_btf_struct!). The C of its BTF (the
`bpf_iter_<target>` anchor that programs are verified against, the context and own structs) is
generated from those records (scripts/rust_bpf_iter_btf.py), or, in a module that keeps a C file
of its own, written by hand; pahole puts it in the module's BTF. This script compares the BTF
with the records, slot by slot and field by field, and fails if they differ or if an anchor of
the module has no record; it checks the kfuncs of each open-coded iterator (an `OpenRecord` in
the same section, rust/kernel/bpf/iter/open.rs) the same way, so a mismatch (of the generator, or of a hand-written file) is a build
error rather than a registration failure or a verifier surprise.

  layout_check.py --vmlinux VMLINUX --bpftool BPFTOOL MODULE.ko...
"""

import argparse
import json
import struct
import subprocess
import sys

SECTION = ".rust_bpf_iter_layout"
TYPES = ".rust_bpf_iter_types"
RECORD = 1024
MODIFIERS = {"TYPEDEF", "VOLATILE", "CONST", "RESTRICT", "TYPE_TAG"}
KINDS = {1: "scalar", 2: "btf", 3: "trusted btf", 4: "rdonly buf"}


def elf_section(data, name):
    """Return the contents of section `name` of an ELF64 little-endian file, or None."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def sh(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab = sh(shstrndx)
    for i in range(shnum):
        s = sh(i)
        off = strtab[4] + s[0]
        sname = data[off:data.index(b"\0", off)].decode()
        if sname == name:
            return data[s[4]:s[4] + s[5]]
    return None


def parse_records(blob):
    """The target records (RBIL), the open iterator records (RBOI) and the kfunc records (RBKF)
    of a module."""
    recs, opens, kfuncs = [], [], []
    for at in range(0, len(blob) - RECORD + 1, RECORD):
        r = blob[at:at + RECORD]
        if r[:4] == b"RBKF" and r[4] == 1:
            cs = lambda a, b: r[a:b].split(b"\0")[0].decode()
            kfuncs.append({"name": cs(8, 64),
                           "args": [(cs(136 + 64 * i, 168 + 64 * i),
                                     cs(168 + 64 * i, 200 + 64 * i)) for i in range(r[5])]})
            continue
        if r[:4] == b"RBOI" and r[4] == 2:
            cs = lambda a, b: r[a:b].split(b"\0")[0].decode()
            opens.append({"name": cs(8, 64), "words": struct.unpack_from("<I", r, 96)[0],
                          "ret": cs(100, 132),
                          "args": [(cs(136 + 64 * i, 168 + 64 * i), cs(168 + 64 * i, 200 + 64 * i))
                                   for i in range(r[5])]})
            continue
        if r[:4] != b"RBIL" or r[4] != 4:
            raise ValueError(f"bad layout record at offset {at}")
        n = r[5]
        name = r[8:64].split(b"\0")[0].decode()
        slots = []
        for i in range(n):
            s = r[64 + 104 * i:168 + 104 * i]
            size, = struct.unpack_from("<I", s, 4)
            slots.append({"kind": s[0], "origin": s[1], "signed": bool(s[2]), "size": size,
                          "type": s[8:40].split(b"\0")[0].decode(),
                          "name": s[40:72].split(b"\0")[0].decode()})
        pk, = struct.unpack_from("<I", r, 900)
        recs.append({"name": name, "slots": slots,
                     "params": (r[896], pk, r[904:960].split(b"\0")[0].decode())})
    return recs, opens, kfuncs


def parse_types(blob):
    """(name, size, [(field, C type, elements, offset)]) of each own-struct record."""
    recs = []
    for at in range(0, len(blob) - RECORD + 1, RECORD):
        r = blob[at:at + RECORD]
        if r[:4] != b"RBIT" or r[4] != 1:
            raise ValueError(f"bad type record at offset {at}")
        fields = []
        for i in range(r[5]):
            f = r[72 + 80 * i:152 + 80 * i]
            n, off = struct.unpack_from("<II", f, 64)
            fields.append((f[:32].split(b"\0")[0].decode(), f[32:64].split(b"\0")[0].decode(),
                           n, off))
        recs.append((r[8:64].split(b"\0")[0].decode(), struct.unpack_from("<I", r, 64)[0],
                     fields))
    return recs


C_SIZES = {"__u8": 1, "__s8": 1, "__u16": 2, "__s16": 2, "__u32": 4, "__s32": 4, "__u64": 8,
           "__s64": 8}


def check_types(types, split_ids, recs):
    """Check each own struct of the module's BTF against its record, member by member."""
    errs = []
    # The module's own first; a struct identical to vmlinux's (the same sample built in) is
    # deduplicated against it, and lookups in the module's BTF find it there too.
    structs = {t["name"]: t for i, t in sorted(types.items(), key=lambda it: it[0] in split_ids)
               if t["kind"] == "STRUCT" and "name" in t}
    for name, size, fields in recs:
        t = structs.get(name)
        if t is None:
            errs.append(f"struct {name}: not in the module's BTF (or vmlinux')")
            continue
        if t["size"] != size:
            errs.append(f"struct {name} is {t['size']} bytes, its Rust view {size}")
        members = t["members"]
        if [m["name"] for m in members] != [f[0] for f in fields]:
            errs.append(f"struct {name}: members {[m['name'] for m in members]}, Rust "
                        f"{[f[0] for f in fields]}")
            continue
        for m, (fname, ctype, n, off) in zip(members, fields):
            mt = resolve(types, m["type_id"])
            want = C_SIZES.get(ctype, 0) * (n or 1)
            got = mt and (mt["size"] if mt["kind"] == "INT" else
                          resolve(types, mt["type_id"])["size"] * mt["nr_elems"]
                          if mt["kind"] == "ARRAY" else None)
            if m["bits_offset"] != 8 * off or got != want or (n and mt["kind"] != "ARRAY"):
                errs.append(f"struct {name}.{fname}: at byte {m['bits_offset'] // 8}, "
                            f"{got} bytes; Rust: at {off}, {want} bytes")
    return errs


def btf_types(bpftool, path, base=None):
    cmd = [bpftool, "-j"] + (["-B", base] if base else []) + ["btf", "dump", "file", path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {t["id"]: t for t in json.loads(out)["types"]}


def resolve(types, tid):
    t = types.get(tid)
    for _ in range(32):
        if t is None or t["kind"] not in MODIFIERS:
            return t
        t = types.get(t["type_id"])
    return None


def is_signed(t):
    """Whether an INT, ENUM or ENUM64 of bpftool's JSON is signed (its "encoding": an
    integer's BTF_INT_SIGNED, an enum's kind_flag)."""
    return t.get("encoding") == "SIGNED"


def check_record(types, rec, anchor):
    """Return a list of mismatches between `rec` and the FUNC `anchor`."""
    errs = []
    proto = types.get(anchor["type_id"])
    if not proto or proto["kind"] != "FUNC_PROTO":
        return [f"{anchor['name']} is not a function"]
    params = proto["params"]
    if len(params) != 1 + len(rec["slots"]):
        return [f"{anchor['name']} has {len(params)} parameters, Rust declares meta + "
                f"{len(rec['slots'])}"]
    p0 = resolve(types, params[0]["type_id"])
    meta = p0 and p0["kind"] == "PTR" and resolve(types, p0["type_id"])
    if not meta or meta.get("name") != "bpf_iter_meta":
        errs.append("parameter 0 is not struct bpf_iter_meta *")
    for i, slot in enumerate(rec["slots"], 1):
        t = resolve(types, params[i]["type_id"])
        what = f"parameter {i} ({params[i]['name']})"
        kind = KINDS.get(slot["kind"], "?")
        if params[i]["name"] != slot["name"]:
            errs.append(f"{what} is named {slot['name']} in the Rust context")
        if kind == "scalar":
            if not t or t["kind"] not in ("INT", "ENUM", "ENUM64") or t["size"] != slot["size"]:
                errs.append(f"{what} is not a {slot['size']}-byte integer")
            elif is_signed(t) != slot["signed"]:
                sign = {True: "signed", False: "unsigned"}
                errs.append(f"{what} is {sign[is_signed(t)]}, Rust declares it "
                            f"{sign[slot['signed']]}")
        elif kind == "rdonly buf":
            b = t and t["kind"] == "PTR" and resolve(types, t["type_id"])
            if not b or b["kind"] != "INT" or b["size"] != 1:
                errs.append(f"{what} is not a byte buffer (const char *)")
        elif kind in ("btf", "trusted btf"):
            s = t and t["kind"] == "PTR" and resolve(types, t["type_id"])
            if not s or s["kind"] != "STRUCT" or s["name"] != slot["type"]:
                got = s["name"] if s else "?"
                errs.append(f"{what} is struct {got} *, Rust declares struct {slot['type']} *")
            elif slot["origin"] == 1 and s["size"] != slot["size"]:
                errs.append(f"struct {slot['type']} is {s['size']} bytes, its Rust view "
                            f"{slot['size']}")
        else:
            errs.append(f"{what}: unknown slot kind {slot['kind']}")
    return errs


def takes_meta(types, func):
    """Whether FUNC `func` takes `struct bpf_iter_meta *` first: an iterator target's anchor, not
    one of the kfuncs `bpf_iter_<name>_{new,next,destroy}` of an open-coded iterator."""
    proto = types.get(func["type_id"])
    if not proto or proto["kind"] != "FUNC_PROTO" or not proto["params"]:
        return False
    p0 = resolve(types, proto["params"][0]["type_id"])
    meta = p0 and p0["kind"] == "PTR" and resolve(types, p0["type_id"])
    return bool(meta) and meta.get("name") == "bpf_iter_meta"


def check_module(types, split_ids, recs):
    """Check every record of a module and that every anchor of the module has one."""
    errs = []
    anchors = {t["name"][len("bpf_iter_"):]: t for i, t in types.items()
               if i in split_ids and t["kind"] == "FUNC" and t["name"].startswith("bpf_iter_")
               and takes_meta(types, t)}
    by_name = {r["name"]: r for r in recs}
    for name, rec in by_name.items():
        if name not in anchors:
            errs.append(f"{name}: no anchor bpf_iter_{name} in the module's BTF")
            continue
        errs += [f"{name}: {e}" for e in check_record(types, rec, anchors[name])]
        errs += [f"{name}: {e}" for e in check_params(types, split_ids, rec)]
    for name in anchors:
        if name not in by_name:
            errs.append(f"{name}: anchor bpf_iter_{name} has no layout record "
                        "(module_bpf_iter_target! or bpf_iter_layout!)")
    return errs


PARAM_KINDS = {0: None, 1: "task", 2: "map", 3: "cgroup", 4: "custom", 5: "custom"}


def check_params(types, split_ids, rec):
    """Check the struct that names a target's link parameters for tools against its record:
    no member for none, else one named after the kind; a custom one of the recorded type."""
    kind, n, ctype = rec["params"]
    sname = f"rust_bpf_iter_params__{rec['name']}"
    t = next((t for _, t in sorted(types.items(), key=lambda it: it[0] not in split_ids)
              if t["kind"] == "STRUCT" and t.get("name") == sname), None)
    if t is None:
        return [f"no struct {sname} in the module's BTF"]
    if kind not in PARAM_KINDS:
        return [f"unknown link parameter kind {kind}"]
    want = PARAM_KINDS[kind]
    got = [m["name"] for m in t["members"]]
    if got != ([want] if want else []):
        return [f"struct {sname} has members {got}, the record kind {want or 'none'}"]
    if want != "custom":
        return []
    mt = resolve(types, t["members"][0]["type_id"])
    if n:
        if not mt or mt["kind"] != "ARRAY" or mt["nr_elems"] != n:
            return [f"{sname}.custom is not an array of {n}"]
        mt = resolve(types, mt["type_id"])
    c = f"struct {ctype}" if kind == 5 else ctype
    if not is_ctype(types, mt, c):
        return [f"{sname}.custom is not {c}{f'[{n}]' if n else ''}"]
    return []


def is_ctype(types, t, ctype):
    """Whether the resolved BTF type `t` is the recorded C type: an integer (`__u32`, `__s64`)
    or a struct (`struct task_struct`, `struct task_struct *`)."""
    if ctype.startswith("struct "):
        name, ptr = ctype[7:].rstrip(" *"), ctype.endswith("*")
        if ptr:
            t = t and t["kind"] == "PTR" and resolve(types, t["type_id"])
        return bool(t) and t["kind"] == "STRUCT" and t["name"] == name
    want = (ctype.startswith("__s"), int(ctype[3:]) // 8)
    return bool(t) and t["kind"] == "INT" and (is_signed(t), t["size"]) == want


def check_open(types, split_ids, opens):
    """Check the kfuncs of each open iterator against its record: the state struct of the
    recorded size as the first parameter of all three, new's other parameters, next's pointer
    to the recorded integer or struct, destroy's void."""
    errs = []
    funcs = {t["name"]: t for i, t in types.items() if i in split_ids and t["kind"] == "FUNC"}
    for o in opens:
        n = o["name"]
        protos = {}
        for fn in ("new", "next", "destroy"):
            f = funcs.get(f"bpf_iter_{n}_{fn}")
            proto = f and types.get(f["type_id"])
            if not proto or proto["kind"] != "FUNC_PROTO":
                errs.append(f"{n}: no kfunc bpf_iter_{n}_{fn} in the module's BTF")
                continue
            protos[fn] = proto
            p0 = proto["params"] and resolve(types, proto["params"][0]["type_id"])
            st = p0 and p0["kind"] == "PTR" and resolve(types, p0["type_id"])
            if not st or st["kind"] != "STRUCT" or st["name"] != f"bpf_iter_{n}":
                errs.append(f"{n}: bpf_iter_{n}_{fn} does not take struct bpf_iter_{n} * first")
            elif st["size"] != 8 * o["words"]:
                e = f"{n}: struct bpf_iter_{n} is {st['size']} bytes, the Rust state {8 * o['words']}"
                if e not in errs:
                    errs.append(e)
        if "new" in protos:
            params = protos["new"]["params"][1:]
            if [(p["name"]) for p in params] != [a for _, a in o["args"]]:
                errs.append(f"{n}: bpf_iter_{n}_new's parameters are "
                            f"{[p['name'] for p in params]}, Rust declares "
                            f"{[a for _, a in o['args']]}")
            for p, (ctype, a) in zip(params, o["args"]):
                if not is_ctype(types, resolve(types, p["type_id"]), ctype):
                    errs.append(f"{n}: parameter {a} of bpf_iter_{n}_new is not {ctype}")
        if "next" in protos:
            r = resolve(types, protos["next"]["ret_type_id"])
            v = r and r["kind"] == "PTR" and resolve(types, r["type_id"])
            if not is_ctype(types, v, o["ret"]):
                errs.append(f"{n}: bpf_iter_{n}_next does not return {o['ret']} *")
        if "destroy" in protos and protos["destroy"]["ret_type_id"] != 0:
            errs.append(f"{n}: bpf_iter_{n}_destroy does not return void")
    return errs


def check_kfuncs(types, split_ids, kfuncs):
    """Check each kfunc of the module's own against its record: a FUNC of the module's BTF of
    that name, with the recorded parameters (names and types), returning s64."""
    errs = []
    funcs = {t["name"]: t for i, t in types.items() if i in split_ids and t["kind"] == "FUNC"}
    for k in kfuncs:
        n = k["name"]
        f = funcs.get(n)
        proto = f and types.get(f["type_id"])
        if not proto or proto["kind"] != "FUNC_PROTO":
            errs.append(f"kfunc {n}: not in the module's BTF")
            continue
        params = proto["params"]
        if [p["name"] for p in params] != [a for _, a in k["args"]]:
            errs.append(f"kfunc {n}: parameters {[p['name'] for p in params]}, Rust declares "
                        f"{[a for _, a in k['args']]}")
            continue
        for p, (ctype, a) in zip(params, k["args"]):
            if not is_ctype(types, resolve(types, p["type_id"]), ctype):
                errs.append(f"kfunc {n}: parameter {a} is not {ctype}")
        if not is_ctype(types, resolve(types, proto["ret_type_id"]), "__s64"):
            errs.append(f"kfunc {n}: does not return s64")
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--bpftool", required=True)
    ap.add_argument("modules", nargs="+")
    a = ap.parse_args()
    base = btf_types(a.bpftool, a.vmlinux)
    failed = False
    for ko in a.modules:
        with open(ko, "rb") as f:
            data = f.read()
        blob = elf_section(data, SECTION) or b""
        own = parse_types(elf_section(data, TYPES) or b"")
        split = btf_types(a.bpftool, ko, base=a.vmlinux)
        types = dict(base)
        types.update(split)
        recs, opens, kfuncs = parse_records(blob)
        errs = check_module(types, set(split), recs)
        errs += check_open(types, set(split), opens)
        errs += check_kfuncs(types, set(split), kfuncs)
        errs += check_types(types, set(split), own)
        for e in errs:
            print(f"{ko}: error: BPF iterator context: {e}", file=sys.stderr)
        failed |= bool(errs)
        if not errs:
            print(f"layout: {ko.rsplit('/', 1)[-1]}: {len(recs)} target(s) match their BTF anchors"
                  + (f", {len(own)} own struct(s) match their BTF" if own else "")
                  + (f", {len(opens)} open iterator(s) match their kfuncs" if opens else "")
                  + (f", {len(kfuncs)} kfunc(s) of its own match their BTF" if kfuncs else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
