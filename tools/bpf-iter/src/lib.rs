// SPDX-License-Identifier: GPL-2.0
//! Load, attach, pin and read Linux BPF iterators, for targets built into
//! vmlinux and for targets provided by kernel modules.
//!
//! # How programs are loaded
//!
//! * **vmlinux targets** use aya as is: [`aya::EbpfLoader`], then
//!   [`aya::programs::Iter::load`] with the running kernel's BTF (read once
//!   per process and shared with the target lookup).
//! * **module targets**: aya 0.16's `Iter::load(name, &btf)` looks
//!   `bpf_iter_<name>` up only in the (standalone) BTF it is given and never
//!   sets `attach_btf_obj_fd`; the field lives in aya's crate-private
//!   `ProgramData` and cannot be reached. Rather than patching aya, this
//!   crate runs aya-obj's public pipeline itself (parse, CO-RE relocation
//!   against vmlinux BTF, map creation through [`aya::maps::MapData::create`],
//!   map/call relocation) and issues `BPF_PROG_LOAD` from [`sys`] with
//!   `attach_btf_obj_fd` set to the module's BTF object. aya-obj relocates
//!   CO-RE against one standalone BTF: this crate gives it vmlinux's with the
//!   module's after it ([`btf::KernelBtf::merge_split_for_core`], vmlinux's
//!   types first, as libbpf looks for them), so that a program may read the
//!   module's own structs (`struct bpf_iter__<target>`, a record) as it reads
//!   vmlinux's, `preserve_access_index` and all. One module only: the
//!   target's, or for a vmlinux target the one module whose kfuncs it calls.
//! * **kfuncs of modules**: aya-obj 0.6 resolves kfunc calls against vmlinux
//!   BTF only, and aya never passes the `fd_array` that names a module's BTF
//!   to the verifier. A program (on any target) that calls a kfunc defined
//!   in a module's BTF is therefore loaded through the crate's own pipeline
//!   too, which resolves those calls itself ([`kfunc`]) and passes
//!   `fd_array`. A program that calls none takes one of the paths above,
//!   unchanged.
//!
//! Attaching always goes through [`sys::iter_link_create`] because aya's
//! `Iter::attach()` cannot pass a `union bpf_iter_link_info`.

pub mod btf;
pub mod error;
pub mod kfunc;
pub mod sys;
pub mod tap;

use std::{
    collections::HashSet,
    ffi::CString,
    fs::{self, File},
    io::Read,
    os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd},
    path::{Path, PathBuf},
    sync::OnceLock,
};

use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
use serde::Serialize;

pub use error::{Error, Result};
pub use sys::IterLinkInfo;

use btf::KernelBtf;
use kfunc::ModuleKfunc;

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
    /// `cgroup`: a walk in `order` from one cgroup (by fd or id; neither:
    /// the root).
    Cgroup {
        /// The walk order.
        order: CgroupOrder,
        /// An fd of the cgroup's directory (0: none).
        cgroup_fd: i32,
        /// The cgroup's id (0: none).
        cgroup_id: u64,
    },
    /// Parameters of a module target's own (`--param TYPE=VALUE`), laid out as a C struct
    /// of those fields (see [`CustomParam::encode`]).
    Custom(Vec<u8>),
    /// Raw bytes passed unchanged (any length), for testing kernel checks.
    Raw(Vec<u8>),
}

/// One field of a target's own parameters: `bpf-iter --param u32=10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomParam {
    /// `u8=N`
    U8(u8),
    /// `u16=N`
    U16(u16),
    /// `u32=N`
    U32(u32),
    /// `u64=N`
    U64(u64),
    /// `i32=N`
    I32(i32),
    /// `i64=N`
    I64(i64),
}

impl std::str::FromStr for CustomParam {
    type Err = String;

    /// `TYPE=VALUE`, TYPE one of u8, u16, u32, u64, i32, i64; VALUE decimal or 0x hex.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (ty, v) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected TYPE=VALUE, e.g. u32=10"))?;
        let bad = |e: std::num::ParseIntError| format!("`{s}`: {e}");
        let (digits, radix) = match v.strip_prefix("0x") {
            Some(h) => (h, 16),
            None => (v, 10),
        };
        Ok(match ty {
            "u8" => CustomParam::U8(u8::from_str_radix(digits, radix).map_err(bad)?),
            "u16" => CustomParam::U16(u16::from_str_radix(digits, radix).map_err(bad)?),
            "u32" => CustomParam::U32(u32::from_str_radix(digits, radix).map_err(bad)?),
            "u64" => CustomParam::U64(u64::from_str_radix(digits, radix).map_err(bad)?),
            "i32" => CustomParam::I32(i32::from_str_radix(digits, radix).map_err(bad)?),
            "i64" => CustomParam::I64(i64::from_str_radix(digits, radix).map_err(bad)?),
            _ => return Err(format!("`{s}`: TYPE is one of u8, u16, u32, u64, i32, i64")),
        })
    }
}

impl CustomParam {
    fn bytes(self) -> Vec<u8> {
        match self {
            CustomParam::U8(v) => v.to_ne_bytes().to_vec(),
            CustomParam::U16(v) => v.to_ne_bytes().to_vec(),
            CustomParam::U32(v) => v.to_ne_bytes().to_vec(),
            CustomParam::U64(v) => v.to_ne_bytes().to_vec(),
            CustomParam::I32(v) => v.to_ne_bytes().to_vec(),
            CustomParam::I64(v) => v.to_ne_bytes().to_vec(),
        }
    }

    /// Lays `fields` out as a C struct of them would be (each at its natural alignment), the
    /// bytes a target reads with `LinkInfo::custom::<T>()` for a `#[repr(C)]` `T` of the same
    /// fields. At most [`LINK_INFO_SIZE`] bytes.
    pub fn encode(fields: &[CustomParam]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for f in fields {
            let b = f.bytes();
            while out.len() % b.len() != 0 {
                out.push(0);
            }
            out.extend_from_slice(&b);
        }
        if out.len() > LINK_INFO_SIZE {
            return Err(Error::Invalid(format!(
                "--param: {} bytes of parameters, at most {LINK_INFO_SIZE} fit \
                 (union bpf_iter_link_info)",
                out.len()
            )));
        }
        Ok(out)
    }
}

/// `enum bpf_cgroup_iter_order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u32)]
pub enum CgroupOrder {
    /// The cgroup only.
    SelfOnly = 1,
    /// The cgroup and its descendants, parents first.
    DescendantsPre = 2,
    /// The cgroup and its descendants, children first.
    DescendantsPost = 3,
    /// The cgroup and its ancestors up to the root.
    AncestorsUp = 4,
}

