// SPDX-License-Identifier: GPL-2.0

//! The parameters of a link: what userspace gives when it creates one (`LinkInfo`, read as a
//! `TaskFilter`, a cgroup walk (`CgroupRef`, `CgroupOrder`), a map (`MapRef`) or parameters of
//! the target's own), and what `BPF_OBJ_GET_INFO_BY_FD` reports of them (`LinkInfoOut`).

use super::{BtfField, BtfInt};
use crate::{
    bindings,
    error::{code::*, Result},
    transmute::{AsBytes, FromBytes},
};
#[cfg(CONFIG_CGROUPS)]
use crate::{bpf::compat, c_str};
use core::{
    marker::PhantomData,
    mem::size_of,
    ptr::{self, NonNull},
};

/// Filter of a task-based iterator, from `union bpf_iter_link_info::task`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskFilter {
    /// Every task of the caller's pid namespace (nothing set).
    All,
    /// One thread: `tid`, in the caller's pid namespace.
    Tid(u32),
    /// Every thread of one process: `pid` (tgid), directly or from `pid_fd`.
    Tgid(u32),
}

/// The parameters userspace gave when creating a link (`union bpf_iter_link_info`).
///
/// Each accessor checks that nothing else is set: a target that takes task parameters refuses
/// cgroup parameters, and a target that takes none refuses any, with `EINVAL`.
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::{LinkInfo, TaskFilter};
/// use kernel::prelude::*;
///
/// // `[tid, pid, pid_fd, 0]`
/// let task = |w| LinkInfo::from_words(w).task();
/// assert!(LinkInfo::from_words([0; 4]).none().is_ok());
/// assert_eq!(task([0, 0, 0, 0]), Ok(TaskFilter::All));
/// assert_eq!(task([7, 0, 0, 0]), Ok(TaskFilter::Tid(7)));
/// assert_eq!(LinkInfo::from_words([7, 0, 0, 0]).none(), Err(EINVAL));
///
/// // tid and pid together contradict each other.
/// assert_eq!(task([7, 7, 0, 0]), Err(EINVAL));
/// assert_eq!(task([0, 7, 0, 0]), Ok(TaskFilter::Tgid(7)));
///
/// // A pid_fd that is not an open file.
/// assert_eq!(task([0, 0, 100_000, 0]), Err(EBADF));
///
/// // The high half of cgroup_id (the last 4 bytes) is no task parameter.
/// assert_eq!(task([0, 0, 0, 1]), Err(EINVAL));
///
/// // The init task exists in every namespace, pid 0x7fff_fff0 nowhere.
/// assert!(TaskFilter::Tgid(1).check_exists().is_ok());
/// assert_eq!(TaskFilter::Tid(0x7fff_fff0).check_exists(), Err(ESRCH));
/// ```
pub struct LinkInfo(bindings::bpf_iter_link_info);

/// The size of `union bpf_iter_link_info` in 32-bit words.
pub const LINK_INFO_WORDS: usize = size_of::<bindings::bpf_iter_link_info>() / 4;

impl LinkInfo {
    /// Parameters as userspace lays out `union bpf_iter_link_info`, in native-endian 32-bit
    /// words: `[tid, pid, pid_fd, 0]` for a task, `[map_fd, 0, 0, 0]` for a map,
    /// `[order, cgroup_fd, cgroup_id (low, high)]` for a cgroup.
    pub fn from_words(words: [u32; LINK_INFO_WORDS]) -> Self {
        // SAFETY: The union is plain old data of exactly this size (asserted below); every bit
        // pattern is a valid value.
        LinkInfo(unsafe {
            core::mem::transmute::<[u32; LINK_INFO_WORDS], bindings::bpf_iter_link_info>(words)
        })
    }

    /// # Safety
    ///
    /// `ptr` points to a valid `union bpf_iter_link_info`.
    pub(super) unsafe fn from_raw(ptr: *const bindings::bpf_iter_link_info) -> Self {
        // SAFETY: By the safety requirements `ptr` is valid for a read; the union is `Copy`.
        LinkInfo(unsafe { ptr.read() })
    }

