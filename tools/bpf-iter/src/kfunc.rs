// SPDX-License-Identifier: GPL-2.0
//! Calls of kfuncs that kernel modules define.
//!
//! A program calls a kfunc through an extern declaration
//! (`extern int bpf_iter_x_new(struct bpf_iter_x *it, __u32 n) __ksym;`):
//! clang emits a `call` with a relocation against the undefined symbol. The
//! loader turns it into a `BPF_PSEUDO_KFUNC_CALL` whose `imm` is the id of
//! the FUNC in kernel BTF and whose `off` says which BTF: 0 is vmlinux, and
//! `n > 0` the module BTF object whose fd is `fd_array[n]` of
//! `BPF_PROG_LOAD` (6.12 `kernel/bpf/verifier.c`: `find_kfunc_desc_btf`,
//! `__find_kfunc_desc_btf`). A module's type ids continue after vmlinux's, as
//! [`KernelBtf`] numbers them.
//!
//! aya-obj 0.6 looks kfuncs up in vmlinux BTF only (`resolve_extern_function`
//! in its `extern_types.rs`): a strong extern that vmlinux lacks fails
//! `Object::resolve_externs` ("kernel function ... not found in kernel
//! BTF"); a weak one becomes a call the verifier refuses unless it is dead
//! code. Rather than patching aya-obj, the crate's own loading pipeline
//! (`IterProgram::load`) uses this module:
//!
//! 1. [`Externs::scan`] finds the extern functions the object calls, and
//!    [`Externs::in_modules`] looks those that vmlinux lacks up in modules'
//!    BTF (vmlinux first, as libbpf does);
//! 2. [`ModuleKfuncs::weakened`] hands aya-obj an object in which those
//!    externs are weak, so that it leaves them unresolved instead of failing,
//!    and still resolves everything else itself (vmlinux kfuncs with their
//!    signature check, ksym variables);
//! 3. after aya-obj's `relocate_externs`, [`ModuleKfuncs::patch`] rewrites
//!    their call sites with the module's FUNC id and `fd_array` index (and
//!    `ldimm64` references, as `bpf_ksym_exists()` makes, with
//!    `BPF_PSEUDO_BTF_ID` and the module's BTF fd, which is what
//!    `check_pseudo_btf_id` reads from `insn[1].imm`).
//!
//! Only externs that are *called* somewhere count as kfuncs: a module kfunc
//! whose address is taken but that is never called is left to aya-obj (which
//! does not find it).

use std::{
    borrow::Cow,
    collections::BTreeMap,
    os::fd::{AsRawFd, BorrowedFd},
    path::Path,
};

use aya_obj::generated::bpf_insn;
use object::{
    read::elf::{ElfFile64, SectionHeader as _},
    Object as _, ObjectSection as _, ObjectSymbol as _, RelocationTarget, SectionKind,
};
use serde::Serialize;

use crate::{btf::KernelBtf, Error, Result};

/// `BPF_JMP | BPF_CALL`.
const OP_CALL: u8 = 0x85;
/// `BPF_LD | BPF_IMM | BPF_DW` (first half of an `ldimm64`).
const OP_LDIMM64: u8 = 0x18;
/// `src_reg` of a call whose `imm` is a kfunc's BTF id.
const BPF_PSEUDO_KFUNC_CALL: u8 = 2;
/// `src_reg` of an `ldimm64` whose `imm` is a BTF id (`insn[1].imm`: BTF fd).
const BPF_PSEUDO_BTF_ID: u8 = 3;
/// Bytes per BPF instruction.
const INSN_SIZE: usize = 8;
/// Bytes per `Elf64_Sym`.
const SYM64_SIZE: usize = 24;
/// `STB_GLOBAL`, `STB_WEAK`: symbol bindings (high nibble of `st_info`).
const STB_GLOBAL: u8 = 1;
const STB_WEAK: u8 = 2;

/// How an instruction refers to an extern function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// `call`: the kfunc is called.
    Call,
    /// `ldimm64`: its address is taken (`bpf_ksym_exists()`).
    Load,
}

/// One reference to an extern function in the object's code: an ELF
/// relocation against its (undefined) symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    /// Index of the code section.
    pub section: usize,
    /// Byte offset of the instruction in that section.
    pub offset: u64,
    /// ELF symbol index of the extern.
    pub symbol: usize,
    /// Call or address load.
    pub kind: SiteKind,
}