impl CgroupOrder {
    /// Every order, with the name the CLI and JSON use.
    pub const ALL: [(CgroupOrder, &'static str); 4] = [
        (CgroupOrder::SelfOnly, "self-only"),
        (CgroupOrder::DescendantsPre, "descendants-pre"),
        (CgroupOrder::DescendantsPost, "descendants-post"),
        (CgroupOrder::AncestorsUp, "ancestors-up"),
    ];

    /// The order of `enum bpf_cgroup_iter_order` value `v`.
    pub fn from_raw(v: u32) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(o, _)| *o as u32 == v)
            .map(|(o, _)| *o)
    }

    /// The name the CLI and JSON use.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(o, _)| *o == self)
            .map_or("", |(_, n)| n)
    }
}

/// Which parameters (`union bpf_iter_link_info` member) a target takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    /// None: the target ignores (C) or refuses (Rust) any.
    None,
    /// `task`: tid, pid or pidfd.
    Task,
    /// `map`: a map fd.
    Map,
    /// `cgroup`: order and cgroup fd or id.
    Cgroup,
    /// Parameters of the target's own (`--param`): only a module's target takes them.
    Custom,
    /// Not known to this tool (a module's C target, or a vmlinux target
    /// newer than the table): parameters are passed unchecked.
    Unknown,
}

impl ParamKind {
    /// The parameters of a target, as far as this tool knows them.
    ///
    /// Nothing in BTF or sysfs says which member of `union
    /// bpf_iter_link_info` a target reads, so the vmlinux targets of 6.12
    /// are a table (from their `attach_target` callbacks: `task_iter.c`,
    /// `map_iter.c`, `bpf_sk_storage.c`, `sock_map.c`, `cgroup_iter.c`; the
    /// others have none and ignore parameters: [`ParamKind::table`]). A
    /// Rust target, in a module or built in, declares its kind in BTF
    /// ([`ParamKind::declared`]). A target that does neither, or whose BTF
    /// cannot be read, is [`ParamKind::Unknown`].
    pub fn of(target: &str, source: &TargetSource) -> ParamKind {
        let declared = || -> Result<ParamKind> {
            let vmlinux = &vmlinux()?.index;
            Ok(match source {
                TargetSource::Vmlinux => ParamKind::declared(vmlinux, target).0,
                TargetSource::Module(m) => {
                    let btf = KernelBtf::from_file(&Path::new(SYS_BTF).join(m), Some(vmlinux))?;
                    ParamKind::declared(&btf, target).0
                }
            })
        };
        match (source, ParamKind::table(target)) {
            (TargetSource::Vmlinux, k) if k != ParamKind::Unknown => k,
            _ => declared().unwrap_or(ParamKind::Unknown),
        }
    }

    /// The parameters of vmlinux's C targets of 6.12, by name
    /// ([`ParamKind::Unknown`] for any other).
    pub fn table(target: &str) -> ParamKind {
        match target {
            "task" | "task_file" | "task_vma" => ParamKind::Task,
            "bpf_map_elem" | "bpf_sk_storage_map" | "sockmap" => ParamKind::Map,
            "cgroup" => ParamKind::Cgroup,
            "bpf_map" | "bpf_prog" | "bpf_link" | "ipv6_route" | "netlink" | "tcp" | "udp"
            | "unix" | "ksym" | "kmem_cache" => ParamKind::None,
            _ => ParamKind::Unknown,
        }
    }

    /// The kind of link parameters a Rust target declares in its module's
    /// BTF ([`KernelBtf::link_params`]: `kernel::bpf::iter::Target::Params`,
    /// which the kernel enforces), with the C type of parameters of its own;
    /// [`ParamKind::Unknown`] for a target that declares none (C).
    pub fn declared(btf: &KernelBtf<'_>, target: &str) -> (ParamKind, Option<String>) {
        let Some((kind, ctype)) = btf.link_params(target) else {
            return (ParamKind::Unknown, None);
        };
        let kind = match kind.as_str() {
            "" => ParamKind::None,
            "task" => ParamKind::Task,
            "map" => ParamKind::Map,
            "cgroup" => ParamKind::Cgroup,
            "custom" => ParamKind::Custom,
            _ => ParamKind::Unknown,
        };
        (kind, ctype)
    }

    /// The kind of `params` (`None` for no or raw parameters).
    pub fn of_params(params: &IterParams) -> Option<ParamKind> {
        match params {
            IterParams::None | IterParams::Raw(_) => None,
            IterParams::Task { .. } => Some(ParamKind::Task),
            IterParams::Map { .. } => Some(ParamKind::Map),
            IterParams::Cgroup { .. } => Some(ParamKind::Cgroup),
            IterParams::Custom(_) => Some(ParamKind::Custom),
        }
    }

    /// Refuses parameters that `target` does not take.
    pub fn check(self, target: &str, params: &IterParams) -> Result<()> {
        match Self::of_params(params) {
            Some(given) => self.check_kind(target, given),
            None => Ok(()),
        }
    }

    /// Refuses parameters of kind `given` if `target` (of kind `self`) does
    /// not take them.
    pub fn check_kind(self, target: &str, given: ParamKind) -> Result<()> {
        match self {
            ParamKind::Unknown => Ok(()),
            k if k == given => Ok(()),
            ParamKind::None => Err(Error::Invalid(format!(
                "target `{target}` takes no parameters, {} given",
                given.describe()
            ))),
            k => Err(Error::Invalid(format!(
                "target `{target}` takes {}, not {}",
                k.describe(),
                given.describe()
            ))),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ParamKind::None => "no parameters",
            ParamKind::Task => "task parameters (--pid, --tid, --pid-fd)",
            ParamKind::Map => "a map (--map-id, --map-pinned)",
            ParamKind::Cgroup => "a cgroup (--cgroup, --cgroup-id, --order)",
            ParamKind::Custom => "parameters of its own (--param)",
            ParamKind::Unknown => "unknown parameters",
        }
    }
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
            IterParams::Cgroup {
                order,
                cgroup_fd,
                cgroup_id,
            } => {
                let id = cgroup_id.to_ne_bytes();
                let w = |b: &[u8]| u32::from_ne_bytes(b.try_into().unwrap());
                Some(words(&[
                    *order as u32,
                    *cgroup_fd as u32,
                    w(&id[..4]),
                    w(&id[4..]),
                ]))
            }
            IterParams::Custom(b) | IterParams::Raw(b) => Some(b.clone()),
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
    /// The parameters it takes, as far as known ([`ParamKind::of`],
    /// [`ParamKind::declared`]).
    pub params: ParamKind,
    /// For [`ParamKind::Custom`], the parameter's C type (`__u32`, `struct
    /// fib_param`), which `--param` fills byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_type: Option<String>,
}

