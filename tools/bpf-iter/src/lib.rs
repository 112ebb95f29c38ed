// SPDX-License-Identifier: GPL-2.0
//! Load, attach, pin and read Linux BPF iterators, for targets built into
//! vmlinux and for targets provided by kernel modules.
//!
//! # How programs are loaded
//!
//! * **vmlinux targets** use aya as is: [`aya::Ebpf::load`], then
//!   [`aya::programs::Iter::load`] with the running kernel's BTF.
//! * **module targets**: aya 0.16's `Iter::load(name, &btf)` looks
//!   `bpf_iter_<name>` up only in the (standalone) BTF it is given and never
//!   sets `attach_btf_obj_fd`; the field lives in aya's crate-private
//!   `ProgramData` and cannot be reached. Rather than patching aya, this
//!   crate runs aya-obj's public pipeline itself (parse, CO-RE relocation
//!   against vmlinux BTF, map creation through [`aya::maps::MapData::create`],
//!   map/call relocation) and issues `BPF_PROG_LOAD` from [`sys`] with
//!   `attach_btf_obj_fd` set to the module's BTF object. Limitation: CO-RE
//!   relocations are resolved against vmlinux only, so module-only types
//!   (the `struct bpf_iter__<target>` context) must be declared without
//!   `preserve_access_index` in module-target programs.
//!
//! Attaching always goes through [`sys::iter_link_create`] because aya's
//! `Iter::attach()` cannot pass a `union bpf_iter_link_info`.

pub mod btf;
pub mod error;
pub mod sys;
pub mod tap;

use std::{
    collections::HashSet,
    ffi::CString,
    fs::{self, File},
    io::Read,
    os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd},
    path::{Path, PathBuf},
};

use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
use serde::Serialize;

pub use error::{Error, Result};
pub use sys::IterLinkInfo;

use btf::KernelBtf;

/// Directory of kernel BTF files.
pub const SYS_BTF: &str = "/sys/kernel/btf";

/// Typed iterator parameters: `union bpf_iter_link_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IterParams {
    /// No `iter_info` at all.
    #[default]
    None,
    /// `task`: at most one of these should be nonzero (the kernel says
    /// `EINVAL` otherwise).
    Task {
        /// Only this thread.
        tid: u32,
        /// Only the threads of this process.
        pid: u32,
        /// Only the threads of the process this pidfd refers to.
        pid_fd: i32,
    },
    /// `bpf_map_elem` and friends: the map to walk.
    Map {
        /// Map file descriptor.
        map_fd: i32,
    },
    /// Raw bytes passed unchanged (any length), for testing kernel checks.
    Raw(Vec<u8>),
}

/// Size of `union bpf_iter_link_info` in 6.12 (its `cgroup` member:
/// `order`, `cgroup_fd`, `cgroup_id`).
pub const LINK_INFO_SIZE: usize = 16;

impl IterParams {
    /// Encodes the parameters as `union bpf_iter_link_info` bytes, `None`
    /// when no `iter_info` should be passed.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let words = |w: &[u32]| {
            let mut v = vec![0u8; LINK_INFO_SIZE];
            for (i, x) in w.iter().enumerate() {
                v[i * 4..i * 4 + 4].copy_from_slice(&x.to_ne_bytes());
            }
            v
        };
        match self {
            IterParams::None => None,
            IterParams::Task { tid, pid, pid_fd } => Some(words(&[*tid, *pid, *pid_fd as u32])),
            IterParams::Map { map_fd } => Some(words(&[*map_fd as u32])),
            IterParams::Raw(b) => Some(b.clone()),
        }
    }
}

/// Where an iterator target is defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetSource {
    /// Built into the kernel image.
    Vmlinux,
    /// Provided by the named module.
    Module(String),
}

impl std::fmt::Display for TargetSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetSource::Vmlinux => f.write_str("vmlinux"),
            TargetSource::Module(m) => f.write_str(m),
        }
    }
}

/// One iterator target of the running kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetEntry {
    /// Target name (`task`, `bpf_map`, ...).
    pub target: String,
    /// `vmlinux` or the module name.
    pub source: String,
    /// Id of FUNC `bpf_iter_<target>` in that BTF.
    pub btf_id: u32,
}