/// An extern function the object calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extern {
    /// Symbol name, as declared (with any `___flavor` suffix).
    pub name: String,
    /// Declared `__weak`: it may be missing from the kernel.
    pub weak: bool,
}

impl Extern {
    /// The name looked up in kernel BTF: without a `___flavor` suffix (the
    /// rule aya-obj uses, so that both agree on which kfunc is meant).
    pub fn essential_name(&self) -> &str {
        self.name.split_once("___").map_or(&self.name, |(n, _)| n)
    }
}

/// The extern functions an object calls, and every reference to them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Externs {
    /// By ELF symbol index.
    pub funcs: BTreeMap<usize, Extern>,
    /// Their calls and address loads, in section and offset order.
    pub sites: Vec<Site>,
}

impl Externs {
    /// Finds the undefined symbols that some code section calls (a relocation
    /// on a `call` instruction), with all their call and `ldimm64` sites.
    ///
    /// Undefined symbols that are only loaded (ksym and kconfig variables) are
    /// not kfuncs and are left out; so is whatever this cannot read (aya-obj
    /// will report a malformed object itself).
    pub fn scan(elf: &[u8]) -> Result<Self> {
        let file = object::File::parse(elf).map_err(Error::aya("parsing the ELF object"))?;
        let mut funcs = BTreeMap::new();
        let mut refs = Vec::new();
        for section in file.sections().filter(|s| s.kind() == SectionKind::Text) {
            let Ok(data) = section.data() else {
                continue;
            };
            for (offset, rel) in section.relocations() {
                let RelocationTarget::Symbol(idx) = rel.target() else {
                    continue;
                };
                let Ok(sym) = file.symbol_by_index(idx) else {
                    continue;
                };
                let name = match sym.name() {
                    Ok(n) if sym.is_undefined() && !n.is_empty() => n,
                    _ => continue,
                };
                let kind = match usize::try_from(offset).ok().and_then(|o| data.get(o)) {
                    Some(&OP_CALL) => SiteKind::Call,
                    Some(&OP_LDIMM64) => SiteKind::Load,
                    _ => continue,
                };
                if kind == SiteKind::Call {
                    funcs.entry(idx.0).or_insert_with(|| Extern {
                        name: name.to_string(),
                        weak: sym.is_weak(),
                    });
                }
                refs.push(Site {
                    section: section.index().0,
                    offset,
                    symbol: idx.0,
                    kind,
                });
            }
        }
        let mut sites: Vec<Site> = refs
            .into_iter()
            .filter(|s| funcs.contains_key(&s.symbol))
            .collect();
        sites.sort_by_key(|s| (s.section, s.offset));
        Ok(Externs { funcs, sites })
    }

    /// Looks the called externs that vmlinux's BTF lacks up in the module BTF
    /// files of `dir` (normally [`crate::SYS_BTF`]): module `first` first (a
    /// module target's own module), then the others by name, reading each at
    /// most once and only while some kfunc is still missing. The first module
    /// that defines a name wins.
    ///
    /// Externs in vmlinux are not returned (aya-obj resolves them), nor weak
    /// ones found nowhere (aya-obj turns their calls into ones the verifier
    /// drops if `bpf_ksym_exists()` guards them). A strong one found nowhere
    /// is [`Error::UnknownKfunc`]. A module BTF that cannot be read is
    /// skipped (and named in that error).
    pub fn in_modules(
        &self,
        vmlinux: &KernelBtf<'static>,
        dir: &Path,
        first: Option<&str>,
    ) -> Result<ModuleKfuncs> {
        let mut wanted: BTreeMap<&str, Option<(String, u32)>> = self
            .funcs
            .values()
            .map(Extern::essential_name)
            .filter(|n| vmlinux.func_id(n).is_none())
            .map(|n| (n, None))
            .collect();
        if wanted.is_empty() {
            return Ok(ModuleKfuncs::default());
        }
        let mut modules = crate::module_names(dir)?;
        if let Some(pos) = first.and_then(|f| modules.iter().position(|m| m == f)) {
            let m = modules.remove(pos);
            modules.insert(0, m);
        }
        let mut unread = Vec::new();
        for module in modules {
            if wanted.values().all(Option::is_some) {
                break;
            }
            let btf = match KernelBtf::from_file(&dir.join(&module), Some(vmlinux)) {
                Ok(b) => b,
                Err(_) => {
                    unread.push(module);
                    continue;
                }
            };
            for (name, found) in wanted.iter_mut().filter(|(_, f)| f.is_none()) {
                *found = btf.func_id(name).map(|id| (module.clone(), id));
            }
        }
        let mut out = ModuleKfuncs::default();
        for (&symbol, ext) in &self.funcs {
            match wanted.get(ext.essential_name()) {
                // in vmlinux, or weak and nowhere
                None => {}
                Some(None) if ext.weak => {}
                Some(None) => {
                    return Err(Error::UnknownKfunc {
                        name: ext.essential_name().to_string(),
                        unread,
                    })
                }
                Some(Some((module, btf_id))) => out.add(
                    symbol,
                    ext.weak,
                    ModuleKfunc {
                        name: ext.essential_name().to_string(),
                        module: module.clone(),
                        btf_id: *btf_id,
                    },
                )?,
            }
        }
        out.sites = self
            .sites
            .iter()
            .filter(|s| out.by_symbol.contains_key(&s.symbol))
            .copied()
            .collect();
        Ok(out)
    }
}