impl std::fmt::Display for TargetEntry {
    /// `bpf-iter list`'s line: name, source, parameter kind (and type).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = serde_json::to_value(self.params).unwrap_or_default();
        write!(
            f,
            "{:<24} {:<24} params {}",
            self.target,
            self.source,
            kind.as_str().unwrap_or("?")
        )?;
        match &self.param_type {
            Some(t) => write!(f, " ({t})"),
            None => Ok(()),
        }
    }
}

/// One open-coded iterator of the running kernel: kfuncs
/// `bpf_iter_<name>_new`, `_next` and `_destroy` ([`btf::OpenIter`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenIterEntry {
    /// `<name>` (`num`, `task`, ...).
    pub name: String,
    /// `vmlinux` or the module name, as [`TargetEntry::source`].
    pub source: String,
    /// `sizeof(struct bpf_iter_<name>)`, in bytes.
    pub state_size: u32,
    /// The parameters of `bpf_iter_<name>_new` after the state.
    pub new_args: Vec<btf::IterArg>,
    /// What `bpf_iter_<name>_next` returns: `int *`, `struct task_struct *`.
    pub next_returns: String,
}

impl OpenIterEntry {
    fn new(it: btf::OpenIter, source: &str) -> Self {
        OpenIterEntry {
            name: it.name,
            source: source.into(),
            state_size: it.state_size,
            new_args: it.new_args,
            next_returns: it.next_returns,
        }
    }
}

impl std::fmt::Display for OpenIterEntry {
    /// `bpf-iter list`'s line: name, source, state size, `new`'s parameters
    /// and what `next` yields.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<String> = self.new_args.iter().map(|a| a.to_string()).collect();
        write!(
            f,
            "{:<24} {:<24} state {} B  new({})  next -> {}",
            self.name,
            self.source,
            self.state_size,
            args.join(", "),
            self.next_returns
        )
    }
}

/// The iterator targets and open-coded iterators of a kernel, and the module
/// BTF that could not be read.
#[derive(Debug, Default)]
pub struct TargetList {
    /// The targets: vmlinux's first, then the modules' by module name.
    pub targets: Vec<TargetEntry>,
    /// The open-coded iterators, in the same order: vmlinux's first (by
    /// name), then the modules' by module name.
    pub open_iters: Vec<OpenIterEntry>,
    /// Modules whose BTF was left out, with the reason (a module unloaded
    /// while listing, BTF of a newer kind than this tool reads, ...).
    pub skipped: Vec<(String, Error)>,
}

/// Lists the iterator targets and open-coded iterators in every BTF of
/// `btf_dir` (normally [`SYS_BTF`]): vmlinux first, then modules by name.
/// vmlinux's BTF is read once; a module's BTF that cannot be read is skipped
/// (and reported in [`TargetList::skipped`]), not an error.
pub fn list_targets(btf_dir: &Path) -> Result<TargetList> {
    let vmlinux = KernelBtf::from_file(&btf_dir.join("vmlinux"), None)?;
    let mut out: Vec<TargetEntry> = vmlinux
        .iter_targets()
        .into_iter()
        .map(|(target, btf_id)| {
            let (params, param_type) = match ParamKind::table(&target) {
                ParamKind::Unknown => ParamKind::declared(&vmlinux, &target),
                k => (k, None),
            };
            TargetEntry {
                params,
                param_type,
                target,
                source: "vmlinux".into(),
                btf_id,
            }
        })
        .collect();
    let mut open_iters: Vec<OpenIterEntry> = vmlinux
        .open_iters()
        .into_iter()
        .map(|it| OpenIterEntry::new(it, "vmlinux"))
        .collect();
    let mut skipped = Vec::new();
    for module in module_names(btf_dir)? {
        let m = match KernelBtf::from_file(&btf_dir.join(&module), Some(&vmlinux)) {
            Ok(m) => m,
            Err(e) => {
                skipped.push((module, e));
                continue;
            }
        };
        out.extend(m.iter_targets().into_iter().map(|(target, btf_id)| {
            let (params, param_type) = ParamKind::declared(&m, &target);
            TargetEntry {
                target,
                source: module.clone(),
                btf_id,
                params,
                param_type,
            }
        }));
        open_iters.extend(
            m.open_iters()
                .into_iter()
                .map(|it| OpenIterEntry::new(it, &module)),
        );
    }
    Ok(TargetList {
        targets: out,
        open_iters,
        skipped,
    })
}

/// The module BTF files of `btf_dir`, by name.
pub(crate) fn module_names(btf_dir: &Path) -> Result<Vec<String>> {
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
    locate_target_in(Path::new(SYS_BTF), target, module)
}

/// [`locate_target`] in the BTF files of `dir` (normally [`SYS_BTF`]).
pub fn locate_target_in(
    dir: &Path,
    target: &str,
    module: Option<&str>,
) -> Result<(TargetSource, u32)> {
    let vmlinux = KernelBtf::from_file(&dir.join("vmlinux"), None)?;
    locate_on(&vmlinux, dir, target, module)
}

/// vmlinux's BTF as this process first read it from [`SYS_BTF`]: our index of
/// it (target lookup, split module BTF) and aya's parse (CO-RE, `Iter::load`),
/// from one read. It cannot change while the kernel runs, and reading it is
/// the dearest part of loading a program on a debug kernel: sysfs returns it
/// a page per `read()` (1,350 reads for 5.5 MB), measured at 2.7 s of system
/// time in the KASAN/lockdep guest, where a program load read it twice.
struct Vmlinux {
    index: KernelBtf<'static>,
    aya: aya::Btf,
    /// As read: the base of a module's BTF merged for CO-RE.
    data: Vec<u8>,
}

static VMLINUX: OnceLock<Vmlinux> = OnceLock::new();

fn vmlinux() -> Result<&'static Vmlinux> {
    if let Some(v) = VMLINUX.get() {
        return Ok(v);
    }
    let path = Path::new(SYS_BTF).join("vmlinux");
    let data = fs::read(&path).map_err(|e| Error::Io(path.display().to_string(), e))?;
    let index = KernelBtf::parse(&data)?;
    let aya = aya::Btf::parse(&data, object::Endianness::default())
        .map_err(Error::aya("parsing /sys/kernel/btf/vmlinux"))?;
    // Two threads may both have read it; either result is the same.
    Ok(VMLINUX.get_or_init(|| Vmlinux { index, aya, data }))
}