    fn words(&self) -> [u32; LINK_INFO_WORDS] {
        // SAFETY: The union is plain old data of a size divisible by 4 (asserted below).
        unsafe { core::mem::transmute_copy(&self.0) }
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.words().iter().all(|w| *w == 0)
    }

    /// Accepts no parameter: `EINVAL` if any is set.
    pub fn none(&self) -> Result {
        if self.is_empty() {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }

    /// The raw bytes, for targets with parameters of their own.
    pub fn as_bytes(&self) -> &[u8; size_of::<bindings::bpf_iter_link_info>()] {
        // SAFETY: The union is plain old data of exactly this size, with no padding.
        unsafe { &*ptr::from_ref(&self.0).cast() }
    }

    /// Parameters of the target's own: a `T` laid over the start of `union
    /// bpf_iter_link_info`, which userspace fills byte for byte (`bpf-iter --param`).
    ///
    /// `T` is at most 16 bytes, the size of the union (checked at compile time), and every bit
    /// pattern is a valid `T` ([`FromBytes`]: integers and arrays of them). The bytes after `T`
    /// must be zero (`EINVAL` otherwise): a caller passing more than the target reads is
    /// refused, not half understood. A parameter of zero usually means "not given".
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::bpf::iter::LinkInfo;
    /// use kernel::prelude::*;
    ///
    /// // `[n, 0, 0, 0]`: one `u32`.
    /// assert_eq!(LinkInfo::from_words([10, 0, 0, 0]).custom::<u32>(), Ok(10));
    /// assert_eq!(LinkInfo::from_words([10, 1, 0, 0]).custom::<u32>(), Err(EINVAL));
    /// assert_eq!(LinkInfo::from_words([10, 1, 0, 0]).custom::<[u32; 2]>(), Ok([10, 1]));
    /// assert_eq!(LinkInfo::from_words([1, 2, 3, 4]).custom::<[u32; 4]>(), Ok([1, 2, 3, 4]));
    /// ```
    pub fn custom<T: FromBytes>(&self) -> Result<T> {
        #[allow(clippy::let_unit_value)]
        let () = Fits::<T>::LINK_PARAMS;
        if self.as_bytes()[size_of::<T>()..].iter().any(|b| *b != 0) {
            return Err(EINVAL);
        }
        // SAFETY: The union has at least `size_of::<T>()` bytes (`Fits`), all initialized, and
        // any bit pattern is a valid `T` (`FromBytes`). The read need not be aligned.
        Ok(unsafe { ptr::from_ref(&self.0).cast::<T>().read_unaligned() })
    }

    /// The task parameters, as the kernel's task, task_file and task_vma targets take them.
    ///
    /// At most one of `tid`, `pid`, `pid_fd` may be set (`EINVAL` otherwise, and for anything
    /// set beyond them). `pid_fd` must be a pidfd (`EBADF` if it is not an open fd or another
    /// kind of file, as for C's task targets); it names the process whose pid in the caller's
    /// namespace is used (`ESRCH` if it has none there). Whether the task exists is not checked
    /// here (see [`TaskFilter::check_exists`]).
    pub fn task(&self) -> Result<TaskFilter> {
        // SAFETY: Reading the `task` member of the union of plain integers is always defined.
        let t = unsafe { self.0.task };
        let w = self.words();
        if w[3..].iter().any(|x| *x != 0) {
            return Err(EINVAL);
        }
        let set = u32::from(t.tid != 0) + u32::from(t.pid != 0) + u32::from(t.pid_fd != 0);
        if set > 1 {
            return Err(EINVAL);
        }
        if t.tid != 0 {
            Ok(TaskFilter::Tid(t.tid))
        } else if t.pid != 0 {
            Ok(TaskFilter::Tgid(t.pid))
        } else if t.pid_fd != 0 {
            pidfd_to_tgid(t.pid_fd).map(TaskFilter::Tgid)
        } else {
            Ok(TaskFilter::All)
        }
    }
}

impl LinkInfo {
    /// The map parameter (`map.map_fd`), as the kernel's map element iterators take it: the map
    /// with a reference held for as long as the returned [`MapRef`] lives (keep it in the
    /// per-link state).
    ///
    /// `EBADF` if no fd is set (0) or the fd is not open, `EINVAL` if it is not a map or if
    /// anything else is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::bpf::iter::LinkInfo;
    /// use kernel::prelude::*;
    ///
    /// // `[map_fd, 0, 0, 0]`
    /// let map = |w| LinkInfo::from_words(w).map().err();
    /// assert_eq!(map([0, 0, 0, 0]), Some(EBADF));
    /// assert_eq!(map([100_000, 0, 0, 0]), Some(EBADF));
    /// // A task parameter (pid) beside the map fd.
    /// assert_eq!(map([100_000, 1, 0, 0]), Some(EINVAL));
    /// ```
    pub fn map(&self) -> Result<MapRef> {
        let w = self.words();
        if w[1..].iter().any(|x| *x != 0) {
            return Err(EINVAL);
        }
        if w[0] == 0 {
            return Err(EBADF);
        }
        // SAFETY: FFI call; a bad fd or a file that is not a map gives an error pointer.
        let map = unsafe { bindings::bpf_map_get_with_uref(w[0]) };
        let map = crate::error::from_err_ptr(map)?;
        // INVARIANT: `bpf_map_get_with_uref` returned a map with a reference and a user
        // reference taken for us.
        NonNull::new(map).map(MapRef).ok_or(EBADF)
    }
}

/// The order of a walk over cgroups (`enum bpf_cgroup_iter_order`).
#[cfg(CONFIG_CGROUPS)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupOrder {
    /// Only the cgroup itself.
    SelfOnly,
    /// Its descendants, pre-order.
    DescendantsPre,
    /// Its descendants, post-order.
    DescendantsPost,
    /// Its ancestors, upward.
    AncestorsUp,
}