/// A kfunc that a module's BTF defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleKfunc {
    /// Its name (without a `___flavor` suffix).
    pub name: String,
    /// The module whose BTF defines it.
    pub module: String,
    /// Id of its FUNC, as the kernel numbers the module's BTF (after
    /// vmlinux's ids).
    pub btf_id: u32,
}

/// The kfuncs of modules that an object calls, and what loading it takes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ModuleKfuncs {
    /// Distinct kfuncs, in the order of their first symbol.
    kfuncs: Vec<ModuleKfunc>,
    /// ELF symbol index to index in `kfuncs`.
    by_symbol: BTreeMap<usize, usize>,
    /// Symbols declared strong, which aya-obj must see as weak.
    strong: Vec<usize>,
    /// The modules, in `fd_array` order: `modules[i]` at `fd_array[i + 1]`.
    modules: Vec<String>,
    /// The call and address-load sites of these symbols.
    sites: Vec<Site>,
}

impl ModuleKfuncs {
    /// Records that symbol `symbol` is `kfunc`, giving its module the next
    /// `fd_array` slot if it has none yet.
    fn add(&mut self, symbol: usize, weak: bool, kfunc: ModuleKfunc) -> Result<()> {
        if !self.modules.contains(&kfunc.module) {
            // insn->off is an s16 and must be > 0 for a module
            if self.modules.len() >= i16::MAX as usize {
                return Err(Error::Invalid(
                    "kfuncs of more modules than a program can call".into(),
                ));
            }
            self.modules.push(kfunc.module.clone());
        }
        let i = match self.kfuncs.iter().position(|k| *k == kfunc) {
            Some(i) => i,
            None => {
                self.kfuncs.push(kfunc);
                self.kfuncs.len() - 1
            }
        };
        self.by_symbol.insert(symbol, i);
        if !weak {
            self.strong.push(symbol);
        }
        Ok(())
    }

    /// Whether the object calls no kfunc of a module.
    pub fn is_empty(&self) -> bool {
        self.kfuncs.is_empty()
    }

    /// The kfuncs, each once.
    pub fn kfuncs(&self) -> &[ModuleKfunc] {
        &self.kfuncs
    }

    /// The modules they come from, in `fd_array` order (see
    /// [`ModuleKfuncs::fd_array`]).
    pub fn modules(&self) -> &[String] {
        &self.modules
    }

    /// `off` of a call into `module`: its index in `fd_array`.
    fn slot(&self, module: &str) -> Option<i16> {
        let i = self.modules.iter().position(|m| m == module)?;
        i16::try_from(i + 1).ok()
    }