fn locate_on(
    vmlinux: &KernelBtf<'static>,
    dir: &Path,
    target: &str,
    module: Option<&str>,
) -> Result<(TargetSource, u32)> {
    let unknown = || Error::UnknownTarget {
        target: target.into(),
        module: module.map(Into::into),
    };
    if let Some(m) = module {
        let path = dir.join(m);
        if !path.exists() {
            return Err(Error::UnknownModule(m.into()));
        }
        let btf = KernelBtf::from_file(&path, Some(vmlinux))?;
        return btf
            .iter_target_id(target)
            .map(|id| (TargetSource::Module(m.into()), id))
            .ok_or_else(unknown);
    }
    if let Some(id) = vmlinux.iter_target_id(target) {
        return Ok((TargetSource::Vmlinux, id));
    }
    for m in module_names(dir)? {
        let btf = KernelBtf::from_file(&dir.join(&m), Some(vmlinux))?;
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
    let file = object::File::parse(elf).map_err(Error::aya("parsing the ELF object"))?;
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

/// Whether this process has what loading a tracing (iterator) program takes:
/// `CAP_BPF` and `CAP_PERFMON`, or `CAP_SYS_ADMIN` (effective capabilities,
/// from `/proc/self/status`; if that cannot be read, the kernel decides).
pub fn may_load() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    let Ok(status) = fs::read_to_string("/proc/self/status") else {
        return true;
    };
    let Some(eff) = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
    else {
        return true;
    };
    let has = |c: u32| eff & (1 << c) != 0;
    has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))
}

/// Picks the program `opts` asks for among the iterator programs of an
/// object (the only one if no name is given), refusing one written for
/// another target than `opts.target`.
pub fn select_program<'a>(progs: &'a [ProgSpec], opts: &LoadOptions) -> Result<&'a ProgSpec> {
    let spec = match &opts.prog {
        Some(n) => progs
            .iter()
            .find(|p| &p.name == n)
            .ok_or_else(|| Error::NoSuchProgram(format!("no iterator program `{n}` in object")))?,
        None => match progs {
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
    match &opts.target {
        Some(want) if want != &spec.target => Err(Error::WrongTarget {
            prog: spec.name.clone(),
            found: spec.target.clone(),
            wanted: want.clone(),
        }),
        _ => Ok(spec),
    }
}

/// Keeps alive what a loaded program needs (maps, BTF, aya's handles).
#[allow(dead_code)]
enum Keep {
    Aya(Box<aya::Ebpf>),
    Own {
        maps: Vec<aya::maps::MapData>,
        prog_btf: Option<OwnedFd>,
        /// The target's module's BTF (`None`: a vmlinux target).
        module_btf: Option<OwnedFd>,
        /// The BTF of the modules whose kfuncs the program calls, in
        /// `fd_array` order (once loaded, the program holds its own
        /// references to them and their modules; kept like `module_btf`).
        kfunc_btfs: Vec<OwnedFd>,
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
    module_kfuncs: Vec<ModuleKfunc>,
    fd: OwnedFd,
    _keep: Keep,
}

impl std::fmt::Debug for IterProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IterProgram")
            .field("name", &self.name)
            .field("target", &self.target)
            .field("source", &self.source)
            .field("module_kfuncs", &self.module_kfuncs)
            .field("fd", &self.fd)
            .finish()
    }
}

impl IterProgram {
    /// Loads an iterator program from an ELF file.
    pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let data = fs::read(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
        Self::load(&data, opts)
    }

    /// Loads an iterator program from ELF bytes.
    ///
    /// Without the capabilities an iterator program needs ([`may_load`]) this
    /// fails with `EPERM` before anything is tried: aya, probing features and
    /// creating maps unprivileged, reports such a run as a relocation error.
    pub fn load(elf: &[u8], opts: &LoadOptions) -> Result<Self> {
        if !may_load() {
            return Err(Error::Sys {
                call: "loading a BPF iterator",
                source: std::io::Error::from_raw_os_error(libc::EPERM),
            });
        }
        let progs = iter_programs(elf)?;
        let spec = select_program(&progs, opts)?;
        let vmlinux = vmlinux()?;
        let (source, btf_id) = locate_on(
            &vmlinux.index,
            Path::new(SYS_BTF),
            &spec.target,
            opts.module.as_deref(),
        )?;
        // A module target's own module is the likeliest home of its kfuncs.
        let first = match &source {
            TargetSource::Module(m) => Some(m.as_str()),
            TargetSource::Vmlinux => None,
        };
        let kfuncs =
            kfunc::Externs::scan(elf)?.in_modules(&vmlinux.index, Path::new(SYS_BTF), first)?;
        match source {
            TargetSource::Vmlinux if kfuncs.is_empty() => {
                Self::load_vmlinux(elf, spec, &vmlinux.aya)
            }
            source => Self::load_own(elf, spec, source, btf_id, &kfuncs, vmlinux),
        }
    }

    fn load_vmlinux(elf: &[u8], spec: &ProgSpec, btf: &aya::Btf) -> Result<Self> {
        let mut ebpf = aya::EbpfLoader::new()
            .btf(btf)
            .load(elf)
            .map_err(Error::aya("loading the object (maps, relocations)"))?;
        let prog: &mut aya::programs::Iter = ebpf
            .program_mut(&spec.name)
            .ok_or_else(|| Error::NoSuchProgram(format!("aya does not know `{}`", spec.name)))?
            .try_into()
            .map_err(Error::aya("taking the program as an iterator"))?;
        prog.load(&spec.target, btf).map_err(|e| match e {
            aya::programs::ProgramError::LoadError {
                io_error,
                verifier_log,
            } => Error::Verifier {
                prog: spec.name.clone(),
                source: io_error,
                log: verifier_log.to_string(),
            },
            other => Error::aya("loading the program")(other),
        })?;
        let fd = prog
            .fd()
            .map_err(Error::aya("the program's fd"))?
            .as_fd()
            .try_clone_to_owned()
            .map_err(Error::sys("dup"))?;
        Ok(IterProgram {
            name: spec.name.clone(),
            target: spec.target.clone(),
            source: TargetSource::Vmlinux,
            module_kfuncs: Vec::new(),
            fd,
            _keep: Keep::Aya(Box::new(ebpf)),
        })
    }

