// SPDX-License-Identifier: GPL-2.0
//! Raw `bpf(2)` calls that aya 0.16 does not offer for iterators.
//!
//! aya 0.16 lacks, for BPF iterators:
//!
//! * passing a `union bpf_iter_link_info` to `BPF_LINK_CREATE`
//!   (`Iter::attach()` always sends `iter_info = NULL, iter_info_len = 0`);
//! * loading a tracing program against a *module* BTF object
//!   (`attach_btf_obj_fd` of `BPF_PROG_LOAD` is crate-private in aya), or one
//!   that calls kfuncs of modules (aya never passes `fd_array`);
//! * looking a module's BTF object up by name (`BPF_BTF_GET_NEXT_ID`,
//!   `BPF_BTF_GET_FD_BY_ID`, `BPF_OBJ_GET_INFO_BY_FD`);
//! * reading the iterator part of `struct bpf_link_info`.
//!
//! Every attribute block below is a `#[repr(C)]` prefix of `union bpf_attr`
//! (see `include/uapi/linux/bpf.h`); the kernel accepts a prefix shorter than
//! its own `union bpf_attr` and zero-fills the rest. Each function returns the
//! raw `errno` as [`std::io::Error`] so callers can match on it; nothing here
//! knows about aya, which keeps the module small enough to be proposed
//! upstream as-is.

use std::{
    ffi::CStr,
    io,
    mem::size_of,
    os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd},
};

/// `enum bpf_cmd` values used here.
mod cmd {
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const PROG_LOAD: u32 = 5;
    pub const OBJ_PIN: u32 = 6;
    pub const OBJ_GET: u32 = 7;
    pub const MAP_GET_NEXT_ID: u32 = 12;
    pub const MAP_GET_FD_BY_ID: u32 = 14;
    pub const OBJ_GET_INFO_BY_FD: u32 = 15;
    pub const BTF_LOAD: u32 = 18;
    pub const BTF_GET_FD_BY_ID: u32 = 19;
    pub const MAP_FREEZE: u32 = 22;
    pub const BTF_GET_NEXT_ID: u32 = 23;
    pub const LINK_CREATE: u32 = 28;
    pub const LINK_GET_FD_BY_ID: u32 = 30;
    pub const LINK_GET_NEXT_ID: u32 = 31;
    pub const ITER_CREATE: u32 = 33;
}

/// `BPF_PROG_TYPE_TRACING`.
pub const BPF_PROG_TYPE_TRACING: u32 = 26;
/// `BPF_TRACE_ITER` attach type.
pub const BPF_TRACE_ITER: u32 = 28;
/// `BPF_LINK_TYPE_ITER`.
pub const BPF_LINK_TYPE_ITER: u32 = 4;
/// `BPF_F_SLEEPABLE` program flag.
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;

/// Issues `bpf(cmd, attr, sizeof(*attr))`.
///
/// # Safety
/// `attr` must be a `#[repr(C)]` prefix of `union bpf_attr` for `cmd`, and
/// every pointer stored in it must be valid for the duration of the call.
unsafe fn bpf<T>(cmd: u32, attr: &mut T) -> io::Result<i64> {
    // SAFETY: the caller guarantees the attribute layout and pointers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr as *mut T as *mut libc::c_void,
            size_of::<T>() as libc::c_uint,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wraps a file descriptor returned by the kernel.
fn owned(fd: i64) -> OwnedFd {
    // SAFETY: the kernel just handed us this new descriptor.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    iter_info: u64,
    iter_info_len: u32,
    _pad: u32,
}

/// `BPF_LINK_CREATE` for an iterator program, with an optional raw
/// `union bpf_iter_link_info` (`iter_info`/`iter_info_len`).
///
/// `link_info` is passed through unchanged (any length), so callers can also
/// exercise the kernel's checks of malformed input.
pub fn iter_link_create(prog: BorrowedFd<'_>, link_info: Option<&[u8]>) -> io::Result<OwnedFd> {
    let mut attr = LinkCreateAttr {
        prog_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_TRACE_ITER,
        ..Default::default()
    };
    if let Some(info) = link_info {
        attr.iter_info = info.as_ptr() as u64;
        attr.iter_info_len = info.len() as u32;
    }
    // SAFETY: layout matches `link_create`; `info` outlives the call.
    unsafe { bpf(cmd::LINK_CREATE, &mut attr) }.map(owned)
}

#[repr(C)]
#[derive(Default)]
struct IterCreateAttr {
    link_fd: u32,
    flags: u32,
}

/// `BPF_ITER_CREATE`: a new readable iterator (seq_file) for an iter link.
pub fn iter_create(link: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut attr = IterCreateAttr {
        link_fd: link.as_raw_fd() as u32,
        flags: 0,
    };
    // SAFETY: layout matches `iter_create`.
    unsafe { bpf(cmd::ITER_CREATE, &mut attr) }.map(owned)
}

#[repr(C)]
#[derive(Default)]
struct ObjPinAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}