    /// The `fd_array` of `BPF_PROG_LOAD` for the BTF fds of
    /// [`ModuleKfuncs::modules`], given in that order: entry 0 unused (`off`
    /// 0 means vmlinux), then one fd per module. Empty if there are none.
    pub fn fd_array(fds: &[BorrowedFd<'_>]) -> Vec<i32> {
        if fds.is_empty() {
            return Vec::new();
        }
        std::iter::once(0)
            .chain(fds.iter().map(|f| f.as_raw_fd()))
            .collect()
    }

    /// `elf` with the strong externs of these kfuncs made weak (their
    /// symbols' binding), so that aya-obj's `resolve_externs` does not fail on
    /// them; borrowed unchanged if there are none.
    pub fn weakened<'e>(&self, elf: &'e [u8]) -> Result<Cow<'e, [u8]>> {
        weaken(elf, &self.strong)
    }

    /// Rewrites every site of these kfuncs in `functions`, each given as
    /// (section index, byte offset of its code in the section, its code):
    /// aya-obj's functions after `relocate_externs` and before
    /// `relocate_calls` (which copies callees into the programs). A call
    /// becomes a `BPF_PSEUDO_KFUNC_CALL` of the module's FUNC id with `off`
    /// its `fd_array` index; an `ldimm64` a `BPF_PSEUDO_BTF_ID` load whose
    /// second half holds the module's BTF fd, from `fd_array`.
    ///
    /// Every site must be found, as the instruction its relocation names.
    pub fn patch<'f>(
        &self,
        functions: impl IntoIterator<Item = (usize, usize, &'f mut [bpf_insn])>,
        fd_array: &[i32],
    ) -> Result<()> {
        let mut done = vec![false; self.sites.len()];
        for (section, start, insns) in functions {
            for (site, done) in self.sites.iter().zip(done.iter_mut()) {
                if site.section != section {
                    continue;
                }
                let Some(at) = usize::try_from(site.offset)
                    .ok()
                    .and_then(|o| o.checked_sub(start))
                    .filter(|o| o % INSN_SIZE == 0)
                    .map(|o| o / INSN_SIZE)
                    .filter(|&i| i < insns.len())
                else {
                    continue;
                };
                self.patch_site(site, &mut insns[at..], fd_array)?;
                *done = true;
            }
        }
        match self.sites.iter().zip(&done).find(|(_, d)| !**d) {
            None => Ok(()),
            Some((site, _)) => Err(self.bad_site(site, "no function has this instruction")),
        }
    }

    /// Rewrites the instruction at `insns[0]` (and `insns[1]` for an
    /// `ldimm64`).
    fn patch_site(&self, site: &Site, insns: &mut [bpf_insn], fd_array: &[i32]) -> Result<()> {
        let kfunc = self
            .by_symbol
            .get(&site.symbol)
            .and_then(|&i| self.kfuncs.get(i))
            .ok_or_else(|| self.bad_site(site, "unknown symbol"))?;
        let slot = self
            .slot(&kfunc.module)
            .ok_or_else(|| self.bad_site(site, "module without fd_array slot"))?;
        let imm =
            i32::try_from(kfunc.btf_id).map_err(|_| self.bad_site(site, "BTF id out of range"))?;
        match (site.kind, insns) {
            (SiteKind::Call, [ins, ..]) if ins.code == OP_CALL => {
                ins.set_src_reg(BPF_PSEUDO_KFUNC_CALL);
                ins.set_dst_reg(0);
                ins.imm = imm;
                ins.off = slot;
            }
            (SiteKind::Load, [ins, next, ..]) if ins.code == OP_LDIMM64 => {
                let fd = fd_array
                    .get(slot as usize)
                    .ok_or_else(|| self.bad_site(site, "fd_array too short"))?;
                ins.set_src_reg(BPF_PSEUDO_BTF_ID);
                ins.imm = imm;
                next.imm = *fd;
            }
            _ => return Err(self.bad_site(site, "not the expected instruction")),
        }
        Ok(())
    }

    fn bad_site(&self, site: &Site, why: &str) -> Error {
        let name = self
            .by_symbol
            .get(&site.symbol)
            .and_then(|&i| self.kfuncs.get(i))
            .map_or("?", |k| k.name.as_str());
        Error::Invalid(format!(
            "kfunc `{name}`: cannot patch its {:?} at section {} offset {}: {why}",
            site.kind, site.section, site.offset
        ))
    }
}

