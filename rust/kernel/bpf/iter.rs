// SPDX-License-Identifier: GPL-2.0

//! BPF iterator targets.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h)
//!
//! A BPF iterator *target* lets a BPF program run once per kernel object and print what it finds
//! through a `seq_file` (see [`Documentation/bpf/bpf_iterators.rst`] and
//! [`Documentation/rust/bpf_iter.rst`]). In C a target fills a `struct bpf_iter_reg` and calls
//! `bpf_iter_reg_target()`. Here a target implements [`Target`]; [`TargetVTable::new`] builds
//! the `struct bpf_iter_reg` and its `seq_operations` at compile time, and a [`Registration`]
//! registers it, unregistering it when dropped.
//!
//! What a program sees is declared once, with [`bpf_iter_context!`]: a `#[repr(C)]` struct of
//! 8-byte slots. The framework derives `ctx_arg_info` from it, and at registration checks it,
//! slot by slot, against the `bpf_iter_<target>` anchor in BTF that programs are verified
//! against: a mismatch fails the registration with `EINVAL` before any program can see it.
//!
//! Lifetimes: each program verified against a target of a module holds a reference on that
//! module (the kernel takes it, see `bpf_iter_prog_supported()`); links and iterator fds hold the
//! program. `rmmod` is therefore refused while any of them exists, and the target's code and
//! statics outlive every caller. Per-link state ([`Target::Link`]) is freed on detach,
//! per-iterator state ([`Target::Iter`]) when the iterator fd is released.
//!
//! [`bpf_iter_context!`]: crate::bpf_iter_context
//! [`Documentation/bpf/bpf_iterators.rst`]: srctree/Documentation/bpf/bpf_iterators.rst
//! [`Documentation/rust/bpf_iter.rst`]: srctree/Documentation/rust/bpf_iter.rst

use super::btf::{Btf, Kind};
use crate::{
    bindings, build_error, c_str,
    error::{code::*, from_result, Result},
    ffi::{c_int, c_void},
    prelude::*,
    seq_file::SeqFile,
    str::CStr,
    sync::Arc,
    types::{ARef, AlwaysRefCounted, AsBytes, ForeignOwnable, FromBytes, Opaque},
    ThisModule,
};
use core::{
    fmt,
    marker::PhantomData,
    mem::{align_of, size_of},
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering},
};

/// The prefix of the BTF function a program names to attach to a target.
pub const ANCHOR_PREFIX: &str = "bpf_iter_";

/// The longest target name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 48;

/// The most context arguments with a register type (`BPF_ITER_CTX_ARG_MAX`).
pub const MAX_TYPED_ARGS: usize = bindings::BPF_ITER_CTX_ARG_MAX as usize;

/// Checks a target name at compile time: 1 to [`MAX_NAME_LEN`] bytes of `[A-Za-z0-9_]`, not
/// starting with a digit, as it must be part of the C identifier `bpf_iter_<name>`.
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::name_is_valid;
///
/// assert!(name_is_valid(b"rust_task"));
/// assert!(!name_is_valid(b""));
/// assert!(!name_is_valid(b"1task"));
/// assert!(!name_is_valid(b"task-file"));
/// assert!(!name_is_valid(&[b'a'; 49]));
/// ```
pub const fn name_is_valid(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > MAX_NAME_LEN || name[0].is_ascii_digit() {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        let c = name[i];
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// The bytes of `c` without the NUL, in constant context.
const fn cstr_bytes(c: &'static CStr) -> &'static [u8] {
    let p = c.as_char_ptr().cast::<u8>();
    let mut n = 0;
    // SAFETY: `c` is NUL-terminated: every byte up to and including the NUL is readable, and
    // they stay valid for `'static`.
    unsafe {
        while *p.add(n) != 0 {
            n += 1;
        }
        core::slice::from_raw_parts(p, n)
    }
}

/// Where the BTF of a type that a program sees lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// vmlinux' BTF (`task_struct`, `file`, ...).
    Vmlinux,
    /// The BTF of whoever registers the target: its module, or vmlinux for built-in code. The
    /// type is declared in a C file of that module, as is the anchor.
    Owner,
}

/// A kernel type that BPF programs can be given pointers to.
///
/// Implemented for the kernel crate's wrappers of C objects ([`Task`], [`File`], [`VmaRef`]):
/// those keep the C object behind `Opaque`, so that C may change it while Rust holds a
/// reference, and not for raw `bindings::` structs, to which a Rust reference asserts that
/// nothing changes them. A target's own types ([`Origin::Owner`]) are Rust structs.
///
/// [`Task`]: crate::task::Task
/// [`File`]: crate::fs::File
/// [`VmaRef`]: crate::mm::virt::VmaRef
///
/// # Safety
///
/// `NAME` is the name of the C struct that `Self` is the Rust view of, found in the BTF named by
/// `ORIGIN`: programs read objects through pointers of this type according to that BTF. For
/// [`Origin::Owner`] types, whose objects Rust code may create, `Self` has the layout of the C
/// struct (registration checks the size).
pub unsafe trait BtfType {
    /// The C struct name, without `struct`.
    const NAME: &'static CStr;
    /// The BTF the type is in.
    const ORIGIN: Origin;
    /// For a vmlinux type, the kernel header that defines the C struct (`linux/sched.h`): the
    /// C file generated for a target's BTF includes it, so that the module's BTF refers to
    /// vmlinux's type. Empty for a target's own types, which [`bpf_iter_btf_struct!`] declares.
    ///
    /// [`bpf_iter_btf_struct!`]: crate::bpf_iter_btf_struct
    const C_HEADER: &'static str = "";
}

// SAFETY: `Task` is a transparent wrapper of `struct task_struct`, in vmlinux' BTF.
unsafe impl BtfType for crate::task::Task {
    const NAME: &'static CStr = c_str!("task_struct");
    const ORIGIN: Origin = Origin::Vmlinux;
    const C_HEADER: &'static str = "linux/sched.h";
}

// SAFETY: `File` is a transparent wrapper of `struct file`, in vmlinux' BTF.
unsafe impl BtfType for crate::fs::File {
    const NAME: &'static CStr = c_str!("file");
    const ORIGIN: Origin = Origin::Vmlinux;
    const C_HEADER: &'static str = "linux/fs.h";
}

// SAFETY: `VmaRef` is a transparent wrapper of `struct vm_area_struct`, in vmlinux' BTF.
unsafe impl BtfType for crate::mm::virt::VmaRef {
    const NAME: &'static CStr = c_str!("vm_area_struct");
    const ORIGIN: Origin = Origin::Vmlinux;
    const C_HEADER: &'static str = "linux/mm_types.h";
}

/// What one context slot holds, as the verifier must see it.
#[derive(Clone, Copy, Debug)]
pub enum ArgSpec {
    /// A pointer to a BTF type, possibly NULL (`PTR_TO_BTF_ID_OR_NULL`, plus `PTR_TRUSTED` if
    /// `trusted`).
    Btf {
        /// The type's C name.
        name: &'static CStr,
        /// Where the type's BTF lives.
        origin: Origin,
        /// Size of the Rust view of the type, checked against BTF.
        size: usize,
        /// Whether the pointer is trusted (may be passed to kfuncs taking trusted pointers).
        trusted: bool,
        /// [`BtfType::C_HEADER`].
        header: &'static str,
    },
    /// A read-only buffer of `size` bytes, possibly NULL
    /// (`PTR_TO_BUF | PTR_MAYBE_NULL | MEM_RDONLY`).
    RdonlyBuf {
        /// The number of bytes a program may read.
        size: usize,
    },
    /// An integer of `size` bytes.
    Scalar {
        /// 1, 2, 4 or 8.
        size: usize,
        /// Whether it is signed: programs see `s8`..`s64` rather than `u8`..`u64`, and read a
        /// negative value as negative.
        signed: bool,
    },
}

impl ArgSpec {
    const fn reg_type(&self) -> Option<bindings::bpf_reg_type> {
        match self {
            ArgSpec::Btf { trusted, .. } => Some(if *trusted {
                bindings::bpf_reg_type_PTR_TO_BTF_ID_OR_NULL | bindings::bpf_type_flag_PTR_TRUSTED
            } else {
                bindings::bpf_reg_type_PTR_TO_BTF_ID_OR_NULL
            }),
            ArgSpec::RdonlyBuf { .. } => Some(
                bindings::bpf_reg_type_PTR_TO_BUF
                    | bindings::bpf_type_flag_PTR_MAYBE_NULL
                    | bindings::bpf_type_flag_MEM_RDONLY,
            ),
            ArgSpec::Scalar { .. } => None,
        }
    }
}

/// One 8-byte slot of a context: the value of one argument of the `bpf_iter_<target>` anchor.
///
/// # Safety
///
/// `Self` is 8 bytes, aligned to 8, and a program reading it as `SPEC` describes sees a valid
/// value: an integer of that size, or NULL, or a pointer valid for the duration of the program
/// run, to an object of the type (or buffer size) `SPEC` names.
pub unsafe trait Slot {
    /// What the slot holds.
    const SPEC: ArgSpec;
    /// The value of the slot in the final call from `stop`: NULL or zero.
    const NULL: Self;
}

/// A context slot holding a pointer to a `T`, or NULL.
///
/// The slot borrows the object for `'a`: [`Target::ctx`] can only fill it with objects that
/// outlive the program run (held by the iterator state or the item), never with its locals.
#[repr(C, align(8))]
pub struct BtfPtr<'a, T: BtfType>(*const T, PhantomData<&'a T>);

impl<'a, T: BtfType> BtfPtr<'a, T> {
    /// A slot pointing to `obj`.
    pub fn new(obj: &'a T) -> Self {
        BtfPtr(obj, PhantomData)
    }

    /// A NULL slot.
    pub const fn null() -> Self {
        BtfPtr(ptr::null(), PhantomData)
    }
}

// SAFETY: A pointer is 8 bytes (x86_64, arm64, the 64-bit targets BPF iterators exist on; see
// the assertion below); `new` takes a reference that outlives the context, so the pointer is
// valid while the program runs, or NULL.
unsafe impl<T: BtfType> Slot for BtfPtr<'_, T> {
    const SPEC: ArgSpec = ArgSpec::Btf {
        name: T::NAME,
        origin: T::ORIGIN,
        size: size_of::<T>(),
        trusted: false,
        header: T::C_HEADER,
    };
    const NULL: Self = BtfPtr::null();
}

