// SPDX-License-Identifier: GPL-2.0

//! What a program sees: the kernel types it may be given pointers to (`BtfType`), what one
//! 8-byte slot of its context holds (`ArgSpec`, `Slot`: `BtfPtr`, `TrustedBtfPtr`, `RdonlyBuf`,
//! `Scalar`), and the context a target declares with `bpf_iter_context!` (`Context`).

use super::Origin;
use crate::{
    bindings, c_str,
    str::CStr,
    sync::aref::{ARef, AlwaysRefCounted},
};
use core::{marker::PhantomData, mem::size_of, ptr};

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
    pub(super) const fn reg_type(&self) -> Option<bindings::bpf_reg_type> {
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
///
/// [`Target::ctx`]: super::Target::ctx
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
            // Sign- or zero-extended to `$wide`, then its bits.
            fn to_slot(self) -> u64 { <$wide>::from(self) as u64 }
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
/// the struct's lifetime parameter. A context has at most 8 slots (the build's record of a
/// target has room for that many), of which at most `BPF_ITER_CTX_ARG_MAX` (2) pointers or
/// buffers.
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
