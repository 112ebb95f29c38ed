// SPDX-License-Identifier: GPL-2.0
//! Minimal reader of kernel BTF, including module (split) BTF.
//!
//! aya's `Btf` parses standalone BTF only: a module's
//! `/sys/kernel/btf/<module>` is *split* BTF whose type ids continue after
//! vmlinux's and whose string offsets continue after vmlinux's string
//! section. This reader understands both and answers the questions this crate
//! needs: "which iterator targets does this BTF define", "what is the type id
//! of FUNC `bpf_iter_<target>`", "what is the type id of kfunc `<name>`" and
//! "which open-coded iterators does this BTF offer".
//!
//! An iterator target is recognised the way the kernel defines it
//! (`DEFINE_BPF_ITER_FUNC`): a FUNC named `bpf_iter_<target>` whose first
//! parameter is a pointer to `struct bpf_iter_meta`, next to a context
//! struct `bpf_iter__<target>`. This excludes the open-coded iterator kfuncs
//! (`bpf_iter_num_new`, ...) and the iterator core's own functions
//! (`bpf_iter_get_info`, `bpf_iter_run_prog`, ...).
//!
//! An open-coded iterator is recognised the way the kernel checks its kfuncs
//! when they are registered (`btf_check_iter_kfuncs`): three FUNCs
//! `bpf_iter_<name>_new`, `_next` and `_destroy`, each taking a pointer to
//! the state `struct bpf_iter_<name>` first; `_next` and `_destroy` take
//! nothing else, `_next` returns a pointer and `_destroy` returns void.
//! (Whether they are registered kfuncs, BTF does not say.)

use std::{
    collections::{HashMap, HashSet},
    fs,
    path::Path,
};

use serde::Serialize;

use crate::Error;

const BTF_MAGIC: u16 = 0xeb9f;
const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_FLOAT: u32 = 16;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// How deep a chain of types is followed (modifiers, typedefs, pointers).
const MAX_DEPTH: u32 = 16;

/// Prefix of the struct that names a Rust target's link parameters in its module's BTF
/// (`scripts/rust_bpf_iter_btf.py`): `struct rust_bpf_iter_params__<target>`.
pub const PARAMS_PREFIX: &str = "rust_bpf_iter_params__";

/// One type: kind, name offset, `size_or_type`, and where its trailing data
/// that this reader keeps starts in its layer's `aux`.
#[derive(Debug, Clone, Copy)]
struct Type {
    kind: u32,
    name_off: u32,
    ty: u32,
    /// `vlen` of `info` (number of parameters of a FUNC_PROTO).
    vlen: u16,
    /// `kind_flag` of `info` (a FWD: of a union).
    kflag: bool,
    /// Index in `KernelBtf::aux`: a FUNC_PROTO's parameters as (name offset,
    /// type) pairs, an ARRAY's (type, index type, number of elements).
    aux: u32,
}

/// A parameter of an open-coded iterator's constructor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IterArg {
    /// The type, C-like: `__u32`, `struct task_struct *`, `const u64 *`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The parameter's name (empty if BTF has none).
    pub name: String,
}

impl std::fmt::Display for IterArg {
    /// C-like: `__u32 n`, `struct task_struct *task`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.name.is_empty(), self.ty.ends_with('*')) {
            (true, _) => f.write_str(&self.ty),
            (false, true) => write!(f, "{}{}", self.ty, self.name),
            (false, false) => write!(f, "{} {}", self.ty, self.name),
        }
    }
}

/// An open-coded iterator: kfuncs `bpf_iter_<name>_new`, `_next` and
/// `_destroy` on a state `struct bpf_iter_<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenIter {
    /// `<name>`.
    pub name: String,
    /// `sizeof(struct bpf_iter_<name>)`: the stack a program gives it.
    pub state_size: u32,
    /// The parameters of `bpf_iter_<name>_new` after the state.
    pub new_args: Vec<IterArg>,
    /// The type `bpf_iter_<name>_next` returns (a pointer), C-like.
    pub next_returns: String,
}

/// Parsed BTF: vmlinux, or a module's split BTF on top of (borrowing) the
/// vmlinux one: a module's layer holds only its own types and strings.
#[derive(Debug)]
pub struct KernelBtf<'b> {
    /// The base of split BTF.
    base: Option<&'b KernelBtf<'static>>,
    /// This layer's types; a standalone layer starts with the implicit `void`.
    types: Vec<Type>,
    /// This layer's strings.
    strings: Vec<u8>,
    /// Trailing data of this layer's types that is kept ([`Type::aux`]).
    aux: Vec<u32>,
    /// Id of `types[0]` (0 standalone; the base's type count if split).
    first_id: u32,
    /// Offset of `strings[0]` (0 standalone; the base's string size if split).
    str_base: u32,
    /// Target names with a context struct `bpf_iter__<target>` in this layer.
    ctx_structs: HashSet<String>,
}

fn u16_at(d: &[u8], off: usize) -> Result<u16, Error> {
    d.get(off..off + 2)
        .map(|b| u16::from_ne_bytes([b[0], b[1]]))
        .ok_or(Error::BadBtf("truncated"))
}

fn u32_at(d: &[u8], off: usize) -> Result<u32, Error> {
    d.get(off..off + 4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(Error::BadBtf("truncated"))
}

impl KernelBtf<'static> {
    /// Parses standalone BTF (e.g. `/sys/kernel/btf/vmlinux`).
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        let void = Type {
            kind: 0,
            name_off: 0,
            ty: 0,
            vlen: 0,
            kflag: false,
            aux: 0,
        };
        Self::layer(None, vec![void], 0, 0, data)
    }
}

impl<'b> KernelBtf<'b> {
    /// Parses split BTF `data` on top of `base` (module BTF on vmlinux).
    pub fn parse_split(base: &'b KernelBtf<'static>, data: &[u8]) -> Result<Self, Error> {
        let first_id = base.first_id + base.types.len() as u32;
        let str_base = base.str_base + base.strings.len() as u32;
        Self::layer(Some(base), Vec::new(), first_id, str_base, data)
    }