/// A context slot holding a trusted pointer to a `T`, or NULL (`PTR_TRUSTED`): the object is
/// referenced for as long as the program runs, so kfuncs that take trusted pointers accept it.
#[repr(C, align(8))]
pub struct TrustedBtfPtr<'a, T: BtfType>(*const T, PhantomData<&'a T>);

impl<'a, T: BtfType + AlwaysRefCounted> TrustedBtfPtr<'a, T> {
    /// A slot pointing to `obj`, on which `obj` holds a reference for longer than the program
    /// runs, as kfuncs taking trusted pointers assume (`bpf_task_acquire()` and the like).
    ///
    /// Only from an [`ARef`]: a plain `&T` proves that the object is valid, not that anybody
    /// holds a reference on it (soundness-2 point 2: a task's group leader, reached through
    /// another of its threads, once was such a `&T`).
    ///
    /// ```ignore
    /// # // `compile_fail` doctests are not supported by KUnit: built by `make check` instead
    /// # // (tools/harness/compile_fail/trusted_ptr_from_ref.rs).
    /// fn ctx<'a>(task: &'a Task) -> TrustedBtfPtr<'a, Task> {
    ///     TrustedBtfPtr::new(task) // error[E0308]: expected `&ARef<Task>`, found `&Task`
    /// }
    /// ```
    pub fn new(obj: &'a ARef<T>) -> Self {
        TrustedBtfPtr(&**obj, PhantomData)
    }
}

impl<T: BtfType> TrustedBtfPtr<'_, T> {
    /// A NULL slot.
    pub const fn null() -> Self {
        TrustedBtfPtr(ptr::null(), PhantomData)
    }
}

// SAFETY: As for `BtfPtr`; `new` only takes objects on which an `ARef` that outlives the
// context holds a reference.
unsafe impl<T: BtfType> Slot for TrustedBtfPtr<'_, T> {
    const SPEC: ArgSpec = ArgSpec::Btf {
        name: T::NAME,
        origin: T::ORIGIN,
        size: size_of::<T>(),
        trusted: true,
        header: T::C_HEADER,
    };
    const NULL: Self = TrustedBtfPtr::null();
}

/// A context slot holding a read-only buffer of `N` bytes, or NULL.
///
/// Programs that read past `N` bytes are refused at attach with `EACCES`.
#[repr(C, align(8))]
pub struct RdonlyBuf<'a, const N: usize>(*const u8, PhantomData<&'a [u8; N]>);

impl<'a, const N: usize> RdonlyBuf<'a, N> {
    /// A slot for `buf`.
    pub fn new(buf: &'a [u8; N]) -> Self {
        RdonlyBuf(buf.as_ptr(), PhantomData)
    }
}

// SAFETY: `new` takes a reference to `N` bytes that outlives the context.
unsafe impl<const N: usize> Slot for RdonlyBuf<'_, N> {
    const SPEC: ArgSpec = ArgSpec::RdonlyBuf { size: N };
    const NULL: Self = RdonlyBuf(ptr::null(), PhantomData);
}

/// A context slot holding an integer of type `T`.
///
/// The slot is 8 bytes whatever the size of `T`: the value is stored extended to 64 bits (sign
/// extended for signed types), so no byte of the slot is uninitialized and a program that
/// reads all 8 bytes sees no kernel memory.
///
/// # Examples
///
/// Soundness point 9: a `u32` slot has no uninitialized padding.
///
/// ```
/// use kernel::bpf::iter::Scalar;
///
/// assert_eq!(Scalar::new(7u32).get(), 7);
/// assert_eq!(Scalar::new(-2i16).get(), -2);
/// // The whole slot is defined: the high half of a `u32` slot is zero.
/// let s = Scalar::new(u32::MAX);
/// // SAFETY: `Scalar` is 8 initialized bytes.
/// let raw: u64 = unsafe { core::mem::transmute(s) };
/// assert_eq!(raw, 0xffff_ffff);
/// ```
#[repr(C, align(8))]
pub struct Scalar<T: ScalarType>(u64, PhantomData<T>);

impl<T: ScalarType> Scalar<T> {
    /// A slot holding `v`.
    pub fn new(v: T) -> Self {
        Scalar(v.to_slot(), PhantomData)
    }

    /// The value held.
    pub fn get(&self) -> T {
        T::from_slot(self.0)
    }
}

/// Integer types a [`Scalar`] slot may hold.
pub trait ScalarType: Copy + private::Sealed {
    /// Whether the type is signed (and the BTF type of the slot then `s8`..`s64`).
    const SIGNED: bool;
    /// The value extended to a slot's 64 bits.
    fn to_slot(self) -> u64;
    /// The value of a slot made by [`ScalarType::to_slot`].
    fn from_slot(v: u64) -> Self;
}
mod private {
    pub trait Sealed {}
}
macro_rules! scalar_types {
    ($($t:ty => $wide:ty),*) => {$(
        impl private::Sealed for $t {}
        impl ScalarType for $t {
            const SIGNED: bool = <$t>::MIN != 0;
            fn to_slot(self) -> u64 { self as $wide as u64 }
            fn from_slot(v: u64) -> Self { v as $t }
        }
    )*};
}
scalar_types!(u8 => u64, u16 => u64, u32 => u64, u64 => u64, i8 => i64, i16 => i64, i32 => i64,
              i64 => i64);

// SAFETY: `Scalar` is one `u64`, aligned to 8; its value is that of a `T` (the low bytes, on the
// little-endian 64-bit targets BPF iterators run on) and every byte is initialized.
unsafe impl<T: ScalarType> Slot for Scalar<T> {
    const SPEC: ArgSpec = ArgSpec::Scalar {
        size: size_of::<T>(),
        signed: T::SIGNED,
    };
    const NULL: Self = Scalar(0, PhantomData);
}

#[cfg(not(target_endian = "little"))]
compile_error!("`Scalar` slots assume a little-endian target");

const _: () = assert!(size_of::<*const u8>() == 8);

/// The arguments a program gets after `meta`, declared with [`bpf_iter_context!`].
///
/// [`bpf_iter_context!`]: crate::bpf_iter_context
///
/// # Safety
///
/// `Self` is `#[repr(C)]` and consists of exactly the slots of `ARGS`, in order: `size_of` is
/// `8 * ARGS.len()` and slot `i` is at offset `8 * i`.
pub unsafe trait Context: Sized {
    /// The slots, in order.
    const ARGS: &'static [ArgSpec];
    /// The names of the slots, in order: the names of the anchor's parameters and of the
    /// context struct's members in the C generated for the target.
    const NAMES: &'static [&'static str];
    /// Every slot NULL or zero: what the final call from `stop` passes.
    const NULL: Self;
}