/// `BPF_OBJ_PIN`: pins a BPF object (here: a link) at `path` in a bpffs.
pub fn obj_pin(fd: BorrowedFd<'_>, path: &CStr) -> io::Result<()> {
    let mut attr = ObjPinAttr {
        pathname: path.as_ptr() as u64,
        bpf_fd: fd.as_raw_fd() as u32,
        file_flags: 0,
    };
    // SAFETY: layout matches `obj_pin`; `path` outlives the call.
    unsafe { bpf(cmd::OBJ_PIN, &mut attr) }.map(|_| ())
}

/// `BPF_OBJ_GET`: opens the BPF object pinned at `path`.
pub fn obj_get(path: &CStr) -> io::Result<OwnedFd> {
    let mut attr = ObjPinAttr {
        pathname: path.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: layout matches `obj_get` (as `obj_pin`); `path` outlives the call.
    unsafe { bpf(cmd::OBJ_GET, &mut attr) }.map(owned)
}

/// `pidfd_open(pid, 0)`: a pidfd for process `pid` (`ESRCH` if there is
/// none; `EINVAL`, or `ENOENT` on later kernels, if `pid` is a thread that
/// does not lead its group).
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_int, 0 as libc::c_uint) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(owned(fd))
    }
}

#[repr(C)]
#[derive(Default)]
struct InfoByFdAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `BPF_OBJ_GET_INFO_BY_FD` into a caller-provided `#[repr(C)]` info struct.
///
/// # Safety
/// `T` must be a prefix of the kernel's info struct for the kind of `fd`,
/// and every pointer in `info` must be valid and sized as declared in it.
unsafe fn obj_info<T>(fd: BorrowedFd<'_>, info: &mut T) -> io::Result<()> {
    let mut attr = InfoByFdAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: size_of::<T>() as u32,
        info: info as *mut T as u64,
    };
    // SAFETY: forwarded to the caller.
    unsafe { bpf(cmd::OBJ_GET_INFO_BY_FD, &mut attr) }.map(|_| ())
}

/// `struct bpf_link_info` up to and including the `iter` member.
#[repr(C)]
#[derive(Default)]
struct RawLinkInfo {
    ty: u32,
    id: u32,
    prog_id: u32,
    _pad: u32,
    target_name: u64,
    target_name_len: u32,
    map_id: u32,
    /// `task.tid` (or low half of `cgroup.cgroup_id`).
    task_tid: u32,
    /// `task.pid` (or high half of `cgroup.cgroup_id`).
    task_pid: u32,
    cgroup_order: u32,
    _pad2: u32,
}

/// What the kernel reports about an iterator link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IterLinkInfo {
    /// `enum bpf_link_type` (4 = `BPF_LINK_TYPE_ITER`).
    pub link_type: u32,
    /// The link id.
    pub id: u32,
    /// Id of the attached program.
    pub prog_id: u32,
    /// Iterator target name (e.g. `task`), for iter links.
    pub target_name: String,
    /// `iter.map.map_id` (map iterators).
    pub map_id: u32,
    /// `iter.task.tid` (task iterators limited to one thread).
    pub task_tid: u32,
    /// `iter.task.pid` (task iterators limited to one process).
    pub task_pid: u32,
    /// `iter.cgroup.cgroup_id` (cgroup iterators; the same bytes as
    /// `task_tid` and `task_pid`: which one a target fills depends on it).
    pub cgroup_id: u64,
    /// `iter.cgroup.order` (`enum bpf_cgroup_iter_order`).
    pub cgroup_order: u32,
    /// The 16 bytes of `iter`'s union of `task` and `cgroup`, as native-endian words: where a
    /// module's target reports parameters of its own (`LinkInfoOut::set_custom`).
    pub raw: [u32; 4],
}