/// Lists the iterator targets in every BTF of `btf_dir` (normally
/// [`SYS_BTF`]): vmlinux first, then modules by name.
pub fn list_targets(btf_dir: &Path) -> Result<Vec<TargetEntry>> {
    let vmlinux = KernelBtf::from_file(&btf_dir.join("vmlinux"), None)?;
    let mut out: Vec<TargetEntry> = vmlinux
        .iter_targets()
        .into_iter()
        .map(|(target, btf_id)| TargetEntry {
            target,
            source: "vmlinux".into(),
            btf_id,
        })
        .collect();
    for module in module_names(btf_dir)? {
        let m = KernelBtf::from_file(&btf_dir.join(&module), Some(&vmlinux))?;
        out.extend(
            m.iter_targets()
                .into_iter()
                .map(|(target, btf_id)| TargetEntry {
                    target,
                    source: module.clone(),
                    btf_id,
                }),
        );
    }
    Ok(out)
}

fn module_names(btf_dir: &Path) -> Result<Vec<String>> {
    let rd = fs::read_dir(btf_dir).map_err(|e| Error::Io(btf_dir.display().to_string(), e))?;
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "vmlinux")
        .collect();
    names.sort();
    Ok(names)
}

/// Finds `bpf_iter_<target>`: in `module` if given, else in vmlinux, else in
/// the first module that defines it.
pub fn locate_target(target: &str, module: Option<&str>) -> Result<(TargetSource, u32)> {
    let dir = Path::new(SYS_BTF);
    let vmlinux = KernelBtf::from_file(&dir.join("vmlinux"), None)?;
    let unknown = || Error::UnknownTarget {
        target: target.into(),
        module: module.map(Into::into),
    };
    if let Some(m) = module {
        let path = dir.join(m);
        if !path.exists() {
            return Err(Error::UnknownModule(m.into()));
        }
        let btf = KernelBtf::from_file(&path, Some(&vmlinux))?;
        return btf
            .iter_target_id(target)
            .map(|id| (TargetSource::Module(m.into()), id))
            .ok_or_else(unknown);
    }
    if let Some(id) = vmlinux.iter_target_id(target) {
        return Ok((TargetSource::Vmlinux, id));
    }
    for m in module_names(dir)? {
        let btf = KernelBtf::from_file(&dir.join(&m), Some(&vmlinux))?;
        if let Some(id) = btf.iter_target_id(target) {
            return Ok((TargetSource::Module(m), id));
        }
    }
    Err(unknown())
}

/// An iterator program found in an ELF object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgSpec {
    /// Function (program) name.
    pub name: String,
    /// Target from the section name `iter/<target>` or `iter.s/<target>`.
    pub target: String,
    /// `iter.s/` section.
    pub sleepable: bool,
}

/// Splits an iterator section name into `(target, sleepable)`.
pub fn parse_section(section: &str) -> Option<(String, bool)> {
    if let Some(t) = section.strip_prefix("iter/") {
        Some((t.to_string(), false))
    } else {
        section
            .strip_prefix("iter.s/")
            .map(|t| (t.to_string(), true))
    }
}

