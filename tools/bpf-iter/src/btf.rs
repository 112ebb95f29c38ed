// SPDX-License-Identifier: GPL-2.0
//! Minimal reader of kernel BTF, including module (split) BTF.
//!
//! aya's `Btf` parses standalone BTF only: a module's
//! `/sys/kernel/btf/<module>` is *split* BTF whose type ids continue after
//! vmlinux's and whose string offsets continue after vmlinux's string
//! section. This reader understands both and answers the two questions this
//! crate needs: "which iterator targets does this BTF define" and "what is the
//! type id of FUNC `bpf_iter_<target>`".
//!
//! An iterator target is recognised the way the kernel defines it
//! (`DEFINE_BPF_ITER_FUNC`): a FUNC named `bpf_iter_<target>` whose first
//! parameter is a pointer to `struct bpf_iter_meta`, next to a context
//! struct `bpf_iter__<target>`. This excludes the open-coded iterator kfuncs
//! (`bpf_iter_num_new`, ...) and the iterator core's own functions
//! (`bpf_iter_get_info`, `bpf_iter_run_prog`, ...).

use std::{collections::HashSet, fs, path::Path};

use crate::Error;

const BTF_MAGIC: u16 = 0xeb9f;
const KIND_PTR: u32 = 2;
const KIND_STRUCT: u32 = 4;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_TYPE_TAG: u32 = 18;

/// One type: kind, name offset, `size_or_type`, first parameter (protos).
#[derive(Debug, Clone, Copy)]
struct Type {
    kind: u32,
    name_off: u32,
    ty: u32,
    first_param: Option<u32>,
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
            first_param: None,
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
        if u16_at(d, 0)? != BTF_MAGIC {
            return Err(Error::BadBtf("bad magic (not native-endian BTF)"));
        }
        let hdr_len = u32_at(d, 4)? as usize;
        let type_off = u32_at(d, 8)? as usize;
        let type_len = u32_at(d, 12)? as usize;
        let str_off = u32_at(d, 16)? as usize;
        let str_len = u32_at(d, 20)? as usize;
        let strs = d
            .get(hdr_len + str_off..hdr_len + str_off + str_len)
            .ok_or(Error::BadBtf("string section out of bounds"))?;
        let raw = d
            .get(hdr_len + type_off..hdr_len + type_off + type_len)
            .ok_or(Error::BadBtf("type section out of bounds"))?;
        let mut off = 0;
        while off < raw.len() {
            let name_off = u32_at(raw, off)?;
            let info = u32_at(raw, off + 4)?;
            let ty = u32_at(raw, off + 8)?;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let extra = match kind {
                1 | 14 | 17 => 4,                     // INT, VAR, DECL_TAG
                3 => 12,                              // ARRAY
                4 | 5 | 15 | 19 => 12 * vlen,         // STRUCT, UNION, DATASEC, ENUM64
                6 | KIND_FUNC_PROTO => 8 * vlen,      // ENUM, FUNC_PROTO
                2 | 7..=12 | 16 | KIND_TYPE_TAG => 0, // no trailing data
                // its size is unknown, so nothing after it can be read
                _ => return Err(Error::BadBtf("unknown BTF kind")),
            };
            let first_param = if kind == KIND_FUNC_PROTO && vlen > 0 {
                Some(u32_at(raw, off + 12 + 4)?)
            } else {
                None
            };
            types.push(Type {
                kind,
                name_off,
                ty,
                first_param,
            });
            off += 12 + extra;
        }
        let mut btf = KernelBtf {
            base,
            types,
            strings: strs.to_vec(),
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
        let Some(proto) = self.ty(t.ty) else {
            return false;
        };
        if proto.kind != KIND_FUNC_PROTO {
            return false;
        }
        let Some(ptr) = proto.first_param.and_then(|p| self.ty(p)) else {
            return false;
        };
        if ptr.kind != KIND_PTR {
            return false;
        }
        let mut id = ptr.ty;
        // skip modifiers and typedefs
        for _ in 0..16 {
            let Some(t) = self.ty(id) else {
                return false;
            };
            match t.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.ty
                }
                KIND_STRUCT => return self.name(t.name_off) == "bpf_iter_meta",
                _ => return false,
            }
        }
        false
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

    /// Type id of iterator target `target` in this layer, if defined here.
    pub fn iter_target_id(&self, target: &str) -> Option<u32> {
        self.iter_targets()
            .into_iter()
            .find(|(t, _)| t == target)
            .map(|(_, id)| id)
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
    fn rejects_garbage() {
        assert!(KernelBtf::parse(b"not btf at all, really not").is_err());
        let mut b = base_blob();
        b.truncate(30);
        assert!(KernelBtf::parse(&b).is_err());
    }
}