    /// Loads through the crate's own pipeline (see the crate docs): for a
    /// module's target (`attach_btf_obj_fd`) or a program that calls kfuncs
    /// of modules (`fd_array`). `btf_id` is FUNC `bpf_iter_<target>` in the
    /// BTF of `source`.
    fn load_own(
        elf: &[u8],
        spec: &ProgSpec,
        source: TargetSource,
        btf_id: u32,
        kfuncs: &kfunc::ModuleKfuncs,
        vmlinux: &Vmlinux,
    ) -> Result<Self> {
        use aya_obj::EbpfSectionKind;
        let module_btf = match &source {
            TargetSource::Module(m) => Some(open_module_btf(m)?),
            TargetSource::Vmlinux => None,
        };
        let kfunc_btfs = kfuncs
            .modules()
            .iter()
            .map(|m| open_module_btf(m))
            .collect::<Result<Vec<_>>>()?;
        let fd_array = kfunc::ModuleKfuncs::fd_array(
            &kfunc_btfs.iter().map(|f| f.as_fd()).collect::<Vec<_>>(),
        );
        // aya-obj fails on a strong kfunc extern that vmlinux lacks; weak, it
        // is left for `kfuncs.patch` below.
        let elf = kfuncs.weakened(elf)?;
        let mut obj = aya_obj::Object::parse(&elf).map_err(Error::aya("parsing the object"))?;
        // The object's own BTF (func/line info). An object without BTF loads
        // without it; BTF the kernel refuses is an error, with its log.
        let prog_btf =
            match obj
                .fixup_and_sanitize_btf(|| Some(|_| true))
                .map_err(Error::aya("preparing the object's BTF"))?
            {
                None => None,
                Some(btf) => Some(sys::btf_load(&btf.to_bytes()).map_err(|(source, log)| {
                    Error::Verifier {
                        prog: format!("{} (its BTF)", spec.name),
                        source,
                        log,
                    }
                })?),
            };
        if obj.has_btf_relocations() {
            // aya-obj relocates against one standalone BTF. With the module's
            // types after vmlinux's, a program may also read the module's
            // structs through CO-RE, or ask whether they exist, as libbpf lets it.
            match core_module(&source, kfuncs) {
                None => obj
                    .relocate_btf(&vmlinux.aya)
                    .map_err(Error::aya("CO-RE relocation against vmlinux"))?,
                Some(m) => {
                    let path = Path::new(SYS_BTF).join(m);
                    let split =
                        fs::read(&path).map_err(|e| Error::Io(path.display().to_string(), e))?;
                    let merged = aya::Btf::parse(
                        &vmlinux.index.merge_split_for_core(&vmlinux.data, &split)?,
                        object::Endianness::default(),
                    )
                    .map_err(Error::aya("parsing vmlinux's and a module's BTF together"))?;
                    obj.relocate_btf(&merged).map_err(Error::aya(
                        "CO-RE relocation against vmlinux and the module",
                    ))?;
                }
            }
        }
        obj.resolve_externs(Some(&vmlinux.aya))
            .map_err(Error::aya("resolving externs"))?;
        let mut maps = Vec::new();
        let mut fds = Vec::new();
        for (name, m) in &obj.maps {
            let md =
                aya::maps::MapData::create(m.clone(), name, prog_btf.as_ref().map(|f| f.as_fd()))
                    .map_err(Error::aya("creating a map"))?;
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
            .map_err(Error::aya("relocating map references"))?;
        obj.relocate_externs()
            .map_err(Error::aya("relocating externs"))?;
        // Before relocate_calls, which copies the callees into the programs.
        kfuncs.patch(
            obj.functions.values_mut().map(|f| {
                (
                    f.section_index.0,
                    f.section_offset,
                    f.instructions.as_mut_slice(),
                )
            }),
            &fd_array,
        )?;
        obj.relocate_calls(&text)
            .map_err(Error::aya("relocating calls"))?;
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
            attach_btf_obj: module_btf.as_ref().map(|f| f.as_fd()),
            prog_btf: prog_btf.as_ref().map(|f| f.as_fd()),
            func_info: (func.func_info_rec_size as u32, &func_info),
            line_info: (func.line_info_rec_size as u32, &line_info),
            sleepable: spec.sleepable,
            fd_array: &fd_array,
        })
        .map_err(|(source, log)| Error::Verifier {
            prog: spec.name.clone(),
            source,
            log,
        })?;
        Ok(IterProgram {
            name: spec.name.clone(),
            target: spec.target.clone(),
            source,
            module_kfuncs: kfuncs.kfuncs().to_vec(),
            fd,
            _keep: Keep::Own {
                maps,
                prog_btf,
                module_btf,
                kfunc_btfs,
            },
        })
    }

    /// The kfuncs of modules that the program calls, each with its module
    /// (empty if it calls none, or only vmlinux's).
    pub fn module_kfuncs(&self) -> &[ModuleKfunc] {
        &self.module_kfuncs
    }

    /// The modules whose kfuncs the program calls, each once.
    pub fn kfunc_modules(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for k in &self.module_kfuncs {
            if !out.contains(&k.module.as_str()) {
                out.push(&k.module);
            }
        }
        out
    }

    /// The program fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Which parameters the program's target takes, as far as known.
    pub fn param_kind(&self) -> ParamKind {
        ParamKind::of(&self.target, &self.source)
    }

    /// Attaches the program (`BPF_LINK_CREATE` with `iter_info`). Typed
    /// parameters of the wrong kind for the target are refused here (see
    /// [`ParamKind::of`]); [`IterParams::Raw`] goes to the kernel unchecked.
    pub fn attach(&self, params: &IterParams) -> Result<IterLink> {
        self.param_kind().check(&self.target, params)?;
        let info = params.encode();
        let fd = sys::iter_link_create(self.fd.as_fd(), info.as_deref())
            .map_err(Error::sys("BPF_LINK_CREATE"))?;
        Ok(IterLink { fd })
    }
}

/// The module whose types CO-RE relocation sees beside vmlinux's: a module
/// target's own, or else the one module whose kfuncs the program calls. aya-obj
/// takes one BTF, and two modules' split BTF would give the same ids to
/// different types, so a program on a vmlinux target calling kfuncs of two
/// modules is relocated against vmlinux alone.
fn core_module<'a>(source: &'a TargetSource, kfuncs: &'a kfunc::ModuleKfuncs) -> Option<&'a str> {
    match source {
        TargetSource::Module(m) => Some(m),
        TargetSource::Vmlinux => match kfuncs.modules() {
            [m] => Some(m),
            _ => None,
        },
    }
}