#[cfg(CONFIG_CGROUPS)]
impl LinkInfo {
    /// The cgroup parameters, as the kernel's cgroup iterator takes them: a walk `order` (which
    /// must be given) from the cgroup named by `cgroup_fd` or `cgroup_id` (at most one of them),
    /// or from the root of the default hierarchy if neither is set.
    ///
    /// `EINVAL` for a missing or unknown order or both fd and id; `EBADF` for an fd that is not
    /// open, the kernel's errno for one that is no cgroup; `ENOENT` for an id that names none.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::bpf::iter::{CgroupOrder, LinkInfo};
    /// use kernel::prelude::*;
    ///
    /// // `[order, cgroup_fd, cgroup_id (low), cgroup_id (high)]`
    /// let cgroup = |w| LinkInfo::from_words(w).cgroup();
    /// assert_eq!(cgroup([0, 0, 0, 0]).err(), Some(EINVAL)); // no order
    /// assert_eq!(cgroup([5, 0, 0, 0]).err(), Some(EINVAL)); // unknown order
    ///
    /// let (root, order) = cgroup([2, 0, 0, 0]).unwrap();
    /// assert_eq!(order, CgroupOrder::DescendantsPre);
    /// assert_eq!(root.id(), 1); // the root of the default hierarchy
    ///
    /// assert_eq!(cgroup([2, 100_000, 1, 0]).err(), Some(EINVAL)); // fd and id
    /// assert_eq!(cgroup([2, 100_000, 0, 0]).err(), Some(EBADF));
    /// assert_eq!(cgroup([2, 0, 0xffff_ffff, 0x7fff]).err(), Some(ENOENT));
    /// ```
    pub fn cgroup(&self) -> Result<(CgroupRef, CgroupOrder)> {
        // SAFETY: Reading the `cgroup` member of the union of plain integers is always defined.
        let c = unsafe { self.0.cgroup };
        let order = match c.order {
            bindings::bpf_cgroup_iter_order_BPF_CGROUP_ITER_SELF_ONLY => CgroupOrder::SelfOnly,
            bindings::bpf_cgroup_iter_order_BPF_CGROUP_ITER_DESCENDANTS_PRE => {
                CgroupOrder::DescendantsPre
            }
            bindings::bpf_cgroup_iter_order_BPF_CGROUP_ITER_DESCENDANTS_POST => {
                CgroupOrder::DescendantsPost
            }
            bindings::bpf_cgroup_iter_order_BPF_CGROUP_ITER_ANCESTORS_UP => {
                CgroupOrder::AncestorsUp
            }
            _ => return Err(EINVAL),
        };
        if c.cgroup_fd != 0 && c.cgroup_id != 0 {
            return Err(EINVAL);
        }
        // SAFETY: FFI calls that return a cgroup with a reference, or an error pointer; the
        // path is a NUL-terminated string.
        let cgrp = unsafe {
            if c.cgroup_fd != 0 {
                bindings::cgroup_v1v2_get_from_fd(c.cgroup_fd as i32)
            } else if c.cgroup_id != 0 {
                bindings::cgroup_get_from_id(c.cgroup_id)
            } else {
                bindings::cgroup_get_from_path(compat::cstr_ptr(c_str!("/")))
            }
        };
        let cgrp = crate::error::from_err_ptr(cgrp)?;
        // INVARIANT: The lookups returned a cgroup with a reference taken for us.
        let cgrp = NonNull::new(cgrp).map(CgroupRef).ok_or(ENOENT)?;
        Ok((cgrp, order))
    }
}