/// Declares the context a target gives its programs, after `meta`.
///
/// Every field must be a [`Slot`]: [`BtfPtr`], [`TrustedBtfPtr`], [`RdonlyBuf`] or [`Scalar`].
/// The order is that of the parameters of the C anchor `bpf_iter_<target>` after `meta`; the
/// registration checks the two against each other. Pointer slots borrow what they point to for
/// the struct's lifetime parameter.
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::{BtfPtr, Context, Scalar};
/// use kernel::{fs::File, task::Task};
///
/// kernel::bpf_iter_context! {
///     /// What `bpf_iter__task_file` programs see after `meta`.
///     pub struct TaskFileCtx<'a> {
///         task: BtfPtr<'a, Task>,
///         fd: Scalar<u32>,
///         file: BtfPtr<'a, File>,
///     }
/// }
///
/// assert_eq!(<TaskFileCtx<'_> as Context>::ARGS.len(), 3);
/// assert_eq!(core::mem::size_of::<TaskFileCtx<'_>>(), 24);
/// ```
#[macro_export]
macro_rules! bpf_iter_context {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident $(<$lt:lifetime>)? {
            $($(#[$fattr:meta])* $fvis:vis $field:ident : $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        #[repr(C)]
        $vis struct $name $(<$lt>)? {
            $($(#[$fattr])* $fvis $field: $ty),+
        }

        // SAFETY: Every field is a `Slot`, and `ARGS` lists them in declaration order after
        // checking that field `i` is at offset `8 * i` and that there is nothing else.
        unsafe impl $(<$lt>)? $crate::bpf::iter::Context for $name $(<$lt>)? {
            const ARGS: &'static [$crate::bpf::iter::ArgSpec] = {
                let mut i = 0usize;
                $(
                    ::core::assert!(::core::mem::offset_of!(Self, $field) == 8 * i);
                    i += 1;
                )+
                ::core::assert!(::core::mem::size_of::<Self>() == 8 * i);
                &[$(<$ty as $crate::bpf::iter::Slot>::SPEC),+]
            };
            const NAMES: &'static [&'static str] = &[$(::core::stringify!($field)),+];
            const NULL: Self = Self { $($field: <$ty as $crate::bpf::iter::Slot>::NULL),+ };
        }
    };
}

/// The whole context a program is run with: `meta`, then the target's slots.
#[repr(C)]
struct Frame<C> {
    meta: *mut bindings::bpf_iter_meta,
    args: C,
}

/// A BPF program being attached to a target, or replacing the program of a link: verified.
///
/// # Invariants
///
/// A `&Prog` points to a valid, verified program for the lifetime of the reference.
#[repr(transparent)]
pub struct Prog(Opaque<bindings::bpf_prog>);

/// A BPF program of a target while the verifier checks it ([`Target::get_func_proto`]): what
/// the verifier finds out about it (such as [`Prog::max_rdonly_access`]) is not known yet, so
/// it is not offered here (soundness-2 point 3).
///
/// ```ignore
/// # // `compile_fail` doctests are not supported by KUnit: built by `make check` instead
/// # // (tools/harness/compile_fail/verifying_prog_access.rs).
/// fn get_func_proto(_id: u32, prog: &VerifyingProg) -> Option<&'static FuncProto> {
///     let _ = prog.max_rdonly_access(); // error[E0599]: no method named `max_rdonly_access`
///     None
/// }
/// ```
///
/// # Invariants
///
/// A `&VerifyingProg` points to a valid program, loaded and being verified, for the lifetime
/// of the reference.
#[repr(transparent)]
pub struct VerifyingProg(Opaque<bindings::bpf_prog>);

/// Whether `prog` is sleepable.
///
/// # Safety
///
/// `prog` is a valid program.
unsafe fn prog_sleepable(prog: *const bindings::bpf_prog) -> bool {
    // SAFETY: `prog` is valid. The bitfield accessor makes a `&bpf_prog` for the read: nothing
    // writes `struct bpf_prog` meanwhile (`sleepable` is set at load, before verification; the
    // verifier, which may write other fields of a program being verified, is the caller of a
    // `VerifyingProg`'s callback; a loaded program's struct is not written at all). What other
    // CPUs do change, the reference count, is in `aux`, to which no reference is made.
    unsafe { (*prog).sleepable() != 0 }
}

impl Prog {
    /// # Safety
    ///
    /// `ptr` is a valid, verified program for `'a`.
    unsafe fn from_raw<'a>(ptr: *const bindings::bpf_prog) -> &'a Prog {
        // SAFETY: `Prog` is `repr(transparent)` over `bpf_prog`; the caller guarantees validity.
        // INVARIANT: the caller guarantees it for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Whether the program is sleepable (only allowed for targets with [`Target::RESCHED`]).
    pub fn sleepable(&self) -> bool {
        // SAFETY: `self.0` is a valid program (type invariant).
        unsafe { prog_sleepable(self.0.get()) }
    }

    /// The most bytes the program reads from a read-only buffer slot.
    pub fn max_rdonly_access(&self) -> u32 {
        // SAFETY: `self.0` is a valid, verified program (type invariant): its `aux` is valid for
        // as long, and `max_rdonly_access` was set by the verifier and is not written after.
        // The field is read through raw places: a reference to the whole `aux` would assert
        // that nothing changes it, while other CPUs change its reference count (`refcnt`).
        unsafe { (*(*self.0.get()).aux).max_rdonly_access }
    }
}

impl VerifyingProg {
    /// # Safety
    ///
    /// `ptr` is a valid program being verified, for `'a`.
    unsafe fn from_raw<'a>(ptr: *const bindings::bpf_prog) -> &'a VerifyingProg {
        // SAFETY: `VerifyingProg` is `repr(transparent)` over `bpf_prog`; the caller
        // guarantees validity.
        // INVARIANT: the caller guarantees it for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Whether the program is sleepable (set when it was loaded).
    pub fn sleepable(&self) -> bool {
        // SAFETY: `self.0` is a valid program (type invariant).
        unsafe { prog_sleepable(self.0.get()) }
    }
}

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
    unsafe fn from_raw(ptr: *const bindings::bpf_iter_link_info) -> Self {
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
        let set = (t.tid != 0) as u32 + (t.pid != 0) as u32 + (t.pid_fd != 0) as u32;
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
                bindings::cgroup_get_from_path(c_str!("/").as_char_ptr())
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

/// What `BPF_OBJ_GET_INFO_BY_FD` on a link reports about its parameters
/// (`struct bpf_link_info::iter`).
pub struct LinkInfoOut<'a>(&'a mut bindings::bpf_link_info);

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

/// A helper function a target offers to its programs (`struct bpf_func_proto`).
///
/// Prefer a kfunc: BPF accepts no new helper ids, so [`Target::get_func_proto`] can only give
/// programs of the target a different implementation of a helper id the kernel already has.
/// New functionality for programs is a kfunc of the module (`BTF_KFUNCS_START`,
/// `register_btf_kfunc_id_set`), whose arguments the verifier checks against its BTF
/// prototype; see `Documentation/rust/bpf_iter.rst`.
#[repr(transparent)]
pub struct FuncProto(bindings::bpf_func_proto);

// SAFETY: A `bpf_func_proto` is immutable once built.
unsafe impl Sync for FuncProto {}

/// Signature of a helper: five `u64` registers in, one out.
pub type HelperFn = unsafe extern "C" fn(u64, u64, u64, u64, u64) -> u64;

impl FuncProto {
    /// A helper that takes `nargs` (at most 5) integer arguments and returns an integer.
    ///
    /// # Safety
    ///
    /// BPF programs call `func` directly, from any context a program of the target runs in
    /// (with preemption or migration disabled, under RCU), with registers the verifier only
    /// knows to be integers: `func` must be sound for every value of its first `nargs`
    /// arguments and whatever the others hold, must not sleep, and must return. The id it is
    /// offered under must be that of a helper with this prototype (integers in, integer out).
    pub const unsafe fn scalar(func: HelperFn, nargs: usize, gpl_only: bool) -> FuncProto {
        assert!(nargs <= 5);
        let mut p: bindings::bpf_func_proto = unsafe_zeroed_proto();
        p.func = Some(func);
        p.gpl_only = gpl_only;
        p.ret_type = bindings::bpf_return_type_RET_INTEGER;
        let mut i = 0;
        while i < nargs {
            // SAFETY: The five `argN_type` fields are laid out as an array in an anonymous
            // union member; writing one of them through the array view is defined.
            unsafe { p.__bindgen_anon_1.arg_type[i] = bindings::bpf_arg_type_ARG_ANYTHING };
            i += 1;
        }
        FuncProto(p)
    }
}

const fn unsafe_zeroed_proto() -> bindings::bpf_func_proto {
    // SAFETY: `struct bpf_func_proto` is integers, enums whose zero is valid
    // (`RET_INTEGER`/`ARG_DONTCARE`), booleans and nullable pointers: all-zero is valid.
    unsafe { core::mem::zeroed() }
}

/// An index into something the iterator state holds (e.g. a slice it borrows), as an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index(pub usize);

/// Types that a [`Target::Item`] may be: values the task reading an iterator holds from the
/// `start` or `next` that made them to the `next` or `stop` that consumes them (across program
/// runs and, with [`Target::RESCHED`], rescheduling between objects), and drops there.
///
/// Implemented for [`Index`], references (`ARef<T>`, `KBox<T>` and `Arc<T>` of thread-safe
/// `T`), the walks of an address space under its mmap read lock
/// ([`OwnedMmapReadGuard`](crate::mm::OwnedMmapReadGuard), [`VmaWalk`](crate::mm::VmaWalk)),
/// and tuples of these: a target with several values per object makes its item a tuple.
///
/// # Safety
///
/// Holding a value must not make the context atomic: no spinlock or RCU read-side guard,
/// disabled preemption or interrupts (the walk may sleep between objects). Dropping it in the
/// task that made it, later in the same system call, must be sound. Values that any task may
/// drop (`Send`) and that are no such guard qualify; so do guards of sleeping locks that must be
/// released by the task that took them (not `Send`): the framework never lets an item out of
/// the read that made it.
pub unsafe trait Holdable {}

// SAFETY: An integer.
unsafe impl Holdable for Index {}

// SAFETY: A reference count, which any task may drop (`T: Send + Sync`).
unsafe impl<T: AlwaysRefCounted + Send + Sync> Holdable for ARef<T> {}

// SAFETY: An allocation of a value that any task may drop (`T: Send`); no guard of an atomic
// context is `Send`.
unsafe impl<T: Send> Holdable for KBox<T> {}

// SAFETY: A reference count on a value that any task may use and drop.
unsafe impl<T: Send + Sync> Holdable for Arc<T> {}

// SAFETY: The mmap lock is a sleeping lock, which the reading task takes in `start` or `next`
// and releases when the item is dropped, in `next` or `stop` of the same read; the user
// reference may be dropped anywhere.
unsafe impl Holdable for crate::mm::OwnedMmapReadGuard {}

// SAFETY: An `OwnedMmapReadGuard` and a pointer to a mapping it keeps valid.
unsafe impl Holdable for crate::mm::VmaWalk {}

// SAFETY: Each element is `Holdable`.
unsafe impl<A: Holdable, B: Holdable> Holdable for (A, B) {}

// SAFETY: Each element is `Holdable`.
unsafe impl<A: Holdable, B: Holdable, C: Holdable> Holdable for (A, B, C) {}

/// What [`Target::attach`] gets of the registration's data: [`ForeignOwnable::Borrowed`] of
/// [`Target::Data`] (`()` for none, `ArcBorrow<'_, T>` for `Arc<T>`, `&T` for `KBox<T>`).
pub type DataRef<'a, T> = <<T as Target>::Data as ForeignOwnable>::Borrowed<'a>;

/// A BPF iterator target.
///
/// The methods mirror `struct bpf_iter_reg` and its `seq_operations`; the framework makes the
/// BPF calls (`bpf_iter_get_info`, `bpf_iter_run_prog`) and the final call with NULL slots from
/// `stop`, maps the program's return value and `seq_file` overflow as C targets do, and manages
/// the per-link ([`Target::Link`]) and per-iterator ([`Target::Iter`]) state.
///
/// Which context calls what: [`Target::attach`], [`Target::check_prog`] and
/// [`Target::init_iter`] run in the task making the link, replacing its program or creating an
/// iterator; `start`, `next`, `ctx`, `stop` run in whichever task reads the iterator fd (any
/// task that shares it), one read at a time; the per-iterator state is dropped by the task that
/// releases the fd last, or by a kernel worker (`delayed_fput`). Hence `Iter` is [`Send`], and
/// `Link`, which all of these use at once, is [`Send`] and [`Sync`]. An item lives within one
/// read, in the reading task ([`Holdable`]). The walk
/// may reschedule between objects (and programs may sleep, with [`Target::RESCHED`]), so
/// nothing that makes the context atomic (a spinlock or RCU guard) may live in the iterator
/// state across objects; such guards are not `Send`, so the bound refuses them:
///
/// ```ignore
/// # // `compile_fail` doctests are not supported by KUnit: built by `make check` instead
/// # // (tools/harness/compile_fail/iter_state_rcu_guard.rs).
/// struct Walk {
///     _rcu: kernel::sync::rcu::Guard, // error[E0277]: `*mut ()` cannot be sent between threads
/// }
/// impl Target for MyTarget {
///     type Iter = Walk;
///     // ...
/// }
/// ```
#[vtable]
pub trait Target: Sized + 'static {
    /// The target name: programs use `SEC("iter/<NAME>")` and the C anchor is
    /// `bpf_iter_<NAME>`. Checked at compile time with [`name_is_valid`].
    const NAME: &'static CStr;

    /// Whether a long walk may reschedule between objects (`BPF_ITER_RESCHED`); only such
    /// targets accept sleepable programs.
    const RESCHED: bool = false;

    /// What programs see after `meta`, borrowing from the iterator state and the item.
    type Ctx<'a>: Context;

    /// Data the [`Registration`] holds for the target, lent to [`Target::attach`]: what a
    /// target over a collection of its own walks, typically an `Arc` of it (a link keeps a
    /// clone); `()` for none. Dropped when the registration has been dropped and the last
    /// `attach` that borrowed it has returned.
    type Data: ForeignOwnable + Send + Sync;

    /// Per-link state, made from the link parameters by [`Target::attach`], dropped on detach.
    type Link: Send + Sync;

    /// Per-iterator state (the `seq_file` private area), made by [`Target::init_iter`] when an
    /// iterator fd is created, dropped when it is released.
    type Iter: Send;

    /// One visited object, from the `start` or `next` that found it to the `next` or `stop` that
    /// consumes it; the framework keeps it in the iterator state in between, for `ctx` to
    /// borrow. An item never outlives the read that made it: it may hold what must stay in the
    /// reading task, such as an mmap read lock ([`Holdable`]); a read that stops on an object it
    /// did not show gets it in `stop`, to note where the next read resumes.
    type Item: Holdable;

    /// Checks the link parameters and makes the per-link state, given the registration's data.
    ///
    /// Runs under no lock of the kernel's (soundness-2 point 5), so it may take a lock of the
    /// target's that is held around registering and unregistering it. A call that found the
    /// target registered may still be running, or start, while its [`Registration`] is dropped:
    /// `data` stays valid for it all the same.
    fn attach(data: DataRef<'_, Self>, info: &LinkInfo) -> Result<Self::Link>;

    /// Checks the program of a link against its per-link state, when the link is made (after
    /// [`Target::attach`]) and when its program is replaced (`BPF_LINK_UPDATE`): every check a
    /// target makes of a program belongs here, so that an update cannot skip it. The
    /// framework checks read-only buffer slots ([`RdonlyBuf`]) itself, in both cases.
    fn check_prog(_link: &Self::Link, _prog: &Prog) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Makes the state of a new iterator of `link`.
    fn init_iter(link: &Self::Link) -> Result<Self::Iter>;

    /// Returns the object a read starts at, or `None` past the end.
    ///
    /// `pos` is the `seq_file` position: 0 on the first read of an iterator, then the number of
    /// `next` calls plus one. As in C targets, a target normally keeps its own cursor in
    /// [`Target::Iter`]: a read that fills the buffer ends with [`Target::stop`] on an object it
    /// did not show, and the next read must start from that object again.
    fn start(iter: &mut Self::Iter, pos: u64) -> Result<Option<Self::Item>>;

    /// Moves `item`, the object just shown (always `Some` on entry), to the next object, or
    /// sets it to `None` past the end. In place: a target whose item is a cursor (a position
    /// in a list, a walk under a lock) advances it without moving it, and the framework keeps
    /// the result where `show` finds it.
    fn next(iter: &mut Self::Iter, item: &mut Option<Self::Item>);

    /// Called when a read ends, with the object it stopped at, if any.
    fn stop(_iter: &mut Self::Iter, _item: Option<Self::Item>) {}

    /// Fills the context for `item`. The program runs while `iter` and `item` are borrowed, so
    /// every pointer in the context is valid for the whole run.
    fn ctx<'a>(iter: &'a Self::Iter, item: &'a Self::Item) -> Self::Ctx<'a>;

    /// Prints the link parameters into `/proc/<pid>/fdinfo/<link fd>` (use
    /// [`seq_print!`](crate::seq_print)).
    fn show_fdinfo(_link: &Self::Link, _m: &SeqFile) {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Reports the link parameters to `BPF_OBJ_GET_INFO_BY_FD`.
    fn fill_link_info(_link: &Self::Link, _info: &mut LinkInfoOut<'_>) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Offers helper `func_id` to the target's programs (only ids the kernel does not already
    /// give tracing programs reach this). See [`FuncProto`]: prefer a kfunc.
    fn get_func_proto(_func_id: u32, _prog: &VerifyingProg) -> Option<&'static FuncProto> {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }
}

/// The `seq_file` private area of an iterator: the target's state, the object of the read in
/// progress, and where the walk is.
struct IterState<T: Target> {
    /// The walk has reached its end: later reads return end of file, even if objects were
    /// added since (the final call from `stop` was made).
    ended: bool,
    /// `start` just returned an error pointer: the `stop` that follows is no end of the walk.
    failed: bool,
    iter: T::Iter,
    /// The item from `start` or `next` to the `next` or `stop` that takes it. The kernel makes
    /// every `start` and its `stop` in one call (`bpf_seq_read()`), in the reading task: the
    /// item stays in that task, and between reads this is `None`, when the state may be
    /// dropped by another task. The `seq_file` keeps only a pointer to this field, never NULL
    /// or an error pointer.
    item: Option<T::Item>,
}

/// The `extern "C"` functions the kernel calls for a [`Target`].
struct Adapter<T: Target>(PhantomData<T>);

impl<T: Target> Adapter<T> {
    /// # Safety
    ///
    /// `seq` is the `seq_file` of an iterator of this target (so its private area holds the
    /// state made by `init_seq_private`), used by nothing else for `'a`.
    #[inline]
    unsafe fn state<'a>(seq: *mut bindings::seq_file) -> &'a mut IterState<T> {
        // SAFETY: By the safety requirement `private` points to our initialized state.
        unsafe { &mut *(*seq).private.cast::<IterState<T>>() }
    }

    /// # Safety
    ///
    /// `aux` is the aux info of a link of this target, attached by `attach_target`, and the
    /// link is not detached during `'a`.
    unsafe fn link<'a>(aux: *const bindings::bpf_iter_aux_info) -> &'a T::Link {
        // SAFETY: `attach_target` stored a `KBox<T::Link>` there with `into_foreign`; it is
        // converted back (`from_foreign`) by `detach_target` only, after `'a`.
        unsafe { <KBox<T::Link> as ForeignOwnable>::borrow((*aux).target_data) }
    }

    /// Keeps `item` in the iterator state for `show`, and returns what the `seq_file` keeps in
    /// its place: a pointer to it, never NULL or an error pointer. Once per object: inlined
    /// into `seq_start`/`seq_next`.
    ///
    /// The slot is empty here (`next` took the previous item out, `stop` the last one of a read):
    /// what it held is forgotten, not dropped, so that no drop glue runs per object.
    #[inline]
    fn hold(st: &mut IterState<T>, item: T::Item) -> *mut c_void {
        let old = st.item.replace(item);
        debug_assert!(old.is_none());
        core::mem::forget(old);
        ptr::from_mut(&mut st.item).cast()
    }

    /// The checks of a program for a link: read-only buffers, then the target's own.
    fn check(link: &T::Link, prog: &Prog) -> Result {
        let max_buf = <T::Ctx<'_> as Context>::ARGS
            .iter()
            .filter_map(|a| match a {
                ArgSpec::RdonlyBuf { size } => Some(*size),
                _ => None,
            })
            .min();
        if let Some(size) = max_buf {
            if prog.max_rdonly_access() as usize > size {
                return Err(EACCES);
            }
        }
        if T::HAS_CHECK_PROG {
            T::check_prog(link, prog)?;
        }
        Ok(())
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::attach_target` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn attach_target(
        prog: *mut bindings::bpf_prog,
        linfo: *mut bindings::bpf_iter_link_info,
        aux: *mut bindings::bpf_iter_aux_info,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The kernel passes a verified program and the parameters it copied in.
            let (prog, info) = unsafe { (Prog::from_raw(prog), LinkInfo::from_raw(linfo)) };
            // SAFETY: On entry `target_data` is the target's `bpf_iter_reg`, which is the
            // `reg` of a `TargetVTable<T>` (only those install this function), a static of the
            // module that the program being attached pins.
            let vtable = unsafe {
                let reg = (*aux).target_data.cast::<bindings::bpf_iter_reg>();
                &*crate::container_of!(reg, TargetVTable<T>, reg)
            };
            // The kernel calls us without a lock, possibly while the registration is dropped:
            // take a reference on the data first, which keeps it for the call.
            let cell = vtable.data_ref().ok_or(ENOENT)?;
            // SAFETY: `cell.data` is the foreign pointer of the registration's `T::Data`,
            // converted back only when the last reference on `cell` goes, after this borrow.
            let data = unsafe { T::Data::borrow(cell.data) };
            let link = T::attach(data, &info)?;
            Self::check(&link, prog)?;
            let link = KBox::new(link, GFP_KERNEL)?;
            // SAFETY: `aux` is the new link's aux info, zeroed, ours to fill.
            unsafe { (*aux).target_data = link.into_foreign().cast_mut() };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::check_prog` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn check_prog(
        prog: *const bindings::bpf_prog,
        aux: *const bindings::bpf_iter_aux_info,
    ) -> c_int {
        // SAFETY: The kernel passes the verified replacement program and the aux info of the
        // attached link, which stays attached during the call (the link holds a reference).
        let (prog, link) = unsafe { (Prog::from_raw(prog), Self::link(aux)) };
        from_result(|| Self::check(link, prog).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::detach_target` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn detach_target(aux: *mut bindings::bpf_iter_aux_info) {
        // SAFETY: `attach_target` succeeded for this link (the kernel only detaches those), so
        // `target_data` is our `KBox<T::Link>`, released here once, after every other user.
        drop(unsafe { <KBox<T::Link> as ForeignOwnable>::from_foreign((*aux).target_data) });
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::show_fdinfo` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn show_fdinfo(
        aux: *const bindings::bpf_iter_aux_info,
        seq: *mut bindings::seq_file,
    ) {
        // SAFETY: The kernel passes an attached link's aux info and the fdinfo seq_file, which
        // only this call uses while it runs.
        unsafe { T::show_fdinfo(Self::link(aux), SeqFile::from_raw(seq)) };
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::fill_link_info` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn fill_link_info(
        aux: *const bindings::bpf_iter_aux_info,
        info: *mut bindings::bpf_link_info,
    ) -> c_int {
        // SAFETY: The kernel passes an attached link's aux info and its info buffer.
        let (link, info) = unsafe { (Self::link(aux), &mut *info) };
        from_result(|| T::fill_link_info(link, &mut LinkInfoOut(info)).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::get_func_proto` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn get_func_proto(
        func_id: bindings::bpf_func_id,
        prog: *const bindings::bpf_prog,
    ) -> *const bindings::bpf_func_proto {
        // SAFETY: The kernel passes the program being verified, valid during the call.
        let prog = unsafe { VerifyingProg::from_raw(prog) };
        T::get_func_proto(func_id, prog).map_or(ptr::null(), |p| &p.0)
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_seq_info::init_seq_private` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn init_seq_private(
        priv_data: *mut c_void,
        aux: *mut bindings::bpf_iter_aux_info,
    ) -> c_int {
        from_result(|| {
            // SAFETY: `aux` is an attached link's; the link outlives its iterators' creation.
            let it = T::init_iter(unsafe { Self::link(aux) })?;
            let state = IterState::<T> {
                ended: false,
                failed: false,
                iter: it,
                item: None,
            };
            // SAFETY: `priv_data` is `seq_priv_size` = `size_of::<IterState<T>>()` bytes,
            // aligned to 8 (asserted in `TargetVTable::new`), uninitialized and ours.
            unsafe { ptr::write(priv_data.cast::<IterState<T>>(), state) };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_seq_info::fini_seq_private` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn fini_seq_private(priv_data: *mut c_void) {
        // SAFETY: `init_seq_private` succeeded for this iterator (else the kernel does not call
        // us), so `priv_data` holds our state, dropped here once.
        unsafe { ptr::drop_in_place(priv_data.cast::<IterState<T>>()) };
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `seq_operations::start` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn seq_start(
        seq: *mut bindings::seq_file,
        pos: *mut bindings::loff_t,
    ) -> *mut c_void {
        // SAFETY: The kernel calls seq operations with the iterator's seq_file and position,
        // under the seq_file's lock.
        let (st, p) = unsafe { (Self::state(seq), &mut *pos) };
        if st.ended {
            return ptr::null_mut();
        }
        match T::start(&mut st.iter, *p as u64) {
            Ok(Some(item)) => {
                if *p == 0 {
                    *p = 1;
                }
                Self::hold(st, item)
            }
            Ok(None) => ptr::null_mut(),
            Err(e) => {
                st.failed = true;
                e.to_ptr()
            }
        }
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `seq_operations::next` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn seq_next(
        seq: *mut bindings::seq_file,
        _v: *mut c_void,
        pos: *mut bindings::loff_t,
    ) -> *mut c_void {
        // SAFETY: As in `seq_start`.
        let (st, p) = unsafe { (Self::state(seq), &mut *pos) };
        // C's `++*pos`: a count of the objects shown, which cannot reach `i64::MAX`.
        *p = p.wrapping_add(1);
        // The kernel passes back what `start`/`next` returned (`_v`): the held item, which
        // `next` moves on in place.
        if st.item.is_none() {
            // Not reached: `next` is only called after an object.
            return ptr::null_mut();
        }
        T::next(&mut st.iter, &mut st.item);
        match st.item {
            Some(_) => ptr::from_mut(&mut st.item).cast(),
            None => ptr::null_mut(),
        }
    }

    /// Runs the program for one object (`args`) or for the end (`in_stop`).
    ///
    /// # Safety
    ///
    /// `seq` is an iterator of this target's seq_file.
    #[inline(always)]
    unsafe fn run(seq: *mut bindings::seq_file, args: T::Ctx<'_>, in_stop: bool) -> c_int {
        let mut meta = bindings::bpf_iter_meta {
            __bindgen_anon_1: bindings::bpf_iter_meta__bindgen_ty_1 { seq },
            session_id: 0,
            seq_num: 0,
        };
        // SAFETY: `meta.seq` is a valid seq_file of a BPF iterator.
        let prog = unsafe { bindings::bpf_iter_get_info(&mut meta, in_stop) };
        if prog.is_null() {
            return 0;
        }
        let mut frame = Frame {
            meta: &mut meta,
            args,
        };
        // SAFETY: `prog` is the iterator's program; `frame` is laid out as the anchor's
        // arguments (checked at registration) and lives across the call.
        unsafe { bindings::bpf_iter_run_prog(prog, ptr::from_mut(&mut frame).cast()) }
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `seq_operations::show` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn seq_show(seq: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
        // SAFETY: As in `seq_start`.
        let st = unsafe { Self::state(seq) };
        // The kernel shows what `start`/`next` returned (`_v`): the held item.
        let Some(item) = &st.item else {
            // Not reached: `show` is only called with an object.
            return 0;
        };
        let args = T::ctx(&st.iter, item);
        // SAFETY: `seq` is this target's iterator.
        unsafe { Self::run(seq, args, false) }
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `seq_operations::stop` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn seq_stop(seq: *mut bindings::seq_file, v: *mut c_void) {
        // SAFETY: As in `seq_start`.
        let st = unsafe { Self::state(seq) };
        // The object the read stopped at, if any (`v` points to it then).
        let item = st.item.take();
        if v.is_null() && !st.failed {
            // The end of the walk: one last call with every slot NULL, as C targets do. The
            // kernel makes it once; later reads find the walk ended.
            st.ended = true;
            // SAFETY: `seq` is this target's iterator.
            unsafe { Self::run(seq, <T::Ctx<'_> as Context>::NULL, true) };
        }
        // After an error from `start` (`v` is the error pointer, or NULL from
        // `bpf_seq_read()`), the read fails and the walk goes on at the next one.
        st.failed = false;
        T::stop(&mut st.iter, item);
    }

    const SEQ_OPS: bindings::seq_operations = bindings::seq_operations {
        start: Some(Self::seq_start),
        stop: Some(Self::seq_stop),
        next: Some(Self::seq_next),
        show: Some(Self::seq_show),
    };

    const SEQ_INFO: bindings::bpf_iter_seq_info = bindings::bpf_iter_seq_info {
        seq_ops: &Self::SEQ_OPS,
        init_seq_private: Some(Self::init_seq_private),
        fini_seq_private: Some(Self::fini_seq_private),
        seq_priv_size: size_of::<IterState<T>>() as u32,
    };
}

/// The `struct bpf_iter_reg` of a target, built at compile time; the BTF ids of its context
/// arguments are filled in at registration.
///
/// Keep it in a `static` (see [`module_bpf_iter_target!`]): the kernel keeps pointing to it while
/// programs verified against the target exist, and those pin the module it is in.
///
/// # Invariants
///
/// `registered` is set while a [`Registration::register`] call or a [`Registration`] owns
/// `reg`. `reg` is written once, by the first registration (`resolved` goes from
/// `UNRESOLVED` to `RESOLVED` then): programs verified against one registration read its
/// `ctx_arg_info` and `owner` without any lock, possibly while the target is unregistered and
/// registered again, so later registrations only compare.
///
/// `data` is NULL or the foreign pointer of an `Arc<DataCell<T>>` that the registration in
/// progress or alive owns. Whoever takes it out of `data` waits for an RCU grace period before
/// dropping that reference, so that a reader that loaded it under the RCU read lock may take
/// a reference of its own (`TargetVTable::data_ref`).
///
/// [`module_bpf_iter_target!`]: crate::module_bpf_iter_target
pub struct TargetVTable<T: Target> {
    reg: Opaque<bindings::bpf_iter_reg>,
    registered: AtomicBool,
    resolved: AtomicU8,
    /// The registration's [`Target::Data`], in a [`DataCell`], while registered.
    data: AtomicPtr<c_void>,
    _p: PhantomData<T>,
}

const UNRESOLVED: u8 = 0;
const RESOLVED: u8 = 1;

// SAFETY: `reg` is written once, by the one registration that holds the `registered` flag
// while nothing else reads it (type invariant); after that everybody only reads it.
unsafe impl<T: Target> Sync for TargetVTable<T> {}

impl<T: Target> TargetVTable<T> {
    pub(crate) const ARGS: &'static [ArgSpec] = <T::Ctx<'static> as Context>::ARGS;
    const NAME_OK: () = assert!(
        name_is_valid(cstr_bytes(T::NAME)),
        "BPF iterator target names are 1 to 48 characters of [A-Za-z0-9_]"
    );
    const LAYOUT_OK: () = {
        assert!(size_of::<T::Ctx<'static>>() == 8 * Self::ARGS.len());
        assert!(align_of::<T::Ctx<'static>>() <= 8);
        assert!(core::mem::offset_of!(Frame<T::Ctx<'static>>, args) == 8);
        assert!(
            align_of::<IterState<T>>() <= 8,
            "the seq_file private area is aligned to 8 bytes"
        );
        let mut typed = 0;
        let mut i = 0;
        while i < Self::ARGS.len() {
            if Self::ARGS[i].reg_type().is_some() {
                typed += 1;
            }
            i += 1;
        }
        assert!(
            typed <= MAX_TYPED_ARGS,
            "at most BPF_ITER_CTX_ARG_MAX pointer slots"
        );
    };

    /// Builds the registration data of `T`.
    pub const fn new() -> Self {
        // Naming the constants makes the compiler evaluate (and check) them.
        #[allow(clippy::let_unit_value)]
        let () = Self::NAME_OK;
        #[allow(clippy::let_unit_value)]
        let () = Self::LAYOUT_OK;
        let mut reg = unsafe_zeroed_reg();
        reg.target = T::NAME.as_char_ptr();
        reg.attach_target = Some(Adapter::<T>::attach_target);
        reg.detach_target = Some(Adapter::<T>::detach_target);
        reg.check_prog = Some(Adapter::<T>::check_prog);
        if T::HAS_SHOW_FDINFO {
            reg.show_fdinfo = Some(Adapter::<T>::show_fdinfo);
        }
        if T::HAS_FILL_LINK_INFO {
            reg.fill_link_info = Some(Adapter::<T>::fill_link_info);
        }
        if T::HAS_GET_FUNC_PROTO {
            reg.get_func_proto = Some(Adapter::<T>::get_func_proto);
        }
        if T::RESCHED {
            reg.feature = bindings::bpf_iter_feature_BPF_ITER_RESCHED;
        }
        reg.seq_info = &Adapter::<T>::SEQ_INFO;
        // `ctx_arg_info` offsets and register types; BTF ids at registration.
        let mut n = 0;
        let mut i = 0;
        while i < Self::ARGS.len() {
            if let Some(rt) = Self::ARGS[i].reg_type() {
                reg.ctx_arg_info[n].offset = (8 * (i + 1)) as u32;
                reg.ctx_arg_info[n].reg_type = rt;
                n += 1;
            }
            i += 1;
        }
        reg.ctx_arg_info_size = n as u32;
        TargetVTable {
            reg: Opaque::new(reg),
            registered: AtomicBool::new(false),
            resolved: AtomicU8::new(UNRESOLVED),
            data: AtomicPtr::new(ptr::null_mut()),
            _p: PhantomData,
        }
    }
}

impl<T: Target> TargetVTable<T> {
    /// A reference on the registration's data, or `None` if there is no registration.
    fn data_ref(&self) -> Option<Arc<DataCell<T>>> {
        let _rcu = crate::sync::rcu::read_lock();
        let p = self.data.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` is the foreign pointer of an `Arc<DataCell<T>>` (type invariant), whose
        // owner drops its reference only an RCU grace period after taking it out of `data`,
        // which had not happened when we loaded it under the RCU read lock, held here.
        let cell = unsafe { <Arc<DataCell<T>> as ForeignOwnable>::borrow(p) };
        Some(cell.into())
    }

    /// Publishes `data` for `attach` (before the target is registered).
    fn set_data(&self, data: T::Data) -> Result {
        let cell = Arc::new(
            DataCell::<T> {
                data: data.into_foreign(),
                _p: PhantomData,
            },
            GFP_KERNEL,
        )?;
        let old = self
            .data
            .swap(cell.into_foreign().cast_mut(), Ordering::AcqRel);
        debug_assert!(old.is_null());
        Ok(())
    }

    /// Takes the data back (after the target is unregistered): the calls of `attach` that
    /// loaded it keep their own reference, the last one drops it.
    fn retire_data(&self) {
        let p = self.data.swap(ptr::null_mut(), Ordering::AcqRel);
        if p.is_null() {
            return;
        }
        // SAFETY: Called in process context (`Registration`'s drop, or `register` failing),
        // never under the RCU read lock: this waits for readers that loaded `p` under it to
        // have taken their own reference.
        unsafe { bindings::synchronize_rcu() };
        // SAFETY: `p` is the foreign pointer of the reference `set_data` made, taken out of
        // `data` once, here.
        drop(unsafe { <Arc<DataCell<T>> as ForeignOwnable>::from_foreign(p) });
    }
}

/// A registration's [`Target::Data`], shared by the registration and the calls of
/// [`Target::attach`] in progress.
///
/// # Invariants
///
/// `data` is the foreign pointer of a `T::Data`, converted back once, on drop.
struct DataCell<T: Target> {
    data: *const c_void,
    _p: PhantomData<T::Data>,
}

// SAFETY: `DataCell` owns a `T::Data`, which is `Send`.
unsafe impl<T: Target> Send for DataCell<T> {}
// SAFETY: `&DataCell` only lends `&T::Data`-like borrows of it, and `T::Data` is `Sync`.
unsafe impl<T: Target> Sync for DataCell<T> {}

impl<T: Target> Drop for DataCell<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `data` came from `into_foreign`; no borrow of it is
        // left: each borrower holds a reference on `self`.
        drop(unsafe { T::Data::from_foreign(self.data) });
    }
}

impl<T: Target> Default for TargetVTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

const fn unsafe_zeroed_reg() -> bindings::bpf_iter_reg {
    // SAFETY: `struct bpf_iter_reg` is pointers, optional function pointers, integers and
    // enums: all-zero is a valid (empty) value.
    unsafe { core::mem::zeroed() }
}

/// Size of one [`LayoutRecord`] and of one [`TypeRecord`].
pub const LAYOUT_RECORD_SIZE: usize = 1024;
const LAYOUT_MAX_SLOTS: usize = 9;
const LAYOUT_SLOT_SIZE: usize = 104;
const LAYOUT_NAME_LEN: usize = 56;
const LAYOUT_TYPE_LEN: usize = 32;
const TYPE_MAX_FIELDS: usize = 11;
const TYPE_FIELD_SIZE: usize = 80;

/// A description of a target's context, placed by [`bpf_iter_layout!`] in the
/// `.rust_bpf_iter_layout` section of the object, from which the build generates the C of the
/// target's BTF (`scripts/rust_bpf_iter_btf.py`: the anchor and the context struct) and then
/// checks it against the module's BTF (`tools/harness/layout_check.py`). The section is
/// discarded from vmlinux (`patches/0020`).
///
/// Format (all records [`LAYOUT_RECORD_SIZE`] bytes, little endian): `b"RBIL"`, version 3,
/// the number of slots, two zero bytes, the target name NUL-padded to 56 bytes; then per slot
/// 104 bytes: kind (1 scalar, 2 BTF pointer, 3 trusted BTF pointer, 4 read-only buffer), origin
/// (0 vmlinux, 1 owner), signedness (1 for a signed scalar, else 0), a zero byte, the size as
/// `u32` (scalar or buffer bytes, size of the
/// Rust view of a BTF type), then three names NUL-padded to 32 bytes: the struct (BTF
/// pointers), the slot, and the header that defines a vmlinux struct.
///
/// [`bpf_iter_layout!`]: crate::bpf_iter_layout
#[repr(C, align(8))]
#[doc(hidden)]
pub struct LayoutRecord([u8; LAYOUT_RECORD_SIZE]);

const fn put(buf: &mut [u8; LAYOUT_RECORD_SIZE], at: usize, bytes: &[u8], max: usize) {
    assert!(bytes.len() < max, "name too long for the layout record");
    let mut i = 0;
    while i < bytes.len() {
        buf[at + i] = bytes[i];
        i += 1;
    }
}

impl LayoutRecord {
    /// The record of target `T`.
    pub const fn new<T: Target>() -> Self {
        let args = TargetVTable::<T>::ARGS;
        let names = <T::Ctx<'static> as Context>::NAMES;
        assert!(args.len() <= LAYOUT_MAX_SLOTS && names.len() == args.len());
        let mut b = [0u8; LAYOUT_RECORD_SIZE];
        put(&mut b, 0, b"RBIL", 5);
        b[4] = 3;
        b[5] = args.len() as u8;
        put(&mut b, 8, cstr_bytes(T::NAME), LAYOUT_NAME_LEN);
        let mut i = 0;
        while i < args.len() {
            let at = 64 + LAYOUT_SLOT_SIZE * i;
            let mut signed = 0;
            let (kind, origin, size, name, header): (u8, u8, usize, &[u8], &str) = match args[i] {
                ArgSpec::Scalar { size, signed: s } => {
                    signed = s as u8;
                    (1, 0, size, b"", "")
                }
                ArgSpec::RdonlyBuf { size } => (4, 0, size, b"", ""),
                ArgSpec::Btf {
                    name,
                    origin,
                    size,
                    trusted,
                    header,
                } => (
                    if trusted { 3 } else { 2 },
                    match origin {
                        Origin::Vmlinux => 0,
                        Origin::Owner => 1,
                    },
                    size,
                    cstr_bytes(name),
                    header,
                ),
            };
            b[at] = kind;
            b[at + 1] = origin;
            b[at + 2] = signed;
            put(&mut b, at + 4, &(size as u32).to_le_bytes(), 5);
            put(&mut b, at + 8, name, LAYOUT_TYPE_LEN);
            put(&mut b, at + 40, names[i].as_bytes(), LAYOUT_TYPE_LEN);
            put(&mut b, at + 72, header.as_bytes(), LAYOUT_TYPE_LEN);
            i += 1;
        }
        LayoutRecord(b)
    }
}

/// Places the [`LayoutRecord`] of a target in its object, for the C of its BTF and the build-time
/// check of its context. [`module_bpf_iter_target!`] does it for its targets; code that
/// registers targets itself invokes it once per target type.
///
/// [`module_bpf_iter_target!`]: crate::module_bpf_iter_target
#[macro_export]
macro_rules! bpf_iter_layout {
    ($t:ty) => {
        const _: () = {
            #[used]
            #[link_section = ".rust_bpf_iter_layout"]
            static LAYOUT: $crate::bpf::iter::LayoutRecord =
                $crate::bpf::iter::LayoutRecord::new::<$t>();
        };
    };
}

/// Types a field of a target's own BTF struct ([`bpf_iter_btf_struct!`]) may have: integers,
/// and arrays of them.
///
/// [`bpf_iter_btf_struct!`]: crate::bpf_iter_btf_struct
pub trait BtfField {
    /// The C type (of the elements, for an array).
    const C_TYPE: &'static str;
    /// The number of elements of an array; 0 for a scalar.
    const LEN: usize;
}

/// The integers [`BtfField`] arrays may hold.
pub trait BtfInt: BtfField {}

macro_rules! btf_ints {
    ($($t:ty => $c:literal),*) => {
        $(
            impl BtfField for $t {
                const C_TYPE: &'static str = $c;
                const LEN: usize = 0;
            }
            impl BtfInt for $t {}
        )*
    };
}

btf_ints!(u8 => "__u8", u16 => "__u16", u32 => "__u32", u64 => "__u64",
          i8 => "__s8", i16 => "__s16", i32 => "__s32", i64 => "__s64");

impl<T: BtfInt, const N: usize> BtfField for [T; N] {
    const C_TYPE: &'static str = T::C_TYPE;
    const LEN: usize = N;
}

/// A description of a target's own struct ([`bpf_iter_btf_struct!`]), in the
/// `.rust_bpf_iter_types` section of the object, from which the build generates its C
/// definition for the module's BTF and checks that definition against the Rust one.
///
/// Format ([`LAYOUT_RECORD_SIZE`] bytes, little endian): `b"RBIT"`, version 1, the number of
/// fields, two zero bytes, the C struct name NUL-padded to 56 bytes, the size as `u32`, four
/// zero bytes; then per field 80 bytes: its name and C type NUL-padded to 32 bytes each, the
/// number of array elements (0 for a scalar) and the offset, as `u32`s, eight zero bytes.
///
/// [`bpf_iter_btf_struct!`]: crate::bpf_iter_btf_struct
#[repr(C, align(8))]
#[doc(hidden)]
pub struct TypeRecord([u8; LAYOUT_RECORD_SIZE]);

impl TypeRecord {
    /// The record of the struct `name` of `size` bytes, with `(name, C type, elements,
    /// offset)` for each field, in order.
    pub const fn new(name: &str, size: usize, fields: &[(&str, &str, usize, usize)]) -> Self {
        assert!(
            fields.len() <= TYPE_MAX_FIELDS,
            "too many fields for a type record"
        );
        let mut b = [0u8; LAYOUT_RECORD_SIZE];
        put(&mut b, 0, b"RBIT", 5);
        b[4] = 1;
        b[5] = fields.len() as u8;
        put(&mut b, 8, name.as_bytes(), LAYOUT_NAME_LEN);
        put(&mut b, 64, &(size as u32).to_le_bytes(), 5);
        let mut i = 0;
        while i < fields.len() {
            let at = 72 + TYPE_FIELD_SIZE * i;
            let (fname, ctype, len, offset) = fields[i];
            put(&mut b, at, fname.as_bytes(), LAYOUT_TYPE_LEN);
            put(&mut b, at + 32, ctype.as_bytes(), LAYOUT_TYPE_LEN);
            put(&mut b, at + 64, &(len as u32).to_le_bytes(), 5);
            put(&mut b, at + 68, &(offset as u32).to_le_bytes(), 5);
            i += 1;
        }
        TypeRecord(b)
    }
}

/// Declares a target's own struct that programs get pointers to ([`Origin::Owner`]): a
/// `#[repr(C)]` Rust struct of integers and arrays of them ([`BtfField`]), its [`BtfType`]
/// implementation, and the [`TypeRecord`] from which the build generates the C struct for the
/// module's BTF (`scripts/rust_bpf_iter_btf.py`), so both have one definition. The build then
/// checks the module's BTF struct against the record, field by field
/// (`tools/harness/layout_check.py`), and registration checks its size.
///
/// The struct also implements [`FromBytes`] and [`AsBytes`], so that it can be a link parameter
/// of the target's own ([`LinkInfo::custom`], [`LinkInfoOut::set_custom`]): every field must be
/// both (checked at compile time), and the struct may have no implicit padding (as in C UAPI
/// structs, declare it as a field; a compile-time error says so otherwise).
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::{BtfType, Origin};
/// use kernel::types::{AsBytes, FromBytes};
///
/// kernel::bpf_iter_btf_struct! {
///     /// One record of a collection.
///     pub struct Record as "my_record" {
///         pub id: u64,
///         pub value: u32,
///         pub pad: u32,
///         pub name: [u8; 16],
///     }
/// }
///
/// assert_eq!(Record::NAME.to_str(), Ok("my_record"));
/// assert!(Record::ORIGIN == Origin::Owner);
/// assert_eq!(core::mem::size_of::<Record>(), 32);
///
/// // A link parameter `struct { __u32 start; __u32 count; }`, read with
/// // `info.custom::<Range>()?` in `attach` and reported with `info.set_custom(&range)`.
/// kernel::bpf_iter_btf_struct! {
///     struct Range as "my_range" {
///         start: u32,
///         count: u32,
///     }
/// }
/// fn bytes<T: FromBytes + AsBytes>() -> usize {
///     core::mem::size_of::<T>()
/// }
/// assert_eq!(bytes::<Range>(), 8);
/// ```
#[macro_export]
macro_rules! bpf_iter_btf_struct {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident as $cname:literal {
            $($(#[$fattr:meta])* $fvis:vis $field:ident : $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        #[repr(C)]
        $vis struct $name {
            $($(#[$fattr])* $fvis $field: $ty),+
        }

        // SAFETY: `$name` is `#[repr(C)]` with fields of integer and integer-array types only;
        // the C struct `$cname` in the module's BTF is generated from the record below, which
        // lists the same fields in the same order, so it has the same layout. The build checks
        // the module's BTF struct against the record (`layout_check.py`), and registration its
        // size.
        unsafe impl $crate::bpf::iter::BtfType for $name {
            const NAME: &'static $crate::str::CStr = $crate::c_str!($cname);
            const ORIGIN: $crate::bpf::iter::Origin = $crate::bpf::iter::Origin::Owner;
        }

        const _: () = {
            const fn bytes<T: $crate::types::FromBytes + $crate::types::AsBytes>() {}
            $(bytes::<$ty>();)+
            ::core::assert!(
                ::core::mem::size_of::<$name>() == 0 $(+ ::core::mem::size_of::<$ty>())+,
                "bpf_iter_btf_struct!: the struct has implicit padding: declare it as a field"
            );
        };

        // SAFETY: `$name` is `#[repr(C)]` and every field is `FromBytes` (asserted above): any bit
        // pattern of each field, hence of the struct, is valid. No field has interior mutability.
        unsafe impl $crate::types::FromBytes for $name {}

        // SAFETY: `$name` is `#[repr(C)]` without padding (its size is the sum of its fields',
        // asserted above) and every field is `AsBytes`: a value has no uninitialized byte. No
        // field has interior mutability.
        unsafe impl $crate::types::AsBytes for $name {}

        const _: () = {
            #[used]
            #[link_section = ".rust_bpf_iter_types"]
            static TYPE: $crate::bpf::iter::TypeRecord = $crate::bpf::iter::TypeRecord::new(
                $cname,
                ::core::mem::size_of::<$name>(),
                &[$((
                    ::core::stringify!($field),
                    <$ty as $crate::bpf::iter::BtfField>::C_TYPE,
                    <$ty as $crate::bpf::iter::BtfField>::LEN,
                    ::core::mem::offset_of!($name, $field),
                )),+],
            );
        };
    };
}

/// A registered target; unregistered when dropped.
///
/// # Examples
///
/// Registration checks the declared context against the `bpf_iter_<name>` anchor in BTF and
/// refuses duplicate names. vmlinux' `task` target has the anchor
/// `bpf_iter_task(struct bpf_iter_meta *meta, struct task_struct *task)`:
///
/// ```
/// use kernel::bpf::iter::{self, Index, LinkInfo, Registration, Scalar, TargetVTable};
/// use kernel::bpf::iter::{BtfPtr, RdonlyBuf, TrustedBtfPtr};
/// use kernel::{c_str, fs::File, prelude::*, task::Task, ThisModule};
///
/// // Built-in code registers on behalf of no module.
/// // SAFETY: NULL is `THIS_MODULE` of built-in code.
/// static BUILTIN: ThisModule = unsafe { ThisModule::from_ptr(core::ptr::null_mut()) };
///
/// macro_rules! target {
///     ($t:ident, $name:literal, $ctx:ident) => {
///         struct $t;
///         #[vtable]
///         impl iter::Target for $t {
///             const NAME: &'static CStr = c_str!($name);
///             type Ctx<'a> = $ctx<'a>;
///             type Data = ();
///             type Link = ();
///             type Iter = ();
///             type Item = Index;
///             fn attach(_: (), info: &LinkInfo) -> Result { info.none() }
///             fn init_iter(_: &()) -> Result { Ok(()) }
///             fn start(_: &mut (), _: u64) -> Result<Option<Index>> { Ok(None) }
///             fn next(_: &mut (), item: &mut Option<Index>) { *item = None }
///             fn ctx<'a>(_: &'a (), _: &'a Index) -> $ctx<'a> {
///                 <$ctx<'a> as iter::Context>::NULL
///             }
///         }
///     };
/// }
///
/// kernel::bpf_iter_context! { struct TaskCtx<'a> { task: TrustedBtfPtr<'a, Task> } }
/// kernel::bpf_iter_context! { struct FileCtx<'a> { file: BtfPtr<'a, File> } }
/// kernel::bpf_iter_context! {
///     struct TwoCtx<'a> { task: TrustedBtfPtr<'a, Task>, n: Scalar<u32> }
/// }
/// kernel::bpf_iter_context! { struct BufCtx<'a> { task: RdonlyBuf<'a, 8> } }
///
/// // Each refusal below but the first logs its reason: say in the log that they are expected.
/// kernel::pr_info!("bpf_iter doctest: the 4 \"bpf_iter:\" errors that follow are expected\n");
///
/// // The right context, but `task` is the kernel's own target: refused as a duplicate.
/// target!(Dup, "task", TaskCtx);
/// static DUP: TargetVTable<Dup> = TargetVTable::new();
/// assert_eq!(Registration::register(&DUP, &BUILTIN, ()).err(), Some(EEXIST));
///
/// // A pointer to the wrong struct, or one argument too many: the context does not match.
/// target!(WrongType, "task", FileCtx);
/// static WRONG_TYPE: TargetVTable<WrongType> = TargetVTable::new();
/// assert_eq!(Registration::register(&WRONG_TYPE, &BUILTIN, ()).err(), Some(EINVAL));
/// target!(WrongCount, "task", TwoCtx);
/// static WRONG_COUNT: TargetVTable<WrongCount> = TargetVTable::new();
/// assert_eq!(Registration::register(&WRONG_COUNT, &BUILTIN, ()).err(), Some(EINVAL));
///
/// // soundness-2 point 1: a read-only buffer describes a byte buffer (`const char *`) only,
/// // never a pointer to a struct (`task`'s `struct task_struct *`).
/// target!(BufTask, "task", BufCtx);
/// static BUF_TASK: TargetVTable<BufTask> = TargetVTable::new();
/// assert_eq!(Registration::register(&BUF_TASK, &BUILTIN, ()).err(), Some(EINVAL));
///
/// // No `bpf_iter_no_such_target` anchor in BTF.
/// target!(NoAnchor, "no_such_target", TaskCtx);
/// static NO_ANCHOR: TargetVTable<NoAnchor> = TargetVTable::new();
/// assert_eq!(Registration::register(&NO_ANCHOR, &BUILTIN, ()).err(), Some(ENOENT));
/// ```
///
/// # Invariants
///
/// `vtable.reg` is registered with the kernel and `vtable.registered` is set by this object.
pub struct Registration<T: Target> {
    vtable: &'static TargetVTable<T>,
    _btfs: [Option<Btf>; 2],
}

// SAFETY: Unregistering may happen from any thread.
unsafe impl<T: Target> Send for Registration<T> {}
// SAFETY: `&Registration` gives access to nothing.
unsafe impl<T: Target> Sync for Registration<T> {}

impl<T: Target> Registration<T> {
    /// Registers `vtable` on behalf of `module`.
    ///
    /// Resolves and checks the context against the BTF anchor `bpf_iter_<NAME>` (`ENOENT` if it
    /// is missing, `EINVAL` on a mismatch, both logged), then registers: `EEXIST` if a target of
    /// that name exists, `EBUSY` if `vtable` is registered already.
    ///
    /// The first registration of `vtable` fills in its BTF ids and owner; later ones (after the
    /// first was dropped) check that they resolve to the same and never write them: programs
    /// verified before may still read them. `EINVAL` if they differ (another `module`).
    ///
    /// `data` is lent to every [`Target::attach`] while the target is registered, and dropped
    /// with the registration (or here, on failure).
    pub fn register(
        vtable: &'static TargetVTable<T>,
        module: &'static ThisModule,
        data: T::Data,
    ) -> Result<Self> {
        // INVARIANT: this call owns `reg` from here: it either makes a `Registration` or clears
        // the flag again.
        if vtable.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // Set before the target is registered, taken back after it is unregistered (`drop`):
        // while the kernel may call `attach_target`, it finds the data.
        if let Err(e) = vtable.set_data(data) {
            vtable.registered.store(false, Ordering::Release);
            return Err(e);
        }
        let first = vtable.resolved.load(Ordering::Acquire) == UNRESOLVED;
        match register_raw(vtable.reg.get(), first, TargetVTable::<T>::ARGS, module) {
            Ok(btfs) => {
                // INVARIANT: `register_raw` wrote `reg` if it was the first registration, and
                // never writes it again from now on.
                vtable.resolved.store(RESOLVED, Ordering::Release);
                // INVARIANT: `reg` is registered, and this call set `registered` above, which
                // the registration now holds.
                Ok(Registration {
                    vtable,
                    _btfs: btfs,
                })
            }
            Err(e) => {
                // An `attach` of an earlier registration of `vtable` that was still in
                // progress may have taken a reference: the data lives until it returns.
                vtable.retire_data();
                vtable.registered.store(false, Ordering::Release);
                Err(e)
            }
        }
    }
}

impl<T: Target> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `reg` is registered.
        unsafe { bindings::bpf_iter_unreg_target(self.vtable.reg.get()) };
        // No new link finds the target now; calls of `attach` that found it before hold a
        // reference on the data, which they drop when they return.
        self.vtable.retire_data();
        // INVARIANT: `reg` is unregistered and nothing of this registration uses it any more.
        self.vtable.registered.store(false, Ordering::Release);
        // `_btfs` is dropped next: the BTF references taken at registration. The kernel may
        // still verify a program that found the target before; its `ctx_arg_info` BTFs stay
        // alive through the module (pinned by that program) or vmlinux.
    }
}

/// Resolves `args` against the anchor, fills in (`first`) or checks the BTF ids of
/// `reg.ctx_arg_info` and `reg.owner`, and registers `reg`.
///
/// Not generic, so that it is built into the kernel and may call what is not exported.
///
/// `reg` is the `bpf_iter_reg` of a [`TargetVTable`] whose `registered` flag the caller holds,
/// and `first` says whether it was ever resolved.
fn register_raw(
    reg: *mut bindings::bpf_iter_reg,
    first: bool,
    args: &[ArgSpec],
    module: &'static ThisModule,
) -> Result<[Option<Btf>; 2]> {
    // SAFETY: `reg` is valid (it lives in a static); `target` is the `&'static CStr` name set
    // by `TargetVTable::new` and never written again.
    let name = unsafe { CStr::from_char_ptr((*reg).target) };
    let owner = Btf::of_module(module).inspect_err(|_| {
        pr_err!("bpf_iter: {}: no BTF for the target's owner\n", name);
    })?;
    let mut fname = [0u8; ANCHOR_PREFIX.len() + MAX_NAME_LEN + 1];
    let nb = name.as_bytes();
    if nb.len() > MAX_NAME_LEN {
        return Err(EINVAL);
    }
    fname[..ANCHOR_PREFIX.len()].copy_from_slice(ANCHOR_PREFIX.as_bytes());
    fname[ANCHOR_PREFIX.len()..ANCHOR_PREFIX.len() + nb.len()].copy_from_slice(nb);
    let fname = CStr::from_bytes_with_nul(&fname[..ANCHOR_PREFIX.len() + nb.len() + 1])?;

    let Ok(func) = owner.find(fname, Kind::Func) else {
        pr_err!(
            "bpf_iter: {}: no BTF anchor {} (DEFINE_BPF_ITER_FUNC)\n",
            name,
            fname
        );
        return Err(ENOENT);
    };
    let mismatch = |what: fmt::Arguments<'_>| {
        pr_err!(
            "bpf_iter: {}: context does not match {}: {}\n",
            name,
            fname,
            what
        );
        EINVAL
    };
    let proto = owner
        .type_by_id(func)
        .and_then(|f| f.referenced())
        .filter(|p| p.kind() == Some(Kind::FuncProto))
        .ok_or_else(|| mismatch(format_args!("not a function")))?;
    if proto.vlen() as usize != args.len() + 1 {
        return Err(mismatch(format_args!(
            "{} parameters, Rust declares meta + {}",
            proto.vlen(),
            args.len()
        )));
    }
    let meta = proto
        .param(0)
        .and_then(|t| t.skip_modifiers())
        .filter(|t| t.kind() == Some(Kind::Ptr))
        .and_then(|t| t.referenced())
        .and_then(|t| t.skip_modifiers());
    if !meta.is_some_and(|t| t.name().as_bytes() == b"bpf_iter_meta") {
        return Err(mismatch(format_args!(
            "parameter 0 is not struct bpf_iter_meta *"
        )));
    }

    let mut btfs: [Option<Btf>; 2] = [None, None];
    let mut ids = [(0u32, ptr::null_mut::<bindings::btf>()); MAX_TYPED_ARGS];
    let mut n = 0;
    for (i, a) in args.iter().enumerate() {
        let p = i + 1;
        let t = proto
            .param(p as u16)
            .and_then(|t| t.skip_modifiers())
            .ok_or_else(|| mismatch(format_args!("parameter {p} has no type")))?;
        match *a {
            ArgSpec::Scalar { size, signed } => {
                let ok = matches!(t.kind(), Some(Kind::Int | Kind::Enum | Kind::Enum64))
                    && t.size() as usize == size;
                if !ok {
                    return Err(mismatch(format_args!(
                        "parameter {p} is not a {size}-byte integer"
                    )));
                }
                if t.is_signed() != signed {
                    let sign = |s| if s { "signed" } else { "unsigned" };
                    return Err(mismatch(format_args!(
                        "parameter {p} is {}, Rust declares it {}",
                        sign(t.is_signed()),
                        sign(signed)
                    )));
                }
            }
            ArgSpec::RdonlyBuf { .. } => {
                // A byte buffer only: any other pointer (to a struct, say) would let a program
                // verified against another target of this name, one that declared the slot a
                // BTF pointer, attach here (the kernel now refuses that too, see
                // `bpf_iter_prog_verified_for()`).
                let bytes = (t.kind() == Some(Kind::Ptr))
                    .then(|| t.referenced().and_then(|r| r.skip_modifiers()))
                    .flatten()
                    .is_some_and(|r| r.kind() == Some(Kind::Int) && r.size() == 1);
                if !bytes {
                    return Err(mismatch(format_args!(
                        "parameter {p} is not a byte buffer (const char *)"
                    )));
                }
                n += 1;
            }
            ArgSpec::Btf {
                name: tname,
                origin,
                size,
                ..
            } => {
                let pointee = (t.kind() == Some(Kind::Ptr))
                    .then(|| t.referenced().and_then(|r| r.skip_modifiers()))
                    .flatten()
                    .filter(|r| r.kind() == Some(Kind::Struct))
                    .ok_or_else(|| mismatch(format_args!("parameter {p} is not a struct *")))?;
                let btf = match origin {
                    Origin::Owner => owner.clone(),
                    Origin::Vmlinux => Btf::vmlinux()?,
                };
                let declared = btf
                    .find(tname, Kind::Struct)
                    .ok()
                    .and_then(|id| btf.type_by_id(id))
                    .ok_or_else(|| mismatch(format_args!("no struct {tname} in BTF")))?;
                if !declared.same(&pointee) {
                    return Err(mismatch(format_args!(
                        "parameter {p} is struct {} *, Rust declares struct {tname} *",
                        pointee.name()
                    )));
                }
                // Objects of vmlinux types come from C; those of the owner's types are made in
                // Rust, whose view must then have the size BTF gives programs.
                if origin == Origin::Owner && declared.size() as usize != size {
                    return Err(mismatch(format_args!(
                        "struct {tname} is {} bytes, its Rust view {size}",
                        declared.size()
                    )));
                }
                ids[n] = (
                    declared.id(),
                    if btf.is_module() {
                        btf.as_ptr()
                    } else {
                        ptr::null_mut()
                    },
                );
                btfs[n] = Some(btf);
                n += 1;
            }
        }
    }
    if first {
        // SAFETY: No registration of `reg` happened yet, so nothing reads it, and the caller
        // holds the `registered` flag, so nothing else writes it.
        unsafe {
            for (i, (id, btf)) in ids.iter().enumerate().take(n) {
                (*reg).ctx_arg_info[i].btf_id = *id;
                (*reg).ctx_arg_info[i].btf = *btf;
            }
            (*reg).owner = module.as_ptr();
        }
    } else {
        // SAFETY: `reg` was resolved before and is not written any more: reading it races with
        // nothing but other reads.
        let same = unsafe {
            (*reg).owner == module.as_ptr()
                && ids.iter().enumerate().take(n).all(|(i, (id, btf))| {
                    (*reg).ctx_arg_info[i].btf_id == *id && (*reg).ctx_arg_info[i].btf == *btf
                })
        };
        if !same {
            pr_err!(
                "bpf_iter: {}: registered again with other BTF or another owner\n",
                name
            );
            return Err(EINVAL);
        }
    }
    // SAFETY: `reg` is fully initialized and lives in a static of the owner (see
    // `TargetVTable`); the kernel keeps it until `bpf_iter_unreg_target`.
    crate::error::to_result(unsafe { bindings::bpf_iter_reg_target(reg) })?;
    Ok(btfs)
}

/// Declares a module whose only job is to register BPF iterator targets.
///
/// Each target is registered with `Default::default()` as its [`Target::Data`] (`()` for
/// targets without data); a module whose targets need data of their own keeps a
/// [`Registration`] itself.
///
/// # Examples
///
/// ```ignore
/// kernel::module_bpf_iter_target! {
///     targets: [MyTarget],
///     name: "rust_my_iter",
///     author: "Rust for Linux Contributors",
///     description: "A BPF iterator target",
///     license: "GPL",
/// }
/// ```
#[macro_export]
macro_rules! module_bpf_iter_target {
    (targets: [$($t:ty),+ $(,)?], $($f:tt)*) => {
        struct Module {
            _regs: ($($crate::bpf::iter::Registration<$t>,)+),
        }

        $crate::prelude::module! {
            type: Module,
            $($f)*
        }

        $($crate::bpf_iter_layout!($t);)+

        impl $crate::Module for Module {
            fn init(module: &'static $crate::ThisModule) -> $crate::error::Result<Self> {
                Ok(Module {
                    _regs: ($({
                        static VTABLE: $crate::bpf::iter::TargetVTable<$t> =
                            $crate::bpf::iter::TargetVTable::new();
                        $crate::bpf::iter::Registration::register(
                            &VTABLE,
                            module,
                            ::core::default::Default::default(),
                        )?
                    },)+),
                })
            }
        }
    };
}