/// `BPF_OBJ_GET_INFO_BY_FD` on a link, decoding the iterator fields.
pub fn link_info(link: BorrowedFd<'_>) -> io::Result<IterLinkInfo> {
    let mut name = [0u8; 64];
    let mut raw = RawLinkInfo {
        target_name: name.as_mut_ptr() as u64,
        target_name_len: name.len() as u32,
        ..Default::default()
    };
    // SAFETY: RawLinkInfo is a prefix of struct bpf_link_info, name buffer
    // is as long as declared and outlives the call.
    unsafe { obj_info(link, &mut raw) }?;
    let is_iter = raw.ty == BPF_LINK_TYPE_ITER;
    let target_name = if is_iter {
        CStr::from_bytes_until_nul(&name)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(IterLinkInfo {
        link_type: raw.ty,
        id: raw.id,
        prog_id: raw.prog_id,
        target_name,
        map_id: if is_iter { raw.map_id } else { 0 },
        task_tid: if is_iter { raw.task_tid } else { 0 },
        task_pid: if is_iter { raw.task_pid } else { 0 },
        cgroup_id: if is_iter {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&raw.task_tid.to_ne_bytes());
            b[4..].copy_from_slice(&raw.task_pid.to_ne_bytes());
            u64::from_ne_bytes(b)
        } else {
            0
        },
        cgroup_order: if is_iter { raw.cgroup_order } else { 0 },
        raw: if is_iter {
            [raw.task_tid, raw.task_pid, raw.cgroup_order, raw._pad2]
        } else {
            [0; 4]
        },
    })
}

#[repr(C)]
#[derive(Default)]
struct GetIdAttr {
    id: u32,
    next_id: u32,
    open_flags: u32,
}

/// BPF objects with ids, and the `*_GET_NEXT_ID` / `*_GET_FD_BY_ID`
/// commands of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// Links (`BPF_LINK_GET_NEXT_ID`, `BPF_LINK_GET_FD_BY_ID`).
    Link,
    /// BTF objects, vmlinux's and modules' among them.
    Btf,
    /// Maps.
    Map,
}

impl IdKind {
    /// (`*_GET_NEXT_ID`, `*_GET_FD_BY_ID`)
    fn cmds(self) -> (u32, u32) {
        match self {
            IdKind::Link => (cmd::LINK_GET_NEXT_ID, cmd::LINK_GET_FD_BY_ID),
            IdKind::Btf => (cmd::BTF_GET_NEXT_ID, cmd::BTF_GET_FD_BY_ID),
            IdKind::Map => (cmd::MAP_GET_NEXT_ID, cmd::MAP_GET_FD_BY_ID),
        }
    }
}