#[cfg(CONFIG_CGROUPS)]
/// A cgroup named by a link parameter, with a reference that is dropped with it.
///
/// # Invariants
///
/// `self.0` is a valid cgroup on which this object holds a reference.
pub struct CgroupRef(NonNull<bindings::cgroup>);

#[cfg(CONFIG_CGROUPS)]
// SAFETY: Cgroup references may be taken and dropped from any thread.
unsafe impl Send for CgroupRef {}
#[cfg(CONFIG_CGROUPS)]
// SAFETY: `&CgroupRef` only reads immutable properties of the cgroup.
unsafe impl Sync for CgroupRef {}

#[cfg(CONFIG_CGROUPS)]
impl CgroupRef {
    /// The cgroup's id (its kernfs node id, as `cgroup_id` in C).
    pub fn id(&self) -> u64 {
        // SAFETY: By the type invariant the cgroup is valid.
        unsafe { bindings::cgroup_id(self.0.as_ptr()) }
    }
}

#[cfg(CONFIG_CGROUPS)]
impl Drop for CgroupRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own a reference.
        unsafe { bindings::cgroup_put(self.0.as_ptr()) };
    }
}

/// A BPF map named by a link parameter, with a reference (and a user reference, as a map fd
/// holds) that is dropped with it.
///
/// # Invariants
///
/// `self.0` is a valid map on which this object holds one reference and one user reference.
pub struct MapRef(NonNull<bindings::bpf_map>);

// SAFETY: Map references may be taken and dropped from any thread.
unsafe impl Send for MapRef {}
// SAFETY: `&MapRef` only reads immutable properties of the map.
unsafe impl Sync for MapRef {}

impl MapRef {
    /// The map's id, as `bpftool map show` lists it.
    pub fn id(&self) -> u32 {
        // SAFETY: By the type invariant the map is valid; its id is set before it gets an fd.
        unsafe { (*self.0.as_ptr()).id }
    }

    /// The map's type: the value of its `enum bpf_map_type` (`BPF_MAP_TYPE_*`, UAPI).
    pub fn map_type(&self) -> u32 {
        // SAFETY: As in `id`; the type never changes.
        unsafe { (*self.0.as_ptr()).map_type }
    }
}

impl Drop for MapRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own a reference and a user reference.
        unsafe { bindings::bpf_map_put_with_uref(self.0.as_ptr()) };
    }
}

const _: () = assert!(size_of::<bindings::bpf_iter_link_info>() == 4 * LINK_INFO_WORDS);
const _: () = assert!(size_of::<bindings::bpf_iter_link_info>() >= 16);