    /// Reads and parses `path`, split on `base` if given.
    pub fn from_file(path: &Path, base: Option<&'b KernelBtf<'static>>) -> Result<Self, Error> {
        let data = fs::read(path).map_err(|e| Error::Io(format!("{}", path.display()), e))?;
        match base {
            Some(b) => Self::parse_split(b, &data),
            None => KernelBtf::parse(&data),
        }
    }

    fn layer(
        base: Option<&'b KernelBtf<'static>>,
        mut types: Vec<Type>,
        first_id: u32,
        str_base: u32,
        d: &[u8],
    ) -> Result<Self, Error> {
        let (raw, strs) = sections(d)?;
        let mut aux = Vec::new();
        let mut off = 0;
        while off < raw.len() {
            let name_off = u32_at(raw, off)?;
            let info = u32_at(raw, off + 4)?;
            let ty = u32_at(raw, off + 8)?;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let extra = trailing(kind, vlen)?;
            let aux_at = aux.len() as u32;
            let kept = match kind {
                KIND_FUNC_PROTO => 2 * vlen,
                KIND_ARRAY => 3,
                _ => 0,
            };
            for i in 0..kept {
                aux.push(u32_at(raw, off + 12 + 4 * i)?);
            }
            // The members of the structs that name Rust targets' link parameters, as (name
            // offset, type) pairs; no other struct's members are kept.
            let local_name = name_off
                .checked_sub(str_base)
                .and_then(|o| strs.get(o as usize..))
                .unwrap_or_default();
            if kind == KIND_STRUCT && local_name.starts_with(PARAMS_PREFIX.as_bytes()) {
                for i in 0..vlen {
                    aux.push(u32_at(raw, off + 12 + 12 * i)?);
                    aux.push(u32_at(raw, off + 16 + 12 * i)?);
                }
            }
            types.push(Type {
                kind,
                name_off,
                ty,
                vlen: vlen as u16,
                kflag: info & (1 << 31) != 0,
                aux: aux_at,
            });
            off += 12 + extra;
        }
        let mut btf = KernelBtf {
            base,
            types,
            strings: strs.to_vec(),
            aux,
            first_id,
            str_base,
            ctx_structs: HashSet::new(),
        };
        btf.ctx_structs = btf
            .types
            .iter()
            .filter(|t| t.kind == KIND_STRUCT)
            .filter_map(|t| btf.name(t.name_off).strip_prefix("bpf_iter__"))
            .map(String::from)
            .collect();
        Ok(btf)
    }

    /// Type `id`, in this layer or the base.
    fn ty(&self, id: u32) -> Option<&Type> {
        match id.checked_sub(self.first_id) {
            Some(i) => self.types.get(i as usize),
            None => self.base?.ty(id),
        }
    }

    /// Type `id`, in this layer or the base, with the rest of its layer's
    /// `aux` from the type's own.
    fn ty_aux(&self, id: u32) -> Option<(&Type, &[u32])> {
        match id.checked_sub(self.first_id) {
            Some(i) => {
                let t = self.types.get(i as usize)?;
                Some((t, self.aux.get(t.aux as usize..).unwrap_or_default()))
            }
            None => self.base?.ty_aux(id),
        }
    }

    /// FUNC_PROTO `id`: its return type, and its parameters as (name offset,
    /// type) pairs.
    fn proto(&self, id: u32) -> Option<(u32, &[[u32; 2]])> {
        let (t, aux) = self.ty_aux(id)?;
        if t.kind != KIND_FUNC_PROTO {
            return None;
        }
        let (params, _) = aux.get(..2 * t.vlen as usize)?.as_chunks::<2>();
        Some((t.ty, params))
    }

