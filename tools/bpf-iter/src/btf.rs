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

use std::{fs, path::Path};

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

/// Parsed BTF: vmlinux, or a module's split BTF stacked on vmlinux.
#[derive(Debug, Clone)]
pub struct KernelBtf {
    /// Types, index 0 is the implicit `void`; ids continue across base/split.
    types: Vec<Type>,
    /// Base strings followed by split strings (offsets continue likewise).
    strings: Vec<u8>,
    /// Id of the first type of the last parsed (split) layer.
    first_own_id: u32,
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

impl KernelBtf {
    /// Parses standalone BTF (e.g. `/sys/kernel/btf/vmlinux`).
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        let mut btf = KernelBtf {
            types: vec![Type {
                kind: 0,
                name_off: 0,
                ty: 0,
                first_param: None,
            }],
            strings: Vec::new(),
            first_own_id: 1,
        };
        btf.add_layer(data)?;
        Ok(btf)
    }

    /// Parses split BTF `data` on top of `base` (module BTF on vmlinux).
    pub fn parse_split(base: &KernelBtf, data: &[u8]) -> Result<Self, Error> {
        let mut btf = base.clone();
        btf.first_own_id = btf.types.len() as u32;
        btf.add_layer(data)?;
        Ok(btf)
    }

    /// Reads and parses `path`, split on `base` if given.
    pub fn from_file(path: &Path, base: Option<&KernelBtf>) -> Result<Self, Error> {
        let data = fs::read(path).map_err(|e| Error::Io(format!("{}", path.display()), e))?;
        match base {
            Some(b) => Self::parse_split(b, &data),
            None => Self::parse(&data),
        }
    }

    fn add_layer(&mut self, d: &[u8]) -> Result<(), Error> {
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
        let types = d
            .get(hdr_len + type_off..hdr_len + type_off + type_len)
            .ok_or(Error::BadBtf("type section out of bounds"))?;
        let mut off = 0;
        while off < types.len() {
            let name_off = u32_at(types, off)?;
            let info = u32_at(types, off + 4)?;
            let ty = u32_at(types, off + 8)?;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let extra = match kind {
                1 | 14 | 17 => 4,                     // INT, VAR, DECL_TAG
                3 => 12,                              // ARRAY
                4 | 5 | 15 | 19 => 12 * vlen,         // STRUCT, UNION, DATASEC, ENUM64
                6 | KIND_FUNC_PROTO => 8 * vlen,      // ENUM, FUNC_PROTO
                2 | 7..=12 | 16 | KIND_TYPE_TAG => 0, // no trailing data
                _ => return Err(Error::BadBtf("unknown BTF kind")),
            };
            let first_param = if kind == KIND_FUNC_PROTO && vlen > 0 {
                Some(u32_at(types, off + 12 + 4)?)
            } else {
                None
            };
            self.types.push(Type {
                kind,
                name_off,
                ty,
                first_param,
            });
            off += 12 + extra;
        }
        self.strings.extend_from_slice(strs);
        Ok(())
    }

    fn name(&self, off: u32) -> &str {
        let s = self.strings.get(off as usize..).unwrap_or_default();
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        std::str::from_utf8(&s[..end]).unwrap_or("")
    }

    /// Whether FUNC `t`'s first parameter is `struct bpf_iter_meta *`.
    fn is_iter_func(&self, t: &Type) -> bool {
        let Some(proto) = self.types.get(t.ty as usize) else {
            return false;
        };
        if proto.kind != KIND_FUNC_PROTO {
            return false;
        }
        let Some(ptr) = proto.first_param.and_then(|p| self.types.get(p as usize)) else {
            return false;
        };
        if ptr.kind != KIND_PTR {
            return false;
        }
        let mut id = ptr.ty;
        // skip modifiers and typedefs
        for _ in 0..16 {
            let Some(t) = self.types.get(id as usize) else {
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

    /// Iterator targets defined in this layer (module BTF: the module's own,
    /// not vmlinux's), with the type id of their `bpf_iter_<target>` FUNC.
    pub fn iter_targets(&self) -> Vec<(String, u32)> {
        let ctx_structs: std::collections::HashSet<&str> = self
            .types
            .iter()
            .filter(|t| t.kind == KIND_STRUCT)
            .filter_map(|t| self.name(t.name_off).strip_prefix("bpf_iter__"))
            .collect();
        let mut out: Vec<(String, u32)> = self
            .types
            .iter()
            .enumerate()
            .skip(self.first_own_id as usize)
            .filter(|(_, t)| t.kind == KIND_FUNC)
            .filter_map(|(id, t)| {
                let target = self.name(t.name_off).strip_prefix("bpf_iter_")?;
                (ctx_structs.contains(target) && self.is_iter_func(t))
                    .then(|| (target.to_string(), id as u32))
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