/// An fd of module `module`'s BTF object.
fn open_module_btf(module: &str) -> Result<OwnedFd> {
    sys::module_btf_fd(module)
        .map_err(|(call, source)| Error::Sys { call, source })?
        .ok_or_else(|| Error::UnknownModule(module.into()))
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
    /// A path whose directory is not in a bpffs is refused with
    /// [`Error::NotBpffs`] (the kernel says `EPERM`, as for missing privileges).
    pub fn pin(&self, path: &Path) -> Result<()> {
        let c = cpath(path)?;
        match sys::obj_pin(self.fd.as_fd(), &c) {
            Err(_) if !in_bpffs(path) => Err(Error::NotBpffs(path.display().to_string())),
            r => r.map_err(Error::sys("BPF_OBJ_PIN")),
        }
    }

    /// Opens the link pinned at `path`.
    pub fn from_pin(path: &Path) -> Result<IterLink> {
        let c = cpath(path)?;
        let fd = match sys::obj_get(&c) {
            Err(_) if !in_bpffs(path) => return Err(Error::NotBpffs(path.display().to_string())),
            r => r.map_err(|e| Error::Io(path.display().to_string(), e))?,
        };
        // Any pinned object opens; only a link's info is a bpf_link_info.
        let kind = fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .map_err(|e| Error::Io("/proc/self/fd".into(), e))?;
        if kind.as_os_str() != "anon_inode:bpf-link" {
            return Err(Error::Invalid(format!(
                "{}: not a BPF link ({})",
                path.display(),
                kind.display()
            )));
        }
        let link = IterLink { fd };
        let info = link.info()?;
        if info.link_type != sys::BPF_LINK_TYPE_ITER {
            return Err(Error::Invalid(format!(
                "{}: not an iterator link (link type {})",
                path.display(),
                info.link_type
            )));
        }
        Ok(link)
    }

    /// `BPF_OBJ_GET_INFO_BY_FD` on the link.
    pub fn info(&self) -> Result<IterLinkInfo> {
        sys::link_info(self.fd.as_fd()).map_err(Error::sys("BPF_OBJ_GET_INFO_BY_FD"))
    }
}

/// The parameters of an iterator link as the kernel reports them
/// (`BPF_OBJ_GET_INFO_BY_FD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownParams {
    /// One thread.
    Tid(u32),
    /// The threads of one process.
    Pid(u32),
    /// One map.
    MapId(u32),
    /// A cgroup walk.
    Cgroup {
        /// The cgroup's id.
        cgroup_id: u64,
        /// The walk order.
        order: CgroupOrder,
    },
}

/// An iterator link, for `bpf-iter show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkShow {
    /// Link id.
    pub id: u32,
    /// Id of its program.
    pub prog_id: u32,
    /// Target name.
    pub target: String,
    /// Its parameters (`None`: none, or none the target reports).
    pub params: Option<ShownParams>,
    /// For a module's target, the words of `iter`'s `task`/`cgroup` union, where it may also
    /// report parameters of its own (`None`, and not in JSON, if all zero, and for vmlinux
    /// targets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<[u32; 4]>,
}

impl LinkShow {
    /// Decodes the parameters of `info` as its target's kind says (a
    /// module's target: whichever member the target filled in).
    pub fn new(info: &IterLinkInfo) -> Self {
        let kind = if info.target_name.is_empty() {
            ParamKind::Unknown
        } else {
            // module targets are never in the vmlinux table by name
            ParamKind::table(&info.target_name)
        };
        let task = || match (info.task_tid, info.task_pid) {
            (0, 0) => None,
            (0, pid) => Some(ShownParams::Pid(pid)),
            (tid, _) => Some(ShownParams::Tid(tid)),
        };
        let cgroup = || {
            CgroupOrder::from_raw(info.cgroup_order).map(|order| ShownParams::Cgroup {
                cgroup_id: info.cgroup_id,
                order,
            })
        };
        let map = || (info.map_id != 0).then_some(ShownParams::MapId(info.map_id));
        let params = match kind {
            ParamKind::None => None,
            ParamKind::Task => task(),
            ParamKind::Map => map(),
            ParamKind::Cgroup => cgroup(),
            ParamKind::Unknown => map().or_else(cgroup).or_else(task),
            ParamKind::Custom => None,
        };
        let raw = (kind == ParamKind::Unknown && info.raw != [0; 4]).then_some(info.raw);
        LinkShow {
            id: info.id,
            prog_id: info.prog_id,
            target: info.target_name.clone(),
            params,
            raw,
        }
    }
}

impl std::fmt::Display for LinkShow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: iter  prog {}  target {}",
            self.id, self.prog_id, self.target
        )?;
        match &self.params {
            None => Ok(()),
            Some(ShownParams::Tid(t)) => write!(f, "  tid {t}"),
            Some(ShownParams::Pid(p)) => write!(f, "  pid {p}"),
            Some(ShownParams::MapId(m)) => write!(f, "  map_id {m}"),
            Some(ShownParams::Cgroup { cgroup_id, order }) => {
                write!(f, "  cgroup_id {cgroup_id}  order {}", order.name())
            }
        }?;
        match self.raw {
            Some([a, b, c, d]) => write!(f, "  raw {a} {b} {c} {d}"),
            None => Ok(()),
        }
    }
}

/// Every iterator link of the system (`BPF_LINK_GET_NEXT_ID`), by id.
pub fn iter_links() -> Result<Vec<LinkShow>> {
    let mut out = Vec::new();
    let mut id = 0;
    while let Some(next) =
        sys::next_id(sys::IdKind::Link, id).map_err(Error::sys("BPF_LINK_GET_NEXT_ID"))?
    {
        id = next;
        let fd = match sys::fd_by_id(sys::IdKind::Link, id) {
            Ok(fd) => fd,
            // released since GET_NEXT_ID
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(Error::sys("BPF_LINK_GET_FD_BY_ID")(e)),
        };
        let info = sys::link_info(fd.as_fd()).map_err(Error::sys("BPF_OBJ_GET_INFO_BY_FD"))?;
        if info.link_type == sys::BPF_LINK_TYPE_ITER {
            out.push(LinkShow::new(&info));
        }
    }
    Ok(out)
}

/// Removes a pinned link (the link lives on while other fds hold it).
/// Refuses a path that is no iterator link in a bpffs.
pub fn unpin(path: &Path) -> Result<()> {
    IterLink::from_pin(path)?;
    fs::remove_file(path).map_err(|e| Error::Io(path.display().to_string(), e))
}

fn cpath(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::Invalid(format!("{}: NUL in path", path.display())))
}

/// Whether `path` is on a bpffs (`statfs`).
pub fn is_bpffs(path: &Path) -> bool {
    const BPF_FS_MAGIC: i64 = 0xcafe4a11;
    let Ok(c) = cpath(path) else {
        return false;
    };
    // SAFETY: an all-zero statfs is a valid value of this plain C struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated string, `st` a valid statfs to fill.
    unsafe { libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type as i64 == BPF_FS_MAGIC }
}