fn pidfd_to_tgid(fd: u32) -> Result<u32> {
    let mut flags = 0;
    // SAFETY: FFI call; a bad fd gives an error pointer.
    let pid = unsafe { bindings::pidfd_get_pid(fd, &mut flags) };
    let pid = crate::error::from_err_ptr(pid)?;
    // SAFETY: `pid` is a valid reference we own, dropped after `pid_vnr` gave its number in
    // the caller's pid namespace.
    let nr = unsafe {
        let nr = bindings::pid_vnr(pid);
        bindings::put_pid(pid);
        nr
    };
    if nr <= 0 {
        return Err(ESRCH);
    }
    Ok(nr as u32)
}

impl TaskFilter {
    /// Fails with `ESRCH` if the thread (`Tid`) or process (`Tgid`) does not exist in the
    /// caller's pid namespace.
    pub fn check_exists(self) -> Result<Self> {
        let (nr, tgid) = match self {
            TaskFilter::All => return Ok(self),
            TaskFilter::Tid(n) => (n, false),
            TaskFilter::Tgid(n) => (n, true),
        };
        let nr = i32::try_from(nr).map_err(|_| ESRCH)?;
        let kind = if tgid {
            bindings::pid_type_PIDTYPE_TGID
        } else {
            bindings::pid_type_PIDTYPE_PID
        };
        // SAFETY: `find_get_pid` looks `nr` up in the caller's namespace and returns a
        // reference (or NULL); `get_pid_task` returns a task reference (or NULL) for a pid we
        // hold; both references are dropped here.
        let found = unsafe {
            let pid = bindings::find_get_pid(nr);
            let task = bindings::get_pid_task(pid, kind);
            if !task.is_null() {
                bindings::put_task_struct(task);
            }
            bindings::put_pid(pid);
            !task.is_null()
        };
        if found {
            Ok(self)
        } else {
            Err(ESRCH)
        }
    }
}

/// The kind of link parameters a target takes ([`Params::KIND`]), as the build records it in
/// the module's BTF for tools (`bpf-iter list` shows it, and `bpf-iter run` refuses parameters
/// of another kind before the kernel would).
#[derive(Clone, Copy, Debug)]
pub enum ParamsKind {
    /// None: `()`.
    None,
    /// Task parameters: [`TaskFilter`].
    Task,
    /// A map: [`MapRef`].
    Map,
    /// A cgroup walk: `(CgroupRef, CgroupOrder)`.
    Cgroup,
    /// Parameters of the target's own: [`Custom<T>`], with `T`'s C type and size (the build
    /// asserts that the C type has that size).
    Custom {
        /// [`ParamType::C_TYPE`].
        ty: ParamCType,
        /// `size_of::<T>()`.
        size: usize,
    },
}