/// Lists the iterator programs of an ELF object.
pub fn iter_programs(elf: &[u8]) -> Result<Vec<ProgSpec>> {
    let file = object::File::parse(elf).map_err(|e| Error::Aya(format!("parsing ELF: {e}")))?;
    let mut out = Vec::new();
    for sym in file.symbols() {
        if sym.kind() != object::SymbolKind::Text || !sym.is_global() {
            continue;
        }
        let Some(idx) = sym.section_index() else {
            continue;
        };
        let Ok(section) = file.section_by_index(idx) else {
            continue;
        };
        let (Ok(sec_name), Ok(name)) = (section.name(), sym.name()) else {
            continue;
        };
        if let Some((target, sleepable)) = parse_section(sec_name) {
            out.push(ProgSpec {
                name: name.to_string(),
                target,
                sleepable,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What to load from an object.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Program name (required if the object has several iterator programs).
    pub prog: Option<String>,
    /// Module providing the target (default: vmlinux, then any module).
    pub module: Option<String>,
    /// Refuse a program written for another target than this one.
    pub target: Option<String>,
}

/// Keeps alive what a loaded program needs (maps, BTF, aya's handles).
#[allow(dead_code)]
enum Keep {
    Aya(Box<aya::Ebpf>),
    Own {
        maps: Vec<aya::maps::MapData>,
        prog_btf: Option<OwnedFd>,
        module_btf: OwnedFd,
    },
}

/// A loaded iterator program.
pub struct IterProgram {
    /// Program name.
    pub name: String,
    /// Target name.
    pub target: String,
    /// Where the target lives.
    pub source: TargetSource,
    fd: OwnedFd,
    _keep: Keep,
}

impl std::fmt::Debug for IterProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IterProgram")
            .field("name", &self.name)
            .field("target", &self.target)
            .field("source", &self.source)
            .field("fd", &self.fd)
            .finish()
    }
}

fn aya_err(e: impl std::fmt::Display) -> Error {
    Error::Aya(e.to_string())
}

impl IterProgram {
    /// Loads an iterator program from an ELF file.
    pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let data = fs::read(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
        Self::load(&data, opts)
    }

    /// Loads an iterator program from ELF bytes.
    pub fn load(elf: &[u8], opts: &LoadOptions) -> Result<Self> {
        let progs = iter_programs(elf)?;
        let spec = match &opts.prog {
            Some(n) => progs.iter().find(|p| &p.name == n).ok_or_else(|| {
                Error::NoSuchProgram(format!("no iterator program `{n}` in object"))
            })?,
            None => match progs.as_slice() {
                [one] => one,
                [] => return Err(Error::NoSuchProgram("no iterator program in object".into())),
                _ => {
                    let names: Vec<_> = progs.iter().map(|p| p.name.as_str()).collect();
                    return Err(Error::NoSuchProgram(format!(
                        "several iterator programs, pick one with --prog: {}",
                        names.join(", ")
                    )));
                }
            },
        };
        if let Some(want) = &opts.target {
            if want != &spec.target {
                return Err(Error::WrongTarget {
                    prog: spec.name.clone(),
                    found: spec.target.clone(),
                    wanted: want.clone(),
                });
            }
        }
        let (source, btf_id) = locate_target(&spec.target, opts.module.as_deref())?;
        match source {
            TargetSource::Vmlinux => Self::load_vmlinux(elf, spec),
            TargetSource::Module(m) => Self::load_module(elf, spec, m, btf_id),
        }
    }

    fn load_vmlinux(elf: &[u8], spec: &ProgSpec) -> Result<Self> {
        let mut ebpf = aya::Ebpf::load(elf).map_err(aya_err)?;
        let btf = aya::Btf::from_sys_fs().map_err(aya_err)?;
        let prog: &mut aya::programs::Iter = ebpf
            .program_mut(&spec.name)
            .ok_or_else(|| Error::NoSuchProgram(format!("aya does not know `{}`", spec.name)))?
            .try_into()
            .map_err(aya_err)?;
        prog.load(&spec.target, &btf).map_err(|e| match e {
            aya::programs::ProgramError::LoadError {
                io_error,
                verifier_log,
            } => Error::Verifier {
                prog: spec.name.clone(),
                source: io_error,
                log: verifier_log.to_string(),
            },
            other => aya_err(other),
        })?;
        let fd = prog
            .fd()
            .map_err(aya_err)?
            .as_fd()
            .try_clone_to_owned()
            .map_err(Error::sys("dup"))?;
        Ok(IterProgram {
            name: spec.name.clone(),
            target: spec.target.clone(),
            source: TargetSource::Vmlinux,
            fd,
            _keep: Keep::Aya(Box::new(ebpf)),
        })
    }

    fn load_module(elf: &[u8], spec: &ProgSpec, module: String, btf_id: u32) -> Result<Self> {
        use aya_obj::EbpfSectionKind;
        let module_btf = sys::module_btf_fd(&module)
            .map_err(Error::sys("BPF_BTF_GET_FD_BY_ID"))?
            .ok_or_else(|| Error::UnknownModule(module.clone()))?;
        let mut obj = aya_obj::Object::parse(elf).map_err(aya_err)?;
        // The object's own BTF (func/line info); optional like in aya.
        let prog_btf = obj
            .fixup_and_sanitize_btf(|| Some(|_| true))
            .ok()
            .flatten()
            .map(|b| b.to_bytes())
            .and_then(|b| sys::btf_load(&b).ok());
        let vmlinux = aya::Btf::from_sys_fs().map_err(aya_err)?;
        if obj.has_btf_relocations() {
            obj.relocate_btf(&vmlinux).map_err(aya_err)?;
        }
        obj.resolve_externs(Some(&vmlinux)).map_err(aya_err)?;
        let mut maps = Vec::new();
        let mut fds = Vec::new();
        for (name, m) in &obj.maps {
            let md =
                aya::maps::MapData::create(m.clone(), name, prog_btf.as_ref().map(|f| f.as_fd()))
                    .map_err(aya_err)?;
            let fd = md.fd().as_fd();
            if !m.data().is_empty() {
                sys::map_set_first(fd, m.data()).map_err(Error::sys("BPF_MAP_UPDATE_ELEM"))?;
            }
            if m.section_kind() == EbpfSectionKind::Rodata {
                sys::map_freeze(fd).map_err(Error::sys("BPF_MAP_FREEZE"))?;
            }
            fds.push((name.clone(), fd.as_raw_fd(), m.clone()));
            maps.push(md);
        }
        let text: HashSet<usize> = obj.functions.keys().map(|(s, _)| *s).collect();
        obj.relocate_maps(fds.iter().map(|(n, fd, m)| (n.as_str(), *fd, m)), &text)
            .map_err(aya_err)?;
        obj.relocate_externs().map_err(aya_err)?;
        obj.relocate_calls(&text).map_err(aya_err)?;
        obj.sanitize_functions(|| true);
        let p = obj.programs.get(&spec.name).ok_or_else(|| {
            Error::NoSuchProgram(format!("aya-obj does not know `{}`", spec.name))
        })?;
        let func = obj
            .functions
            .get(&p.function_key())
            .ok_or_else(|| Error::NoSuchProgram(format!("no code for `{}`", spec.name)))?;
        let insns: Vec<u8> = func
            .instructions
            .iter()
            .flat_map(|i| {
                // SAFETY: bpf_insn is a plain 8-byte #[repr(C)] struct.
                let b: [u8; 8] = unsafe { std::mem::transmute_copy(i) };
                b
            })
            .collect();
        let func_info = func.func_info.func_info_bytes();
        let line_info = func.line_info.line_info_bytes();
        let fd = sys::iter_prog_load(&sys::IterProgLoad {
            name: &spec.name,
            insns: &insns,
            license: &p.license,
            attach_btf_id: btf_id,
            attach_btf_obj: Some(module_btf.as_fd()),
            prog_btf: prog_btf.as_ref().map(|f| f.as_fd()),
            func_info: (func.func_info_rec_size as u32, &func_info),
            line_info: (func.line_info_rec_size as u32, &line_info),
            sleepable: spec.sleepable,
        })
        .map_err(|(source, log)| Error::Verifier {
            prog: spec.name.clone(),
            source,
            log,
        })?;
        Ok(IterProgram {
            name: spec.name.clone(),
            target: spec.target.clone(),
            source: TargetSource::Module(module),
            fd,
            _keep: Keep::Own {
                maps,
                prog_btf,
                module_btf,
            },
        })
    }

    /// The program fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Attaches the program (`BPF_LINK_CREATE` with `iter_info`).
    pub fn attach(&self, params: &IterParams) -> Result<IterLink> {
        let info = params.encode();
        let fd = sys::iter_link_create(self.fd.as_fd(), info.as_deref())
            .map_err(Error::sys("BPF_LINK_CREATE"))?;
        Ok(IterLink { fd })
    }
}

/// An iterator link: each [`IterLink::open`] starts a new pass.
#[derive(Debug)]
pub struct IterLink {
    fd: OwnedFd,
}

impl IterLink {
    /// The link fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// A new iterator fd (`BPF_ITER_CREATE`), readable like a seq_file.
    pub fn open(&self) -> Result<File> {
        let fd = sys::iter_create(self.fd.as_fd()).map_err(Error::sys("BPF_ITER_CREATE"))?;
        Ok(File::from(fd))
    }

    /// Opens a new iterator and reads it to the end.
    pub fn read_all(&self) -> Result<Vec<u8>> {
        let mut f = self.open()?;
        let mut out = Vec::new();
        f.read_to_end(&mut out)
            .map_err(Error::sys("read(iterator)"))?;
        Ok(out)
    }

    /// Pins the link in a bpffs; reading the pinned file runs the iterator.
    pub fn pin(&self, path: &Path) -> Result<()> {
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::Invalid(format!("{}: NUL in path", path.display())))?;
        sys::obj_pin(self.fd.as_fd(), &c).map_err(Error::sys("BPF_OBJ_PIN"))
    }

    /// `BPF_OBJ_GET_INFO_BY_FD` on the link.
    pub fn info(&self) -> Result<IterLinkInfo> {
        sys::link_info(self.fd.as_fd()).map_err(Error::sys("BPF_OBJ_GET_INFO_BY_FD"))
    }
}

/// Removes a pinned link (the link lives on while other fds hold it).
pub fn unpin(path: &Path) -> Result<()> {
    fs::remove_file(path).map_err(|e| Error::Io(path.display().to_string(), e))
}

/// Makes sure a bpffs is mounted at `dir` (mounts one if not).
pub fn ensure_bpffs(dir: &Path) -> Result<()> {
    const BPF_FS_MAGIC: i64 = 0xcafe4a11;
    let c = CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::Invalid("NUL in path".into()))?;
    // SAFETY: statfs on a valid C string into a zeroed struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } == 0 && st.f_type as i64 == BPF_FS_MAGIC {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| Error::Io(dir.display().to_string(), e))?;
    let fstype = c"bpf";
    // SAFETY: all pointers are valid NUL-terminated strings.
    let r = unsafe {
        libc::mount(
            fstype.as_ptr(),
            c.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(Error::Sys {
            call: "mount(bpf)",
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// Default pin directory.
pub fn bpffs() -> PathBuf {
    PathBuf::from("/sys/fs/bpf")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(b: &[u8]) -> Vec<u32> {
        b.chunks(4)
            .map(|c| u32::from_ne_bytes(c.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn link_info_encoding() {
        assert_eq!(IterParams::None.encode(), None);
        let t = IterParams::Task {
            tid: 7,
            pid: 0,
            pid_fd: 0,
        }
        .encode()
        .unwrap();
        assert_eq!(t.len(), LINK_INFO_SIZE);
        assert_eq!(words(&t), vec![7, 0, 0, 0]);
        let t = IterParams::Task {
            tid: 0,
            pid: 42,
            pid_fd: 5,
        }
        .encode()
        .unwrap();
        assert_eq!(words(&t), vec![0, 42, 5, 0]);
        let m = IterParams::Map { map_fd: 9 }.encode().unwrap();
        assert_eq!(words(&m), vec![9, 0, 0, 0]);
        assert_eq!(IterParams::Raw(vec![1; 40]).encode().unwrap().len(), 40);
    }

    #[test]
    fn section_names() {
        assert_eq!(parse_section("iter/task"), Some(("task".into(), false)));
        assert_eq!(
            parse_section("iter.s/task_file"),
            Some(("task_file".into(), true))
        );
        assert_eq!(parse_section("kprobe/x"), None);
    }

    #[test]
    fn list_targets_of_a_fake_sysfs() {
        let dir = std::env::temp_dir().join(format!("bpf-iter-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("vmlinux"), btf::tests::base_blob()).unwrap();
        let l = list_targets(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            l,
            vec![TargetEntry {
                target: "task".into(),
                source: "vmlinux".into(),
                btf_id: 5
            }]
        );
    }
}