/// Whether `path` (a pin path, which may not exist yet) is in a bpffs: it
/// is, or its directory is.
fn in_bpffs(path: &Path) -> bool {
    is_bpffs(path)
        || match path.parent() {
            Some(p) if p.as_os_str().is_empty() => is_bpffs(Path::new(".")),
            Some(p) => is_bpffs(p),
            None => false,
        }
}

/// Makes sure a bpffs is mounted at `dir` (mounts one if not).
pub fn ensure_bpffs(dir: &Path) -> Result<()> {
    if is_bpffs(dir) {
        return Ok(());
    }
    let c = cpath(dir)?;
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
    fn cgroup_link_info_encoding() {
        let c = IterParams::Cgroup {
            order: CgroupOrder::AncestorsUp,
            cgroup_fd: 3,
            cgroup_id: 0x1_0000_0002,
        }
        .encode()
        .unwrap();
        assert_eq!(c.len(), LINK_INFO_SIZE);
        assert_eq!(words(&c)[..2], [4, 3]);
        assert_eq!(
            u64::from_ne_bytes(c[8..].try_into().unwrap()),
            0x1_0000_0002
        );
        for (o, n) in CgroupOrder::ALL {
            assert_eq!(CgroupOrder::from_raw(o as u32), Some(o));
            assert_eq!(o.name(), n);
            assert_eq!(serde_json::to_value(o).unwrap(), n);
        }
        assert_eq!(CgroupOrder::from_raw(0), None);
    }

    fn spec(name: &str, target: &str) -> ProgSpec {
        ProgSpec {
            name: name.into(),
            target: target.into(),
            sleepable: false,
        }
    }

    #[test]
    fn program_selection() {
        let opts = |prog: Option<&str>, target: Option<&str>| LoadOptions {
            prog: prog.map(Into::into),
            target: target.map(Into::into),
            module: None,
        };
        let one = [spec("dump_task", "task")];
        assert_eq!(
            select_program(&one, &opts(None, None)).unwrap().name,
            "dump_task"
        );
        // a program written for another target than the one asked for
        match select_program(&one, &opts(None, Some("task_file"))) {
            Err(Error::WrongTarget {
                prog,
                found,
                wanted,
            }) => assert_eq!(
                (&*prog, &*found, &*wanted),
                ("dump_task", "task", "task_file")
            ),
            other => panic!("expected WrongTarget, got {other:?}"),
        }
        let two = [spec("a", "task"), spec("b", "task_vma")];
        let e = select_program(&two, &opts(None, None)).unwrap_err();
        assert!(e.to_string().contains("--prog: a, b"), "{e}");
        assert_eq!(
            select_program(&two, &opts(Some("b"), None)).unwrap().target,
            "task_vma"
        );
        assert!(matches!(
            select_program(&two, &opts(Some("c"), None)),
            Err(Error::NoSuchProgram(_))
        ));
        assert!(matches!(
            select_program(&[], &opts(None, None)),
            Err(Error::NoSuchProgram(_))
        ));
    }

    #[test]
    fn unknown_module_and_target() {
        let dir = std::env::temp_dir().join(format!("bpf-iter-locate-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("vmlinux"), btf::tests::base_blob()).unwrap();
        let m = locate_target_in(&dir, "task", Some("no_such_module"));
        let t = locate_target_in(&dir, "no_such_target", None);
        let ok = locate_target_in(&dir, "task", None);
        fs::remove_dir_all(&dir).unwrap();
        assert!(
            matches!(m, Err(Error::UnknownModule(ref n)) if n == "no_such_module"),
            "{m:?}"
        );
        assert!(matches!(t, Err(Error::UnknownTarget { .. })), "{t:?}");
        assert_eq!(ok.unwrap(), (TargetSource::Vmlinux, 5));
    }

    #[test]
    fn parameter_kinds() {
        let v = TargetSource::Vmlinux;
        let task = IterParams::Task {
            tid: 1,
            pid: 0,
            pid_fd: 0,
        };
        let map = IterParams::Map { map_fd: 3 };
        assert_eq!(ParamKind::of("task_vma", &v), ParamKind::Task);
        assert_eq!(ParamKind::of("bpf_map_elem", &v), ParamKind::Map);
        assert_eq!(ParamKind::of("cgroup", &v), ParamKind::Cgroup);
        assert_eq!(ParamKind::of("bpf_prog", &v), ParamKind::None);
        assert_eq!(ParamKind::table("future_target"), ParamKind::Unknown);
        let m = TargetSource::Module("no_such_module_here".into());
        assert_eq!(ParamKind::of("task", &m), ParamKind::Unknown);
        // a map fd is no tid, a tid no map fd
        let e = ParamKind::Task.check("task", &map).unwrap_err();
        assert!(e.to_string().contains("takes task parameters"), "{e}");
        let e = ParamKind::Map.check("bpf_map_elem", &task).unwrap_err();
        assert!(e.to_string().contains("takes a map"), "{e}");
        // a target without attach_target would silently ignore them
        let e = ParamKind::None.check("bpf_prog", &task).unwrap_err();
        assert!(e.to_string().contains("takes no parameters"), "{e}");
        assert!(ParamKind::Task.check("task", &task).is_ok());
        assert!(ParamKind::Unknown.check("rust_x", &map).is_ok());
        assert!(ParamKind::None.check("bpf_prog", &IterParams::None).is_ok());
        assert!(ParamKind::None
            .check("bpf_prog", &IterParams::Raw(vec![1]))
            .is_ok());
    }

    #[test]
    fn custom_params_are_laid_out_as_c() {
        let enc = |a: &[&str]| {
            let f: Vec<CustomParam> = a.iter().map(|s| s.parse().unwrap()).collect();
            CustomParam::encode(&f)
        };
        assert_eq!(enc(&["u32=10"]).unwrap(), 10u32.to_ne_bytes());
        // u8 then u64: 7 bytes of padding, as in C.
        let b = enc(&["u8=1", "u64=0x102"]).unwrap();
        assert_eq!(b.len(), 16);
        assert_eq!(b[0], 1);
        assert_eq!(&b[8..], &0x102u64.to_ne_bytes());
        // More than the union holds.
        assert!(enc(&["u64=1", "u64=2", "u8=3"]).is_err());
        assert!("u32".parse::<CustomParam>().is_err());
        assert!("u33=1".parse::<CustomParam>().is_err());
        assert!("u8=256".parse::<CustomParam>().is_err());
        assert_eq!("i32=-5".parse::<CustomParam>(), Ok(CustomParam::I32(-5)));
        // Refused for a vmlinux target that takes other parameters.
        let custom = IterParams::Custom(vec![1, 0, 0, 0]);
        assert!(ParamKind::Task.check("task", &custom).is_err());
        assert!(ParamKind::Unknown.check("rust_primes", &custom).is_ok());
    }

    #[test]
    fn link_show_decodes_by_target() {
        let info = |target: &str, map_id, tid, pid, order| IterLinkInfo {
            link_type: sys::BPF_LINK_TYPE_ITER,
            id: 7,
            prog_id: 9,
            target_name: target.into(),
            map_id,
            task_tid: tid,
            task_pid: pid,
            cgroup_id: u64::from(tid) | u64::from(pid) << 32,
            cgroup_order: order,
            raw: [tid, pid, order, 0],
        };
        let p = |i| LinkShow::new(&i).params;
        let raw = |i| LinkShow::new(&i).raw;
        // A module's target: its words as well; a vmlinux one: never.
        assert_eq!(raw(info("rust_primes", 0, 10, 0, 0)), Some([10, 0, 0, 0]));
        assert_eq!(raw(info("rust_primes", 0, 0, 0, 0)), None);
        assert_eq!(raw(info("task", 0, 5, 0, 0)), None);
        assert_eq!(p(info("task", 0, 0, 42, 0)), Some(ShownParams::Pid(42)));
        assert_eq!(p(info("task", 0, 5, 0, 0)), Some(ShownParams::Tid(5)));
        assert_eq!(p(info("task", 0, 0, 0, 0)), None);
        assert_eq!(
            p(info("bpf_map_elem", 3, 0, 0, 0)),
            Some(ShownParams::MapId(3))
        );
        assert_eq!(
            p(info("cgroup", 0, 1, 0, 2)),
            Some(ShownParams::Cgroup {
                cgroup_id: 1,
                order: CgroupOrder::DescendantsPre
            })
        );
        assert_eq!(
            p(info("rust_task", 0, 0, 42, 0)),
            Some(ShownParams::Pid(42))
        );
        assert_eq!(p(info("bpf_prog", 0, 0, 0, 0)), None);
        let s = LinkShow::new(&info("task", 0, 0, 42, 0)).to_string();
        assert_eq!(s, "7: iter  prog 9  target task  pid 42");
    }

    #[test]
    fn tmp_is_no_bpffs() {
        assert!(!is_bpffs(&std::env::temp_dir()));
        assert!(!in_bpffs(&std::env::temp_dir().join("pin")));
        assert!(!in_bpffs(Path::new("relative-pin")));
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
        // a module's BTF this tool cannot read is skipped, with the reason
        fs::write(dir.join("broken_mod"), b"not BTF").unwrap();
        let l = list_targets(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(l.skipped.len(), 1);
        assert_eq!(l.skipped[0].0, "broken_mod");
        assert!(matches!(l.skipped[0].1, Error::BadBtf(_)));
        assert_eq!(
            l.targets,
            vec![TargetEntry {
                target: "task".into(),
                source: "vmlinux".into(),
                btf_id: 5,
                params: ParamKind::Task,
                param_type: None,
            }]
        );
        assert_eq!(l.open_iters, vec![]);
    }

    #[test]
    fn list_open_iters_and_targets_of_a_fake_sysfs() {
        use btf::tests::Builder;
        let mut v = Builder::new();
        let int = v.int("int", 4);
        let uint = v.int("unsigned int", 4);
        let u32_ = v.typedef("__u32", uint);
        let ull = v.int("unsigned long long", 8);
        let u64_ = v.typedef("__u64", ull);
        let u64_ptr = v.ptr(u64_);
        let meta = v.st("bpf_iter_meta", 24);
        let meta_ptr = v.ptr(meta);
        v.st("bpf_iter__task", 16);
        let task = v.func("bpf_iter_task", int, &[("meta", meta_ptr)]);
        let int_ptr = v.ptr(int);
        v.open_iter("num", 8, int, &[("start", int), ("end", int)], int_ptr);
        let vmlinux = v.build();
        let base = btf::KernelBtf::parse(&vmlinux).unwrap();
        // a module with a target and an open-coded iterator of one name
        let mut m = Builder::split(&base);
        m.st("bpf_iter__rust_primes", 16);
        let primes = m.func("bpf_iter_rust_primes", int, &[("meta", meta_ptr)]);
        m.open_iter("rust_primes", 40, int, &[("n", u32_)], u64_ptr);
        m.st_members("rust_bpf_iter_params__rust_primes", 4, &[("custom", u32_)]);
        let dir = std::env::temp_dir().join(format!("bpf-iter-test-open-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("vmlinux"), &vmlinux).unwrap();
        fs::write(dir.join("rust_bpf_iter_primes"), m.build()).unwrap();
        let l = list_targets(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert!(l.skipped.is_empty());
        let targets: Vec<_> = l
            .targets
            .iter()
            .map(|t| (t.target.as_str(), t.source.as_str(), t.btf_id))
            .collect();
        assert_eq!(
            targets,
            vec![
                ("task", "vmlinux", task),
                ("rust_primes", "rust_bpf_iter_primes", primes)
            ]
        );
        // the kind a Rust target declares, and the type of its own parameter
        assert_eq!(
            l.targets[1].to_string(),
            format!(
                "{:<24} {:<24} params custom (__u32)",
                "rust_primes", "rust_bpf_iter_primes"
            )
        );
        assert_eq!(
            l.targets[0].to_string().trim_end(),
            format!("{:<24} {:<24} params task", "task", "vmlinux")
        );
        assert_eq!(
            l.open_iters,
            vec![
                OpenIterEntry {
                    name: "num".into(),
                    source: "vmlinux".into(),
                    state_size: 8,
                    new_args: vec![
                        btf::IterArg {
                            ty: "int".into(),
                            name: "start".into()
                        },
                        btf::IterArg {
                            ty: "int".into(),
                            name: "end".into()
                        },
                    ],
                    next_returns: "int *".into(),
                },
                OpenIterEntry {
                    name: "rust_primes".into(),
                    source: "rust_bpf_iter_primes".into(),
                    state_size: 40,
                    new_args: vec![btf::IterArg {
                        ty: "__u32".into(),
                        name: "n".into()
                    }],
                    next_returns: "__u64 *".into(),
                },
            ]
        );
        assert_eq!(
            l.open_iters[1].to_string(),
            "rust_primes              rust_bpf_iter_primes     state 40 B  new(__u32 n)  next -> __u64 *"
        );
        assert_eq!(
            serde_json::to_value(&l.open_iters[1]).unwrap(),
            serde_json::json!({
                "name": "rust_primes",
                "source": "rust_bpf_iter_primes",
                "state_size": 40,
                "new_args": [{"type": "__u32", "name": "n"}],
                "next_returns": "__u64 *",
            })
        );
    }
}