/// `BPF_{LINK,BTF,MAP}_GET_NEXT_ID`: the next id of that kind after `start`
/// (`Ok(None)` at the end of the list).
pub fn next_id(kind: IdKind, start: u32) -> io::Result<Option<u32>> {
    let mut attr = GetIdAttr {
        id: start,
        ..Default::default()
    };
    // SAFETY: layout matches the `start_id/next_id` attribute block, the same
    // for the three commands.
    match unsafe { bpf(kind.cmds().0, &mut attr) } {
        Ok(_) => Ok(Some(attr.next_id)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `BPF_{LINK,BTF,MAP}_GET_FD_BY_ID`.
pub fn fd_by_id(kind: IdKind, id: u32) -> io::Result<OwnedFd> {
    let mut attr = GetIdAttr {
        id,
        ..Default::default()
    };
    // SAFETY: layout matches the `link_id`/`btf_id`/`map_id` attribute block
    // (one `__u32` in the same place, then `next_id`, `open_flags`).
    unsafe { bpf(kind.cmds().1, &mut attr) }.map(owned)
}

/// `struct bpf_btf_info`.
#[repr(C)]
#[derive(Default)]
struct RawBtfInfo {
    btf: u64,
    btf_size: u32,
    id: u32,
    name: u64,
    name_len: u32,
    kernel_btf: u32,
}

/// Name (`vmlinux` or the module name) and kernel flag of a BTF object.
pub fn btf_name(btf: BorrowedFd<'_>) -> io::Result<(String, bool)> {
    let mut name = [0u8; 64];
    let mut raw = RawBtfInfo {
        name: name.as_mut_ptr() as u64,
        name_len: name.len() as u32,
        ..Default::default()
    };
    // SAFETY: RawBtfInfo is struct bpf_btf_info; the name buffer is as
    // long as declared and outlives the call.
    unsafe { obj_info(btf, &mut raw) }?;
    let name = CStr::from_bytes_until_nul(&name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((name, raw.kernel_btf != 0))
}

/// Finds the kernel BTF object of module `module` by walking all BTF ids
/// and returns an fd for it (`Ok(None)` if no kernel BTF has that name).
/// An error names the `bpf(2)` command that failed.
pub fn module_btf_fd(module: &str) -> Result<Option<OwnedFd>, (&'static str, io::Error)> {
    let mut id = 0;
    while let Some(next) = next_id(IdKind::Btf, id).map_err(|e| ("BPF_BTF_GET_NEXT_ID", e))? {
        id = next;
        let fd = match fd_by_id(IdKind::Btf, id) {
            Ok(fd) => fd,
            // freed between GET_NEXT_ID and GET_FD_BY_ID
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(("BPF_BTF_GET_FD_BY_ID", e)),
        };
        let (name, kernel) = btf_name(std::os::fd::AsFd::as_fd(&fd))
            .map_err(|e| ("BPF_OBJ_GET_INFO_BY_FD (BTF)", e))?;
        if kernel && name == module {
            return Ok(Some(fd));
        }
    }
    Ok(None)
}

#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// `BPF_MAP_UPDATE_ELEM` of key `0u32` (initial contents of a global data
/// section map such as `.rodata`).
pub fn map_set_first(map: BorrowedFd<'_>, value: &[u8]) -> io::Result<()> {
    let key = 0u32;
    let mut attr = MapElemAttr {
        map_fd: map.as_raw_fd() as u32,
        key: &key as *const u32 as u64,
        value: value.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: layout matches the map element block; key/value outlive it.
    unsafe { bpf(cmd::MAP_UPDATE_ELEM, &mut attr) }.map(|_| ())
}

/// `BPF_MAP_FREEZE`: no more writes from user space (`.rodata`).
pub fn map_freeze(map: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = GetIdAttr {
        id: map.as_raw_fd() as u32,
        ..Default::default()
    };
    // SAFETY: `map_fd` is the first field of the freeze block.
    unsafe { bpf(cmd::MAP_FREEZE, &mut attr) }.map(|_| ())
}

#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
}

/// `BPF_BTF_LOAD` of a program object's own BTF blob. On failure the
/// kernel's BTF log is returned alongside the error.
pub fn btf_load(data: &[u8]) -> Result<OwnedFd, (io::Error, String)> {
    let mut attr = BtfLoadAttr {
        btf: data.as_ptr() as u64,
        btf_size: data.len() as u32,
        ..Default::default()
    };
    // SAFETY: layout matches `btf_load`; `data` outlives the call.
    if let Ok(fd) = unsafe { bpf(cmd::BTF_LOAD, &mut attr) } {
        return Ok(owned(fd));
    }
    let mut log = vec![0u8; 1 << 16];
    attr.btf_log_buf = log.as_mut_ptr() as u64;
    attr.btf_log_size = log.len() as u32;
    attr.btf_log_level = 1;
    // SAFETY: as above, and `log` is as long as `btf_log_size`.
    unsafe { bpf(cmd::BTF_LOAD, &mut attr) }
        .map(owned)
        .map_err(|e| (e, log_text(&log)))
}

/// The NUL-terminated text in a kernel log buffer.
fn log_text(log: &[u8]) -> String {
    CStr::from_bytes_until_nul(log)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_btf_obj_fd: u32,
    core_relo_cnt: u32,
    /// `__aligned_u64 fd_array`: pointer to an array of `int` fds. Module BTF
    /// fds of kfunc calls are read from it (`fd_array[insn->off]`).
    fd_array: u64,
}

/// Everything `BPF_PROG_LOAD` needs for an iterator program.
pub struct IterProgLoad<'a> {
    /// Program name (truncated to 15 bytes).
    pub name: &'a str,
    /// Relocated instructions, 8 bytes each.
    pub insns: &'a [u8],
    /// License string.
    pub license: &'a CStr,
    /// `bpf_iter_<target>` FUNC id in the BTF of `attach_btf_obj`.
    pub attach_btf_id: u32,
    /// Module BTF object the id belongs to (`None`: vmlinux).
    pub attach_btf_obj: Option<BorrowedFd<'a>>,
    /// Program BTF (`None`: loaded without func/line info).
    pub prog_btf: Option<BorrowedFd<'a>>,
    /// `(record size, records)` of `bpf_func_info`.
    pub func_info: (u32, &'a [u8]),
    /// `(record size, records)` of `bpf_line_info`.
    pub line_info: (u32, &'a [u8]),
    /// `iter.s/` program.
    pub sleepable: bool,
    /// BTF object fds that kfunc calls into modules refer to by index (their
    /// `off`); entry 0 is unused, as `off` 0 means vmlinux. Empty: none passed.
    pub fd_array: &'a [i32],
}

/// `BPF_PROG_LOAD` of a `BPF_PROG_TYPE_TRACING`/`BPF_TRACE_ITER` program,
/// including `attach_btf_obj_fd`. On failure the verifier log is returned
/// alongside the error.
pub fn iter_prog_load(p: &IterProgLoad<'_>) -> Result<OwnedFd, (io::Error, String)> {
    let mut name = [0u8; 16];
    for (d, s) in name.iter_mut().zip(p.name.bytes().take(15)) {
        *d = s;
    }
    let count = |(size, data): (u32, &[u8])| (data.len() as u32).checked_div(size).unwrap_or(0);
    let mut log = vec![0u8; 1 << 20];
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_TRACING,
        insn_cnt: (p.insns.len() / 8) as u32,
        insns: p.insns.as_ptr() as u64,
        license: p.license.as_ptr() as u64,
        prog_flags: if p.sleepable { BPF_F_SLEEPABLE } else { 0 },
        prog_name: name,
        expected_attach_type: BPF_TRACE_ITER,
        prog_btf_fd: p.prog_btf.map_or(0, |f| f.as_raw_fd() as u32),
        attach_btf_id: p.attach_btf_id,
        attach_btf_obj_fd: p.attach_btf_obj.map_or(0, |f| f.as_raw_fd() as u32),
        fd_array: if p.fd_array.is_empty() {
            0
        } else {
            p.fd_array.as_ptr() as u64
        },
        ..Default::default()
    };
    if p.prog_btf.is_some() {
        attr.func_info_rec_size = p.func_info.0;
        attr.func_info = p.func_info.1.as_ptr() as u64;
        attr.func_info_cnt = count(p.func_info);
        attr.line_info_rec_size = p.line_info.0;
        attr.line_info = p.line_info.1.as_ptr() as u64;
        attr.line_info_cnt = count(p.line_info);
    }
    // first try without a log, then with one to report why it failed
    // SAFETY: layout matches `prog_load`; all buffers (fd_array too) outlive
    // the call.
    if let Ok(fd) = unsafe { bpf(cmd::PROG_LOAD, &mut attr) } {
        return Ok(owned(fd));
    }
    attr.log_level = 1;
    attr.log_size = log.len() as u32;
    attr.log_buf = log.as_mut_ptr() as u64;
    // SAFETY: as above, and `log` is as long as `log_size`.
    match unsafe { bpf(cmd::PROG_LOAD, &mut attr) } {
        Ok(fd) => Ok(owned(fd)),
        Err(e) => Err((e, log_text(&log))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn attr_layouts_match_uapi() {
        assert_eq!(offset_of!(LinkCreateAttr, iter_info), 16);
        assert_eq!(offset_of!(LinkCreateAttr, iter_info_len), 24);
        assert_eq!(offset_of!(ObjPinAttr, bpf_fd), 8);
        assert_eq!(offset_of!(InfoByFdAttr, info), 8);
        assert_eq!(offset_of!(RawLinkInfo, target_name), 16);
        assert_eq!(offset_of!(RawLinkInfo, map_id), 28);
        assert_eq!(offset_of!(RawLinkInfo, task_tid), 32);
        assert_eq!(offset_of!(RawLinkInfo, task_pid), 36);
        assert_eq!(offset_of!(RawLinkInfo, cgroup_order), 40);
        assert_eq!(size_of::<RawBtfInfo>(), 32);
        assert_eq!(offset_of!(ProgLoadAttr, prog_name), 48);
        assert_eq!(offset_of!(ProgLoadAttr, expected_attach_type), 68);
        assert_eq!(offset_of!(ProgLoadAttr, func_info), 80);
        assert_eq!(offset_of!(ProgLoadAttr, line_info), 96);
        assert_eq!(offset_of!(ProgLoadAttr, attach_btf_id), 108);
        assert_eq!(offset_of!(ProgLoadAttr, attach_btf_obj_fd), 112);
        assert_eq!(offset_of!(ProgLoadAttr, core_relo_cnt), 116);
        assert_eq!(offset_of!(ProgLoadAttr, fd_array), 120);
        assert_eq!(size_of::<ProgLoadAttr>(), 128);
        assert_eq!(offset_of!(BtfLoadAttr, btf_log_level), 24);
    }
}