/// The C type of a parameter of a target's own ([`ParamType::C_TYPE`]).
#[derive(Clone, Copy, Debug)]
pub enum ParamCType {
    /// An integer (`__u32`), or an array of that many of them if the count is not zero.
    Int(&'static str, usize),
    /// A struct of the target's own ([`bpf_iter_btf_struct!`]), by its C name.
    ///
    /// [`bpf_iter_btf_struct!`]: crate::bpf_iter_btf_struct
    Struct(&'static str),
}

mod private {
    pub trait Sealed {}
}

/// What a target takes as link parameters ([`Target::Params`]): the framework reads them from
/// `union bpf_iter_link_info` before [`Target::attach`] and refuses the link (`EINVAL`, or the
/// errno of the lookup) if userspace set anything else, so the kind the build records for tools
/// is the kind the kernel accepts.
///
/// Implemented for `()` (no parameters, [`LinkInfo::none`]), [`TaskFilter`]
/// ([`LinkInfo::task`]), [`MapRef`] ([`LinkInfo::map`]), `(CgroupRef, CgroupOrder)`
/// ([`LinkInfo::cgroup`], with `CONFIG_CGROUPS`) and [`Custom<T>`] ([`LinkInfo::custom`]);
/// sealed, so that what is recorded cannot differ from what is read.
///
/// [`Target::Params`]: super::Target::Params
/// [`Target::attach`]: super::Target::attach
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::{Custom, LinkInfo, Params, TaskFilter};
/// use kernel::prelude::*;
///
/// let info = LinkInfo::from_words([7, 0, 0, 0]);
/// assert_eq!(<TaskFilter as Params>::from_info(&info), Ok(TaskFilter::Tid(7)));
/// assert_eq!(<Custom<u32> as Params>::from_info(&info).map(|c| c.0), Ok(7));
/// assert_eq!(<() as Params>::from_info(&info), Err(EINVAL));
/// ```
pub trait Params: Sized + private::Sealed {
    /// The kind, recorded for tools.
    const KIND: ParamsKind;

    /// Reads the parameters, refusing anything set that they do not take.
    fn from_info(info: &LinkInfo) -> Result<Self>;
}

impl private::Sealed for () {}
impl Params for () {
    const KIND: ParamsKind = ParamsKind::None;
    fn from_info(info: &LinkInfo) -> Result {
        info.none()
    }
}

impl private::Sealed for TaskFilter {}
impl Params for TaskFilter {
    const KIND: ParamsKind = ParamsKind::Task;
    fn from_info(info: &LinkInfo) -> Result<Self> {
        info.task()
    }
}

impl private::Sealed for MapRef {}
impl Params for MapRef {
    const KIND: ParamsKind = ParamsKind::Map;
    fn from_info(info: &LinkInfo) -> Result<Self> {
        info.map()
    }
}

#[cfg(CONFIG_CGROUPS)]
impl private::Sealed for (CgroupRef, CgroupOrder) {}
#[cfg(CONFIG_CGROUPS)]
impl Params for (CgroupRef, CgroupOrder) {
    const KIND: ParamsKind = ParamsKind::Cgroup;
    fn from_info(info: &LinkInfo) -> Result<Self> {
        info.cgroup()
    }
}

/// A parameter of the target's own: a `T` laid over the start of `union bpf_iter_link_info`
/// ([`LinkInfo::custom`]: at most 16 bytes, and the bytes after it zero). `bpf-iter` passes it
/// with `--param`, one per integer or struct field, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Custom<T>(pub T);

impl<T: ParamType> private::Sealed for Custom<T> {}
impl<T: ParamType> Params for Custom<T> {
    const KIND: ParamsKind = ParamsKind::Custom {
        ty: T::C_TYPE,
        size: size_of::<T>(),
    };
    fn from_info(info: &LinkInfo) -> Result<Self> {
        info.custom::<T>().map(Custom)
    }
}

/// Types a parameter of a target's own ([`Custom<T>`]) may have: integers, non-empty arrays of
/// them, and structs of the target's own ([`bpf_iter_btf_struct!`] implements it), whose C type
/// the build puts in the module's BTF, asserting that it has the size of `Self` (a `C_TYPE` of
/// another size does not build).
///
/// [`bpf_iter_btf_struct!`]: crate::bpf_iter_btf_struct
pub trait ParamType: FromBytes + AsBytes {
    /// The C type.
    const C_TYPE: ParamCType;
}

macro_rules! int_param_types {
    ($($t:ty),*) => {$(
        impl ParamType for $t {
            const C_TYPE: ParamCType = ParamCType::Int(<$t as BtfField>::C_TYPE, 0);
        }
    )*};
}
int_param_types!(u8, u16, u32, u64, i8, i16, i32, i64);

impl<T: BtfInt + FromBytes + AsBytes, const N: usize> ParamType for [T; N] {
    const C_TYPE: ParamCType = {
        // `T x[0]` would be recorded as one `T`; such a parameter takes no byte.
        assert!(
            N > 0,
            "a parameter of the target's own is not an empty array"
        );
        ParamCType::Int(T::C_TYPE, N)
    };
}

/// What `BPF_OBJ_GET_INFO_BY_FD` on a link reports about its parameters
/// (`struct bpf_link_info::iter`).
pub struct LinkInfoOut<'a>(pub(super) &'a mut bindings::bpf_link_info);

/// Compile-time checks that target parameters of type `T` fit where they go.
struct Fits<T>(PhantomData<T>);

impl<T> Fits<T> {
    /// `T` fits in `union bpf_iter_link_info` ([`LinkInfo::custom`]), and in the 16-byte
    /// union of `struct bpf_link_info`'s `iter` that reports it ([`LinkInfoOut::set_custom`]).
    const LINK_PARAMS: () = assert!(
        size_of::<T>() <= 16,
        "target parameters are at most 16 bytes (union bpf_iter_link_info)"
    );
}

const _: () =
    assert!(size_of::<bindings::bpf_link_info__bindgen_ty_1__bindgen_ty_4__bindgen_ty_2>() == 16);

impl LinkInfoOut<'_> {
    /// Reports parameters of the target's own ([`LinkInfo::custom`]): `params`' bytes at the
    /// start of the 16-byte union of `struct bpf_link_info`'s `iter` that holds `task` or
    /// `cgroup` for the kernel's targets (16 bytes into `iter`), the rest zero. `bpf-iter link
    /// show` prints them.
    pub fn set_custom<T: AsBytes>(&mut self, params: &T) {
        #[allow(clippy::let_unit_value)]
        let () = Fits::<T>::LINK_PARAMS;
        // SAFETY: `params` is `size_of::<T>()` initialized bytes (`AsBytes`), written over the
        // start of the 16-byte union (`Fits`) of plain integers, which this target owns (the
        // core only fills the target name and zeroed the rest). Taking the address of a union
        // member reads nothing.
        unsafe {
            let out = ptr::addr_of_mut!(self.0.__bindgen_anon_1.iter.__bindgen_anon_2);
            ptr::copy_nonoverlapping(
                ptr::from_ref(params).cast::<u8>(),
                out.cast::<u8>(),
                size_of::<T>(),
            )
        };
    }
}