/// A copy of `elf` (an ELF64 object) in which the undefined global symbols
/// `symbols` (indices) are weak; `elf` itself if there are none.
pub fn weaken<'e>(elf: &'e [u8], symbols: &[usize]) -> Result<Cow<'e, [u8]>> {
    if symbols.is_empty() {
        return Ok(Cow::Borrowed(elf));
    }
    let bad = |why: String| Error::Invalid(format!("ELF object: {why}"));
    let file = ElfFile64::<object::Endianness>::parse(elf)
        .map_err(Error::aya("parsing the ELF object"))?;
    let endian = file.endian();
    let symtab = file.elf_symbol_table();
    let header = file
        .elf_section_table()
        .section(symtab.section())
        .map_err(Error::aya("the ELF object's symbol table"))?;
    let base = usize::try_from(header.sh_offset(endian))
        .map_err(|_| bad("symbol table offset out of range".into()))?;
    let count = symtab.symbols().len();
    let mut out = elf.to_vec();
    for &i in symbols {
        if i >= count {
            return Err(bad(format!("no symbol {i}")));
        }
        let entry = i
            .checked_mul(SYM64_SIZE)
            .and_then(|o| o.checked_add(base))
            .and_then(|at| out.get_mut(at..at.checked_add(SYM64_SIZE)?))
            .ok_or_else(|| bad(format!("symbol {i} out of bounds")))?;
        let shndx = [entry[6], entry[7]];
        let bind = entry[4] >> 4;
        if shndx != [0, 0] || !(bind == STB_GLOBAL || bind == STB_WEAK) {
            return Err(bad(format!("symbol {i} is not an undefined global")));
        }
        entry[4] = (STB_WEAK << 4) | (entry[4] & 0x0f);
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::tests::{base_blob, blob};
    use std::fs;

    const KIND_FUNC: u32 = 12;
    const KIND_FUNC_PROTO: u32 = 13;

    fn insn(code: u8, src: u8, off: i16, imm: i32) -> bpf_insn {
        bpf_insn {
            code,
            _bitfield_1: bpf_insn::new_bitfield_1(0, src),
            off,
            imm,
        }
    }

    /// A little-endian ELF64 relocatable object: code section `iter/task`
    /// (index 1) with `code`, its `.reliter/task` relocations `(offset,
    /// symbol)`, and symbols (`name`, `bind`) after the null one, all
    /// undefined (index 1 is the first).
    fn elf(code: &[u8], rels: &[(u64, u32)], syms: &[(&str, u8)]) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut symtab = vec![0u8; SYM64_SIZE];
        for (name, bind) in syms {
            let mut s = [0u8; SYM64_SIZE];
            s[..4].copy_from_slice(&(strtab.len() as u32).to_le_bytes());
            s[4] = bind << 4; // STT_NOTYPE
            symtab.extend_from_slice(&s);
            strtab.extend_from_slice(name.as_bytes());
            strtab.push(0);
        }
        let mut rel = Vec::new();
        for (off, sym) in rels {
            rel.extend_from_slice(&off.to_le_bytes());
            // R_BPF_64_32 (10) for calls; the type does not matter here
            rel.extend_from_slice(&((u64::from(*sym) << 32) | 10).to_le_bytes());
        }
        let shstrtab = b"\0iter/task\0.reliter/task\0.symtab\0.strtab\0.shstrtab\0";
        let data: [&[u8]; 5] = [code, &rel, &symtab, &strtab, shstrtab];
        // (name offset, type, flags, link, info, entsize) of sections 1..=5
        let headers = [
            (1u32, 1u32, 0x6u64, 0u32, 0u32, 0u64), // iter/task PROGBITS AX
            (11, 9, 0x40, 3, 1, 16),                // .reliter/task REL
            (25, 2, 0, 4, 1, 24),                   // .symtab, first global: 1
            (33, 3, 0, 0, 0, 0),                    // .strtab
            (41, 3, 0, 0, 0, 0),                    // .shstrtab
        ];
        let mut body = Vec::new();
        let mut offsets = Vec::new();
        for s in data {
            while body.len() % 8 != 0 {
                body.push(0);
            }
            offsets.push(64 + body.len() as u64);
            body.extend_from_slice(s);
        }
        while body.len() % 8 != 0 {
            body.push(0);
        }
        let shoff = 64 + body.len() as u64;
        let mut d = Vec::new();
        d.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        d.extend_from_slice(&1u16.to_le_bytes()); // ET_REL
        d.extend_from_slice(&247u16.to_le_bytes()); // EM_BPF
        d.extend_from_slice(&1u32.to_le_bytes());
        d.extend_from_slice(&0u64.to_le_bytes()); // entry
        d.extend_from_slice(&0u64.to_le_bytes()); // phoff
        d.extend_from_slice(&shoff.to_le_bytes());
        d.extend_from_slice(&0u32.to_le_bytes()); // flags
        for h in [64u16, 0, 0, 64, 6, 5] {
            // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
            d.extend_from_slice(&h.to_le_bytes());
        }
        d.extend_from_slice(&body);
        d.extend_from_slice(&[0u8; 64]); // null section
        for ((h, data), off) in headers.iter().zip(data).zip(offsets) {
            let (name, ty, flags, link, info, entsize) = *h;
            d.extend_from_slice(&name.to_le_bytes());
            d.extend_from_slice(&ty.to_le_bytes());
            d.extend_from_slice(&flags.to_le_bytes());
            d.extend_from_slice(&0u64.to_le_bytes()); // addr
            d.extend_from_slice(&off.to_le_bytes());
            d.extend_from_slice(&(data.len() as u64).to_le_bytes());
            d.extend_from_slice(&link.to_le_bytes());
            d.extend_from_slice(&info.to_le_bytes());
            d.extend_from_slice(&8u64.to_le_bytes()); // addralign
            d.extend_from_slice(&entsize.to_le_bytes());
        }
        d
    }

    fn code(insns: &[bpf_insn]) -> Vec<u8> {
        insns
            .iter()
            .flat_map(|i| {
                let mut b = [0u8; 8];
                b[0] = i.code;
                b[1] = (i.src_reg() << 4) | i.dst_reg();
                b[2..4].copy_from_slice(&i.off.to_le_bytes());
                b[4..].copy_from_slice(&i.imm.to_le_bytes());
                b
            })
            .collect()
    }

    /// call new; ldimm64 &new; call helper 127; call rcu; ldimm64 var; exit
    fn program() -> Vec<bpf_insn> {
        vec![
            insn(OP_CALL, 1, 0, -1),   // 0: call bpf_iter_x_new (sym 1)
            insn(OP_LDIMM64, 0, 0, 0), // 1: r1 = &bpf_iter_x_new ll
            insn(0, 0, 0, 0),
            insn(OP_CALL, 0, 0, 127),  // 3: helper call, no relocation
            insn(OP_CALL, 1, 0, -1),   // 4: call bpf_iter_num_new (sym 2)
            insn(OP_LDIMM64, 0, 0, 0), // 5: r1 = &some_ksym_var ll (sym 3)
            insn(0, 0, 0, 0),
            insn(OP_CALL, 1, 0, -1), // 7: call bpf_iter_y_next___v2 (sym 4)
            insn(0x95, 0, 0, 0),     // 8: exit
        ]
    }

    fn program_elf() -> Vec<u8> {
        elf(
            &code(&program()),
            &[(0, 1), (8, 1), (32, 2), (40, 3), (56, 4)],
            &[
                ("bpf_iter_x_new", STB_GLOBAL),
                ("bpf_iter_num_new", STB_GLOBAL),
                ("some_ksym_var", STB_GLOBAL),
                ("bpf_iter_y_next___v2", STB_WEAK),
            ],
        )
    }

    #[test]
    fn finds_called_externs_and_their_sites() {
        let e = Externs::scan(&program_elf()).unwrap();
        let names: Vec<_> = e
            .funcs
            .iter()
            .map(|(i, x)| (*i, &*x.name, x.weak))
            .collect();
        assert_eq!(
            names,
            vec![
                (1, "bpf_iter_x_new", false),
                (2, "bpf_iter_num_new", false),
                (4, "bpf_iter_y_next___v2", true),
            ],
            "a variable that is only loaded is no kfunc"
        );
        assert_eq!(e.funcs[&4].essential_name(), "bpf_iter_y_next");
        let site = |offset, symbol, kind| Site {
            section: 1,
            offset,
            symbol,
            kind,
        };
        assert_eq!(
            e.sites,
            vec![
                site(0, 1, SiteKind::Call),
                site(8, 1, SiteKind::Load),
                site(32, 2, SiteKind::Call),
                site(56, 4, SiteKind::Call),
            ]
        );
    }

    /// A fake /sys/kernel/btf: vmlinux ([`base_blob`]: 10 types, FUNC
    /// bpf_iter_num_new is 7) and modules `a_mod` (bpf_iter_y_next: 12),
    /// `b_mod` (bpf_iter_y_destroy: 12, bpf_iter_x_new: 13,
    /// bpf_iter_y_next: 14) and an unreadable `c_bad`.
    struct FakeSys {
        dir: std::path::PathBuf,
        vmlinux: KernelBtf<'static>,
    }

    impl FakeSys {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("bpf-iter-kfunc-{tag}-{}", std::process::id()));
            fs::create_dir_all(&dir).unwrap();
            let vml = base_blob();
            let vmlinux = KernelBtf::parse(&vml).unwrap();
            // split BTF: string offsets after vmlinux's (str_len in the
            // header), ids after its 10 types
            let str_base = u32::from_ne_bytes(vml[20..24].try_into().unwrap());
            let info = |k: u32, v: u32| (k << 24) | v;
            let module = |names: &[&str]| {
                let mut s = vec![0u8];
                // 11: proto int (int)
                let mut types = vec![(0, info(KIND_FUNC_PROTO, 1), 3, vec![0, 3])];
                for n in names {
                    types.push((str_base + s.len() as u32, info(KIND_FUNC, 1), 11, vec![]));
                    s.extend_from_slice(n.as_bytes());
                    s.push(0);
                }
                blob(&types, &s)
            };
            fs::write(dir.join("vmlinux"), &vml).unwrap();
            fs::write(dir.join("a_mod"), module(&["bpf_iter_y_next"])).unwrap();
            fs::write(
                dir.join("b_mod"),
                module(&["bpf_iter_y_destroy", "bpf_iter_x_new", "bpf_iter_y_next"]),
            )
            .unwrap();
            fs::write(dir.join("c_bad"), b"not BTF").unwrap();
            FakeSys { dir, vmlinux }
        }
    }

    impl Drop for FakeSys {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn kfuncs_are_found_vmlinux_first_then_modules() {
        let sys = FakeSys::new("find");
        let e = Externs::scan(&program_elf()).unwrap();
        let k = e.in_modules(&sys.vmlinux, &sys.dir, None).unwrap();
        let kf = |name: &str, module: &str, btf_id| ModuleKfunc {
            name: name.into(),
            module: module.into(),
            btf_id,
        };
        // bpf_iter_num_new is vmlinux's: aya-obj's business
        assert_eq!(
            k.kfuncs(),
            [
                kf("bpf_iter_x_new", "b_mod", 13),
                kf("bpf_iter_y_next", "a_mod", 12)
            ]
        );
        // fd_array order: first use, by symbol
        assert_eq!(k.modules(), ["b_mod", "a_mod"]);
        assert_eq!(k.slot("b_mod"), Some(1));
        assert_eq!(k.slot("a_mod"), Some(2));
        assert_eq!(k.strong, [1], "the weak one needs no change");
        // a module target's own module is searched first
        let k = e.in_modules(&sys.vmlinux, &sys.dir, Some("b_mod")).unwrap();
        assert_eq!(
            k.kfuncs(),
            [
                kf("bpf_iter_x_new", "b_mod", 13),
                kf("bpf_iter_y_next", "b_mod", 14)
            ]
        );
        assert_eq!(k.modules(), ["b_mod"]);
    }

    #[test]
    fn unknown_kfuncs() {
        let sys = FakeSys::new("unknown");
        let e = |names: &[(&str, u8)]| {
            let rels: Vec<(u64, u32)> = (0..names.len())
                .map(|i| (i as u64 * 8, i as u32 + 1))
                .collect();
            let code = code(&vec![insn(OP_CALL, 1, 0, -1); names.len()]);
            Externs::scan(&elf(&code, &rels, names)).unwrap()
        };
        let err = e(&[
            ("bpf_iter_x_new", STB_GLOBAL),
            ("bpf_iter_z_new", STB_GLOBAL),
        ])
        .in_modules(&sys.vmlinux, &sys.dir, None)
        .unwrap_err();
        assert!(
            matches!(&err, Error::UnknownKfunc { name, unread } if name == "bpf_iter_z_new" && unread == &["c_bad"]),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "kfunc `bpf_iter_z_new`: not in vmlinux or any module's BTF \
             (could not read the BTF of module c_bad)"
        );
        // a weak one found nowhere is left to aya-obj
        let k = e(&[("bpf_iter_z_new", STB_WEAK)])
            .in_modules(&sys.vmlinux, &sys.dir, None)
            .unwrap();
        assert!(k.is_empty());
        // only vmlinux kfuncs: no module is read at all
        let k = e(&[("bpf_iter_num_new", STB_GLOBAL)])
            .in_modules(&sys.vmlinux, Path::new("/nonexistent"), None)
            .unwrap();
        assert!(k.is_empty());
    }

    #[test]
    fn strong_externs_are_made_weak_in_a_copy() {
        let orig = program_elf();
        assert!(matches!(weaken(&orig, &[]).unwrap(), Cow::Borrowed(_)));
        let w = weaken(&orig, &[1]).unwrap();
        let file = object::File::parse(&*w).unwrap();
        let weak = |i| {
            file.symbol_by_index(object::SymbolIndex(i))
                .unwrap()
                .is_weak()
        };
        assert!(weak(1));
        assert!(!weak(2), "only the symbols asked for");
        let changed: Vec<usize> = orig
            .iter()
            .zip(w.iter())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(changed.len(), 1, "one st_info byte");
        assert!(weaken(&orig, &[99]).is_err(), "no such symbol");
        assert!(weaken(b"not ELF", &[1]).is_err());
    }

    #[test]
    fn sites_are_patched_with_id_and_fd_array_index() {
        let sys = FakeSys::new("patch");
        let e = Externs::scan(&program_elf()).unwrap();
        let k = e.in_modules(&sys.vmlinux, &sys.dir, None).unwrap();
        // what aya-obj leaves: the weak(ened) calls poisoned, the load zeroed
        let mut insns = program();
        insns[0] = insn(OP_CALL, 0, 0, 2002000001);
        insns[7] = insn(OP_CALL, 0, 0, 2002000004);
        let fd_array = vec![0, 40, 41];
        // the function starts at offset 0 of section 1
        k.patch([(1, 0, &mut insns[..])], &fd_array).unwrap();
        let ins = |i: usize| {
            (
                insns[i].code,
                insns[i].src_reg(),
                insns[i].off,
                insns[i].imm,
            )
        };
        assert_eq!(ins(0), (OP_CALL, BPF_PSEUDO_KFUNC_CALL, 1, 13));
        assert_eq!(ins(1), (OP_LDIMM64, BPF_PSEUDO_BTF_ID, 0, 13));
        assert_eq!(insns[2].imm, 40, "b_mod's BTF fd");
        assert_eq!(ins(3), (OP_CALL, 0, 0, 127), "helpers untouched");
        assert_eq!(ins(4), (OP_CALL, 1, 0, -1), "vmlinux kfuncs are aya-obj's");
        assert_eq!(ins(7), (OP_CALL, BPF_PSEUDO_KFUNC_CALL, 2, 12));

        // a function that starts later in its section
        let mut tail = program()[7..].to_vec();
        let only_y = ModuleKfuncs {
            sites: k.sites.iter().filter(|s| s.symbol == 4).copied().collect(),
            ..k.clone()
        };
        only_y.patch([(1, 56, &mut tail[..])], &fd_array).unwrap();
        assert_eq!(tail[0].off, 2);
        // a site no function holds, or not at the instruction it names
        assert!(only_y.patch([(2, 56, &mut tail[..])], &fd_array).is_err());
        let mut wrong = program();
        wrong[0] = insn(0xb7, 0, 0, 0);
        assert!(k.patch([(1, 0, &mut wrong[..])], &fd_array).is_err());
    }

    #[test]
    fn fd_array_leaves_index_0_unused() {
        use std::os::fd::AsFd;
        let (a, b) = (std::io::stdout(), std::io::stderr());
        assert_eq!(ModuleKfuncs::fd_array(&[]), Vec::<i32>::new());
        assert_eq!(
            ModuleKfuncs::fd_array(&[a.as_fd(), b.as_fd()]),
            vec![0, 1, 2]
        );
    }
}