    /// Type `id` with its modifiers and typedefs skipped, and its id.
    fn skip_mods(&self, mut id: u32) -> Option<(u32, &Type)> {
        for _ in 0..MAX_DEPTH {
            let t = self.ty(id)?;
            match t.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.ty
                }
                _ => return Some((id, t)),
            }
        }
        None
    }

    /// The string at `off`, in this layer or the base.
    fn name(&self, off: u32) -> &str {
        let s = match off.checked_sub(self.str_base) {
            Some(o) => self.strings.get(o as usize..).unwrap_or_default(),
            None => return self.base.map_or("", |b| b.name(off)),
        };
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        std::str::from_utf8(&s[..end]).unwrap_or("")
    }

    /// Whether FUNC `t`'s first parameter is `struct bpf_iter_meta *`.
    fn is_iter_func(&self, t: &Type) -> bool {
        let Some(&[_, first]) = self.proto(t.ty).and_then(|(_, p)| p.first()) else {
            return false;
        };
        let Some(ptr) = self.ty(first) else {
            return false;
        };
        if ptr.kind != KIND_PTR {
            return false;
        }
        // modifiers and typedefs skipped
        self.skip_mods(ptr.ty)
            .is_some_and(|(_, t)| t.kind == KIND_STRUCT && self.name(t.name_off) == "bpf_iter_meta")
    }

    /// Whether a context struct `bpf_iter__<target>` exists here or in the base.
    fn has_ctx_struct(&self, target: &str) -> bool {
        self.ctx_structs.contains(target) || self.base.is_some_and(|b| b.has_ctx_struct(target))
    }

    /// Iterator targets defined in this layer (module BTF: the module's own,
    /// not vmlinux's), with the type id of their `bpf_iter_<target>` FUNC.
    pub fn iter_targets(&self) -> Vec<(String, u32)> {
        let mut out: Vec<(String, u32)> = self
            .types
            .iter()
            .zip(self.first_id..)
            .filter(|(t, _)| t.kind == KIND_FUNC)
            .filter_map(|(t, id)| {
                let target = self.name(t.name_off).strip_prefix("bpf_iter_")?;
                (self.has_ctx_struct(target) && self.is_iter_func(t))
                    .then(|| (target.to_string(), id))
            })
            .collect();
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// Open-coded iterators defined in this layer (module BTF: the module's
    /// own, not vmlinux's), by name. Their types (the state, parameters,
    /// what `_next` yields) may be the base's.
    pub fn open_iters(&self) -> Vec<OpenIter> {
        // The FUNCs that may be an iterator's kfuncs, the first of each name.
        let mut funcs: HashMap<&str, &Type> = HashMap::new();
        for t in self.types.iter().filter(|t| t.kind == KIND_FUNC) {
            if let Some(rest) = self.name(t.name_off).strip_prefix("bpf_iter_") {
                funcs.entry(rest).or_insert(t);
            }
        }
        let mut out: Vec<OpenIter> = funcs
            .iter()
            .filter_map(|(rest, new)| {
                let name = rest.strip_suffix("_new").filter(|n| !n.is_empty())?;
                let next = funcs.get(format!("{name}_next").as_str())?;
                let destroy = funcs.get(format!("{name}_destroy").as_str())?;
                let (_, new_params, state_size) = self.iter_kfunc(new, name)?;
                let (next_ret, [_], _) = self.iter_kfunc(next, name)? else {
                    return None;
                };
                let (destroy_ret, [_], _) = self.iter_kfunc(destroy, name)? else {
                    return None;
                };
                let (_, ret) = self.skip_mods(next_ret)?;
                if ret.kind != KIND_PTR || destroy_ret != 0 {
                    return None;
                }
                Some(OpenIter {
                    name: name.to_string(),
                    state_size,
                    new_args: new_params[1..]
                        .iter()
                        .map(|&[name_off, ty]| IterArg {
                            ty: self.type_name(ty),
                            name: self.name(name_off).to_string(),
                        })
                        .collect(),
                    next_returns: self.type_name(next_ret),
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// FUNC `func`, if a kfunc of open-coded iterator `name`: its first
    /// parameter is a pointer to `struct bpf_iter_<name>`. Its return type,
    /// parameters and the state's size.
    fn iter_kfunc(&self, func: &Type, name: &str) -> Option<(u32, &[[u32; 2]], u32)> {
        let (ret, params) = self.proto(func.ty)?;
        let &[_, first] = params.first()?;
        let (_, ptr) = self.skip_mods(first)?;
        if ptr.kind != KIND_PTR {
            return None;
        }
        let (_, state) = self.skip_mods(ptr.ty)?;
        let state_name = self.name(state.name_off).strip_prefix("bpf_iter_");
        (state.kind == KIND_STRUCT && state_name == Some(name)).then_some((ret, params, state.ty))
    }

    /// A C-like name of type `id`, for people: typedefs by their name,
    /// `struct task_struct *`, `const u64 *`, `void`; `?` for what cannot be
    /// named (a missing type, a chain too long).
    pub fn type_name(&self, id: u32) -> String {
        self.c_type(id, 0)
    }

    fn c_type(&self, id: u32, depth: u32) -> String {
        if id == 0 {
            return "void".into();
        }
        let Some((t, aux)) = self.ty_aux(id).filter(|_| depth < MAX_DEPTH) else {
            return "?".into();
        };
        let name = self.name(t.name_off);
        let tagged = |kw: &str| match name {
            "" => format!("{kw} {{...}}"),
            n => format!("{kw} {n}"),
        };
        let inner = || self.c_type(t.ty, depth + 1);
        match t.kind {
            KIND_INT | KIND_FLOAT | KIND_TYPEDEF if !name.is_empty() => name.into(),
            KIND_STRUCT => tagged("struct"),
            KIND_UNION => tagged("union"),
            KIND_FWD if t.kflag => tagged("union"),
            KIND_FWD => tagged("struct"),
            KIND_ENUM | KIND_ENUM64 => tagged("enum"),
            KIND_TYPE_TAG => inner(),
            KIND_CONST | KIND_VOLATILE | KIND_RESTRICT => {
                let q = match t.kind {
                    KIND_CONST => "const",
                    KIND_VOLATILE => "volatile",
                    _ => "restrict",
                };
                match inner() {
                    // a qualified pointer: `u64 *const`
                    i if i.ends_with('*') => format!("{i}{q}"),
                    i => format!("{q} {i}"),
                }
            }
            KIND_PTR => match self.proto(t.ty) {
                // a function pointer: `int (*)(void *, u32)`
                Some((ret, params)) => {
                    let args: Vec<String> = params
                        .iter()
                        .map(|&[_, ty]| match ty {
                            0 => "...".into(),
                            ty => self.c_type(ty, depth + 1),
                        })
                        .collect();
                    let args = if args.is_empty() {
                        "void".into()
                    } else {
                        args.join(", ")
                    };
                    format!("{} (*)({args})", self.c_type(ret, depth + 1))
                }
                None => match inner() {
                    i if i.ends_with('*') => format!("{i}*"),
                    i => format!("{i} *"),
                },
            },
            KIND_ARRAY => match aux {
                [elem, _, n, ..] => format!("{}[{n}]", self.c_type(*elem, depth + 1)),
                _ => "?".into(),
            },
            _ => "?".into(),
        }
    }

    /// Id of the first FUNC named `name` in this layer (module BTF: among the
    /// module's own types, not vmlinux's), numbered as the kernel numbers it:
    /// a module's ids continue after vmlinux's. This is how a kfunc call names
    /// its callee (`imm` of a `BPF_PSEUDO_KFUNC_CALL`).
    pub fn func_id(&self, name: &str) -> Option<u32> {
        self.types
            .iter()
            .zip(self.first_id..)
            .find(|(t, _)| t.kind == KIND_FUNC && self.name_is(t.name_off, name))
            .map(|(_, id)| id)
    }

    /// Whether the string at `off` of this layer is `name`: [`Self::name`]
    /// without measuring or validating it, for scans of all of vmlinux.
    fn name_is(&self, off: u32, name: &str) -> bool {
        let Some(s) = off
            .checked_sub(self.str_base)
            .and_then(|o| self.strings.get(o as usize..))
        else {
            return false;
        };
        s.strip_prefix(name.as_bytes())
            .is_some_and(|rest| rest.first().is_none_or(|&c| c == 0))
    }

    /// The link parameters a Rust target of this layer declares, from the struct
    /// `rust_bpf_iter_params__<target>` the build generates (`kernel::bpf::iter::Params`):
    /// the kind (its member's name: `task`, `map`, `cgroup`, `custom`; empty for none) and,
    /// for `custom`, the parameter's C type. `None` if there is no such struct (a C target).
    pub fn link_params(&self, target: &str) -> Option<(String, Option<String>)> {
        let name = format!("{PARAMS_PREFIX}{target}");
        let (t, aux) = self
            .types
            .iter()
            .zip(self.first_id..)
            .find(|(t, _)| t.kind == KIND_STRUCT && self.name_is(t.name_off, &name))
            .and_then(|(_, id)| self.ty_aux(id))?;
        match t.vlen {
            0 => Some((String::new(), None)),
            1 => {
                let &[name_off, ty] = aux.get(..2)? else {
                    return None;
                };
                let kind = self.name(name_off).to_string();
                let ctype = (kind == "custom").then(|| self.type_name(ty));
                Some((kind, ctype))
            }
            _ => None,
        }
    }

    /// Type id of iterator target `target` in this layer, if defined here.
    pub fn iter_target_id(&self, target: &str) -> Option<u32> {
        self.iter_targets()
            .into_iter()
            .find(|(t, _)| t == target)
            .map(|(_, id)| id)
    }
}

/// The sections of BTF `d`: (types, strings).
fn sections(d: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    if u16_at(d, 0)? != BTF_MAGIC {
        return Err(Error::BadBtf("bad magic (not native-endian BTF)"));
    }
    let hdr_len = u32_at(d, 4)? as usize;
    let (type_off, type_len) = (u32_at(d, 8)? as usize, u32_at(d, 12)? as usize);
    let (str_off, str_len) = (u32_at(d, 16)? as usize, u32_at(d, 20)? as usize);
    let types = d
        .get(hdr_len + type_off..hdr_len + type_off + type_len)
        .ok_or(Error::BadBtf("type section out of bounds"))?;
    let strings = d
        .get(hdr_len + str_off..hdr_len + str_off + str_len)
        .ok_or(Error::BadBtf("string section out of bounds"))?;
    Ok((types, strings))
}

/// Bytes that follow the 12-byte common part of a type of `kind` with `vlen`.
fn trailing(kind: u32, vlen: usize) -> Result<usize, Error> {
    Ok(match kind {
        1 | 14 | 17 => 4,                     // INT, VAR, DECL_TAG
        3 => 12,                              // ARRAY
        4 | 5 | 15 | 19 => 12 * vlen,         // STRUCT, UNION, DATASEC, ENUM64
        6 | KIND_FUNC_PROTO => 8 * vlen,      // ENUM, FUNC_PROTO
        2 | 7..=12 | 16 | KIND_TYPE_TAG => 0, // no trailing data
        // its size is unknown, so nothing after it can be read
        _ => return Err(Error::BadBtf("unknown BTF kind")),
    })
}

impl KernelBtf<'static> {
    /// Standalone BTF for CO-RE relocation against this (standalone, vmlinux)
    /// BTF and `split`, split BTF on top of it (a module's), for tools that
    /// take one standalone BTF, as aya-obj's relocation does. `data` is this
    /// BTF as it was parsed.
    ///
    /// Nothing is renumbered: the split layer's type ids already continue the
    /// base's, and its string offsets count from the start of the base's
    /// strings, so its types follow the base's and its strings the base's,
    /// and the ids are the kernel's for both layers. A split type of the kind
    /// and name of a base type loses its name (a module's copy of `u32`, or a
    /// struct of its own named like vmlinux's): libbpf looks for a
    /// relocation's candidates in vmlinux first and in modules only when
    /// vmlinux has none, and with two candidates aya-obj would refuse the
    /// relocation as ambiguous.
    pub fn merge_split_for_core(&self, data: &[u8], split: &[u8]) -> Result<Vec<u8>, Error> {
        let (base_types, base_strings) = sections(data)?;
        let (split_types, split_strings) = sections(split)?;
        let named: HashSet<(u32, &str)> = self
            .types
            .iter()
            .filter(|t| t.name_off != 0)
            .map(|t| (t.kind, self.name(t.name_off)))
            .collect();
        // The split layer's types in order, each at the offset its predecessors' sizes give.
        let layer = KernelBtf::parse_split(self, split)?;
        let mut types = split_types.to_vec();
        let mut off = 0;
        for t in &layer.types {
            if t.name_off != 0 && named.contains(&(t.kind, layer.name(t.name_off))) {
                types[off..off + 4].copy_from_slice(&0u32.to_ne_bytes());
            }
            off += 12 + trailing(t.kind, t.vlen.into())?;
        }
        let too_big = |_| Error::BadBtf("merged BTF larger than 4 GiB");
        let type_len = u32::try_from(base_types.len() + types.len()).map_err(too_big)?;
        let str_len = u32::try_from(base_strings.len() + split_strings.len()).map_err(too_big)?;
        let mut d = Vec::with_capacity(24 + type_len as usize + str_len as usize);
        d.extend_from_slice(&BTF_MAGIC.to_ne_bytes());
        d.extend_from_slice(&[1, 0]); // version 1, no flags
        for w in [24u32, 0, type_len, type_len, str_len] {
            d.extend_from_slice(&w.to_ne_bytes());
        }
        for part in [base_types, &types, base_strings, split_strings] {
            d.extend_from_slice(part);
        }
        Ok(d)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a BTF blob from `(name_off, info, size_or_type, extra)` types.
    pub(crate) fn blob(types: &[(u32, u32, u32, Vec<u32>)], strings: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        for (n, i, s, extra) in types {
            for w in [*n, *i, *s].iter().chain(extra) {
                t.extend_from_slice(&w.to_ne_bytes());
            }
        }
        let mut d = Vec::new();
        d.extend_from_slice(&BTF_MAGIC.to_ne_bytes());
        d.extend_from_slice(&[1, 0]);
        for w in [
            24u32,
            0,
            t.len() as u32,
            t.len() as u32,
            strings.len() as u32,
        ] {
            d.extend_from_slice(&w.to_ne_bytes());
        }
        d.extend_from_slice(&t);
        d.extend_from_slice(strings);
        d
    }

    fn info(kind: u32, vlen: u32) -> u32 {
        (kind << 24) | vlen
    }

    /// vmlinux-like base: struct bpf_iter_meta, its pointer, a proto taking
    /// it, FUNC bpf_iter_task (target) and FUNC bpf_iter_num_new (kfunc).
    pub(crate) fn base_blob() -> Vec<u8> {
        let strings =
            b"\0bpf_iter_meta\0bpf_iter_task\0bpf_iter_num_new\0int\0meta\0bpf_iter__task\0bpf_iter__foo\0bpf_iter__num_new\0";
        blob(
            &[
                (1, info(KIND_STRUCT, 0), 24, vec![]),         // 1
                (0, info(KIND_PTR, 0), 1, vec![]),             // 2
                (46, info(1, 0), 4, vec![32]),                 // 3 int
                (0, info(KIND_FUNC_PROTO, 1), 3, vec![50, 2]), // 4 (meta *)
                (15, info(KIND_FUNC, 1), 4, vec![]),           // 5 bpf_iter_task
                (0, info(KIND_FUNC_PROTO, 1), 3, vec![0, 3]),  // 6 (int)
                (29, info(KIND_FUNC, 1), 6, vec![]),           // 7 bpf_iter_num_new
                (55, info(KIND_STRUCT, 0), 8, vec![]),         // 8 bpf_iter__task
                (70, info(KIND_STRUCT, 0), 8, vec![]),         // 9 bpf_iter__foo
                (4, info(KIND_FUNC, 1), 4, vec![]),            // 10 FUNC "iter_meta": no prefix
            ],
            strings,
        )
    }

    #[test]
    fn finds_vmlinux_targets_only() {
        let btf = KernelBtf::parse(&base_blob()).unwrap();
        assert_eq!(btf.iter_targets(), vec![("task".to_string(), 5)]);
        assert_eq!(btf.iter_target_id("task"), Some(5));
        assert_eq!(btf.iter_target_id("num_new"), None);
    }

    #[test]
    fn split_btf_ids_and_strings_continue_after_base() {
        let base = KernelBtf::parse(&base_blob()).unwrap();
        let base_strlen = base.strings.len() as u32;
        assert_eq!(base.types.len(), 11, "void and 10 types");
        // module: proto (meta *) reusing base type 2, FUNC bpf_iter_foo
        let strings = b"\0bpf_iter_foo\0";
        let split = blob(
            &[
                (0, info(KIND_FUNC_PROTO, 1), 3, vec![0, 2]),      // 11
                (base_strlen + 1, info(KIND_FUNC, 1), 11, vec![]), // 12
            ],
            strings,
        );
        let module = KernelBtf::parse_split(&base, &split).unwrap();
        assert_eq!(module.iter_targets(), vec![("foo".to_string(), 12)]);
        assert_eq!(
            module.iter_target_id("task"),
            None,
            "base targets are not the module's"
        );
    }

    #[test]
    fn merged_split_btf_keeps_the_kernels_ids_and_vmlinux_names_first() {
        let base_data = base_blob();
        let base = KernelBtf::parse(&base_data).unwrap();
        let base_strlen = base.strings.len() as u32;
        // The module's: FUNC bpf_iter_foo, and a struct of its own named like
        // vmlinux's bpf_iter__task (base type 8; the name is the base's string)
        // and one named bpf_iter__foo (its own string) like base type 9.
        let strings = b"\0bpf_iter_foo\0bpf_iter__foo\0bpf_iter__bar\0";
        let split = blob(
            &[
                (0, info(KIND_FUNC_PROTO, 1), 3, vec![0, 2]),      // 11
                (base_strlen + 1, info(KIND_FUNC, 1), 11, vec![]), // 12
                (55, info(KIND_STRUCT, 0), 16, vec![]),            // 13 bpf_iter__task
                (base_strlen + 14, info(KIND_STRUCT, 0), 8, vec![]), // 14 bpf_iter__foo
                (base_strlen + 28, info(KIND_STRUCT, 0), 8, vec![]), // 15 bpf_iter__bar
            ],
            strings,
        );
        let data = base.merge_split_for_core(&base_data, &split).unwrap();
        let merged = KernelBtf::parse(&data).unwrap();
        // Both layers' types, under the ids the kernel gives them.
        let mut targets = merged.iter_targets();
        targets.sort_by_key(|(_, id)| *id);
        assert_eq!(
            targets,
            vec![("task".to_string(), 5), ("foo".to_string(), 12)]
        );
        assert_eq!(merged.func_id("bpf_iter_num_new"), Some(7));
        assert_eq!(merged.func_id("bpf_iter_foo"), Some(12));
        // The module's structs named like vmlinux's lose their names; its own keeps it.
        let names: Vec<&str> = (13..16)
            .map(|id| merged.name(merged.ty(id).unwrap().name_off))
            .collect();
        assert_eq!(names, ["", "", "bpf_iter__bar"]);
        // aya parses it, as it does vmlinux's.
        aya::Btf::parse(&data, object::Endianness::default()).unwrap();
        assert!(
            base.merge_split_for_core(&split[1..], &split).is_err(),
            "bad magic"
        );
    }

    #[test]
    fn func_ids_of_vmlinux_and_split_module_btf() {
        let base = KernelBtf::parse(&base_blob()).unwrap();
        let base_strlen = base.strings.len() as u32;
        assert_eq!(base.func_id("bpf_iter_num_new"), Some(7));
        assert_eq!(base.func_id("bpf_iter__task"), None, "a STRUCT");
        assert_eq!(base.func_id("no_such_kfunc"), None);
        // module: proto (int) reusing base type 3, FUNC bpf_iter_x_new,
        // and a FUNC of the same name as vmlinux's
        let strings = b"\0bpf_iter_x_new\0bpf_iter_num_new\0";
        let split = blob(
            &[
                (0, info(KIND_FUNC_PROTO, 1), 3, vec![0, 3]),       // 11
                (base_strlen + 1, info(KIND_FUNC, 1), 11, vec![]),  // 12
                (base_strlen + 16, info(KIND_FUNC, 1), 11, vec![]), // 13
            ],
            strings,
        );
        let module = KernelBtf::parse_split(&base, &split).unwrap();
        assert_eq!(module.func_id("bpf_iter_x_new"), Some(12));
        assert_eq!(
            module.func_id("bpf_iter_num_new"),
            Some(13),
            "this layer's own, not vmlinux's 7"
        );
        assert_eq!(module.func_id("bpf_iter_task"), None, "vmlinux's only");
    }

    #[test]
    fn rejects_garbage() {
        assert!(KernelBtf::parse(b"not btf at all, really not").is_err());
        let mut b = base_blob();
        b.truncate(30);
        assert!(KernelBtf::parse(&b).is_err());
    }

    /// Builds BTF by name for tests: strings are added as they are used,
    /// type ids counted; split BTF continues the base's ids and strings.
    pub(crate) struct Builder {
        types: Vec<(u32, u32, u32, Vec<u32>)>,
        strings: Vec<u8>,
        next_id: u32,
        str_base: u32,
    }

    impl Builder {
        /// Standalone BTF (vmlinux).
        pub(crate) fn new() -> Self {
            Builder {
                types: Vec::new(),
                strings: vec![0],
                next_id: 1,
                str_base: 0,
            }
        }

        /// Split BTF on `base` (a module's).
        pub(crate) fn split(base: &KernelBtf<'static>) -> Self {
            Builder {
                types: Vec::new(),
                strings: vec![0],
                next_id: base.first_id + base.types.len() as u32,
                str_base: base.str_base + base.strings.len() as u32,
            }
        }

        fn str(&mut self, s: &str) -> u32 {
            if s.is_empty() {
                return 0;
            }
            let off = self.str_base + self.strings.len() as u32;
            self.strings.extend_from_slice(s.as_bytes());
            self.strings.push(0);
            off
        }

        /// Adds a type; its id.
        pub(crate) fn add(
            &mut self,
            name: &str,
            kind: u32,
            vlen: u32,
            ty: u32,
            extra: &[u32],
        ) -> u32 {
            let name_off = self.str(name);
            self.types
                .push((name_off, info(kind, vlen), ty, extra.to_vec()));
            self.next_id += 1;
            self.next_id - 1
        }

        pub(crate) fn int(&mut self, name: &str, size: u32) -> u32 {
            self.add(name, KIND_INT, 0, size, &[size * 8])
        }

        pub(crate) fn typedef(&mut self, name: &str, ty: u32) -> u32 {
            self.add(name, KIND_TYPEDEF, 0, ty, &[])
        }

        pub(crate) fn ptr(&mut self, ty: u32) -> u32 {
            self.add("", KIND_PTR, 0, ty, &[])
        }

        /// A struct of `size` bytes (its members are not needed here).
        pub(crate) fn st(&mut self, name: &str, size: u32) -> u32 {
            self.add(name, KIND_STRUCT, 0, size, &[])
        }

        /// A struct of `size` bytes with `members` (name, type) at offset 0.
        pub(crate) fn st_members(&mut self, name: &str, size: u32, members: &[(&str, u32)]) -> u32 {
            let mut extra = Vec::new();
            for (n, ty) in members {
                extra.extend([self.str(n), *ty, 0]);
            }
            self.add(name, KIND_STRUCT, members.len() as u32, size, &extra)
        }

        /// FUNC `name` of a new FUNC_PROTO returning `ret`, with `params`.
        pub(crate) fn func(&mut self, name: &str, ret: u32, params: &[(&str, u32)]) -> u32 {
            let mut extra = Vec::new();
            for (n, ty) in params {
                extra.extend([self.str(n), *ty]);
            }
            let proto = self.add("", KIND_FUNC_PROTO, params.len() as u32, ret, &extra);
            self.add(name, KIND_FUNC, 1, proto, &[])
        }

        /// `struct bpf_iter_<name>` of `size` bytes and its kfuncs: `_new`
        /// (returning `int_id`, taking `args` after the state), `_next`
        /// (returning `next_ret`) and `_destroy` (returning void).
        pub(crate) fn open_iter(
            &mut self,
            name: &str,
            size: u32,
            int_id: u32,
            args: &[(&str, u32)],
            next_ret: u32,
        ) {
            let state = self.st(&format!("bpf_iter_{name}"), size);
            let it = self.ptr(state);
            let new: Vec<(&str, u32)> = std::iter::once(("it", it))
                .chain(args.iter().copied())
                .collect();
            self.func(&format!("bpf_iter_{name}_new"), int_id, &new);
            self.func(&format!("bpf_iter_{name}_next"), next_ret, &[("it", it)]);
            self.func(&format!("bpf_iter_{name}_destroy"), 0, &[("it", it)]);
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            blob(&self.types, &self.strings)
        }
    }

    fn arg(ty: &str, name: &str) -> IterArg {
        IterArg {
            ty: ty.into(),
            name: name.into(),
        }
    }

    /// Base types of a vmlinux: int, `__u32`, `__u64`, `struct task_struct`
    /// and pointers to the last two; ids in that order from 1.
    fn vmlinux_types(b: &mut Builder) -> [u32; 6] {
        let int = b.int("int", 4);
        let uint = b.int("unsigned int", 4);
        let u32_ = b.typedef("__u32", uint);
        let ull = b.int("unsigned long long", 8);
        let u64_ = b.typedef("__u64", ull);
        let u64_ptr = b.ptr(u64_);
        let task = b.st("task_struct", 3000);
        let task_ptr = b.ptr(task);
        [int, u32_, u64_, u64_ptr, task, task_ptr]
    }

    #[test]
    fn finds_a_complete_open_iter_with_its_args_and_item() {
        let mut b = Builder::new();
        let [int, u32_, _, u64_ptr, _, task_ptr] = vmlinux_types(&mut b);
        b.open_iter("primes", 40, int, &[("n", u32_)], u64_ptr);
        b.open_iter(
            "tasks",
            24,
            int,
            &[("task", task_ptr), ("flags", u32_)],
            task_ptr,
        );
        b.open_iter("empty", 8, int, &[], task_ptr);
        let btf = KernelBtf::parse(&b.build()).unwrap();
        let it = |name: &str, state_size, new_args, next_returns: &str| OpenIter {
            name: name.into(),
            state_size,
            new_args,
            next_returns: next_returns.into(),
        };
        assert_eq!(
            btf.open_iters(),
            vec![
                it("empty", 8, vec![], "struct task_struct *"),
                it("primes", 40, vec![arg("__u32", "n")], "__u64 *"),
                it(
                    "tasks",
                    24,
                    vec![arg("struct task_struct *", "task"), arg("__u32", "flags")],
                    "struct task_struct *"
                ),
            ]
        );
        assert_eq!(btf.iter_targets(), vec![], "kfuncs are no targets");
        assert_eq!(arg("__u32", "n").to_string(), "__u32 n");
        assert_eq!(
            arg("struct task_struct *", "t").to_string(),
            "struct task_struct *t"
        );
        assert_eq!(arg("int", "").to_string(), "int");
    }

    #[test]
    fn incomplete_or_misshapen_open_iters_are_not_reported() {
        let mut b = Builder::new();
        let [int, u32_, _, u64_ptr, task, task_ptr] = vmlinux_types(&mut b);
        // the one that is complete
        b.open_iter("good", 8, int, &[], u64_ptr);
        // no _destroy
        let st = b.st("bpf_iter_nodestroy", 8);
        let it = b.ptr(st);
        b.func("bpf_iter_nodestroy_new", int, &[("it", it)]);
        b.func("bpf_iter_nodestroy_next", u64_ptr, &[("it", it)]);
        // no _next, no _new
        let st = b.st("bpf_iter_nonext", 8);
        let it = b.ptr(st);
        b.func("bpf_iter_nonext_new", int, &[("it", it)]);
        b.func("bpf_iter_nonext_destroy", 0, &[("it", it)]);
        b.func("bpf_iter_nonew_next", u64_ptr, &[("it", it)]);
        b.func("bpf_iter_nonew_destroy", 0, &[("it", it)]);
        // _new's arg 0: not a pointer to the state struct
        let shapes: [(&str, &[(&str, u32)]); 4] = [
            ("notptr", &[("n", u32_)]),
            ("otherstruct", &[("t", task_ptr)]),
            ("noargs", &[]),
            ("bystruct", &[("t", task)]),
        ];
        for (name, new_args) in shapes {
            let st = b.st(&format!("bpf_iter_{name}"), 8);
            let it = b.ptr(st);
            b.func(&format!("bpf_iter_{name}_new"), int, new_args);
            b.func(&format!("bpf_iter_{name}_next"), u64_ptr, &[("it", it)]);
            b.func(&format!("bpf_iter_{name}_destroy"), 0, &[("it", it)]);
        }
        // a state of another iterator's name
        let st = b.st("bpf_iter_good2", 8);
        let it = b.ptr(st);
        b.func("bpf_iter_misnamed_new", int, &[("it", it)]);
        b.func("bpf_iter_misnamed_next", u64_ptr, &[("it", it)]);
        b.func("bpf_iter_misnamed_destroy", 0, &[("it", it)]);
        // _next returning no pointer, taking more; _destroy returning int
        b.open_iter("nextint", 8, int, &[], int);
        let st = b.st("bpf_iter_nextargs", 8);
        let it = b.ptr(st);
        b.func("bpf_iter_nextargs_new", int, &[("it", it)]);
        b.func(
            "bpf_iter_nextargs_next",
            u64_ptr,
            &[("it", it), ("n", u32_)],
        );
        b.func("bpf_iter_nextargs_destroy", 0, &[("it", it)]);
        let st = b.st("bpf_iter_destroyint", 8);
        let it = b.ptr(st);
        b.func("bpf_iter_destroyint_new", int, &[("it", it)]);
        b.func("bpf_iter_destroyint_next", u64_ptr, &[("it", it)]);
        b.func("bpf_iter_destroyint_destroy", int, &[("it", it)]);
        // `bpf_iter__new`: no name
        let st = b.st("bpf_iter_", 8);
        let it = b.ptr(st);
        b.func("bpf_iter__new", int, &[("it", it)]);
        b.func("bpf_iter__next", u64_ptr, &[("it", it)]);
        b.func("bpf_iter__destroy", 0, &[("it", it)]);
        let btf = KernelBtf::parse(&b.build()).unwrap();
        let names: Vec<String> = btf.open_iters().into_iter().map(|i| i.name).collect();
        assert_eq!(names, vec!["good"]);
    }

    #[test]
    fn link_params_of_rust_targets() {
        let mut b = Builder::new();
        let [_, u32_, u64_, ..] = vmlinux_types(&mut b);
        // vmlinux's own struct of that prefix is not the module's
        b.st_members("rust_bpf_iter_params__v", 4, &[("custom", u32_)]);
        let base = KernelBtf::parse(&b.build()).unwrap();
        let mut m = Builder::split(&base);
        let task = m.st_members("", 12, &[("tid", u32_), ("pid", u32_), ("pid_fd", u32_)]);
        let fib = m.st_members("fib_param", 8, &[("start", u32_), ("count", u32_)]);
        let arr = m.add("", KIND_ARRAY, 0, 0, &[u64_, u32_, 2]);
        m.st_members("other", 4, &[("custom", u32_)]);
        m.st_members("rust_bpf_iter_params__none", 0, &[]);
        m.st_members("rust_bpf_iter_params__t", 12, &[("task", task)]);
        m.st_members("rust_bpf_iter_params__p", 4, &[("custom", u32_)]);
        m.st_members("rust_bpf_iter_params__f", 8, &[("custom", fib)]);
        m.st_members("rust_bpf_iter_params__a", 16, &[("custom", arr)]);
        m.st_members("rust_bpf_iter_params__w", 8, &[("a", u32_), ("b", u32_)]);
        let module = KernelBtf::parse_split(&base, &m.build()).unwrap();
        let p = |t| module.link_params(t);
        let s = |k: &str, t: Option<&str>| Some((k.to_string(), t.map(String::from)));
        assert_eq!(p("none"), s("", None));
        assert_eq!(p("t"), s("task", None));
        assert_eq!(p("p"), s("custom", Some("__u32")));
        assert_eq!(p("f"), s("custom", Some("struct fib_param")));
        assert_eq!(p("a"), s("custom", Some("__u64[2]")));
        assert_eq!(p("w"), None, "two members: not ours");
        assert_eq!(p("v"), None, "vmlinux's");
        assert_eq!(p("other"), None);
        assert_eq!(base.link_params("v"), s("custom", Some("__u32")));
    }

    #[test]
    fn open_iters_of_split_module_btf_use_base_types() {
        let mut b = Builder::new();
        let [int, u32_, u64_, u64_ptr, _, task_ptr] = vmlinux_types(&mut b);
        let int_ptr = b.ptr(int);
        b.open_iter("num", 8, int, &[("start", int), ("end", int)], int_ptr);
        let base = KernelBtf::parse(&b.build()).unwrap();
        assert_eq!(
            base.open_iters()
                .iter()
                .map(|i| (i.name.as_str(), i.next_returns.as_str()))
                .collect::<Vec<_>>(),
            vec![("num", "int *")],
        );
        // a module: its own state struct and kfuncs, vmlinux's __u32, __u64
        // and struct task_struct, and a `const __u64 *` of its own
        let mut m = Builder::split(&base);
        let c = m.add("", KIND_CONST, 0, u64_, &[]);
        let cptr = m.ptr(c);
        m.open_iter(
            "rust_primes",
            40,
            int,
            &[("n", u32_), ("seed", cptr)],
            u64_ptr,
        );
        m.open_iter("rust_tasks", 16, int, &[], task_ptr);
        let module = KernelBtf::parse_split(&base, &m.build()).unwrap();
        let iters = module.open_iters();
        assert_eq!(iters.len(), 2, "{iters:?}: not vmlinux's num");
        assert_eq!(
            iters[0],
            OpenIter {
                name: "rust_primes".into(),
                state_size: 40,
                new_args: vec![arg("__u32", "n"), arg("const __u64 *", "seed")],
                next_returns: "__u64 *".into(),
            }
        );
        assert_eq!(iters[1].name, "rust_tasks");
        assert_eq!(iters[1].next_returns, "struct task_struct *");
    }

    #[test]
    fn kfuncs_of_an_open_iter_are_no_targets() {
        let base = KernelBtf::parse(&base_blob()).unwrap();
        // base_blob: 1 struct bpf_iter_meta, 2 its pointer, 3 int
        let mut m = Builder::split(&base);
        let u64_ = m.int("unsigned long long", 8);
        let u64_ptr = m.ptr(u64_);
        m.st("bpf_iter__rust_primes", 16);
        let target = m.func("bpf_iter_rust_primes", 3, &[("meta", 2), ("n", u64_)]);
        // context structs of each kfunc's name: only the first parameter
        // tells a target from the kfuncs
        for k in ["new", "next", "destroy"] {
            m.st(&format!("bpf_iter__rust_primes_{k}"), 16);
        }
        m.open_iter("rust_primes", 40, 3, &[("n", 3)], u64_ptr);
        let module = KernelBtf::parse_split(&base, &m.build()).unwrap();
        assert_eq!(
            module.iter_targets(),
            vec![("rust_primes".to_string(), target)]
        );
        let iters = module.open_iters();
        assert_eq!(iters.len(), 1);
        assert_eq!(iters[0].name, "rust_primes");
        assert_eq!(iters[0].new_args, vec![arg("int", "n")]);
    }

    #[test]
    fn c_like_type_names() {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let c_int = b.add("", KIND_CONST, 0, int, &[]);
        let p_c_int = b.ptr(c_int);
        let c_p_c_int = b.add("", KIND_CONST, 0, p_c_int, &[]);
        let pp = b.ptr(p_c_int);
        let v = b.add("", KIND_VOLATILE, 0, int, &[]);
        let void_p = b.ptr(0);
        // bit 31 of info, kind_flag: a union
        let fwd_u = b.add("sock", KIND_FWD, 1 << 31, 0, &[]);
        let fwd_s = b.add("file", KIND_FWD, 0, 0, &[]);
        let anon = b.st("", 8);
        let arr = b.add("", KIND_ARRAY, 0, 0, &[int, int, 4]);
        let e = b.add("pid_type", KIND_ENUM, 0, 4, &[]);
        let tag = b.add("rcu", KIND_TYPE_TAG, 0, fwd_s, &[]);
        let p_tag = b.ptr(tag);
        let f = b.add("", KIND_FUNC_PROTO, 2, int, &[0, void_p, 0, int]);
        let fp = b.ptr(f);
        let loop_ = b.next_id;
        b.typedef("loop", loop_);
        let p_loop = b.ptr(loop_ + 1); // loop_ + 1: the pointer itself
        let btf = KernelBtf::parse(&b.build()).unwrap();
        let name = |id| btf.type_name(id);
        assert_eq!(name(0), "void");
        assert_eq!(name(c_int), "const int");
        assert_eq!(name(p_c_int), "const int *");
        assert_eq!(name(c_p_c_int), "const int *const");
        assert_eq!(name(pp), "const int **");
        assert_eq!(name(v), "volatile int");
        assert_eq!(name(void_p), "void *");
        assert_eq!(name(fwd_u), "union sock");
        assert_eq!(name(fwd_s), "struct file");
        assert_eq!(name(anon), "struct {...}");
        assert_eq!(name(arr), "int[4]");
        assert_eq!(name(e), "enum pid_type");
        assert_eq!(name(p_tag), "struct file *");
        assert_eq!(name(fp), "int (*)(void *, int)");
        assert_eq!(name(loop_), "loop", "a typedef is named, not followed");
        assert!(name(p_loop).starts_with("? *"), "a pointer to itself");
        assert_eq!(name(9999), "?");
    }
}