impl LinkInfoOut<'_> {
    /// Reports task parameters (`iter.task.tid` / `iter.task.pid`).
    pub fn set_task(&mut self, filter: TaskFilter) {
        let (tid, pid) = match filter {
            TaskFilter::All => (0, 0),
            TaskFilter::Tid(t) => (t, 0),
            TaskFilter::Tgid(p) => (0, p),
        };
        // SAFETY: Writing the `task` member of the union of plain integers, which this target
        // owns (the core only fills the target name).
        unsafe {
            let it = &mut self.0.__bindgen_anon_1.iter;
            it.__bindgen_anon_2.task.tid = tid;
            it.__bindgen_anon_2.task.pid = pid;
        }
    }
}

#[cfg(CONFIG_CGROUPS)]
impl LinkInfoOut<'_> {
    /// Reports cgroup parameters (`iter.cgroup.cgroup_id` / `iter.cgroup.order`).
    pub fn set_cgroup(&mut self, cgroup: &CgroupRef, order: CgroupOrder) {
        let order = match order {
            CgroupOrder::SelfOnly => bindings::bpf_cgroup_iter_order_BPF_CGROUP_ITER_SELF_ONLY,
            CgroupOrder::DescendantsPre => {
                bindings::bpf_cgroup_iter_order_BPF_CGROUP_ITER_DESCENDANTS_PRE
            }
            CgroupOrder::DescendantsPost => {
                bindings::bpf_cgroup_iter_order_BPF_CGROUP_ITER_DESCENDANTS_POST
            }
            CgroupOrder::AncestorsUp => {
                bindings::bpf_cgroup_iter_order_BPF_CGROUP_ITER_ANCESTORS_UP
            }
        };
        let id = cgroup.id();
        // Writing union members of plain integers is safe; this target owns the `cgroup`
        // member (the core only fills the target name).
        self.0
            .__bindgen_anon_1
            .iter
            .__bindgen_anon_2
            .cgroup
            .cgroup_id = id;
        self.0.__bindgen_anon_1.iter.__bindgen_anon_2.cgroup.order = order;
    }
}

impl LinkInfoOut<'_> {
    /// Reports a map parameter (`iter.map.map_id`).
    pub fn set_map(&mut self, map: &MapRef) {
        // Writing a union member of plain integers is safe; this target owns the `map` member
        // (the core only fills the target name).
        self.0.__bindgen_anon_1.iter.__bindgen_anon_1.map.map_id = map.id();
    }
}
